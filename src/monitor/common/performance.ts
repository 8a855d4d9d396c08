// Model performance from ground truth joined to logged predictions: the metrics and their 95 %
// confidence intervals. Pure. The point values follow scikit-learn's definitions (accuracy_score,
// f1_score — positive class for binary, macro average for multiclass —, roc_auc_score — one-vs-rest
// macro for multiclass —, log_loss with probabilities clipped to [1e-15, 1 − 1e-15] and renormalised,
// mean_squared_error's square root, mean_absolute_error); test/fixtures/performance holds the
// numbers scikit-learn gives on a fixture and the script that computed them.
//
// Interval methods (all 95 %, two-sided):
// - accuracy: Wilson score interval (good coverage for small n and accuracies near 0 or 1);
// - AUC (binary): DeLong's variance of the Mann–Whitney statistic, normal interval clipped to [0, 1];
// - F1: percentile bootstrap, 1,000 resamples with a fixed seed (reproducible; fewer, at least 200,
//   when rows × 1,000 passes BOOTSTRAP_BUDGET — the method then names the count);
// - log-loss, MAE: mean ± z·s/√n over the per-row losses (central limit);
// - RMSE: the same interval for the mean squared error, square-rooted (monotone transform).
import { createRng } from '../../train/common/random.ts';

export const Z95 = 1.959963984540054;

export interface Interval { low: number; high: number }

export interface MetricValue {
  value: number | null;
  /** 95 % interval, or null with `note` saying why there is none */
  ci: Interval | null;
  method: string;
  note?: string;
}

export interface ClassifierSample {
  /** class names, in the card's order */
  classes: readonly string[];
  /** true class index per row */
  truth: Int32Array;
  /** predicted class index per row */
  predicted: Int32Array;
  /** probability per class and row (classes × rows), when the model outputs probabilities */
  scores?: Float64Array[];
}

export interface RegressionSample { truth: Float64Array; predicted: Float64Array }

export const CI_METHODS = {
  accuracy: 'Wilson score interval',
  f1: 'percentile bootstrap (1,000 resamples, fixed seed)',
  auc: 'DeLong variance, normal interval',
  logLoss: 'normal interval of the mean per-row loss',
  rmse: 'normal interval of the mean squared error, square-rooted',
  mae: 'normal interval of the mean absolute error',
} as const;

export function wilson(successes: number, n: number, z = Z95): Interval | null {
  if (n <= 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // exactly 0 / 1 at the ends (the formula gives them up to rounding)
  return { low: successes === 0 ? 0 : Math.max(0, centre - half), high: successes === n ? 1 : Math.min(1, centre + half) };
}

/** Mean and normal-approximation interval of per-row values. */
function meanInterval(values: Float64Array): { mean: number; ci: Interval | null } {
  const n = values.length;
  let s = 0;
  for (const v of values) s += v;
  const mean = s / n;
  if (n < 2) return { mean, ci: null };
  let m2 = 0;
  for (const v of values) m2 += (v - mean) ** 2;
  const se = Math.sqrt(m2 / (n - 1) / n);
  return { mean, ci: { low: mean - Z95 * se, high: mean + Z95 * se } };
}

export function accuracy(s: ClassifierSample): MetricValue {
  const n = s.truth.length;
  if (!n) return { value: null, ci: null, method: CI_METHODS.accuracy, note: 'no labelled predictions' };
  let ok = 0;
  for (let i = 0; i < n; i++) if (s.truth[i] === s.predicted[i]) ok++;
  return { value: ok / n, ci: wilson(ok, n), method: CI_METHODS.accuracy };
}

/** F1 from a k×k confusion matrix (truth row, prediction column): positive class 1 for binary, macro otherwise. */
function f1OfMatrix(m: Float64Array, classes: number): number {
  const f1c = (c: number): number => {
    const tp = m[c * classes + c];
    let fp = 0;
    let fn = 0;
    for (let o = 0; o < classes; o++) if (o !== c) { fp += m[o * classes + c]; fn += m[c * classes + o]; }
    const d = 2 * tp + fp + fn;
    return d === 0 ? 0 : (2 * tp) / d; // scikit-learn's zero_division gives 0
  };
  if (classes === 2) return f1c(1);
  // macro over the classes present in truth or predictions (scikit-learn's labels = union of both)
  let sum = 0;
  let count = 0;
  for (let c = 0; c < classes; c++) {
    let seen = 0;
    for (let o = 0; o < classes; o++) seen += m[c * classes + o] + m[o * classes + c];
    if (seen === 0) continue;
    sum += f1c(c);
    count++;
  }
  return count ? sum / count : 0;
}

export const BOOTSTRAP_RESAMPLES = 1000;
/** Above this many rows × resamples the bootstrap uses fewer resamples (at least 200), said in its method. */
export const BOOTSTRAP_BUDGET = 5_000_000;

export function f1(s: ClassifierSample): MetricValue {
  const n = s.truth.length;
  if (!n) return { value: null, ci: null, method: CI_METHODS.f1, note: 'no labelled predictions' };
  const k = s.classes.length;
  // each row is one cell of the confusion matrix: resampling rows = resampling cells
  const cells = new Int32Array(n);
  const full = new Float64Array(k * k);
  for (let i = 0; i < n; i++) { cells[i] = s.truth[i] * k + s.predicted[i]; full[cells[i]]++; }
  const value = f1OfMatrix(full, k);
  if (n < 2) return { value, ci: null, method: CI_METHODS.f1, note: 'one labelled prediction' };
  const B = Math.max(200, Math.min(BOOTSTRAP_RESAMPLES, Math.floor(BOOTSTRAP_BUDGET / n)));
  const method = B === BOOTSTRAP_RESAMPLES ? CI_METHODS.f1 : `percentile bootstrap (${B} resamples, fixed seed)`;
  const next = createRng(0x5eed1 ^ n).next;
  const m = new Float64Array(k * k);
  const stats = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    m.fill(0);
    for (let i = 0; i < n; i++) m[cells[Math.floor(next() * n)]]++;
    stats[b] = f1OfMatrix(m, k);
  }
  stats.sort();
  const at = (q: number): number => stats[Math.min(B - 1, Math.max(0, Math.round(q * (B - 1))))];
  return { value, ci: { low: at(0.025), high: at(0.975) }, method };
}

/** Midranks (1-based; ties get the mean rank) of `x`. */
function midranks(x: Float64Array): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j < n && x[order[j]] === x[order[i]]) j++;
    const rank = (i + j + 1) / 2; // mean of ranks i+1 … j
    for (let k = i; k < j; k++) r[order[k]] = rank;
    i = j;
  }
  return r;
}

/** Binary AUC of scores `x` for positives (`positive[i]`) with DeLong's variance (fast midrank form). */
export function aucDeLong(x: Float64Array, positive: Uint8Array): { auc: number; variance: number; nPos: number; nNeg: number } | null {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < x.length; i++) (positive[i] ? pos : neg).push(x[i]);
  const m = pos.length;
  const n = neg.length;
  if (!m || !n) return null;
  const X = Float64Array.from(pos);
  const Y = Float64Array.from(neg);
  const all = new Float64Array(m + n);
  all.set(X);
  all.set(Y, m);
  const rAll = midranks(all);
  const rX = midranks(X);
  const rY = midranks(Y);
  let sumR = 0;
  for (let i = 0; i < m; i++) sumR += rAll[i];
  const auc = (sumR - (m * (m + 1)) / 2) / (m * n);
  // placements: V10_i = (rAll_i − rX_i) / n, V01_j = 1 − (rAll_{m+j} − rY_j) / m
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  for (let i = 0; i < m; i++) v10[i] = (rAll[i] - rX[i]) / n;
  for (let j = 0; j < n; j++) v01[j] = 1 - (rAll[m + j] - rY[j]) / m;
  const variance = (v: Float64Array, mean: number): number => {
    if (v.length < 2) return 0;
    let s = 0;
    for (const t of v) s += (t - mean) ** 2;
    return s / (v.length - 1);
  };
  return { auc, variance: variance(v10, auc) / m + variance(v01, auc) / n, nPos: m, nNeg: n };
}

export function auc(s: ClassifierSample): MetricValue {
  const method = CI_METHODS.auc;
  if (!s.scores) return { value: null, ci: null, method, note: 'the model outputs no probabilities' };
  if (s.classes.length === 2) {
    const pos = Uint8Array.from(s.truth, (t) => (t === 1 ? 1 : 0));
    const r = aucDeLong(s.scores[1], pos);
    if (!r) return { value: null, ci: null, method, note: 'needs labels of both classes' };
    const half = Z95 * Math.sqrt(r.variance);
    return { value: r.auc, ci: { low: Math.max(0, r.auc - half), high: Math.min(1, r.auc + half) }, method };
  }
  // multiclass: one-vs-rest, macro average over the classes (each must occur in the truth, as scikit-learn requires)
  let sum = 0;
  for (let c = 0; c < s.classes.length; c++) {
    const pos = Uint8Array.from(s.truth, (t) => (t === c ? 1 : 0));
    const r = aucDeLong(s.scores[c], pos);
    if (!r) return { value: null, ci: null, method: 'one-vs-rest macro average', note: `class "${s.classes[c]}" ${pos.includes(1) ? 'is every label' : 'has no label'} in this window: one-vs-rest AUC needs every class` };
    sum += r.auc;
  }
  return { value: sum / s.classes.length, ci: null, method: 'one-vs-rest macro average', note: 'no interval for a multiclass AUC' };
}

export const LOG_LOSS_EPS = 1e-15;

export function logLoss(s: ClassifierSample): MetricValue {
  const method = CI_METHODS.logLoss;
  const n = s.truth.length;
  if (!s.scores) return { value: null, ci: null, method, note: 'the model outputs no probabilities' };
  if (!n) return { value: null, ci: null, method, note: 'no labelled predictions' };
  const clip = (p: number): number => Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, p));
  const losses = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (const col of s.scores) sum += clip(col[i]);
    losses[i] = -Math.log(clip(s.scores[s.truth[i]][i]) / sum);
  }
  const { mean, ci } = meanInterval(losses);
  return { value: mean, ci: ci && { low: Math.max(0, ci.low), high: ci.high }, method, ...(ci ? {} : { note: 'one labelled prediction' }) };
}

export function rmse(s: RegressionSample): MetricValue {
  const method = CI_METHODS.rmse;
  const n = s.truth.length;
  if (!n) return { value: null, ci: null, method, note: 'no labelled predictions' };
  const sq = Float64Array.from(s.truth, (t, i) => (s.predicted[i] - t) ** 2);
  const { mean, ci } = meanInterval(sq);
  return { value: Math.sqrt(mean), ci: ci && { low: Math.sqrt(Math.max(0, ci.low)), high: Math.sqrt(ci.high) }, method, ...(ci ? {} : { note: 'one labelled prediction' }) };
}

export function mae(s: RegressionSample): MetricValue {
  const method = CI_METHODS.mae;
  const n = s.truth.length;
  if (!n) return { value: null, ci: null, method, note: 'no labelled predictions' };
  const ab = Float64Array.from(s.truth, (t, i) => Math.abs(s.predicted[i] - t));
  const { mean, ci } = meanInterval(ab);
  return { value: mean, ci: ci && { low: Math.max(0, ci.low), high: ci.high }, method, ...(ci ? {} : { note: 'one labelled prediction' }) };
}

export type ClassifierMetrics = { accuracy: MetricValue; f1: MetricValue; auc: MetricValue; logLoss: MetricValue };
export type RegressionMetrics = { rmse: MetricValue; mae: MetricValue };

export function classifierMetrics(s: ClassifierSample): ClassifierMetrics {
  return { accuracy: accuracy(s), f1: f1(s), auc: auc(s), logLoss: logLoss(s) };
}

export function regressionMetrics(s: RegressionSample): RegressionMetrics {
  return { rmse: rmse(s), mae: mae(s) };
}

/** Is this metric better when lower? */
export const lowerIsBetter = (metric: string): boolean => metric === 'logLoss' || metric === 'rmse' || metric === 'mae';
