// KS and Wasserstein between two NumericStats on the same frozen binning — the only form the
// current window has (no raw rows). Both come with rigorous bounds computed from the bins.
//
// What the bins know (binning.ts): for every edge e, both CDFs just left of e, F(e-) = count below / n,
// and at e, F(e) = F(e-) + atom(e)/n; inside a bin only the mass and the (quantised) sum of positions.
//
// KS: D = sup |F_r - F_c| is attained at sample points, so the edge values give a lower bound that
// is the exact D unless both samples have values strictly inside one bin. In such a bin (a, b) the
// difference lies within [F_r(a) - F_c(b-), F_r(b-) - F_c(a)], which bounds D from above; when one
// side has no interior mass there its CDF is flat and the sup is attained at the bin's ends. With a
// reference of <= 1024 distinct values every one is an edge, so D is exact in the whole KS regime.
//
// Wasserstein: W1 = ∫|F_r - F_c|. Per bin, ∫_a^b F = F(b-)(b - a) - (1/n) Σ_{x in [a,b)} (x - a)
// (integrate the indicator of each value), so ∫(F_r - F_c) over a bin is known from the offset sums;
// it equals ∫|F_r - F_c| whenever the difference cannot change sign in the bin (checked with the
// same ranges). Only bins where both CDFs rise and cross contribute uncertainty, bounded by
// ∫|g| <= min(∫g + 2w·max(-g), -∫g + 2w·max(g)). Positions are quantised to 1/65536 of the bin
// width (floor, then +½ on reading): at most ½·w/65536 per value, added to the bounds.
// Statistics on a sketched binning (many distinct reference values) are compared by their log
// buckets instead (sketch.ts); ksFromStats/wassersteinFromStats pick the right one.
import { OFFSET_LEVELS } from '../binning.ts';
import type { NumericStats } from '../numeric-stats.ts';
import { ksFromSketch, wassersteinFromSketch } from './sketch.ts';

export interface BinnedStatistic {
  /** best estimate: for KS the largest difference at known points (a lower bound, exact when tight) */
  value: number;
  /** the true value for the underlying samples lies in [lo, hi] */
  lo: number;
  hi: number;
  /** true when lo == value == hi up to the quantisation of positions */
  exact: boolean;
}

function sameBinning(a: NumericStats, b: NumericStats): void {
  if (a.binning.json.id !== b.binning.json.id) throw new RangeError('statistics were built on different baselines');
  if (a.n === 0 || b.n === 0) throw new RangeError('both samples need finite values');
}

/** Two-sample KS statistic from binned statistics, with bounds. */
export function ksFromStats(ref: NumericStats, cur: NumericStats): BinnedStatistic {
  sameBinning(ref, cur);
  if (ref.binning.sketched) return ksFromSketch(ref, cur);
  const L = ref.binning.size;
  const R = ref.bins;
  const C = cur.bins;
  const nr = ref.n;
  const nc = cur.n;
  let lower = 0;
  let upper = 0;
  const point = (r: number, c: number): void => { const d = Math.abs(r / nr - c / nc); if (d > lower) lower = d; };
  // left tail (-inf, e0): both CDFs start at 0
  let cr = R[0];
  let cc = C[0];
  point(cr, cc);
  if (R[0] > 0 && C[0] > 0) upper = Math.max(upper, cr / nr, cc / nc);
  for (let k = 1; k <= L; k++) {
    const j = 4 * k;
    const ra = cr + R[j + 1]; // counts <= left edge
    const ca = cc + C[j + 1];
    point(ra, ca);
    const rb = cr + R[j]; // counts below the right edge (all, for the last bin)
    const cb = cc + C[j];
    point(rb, cb);
    if (R[j] - R[j + 1] > 0 && C[j] - C[j + 1] > 0) upper = Math.max(upper, rb / nr - ca / nc, cb / nc - ra / nr);
    cr = rb;
    cc = cb;
  }
  upper = Math.max(upper, lower);
  return { value: lower, lo: lower, hi: upper, exact: upper === lower };
}

/** 1-Wasserstein distance from binned statistics, with bounds. */
export function wassersteinFromStats(ref: NumericStats, cur: NumericStats): BinnedStatistic {
  sameBinning(ref, cur);
  if (ref.binning.sketched) return wassersteinFromSketch(ref, cur);
  const L = ref.binning.size;
  const e = ref.binning.edges;
  const R = ref.bins;
  const C = cur.bins;
  const nr = ref.n;
  const nc = cur.n;
  const tr = ref.tailSums;
  const tc = cur.tailSums;
  let est = 0;
  let lo = 0;
  let hi = 0;
  let quant = 0;
  let exact = true;
  const ambiguous = (g: number, gMin: number, gMax: number, w: number, linear: number): void => {
    const l = Math.abs(g);
    const h = Number.isFinite(w) ? Math.min(g + 2 * w * -gMin, -g + 2 * w * gMax) : Infinity;
    est += Math.min(Math.max(linear, l), h);
    lo += l;
    hi += h;
    exact = false;
  };
  // left tail: ∫_{-inf}^{e0} F = Σ (e0 - x) / n
  {
    const ir = tr.left / nr;
    const ic = tc.left / nc;
    if (R[0] > 0 && C[0] > 0) {
      exact = false;
      est += (Math.abs(ir - ic) + ir + ic) / 2;
      lo += Math.abs(ir - ic);
      hi += ir + ic;
    } else {
      est += ir + ic;
      lo += ir + ic;
      hi += ir + ic;
    }
  }
  let cr = R[0];
  let cc = C[0];
  for (let k = 1; k < L; k++) {
    const j = 4 * k;
    const w = e[k] - e[k - 1];
    const inR = R[j] - R[j + 1];
    const inC = C[j] - C[j + 1];
    const frA = (cr + R[j + 1]) / nr; // F at the left edge
    const fcA = (cc + C[j + 1]) / nc;
    const frB = (cr + R[j]) / nr; // F just below the right edge
    const fcB = (cc + C[j]) / nc;
    const posR = (w * (R[j + 2] + 0.5 * inR)) / OFFSET_LEVELS; // Σ (x - a) over interior values
    const posC = (w * (C[j + 2] + 0.5 * inC)) / OFFSET_LEVELS;
    const g = frB * w - posR / nr - (fcB * w - posC / nc); // ∫ (F_r - F_c) over the bin
    const gMin = frA - fcB;
    const gMax = frB - fcA;
    if (gMin >= 0 || gMax <= 0) {
      est += Math.abs(g);
      lo += Math.abs(g);
      hi += Math.abs(g);
    } else {
      const ga = frA - fcA;
      const gb = frB - fcB;
      // a straight-line difference crossing zero once: ∫|g| = w (ga² + gb²) / (2(|ga| + |gb|))
      const linear = ga * gb < 0 ? (w * (ga * ga + gb * gb)) / (2 * (Math.abs(ga) + Math.abs(gb))) : Math.abs(g);
      ambiguous(g, gMin, gMax, w, linear);
    }
    quant += (0.5 * w * (inR / nr + inC / nc)) / OFFSET_LEVELS;
    cr += R[j];
    cc += C[j];
  }
  // right tail: ∫_{e_last}^{inf} (1 - F) = Σ (x - e_last) / n
  if (L > 0) {
    const j = 4 * L;
    const ir = tr.right / nr;
    const ic = tc.right / nc;
    if (R[j] - R[j + 1] > 0 && C[j] - C[j + 1] > 0) {
      exact = false;
      est += (Math.abs(ir - ic) + ir + ic) / 2;
      lo += Math.abs(ir - ic);
      hi += ir + ic;
    } else {
      est += ir + ic;
      lo += ir + ic;
      hi += ir + ic;
    }
  }
  return { value: est, lo: Math.max(0, lo - quant), hi: hi + quant, exact };
}

export interface ValueCounts {
  /** the distinct reference values, ascending */
  values: number[];
  reference: number[];
  current: number[];
  /** finite values not equal to any reference value */
  referenceOther: number;
  currentOther: number;
}

/** Counts per distinct reference value (numeric features with few values are tested as categories). */
export function valueCountsFromStats(ref: NumericStats, cur: NumericStats): ValueCounts {
  if (ref.binning.json.id !== cur.binning.json.id) throw new RangeError('statistics were built on different baselines');
  const e = ref.binning.edges;
  const out: ValueCounts = { values: [], reference: [], current: [], referenceOther: ref.n, currentOther: cur.n };
  for (let i = 0; i < e.length; i++) {
    const slot = 4 * (i + 1) + 1; // values exactly on edge i sit in bin i+1's atom count
    const r = ref.bins[slot];
    if (r === 0) continue; // an interpolated decile, not a reference value
    const c = cur.bins[slot];
    out.values.push(e[i]);
    out.reference.push(r);
    out.current.push(c);
    out.referenceOther -= r;
    out.currentOther -= c;
  }
  return out;
}
