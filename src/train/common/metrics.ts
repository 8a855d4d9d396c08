// Evaluation metrics for the card and for champion/challenger comparisons.
import type { Matrix } from './preprocess.ts';

export function accuracy(truth: Int32Array, predicted: Int32Array): number {
  if (truth.length !== predicted.length) throw new RangeError('accuracy: length mismatch');
  if (truth.length === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) hits++;
  return hits / truth.length;
}

/** Mean negative log-likelihood of the true class (natural log); probabilities clipped at 1e-15. */
export function logLoss(truth: Int32Array, probabilities: Matrix): number {
  if (truth.length !== probabilities.rows) throw new RangeError('logLoss: length mismatch');
  let s = 0;
  for (let i = 0; i < truth.length; i++) s -= Math.log(Math.max(probabilities.data[i * probabilities.cols + truth[i]], 1e-15));
  return s / truth.length;
}

/** The most frequent class (lowest index on ties). */
export function majorityClass(labels: Int32Array, classes: number): number {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]++;
  return counts.indexOf(Math.max(...counts));
}

export function rootMeanSquaredError(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  if (truth.length !== predicted.length) throw new RangeError('rmse: length mismatch');
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += (truth[i] - predicted[i]) ** 2;
  return Math.sqrt(s / truth.length);
}
