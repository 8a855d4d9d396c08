// The Parquet reader decodes flat column chunks itself (src/io/common/parquet-decode.ts) instead of
// going through hyparquet's parquetRead. These tests hold it to what the previous reader gave —
// parquetRead's values per row group, turned into cells by fillFromParquet (the reference below is
// that previous code path) — on the real flights-3m file and on files written here with nulls,
// PLAIN and dictionary pages, several types and a nested column; then end to end through
// `scoreFile`; then damaged files: each error names the file, the row group and the column.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parquetMetadata, parquetRead } from 'hyparquet';
import type { ColumnData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { OutpostError } from '../src/common/errors.ts';
import { allocateColumns } from '../src/io/common/cells.ts';
import { fillFromParquet } from '../src/io/common/parquet-cells.ts';
import type { ColumnBatch, ColumnRequest } from '../src/io/common/table.ts';
import { openSource } from '../src/io/node/open.ts';
import { scoreFile } from '../src/scoring/node/score-file.ts';
import { installPackage } from '../src/store/node/models.ts';
import { openStore } from '../src/store/node/store.ts';
import { buildCard, exportOnnx, trainModel } from '../src/train/common/index.ts';
import { tempDir, toRows } from './helpers/io-helpers.ts';

const FLIGHTS = path.join(import.meta.dirname, '..', 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
const dir = tempDir();

/** The previous reader: parquetRead of each row group's rows, cells by fillFromParquet, cut into batches. */
async function reference(file: string, request: readonly ColumnRequest[], batchRows: number, from = 0): Promise<ColumnBatch[]> {
  const bytes = fs.readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const metadata = parquetMetadata(buffer);
  const total = Number(metadata.num_rows);
  const names = [...new Set(request.map((r) => r.name))];
  const all = allocateColumns(request, total - from);
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const groupEnd = groupStart + Number(group.num_rows);
    if (groupEnd > from) {
      const chunks: ColumnData[] = [];
      await parquetRead({ file: buffer, metadata, columns: names, rowStart: Math.max(from, groupStart), rowEnd: groupEnd, compressors, onChunk: (c) => chunks.push(c) });
      for (const c of chunks) {
        const lo = Math.max(c.rowStart, from);
        request.forEach((r, i) => {
          if (r.name === c.columnName && c.rowEnd > lo) fillFromParquet(all[i], lo - from, c.columnData, lo - c.rowStart, c.rowEnd - lo);
        });
      }
    }
    groupStart = groupEnd;
  }
  const batches: ColumnBatch[] = [];
  for (let at = 0; at < total - from; at += batchRows) {
    const length = Math.min(batchRows, total - from - at);
    const columns = allocateColumns(request, length);
    columns.forEach((c, i) => {
      const src = all[i];
      if (c.kind === 'string' && src.kind === 'string') for (let r = 0; r < length; r++) c.values[r] = src.values[at + r];
      else if (c.kind === 'number' && src.kind === 'number') {
        c.values.set(src.values.subarray(at, at + length));
        c.status.set(src.status.subarray(at, at + length));
        for (const [r, t] of src.bad ?? []) if (r >= at && r < at + length) (c.bad ??= new Map()).set(r - at, t);
      }
    });
    batches.push({ firstRow: from + at + 1, length, columns, rowProblems: [], end: { offset: from + at + length, row: from + at + length } });
  }
  return batches;
}

/** A digest of batches (boundaries, cells, problem notes): equal digests = the same batches. */
function digest(batches: readonly ColumnBatch[]): string {
  const h = crypto.createHash('sha256');
  for (const b of batches) {
    h.update(JSON.stringify([b.firstRow, b.length, b.end]));
    for (const c of b.columns) {
      if (c.kind === 'string') h.update(JSON.stringify(c.values));
      else {
        h.update(new Uint8Array(c.values.buffer, c.values.byteOffset, c.values.byteLength));
        h.update(c.status);
        h.update(JSON.stringify([...(c.bad ?? [])]));
      }
    }
  }
  return h.digest('hex');
}

async function read(file: string, request: readonly ColumnRequest[], batchRows: number, from = 0): Promise<ColumnBatch[]> {
  const source = await openSource(file);
  try {
    const out: ColumnBatch[] = [];
    for await (const b of source.batches(request, { batchRows, ...(from ? { from: { offset: from, row: from } } : {}) })) out.push(b);
    return out;
  } finally {
    await source.close();
  }
}

test('real Parquet: flights-3m (ZSTD, dictionary pages, 11 row groups) reads exactly as through parquetRead', async () => {
  // the bench model's inputs over all 3M rows, batches spanning row-group boundaries
  const inputs: ColumnRequest[] = [{ name: 'distance', kind: 'number' }, { name: 'origin', kind: 'string' }];
  const mine = await read(FLIGHTS, inputs, 8192);
  assert.equal(mine.reduce((n, b) => n + b.length, 0), 3_000_000);
  assert.equal(digest(mine), digest(await reference(FLIGHTS, inputs, 8192)));
  // every column as numbers and as text, resumed inside the last row group
  const names = ['date', 'delay', 'distance', 'origin', 'destination'];
  const from = 2_950_000;
  const tails: ReturnType<typeof toRows>['rows'][] = [];
  for (const kind of ['number', 'string'] as const) {
    const every = names.map((name): ColumnRequest => ({ name, kind }));
    const tail = await read(FLIGHTS, every, 5000, from);
    assert.equal(tail[0].firstRow, from + 1);
    assert.equal(digest(tail), digest(await reference(FLIGHTS, every, 5000, from)), kind);
    tails.push(toRows(tail.slice(-2)).rows);
  }
  // and the cells mean what they should: the same value through both kinds, text in a number column unparsable
  tails[0].forEach((num, i) => {
    const text = tails[1][i];
    assert.equal(num[0], Date.parse(text[0] as string));
    assert.equal(String(num[1]), text[1]);
    assert.equal(String(num[2]), text[2]);
    assert.deepEqual(num[3], { bad: text[3] });
    assert.match(text[4] as string, /^[A-Z0-9]{3}$/);
  });
});

test('written Parquet: nulls, PLAIN and dictionary pages, every type, a list column, small pages and row groups', async () => {
  const n = 5000;
  const file = path.join(dir, 'mixed.parquet');
  const pick = <T>(i: number, every: number, value: T): T | null => (i % every === 0 ? null : value);
  const data = {
    f64: Array.from({ length: n }, (_, i) => pick(i, 7, i * 0.25 - 300)),
    f32: Float32Array.from({ length: n }, (_, i) => i / 3),
    i32: Array.from({ length: n }, (_, i) => pick(i, 11, (i * 7919) % 1000)),
    i64: Array.from({ length: n }, (_, i) => pick(i, 13, BigInt(i % 17) * 10n ** 12n)),
    flag: Array.from({ length: n }, (_, i) => pick(i, 5, i % 3 === 0)),
    code: Array.from({ length: n }, (_, i) => pick(i, 9, ['ATL', 'SFO', 'NA', '12.5', ''][i % 5])),
    text: Array.from({ length: n }, (_, i) => pick(i, 4, `row ${i} ${'x'.repeat(i % 40)}`)),
    when: Array.from({ length: n }, (_, i) => pick(i, 6, new Date(Date.UTC(2001, 0, 1) + i * 60_000))),
    list: Array.from({ length: n }, (_, i) => (i % 8 === 0 ? null : [i, i + 1])),
  };
  const columnData = Object.entries(data).map(([name, values]) => ({ name, data: values as never, ...(name === 'text' ? { encoding: 'PLAIN' as const } : {}) }));
  fs.writeFileSync(file, new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: 1800, pageSize: 2048 })));
  const meta = parquetMetadata(fs.readFileSync(file).buffer as ArrayBuffer);
  assert.equal(meta.row_groups.length, 3);
  const encodings = new Set(meta.row_groups.flatMap((g) => g.columns.flatMap((c) => c.meta_data!.encodings)));
  assert.ok(encodings.has('RLE_DICTIONARY') && encodings.has('PLAIN'), [...encodings].join());
  const numbers = Object.keys(data).map((name): ColumnRequest => ({ name, kind: 'number' }));
  const strings = Object.keys(data).map((name): ColumnRequest => ({ name, kind: 'string' }));
  for (const request of [numbers, strings]) {
    for (const [batchRows, from] of [[1000, 0], [777, 0], [64, 1799], [5000, 4999]] as const) {
      const mine = await read(file, request, batchRows, from);
      assert.equal(digest(mine), digest(await reference(file, request, batchRows, from)), `${request[0].kind}: batchRows ${batchRows} from ${from}`);
    }
  }
  // spot checks against the values written (not only against the previous reader): number, text
  const asNumbers = toRows(await read(file, numbers, 1000)).rows;
  const asText = toRows(await read(file, strings, 1000)).rows;
  const rows = asNumbers.map((r, i) => r.flatMap((c, j) => [c, asText[i][j]]));
  assert.deepEqual(rows[1].slice(0, 2), [-299.75, '-299.75']);
  assert.deepEqual(rows[7].slice(0, 2), [null, null]);
  assert.deepEqual(rows[0].slice(10, 12), [null, null]);
  assert.deepEqual(rows[2].slice(10, 12), [null, 'NA']);
  assert.deepEqual(rows[3].slice(10, 12), [12.5, '12.5']);
  assert.deepEqual(rows[4].slice(10, 12), [null, '']);
  assert.deepEqual(rows[1].slice(16, 18), [{ bad: '[1,2]' }, '[1,2]']);
});

test('scoring a Parquet file gives byte-identical output to scoring the same rows as CSV', async () => {
  // a slice of flights-3m (real values) as Parquet with several row groups, and the same rows as CSV
  const rows = 40_000;
  const taken = (await read(FLIGHTS, [{ name: 'distance', kind: 'number' }, { name: 'origin', kind: 'string' }], rows))[0];
  const [distance, origin] = taken.columns as unknown as [{ values: Float64Array }, { values: (string | null)[] }];
  const pq = path.join(dir, 'flights-40k.parquet');
  fs.writeFileSync(pq, new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'distance', data: Array.from(distance.values, BigInt) }, { name: 'origin', data: origin.values }], rowGroupSize: 15_000 })));
  const csv = path.join(dir, 'flights-40k.csv');
  fs.writeFileSync(csv, 'distance,origin\n' + Array.from(distance.values, (d, i) => `${d},${origin.values[i]}`).join('\n') + '\n');
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  const store = openStore(home);
  try {
    const vocabulary = [...new Set(origin.values as string[])].sort();
    const sample = { distance: Array.from(distance.values.subarray(0, 2000)), origin: origin.values.slice(0, 2000), late: Array.from({ length: 2000 }, (_, i) => (distance.values[i] > 800 ? 'late' : 'on-time')) };
    const model = trainModel({
      task: 'binary',
      features: [{ name: 'distance', type: 'int', range: { min: 0, max: 10000 } }, { name: 'origin', type: 'category', vocabulary }],
      data: { rows: 2000, columns: sample },
      target: 'late',
      classes: ['on-time', 'late'],
      options: { hidden: 0, activation: 'tanh', epochs: 1, batchSize: 256, learningRate: 0.01, l2: 0, seed: 1 },
    });
    const pkg = path.join(home, 'pkg');
    fs.mkdirSync(pkg);
    fs.writeFileSync(path.join(pkg, 'model.onnx'), exportOnnx(model));
    fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify(buildCard(model, { name: 'flight-delay', version: 1 })));
    installPackage(store, pkg, { source: 'local', allowUnsigned: true });
    const fromParquet = await scoreFile(store, { input: pq, model: 'flight-delay', out: path.join(dir, 'a.scored.parquet'), batchRows: 4096 });
    const fromCsv = await scoreFile(store, { input: csv, model: 'flight-delay', out: path.join(dir, 'b.scored.parquet'), batchRows: 4096 });
    assert.equal(fromParquet.job.rowsScored, rows);
    assert.equal(fromCsv.job.rowsScored, rows);
    assert.ok(fs.readFileSync(path.join(dir, 'a.scored.parquet')).equals(fs.readFileSync(path.join(dir, 'b.scored.parquet'))), 'the two outputs differ');
  } finally {
    store.close();
  }
});

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp, file: string): Promise<OutpostError> {
  let error: OutpostError | undefined;
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof OutpostError, `not an OutpostError: ${String(e)}`);
    assert.equal(e.code, 'input');
    assert.match(e.message, pattern);
    assert.equal(e.location.file, file);
    error = e;
    return true;
  });
  return error!;
}

test('damaged Parquet: corrupt or missing bytes name the file, the row group and the column', async () => {
  const real = fs.readFileSync(FLIGHTS);
  const meta = parquetMetadata(real.buffer.slice(real.byteOffset, real.byteOffset + real.byteLength) as ArrayBuffer);
  const chunk = meta.row_groups[2].columns.find((c) => c.meta_data!.path_in_schema[0] === 'origin')!.meta_data!;
  const start = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset);
  const size = Number(chunk.total_compressed_size);
  const inputs: ColumnRequest[] = [{ name: 'distance', kind: 'number' }, { name: 'origin', kind: 'string' }];

  // garbage over the middle of row group 3's "origin" chunk (page headers and compressed data)
  const corrupt = Buffer.from(real);
  for (let i = start + 50; i < start + size - 50; i++) corrupt[i] = (i * 131) & 0xff;
  const corruptFile = path.join(dir, 'corrupt.parquet');
  fs.writeFileSync(corruptFile, corrupt);
  let seen = 0;
  const e = await rejectsWith((async () => {
    const source = await openSource(corruptFile);
    try {
      for await (const b of source.batches(inputs, { batchRows: 8192 })) seen += b.length;
    } finally {
      await source.close();
    }
  })(), /row group 3 of 11 \(rows 545455–818181\), column "origin"/, corruptFile);
  assert.equal(e.location.row, 545_455);
  assert.equal(e.location.field, 'origin');
  assert.ok(seen <= 545_454, `read ${seen} rows before the damaged group`);

  // the middle of the file cut out, the footer kept: row groups 3… point past the end of the data
  const cut = Buffer.concat([real.subarray(0, start), real.subarray(real.length - 8 - real.readUInt32LE(real.length - 8))]);
  const cutFile = path.join(dir, 'cut.parquet');
  fs.writeFileSync(cutFile, cut);
  await rejectsWith(read(cutFile, inputs, 8192), /row group 3 of 11 .*column "(distance|origin)".*(truncated|ends|past)/, cutFile);

  // cut short, footer lost: no row group can be named, the file and the reason are
  const short = path.join(dir, 'short.parquet');
  fs.writeFileSync(short, real.subarray(0, start + 1000));
  await rejectsWith(openSource(short), /truncated/, short);
});
