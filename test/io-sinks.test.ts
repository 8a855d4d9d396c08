// Writers: exact CSV/JSONL text, round trips through the readers for all three formats, atomic
// output (nothing at the target until finish), and resume from a checkpoint after a "crash".
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parquetMetadata, parquetSchema } from 'hyparquet';
import { OutpostError } from '../src/common/errors.ts';
import { csvRowsText } from '../src/io/common/csv-encode.ts';
import { formatFloat32 } from '../src/io/common/float32-format.ts';
import type { OutColumn, OutputBatch, OutputFormat, SinkState } from '../src/io/common/table.ts';
import { Utf8CellWriter, utf8Cell, utf8OutColumn } from '../src/io/common/utf8-cells.ts';
import { openSink, openSource } from '../src/io/node/open.ts';
import { collect, prng, tempDir, toRows } from './helpers/io-helpers.ts';

const dir = tempDir();
let n = 0;
const target = (ext: string): string => path.join(dir, `out-${n++}.${ext}`);
const partials = (file: string): string[] => fs.readdirSync(path.dirname(file)).filter((f) => f.startsWith(`.${path.basename(file)}.partial-`));

function sampleBatch(rows: number, seed: number): OutputBatch {
  const rnd = prng(seed);
  const f32 = new Float32Array(rows);
  const f64 = new Float64Array(rows);
  const i32 = new Int32Array(rows);
  const i64 = new Float64Array(rows);
  const str: (string | null)[] = [];
  const codes = new Int32Array(rows);
  const specials = ['', 'a,b', 'say "hi"', 'two\nlines', 'cr\rhere', ' spaced ', 'Ä😀', 'NA', null];
  for (let i = 0; i < rows; i++) {
    f32[i] = rnd() < 0.1 ? NaN : Math.fround((rnd() - 0.5) * 10 ** Math.floor(rnd() * 8 - 3));
    f64[i] = rnd() < 0.1 ? NaN : rnd() * 1e6 - 5e5;
    i32[i] = Math.floor((rnd() - 0.5) * 2e9);
    i64[i] = rnd() < 0.1 ? NaN : Math.floor((rnd() - 0.5) * 2 ** 52);
    str.push(rnd() < 0.5 ? specials[Math.floor(rnd() * specials.length)] : `s${i}`);
    codes[i] = Math.floor(rnd() * 4) - 1; // -1: no label
  }
  return {
    length: rows,
    columns: [
      { name: 'p', type: 'float32', values: f32 },
      { name: 'score', type: 'float64', values: f64 },
      { name: 'k', type: 'int', values: i32 },
      { name: 'big', type: 'int', values: i64 },
      { name: 'note', type: 'string', values: str },
      { name: 'label', type: 'dict', codes, dictionary: ['cat', 'dog, big', 'say "x"'] },
    ],
  };
}

/** What a reader should give back for a batch written by a sink. */
function expectedRows(batch: OutputBatch, format: OutputFormat): unknown[][] {
  const rows: unknown[][] = [];
  for (let r = 0; r < batch.length; r++) {
    rows.push(batch.columns.map((c) => {
      if (c.type === 'dict') return c.codes[r] >= 0 && c.codes[r] < c.dictionary.length ? c.dictionary[c.codes[r]] : null;
      if (c.type === 'string') return c.values[r];
      if (c.type === 'utf8') return utf8Cell(c, r);
      const v = c.values[r];
      if (Number.isNaN(v)) return null;
      // float32 text read back is the nearest double to the short text, not the float32 itself
      return c.type === 'float32' && format !== 'parquet' ? Number(formatFloat32(v)) : v;
    }));
  }
  return rows;
}

const request = [
  { name: 'p', kind: 'number' as const },
  { name: 'score', kind: 'number' as const },
  { name: 'k', kind: 'number' as const },
  { name: 'big', kind: 'number' as const },
  { name: 'note', kind: 'string' as const },
  { name: 'label', kind: 'string' as const },
];

async function readBack(file: string) {
  const source = await openSource(file);
  try {
    return toRows(await collect(source, request, { batchRows: 333 }));
  } finally {
    await source.close();
  }
}

test('csv sink: header, RFC 4180 quoting, empty fields for missing, "" for an empty string', async () => {
  const file = target('csv');
  const sink = await openSink(file, 'csv');
  await sink.write({
    length: 3,
    columns: [
      { name: 'p', type: 'float32', values: new Float32Array([0.1, NaN, 1 / 3]) },
      { name: 'x', type: 'float64', values: new Float64Array([0.1, 1e21, NaN]) },
      { name: 'text, "quoted"', type: 'string', values: ['a,b', '', null] },
      { name: 'label', type: 'dict', codes: new Int32Array([1, 0, 7]), dictionary: ['no', 'line\nbreak'] },
      { name: 'n', type: 'int', values: new Int32Array([-1, 0, 2147483647]) },
    ],
  });
  await sink.finish();
  assert.equal(fs.readFileSync(file, 'utf8'), 'p,x,"text, ""quoted""",label,n\n0.1,0.1,"a,b","line\nbreak",-1\n,1e+21,"",no,0\n0.33333334,,,,2147483647\n');
});

test('csv rows: text cells are quoted exactly when they hold the delimiter, a quote or a line break (any delimiter, csvSafe)', () => {
  const values = ['plain-id_1', 'a,b', 'x;y', 'say "hi"', 'two\nlines', 'cr\rhere', '', 'Ä😀', ' spaced ', '=1+2', '-3', null];
  const batch: OutputBatch = { length: values.length, columns: [{ name: 'id', type: 'string', values }] };
  const lines = (text: string) => text.split('\n');
  assert.deepEqual(lines(csvRowsText(batch, ';')), ['plain-id_1', 'a,b', '"x;y"', '"say ""hi"""', '"two', 'lines"', '"cr\rhere"', '""', 'Ä😀', ' spaced ', '=1+2', '-3', '', '']);
  assert.deepEqual(lines(csvRowsText(batch, ',')).slice(0, 3), ['plain-id_1', '"a,b"', 'x;y']);
  // csvSafe: a formula-looking cell gets a leading quote (then the usual quoting)
  assert.deepEqual(lines(csvRowsText(batch, ',', true)).slice(10, 12), ["'=1+2", "'-3"]);
});

test('jsonl sink: one object per line, null for missing and non-finite values', async () => {
  const file = target('jsonl');
  const sink = await openSink(file, 'jsonl');
  await sink.write({
    length: 2,
    columns: [
      { name: 'p', type: 'float32', values: new Float32Array([0.1, NaN]) },
      { name: 'x', type: 'float64', values: new Float64Array([Infinity, -2.5]) },
      { name: 's', type: 'string', values: ['q"\n', null] },
      { name: 'd', type: 'dict', codes: new Int32Array([0, -1]), dictionary: ['yes'] },
    ],
  });
  await sink.finish();
  assert.equal(fs.readFileSync(file, 'utf8'), '{"p":0.1,"x":null,"s":"q\\"\\n","d":"yes"}\n{"p":null,"x":-2.5,"s":null,"d":null}\n');
});

for (const format of ['csv', 'jsonl', 'parquet'] as const) {
  test(`${format} sink: what is written reads back equal (all column types, several batches)`, async () => {
    const file = target(format);
    const sink = await openSink(file, format, { rowGroupRows: 250 });
    const batches = [sampleBatch(300, 1), sampleBatch(1, 2), sampleBatch(0, 3), sampleBatch(700, 4)];
    for (const b of batches) await sink.write(b);
    await sink.finish();
    const got = await readBack(file);
    assert.deepEqual(got.problems, []);
    assert.deepEqual(got.rows, batches.flatMap((b) => expectedRows(b, format)));
  });
}

/** `values` as a utf8 column picked at `rows` (the bytes written in a shuffled order, as a reader's re-parsed rows leave them). */
function utf8Column(name: string, values: readonly (string | null)[], rows: Int32Array): OutColumn {
  const writer = new Utf8CellWriter(values.length, 2);
  const enc8 = new TextEncoder();
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v === null) writer.setMissing(i);
    else writer.set(i, enc8.encode(v), 0, enc8.encode(v).length);
  }
  return utf8OutColumn(name, writer.cells, rows, values.length);
}

for (const format of ['csv', 'jsonl', 'parquet'] as const) {
  test(`${format} sink: a string column given as UTF-8 bytes writes the same bytes as given as strings (all rows, or some picked)`, async () => {
    const full = sampleBatch(700, 5);
    // with cells csvSafe changes (a formula's first character)
    const formulas = ['=1+2', '-3', '+x', '@y', '\tz'];
    const note = { values: (full.columns[4] as { values: (string | null)[] }).values.map((v, i) => (i % 7 === 3 ? formulas[i % formulas.length] : v)) };
    const picked = Int32Array.from({ length: 350 }, (_, j) => 2 * j + 1);
    const variants = format === 'csv' ? [{}, { delimiter: ';' }, { csvSafe: true }] : [{}];
    for (const options of variants) {
      for (const rows of [Int32Array.from({ length: 700 }, (_, i) => i), picked]) {
        const strings: OutputBatch = { length: rows.length, columns: full.columns.map((c, k) => (k === 4 ? { name: c.name, type: 'string', values: Array.from(rows, (i) => note.values[i]) } : pick(c, rows))) };
        const bytes: OutputBatch = { length: rows.length, columns: full.columns.map((c, k) => (k === 4 ? utf8Column(c.name, note.values, rows) : pick(c, rows))) };
        const files = [target(format), target(format)];
        for (const [v, b] of [strings, bytes].entries()) {
          const sink = await openSink(files[v], format, options);
          await sink.write(b);
          await sink.write(b);
          await sink.finish();
        }
        assert.ok(fs.readFileSync(files[0]).equals(fs.readFileSync(files[1])), `${format} ${JSON.stringify(options)}, ${rows.length} rows: the bytes differ`);
      }
    }
  });
}

/** Column `c` at `rows`. */
function pick(c: OutColumn, rows: Int32Array): OutColumn {
  if (c.type === 'dict') return { ...c, codes: Int32Array.from(rows, (i) => c.codes[i]) };
  if (c.type === 'float32') return { ...c, values: Float32Array.from(rows, (i) => c.values[i]) };
  if (c.type === 'float64') return { ...c, values: Float64Array.from(rows, (i) => c.values[i]) };
  if (c.type === 'int') return { ...c, values: Float64Array.from(rows, (i) => c.values[i]) };
  throw new Error(`pick: ${c.type}`);
}

test('parquet sink: column types in the schema, row groups at rowGroupRows and at checkpoints', async () => {
  const file = target('parquet');
  const sink = await openSink(file, 'parquet', { rowGroupRows: 400 });
  await sink.write(sampleBatch(500, 9));
  await sink.checkpoint();
  await sink.write(sampleBatch(100, 10));
  await sink.finish();
  const metadata = parquetMetadata(fs.readFileSync(file));
  assert.equal(Number(metadata.num_rows), 600);
  assert.deepEqual(metadata.row_groups.map((g) => Number(g.num_rows)), [500, 100]);
  const types = parquetSchema(metadata).children.map((c) => [c.element.name, c.element.type, c.element.repetition_type]);
  assert.deepEqual(types, [['p', 'FLOAT', 'OPTIONAL'], ['score', 'DOUBLE', 'OPTIONAL'], ['k', 'INT32', 'OPTIONAL'], ['big', 'INT64', 'OPTIONAL'], ['note', 'BYTE_ARRAY', 'OPTIONAL'], ['label', 'BYTE_ARRAY', 'OPTIONAL']]);
});

test('atomic output: nothing at the target until finish(); an old file stays intact until then', async () => {
  for (const format of ['csv', 'jsonl', 'parquet'] as const) {
    const file = target(format);
    fs.writeFileSync(file, 'old content');
    const sink = await openSink(file, format);
    await sink.write(sampleBatch(50, 5));
    const state = await sink.checkpoint();
    assert.equal(fs.readFileSync(file, 'utf8'), 'old content');
    assert.deepEqual(partials(file), [path.basename(state.tempPath)]);
    assert.equal(fs.statSync(state.tempPath).size, state.bytes);
    await sink.finish();
    assert.notEqual(fs.readFileSync(file, 'utf8'), 'old content');
    assert.deepEqual(partials(file), []);
    assert.equal((await readBack(file)).rows.length, 50);
  }
  const fresh = target('csv');
  const sink = await openSink(fresh, 'csv');
  await sink.write(sampleBatch(5, 6));
  assert.equal(fs.existsSync(fresh), false);
  await sink.close();
  assert.equal(fs.existsSync(fresh), false, 'close() without finish() publishes nothing');
  assert.equal(partials(fresh).length, 1, 'the partial file stays for a resume');
});

for (const format of ['csv', 'jsonl', 'parquet'] as const) {
  test(`${format} sink: resume after a crash gives the same file as an uninterrupted write`, async () => {
    const b1 = sampleBatch(120, 21);
    const b2 = sampleBatch(80, 22);
    const b3 = sampleBatch(55, 23);
    // uninterrupted, with the same checkpoint
    const reference = target(format);
    const ref = await openSink(reference, format);
    await ref.write(b1);
    await ref.checkpoint();
    await ref.write(b2);
    await ref.write(b3);
    await ref.finish();
    // interrupted: b2 was written after the checkpoint, then the process died (no finish, no close)
    const file = target(format);
    const first = await openSink(file, format);
    await first.write(b1);
    const state = JSON.parse(JSON.stringify(await first.checkpoint())) as SinkState; // as stored in a job
    await first.write(b2);
    await first.write(sampleBatch(999, 24)); // more, never checkpointed
    await first.close();
    fs.appendFileSync(state.tempPath, 'torn write'); // and a torn write at the end
    assert.equal(fs.existsSync(file), false);
    const resumed = await openSink(file, format, { resume: state });
    assert.equal(fs.statSync(state.tempPath).size, state.bytes, 'cut back to the checkpoint');
    await resumed.write(b2);
    await resumed.write(b3);
    await resumed.finish();
    assert.deepEqual(fs.readFileSync(file), fs.readFileSync(reference));
    assert.deepEqual((await readBack(file)).rows, [b1, b2, b3].flatMap((b) => expectedRows(b, format)));
  });
}

test('parquet sink: a checkpoint that keeps the row group open resumes to the same file as an uninterrupted write, also when the resumed run dies before its next checkpoint', async () => {
  const [b1, b2, b3, b4] = [sampleBatch(120, 41), sampleBatch(100, 42), sampleBatch(150, 43), sampleBatch(90, 44)];
  const reference = target('parquet');
  const ref = await openSink(reference, 'parquet', { rowGroupRows: 300 });
  for (const b of [b1, b2, b3, b4]) await ref.write(b);
  await ref.finish();
  assert.deepEqual(parquetMetadata(fs.readFileSync(reference)).row_groups.map((g) => Number(g.num_rows)), [370, 90]);

  // stopped after b2, in the middle of the first row group (Ctrl-C), then more written and a torn write
  const file = target('parquet');
  const first = await openSink(file, 'parquet', { rowGroupRows: 300 });
  await first.write(b1);
  await first.write(b2);
  const state = JSON.parse(JSON.stringify(await first.checkpoint({ keepOpen: true }))) as SinkState; // as stored in a job
  assert.ok(state.sideFile && fs.existsSync(state.sideFile), 'the open row group is saved beside the partial file');
  await first.write(b3);
  await first.close();
  fs.appendFileSync(state.tempPath, 'torn write');
  // resumed, then killed after a row group was written and before any checkpoint: the side file is intact
  const again = await openSink(file, 'parquet', { resume: state, rowGroupRows: 300 });
  await again.write(b3);
  await again.close();
  const resumed = await openSink(file, 'parquet', { resume: state, rowGroupRows: 300 });
  await resumed.write(b3);
  await resumed.write(b4);
  await resumed.finish();
  assert.deepEqual(fs.readFileSync(file), fs.readFileSync(reference));
  assert.deepEqual(partials(file), [], 'the side file goes once the output is complete');
});

test('parquet sink: a kept-open row group whose side file is gone or cut is a clear error', async () => {
  const file = target('parquet');
  const sink = await openSink(file, 'parquet');
  await sink.write(sampleBatch(10, 45));
  const state = await sink.checkpoint({ keepOpen: true });
  await sink.close();
  const isInput = (pattern: RegExp) => (e: unknown) => e instanceof OutpostError && e.code === 'input' && pattern.test(e.message);
  fs.truncateSync(state.sideFile!, 100);
  await assert.rejects(openSink(file, 'parquet', { resume: state }), isInput(/open row group's file .* has 100 bytes, the checkpoint expects \d+/));
  fs.rmSync(state.sideFile!);
  await assert.rejects(openSink(file, 'parquet', { resume: state }), isInput(/open row group's file .*: it no longer exists/));
});

test('resume: a missing or shortened partial file, or a state from another format, is a clear error', async () => {
  const file = target('csv');
  const sink = await openSink(file, 'csv');
  await sink.write(sampleBatch(10, 30));
  const state = await sink.checkpoint();
  await sink.close();
  const isInput = (pattern: RegExp) => (e: unknown) => e instanceof OutpostError && e.code === 'input' && pattern.test(e.message);
  await assert.rejects(openSink(file, 'parquet', { resume: state }), isInput(/not from a parquet output/));
  await assert.rejects(openSink(target('csv'), 'csv', { resume: state }), isInput(/does not belong to this output/));
  fs.truncateSync(state.tempPath, state.bytes - 1);
  await assert.rejects(openSink(file, 'csv', { resume: state }), isInput(/has \d+ bytes, the checkpoint expects/));
  fs.rmSync(state.tempPath);
  await assert.rejects(openSink(file, 'csv', { resume: state }), isInput(/no longer exists/));
});

test('sinks: a batch whose columns differ from the first one is refused', async () => {
  const sink = await openSink(target('jsonl'), 'jsonl');
  await sink.write({ length: 1, columns: [{ name: 'a', type: 'float32', values: new Float32Array([1]) }] });
  await assert.rejects(sink.write({ length: 1, columns: [{ name: 'a', type: 'float64', values: new Float64Array([1]) }] }), /differ from the file's/);
  await assert.rejects(sink.write({ length: 2, columns: [{ name: 'a', type: 'float32', values: new Float32Array([1]) }] }), /has 1 values for 2 rows/);
  await sink.close();
});

test('sinks: an output directory that does not exist is an input error', async () => {
  const file = path.join(dir, 'no', 'such', 'dir', 'out.csv');
  await assert.rejects(openSink(file, 'csv'), (e: unknown) => e instanceof OutpostError && e.code === 'input' && /does not exist/.test(e.message));
});

test('sinks: finishing with no rows gives an empty CSV and a valid empty Parquet file', async () => {
  const csv = target('csv');
  const s1 = await openSink(csv, 'csv');
  await s1.finish();
  assert.equal(fs.readFileSync(csv, 'utf8'), '');
  const pq = target('parquet');
  const s2 = await openSink(pq, 'parquet');
  await s2.finish();
  assert.equal(Number(parquetMetadata(fs.readFileSync(pq)).num_rows), 0);
});
