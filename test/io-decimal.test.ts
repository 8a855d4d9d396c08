// The byte-level float parser must return exactly what Number(text) returns for every text in its
// grammar (property tests over random, edge and near-halfway texts), and NaN for everything else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDecimal, parseDecimalText } from '../src/io/common/decimal.ts';
import { scanFloats } from '../src/io/common/floatscan.ts';
import { prng } from './helpers/io-helpers.ts';

const enc = new TextEncoder();
const parse = (text: string): number => {
  // embed in a larger buffer so start/end offsets are exercised too
  const bytes = enc.encode(`,${text};`);
  return parseDecimal(bytes, 1, bytes.length - 1);
};

function assertSame(text: string): void {
  const got = parse(text);
  const want = Number(text);
  assert.ok(Object.is(got, want), `parseDecimal(${JSON.stringify(text)}) = ${got}, Number() = ${want}`);
  assert.ok(Object.is(parseDecimalText(text), want), `parseDecimalText(${JSON.stringify(text)})`);
}

function randomDecimal(rnd: () => number): string {
  const digits = 1 + Math.floor(rnd() ** 2 * 30);
  let m = '';
  for (let i = 0; i < digits; i++) m += String(Math.floor(rnd() * 10));
  if (rnd() < 0.2) m = '0'.repeat(Math.floor(rnd() * 5)) + m;
  if (rnd() < 0.2) m += '0'.repeat(Math.floor(rnd() * 5));
  const point = Math.floor(rnd() * (m.length + 1));
  let text = rnd() < 0.6 ? `${m.slice(0, point)}.${m.slice(point)}` : m;
  if (text === '.') text = '0.';
  if (rnd() < 0.5) {
    const e = Math.floor((rnd() - 0.5) * (rnd() < 0.3 ? 700 : 50));
    text += `${rnd() < 0.5 ? 'e' : 'E'}${e >= 0 && rnd() < 0.3 ? '+' : ''}${e}`;
  }
  const sign = rnd();
  return sign < 0.3 ? `-${text}` : sign < 0.35 ? `+${text}` : text;
}

test('decimal: random texts parse exactly like Number()', () => {
  const rnd = prng(20240611);
  for (let i = 0; i < 100_000; i++) assertSame(randomDecimal(rnd));
});

test('decimal: shortest texts of random doubles (what String() and Python write) round-trip', () => {
  const rnd = prng(7);
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  for (let i = 0; i < 40_000; i++) {
    words[0] = Math.floor(rnd() * 2 ** 32);
    words[1] = Math.floor(rnd() * 2 ** 32);
    const x = bits[0];
    if (!Number.isFinite(x)) continue;
    assertSame(String(x));
    assertSame(x.toExponential(16));
    assertSame(x.toPrecision(1 + Math.floor(rnd() * 21)));
    assertSame(String(rnd() * 10 ** Math.floor(rnd() * 20 - 10)));
  }
});

/** x = M·2^E exactly, with M a 53-bit integer. */
function decompose(x: number): { M: bigint; E: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const exp = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  return exp === 0 ? { M: frac, E: -1074 } : { M: frac | (1n << 52n), E: exp - 1075 };
}

/** The exact decimal text of (2M+1)·2^(E-1): the point halfway between x and the next double up. */
function halfwayText(x: number): string {
  const { M, E } = decompose(x);
  const n = 2n * M + 1n;
  const e = E - 1;
  return e >= 0 ? (n << BigInt(e)).toString() : `${(n * 5n ** BigInt(-e)).toString()}e${e}`;
}

test('decimal: texts at and near the halfway point between two doubles round like Number()', () => {
  const rnd = prng(99);
  const cases = [1, 0.1, 1e22, 1e23, 2 ** 53, 9007199254740993, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308];
  for (let i = 0; i < 3000; i++) cases.push(rnd() * 10 ** Math.floor(rnd() * 40 - 20));
  for (const x of cases) {
    const half = halfwayText(x);
    assertSame(half);
    const [digits, exp = '0'] = half.split('e');
    // the halfway point cut to 16–20 significant digits, then nudged up and down by one unit
    for (const keep of [16, 17, 18, 19, 20]) {
      if (digits.length <= keep) continue;
      const cut = digits.slice(0, keep);
      const e = Number(exp) + digits.length - keep;
      assertSame(`${cut}e${e}`);
      assertSame(`${(BigInt(cut) + 1n).toString()}e${e}`);
      assertSame(`${(BigInt(cut) - 1n).toString()}e${e}`);
    }
  }
});

/** a⁻¹ mod 2^t for odd a (Newton iteration doubles the correct bits each step). */
function inverseMod2(a: bigint, t: bigint): bigint {
  const mod = 1n << t;
  let x = a % mod;
  for (let i = 0; i < 7; i++) x = (x * (2n - a * x)) % mod;
  return ((x % mod) + mod) % mod;
}

test('decimal: 16–19 digit texts within 2^-100 of a tie between two doubles still round like Number()', () => {
  // m·10^-k − odd/2^(t+k) = ±1/(5^k·2^(t+k)) when m·2^t − odd·5^k = ±1: a text a hair off the
  // midpoint odd/2^(t+k) of two adjacent doubles (odd has 54 bits), closer than double-double
  // arithmetic can resolve, so the parser must notice and fall back.
  let made = 0;
  for (let k = 20n; k <= 44n; k++) {
    const five = 5n ** k;
    for (let t = 40n; t <= 130n; t++) {
      const mod = 1n << t;
      for (const sign of [1n, -1n]) {
        let odd = ((-sign * inverseMod2(five, t)) % mod + mod) % mod; // odd·5^k ≡ −sign (mod 2^t)
        while (odd < 1n << 53n) odd += mod;
        if (odd >= 1n << 54n) continue;
        const m = (odd * five + sign) / mod;
        assert.equal(m * mod - odd * five, sign);
        const text = `${m}e-${k}`;
        if (m.toString().length < 16 || m.toString().length > 19) continue;
        assertSame(text);
        made++;
      }
    }
  }
  assert.ok(made > 50, `only ${made} near-tie texts were constructed`);
});

test('decimal: edge texts', () => {
  for (const t of [
    '0', '-0', '+0', '0.0', '-0.0e5', '0e999999999', '00000', '000123', '1e309', '-1e309', '1e308', '1.7976931348623157e308', '1.7976931348623158e308',
    '1.7976931348623159e308', '4.9e-324', '5e-324', '2.4703282292062327e-324', '2.4703282292062328e-324', '1e-400', '2.2250738585072011e-308',
    '2.2250738585072014e-308', '9007199254740993', '9007199254740992', '123456789012345', '1234567890123456', '12345678901234567890',
    '0.1', '.5', '5.', '-.5', '+.5e-3', '1E5', '1e+5', '1e-5', '1e22', '1e23', '123456789e14', '8.98846567431158e307', '3.0e-0',
    `0.${'0'.repeat(400)}1`, `${'9'.repeat(400)}`, `1${'0'.repeat(308)}`, ' 1.5', '1.5 ', '\t-2\t', '  7  ',
  ]) assertSame(t);
});

test('decimal: texts outside the grammar are NaN (even where Number() would accept them)', () => {
  for (const t of ['', ' ', '.', '-', '+', 'e5', '.e5', '1e', '1e+', '1e-', '--1', '+-1', '1.2.3', '1..2', '0x10', '0b1', '0o7', 'Infinity', '-Infinity',
    'inf', 'NaN', 'nan', '1_000', '1,5', '1 2', '١', '１', '1e5.5', 'abc', '1a', 'a1', '"1"', '1\n']) {
    assert.ok(Number.isNaN(parse(t)), `parseDecimal(${JSON.stringify(t)}) should be NaN, got ${parse(t)}`);
    assert.ok(Number.isNaN(parseDecimalText(t)), `parseDecimalText(${JSON.stringify(t)}) should be NaN`);
  }
});

test('floatscan baseline: sums every field of numeric CSV', () => {
  const text = 'a,b,c\n1,2.5,-3e1\r\n0.25,4,5\n';
  const r = scanFloats(enc.encode(text), 0x2c, true);
  assert.equal(r.fields, 6);
  assert.equal(r.lines, 2);
  assert.equal(r.sum, 1 + 2.5 - 30 + 0.25 + 4 + 5);
  assert.notEqual(scanFloats(enc.encode(text), 0x2c, false).fields, 6, 'without skipping, the header is scanned as fields');
});
