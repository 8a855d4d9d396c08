// Single records: one JSON object in, the model's outputs out. The same validation and output
// reading (common/record.ts, shared with the app's what-if explorer) and engine (openEngine) as
// file scoring, one record at a time.
// Nothing is written to the prediction log (see README, "Single records").
import type { InferenceEngine } from '../../inference/node/engine.ts';
import type { ElemType } from '../../onnx/common/onnx.ts';
import { getModel, type InstalledModel } from '../../store/node/models.ts';
import type { Store } from '../../store/node/store.ts';
import { checkRecord, recordOutputs, type FieldError } from '../common/record.ts';
import type { Feed } from '../common/validate.ts';
import { openEngine } from './score-file.ts';

export type { FieldError };

/**
 * Probabilities and values are the numbers whose shortest text (String, JSON) is exactly what
 * `outpost score` writes: the shortest decimal that reads back as the float32 the model produced.
 */
export type Prediction =
  | { line: number; ok: true; label?: string; probabilities?: Record<string, number>; value?: number }
  | { line: number; ok: false; errors: FieldError[] };

export class Predictor {
  readonly model: InstalledModel;
  private readonly engine: InferenceEngine;
  private readonly graphTypes: Map<string, ElemType>;
  private readonly graphRanks: Map<string, number>;

  private constructor(model: InstalledModel, engine: InferenceEngine, graphTypes: Map<string, ElemType>, graphRanks: Map<string, number>) {
    this.model = model;
    this.engine = engine;
    this.graphTypes = graphTypes;
    this.graphRanks = graphRanks;
  }

  static async open(store: Store, ref: string, ep: string, onWarning?: (line: string) => void): Promise<Predictor> {
    const model = getModel(store, ref);
    const { engine, graph } = await openEngine(store, model, ep, onWarning ? { onWarning } : {});
    return new Predictor(model, engine, new Map(graph.inputs.map((i) => [i.name, i.type])), new Map(graph.inputs.map((i) => [i.name, i.shape.length])));
  }

  /** Validate and score one JSON object given as text; `line` numbers the record in what the user gave. */
  async predict(text: string, line: number, source: string): Promise<Prediction> {
    const card = this.model.card;
    const checked = checkRecord(card, { types: this.graphTypes, ranks: this.graphRanks }, text, line, source);
    if (!checked.ok) return { line, ok: false, errors: checked.errors };
    const outputs = await this.engine.run(checked.feeds) as Record<string, Feed>;
    return { line, ok: true, ...recordOutputs(card, outputs, 1)[0] };
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
