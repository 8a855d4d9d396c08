// A trained model = preprocessing statistics + network + what the outputs mean. `trainModel` fits
// both from a dataset; `predict` is the TypeScript forward pass that the exported graph reproduces.
import { OutpostError } from '../../common/errors.ts';
import type { FitHooks, FitOptions } from './fit.ts';
import { fitNetwork } from './fit.ts';
import type { Network } from './network.ts';
import { argmaxRows, forward } from './network.ts';
import type { Dataset, FeatureSpec, Matrix, Preprocessor } from './preprocess.ts';
import { fitPreprocessor, transform } from './preprocess.ts';

export type Task = 'binary' | 'multiclass' | 'regression';

export interface TrainedModel {
  task: Task;
  /** name of the target column it was trained to predict */
  target: string;
  preprocessor: Preprocessor;
  network: Network;
  /** classifiers: class names in probability-column order */
  classes?: string[];
  /** the settings it was fitted with (part of the retraining recipe) */
  options: FitOptions;
  trainingRows: number;
}

export interface TrainRequest {
  task: Task;
  features: FeatureSpec[];
  /** column of `data` holding the target: strings (class names) or numbers (regression) */
  target: string;
  data: Dataset;
  /** classifiers: fixed class order; learned sorted from the target column when absent */
  classes?: string[];
  options: FitOptions;
  hooks?: FitHooks;
}

/** Class indices for a column of class names; unknown or missing names are errors. */
export function encodeLabels(values: ArrayLike<unknown>, classes: readonly string[], field = 'target'): Int32Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const k = typeof values[i] === 'string' ? index.get(values[i] as string) : undefined;
    if (k === undefined) throw new OutpostError('input', `unknown class ${JSON.stringify(values[i])}`, { row: i + 1, field });
    out[i] = k;
  }
  return out;
}

export function trainModel(req: TrainRequest): TrainedModel {
  const y = req.data.columns[req.target];
  if (y === undefined) throw new OutpostError('input', `missing target column "${req.target}"`, { field: req.target });
  if (req.features.some((f) => f.name === req.target)) throw new OutpostError('usage', `the target "${req.target}" is also listed as a feature`, { field: req.target });
  const preprocessor = fitPreprocessor(req.features, req.data);
  const x = transform(preprocessor, req.data);

  if (req.task === 'regression') {
    const values = new Float64Array(req.data.rows);
    for (let i = 0; i < req.data.rows; i++) {
      const v = y[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new OutpostError('input', `target is not a finite number: ${String(v)}`, { row: i + 1, field: req.target });
      values[i] = v;
    }
    const network = fitNetwork(x, { kind: 'values', values }, req.options, req.hooks);
    return { task: req.task, target: req.target, preprocessor, network, options: { ...req.options }, trainingRows: req.data.rows };
  }

  const classes = req.classes ? [...req.classes] : [...new Set(Array.from(y as ArrayLike<unknown>, (v) => String(v)))].sort();
  if (req.task === 'binary' && classes.length !== 2) throw new OutpostError('input', `a binary classifier needs exactly 2 classes, found ${classes.length}`, { field: req.target });
  if (classes.length < 2) throw new OutpostError('input', 'a classifier needs at least 2 classes', { field: req.target });
  const labels = encodeLabels(y, classes, req.target);
  const network = fitNetwork(x, { kind: 'classes', labels, classes: classes.length }, req.options, req.hooks);
  return { task: req.task, target: req.target, preprocessor, network, classes, options: { ...req.options }, trainingRows: req.data.rows };
}

export interface Prediction {
  /** classifiers: [rows × classes] */
  probabilities?: Matrix;
  /** classifiers: index of the most probable class */
  labels?: Int32Array;
  /** regression */
  values?: Float64Array;
}

export function predict(model: TrainedModel, data: Dataset): Prediction {
  const out = forward(model.network, transform(model.preprocessor, data));
  if (model.task === 'regression') return { values: out.data };
  return { probabilities: out, labels: argmaxRows(out) };
}
