// Shortest decimal text for a float32: the fewest significant digits d (1 ≤ d ≤ 9) such that
// Math.fround(Number(text)) === value, and among those the one nearest the value. Formatted
// like Number.prototype.toString (plain for 1e-7 ≤ |x| < 1e21, exponent form otherwise).
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

// the double of the last candidate that round-tripped; a typed array, because a double stored in
// a module-level `let` is boxed (one allocation per store)
const found = new Float64Array(1);

/** Try the d-digit candidates for v (> 0) whose leading digit is at 10^e; sets found[0] on success. */
function tryDigits(v: number, e: number, d: number): boolean {
  const k = d - 1 - e; // t = v·10^k has d digits before the point
  const t = k >= 0 ? v * POW10[k] : v / POW10[-k];
  const near = Math.round(t);
  const far = near > t ? near - 1 : near + 1;
  let x = k >= 0 ? near / POW10[k] : near * POW10[-k];
  if (Math.fround(x) === v) {
    found[0] = x;
    return true;
  }
  x = k >= 0 ? far / POW10[k] : far * POW10[-k];
  if (far > 0 && Math.fround(x) === v) {
    found[0] = x;
    return true;
  }
  return false;
}

/** Shortest round-tripping decimal text of a float32 value (given as a number). */
export function formatFloat32(value: number): string {
  if (value !== value) return 'NaN';
  if (value === 0) return '0';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  const negative = value < 0;
  const v = negative ? -value : value;
  // decimal exponent of the leading digit, from the binary exponent (log10 costs more)
  bitsView.setFloat64(0, v);
  const e2 = ((bitsView.getUint32(0) >>> 20) & 0x7ff) - 1023;
  let e = Math.floor(e2 * LOG10_2); // v ∈ [2^e2, 2^(e2+1)), so e is the exponent or one too small
  if (e + 1 <= 22 && (e + 1 >= 0 ? v >= POW10[e + 1] : v * POW10[-(e + 1)] >= 1)) e++;
  if (e < -14 || e > 22) return slowFormat(value);
  // find the fewest digits that round-trip; 9 always do
  let best = NaN;
  let lo = 1;
  let hi = 9;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tryDigits(v, e, mid)) {
      hi = mid;
      best = found[0];
    } else {
      lo = mid + 1;
    }
  }
  if (best !== best) {
    if (!tryDigits(v, e, 9)) return slowFormat(value);
    best = found[0];
  }
  // The winning text D (d digits) was turned into its double exactly as Number(D) would. No
  // shorter text maps to that double (it would be a shorter float32 answer), and other d-digit
  // texts lie ≥ 10^-k away, so String() of the double prints exactly D, in toString style.
  return String(negative ? -best : best);
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
