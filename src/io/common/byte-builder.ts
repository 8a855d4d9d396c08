// Output text built straight into bytes: the writers' hot path formats millions of numbers, and
// building JS strings first (then ropes, then flattening, then UTF-8 encoding) costs more than
// the formatting itself. ASCII is copied char by char; other text goes through TextEncoder.

import { formatFloat32, shortest, shortestFloat32 } from './float32-format.ts';

const encoder = new TextEncoder();
const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/** "00", "01", … "99" as byte pairs: two digits per division when writing a number. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 0x30 + (i & 1 ? (i >> 1) % 10 : ((i >> 1) / 10) | 0));

/** The digits of m (0 ≤ m < 2^31) written backwards into buf, ending just before `end`. */
function putDigits(buf: Uint8Array, end: number, m: number): void {
  let at = end;
  while (m >= 100) {
    const q = (m / 100) | 0;
    const pair = (m - q * 100) << 1;
    buf[--at] = DIGIT_PAIRS[pair + 1];
    buf[--at] = DIGIT_PAIRS[pair];
    m = q;
  }
  if (m >= 10) {
    buf[--at] = DIGIT_PAIRS[(m << 1) + 1];
    buf[--at] = DIGIT_PAIRS[m << 1];
  } else {
    buf[--at] = 0x30 + m;
  }
}

/** Decimal digits of a non-negative integer below 2^53 (comparisons, not divisions). */
function digitCount(n: number): number {
  if (n < 1e9) return n < 100000 ? (n < 100 ? (n < 10 ? 1 : 2) : n < 1000 ? 3 : n < 10000 ? 4 : 5) : n < 10000000 ? (n < 1000000 ? 6 : 7) : n < 100000000 ? 8 : 9;
  let len = 10;
  while (len < 16 && n >= POW10[len]) len++;
  return len;
}

export class ByteBuilder {
  buf: Uint8Array;
  pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  /** The bytes so far (a view: valid until the next append or reset). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  append(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    if (n > 16) {
      this.buf.set(bytes, this.pos);
      this.pos += n;
      return;
    }
    // labels, keys, separators: a few bytes, for which a loop beats the call into TypedArray.set
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = bytes[i];
    this.pos = pos;
  }

  /** Any text as UTF-8. */
  text(s: string): void {
    const n = s.length;
    this.ensure(n * 3); // UTF-8 needs at most 3 bytes per UTF-16 unit
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos += encoder.encodeInto(s, buf.subarray(this.pos)).written;
        return;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  /** A non-negative integer below 2^53, in decimal. */
  digits(n: number): void {
    this.ensure(16);
    const len = digitCount(n);
    const buf = this.buf;
    let at = this.pos + len;
    this.pos = at;
    // below 2^31 the division is an integer one; two digits per step halve the divisions
    while (n >= 2147483648) {
      const q = Math.floor(n / 10);
      buf[--at] = 0x30 + (n - q * 10);
      n = q;
    }
    putDigits(buf, at, n | 0);
  }

  /** A finite integer in decimal (String() for magnitudes where doubles skip integers). */
  integer(v: number): void {
    if (v < 0) {
      this.byte(0x2d);
      v = -v;
    }
    if (v <= 9007199254740991) this.digits(v);
    else this.text(String(v));
  }

  /** A float32 value's shortest round-trip text (see float32-format.ts), exactly as formatFloat32. */
  float32(v: number): void {
    if (v === 0 || v !== v || v === Infinity || v === -Infinity) {
      this.text(formatFloat32(v));
      return;
    }
    const negative = v < 0;
    if (!shortestFloat32(negative ? -v : v)) {
      this.text(formatFloat32(v));
      return;
    }
    // shortest[0] < 10^9: at most 9 digits, int arithmetic throughout
    let n = shortest[0] | 0;
    const exp = shortest[1];
    const len = digitCount(n);
    const lead = exp + len - 1; // exponent of the leading digit
    if (exp >= 0) {
      // integers (digits < 10^9 keeps lead < 21 here: no exponent form)
      if (negative) this.byte(0x2d);
      this.decimal(n, exp);
      return;
    }
    this.ensure(len + 10);
    if (negative) this.buf[this.pos++] = 0x2d;
    if (lead < -6) {
      // d[.ddd]e-x (|x| < 1e-6, a sixth of a softmax's outputs): the digits one place right, then
      // the leading one moved before the point; x ≤ 14 in the fast range (two digits at most)
      const buf = this.buf;
      const at = this.pos;
      let pos = at + 1;
      if (len > 1) {
        pos += len;
        putDigits(buf, pos, n);
        buf[at] = buf[at + 1];
        buf[at + 1] = 0x2e;
      } else buf[at] = 0x30 + n;
      buf[pos++] = 0x65;
      buf[pos++] = 0x2d;
      const x = -lead;
      if (x >= 10) {
        buf[pos++] = 0x31;
        buf[pos++] = 0x30 + x - 10;
      } else buf[pos++] = 0x30 + x;
      this.pos = pos;
    } else if (lead >= 0) {
      // ddd.ddd: written from the last digit back, the point after -exp digits
      const buf = this.buf;
      let at = this.pos + len + 1;
      this.pos = at;
      for (let i = exp; i < 0; i++) {
        const q = (n / 10) | 0;
        buf[--at] = 0x30 + (n - q * 10);
        n = q;
      }
      buf[--at] = 0x2e;
      while (n >= 10) {
        const q = (n / 10) | 0;
        buf[--at] = 0x30 + (n - q * 10);
        n = q;
      }
      buf[--at] = 0x30 + n;
    } else {
      // 0.000ddd (probabilities): at most 5 zeros after the point, room ensured above
      const buf = this.buf;
      let pos = this.pos;
      buf[pos++] = 0x30;
      buf[pos++] = 0x2e;
      for (let i = -lead - 1; i > 0; i--) buf[pos++] = 0x30;
      pos += len;
      putDigits(buf, pos, n);
      this.pos = pos;
    }
  }

  /** digits·10^exp (digits without trailing zeros) in the style of Number.prototype.toString. */
  decimal(digits: number, exp: number): void {
    const n = digitCount(digits);
    const lead = exp + n - 1; // exponent of the leading digit
    this.ensure(n + 32);
    if (lead >= 21 || lead < -6) {
      // d[.ddd]e±x
      const start = this.pos;
      this.digits(digits);
      if (n > 1) {
        this.buf.copyWithin(start + 2, start + 1, start + n);
        this.buf[start + 1] = 0x2e;
        this.pos++;
      }
      this.byte(0x65);
      this.byte(lead >= 0 ? 0x2b : 0x2d);
      this.digits(Math.abs(lead));
    } else if (exp >= 0) {
      this.digits(digits);
      for (let i = 0; i < exp; i++) this.buf[this.pos++] = 0x30;
    } else if (lead >= 0) {
      // ddd.ddd: the point goes after lead + 1 digits
      const start = this.pos;
      this.digits(digits);
      const at = start + lead + 1;
      this.buf.copyWithin(at + 1, at, start + n);
      this.buf[at] = 0x2e;
      this.pos++;
    } else {
      // 0.000ddd
      this.buf[this.pos++] = 0x30;
      this.buf[this.pos++] = 0x2e;
      for (let i = 0; i < -lead - 1; i++) this.buf[this.pos++] = 0x30;
      this.digits(digits);
    }
  }
}
