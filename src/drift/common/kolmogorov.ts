// The one-sample two-sided Kolmogorov distribution P(D_n >= d) for finite n, which scipy's
// ks_2samp uses as its "asymptotic" two-sample p-value (kstwo.sf(d, round(m n / (m + n)))).
// The method choice per (n, d) follows Simard & L'Ecuyer (2011), "Computing the Two-Sided
// Kolmogorov-Smirnov Distribution", J. Stat. Softw. 39(11) — the same selection scipy makes, so the
// numbers agree with it. Algorithms:
//   Ruben & Gambino (1982) closed forms at the extremes, Birnbaum & Tingey (1951) one-sided exact
//   sum (for d >= 0.5 the two-sided tail is exactly twice it), Durbin's matrix (1968) evaluated as
//   Marsaglia, Tsang & Wang (2003), Pomeranz's recursion (1974), and Pelz & Good (1976).

const E128 = 128;
const P128 = 2 ** 128;
const M128 = 2 ** -128;

/** x · 2^e without overflowing the intermediate power of two. */
function ldexp(x: number, e: number): number {
  while (e > 1000) { x *= 2 ** 1000; e -= 1000; }
  while (e < -1000) { x *= 2 ** -1000; e += 1000; }
  return x * 2 ** e;
}

const clip01 = (p: number): number => (p < 0 ? 0 : p > 1 ? 1 : p);

/** ln(k!) - ln(√(2πk) (k/e)^k) for integer k (Stirling error): exact table to 15, series above. */
const STIRLERR_SMALL = [0, 0.08106146679532726, 0.0413406959554093, 0.02767792568499834, 0.020790672103765093,
  0.016644691189821193, 0.013876128823070748, 0.01189670994589177, 0.010411265261972096, 0.009255462182712733,
  0.00833056343336287, 0.007573675487951841, 0.00694284010720953, 0.006408994188004207, 0.0059513701127588475,
  0.005554733551962801];
function stirlerr(k: number): number {
  if (k <= 15) return STIRLERR_SMALL[k];
  const kk = k * k;
  const S0 = 1 / 12, S1 = 1 / 360, S2 = 1 / 1260, S3 = 1 / 1680, S4 = 1 / 1188;
  if (k > 500) return (S0 - S1 / kk) / k;
  if (k > 80) return (S0 - (S1 - S2 / kk) / kk) / k;
  if (k > 35) return (S0 - (S1 - (S2 - S3 / kk) / kk) / kk) / k;
  return (S0 - (S1 - (S2 - (S3 - S4 / kk) / kk) / kk) / kk) / k;
}

/** Deviance term x ln(x/M) + M - x, by a series when x ≈ M to avoid cancellation (Loader 2000). */
function bd0(x: number, M: number): number {
  if (Math.abs(x - M) < 0.1 * (x + M)) {
    const v = (x - M) / (x + M);
    let s = (x - M) * v;
    let ej = 2 * x * v;
    const v2 = v * v;
    for (let j = 1; j < 1000; j++) {
      ej *= v2;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / M) + M - x;
}

/**
 * Birnbaum-Tingey: P(D_n^+ >= e) = e Σ_{v=0}^{⌊n(1-e)⌋} C(n,v) (e + v/n)^(v-1) (1 - e - v/n)^(n-v).
 * All terms are positive, so the sum is well conditioned. Each term is a binomial probability
 * b(v; n, p) / p with p = e + v/n, evaluated by Loader's saddle-point form ("Fast and Accurate
 * Computation of Binomial Probabilities", 2000), which keeps ~1e-15 relative accuracy for any n
 * (ln C(n,v) from log-gamma differences would lose ~n·ln(n)·2^-53).
 */
export function smirnov(n: number, e: number): number {
  if (!(n > 0) || Number.isNaN(e)) return NaN;
  if (e <= 0) return 1;
  if (e >= 1) return 0;
  const ne = n * e;
  const last = Math.floor(n * (1 - e));
  let sum = Math.exp(n * Math.log1p(-e)) / e; // v = 0: (1-e)^n / e
  const sn = stirlerr(n);
  for (let v = 1; v <= last; v++) {
    const np = ne + v;
    const nq = n - v - ne; // n(1 - e - v/n) without forming 1 - p
    if (nq <= 0) continue;
    const w = n - v;
    const logB = sn - stirlerr(v) - stirlerr(w) - bd0(v, np) - bd0(w, nq);
    sum += (Math.exp(logB) * Math.sqrt(n / (2 * Math.PI * v * w))) / (np / n);
  }
  return clip01(sum * e);
}

/** ln(n! / n^n) by Stirling's series with n ln n removed up front (no cancellation). */
function logFactorialOverPower(n: number): number {
  const r = 1 / n;
  const c = [-2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
    -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2];
  let poly = 0;
  const r2 = r * r;
  for (const k of c) poly = poly * r2 + k;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + r * poly;
}

function matMul(a: Float64Array, b: Float64Array, m: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k];
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += aik * b[k * m + j];
    }
  }
  return out;
}

/** Durbin's matrix algorithm as Marsaglia, Tsang & Wang: P(D_n < d) = n!/n^n · (H^n)_{kk}. */
function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  // H[i][j] = 1/(i-j+1)! on and below the superdiagonal; first column and last row carry the
  // boundary terms (1 - h^j)/j!, with the corner (1 - 2h^m + max(0, 2h-1)^m)/m!.
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  v[m - 1] = (1 + (Math.max(2 * h - 1, 0) ** m - 2 * h ** m)) * fac;
  let H: Float64Array<ArrayBuffer> = new Float64Array(m * m);
  for (let c = 1; c < m; c++) for (let r = c - 1; r < m; r++) H[r * m + c] = w[r - c + 1];
  for (let r = 0; r < m; r++) H[r * m] = v[r];
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];

  let P: Float64Array | null = null;
  let expP = 0;
  let expH = 0;
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2) {
      P = P === null ? H.slice() : matMul(P, H, m);
      expP += expH;
    }
    H = matMul(H, H, m);
    expH *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]) > P128) {
      for (let i = 0; i < H.length; i++) H[i] /= P128;
      expH += E128;
    }
  }
  let p = (P as Float64Array)[(k - 1) * m + (k - 1)];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < M128) { p *= P128; expP -= E128; }
  }
  return clip01(ldexp(p, expP));
}

function pomeranzRange(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) { j1 = n - ll - ceilf - 1; j2 = n + ll + ceilf - 1; } else { j1 = half - 1 - ll - roundf - 1; j2 = half + ll - 1 + ceilf - 1; }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pomeranz's recursion: each row is the previous row convolved with (almost) Poisson weights. */
function kolmogorovCdfPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const np = 2 * (ll + 1);
  const gp = new Float64Array(np);
  const g2p = new Float64Array(np);
  const g12p = new Float64Array(np);
  gp[0] = g2p[0] = g12p[0] = 1;
  for (let m = 1; m < np; m++) {
    gp[m] = (gp[m - 1] * (g / n)) / m;
    g2p[m] = (g2p[m - 1] * ((2 * g) / n)) / m;
    g12p[m] = (g12p[m - 1] * ((1 - 2 * g) / n)) / m;
  }
  let V0 = new Float64Array(np);
  let V1 = new Float64Array(np);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let expnt = 0;
  let [j1, j2] = pomeranzRange(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzRange(i, n, ll, ceilf, roundf);
    const pw = i === 1 || i === 2 * n + 1 ? gp : i % 2 ? g2p : g12p;
    const len = j2 - k1 + 1;
    if (len > 0) {
      const start = k1 - V0s;
      const segLen = Math.min(len, np - start);
      const pwLen = Math.min(len, np);
      const from = j1 - k1;
      const count = j2 - j1 + 1;
      let mx = 0;
      for (let q = 0; q < count; q++) {
        const r = from + q; // index into the full convolution of segment and weights
        let s = 0;
        const lo = Math.max(0, r - pwLen + 1);
        const hi = Math.min(r, segLen - 1);
        for (let a = lo; a <= hi; a++) s += V0[start + a] * pw[r - a];
        V1[q] = s;
        if (s > mx) mx = s;
      }
      if (mx > 0 && mx < M128) {
        for (let q = 0; q < np; q++) V1[q] *= P128;
        expnt -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > P128) { ans *= M128; expnt += E128; }
    ans *= m;
  }
  return clip01(ldexp(ans, expnt));
}

/** Pelz & Good's asymptotic series for P(D_n <= x), suited to small x·√n (n > 140). */
function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const pi2 = Math.PI ** 2;
  const pi4 = pi2 * pi2;
  const pi6 = pi4 * pi2;
  const qlog = -pi2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = pi2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * pi2) / 4;
  const k2c = (pi4 * (1 - 2 * z2)) / 16;
  const k3d = (pi6 * (5 - 30 * z2)) / 64;
  const k3c = (pi4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (pi2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  // Horner in q^(8k) over odd m = 2k-1: Σ c(m) q^(m²) = q Σ c(m) q^(m²-1).
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qp = q ** (8 * k);
    const c = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i] * qp + c[i];
  }
  const sqrt2pi = Math.sqrt(2 * Math.PI);
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i] * q * sqrt2pi) / div[i];
  // The even-integer sums of K2 and K3 (no subtractive cancellation expected).
  q = Math.exp(-pi2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k >= 1; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    k2extra += k2 * qk;
    const kpi = Math.PI * k;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
  }
  K[2] += (k2extra * pi2 * sqrt2pi) / (-36 * z ** 3);
  K[3] += (k3extra * pi2 * sqrt2pi) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i] / n ** (i / 2);
  return sum;
}

/** P(D_n >= d) for the two-sided one-sample statistic (scipy.stats.kstwo.sf). */
export function kolmogorovSf(n: number, d: number): number {
  return kolmogorovTail(n, d, false);
}

/** P(D_n <= d) (scipy.stats.kstwo.cdf). */
export function kolmogorovCdf(n: number, d: number): number {
  return kolmogorovTail(n, d, true);
}

function kolmogorovTail(n: number, x: number, cdf: boolean): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return NaN;
  const pick = (c: number, s: number): number => clip01(cdf ? c : s);
  if (x >= 1) return pick(1, 0);
  if (x <= 0) return pick(0, 1);
  const t = n * x;
  if (t <= 1) {
    // Ruben-Gambino: P(D_n < x) = n!/n^n (2t-1)^n for 1/(2n) <= x <= 1/n.
    if (t <= 0.5) return pick(0, 1);
    let p: number;
    if (n <= 140) {
      p = 1;
      for (let i = 1; i <= n; i++) p *= i * (1 / n) * (2 * t - 1);
    } else {
      p = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return pick(p, 1 - p);
  }
  if (t >= n - 1) {
    const p = 2 * (1 - x) ** n; // Ruben-Gambino upper end
    return pick(1 - p, p);
  }
  if (x >= 0.5) {
    const p = 2 * smirnov(n, x); // exact: the one-sided events are disjoint for d > 1/2
    return pick(1 - p, p);
  }
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) { const p = kolmogorovCdfDurbin(n, x); return pick(p, 1 - p); }
    if (nx2 <= 4) { const p = kolmogorovCdfPomeranz(n, x); return pick(p, 1 - p); }
    const p = 2 * smirnov(n, x); // Miller's approximation, excellent this far in the tail
    return pick(1 - p, p);
  }
  if (!cdf) {
    if (nx2 >= 370) return 0;
    if (nx2 >= 2.2) return clip01(2 * smirnov(n, x));
  }
  let c: number;
  if (nx2 >= 18) c = 1;
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) c = kolmogorovCdfDurbin(n, x);
  else c = kolmogorovCdfPelzGood(n, x);
  return pick(c, 1 - c);
}

/**
 * Kolmogorov's limiting distribution, P(√n D_n >= x) as n → ∞ (scipy.special.kolmogorov):
 * 2 Σ_{k>=1} (-1)^(k-1) e^(-2k²x²) for x >= 1; below, its Jacobi-theta transform
 * 1 - (√(2π)/x) Σ_{k>=1} e^(-(2k-1)²π²/(8x²)), which converges fast there.
 */
export function kolmogorovLimitSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  let p = 0;
  if (x >= 1) {
    const a = -2 * x * x;
    for (let k = 1, sign = 1; k < 1000; k++, sign = -sign) {
      const t = Math.exp(a * k * k);
      p += sign * t;
      if (t === 0 || t / Math.abs(p) <= 2.220446049250313e-16) break;
    }
    return clip01(2 * p);
  }
  const a = (-Math.PI * Math.PI) / (8 * x * x);
  for (let r = 1; r < 2000; r += 2) {
    const t = Math.exp(a * r * r);
    p += t;
    if (t === 0 || t / p < 2.220446049250313e-16) break;
  }
  return clip01(1 - (p * Math.sqrt(2 * Math.PI)) / x);
}
