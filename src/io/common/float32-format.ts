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
// interval by multiplication (roundTrips below). Magnitudes that need 10^k beyond 10^22 (|x| < 1e-14 or > 1e22)
// take a slower path built on toPrecision.

const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

const LOG10_2 = 0.30102999566398119521;
const SLACK = 2 ** -48;
const bitsView = new DataView(new ArrayBuffer(8));

/**
 * The answer of the last successful shortestFloat32 call: [digits, exponent], meaning
 * |x| = digits·10^exponent (digits an integer below 10^9 without trailing zeros). A typed array,
 * because a double kept in a module-level `let` is boxed on every store. A try writes it only when
 * a candidate round-trips, and the search only tries fewer digits after a success, so after the
 * search it holds the shortest candidate.
 */
export const shortest = new Float64Array(2);

/**
 * Does the candidate n·10^-k (scale = 10^k) read back as v? Exactly
 * Math.fround(n / 10^k) === v, the correctly rounded double of the text (see the header), but
 * without the division when n is clearly inside or outside v's rounding interval: tLo and tHi are
 * the interval's ends times 10^k, each product off by at most half an ulp (t·2^-53), and
 * a candidate further than `slack` (t·2^-48) from both ends is on the same side of them exactly,
 * by more than the double rounding of the text can move it. Only candidates within that slack of
 * an end (where the ends' tie-to-even rule decides) take the division.
 */
function roundTrips(v: number, n: number, scale: number, tLo: number, tHi: number, slack: number): boolean {
  if (n > tLo + slack && n < tHi - slack) return true;
  if (n < tLo - slack || n > tHi + slack) return false;
  return Math.fround(n / scale) === v;
}

/**
 * Try the d-digit candidates for v (> 0) whose leading digit is at 10^e (floor(t) and ceil(t),
 * the nearer first); fills `shortest` on success. [lower, upper]: v's float32 rounding interval.
 */
function tryDigits(v: number, e: number, d: number, lower: number, upper: number): boolean {
  const k = d - 1 - e; // t = v·10^k has d digits before the point
  if (k < 0) return tryDigitsAbove(v, k);
  const scale = POW10[k];
  const t = v * scale;
  const tLo = lower * scale;
  const tHi = upper * scale;
  const slack = t * SLACK;
  const near = Math.round(t);
  if (roundTrips(v, near, scale, tLo, tHi, slack)) {
    shortest[0] = near;
    shortest[1] = -k;
    return true;
  }
  const far = near > t ? near - 1 : near + 1;
  if (far > 0 && roundTrips(v, far, scale, tLo, tHi, slack)) {
    shortest[0] = far;
    shortest[1] = -k;
    return true;
  }
  return false;
}

/** tryDigits for v ≥ 10^d (k < 0): t by division, each candidate checked by its product. */
function tryDigitsAbove(v: number, k: number): boolean {
  const scale = POW10[-k];
  const t = v / scale;
  const near = Math.round(t);
  if (Math.fround(near * scale) === v) {
    shortest[0] = near;
    shortest[1] = -k;
    return true;
  }
  const far = near > t ? near - 1 : near + 1;
  if (far > 0 && Math.fround(far * scale) === v) {
    shortest[0] = far;
    shortest[1] = -k;
    return true;
  }
  return false;
}

/**
 * Find the shortest text of v, a positive finite float32, into `shortest`. Returns false for
 * magnitudes outside the fast range (|v| < 1e-14 or > 1e22); formatFloat32 handles those.
 */
export function shortestFloat32(v: number): boolean {
  // decimal exponent of the leading digit, from the binary exponent (log10 costs more)
  bitsView.setFloat64(0, v);
  const high = bitsView.getUint32(0);
  // a float32's 23 fraction bits are the top of the double's: all zero for a power of two
  const powerOfTwo = (high & 0xfffff) === 0 && bitsView.getUint32(4) === 0;
  const e2 = ((high >>> 20) & 0x7ff) - 1023;
  let e = Math.floor(e2 * LOG10_2); // v ∈ [2^e2, 2^(e2+1)), so e is the exponent or one too small
  if (e + 1 <= 22 && (e + 1 >= 0 ? v >= POW10[e + 1] : v * POW10[-(e + 1)] >= 1)) e++;
  if (e < -14 || e > 22) return false;
  // v's rounding interval: half an ulp (2^(e2-24)) either side, a quarter below a power of two;
  // exact doubles (v ≥ 1e-14 is a normal float32)
  bitsView.setUint32(0, (e2 - 24 + 1023) << 20);
  bitsView.setUint32(4, 0);
  const half = bitsView.getFloat64(0);
  const upper = v + half;
  const lower = v - (powerOfTwo ? half / 2 : half);
  // The fewest digits that round-trip (9 always do), the likely counts first: 7, then 8 or 6,
  // then 9 or a binary search of 1..5. `shortest` holds the last (fewest-digit) success.
  if (!tryDigits(v, e, 7, lower, upper)) {
    if (!tryDigits(v, e, 8, lower, upper) && !tryDigits(v, e, 9, lower, upper)) return false;
  } else if (tryDigits(v, e, 6, lower, upper)) {
    let lo = 1;
    let hi = 6;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tryDigits(v, e, mid, lower, upper)) hi = mid;
      else lo = mid + 1;
    }
  }
  // a candidate rounded up to 10^d ends in zeros (digits < 10^9: integer arithmetic)
  let digits = shortest[0] | 0;
  if (digits % 10 === 0) {
    let exp = shortest[1];
    do {
      digits = (digits / 10) | 0;
      exp++;
    } while (digits % 10 === 0);
    shortest[0] = digits;
    shortest[1] = exp;
  }
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
