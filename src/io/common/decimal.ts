// Decimal number text → double, straight from UTF-8 bytes, returning exactly what `Number(text)`
// returns for the texts it accepts. Accepted grammar (a strict subset of what Number() takes):
//
//   [spaces/tabs] [+|-] digits [. digits] [(e|E) [+|-] digits] [spaces/tabs]
//   (at least one mantissa digit, on either side of the point: "5.", ".5" are fine)
//
// Everything else (hex, "Infinity", "1_000", "") returns NaN, which callers treat as unparsable.
// Fast path (Clinger 1990): a mantissa below 2^53 is an exact double, and so is 10^k for k ≤ 22,
// so one IEEE multiply or divide gives the correctly rounded result.
// Second path, for the 16–19 digit texts that String() and Python's repr write: the mantissa is
// held exactly as a double-double, scaled by 10^k in double-double arithmetic (error < 2^-100
// relative), and rounded; if the exact value could lie within that error of a rounding boundary
// (a tie between two doubles), the result is not trusted. Everything else, and those rare
// near-ties, fall back to Number() on the text.

/** Exact powers of ten representable as doubles. */
const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const MAX_EXACT = 9007199254740991; // 2^53 - 1: every integer up to here is a double

/**
 * Longest number text parsed. The exact decimal expansion of any double fits (at most 767
 * significant digits, 1,100 characters with a subnormal's leading zeros); a longer cell is
 * refused at once, so one 100 MB digit string costs a scan, not minutes and gigabytes.
 */
export const MAX_NUMBER_CHARS = 4096;

export const SPACE = 0x20;
export const TAB = 0x09;

/** One reused array per short length: String.fromCharCode.apply over it builds a string at once. */
const CHAR_CODES: number[][] = Array.from({ length: 33 }, (_, n) => new Array<number>(n).fill(0));

/**
 * The bytes as a string, one char per byte: callers only pass ASCII (already validated). Short
 * texts (ids, categories, markers: ≤ 32 bytes) are built in one call from a reused array of char
 * codes — about twice as fast as appending char by char, which makes a string per char.
 */
export function asciiText(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 32) {
    const codes = CHAR_CODES[n];
    for (let i = 0; i < n; i++) codes[i] = bytes[start + i];
    return String.fromCharCode.apply(null, codes);
  }
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/**
 * The value scanDecimal found. A typed array rather than a return value: a double returned from
 * a call that V8 does not inline is boxed (a heap allocation per number), an element store is not.
 */
export const scanned = new Float64Array(1);

/**
 * Scan a decimal literal without spaces — [+|-] digits [. digits] [(e|E) [+|-] digits] — starting
 * at bytes[p], stopping at the first byte that cannot continue it (or at `end`). scanned[0] is set
 * to the value (exactly Number() of the scanned text), or NaN when what was scanned is not a
 * complete literal (no digits, or an exponent without digits). Returns the stop position when the
 * value is finite, and -(stop + 1) when it is not (NaN, or ±Infinity on overflow), so that callers
 * branch on an integer instead of waiting for the division that produces the value.
 * The CSV decoder and the benchmark baseline call this in their field loops.
 */
export function scanDecimal(bytes: Uint8Array, p: number, end: number): number {
  // Small enough for V8 to inline into the callers' field loops; the common case — no exponent,
  // a mantissa below 2^53, at most 22 digits after the point — finishes here.
  const start = p;
  let c = p < end ? bytes[p] : 0;
  let negative = false;
  if (c === 0x2d) { negative = true; p++; } else if (c === 0x2b) p++;
  let mantissa = 0; // exact while below 2^53 (each step's true value is smaller than the last's)
  const intStart = p;
  while (p < end) {
    c = bytes[p] - 0x30;
    if (c < 0 || c > 9) break;
    mantissa = mantissa * 10 + c;
    p++;
  }
  let digits = p - intStart;
  let fraction = 0;
  if (p < end && bytes[p] === 0x2e) {
    p++;
    const fracStart = p;
    while (p < end) {
      c = bytes[p] - 0x30;
      if (c < 0 || c > 9) break;
      mantissa = mantissa * 10 + c;
      p++;
    }
    fraction = p - fracStart;
    digits += fraction;
  }
  if (digits === 0 || mantissa > MAX_EXACT || fraction > 22 || (p < end && (bytes[p] | 0x20) === 0x65)) {
    return scanDecimalRest(bytes, start, p, end, negative, mantissa, fraction, digits);
  }
  const value = mantissa / POW10[fraction]; // both exact: one correctly rounded division (Clinger)
  scanned[0] = negative ? -value : value;
  return p;
}

/** scanDecimal past the fast path: an exponent, a long mantissa, or no digits at all. */
function scanDecimalRest(bytes: Uint8Array, start: number, p: number, end: number, negative: boolean, mantissa: number, fraction: number, digits: number): number {
  if (digits === 0 || p - start > MAX_NUMBER_CHARS) {
    scanned[0] = NaN;
    return -p - 1;
  }
  let exponent = -fraction;
  if (p < end && (bytes[p] | 0x20) === 0x65) {
    p++;
    let expNegative = false;
    if (p < end && (bytes[p] === 0x2d || bytes[p] === 0x2b)) { expNegative = bytes[p] === 0x2d; p++; }
    const expStart = p;
    let e = 0;
    while (p < end) {
      const c = bytes[p] - 0x30;
      if (c < 0 || c > 9) break;
      if (e < 1e8) e = e * 10 + c; // beyond this the result is 0 or Infinity anyway
      p++;
    }
    if (p === expStart) {
      scanned[0] = NaN;
      return -p - 1;
    }
    exponent += expNegative ? -e : e;
  }
  let value: number;
  if (mantissa === 0) value = 0; // all digits zero (a rounded mantissa is never 0)
  else if (mantissa <= MAX_EXACT && exponent >= -22 && exponent <= 22) {
    value = exponent >= 0 ? mantissa * POW10[exponent] : mantissa / POW10[-exponent];
  } else if (mantissa <= MAX_EXACT && exponent > 22 && exponent <= 44 && mantissa * POW10[exponent - 22] <= MAX_EXACT) {
    // mantissa·10^(exponent-22) is still an exact integer below 2^53; one rounding remains
    value = mantissa * POW10[exponent - 22] * 1e22;
  } else {
    value = longDecimal(exponent, bytes, start, p);
  }
  if (negative) value = -value;
  scanned[0] = value;
  return value - value === 0 ? p : -p - 1;
}

/**
 * Parse bytes[start, end) as a decimal number. Returns NaN when the text is not a decimal literal
 * (see the grammar above); otherwise the same double as Number(text), including -0 and ±Infinity
 * on overflow ("1e309").
 */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  let p = start;
  while (p < end && (bytes[p] === SPACE || bytes[p] === TAB)) p++;
  while (end > p && (bytes[end - 1] === SPACE || bytes[end - 1] === TAB)) end--;
  if (p === end || end - p > MAX_NUMBER_CHARS) return NaN;
  const stop = scanDecimal(bytes, p, end);
  return (stop < 0 ? -stop - 1 : stop) === end ? scanned[0] : NaN;
}

// ---- double-double arithmetic (Dekker, Knuth) ----
// Results go to a typed array: a double stored in a module-level `let` is boxed (one heap
// allocation per store), a typed-array element is not.

const SPLITTER = 134217729; // 2^27 + 1
const dd = new Float64Array(2); // [high, low]

/** ddHi + ddLo = a × b exactly. */
function twoProduct(a: number, b: number): void {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  dd[0] = p;
  dd[1] = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** (hi, lo) × b, b an exact power of ten. */
function ddTimes(hi: number, lo: number, b: number): void {
  twoProduct(hi, b);
  const h = dd[0];
  const l = dd[1] + lo * b;
  const sum = h + l;
  dd[0] = sum;
  dd[1] = l - (sum - h);
}

/** (hi, lo) ÷ b, b an exact power of ten. */
function ddDivide(hi: number, lo: number, b: number): void {
  const q1 = hi / b;
  twoProduct(q1, b);
  const q2 = ((hi - dd[0]) - dd[1] + lo) / b;
  const sum = q1 + q2;
  dd[0] = sum;
  dd[1] = q2 - (sum - q1);
}

const bitsView = new DataView(new ArrayBuffer(8));
const TRUST = 2 ** -90; // far above the double-double error, far below a double's half-ulp (2^-53)

/**
 * |value| of the text bytes[start, end) — digits with a point and exponent, value = (its digits
 * as an integer) × 10^exponent — for 16–19 significant digits and |exponent| ≤ 44 in
 * double-double arithmetic (see the header); Number() on the text for anything else.
 */
function longDecimal(exponent: number, bytes: Uint8Array, start: number, end: number): number {
  // the digits, exactly: the first 15 significant ones in `high`, the rest in `low`
  let high = 0;
  let low = 0;
  let lowDigits = 0;
  let seen = 0;
  for (let p = start; p < end; p++) {
    const c = bytes[p] - 0x30;
    if (c === 0x65 - 0x30 || c === 0x45 - 0x30) break;
    if (c < 0 || c > 9) continue; // sign, point
    if (seen === 0 && c === 0) continue; // leading zeros
    if (seen < 15) high = high * 10 + c;
    else { low = low * 10 + c; lowDigits++; }
    seen++;
  }
  if (seen > 19 || exponent < -44 || exponent > 44) return Math.abs(Number(asciiText(bytes, start, end)));
  if (lowDigits > 0) {
    // high·10^lowDigits + low as an exact double-double
    twoProduct(high, POW10[lowDigits]);
    const p = dd[0];
    const pe = dd[1];
    const s = p + low;
    const bb = s - p;
    const se = (p - (s - bb)) + (low - bb);
    const rest = se + pe; // both are integers below 2^12: exact
    const sum = s + rest;
    dd[0] = sum;
    dd[1] = rest - (sum - s);
  } else {
    dd[0] = high;
    dd[1] = 0;
  }
  let k = exponent;
  if (k > 22) { ddTimes(dd[0], dd[1], 1e22); k -= 22; }
  if (k < -22) { ddDivide(dd[0], dd[1], 1e22); k += 22; }
  if (k > 0) ddTimes(dd[0], dd[1], POW10[k]);
  else if (k < 0) ddDivide(dd[0], dd[1], POW10[-k]);
  // round to a double; trust it only if no rounding boundary lies within the error bound
  const hi = dd[0];
  const lo = dd[1];
  const y = hi + lo;
  const bb = y - hi;
  const d = (hi - (y - bb)) + (lo - bb);
  bitsView.setFloat64(0, y);
  const hiWord = bitsView.getUint32(0);
  const expField = (hiWord >>> 20) & 0x7ff;
  if ((hiWord & 0xfffff) === 0 && bitsView.getUint32(4) === 0) return Math.abs(Number(asciiText(bytes, start, end))); // power of two: uneven spacing
  bitsView.setUint32(0, (expField - 53) << 20);
  bitsView.setUint32(4, 0);
  const halfUlp = bitsView.getFloat64(0);
  if (halfUlp - Math.abs(d) > y * TRUST) return y;
  return Math.abs(Number(asciiText(bytes, start, end)));
}

const DECIMAL_TEXT = /^[ \t]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t]*$/;

/** parseDecimal for a JS string (JSONL and Parquet string cells): same grammar, same result. */
export function parseDecimalText(text: string): number {
  return text.length <= MAX_NUMBER_CHARS && DECIMAL_TEXT.test(text) ? Number(text) : NaN;
}
