// Shortest decimal text for a float32: the fewest significant digits d (1 ≤ d ≤ 9) such that
// Math.fround(Number(text)) === value, and among those the one nearest the value. Formatted
// like Number.prototype.toString (plain for 1e-6 ≤ |x| < 1e21, exponent form otherwise).
//
// Why not toPrecision(1..9): each call costs ~100 ns and most model outputs need 7–9 digits.
// Instead the candidate digits are computed with double arithmetic: t = |x|·10^k puts d digits
// before the point, and the only d-digit candidates that can round-trip are floor(t) and ceil(t).
// Each candidate N·10^-k is checked exactly: N < 2^53 and 10^|k| ≤ 10^22 are exact doubles, so
// one multiply or divide is the correctly rounded double of the text (Clinger), i.e. what Number()
// would return. Round-tripping is monotone in d (a d-digit candidate is also a (d+1)-digit one), so
// d is found by a search that starts where model outputs land: 7 digits, then 8 or 6, then 9 or
// the short ones (a float32 holds ~7.2 decimal digits: 95 % of softmax outputs need 7 or 8; the
// binary search over 1..9 that this replaced took 3–4 tries for those, this takes 2). The
// answer is the same as that search's (test/io-float32.test.ts holds the writer to the old one's
// bytes on millions of values; scripts/float32-exhaustive.ts found no difference over all 1.0e9
// float32 values from 1e-14 to 1e22). Candidates are checked against the value's rounding
// interval by multiplication (digitsCandidate below). Magnitudes that need 10^k beyond 10^22 (|x| < 1e-14 or > 1e22)
// take a slower path built on toPrecision.
//
// Per value this is the writer thread's largest cost (five probabilities per row in the demo
// shape), so the search reads the exponent from the float32's own bits (a Float32Array alias, not
// DataView calls), takes floor(e2·log10 2) in integer arithmetic, and each try returns its
// candidate instead of storing it (byte-builder.ts writes the digits two at a time, and the
// exponent form in place): ~67 → ~50 ns per softmax output (bench/results/README.md,
// "Session 7: rows/s"); same answers (io-float32 test; every float32 from 1e-8 to 1 compared with
// the writer before).

const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

const SLACK = 2 ** -48;
/** A float32 and its bits: the exponent and fraction straight from the value (no DataView calls). */
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
/** 2^(i − 160): the half-ulps 2^(e2 − 24) of float32 exponents e2 from −126 to 127, as exact doubles */
const POW2 = Float64Array.from({ length: 280 }, (_, i) => 2 ** (i - 160));

/**
 * The answer of the last successful shortestFloat32 call: [digits, exponent], meaning
 * |x| = digits·10^exponent (digits an integer below 10^9 without trailing zeros). A typed array,
 * because a double kept in a module-level `let` is boxed on every store.
 */
export const shortest = new Float64Array(2);

/**
 * The d-digit candidate for v (> 0) whose leading digit is at 10^e that round-trips: floor(t) or
 * ceil(t) of t = v·10^k, the nearer first; 0 when neither does (t ≥ 1, so 0 is never a candidate). [lower, upper]: v's float32
 * rounding interval. The candidate stands for candidate·10^(e − d + 1). Returned, not stored: the
 * search keeps its last success in locals.
 *
 * A candidate n round-trips when Math.fround(n / 10^k) === v, the correctly rounded double of the
 * text (see the header); that division is needed only near an end of the interval: inLo and inHi
 * are the interval's ends times 10^k, each product off by at most half an ulp (t·2^-53), and a
 * candidate further than `slack` (t·2^-48) from both ends is on the same side of them exactly, by
 * more than the double rounding of the text can move it. Only candidates within that slack of an
 * end (where the ends' tie-to-even rule decides) take the division.
 */
function digitsCandidate(v: number, e: number, d: number, lower: number, upper: number): number {
  const k = d - 1 - e; // t = v·10^k has d digits before the point
  if (k < 0) return candidateAbove(v, k);
  const scale = POW10[k];
  const t = v * scale;
  const inLo = lower * scale;
  const inHi = upper * scale;
  const slack = t * SLACK;
  // clearly inside: (inLo + slack, inHi − slack); clearly outside: beyond (inLo − slack, inHi + slack)
  const near = Math.round(t);
  if (near > inLo + slack && near < inHi - slack) return near;
  if (near >= inLo - slack && near <= inHi + slack && Math.fround(near / scale) === v) return near;
  const far = near > t ? near - 1 : near + 1;
  if (far <= 0) return 0;
  if (far > inLo + slack && far < inHi - slack) return far;
  return far >= inLo - slack && far <= inHi + slack && Math.fround(far / scale) === v ? far : 0;
}

/** digitsCandidate for v ≥ 10^d (k < 0): t by division, each candidate checked by its product. */
function candidateAbove(v: number, k: number): number {
  const scale = POW10[-k];
  const t = v / scale;
  const near = Math.round(t);
  if (Math.fround(near * scale) === v) return near;
  const far = near > t ? near - 1 : near + 1;
  return far > 0 && Math.fround(far * scale) === v ? far : 0;
}

/**
 * Find the shortest text of v, a positive finite float32, into `shortest`. Returns false for
 * magnitudes outside the fast range (|v| < 1e-14 or > 1e22), and for a number that is not a
 * float32; formatFloat32 handles those.
 */
export function shortestFloat32(v: number): boolean {
  f32[0] = v;
  if (f32[0] !== v) return false;
  const bits = f32Bits[0];
  // a float32's binary exponent and its 23 fraction bits (all zero for a power of two); v ≥ 1e-14 is normal
  const e2 = (bits >>> 23) - 127;
  const powerOfTwo = (bits & 0x7fffff) === 0;
  // decimal exponent of the leading digit: floor(e2·log10(2)) in integer arithmetic (exact for
  // |e2| < 1650), then one up where v ≥ 10^(e+1)
  let e = (e2 * 78913) >> 18;
  if (e + 1 <= 22 && (e + 1 >= 0 ? v >= POW10[e + 1] : v * POW10[-(e + 1)] >= 1)) e++;
  if (e < -14 || e > 22) return false;
  // v's rounding interval: half an ulp (2^(e2-24)) either side, a quarter below a power of two;
  // exact doubles
  const half = POW2[e2 + 136];
  const upper = v + half;
  const lower = v - (powerOfTwo ? half / 2 : half);
  // The fewest digits that round-trip (9 always do), the likely counts first: 7, then 8 or 6,
  // then 9 or a binary search of 1..5. (n, d): the last (fewest-digit) success.
  let d = 7;
  let n = digitsCandidate(v, e, 7, lower, upper);
  if (n === 0) {
    d = 8;
    n = digitsCandidate(v, e, 8, lower, upper);
    if (n === 0) {
      d = 9;
      n = digitsCandidate(v, e, 9, lower, upper);
      if (n === 0) return false;
    }
  } else {
    const n6 = digitsCandidate(v, e, 6, lower, upper);
    if (n6 !== 0) {
      d = 6;
      n = n6;
      let lo = 1;
      let hi = 6;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const m = digitsCandidate(v, e, mid, lower, upper);
        if (m !== 0) {
          hi = mid;
          d = mid;
          n = m;
        } else lo = mid + 1;
      }
    }
  }
  // a candidate rounded up to 10^d ends in zeros (digits < 10^9: integer arithmetic)
  let digits = n | 0;
  let exp = e - d + 1;
  while (digits % 10 === 0) {
    digits = (digits / 10) | 0;
    exp++;
  }
  shortest[0] = digits;
  shortest[1] = exp;
  return true;
}

/** Shortest round-tripping decimal text of a float32 value (given as a number). */
export function formatFloat32(value: number): string {
  if (value !== value) return 'NaN';
  if (value === 0) return '0';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  const negative = value < 0;
  const v = negative ? -value : value;
  if (!shortestFloat32(v)) return slowFormat(value);
  // The winning text D, turned into its double exactly as Number(D) would (digits < 2^53 and
  // 10^|exp| ≤ 10^22 are exact: one correctly rounded operation). No shorter text maps to that
  // double (it would be a shorter float32 answer), and other texts of D's length lie further away,
  // so String() of the double prints exactly D, in toString style.
  const digits = shortest[0];
  const exp = shortest[1];
  const x = exp < 0 ? digits / POW10[-exp] : exp <= 22 ? digits * POW10[exp] : Number(`${digits}e${exp}`);
  return String(negative ? -x : x);
}

/** Any magnitude: toPrecision gives the nearest d-digit decimal; its neighbours are checked too. */
function slowFormat(value: number): string {
  const negative = value < 0;
  const v = negative ? -value : value;
  for (let d = 1; d <= 9; d++) {
    const [mantissa, exp] = v.toExponential(d - 1).split('e');
    const nearest = Number(mantissa.replace('.', ''));
    const q = Number(exp) - (d - 1);
    for (const n of [nearest, nearest - 1, nearest + 1]) {
      const x = Number(`${n}e${q}`);
      if (n > 0 && Math.fround(x) === v) return String(negative ? -x : x);
    }
  }
  return String(value); // unreachable for float32 values: 9 digits always round-trip
}
