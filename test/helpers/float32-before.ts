// The float32 text writer as it was before the search reorder and the direct digit writer
// (main at train7, 9b966db: src/io/common/float32-format.ts's binary search over 1..9 digits and
// byte-builder.ts's ByteBuilder), copied verbatim and frozen here so that tests can hold the current writer to
// byte-identical output on millions of values. Do not "fix" this file: it is the reference.

const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const encoder = new TextEncoder();
const LOG10_2 = 0.30102999566398119521;
const bitsView = new DataView(new ArrayBuffer(8));
const shortest = new Float64Array(3);
const found = new Float64Array(3);

function tryDigits(v: number, e: number, d: number): boolean {
  const k = d - 1 - e;
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

function shortestFloat32(v: number): boolean {
  bitsView.setFloat64(0, v);
  const e2 = ((bitsView.getUint32(0) >>> 20) & 0x7ff) - 1023;
  let e = Math.floor(e2 * LOG10_2);
  if (e + 1 <= 22 && (e + 1 >= 0 ? v >= POW10[e + 1] : v * POW10[-(e + 1)] >= 1)) e++;
  if (e < -14 || e > 22) return false;
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
  while (shortest[0] % 10 === 0) {
    shortest[0] /= 10;
    shortest[1]++;
  }
  return true;
}

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
  return String(value);
}

/** formatFloat32 before. */
export function formatFloat32Before(value: number): string {
  if (value !== value) return 'NaN';
  if (value === 0) return '0';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  const negative = value < 0;
  const v = negative ? -value : value;
  if (!shortestFloat32(v)) return slowFormat(value);
  return String(negative ? -shortest[2] : shortest[2]);
}

/** Decimal digits of a non-negative integer below 2^53 (comparisons, not divisions). */
function digitCount(n: number): number {
  let len = 1;
  while (len < 16 && n >= POW10[len]) len++;
  return len;
}

/** ByteBuilder as it was (its float32 and decimal are the writer before). */
export class ByteBuilderBefore {
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
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
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
    let m = n | 0;
    while (m >= 100) {
      const q = (m / 100) | 0;
      const two = m - q * 100;
      buf[--at] = 0x30 + (two % 10);
      buf[--at] = 0x30 + ((two / 10) | 0);
      m = q;
    }
    if (m >= 10) {
      buf[--at] = 0x30 + (m % 10);
      buf[--at] = 0x30 + ((m / 10) | 0);
    } else {
      buf[--at] = 0x30 + m;
    }
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
      this.text(formatFloat32Before(v));
      return;
    }
    const negative = v < 0;
    if (!shortestFloat32(negative ? -v : v)) {
      this.text(formatFloat32Before(v));
      return;
    }
    if (negative) this.byte(0x2d);
    this.decimal(shortest[0], shortest[1]);
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

const builder = new ByteBuilderBefore(64);
const decoder = new TextDecoder();

/** The text ByteBuilder.float32 wrote before for a float32 value. */
export function float32TextBefore(v: number): string {
  builder.reset();
  builder.float32(v);
  return decoder.decode(builder.bytes());
}
