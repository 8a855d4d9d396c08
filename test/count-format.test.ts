// formatCount writes whole numbers as toLocaleString('en-US') does, without loading ICU's locale
// data (the summaries of `outpost score`, `jobs`, `labels` and the progress bar print with it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countOf, formatCount } from '../src/common/count.ts';

test('formatCount gives toLocaleString(\'en-US\')\'s text for every kind of number', () => {
  const values = [0, -0, 1, -1, 9, 10, 99, 100, 999, 1000, -1000, 1001, 9999, 10000, 12345, 99999, 100000, 999999, 1000000, 1234567, -7654321,
    2 ** 31, 2 ** 32 + 5, 1e15, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, 0.5, 1234.5678, -0.25, NaN, Infinity, -Infinity];
  let seed = 42;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    values.push(Math.floor((seed / 2 ** 31) * 10 ** (i % 16)) * (i % 7 === 0 ? -1 : 1));
  }
  for (const v of values) assert.equal(formatCount(v), v.toLocaleString('en-US'), `${v}`);
});

test('countOf: singular for exactly one, plural otherwise (batch → batches), with separators', () => {
  assert.equal(countOf(1, 'item'), '1 item');
  assert.equal(countOf(0, 'item'), '0 items');
  assert.equal(countOf(7, 'item'), '7 items');
  assert.equal(countOf(1, 'batch'), '1 batch');
  assert.equal(countOf(3, 'batch'), '3 batches');
  assert.equal(countOf(1234567, 'row'), '1,234,567 rows');
});
