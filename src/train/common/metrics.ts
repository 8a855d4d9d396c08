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

/**
 * Area under the ROC curve of `score` for the positive rows (`positive[i]` true), ties counted half
 * (the Mann–Whitney statistic; equals scikit-learn's roc_auc_score). NaN when a class is absent.
 */
export function rocAuc(positive: ArrayLike<boolean | number>, score: ArrayLike<number>): number {
  const n = score.length;
  if (positive.length !== n) throw new RangeError('rocAuc: length mismatch');
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && score[order[j + 1]] === score[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (positive[order[k]]) { pos++; rankSum += midRank; }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function meanAbsoluteError(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  if (truth.length !== predicted.length) throw new RangeError('mae: length mismatch');
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += Math.abs(truth[i] - predicted[i]);
  return s / truth.length;
}

/** Coefficient of determination (1 − SSE / SST). */
export function rSquared(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < truth.length; i++) mean += truth[i];
  mean /= truth.length;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < truth.length; i++) { sse += (truth[i] - predicted[i]) ** 2; sst += (truth[i] - mean) ** 2; }
  return sst > 0 ? 1 - sse / sst : NaN;
}
