// Exact sums of doubles as integers in units of 2^-1074 (the smallest subnormal), held in a BigInt.
// Every finite double is an integer multiple of 2^-1074, so adding them this way never rounds:
// addition is associative and commutative, and the representation is unique. That is what makes
// merged statistics identical whatever the order of the merge (floating-point sums, Chan's merge
// included, are not). BigInt work happens only when a shard is merged or serialised, never per value.

const SCALE_EXP = 1074;
const view = new DataView(new ArrayBuffer(8));

/** The exact value of a finite double, in units of 2^-1074. */
export function exactFromDouble(x: number): bigint {
  if (!Number.isFinite(x)) throw new RangeError(`cannot sum a non-finite value exactly (${x})`);
  if (x === 0) return 0n;
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  // normal: (2^52 + frac) · 2^(exp-1075) = (2^52 + frac) · 2^(exp-1) units; subnormal: frac units
  if (exp !== 0) mant = (mant | (1n << 52n)) << BigInt(exp - 1);
  return hi >>> 31 ? -mant : mant;
}

/** Correctly rounded double of m · 2^exp2 (round half to even, via a sticky bit). */
export function dyadicToDouble(m: bigint, exp2: number): number {
  if (m === 0n) return 0;
  const neg = m < 0n;
  let a = neg ? -m : m;
  const bits = a.toString(16).length * 4; // upper bound on the bit length, within 3
  let shift = bits - 64;
  if (shift > 0) {
    const sticky = (a & ((1n << BigInt(shift)) - 1n)) !== 0n;
    a >>= BigInt(shift);
    if (sticky) a |= 1n; // below the rounding bit: keeps "exactly half" distinguishable from "more"
  } else {
    shift = 0;
  }
  let e = exp2 + shift;
  let r = Number(a); // exact rounding of a <= 64-bit integer
  while (e > 600) { r *= 2 ** 600; e -= 600; }
  while (e < -600) { r *= 2 ** -600; e += 600; }
  r *= 2 ** e;
  return neg ? -r : r;
}

export const exactToDouble = (units: bigint): number => dyadicToDouble(units, -SCALE_EXP);

/** Compact, canonical text: hex mantissa (odd or 0) and a binary exponent, e.g. "-1b3p-1040". */
export function exactToString(units: bigint): string {
  if (units === 0n) return '0';
  const neg = units < 0n;
  // trailing zero hex digits from the text (a sum of doubles has hundreds of zero bits: one shift
  // per 16 of them cost ~3× more per checkpoint), then the last 0–3 zero bits
  const hex = (neg ? -units : units).toString(16);
  let digits = hex.length;
  while (hex.charCodeAt(digits - 1) === 48 /* '0' */) digits--;
  let a = BigInt(`0x${hex.slice(0, digits)}`);
  let e = -SCALE_EXP + 4 * (hex.length - digits);
  while ((a & 1n) === 0n) { a >>= 1n; e += 1; }
  return `${neg ? '-' : ''}${a.toString(16)}p${e}`;
}

export function exactFromString(s: string): bigint {
  if (s === '0') return 0n;
  const m = /^(-?)([0-9a-f]+)p(-?\d+)$/.exec(s);
  if (!m) throw new RangeError(`not an exact sum: "${s}"`);
  const e = Number(m[3]) + SCALE_EXP;
  if (e < 0 || e > 4096) throw new RangeError(`exact sum out of range: "${s}"`);
  const a = BigInt(`0x${m[2]}`) << BigInt(e);
  return m[1] ? -a : a;
}

/**
 * Error-free transformation a + b = s + err (Knuth's TwoSum). The per-batch float sums are folded
 * into a double-double with it, so what reaches the exact accumulator has ~106 bits.
 */
export function twoSum(a: number, b: number): [number, number] {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}
