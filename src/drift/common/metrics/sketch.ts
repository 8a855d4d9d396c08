// KS, Wasserstein and quantiles from log-bucket sketches (log-buckets.ts), with rigorous bounds.
//
// The buckets of both samples tile the axis of d = x − c into segments (buckets, empty gaps, the
// point d = 0) at whose ends both CDFs are known exactly. Inside a segment each CDF lies between its
// values at the two ends: F_r ∈ [A_r, B_r], F_c ∈ [A_c, B_c]. Hence
//   KS: D ≥ |F_r − F_c| at every segment end (the exact D when no segment holds values of both
//       samples), and D ≤ max over segments of max(B_r − A_c, B_c − A_r) where both hold values;
//   Wasserstein (W1 = ∫|F_r − F_c|, translation-invariant, so computed on d): a segment of width w
//       contributes between w·max(0, A_r − B_c, A_c − B_r) and w·max(B_r − A_c, B_c − A_r); gaps
//       (no values) contribute exactly. The estimate takes both CDFs linear inside each bucket.
// A bucket is at most |d|/64 wide and a segment's uncertainty is at most w·(ΔF_r + ΔF_c), so
//   W_hi − W_lo ≤ (mean|x_ref − c| + mean|x_cur − c|) / 64,
// and normed by the reference std σ (≥ mean|x_ref − c|, c being the reference mean) at most
// (1 + mean|x_cur − c|/σ)/64 — about 1/32 when the current spread is like the reference's. (Exact up
// to the rounding of x − c, ≤ 2^-53 relative.)
import { LogBuckets, RELATIVE_ACCURACY, segmentColumns, segments } from '../log-buckets.ts';
import type { NumericStats } from '../numeric-stats.ts';
import type { BinnedStatistic } from './binned.ts';

function sketches(ref: NumericStats, cur: NumericStats): [LogBuckets, LogBuckets] {
  if (ref.binning.json.id !== cur.binning.json.id) throw new RangeError('statistics were built on different baselines');
  if (!ref.sketch || !cur.sketch) throw new RangeError('statistics have no log buckets (exact binning)');
  if (ref.n === 0 || cur.n === 0) throw new RangeError('both samples need finite values');
  return [ref.sketch, cur.sketch];
}

// Both metrics walk segmentColumns() (segments as typed arrays) with a plain loop: this runs for
// every monitored feature at every checkpoint, over thousands of segments each. At segment i both
// CDFs are known before it (A = counts so far / n, the previous segment's B) and after it (B),
// reference and current.

/** Two-sample KS statistic D from the sketches, with bounds. */
export function ksFromSketch(ref: NumericStats, cur: NumericStats): BinnedStatistic {
  const [r, c] = sketches(ref, cur);
  const { count, lo, hi, ref: sr, cur: sc } = segmentColumns(r, c);
  const nr = ref.n, nc = cur.n;
  let cr = 0, cc = 0;
  let pr = 0, pc = 0; // cr / nr and cc / nc before segment i
  let lower = 0;
  let upper = 0;
  for (let i = 0; i < count; i++) {
    const ar = pr, ac = pc;
    cr += sr[i];
    cc += sc[i];
    const br = (pr = cr / nr), bc = (pc = cc / nc);
    lower = Math.max(lower, Math.abs(ar - ac), Math.abs(br - bc));
    if (sr[i] > 0 && sc[i] > 0 && lo[i] !== hi[i]) upper = Math.max(upper, br - ac, bc - ar);
  }
  upper = Math.max(upper, lower);
  return { value: lower, lo: lower, hi: upper, exact: upper === lower };
}

/** w·g where an infinitely wide segment (the last bucket) with no CDF difference adds 0, not NaN. */
const times = (w: number, g: number): number => (g === 0 ? 0 : w * g);

/** 1-Wasserstein distance from the sketches, with bounds. */
export function wassersteinFromSketch(ref: NumericStats, cur: NumericStats): BinnedStatistic {
  const [r, c] = sketches(ref, cur);
  const { count, lo: left, hi: right, ref: sr, cur: sc } = segmentColumns(r, c);
  const nr = ref.n, nc = cur.n;
  let cr = 0, cc = 0;
  let pr = 0, pc = 0; // cr / nr and cc / nc before segment i
  let lo = 0;
  let hi = 0;
  let est = 0;
  for (let i = 0; i < count; i++) {
    const ar = pr, ac = pc;
    cr += sr[i];
    cc += sc[i];
    const br = (pr = cr / nr), bc = (pc = cc / nc);
    const w = right[i] - left[i];
    if (w === 0) continue; // the point d = 0: no width
    if (sr[i] === 0 && sc[i] === 0) { // a gap: both CDFs constant
      const g = times(w, Math.abs(ar - ac));
      lo += g; hi += g; est += g;
      continue;
    }
    const l = times(w, Math.max(0, ar - bc, ac - br));
    const h = times(w, Math.max(br - ac, bc - ar));
    // both CDFs linear in the bucket: the difference goes from ga to gb
    const ga = ar - ac;
    const gb = br - bc;
    const linear = ga * gb >= 0 ? times(w, Math.abs(ga + gb)) / 2 : times(w, ga * ga + gb * gb) / (2 * (Math.abs(ga) + Math.abs(gb)));
    lo += l;
    hi += h;
    est += Math.min(h, Math.max(l, linear));
  }
  return { value: est, lo, hi, exact: lo === hi };
}

export interface QuantileEstimate {
  /** the midpoint of the bucket holding the quantile */
  value: number;
  /** the quantile (numpy 'lower' convention: the value of rank ⌊q·(n − 1)⌋) lies in [lo, hi] */
  lo: number;
  hi: number;
}

/**
 * A quantile of the finite values from the sketch: within RELATIVE_ACCURACY (1/128) of |x − c| of
 * the value returned, c the reference mean (also stated as [lo, hi]).
 */
export function quantileFromSketch(stats: NumericStats, q: number): QuantileEstimate {
  if (!stats.sketch) throw new RangeError('statistics have no log buckets (exact binning)');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1] (got ${q})`);
  if (stats.n === 0) return { value: NaN, lo: NaN, hi: NaN };
  const c = stats.binning.json.shift;
  const rank = Math.floor(q * (stats.n - 1)); // 0-based
  let seen = 0;
  for (const s of segments(stats.sketch, new LogBuckets())) {
    seen += s.ref;
    if (seen > rank) {
      const lo = Math.max(stats.min, c + s.lo);
      const hi = Math.min(stats.max, c + s.hi);
      const mid = s.lo === s.hi ? c + s.lo : c + (s.lo + s.hi) / 2;
      return { value: Math.min(hi, Math.max(lo, mid)), lo, hi };
    }
  }
  return { value: stats.max, lo: stats.max, hi: stats.max };
}

export { RELATIVE_ACCURACY };
