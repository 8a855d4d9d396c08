// 1-Wasserstein (earth mover's) distance between two raw samples, as
// scipy.stats.wasserstein_distance: ∫ |F_u(x) - F_v(x)| dx over the pooled sorted values.
// Evidently normalises it by the reference's population standard deviation (floored at 0.001).

export const WASSERSTEIN_STD_FLOOR = 0.001;

export function wassersteinDistance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const a = Float64Array.from(u).sort();
  const b = Float64Array.from(v).sort();
  if (a.length === 0 || b.length === 0) throw new RangeError('Wasserstein distance needs two non-empty samples');
  const all = new Float64Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  all.sort();
  let i = 0;
  let j = 0;
  let sum = 0;
  let comp = 0; // Neumaier compensation: the sum has as many terms as pooled points
  for (let k = 0; k < all.length - 1; k++) {
    const x = all[k];
    while (i < a.length && a[i] <= x) i++;
    while (j < b.length && b[j] <= x) j++;
    const term = Math.abs(i / a.length - j / b.length) * (all[k + 1] - x);
    const t = sum + term;
    comp += Math.abs(sum) >= Math.abs(term) ? sum - t + term : term - t + sum;
    sum = t;
  }
  return sum + comp;
}

/** Evidently's normed distance: W(ref, cur) / max(std(ref, ddof=0), 0.001). */
export const normedWasserstein = (distance: number, referenceStd: number): number => distance / Math.max(referenceStd, WASSERSTEIN_STD_FLOOR);
