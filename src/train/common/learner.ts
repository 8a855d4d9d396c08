// What the training pipeline needs from an algorithm: fit on prepared data, predict exactly what
// the exported graph computes, export the graph, and say which settings it used (the recipe).
import type { Dataset, FeatureSpec } from './preprocess.ts';
import type { Task } from './model.ts';

export type Algo = 'logreg' | 'mlp' | 'gbdt';
export const ALGOS: readonly Algo[] = ['logreg', 'mlp', 'gbdt'];

export interface LearnerInput {
  task: Task;
  features: FeatureSpec[];
  /** training rows: feature columns plus the target column */
  train: Dataset;
  /** validation rows (early stopping, per-step metrics) */
  valid: Dataset;
  target: string;
  /** classifiers: class order; the target column holds class names */
  classes?: string[];
  seed: number;
  /** algorithm settings given by the user or the recipe; defaults fill the rest */
  params: Record<string, unknown>;
  hooks: LearnerHooks;
}

export interface StepEvent {
  /** 'epoch' (neural models) or 'iteration' (boosting rounds) */
  unit: 'epoch' | 'iteration';
  step: number;
  /** planned steps (early stopping may end sooner) */
  of: number;
  trainLoss?: number;
  validLoss?: number;
}

export interface LearnerHooks {
  onStep?: (e: StepEvent) => void;
  /** checked between steps; the learner throws a 'cancelled' error when set */
  signal?: { readonly aborted: boolean };
}

export interface FittedModel {
  algo: Algo;
  /** the settings actually used (defaults resolved): enough to fit the same model again */
  params: Record<string, unknown>;
  /** classifiers: probabilities row-major [rows × classes]; regression: values. As the graph computes them. */
  predict(data: Dataset): { probabilities?: Float64Array; values?: Float64Array };
  exportOnnx(graphName: string): Uint8Array;
  /** extra facts for the report (trees kept, best iteration, …) */
  summary: Record<string, number | string>;
}
