// Two-sample Kolmogorov-Smirnov test with scipy.stats.ks_2samp's semantics (two-sided,
// method 'auto'): the exact null distribution when max(n1, n2) <= 10000, otherwise the finite-n
// Kolmogorov distribution at n = round(n1 n2 / (n1 + n2)). Evidently's KS drift test is this p-value.
import { kolmogorovLimitSf, kolmogorovSf } from '../kolmogorov.ts';
import { roundHalfEven } from '../special.ts';

export type KsMethod = 'auto' | 'exact' | 'asymp';

export interface KsPValue {
  /** the statistic as scipy returns it: for the exact method snapped to h / lcm(n1, n2) */
  d: number;
  pValue: number;
  /** the method actually used (exact falls back to asymp when it cannot be computed) */
  method: 'exact' | 'asymp';
}

/** scipy's switch from exact to asymptotic under method 'auto'. */
export const KS_MAX_EXACT_N = 10000;

const gcd = (a: number, b: number): number => { while (b) [a, b] = [b, a % b]; return a; };

/**
 * P(D_{n,n} >= h/n) for equal sample sizes: 2 Σ_k (-1)^(k+1) C(2n, n-kh) / C(2n, n), evaluated
 * with each ratio as a product of h simple factors in a Horner-like nest, 2·A0(1 - A1(1 - A2(...))),
 * which avoids the subtractive cancellation of the alternating sum (Gnedenko & Korolyuk).
 */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/**
 * P(D_{m,n} >= h / lcm(m,n)) for unequal sizes by the lattice-path "inside" method (Hodges 1958),
 * carrying the probability that a uniformly random path to (i, j) has already touched the boundary
 * |i/m - j/n| >= h/lcm instead of path counts, as Viehmann (2021, arXiv:2102.08037) proposes:
 * q(i,j) = (i q(i-1,j) + j q(i,j-1)) / (i + j), q = 1 outside the band. No overflow, no
 * cancellation for small p. Only a sliding window of one column is kept.
 */
function probOutsideBand(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const A = new Float64Array(Math.min(2 * maxj + 2, n + 1)).fill(1);
  A.fill(0, minj, maxj); // column i = 0: inside the band until y reaches h/mg
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1];
}

/** Two-sided p-value of a two-sample KS statistic `d` for sample sizes n1, n2 (ks_2samp). */
export function ksTwoSamplePValue(d: number, n1: number, n2: number, method: KsMethod = 'auto'): KsPValue {
  if (!(n1 > 0 && n2 > 0) || !Number.isInteger(n1) || !Number.isInteger(n2)) throw new RangeError(`KS needs positive integer sample sizes (got ${n1}, ${n2})`);
  let mode: 'exact' | 'asymp' = method === 'auto' ? (Math.max(n1, n2) <= KS_MAX_EXACT_N ? 'exact' : 'asymp') : method;
  const g = gcd(n1, n2);
  if (mode === 'exact' && n1 / g >= 2147483647 / (n2 / g)) mode = 'asymp';
  if (mode === 'exact') {
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    const dd = h / lcm;
    if (h === 0) return { d: dd, pValue: 1, method: 'exact' };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h);
    if (Number.isFinite(p) && p >= 0 && p <= 1) return { d: dd, pValue: p, method: 'exact' };
    d = dd; // as scipy: keep the snapped statistic, fall back to the asymptotic p-value
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  const p = kolmogorovSf(roundHalfEven(en), d);
  return { d, pValue: Math.min(1, Math.max(0, p)), method: 'asymp' };
}

/**
 * KS statistic from two raw samples, as ks_2samp computes it: the largest |F1(x) - F2(x)| over the
 * pooled sample points, F the right-continuous empirical CDFs. Non-finite values must be removed.
 */
export function ksStatisticFromSamples(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('KS needs two non-empty samples');
  let i = 0;
  let j = 0;
  let maxPos = 0;
  let maxNeg = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && x[i] <= y[j]) ? x[i] : y[j];
    while (i < n1 && x[i] <= v) i++;
    while (j < n2 && y[j] <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxPos) maxPos = diff;
    if (-diff > maxNeg) maxNeg = -diff;
  }
  return Math.max(maxPos, maxNeg);
}

/** scipy.stats.ks_2samp(a, b) two-sided, method 'auto' by default. */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>, method: KsMethod = 'auto'): KsPValue {
  return ksTwoSamplePValue(ksStatisticFromSamples(a, b), a.length, b.length, method);
}

/**
 * Stephens' (1970) approximation that older scipy versions used for the asymptotic p-value:
 * Q_KS((√en + 0.12 + 0.11/√en)·d), en = n1 n2 / (n1 + n2), Q_KS the limiting Kolmogorov tail.
 */
export function ksStephensPValue(d: number, n1: number, n2: number): number {
  const s = Math.sqrt((n1 * n2) / (n1 + n2));
  return kolmogorovLimitSf((s + 0.12 + 0.11 / s) * d);
}
