// The Parquet sink's own chunk encoder (src/io/common/parquet-encode.ts) against hyparquet-writer:
// whole files byte for byte, for the same batches, against what the sink wrote before
// (test/helpers/parquet-reference.ts) — every output column type, nulls (NaN, null, codes outside
// the dictionary), empty batches, checkpoints, many row groups, pages split at 1 MiB, dictionaries
// chosen and refused, strings that need more than one UTF-8 byte per character, resume. Then what
// happens to a value a column cannot hold: the error names the file, row, row group and column.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { OutpostError } from '../src/common/errors.ts';
import { SnappyCompressor } from '../src/io/common/snappy-compress.ts';
import type { OutColumn, OutputBatch, SinkState } from '../src/io/common/table.ts';
import { openSink } from '../src/io/node/open.ts';
import { prng, tempDir } from './helpers/io-helpers.ts';
import { referenceParquet } from './helpers/parquet-reference.ts';

const dir = tempDir();
let n = 0;
const target = (): string => path.join(dir, `out-${n++}.parquet`);

const TEXT = ['', 'a', 'NA', 'Ä', 'naïve café', '日本語のテキスト', '😀 smile', 'a\ud800b', 'x\udc00', 'a longer text that is past sixteen bytes', '\uffff\uffff', '\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00 and more after the emoji'];

/** Every output column type, with nulls, low- and high-cardinality variants (the dictionary choice). */
function batch(rows: number, seed: number): OutputBatch {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const p = new Float32Array(rows);
  const pLow = new Float32Array(rows);
  const score = new Float64Array(rows);
  const seq = new Float64Array(rows); // no nulls: pages split by count alone
  const k = new Int32Array(rows);
  const kLow = new Int32Array(rows);
  const big = new Float64Array(rows);
  const bigLow = new Float64Array(rows);
  const nothing = new Float64Array(rows).fill(NaN);
  const note: (string | null)[] = [];
  const cat: (string | null)[] = [];
  const codes = new Int32Array(rows);
  const one = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    p[i] = rnd() < 0.05 ? NaN : rnd() < 0.02 ? pick([0, -0]) : Math.fround(rnd());
    pLow[i] = pick([0.25, 0.5, -0, 0, 0.75, NaN]);
    score[i] = rnd() < 0.05 ? NaN : (rnd() - 0.5) * 1e6;
    seq[i] = seed * 1e6 + i + 0.5;
    k[i] = Math.floor((rnd() - 0.5) * 4e9);
    kLow[i] = pick([-1, 0, 7, 2 ** 31 - 1, -(2 ** 31)]);
    big[i] = rnd() < 0.05 ? NaN : rnd() < 0.05 ? pick([-(2 ** 63), 2 ** 63 - 1024, 2 ** 53, -(2 ** 53) - 2, 0, -0]) : Math.floor((rnd() - 0.5) * 2 ** 40);
    bigLow[i] = pick([3, -3, 2 ** 40, NaN]);
    note.push(rnd() < 0.1 ? null : rnd() < 0.4 ? pick(TEXT) : `id-${seed}-${i}-${pick(TEXT)}`);
    cat.push(rnd() < 0.1 ? null : pick(TEXT));
    codes[i] = pick([-1, 0, 1, 1, 2, 7]); // -1 and 7: no label
    one[i] = rnd() < 0.1 ? -1 : 0;
  }
  const columns: OutColumn[] = [
    { name: 'p', type: 'float32', values: p },
    { name: 'p_low', type: 'float32', values: pLow },
    { name: 'score', type: 'float64', values: score },
    { name: 'seq', type: 'float64', values: seq },
    { name: 'k', type: 'int', values: k },
    { name: 'k_low', type: 'int', values: kLow },
    { name: 'big', type: 'int', values: big },
    { name: 'big_low', type: 'int', values: bigLow },
    { name: 'nothing', type: 'float64', values: nothing },
    { name: 'note', type: 'string', values: note },
    { name: 'cat', type: 'string', values: cat },
    { name: 'label', type: 'dict', codes, dictionary: ['on-time', 'late', 'naïve 😀 class'] },
    { name: 'only', type: 'dict', codes: one, dictionary: ['the one'] },
  ];
  return { length: rows, columns };
}

/** Run the steps through the sink (resuming from the checkpoint at `crashAt` if given); the file's bytes. */
async function sinkParquet(steps: readonly (OutputBatch | 'checkpoint')[], rowGroupRows: number, crashAt?: number): Promise<Uint8Array> {
  const file = target();
  let sink = await openSink(file, 'parquet', { rowGroupRows });
  let state: SinkState | undefined;
  for (let s = 0; s < steps.length; s++) {
    const step = steps[s];
    if (step === 'checkpoint') {
      state = await sink.checkpoint();
      if (s === crashAt) {
        await sink.close();
        sink = await openSink(file, 'parquet', { rowGroupRows, resume: state });
      }
    } else await sink.write(step);
  }
  await sink.finish();
  return new Uint8Array(fs.readFileSync(file));
}

async function assertSameBytes(steps: readonly (OutputBatch | 'checkpoint')[], rowGroupRows: number, crashAt?: number): Promise<Uint8Array> {
  const want = await referenceParquet(steps, rowGroupRows);
  const got = await sinkParquet(steps, rowGroupRows, crashAt);
  if (!Buffer.from(got).equals(Buffer.from(want))) {
    let at = 0;
    while (at < got.length && got[at] === want[at]) at++;
    assert.fail(`output differs from hyparquet-writer's at byte ${at} of ${want.length} (ours ${got.length} bytes)`);
  }
  return got;
}

test('parquet encoder: byte for byte hyparquet-writer — all column types, nulls, empty batches, checkpoints, many row groups', async () => {
  const steps: (OutputBatch | 'checkpoint')[] = [
    batch(0, 1), batch(1, 2), batch(7, 3), 'checkpoint', batch(333, 4), batch(0, 5), batch(1000, 6),
    batch(2500, 7), 'checkpoint', 'checkpoint', batch(999, 8), batch(1, 9), batch(64, 10), batch(1200, 11),
  ];
  const bytes = await assertSameBytes(steps, 1000);
  // and it is a Parquet file a reader agrees with: row count and a few cells
  const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
  const batches = steps.filter((s): s is OutputBatch => s !== 'checkpoint');
  assert.equal(rows.length, batches.reduce((t, b) => t + b.length, 0));
  const b = batches[1]; // batches[0] has no rows
  const col = (name: string) => b.columns.find((c) => c.name === name)!;
  const label = col('label') as { codes: Int32Array; dictionary: readonly string[] };
  assert.equal(rows[0].label, label.dictionary[label.codes[0]] ?? null);
  assert.equal(rows[0].note, (col('note') as { values: (string | null)[] }).values[0]);
  assert.equal(rows[0].nothing, null);
});

test('parquet encoder: byte for byte — row groups past 1 MiB pages (numbers, indexes, plain strings)', async () => {
  // FLOAT and dictionary indexes (4 bytes) split past 262,144 values, DOUBLE and INT64 past 131,072, strings by UTF-8 bytes
  const keep = new Set(['p', 'score', 'seq', 'k', 'big', 'note', 'label']);
  const some = (b: OutputBatch): OutputBatch => ({ length: b.length, columns: b.columns.filter((c) => keep.has(c.name)) });
  const steps = [some(batch(140_000, 21)), some(batch(140_000, 22)), some(batch(5000, 23))];
  await assertSameBytes(steps, 270_000);
});

test('parquet encoder: byte for byte — each column type alone, all-null columns, one-row groups, no rows at all', async () => {
  const whole = batch(500, 31);
  for (let c = 0; c < whole.columns.length; c++) {
    const one = (b: OutputBatch): OutputBatch => ({ length: b.length, columns: [b.columns[c]] });
    await assertSameBytes([one(whole), one(batch(3, 32)), 'checkpoint', one(batch(1, 33))], 1);
  }
  const nulls: OutputBatch = {
    length: 20,
    columns: [
      { name: 'f', type: 'float32', values: new Float32Array(20).fill(NaN) },
      { name: 's', type: 'string', values: new Array(20).fill(null) },
      { name: 'd', type: 'dict', codes: new Int32Array(20).fill(-1), dictionary: ['a'] },
      { name: 'i', type: 'int', values: new Float64Array(20).fill(NaN) },
    ],
  };
  await assertSameBytes([nulls, nulls], 30);
  await assertSameBytes([batch(0, 34)], 10); // a schema, no row groups
  await assertSameBytes([], 10); // nothing written at all
  // an int column that starts as Int32Array (INT32) and later brings doubles, with NaN
  const ints = (values: Int32Array | Float64Array): OutputBatch => ({ length: values.length, columns: [{ name: 'n', type: 'int', values }] });
  await assertSameBytes([ints(new Int32Array([1, -2, 3])), ints(new Float64Array([NaN, 2 ** 31 - 1, -0, -(2 ** 31)]))], 100);
});

test('parquet encoder: byte for byte — dictionary choice where the 1,000-value sample and the whole chunk disagree', async () => {
  // 85 % of the rows in runs of 10 distinct values, the rest one value: the evenly spaced sample sees
  // ~85 % distinct bytes (under the 90 % that refuses a dictionary), the whole chunk ~9 %: dictionary
  const rows = 10_000;
  const text: string[] = [];
  const nums = new Float64Array(rows);
  const fifth = new Float64Array(rows); // runs of 5: 17 % distinct, still a dictionary
  const tail = new Int32Array(rows); // 20 % one value, then all distinct: sample passes, the whole chunk does not
  for (let i = 0; i < rows; i++) {
    const inRuns = i < rows * 0.85;
    text.push(inRuns ? `u${Math.floor(i / 10)}` : 'c');
    nums[i] = inRuns ? Math.floor(i / 10) + 0.5 : -1;
    fifth[i] = inRuns ? Math.floor(i / 5) + 0.25 : -0;
    tail[i] = i < rows * 0.2 ? 7 : i;
  }
  const columns: OutColumn[] = [
    { name: 't', type: 'string', values: text },
    { name: 'x', type: 'float64', values: nums },
    { name: 'q', type: 'float64', values: fifth },
    { name: 'tail', type: 'int', values: tail },
  ];
  await assertSameBytes([{ length: rows, columns }], rows);
  // and when the whole chunk is not worth it: mostly distinct, a few repeats
  const mixed = Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? 'same' : `v${i}`));
  await assertSameBytes([{ length: rows, columns: [{ name: 't', type: 'string', values: mixed }] }], rows);
});

test('parquet encoder: byte for byte after a resume from a checkpoint', async () => {
  const steps: (OutputBatch | 'checkpoint')[] = [batch(700, 41), batch(700, 42), 'checkpoint', batch(900, 43), batch(100, 44)];
  await assertSameBytes(steps, 1000, 2);
});

test('parquet sink: a value the column cannot hold names file, row, row group and column; the batch is not half written', async () => {
  const ints = (values: Int32Array | Float64Array, text: string[]): OutputBatch => ({
    length: values.length,
    columns: [{ name: 'note', type: 'string', values: text }, { name: 'n', type: 'int', values }],
  });
  const cases: [Int32Array | Float64Array, Float64Array, RegExp][] = [
    [new Int32Array([1, 2]), new Float64Array([5, 2 ** 31]), /2147483648 is not a 32-bit integer/],
    [new Float64Array([1, 2]), new Float64Array([5, 1.5]), /1\.5 is not an integer/],
    [new Float64Array([1, 2]), new Float64Array([2 ** 63, 1]), /outside the 64-bit integer range/],
  ];
  for (const [first, bad, why] of cases) {
    const file = target();
    const sink = await openSink(file, 'parquet', { rowGroupRows: 3 });
    const good = [ints(first, ['a', 'b']), ints(first, ['c', 'd'])];
    await sink.write(good[0]);
    await assert.rejects(sink.write(ints(bad, ['x', 'y'])), (e: unknown) => {
      assert.ok(e instanceof OutpostError, String(e));
      assert.match(e.message, why);
      const row = bad[0] === 5 ? 4 : 3; // output rows counted from 1: two were written before
      assert.match(e.message, new RegExp(`row ${row} \\(row group 1\\), column "n"`));
      assert.deepEqual(e.location, { file, row, field: 'n' });
      return true;
    });
    await sink.write(good[1]);
    await sink.finish();
    const want = await referenceParquet(good, 3);
    assert.ok(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(want)), 'the failed batch left nothing behind');
  }
});

test('snappy: the reused-buffer compressor gives hyparquet-writer\'s bytes (literals, copies, far matches, edge sizes)', () => {
  const rnd = prng(5);
  const random = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog; '.repeat(3000));
  const far = random(70_000);
  const inputs: Uint8Array[] = [
    new Uint8Array(0), random(1), random(14), random(15), random(16), random(61), random(300), random(70_000), random(1 << 20),
    new Uint8Array(1 << 20), text, Uint8Array.from([...far, ...far.subarray(0, 5000)]), // a match 70,000 bytes back is out of reach
    Uint8Array.from({ length: 200_000 }, (_, i) => (i % 7 === 0 ? Math.floor(rnd() * 4) : i & 0xff)),
    new Uint8Array(new Float32Array(Array.from({ length: 50_000 }, (_, i) => Math.fround(i / 50_000))).buffer),
  ];
  const snappy = new SnappyCompressor();
  for (const input of inputs) {
    const got = snappy.compress(input);
    assert.ok(Buffer.from(got).equals(Buffer.from(snappyCompress(input))), `input of ${input.length} bytes`);
  }
  // the buffer is reused: an earlier result is not kept (callers copy it out before the next call)
  assert.ok(snappy.compress(text).length < text.length / 10);
});
