// readOutputs (src/scoring/common/outputs.ts) against the plain per-element reading it replaced:
// probabilities de-interleaved per class and int64 labels read without a BigInt per row must give
// the same columns, bit for bit, including labels that do not fit 32 bits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Card } from '../src/package/common/card.ts';
import { readOutputs } from '../src/scoring/common/outputs.ts';
import type { Feed } from '../src/scoring/common/validate.ts';

/** The reading before: one element at a time, `Number(bigint)` per label. */
function reference(p: Float32Array | Float64Array | undefined, label: BigInt64Array | Int32Array | undefined, classes: number, rows: number) {
  const probabilities = p ? Array.from({ length: classes }, () => (p instanceof Float64Array ? new Float64Array(rows) : new Float32Array(rows))) : undefined;
  if (p && probabilities) {
    if (classes === 2 && p.length === rows) for (let i = 0; i < rows; i++) { probabilities[1][i] = p[i]; probabilities[0][i] = 1 - p[i]; }
    else for (let i = 0, k = 0; i < rows; i++) for (let c = 0; c < classes; c++) probabilities[c][i] = p[k++];
  }
  const codes = new Int32Array(rows);
  if (label) for (let i = 0; i < rows; i++) codes[i] = Number(label[i]);
  return { probabilities, codes };
}

const card = (classes: number, withProbabilities = true): Card => ({
  task: classes === 2 ? 'binary' : 'multiclass',
  outputs: { label: 'label', ...(withProbabilities ? { probabilities: 'probabilities' } : {}), classes: Array.from({ length: classes }, (_, c) => `c${c}`) },
} as unknown as Card);

test('probabilities per class and int64 labels read as the per-element code did', () => {
  const rows = 1000;
  const odd = [0n, 1n, -1n, 2n ** 31n - 1n, 2n ** 31n, -(2n ** 31n), -(2n ** 31n) - 1n, 2n ** 32n + 5n, 2n ** 53n + 1n, 2n ** 62n + 12345n, -(2n ** 63n), 2n ** 63n - 1n];
  for (const classes of [2, 3, 5]) {
    for (const Ctor of [Float32Array, Float64Array]) {
      for (const flat of classes === 2 ? [false, true] : [false]) {
        const p = new Ctor(flat ? rows : rows * classes).map((_, i) => Math.sin(i) * 0.5 + 0.5);
        const label = BigInt64Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? odd[(i / 7) % odd.length] : BigInt(i % classes)));
        const outputs: Record<string, Feed> = { probabilities: { type: Ctor === Float32Array ? 'float32' : 'float64', data: p, dims: flat ? [rows] : [rows, classes] }, label: { type: 'int64', data: label, dims: [rows] } };
        const got = readOutputs(card(classes), outputs, rows);
        const want = reference(p, label, classes, rows);
        assert.deepEqual(got.probabilities, want.probabilities, `${classes} classes, ${Ctor.name}${flat ? ', one probability per row' : ''}`);
        assert.deepEqual(got.labelCodes, want.codes);
      }
    }
  }
  // int32 labels, and an int64 view that does not start at its buffer's beginning
  const i32 = Int32Array.from({ length: rows }, (_, i) => (i % 11) - 3);
  assert.deepEqual(readOutputs(card(3, false), { label: { type: 'int32', data: i32, dims: [rows] } }, rows).labelCodes, reference(undefined, i32, 3, rows).codes);
  const backing = BigInt64Array.from({ length: rows + 3 }, (_, i) => (i % 5 === 0 ? odd[i % odd.length] : BigInt(i % 3)));
  const view = backing.subarray(3);
  assert.deepEqual(readOutputs(card(3, false), { label: { type: 'int64', data: view, dims: [rows] } }, rows).labelCodes, reference(undefined, view, 3, rows).codes);
});
