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
// d is found by binary search. Magnitudes that need 10^k beyond 10^22 (|x| < 1e-14 or > 1e22)
// take a slower path built on toPrecision.

const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

const LOG10_2 = 0.30102999566398119521;
const bitsView = new DataView(new ArrayBuffer(8));

/**
 * The answer of the last successful shortestFloat32 call: [digits, exponent, value], meaning
 * |x| = digits·10^exponent (digits an integer without trailing zeros) and `value` that text's
 * double. A typed array, because a double kept in a module-level `let` is boxed on every store.
 */
export const shortest = new Float64Array(3);
const found = new Float64Array(3);

/** Try the d-digit candidates for v (> 0) whose leading digit is at 10^e; fills `found` on success. */
function tryDigits(v: number, e: number, d: number): boolean {
  const k = d - 1 - e; // t = v·10^k has d digits before the point
  const t = k >= 0 ? v * POW10[k] : v / POW10[-k];
  const near = Math.round(t);
  let x = k >= 0 ? near / POW10[k] : near * POW10[-k];
  if (Math.fround(x) === v) {
    found[0] = near;
    found[1] = -k;
    found[2] = x;
    return true;
  }
  const far = near > t ? near - 1 : near + 1;
  x = k >= 0 ? far / POW10[k] : far * POW10[-k];
  if (far > 0 && Math.fround(x) === v) {
    found[0] = far;
    found[1] = -k;
    found[2] = x;
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
  const e2 = ((bitsView.getUint32(0) >>> 20) & 0x7ff) - 1023;
  let e = Math.floor(e2 * LOG10_2); // v ∈ [2^e2, 2^(e2+1)), so e is the exponent or one too small
  if (e + 1 <= 22 && (e + 1 >= 0 ? v >= POW10[e + 1] : v * POW10[-(e + 1)] >= 1)) e++;
  if (e < -14 || e > 22) return false;
  // the fewest digits that round-trip, by binary search; 9 always do
  let ok = false;
  let lo = 1;
  let hi = 9;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tryDigits(v, e, mid)) {
      hi = mid;
      ok = true;
      shortest.set(found);
    } else {
      lo = mid + 1;
    }
  }
  if (!ok) {
    if (!tryDigits(v, e, 9)) return false;
    shortest.set(found);
  }
  // a candidate rounded up to 10^d ends in zeros
  while (shortest[0] % 10 === 0) {
    shortest[0] /= 10;
    shortest[1]++;
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
  // The winning text D was turned into its double exactly as Number(D) would. No shorter text
  // maps to that double (it would be a shorter float32 answer), and other texts of D's length lie
  // further away, so String() of the double prints exactly D, in toString style.
  return String(negative ? -shortest[2] : shortest[2]);
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
