// A model's drift baseline: reference statistics of every input and of the model's outputs on the
// same reference rows (so prediction drift compares like with like). Pure: the demo build calls it
// with the trainer's predictions, `outpost baseline` with ONNX Runtime's.
import { computeBaseline, type Baseline, type BaselineColumn } from '../../drift/common/index.ts';
import type { Card } from '../../package/common/card.ts';
import type { ScoredColumns } from '../../scoring/common/outputs.ts';
import { monitoredFeatures } from './features.ts';

/**
 * `inputs`: one reference column per card input (numbers with NaN/null for missing, booleans, or
 * category strings); `outputs`: the model's outputs on the same rows.
 */
export function computeModelBaseline(card: Card, inputs: Readonly<Record<string, BaselineColumn>>, outputs: ScoredColumns): Baseline {
  const features = monitoredFeatures(card);
  const columns: Record<string, BaselineColumn> = {};
  const classes = card.outputs.classes ?? [];
  for (const { spec, source } of features) {
    switch (source.from) {
      case 'input': columns[spec.name] = inputs[spec.name]; break;
      case 'label': columns[spec.name] = Array.from(need(outputs.labelCodes, 'predicted labels'), (k) => classes[k] ?? `#${k}`); break; // not a class: counted as `other`, as when scoring
      case 'probability': columns[spec.name] = Float64Array.from(need(outputs.probabilities, 'class probabilities')[source.index]); break;
      case 'value': columns[spec.name] = Float64Array.from(need(outputs.value, 'predicted values')); break;
    }
  }
  return computeBaseline(features.map((f) => f.spec), columns);
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new RangeError(`the model's ${what} are needed for the prediction baseline`);
  return v;
}
