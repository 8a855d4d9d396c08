// Single records: one JSON object in, the model's outputs out. The same validation (validate.ts),
// cell rules (the JSONL decoder) and engine (openEngine) as file scoring, one record at a time.
// Nothing is written to the prediction log (see README, "Single records").
import { formatFloat32 } from '../../io/common/float32-format.ts';
import { JsonlDecoder, parseJsonlLine } from '../../io/common/jsonl-decoder.ts';
import type { InferenceEngine } from '../../inference/node/engine.ts';
import type { ElemType } from '../../onnx/common/onnx.ts';
import { getModel, type InstalledModel } from '../../store/node/models.ts';
import type { Store } from '../../store/node/store.ts';
import { readOutputs } from '../common/outputs.ts';
import { columnRequests, validateBatch, type Feed } from '../common/validate.ts';
import { openEngine } from './score-file.ts';

export interface FieldError { field: string; reason: string; value: string }

/**
 * Probabilities and values are the numbers whose shortest text (String, JSON) is exactly what
 * `outpost score` writes: the shortest decimal that reads back as the float32 the model produced.
 */
export type Prediction =
  | { line: number; ok: true; label?: string; probabilities?: Record<string, number>; value?: number }
  | { line: number; ok: false; errors: FieldError[] };

const printed = (v: number, wide: boolean): number => (wide ? v : Number(formatFloat32(v)));

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
    const bytes = new TextEncoder().encode(text);
    const parsed = parseJsonlLine(bytes, 0, bytes.length);
    if ('problem' in parsed) return { line, ok: false, errors: [{ field: '', reason: parsed.problem, value: '' }] };
    const names = card.inputs.map((f) => f.name);
    const known = new Set(names);
    const errors: FieldError[] = Object.keys(parsed.record).filter((k) => !known.has(k))
      .map((k) => ({ field: k, reason: `unknown field (the model's inputs: ${names.join(', ')})`, value: JSON.stringify(parsed.record[k]) ?? '' }));
    const decoder = new JsonlDecoder({ file: source, columns: names, request: columnRequests(card.inputs), batchRows: 1, offset: 0, rowsBefore: line - 1 });
    decoder.push(bytes);
    const batch = decoder.next(true)!;
    const v = validateBatch(batch, card.inputs, this.graphTypes, this.graphRanks, card.tensors);
    errors.push(...v.rejects.map((r) => ({ field: r.column, reason: r.reason, value: r.value })));
    if (errors.length) return { line, ok: false, errors };
    const outputs = await this.engine.run(v.feeds) as Record<string, Feed>;
    const scored = readOutputs(card, outputs, 1);
    if (scored.value) return { line, ok: true, value: printed(scored.value[0], scored.value instanceof Float64Array) };
    const classes = card.outputs.classes!;
    const code = scored.labelCodes![0];
    return {
      line, ok: true, label: classes[code] ?? String(code),
      ...(scored.probabilities ? { probabilities: Object.fromEntries(scored.probabilities.map((p, c) => [classes[c], printed(p[0], p instanceof Float64Array)])) } : {}),
    };
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
