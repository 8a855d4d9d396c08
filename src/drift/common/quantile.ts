// Quantiles with numpy's default method ('linear', Hyndman & Fan type 7), reproducing numpy's
// arithmetic (virtual index (n-1)·q, then numpy's two-sided lerp) so frozen bin edges match
// numpy.quantile bit for bit on the same data.

/** q-quantile of an ascending-sorted, NaN-free array. */
export function quantileLinear(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of an empty sample');
  const vi = (n - 1) * q;
  if (vi <= 0) return sorted[0];
  if (vi >= n - 1) return sorted[n - 1];
  const lo = Math.floor(vi);
  const t = vi - lo;
  const a = sorted[lo];
  const b = sorted[lo + 1];
  const diff = b - a;
  // numpy._lerp: a + diff·t, but b - diff·(1-t) when t >= 0.5 (monotone and exact at t = 1)
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** The 9 interior decile edges (q = 0.1 … 0.9) of an ascending-sorted sample. */
export const decileEdges = (sorted: ArrayLike<number>): number[] => Array.from({ length: 9 }, (_, i) => quantileLinear(sorted, (i + 1) / 10));
