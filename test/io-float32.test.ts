// float32 output text: the fewest significant digits that read back to the same float32, the
// nearest such text, in Number.prototype.toString style.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBuilder } from '../src/io/common/byte-builder.ts';
import { formatFloat32 } from '../src/io/common/float32-format.ts';
import { ByteBuilderBefore, float32TextBefore, formatFloat32Before } from './helpers/float32-before.ts';
import { prng } from './helpers/io-helpers.ts';

/** Reference by brute force: for 1..9 digits, the nearest d-digit decimal and its neighbours. */
function reference(v: number): number {
  const a = Math.abs(v);
  for (let d = 1; d <= 9; d++) {
    const [m, e] = a.toExponential(d - 1).split('e');
    const n = Number(m.replace('.', ''));
    const q = Number(e) - (d - 1);
    for (const c of [n, n - 1, n + 1]) {
      const x = Number(`${c}e${q}`);
      if (c > 0 && Math.fround(x) === a) return v < 0 ? -x : x;
    }
  }
  throw new Error(`no decimal for ${v}`);
}

const significantDigits = (text: string): number => text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;

function check(v: number): void {
  const text = formatFloat32(v);
  assert.equal(Math.fround(Number(text)), v, `${text} does not read back as ${v}`);
  const ref = reference(v);
  assert.equal(significantDigits(text), significantDigits(String(ref)), `${v}: ${text} is not the shortest (${ref})`);
  assert.equal(Number(text), ref, `${v}: ${text} is not the nearest shortest text (${ref})`);
  assert.equal(text, String(Number(text)), `${text} is not in toString style`);
  // the writers format straight into bytes: the same text
  builder.reset();
  builder.float32(v);
  assert.equal(decoder.decode(builder.bytes()), text, `byte writer differs for ${v}`);
}

const builder = new ByteBuilder(16);
const decoder = new TextDecoder();

test('float32: random bit patterns, probabilities and scaled values give the shortest round-trip text', () => {
  const rnd = prng(2024);
  const bits = new Uint32Array(1);
  const f32 = new Float32Array(bits.buffer);
  for (let i = 0; i < 30_000; i++) {
    bits[0] = Math.floor(rnd() * 2 ** 32);
    if (Number.isFinite(f32[0]) && f32[0] !== 0) check(f32[0]);
    check(Math.fround(rnd()));
    check(Math.fround((rnd() - 0.5) * 10 ** Math.floor(rnd() * 12 - 4)));
    check(Math.fround(Math.round(rnd() * 1e5) / 1e3));
  }
});

test('float32: edges: powers of two and ten, extremes, subnormals, integers', () => {
  const bits = new Uint32Array(1);
  const f32 = new Float32Array(bits.buffer);
  const values = [0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1, 16777216, 16777218, 3.4028234663852886e38, 1.1754943508222875e-38, 1.401298464324817e-45, 2.802596928649634e-45, 1e-7, 1e-6, 9.999999e20, 1e21, 123456789];
  for (let b = -149; b <= 127; b++) {
    const p = Math.fround(2 ** b);
    values.push(p);
    f32[0] = p;
    bits[0] += 1;
    values.push(f32[0]);
    bits[0] -= 2;
    if (f32[0] > 0) values.push(f32[0]);
  }
  for (let e = -45; e <= 38; e++) for (const m of [1, 1.5, 9.999999, 1.0000001]) values.push(Math.fround(m * 10 ** e));
  for (const raw of values) {
    const v = Math.fround(raw);
    if (!Number.isFinite(v) || v === 0) continue;
    check(v);
    check(-v);
  }
});

test('byte builder: integers, text and decimals as toString writes them', () => {
  const b = new ByteBuilder(4);
  for (const v of [0, 7, 10, 99, 100, 12345, 2147483647, 2147483648, 9007199254740991, -1, -2147483648, 1e21, -1e300]) {
    b.reset();
    b.integer(v);
    assert.equal(decoder.decode(b.bytes()), String(v));
  }
  b.reset();
  b.text('plain, Ä😀 "q"\n');
  assert.equal(decoder.decode(b.bytes()), 'plain, Ä😀 "q"\n');
  for (const [digits, exp] of [[1, 0], [15, -1], [123, -5], [123, -7], [123, -9], [1, 20], [1, 21], [12, 19], [5, -7], [5, -6], [123456789, -4]]) {
    b.reset();
    b.decimal(digits, exp);
    assert.equal(decoder.decode(b.bytes()), String(Number(`${digits}e${exp}`)), `${digits}e${exp}`);
  }
});

test('float32: zero, NaN and infinities', () => {
  assert.equal(formatFloat32(0), '0');
  assert.equal(formatFloat32(-0), '0');
  assert.equal(formatFloat32(NaN), 'NaN');
  assert.equal(formatFloat32(Infinity), 'Infinity');
  assert.equal(formatFloat32(-Infinity), '-Infinity');
  assert.equal(formatFloat32(Math.fround(0.1)), '0.1');
  assert.equal(formatFloat32(Math.fround(-2.5e-7)), '-2.5e-7');
  assert.equal(formatFloat32(Math.fround(3.4028234663852886e38)), '3.4028235e+38');
});

test('float32: a number that is not a float32 is written as String() writes it', () => {
  // the fast path reads the value's float32 bits; a double would be read as its float32 rounding
  for (const v of [1 / 3, -1 / 3, 0.1, 1e-10 / 3, 123456.789, 2 ** 60 + 2 ** 10]) assert.equal(formatFloat32(v), String(v));
});

/**
 * The writer must keep every output file byte for byte what it was (resumed jobs append to files
 * written before an upgrade; logs and exports are compared by bytes): the current code against the
 * frozen writer from before the search reorder and the division-free checks
 * (helpers/float32-before.ts) on millions of values. `node scripts/float32-exhaustive.ts` runs the
 * same comparison over every positive float32.
 */
test('float32: byte-identical to the writer before the search reorder, on millions of values', () => {
  const now = new ByteBuilder(64);
  const before = new ByteBuilderBefore(64);
  let values = 0;
  const differ: string[] = [];
  const same = (v: number) => {
    values++;
    now.reset();
    before.reset();
    now.float32(v);
    before.float32(v);
    let equal = now.pos === before.pos;
    for (let i = 0; equal && i < now.pos; i++) equal = now.buf[i] === before.buf[i];
    // formatFloat32 (single records) on a sample: it shares the search, and String() is slow
    if (!equal || (values & 15) === 0 && formatFloat32(v) !== formatFloat32Before(v)) {
      if (differ.length < 5) differ.push(`${v}: writer "${decoder.decode(now.bytes())}" (before "${float32TextBefore(v)}"), formatFloat32 "${formatFloat32(v)}" (before "${formatFloat32Before(v)}")`);
      else differ.length++;
    }
  };
  const bits = new Uint32Array(1);
  const f32 = new Float32Array(bits.buffer);
  const rnd = prng(13);
  // 1M random bit patterns with exponents 1e-15…1e23 (the digit search), 50k over all patterns
  // (subnormals, NaN payloads, infinities, the toPrecision path), both signs
  for (let i = 0; i < 1_000_000; i++) {
    bits[0] = ((rnd() < 0.5 ? 0x80000000 : 0) | ((77 + Math.floor(rnd() * 132)) << 23) | Math.floor(rnd() * 0x800000)) >>> 0;
    same(f32[0]);
  }
  for (let i = 0; i < 50_000; i++) {
    bits[0] = Math.floor(rnd() * 2 ** 32);
    same(f32[0]);
  }
  // 1M probabilities and softmax-like outputs: what the writer formats most
  for (let i = 0; i < 500_000; i++) {
    same(Math.fround(rnd()));
    same(Math.fround(Math.exp(-40 * rnd())));
  }
  // every float32 in windows around each power of ten and each power of two (±600 steps): where
  // the digit count changes, the decimal exponent estimate is one off and the rounding interval
  // is uneven
  const around = (center: number) => {
    f32[0] = center;
    const mid = bits[0];
    for (let d = -600; d <= 600; d++) {
      bits[0] = mid + d;
      same(f32[0]);
    }
  };
  for (let e = -45; e <= 38; e++) around(Math.fround(10 ** e));
  for (let e = -126; e <= 127; e++) around(Math.fround(2 ** e));
  // every subnormal below 2^-140, the smallest normals, the largest finite values; zeros, NaN,
  // infinities
  for (let i = 0; i < 512; i++) {
    bits[0] = i;
    same(f32[0]);
    bits[0] = 0x00800000 + i;
    same(f32[0]);
    bits[0] = 0x7f7fffff - i;
    same(f32[0]);
  }
  for (const v of [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.5, 1e21, 1e-7, 9.999999e-7, 1e-6, 1e20, 123456789, 16777216]) same(Math.fround(v));
  // 9.2578567e-14: its 8-digit candidate lies within the slack of its rounding interval's end, so
  // only the exact check decides it (found by scripts/float32-exhaustive.ts with that check off)
  bits[0] = 0x29d077e9;
  same(f32[0]);
  same(-f32[0]);
  // values whose shortest text has 1..9 digits, from decimal texts of each length, and the
  // float32 either side of each (their texts sit at a rounding interval's end)
  for (let i = 0; i < 100_000; i++) {
    const digits = 1 + Math.floor(rnd() * 9);
    const n = Math.floor(10 ** (digits - 1) + rnd() * 9 * 10 ** (digits - 1));
    f32[0] = Number(`${n}e${Math.floor(rnd() * 60) - 40}`);
    same(f32[0]);
    bits[0]++;
    same(f32[0]);
    bits[0] -= 2;
    same(f32[0]);
  }
  assert.ok(values > 2_700_000);
  assert.equal(differ.length, 0, `${differ.length} of ${values} values differ, e.g.\n${differ.slice(0, 5).join('\n')}`);
});
