// The parallel CSV reader (src/io/node/csv-parallel.ts) must read exactly what the sequential one
// reads: every cell (value, status, bad text, marker, reason), every row problem with its row
// number, and end on the same offset and row count — whatever the span size, the thread count and
// wherever quoted line breaks fall against the cuts (the cut is a guess the reader must check).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { OutpostError } from '../src/common/errors.ts';
import type { ColumnBatch, ColumnRequest } from '../src/io/common/table.ts';
import { releaseBatch } from '../src/io/common/cells.ts';
import { stringValues } from '../src/io/common/utf8-cells.ts';
import { defaultDecodeThreads, parallelCsvBatches } from '../src/io/node/csv-parallel.ts';
import { openSource } from '../src/io/node/open.ts';
import { readWrittenCells } from '../src/io/node/written-cells.ts';
import { collect, prng, tempDir } from './helpers/io-helpers.ts';
import { parquetWriteBuffer } from 'hyparquet-writer';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Every row as comparable cells, every problem, and the batches' bookkeeping checked on the way. */
function flatten(batches: ColumnBatch[], firstRow: number) {
  const rows: unknown[][] = [];
  const problems: unknown[] = [];
  let next = firstRow;
  for (const b of batches) {
    assert.equal(b.firstRow, next, 'batches follow each other without gaps');
    assert.equal(b.end.row, b.firstRow - 1 + b.length);
    next += b.length;
    problems.push(...b.rowProblems);
    for (let r = 0; r < b.length; r++) {
      rows.push(b.columns.map((c) => c.kind === 'string'
        ? stringValues(c)[r]
        : [Object.is(c.values[r], -0) ? '-0' : c.values[r], c.status[r], c.bad?.get(r), c.markers?.get(r), c.reasons?.get(r)]));
    }
  }
  return { rows, problems, end: batches.at(-1)?.end };
}

async function readBoth(file: string, request: ColumnRequest[], opts: { spanBytes: number; threads: number; batchRows?: number; from?: { offset: number; row: number } }) {
  const src = await openSource(file);
  try {
    const seq: ColumnBatch[] = [];
    for await (const b of src.batches(request, { batchRows: opts.batchRows ?? 100, decodeThreads: 0, ...(opts.from ? { from: opts.from } : {}) })) seq.push(b);
    const handle = await fs.promises.open(file);
    const par: ColumnBatch[] = [];
    try {
      const header = src.columns;
      const start = opts.from?.offset ?? headerEnd(file);
      for await (const b of parallelCsvBatches({ file, handle, size: fs.statSync(file).size, delimiter: 44, header, request, batchRows: opts.batchRows ?? 100, start, rowsBefore: opts.from?.row ?? 0, threads: opts.threads, spanBytes: opts.spanBytes })) par.push(b);
    } finally {
      await handle.close();
    }
    return { seq: flatten(seq, (opts.from?.row ?? 0) + 1), par: flatten(par, (opts.from?.row ?? 0) + 1) };
  } finally {
    await src.close();
  }
}

/** Offset of the first data byte: after the header line (the headers here have no quotes). */
const headerEnd = (file: string): number => fs.readFileSync(file).indexOf(10) + 1;

/** A hostile CSV: quoted fields with line breaks (some long enough to cross several spans), escaped
 * quotes, CRLF and CR, blank lines, short and long rows, junk numbers, markers, invalid UTF-8. */
function hostileCsv(rows: number, seed: number): Buffer {
  const rnd = prng(seed);
  const parts: Buffer[] = [Buffer.from('id,a,b,note,c\n')];
  for (let i = 0; i < rows; i++) {
    const k = rnd();
    const num = () => (rnd() < 0.05 ? ['NA', '', ' 1.5 ', 'x1', '1e400', '"2.5"', 'NaN', '-0'][Math.floor(rnd() * 8)] : (rnd() * 200 - 100).toPrecision(1 + Math.floor(rnd() * 16)));
    let note: string;
    if (k < 0.1) note = `"line one\nline two, with comma and ""quote""\r\nthree"`;
    else if (k < 0.12) note = `"${'long quoted\n'.repeat(200 + Math.floor(rnd() * 400))}"`; // crosses spans
    else if (k < 0.14) note = 'caf\u00e9 ünïcode';
    else if (k < 0.15) note = '"unexpected"tail';
    else note = `n${i}`;
    let line = `r${i},${num()},${num()},${note},${num()}`;
    if (rnd() < 0.01) line += ',extra';
    if (rnd() < 0.01) line = `r${i},1`;
    const end = rnd() < 0.05 ? '\r\n' : rnd() < 0.01 ? '\r' : '\n';
    parts.push(Buffer.from(line + end));
    if (rnd() < 0.01) parts.push(Buffer.from('\n\n'));
    if (rnd() < 0.003) parts.push(Buffer.from([0x72, 0x2c, 0x31, 0x2c, 0x32, 0x2c, 0xff, 0xfe, 0x2c, 0x33, 0x0a])); // invalid UTF-8 in a string cell
  }
  return Buffer.concat(parts);
}

const request: ColumnRequest[] = [{ name: 'a', kind: 'number' }, { name: 'note', kind: 'string' }, { name: 'c', kind: 'number' }, { name: 'id', kind: 'string' }, { name: 'b', kind: 'number' }];

test('parallel decoding reads exactly the sequential rows, whatever the span size and thread count', { timeout: 300_000 }, async () => {
  const file = path.join(root, 'hostile.csv');
  fs.writeFileSync(file, hostileCsv(6000, 11));
  for (const [spanBytes, threads] of [[997, 2], [4096, 1], [4096, 3], [65_536, 2], [1 << 24, 2]] as const) {
    const { seq, par } = await readBoth(file, request, { spanBytes, threads });
    assert.ok(seq.rows.length >= 6000 && seq.problems.length > 50, 'the file exercises rows and problems');
    assert.deepEqual(par.problems, seq.problems, `problems, span ${spanBytes} × ${threads}`);
    assert.deepEqual(par.rows, seq.rows, `rows, span ${spanBytes} × ${threads}`);
    assert.deepEqual(par.end, seq.end);
    assert.equal(seq.end!.offset, fs.statSync(file).size);
  }
});

test('parallel decoding resumes from a resume point like the sequential reader', { timeout: 120_000 }, async () => {
  const file = path.join(root, 'hostile2.csv');
  fs.writeFileSync(file, hostileCsv(3000, 5));
  const src = await openSource(file);
  let from: { offset: number; row: number } | undefined;
  let n = 0;
  for await (const b of src.batches(request, { batchRows: 100, decodeThreads: 0 })) if (++n === 7) { from = b.end; break; }
  await src.close();
  assert.ok(from && from.row === 700);
  const { seq, par } = await readBoth(file, request, { spanBytes: 2000, threads: 2, from });
  assert.deepEqual(par.problems, seq.problems);
  assert.deepEqual(par.rows, seq.rows);
  assert.deepEqual(par.end, seq.end);
});

test('each batch, sequential or from a decode thread, says where it starts: its cells read again as written are the file\'s', { timeout: 120_000 }, async () => {
  const file = path.join(root, 'hostile3.csv');
  fs.writeFileSync(file, hostileCsv(3000, 7));
  const src = await openSource(file);
  try {
    // every row's "a" as text, read once straight through
    const text = new Map<number, string | null>();
    for await (const b of src.batches([{ name: 'a', kind: 'string' }], { batchRows: 5000, decodeThreads: 0 })) {
      const col = b.columns[0];
      if (col.kind === 'string') col.values.forEach((v, i) => text.set(b.firstRow + i, v));
    }
    const handle = await fs.promises.open(file);
    const batches: ColumnBatch[] = [];
    try {
      for await (const b of parallelCsvBatches({ file, handle, size: fs.statSync(file).size, delimiter: 44, header: src.columns, request, batchRows: 100, start: headerEnd(file), rowsBefore: 0, threads: 2, spanBytes: 3000 })) batches.push(b);
    } finally {
      await handle.close();
    }
    for await (const b of src.batches(request, { batchRows: 100, decodeThreads: 0 })) batches.push(b);
    let checked = 0;
    for (const b of batches) {
      const rows = [0, Math.floor(b.length / 2), b.length - 1];
      const again = await readWrittenCells(src, b, rows.map((row) => ({ row, column: 'a' })));
      rows.forEach((row, k) => {
        if (b.rowProblems.some((p) => p.row === b.firstRow + row)) return; // a structurally bad row has no cells
        assert.equal(again[k] ?? null, text.get(b.firstRow + row), `row ${b.firstRow + row} (batch from ${b.start})`);
        checked++;
      });
    }
    assert.ok(checked > 150, `${checked} cells checked`);
  } finally {
    await src.close();
  }
});

test('a file without a final line break, CR-only line ends and an unterminated quote at the end', { timeout: 120_000 }, async () => {
  const file = path.join(root, 'odd.csv');
  const body = Array.from({ length: 3000 }, (_, i) => `r${i},${i / 7},${-i},"x\ny",${i}`).join('\n');
  fs.writeFileSync(file, `id,a,b,note,c\n${body}\r${body}\n"unterminated,1,2,3,4\nmore`);
  const { seq, par } = await readBoth(file, request, { spanBytes: 1500, threads: 2 });
  assert.deepEqual(par.problems, seq.problems);
  assert.deepEqual(par.rows, seq.rows);
  assert.deepEqual(par.end, seq.end);
  assert.ok(seq.problems.some((p) => /unterminated quoted field/.test((p as { reason: string }).reason)));
});

test('an unterminated quote mid-file swallows every later cut and is reported on its absolute row', { timeout: 120_000 }, async () => {
  const file = path.join(root, 'runaway.csv');
  const good = Array.from({ length: 500 }, (_, i) => `r${i},1,2,n,3`).join('\n');
  fs.writeFileSync(file, `id,a,b,note,c\n${good}\nr500,1,2,"never closed,3\n${'x,1,2,y,3\n'.repeat(20_000)}`);
  const handle = await fs.promises.open(file);
  try {
    // the whole rest of the file is one quoted field, read to the end (across every later cut),
    // where it is reported as unterminated — on row 501, counted across the spans
    const seqRows: ColumnBatch[] = [];
    const src = await openSource(file);
    for await (const b of src.batches(request, { batchRows: 64, decodeThreads: 0 })) seqRows.push(b);
    await src.close();
    const par: ColumnBatch[] = [];
    for await (const b of parallelCsvBatches({ file, handle, size: fs.statSync(file).size, delimiter: 44, header: ['id', 'a', 'b', 'note', 'c'], request, batchRows: 64, start: headerEnd(file), rowsBefore: 0, threads: 2, spanBytes: 1024 })) par.push(b);
    assert.deepEqual(flatten(par, 1), flatten(seqRows, 1));
    assert.equal(flatten(par, 1).problems.length, 1);
    assert.deepEqual((flatten(par, 1).problems[0] as { row: number }).row, 501);
  } finally {
    await handle.close();
  }
});

test('openSource decodes a large file on threads and gives the same rows as on one thread', { timeout: 300_000 }, async () => {
  const file = path.join(root, 'big.csv');
  const rnd = prng(3);
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, 'id,a,b,note,c\n');
  let bytes = 0;
  for (let chunk = 0; bytes < 34 * 1024 * 1024; chunk++) {
    let s = '';
    for (let i = 0; i < 5000; i++) s += `r${chunk}-${i},${(rnd() * 100).toFixed(4)},${(rnd() - 0.5).toExponential(5)},${rnd() < 0.01 ? '"a\nb"' : 'plain'},${Math.floor(rnd() * 1e6)}\n`;
    bytes += fs.writeSync(fd, s);
  }
  fs.closeSync(fd);
  const sums = async (decodeThreads: number) => {
    const src = await openSource(file);
    let rows = 0;
    let sum = 0;
    let ids = 0;
    let last: ColumnBatch['end'] | undefined;
    for await (const b of src.batches(request, { batchRows: 8192, decodeThreads })) {
      const a = b.columns[0];
      if (a.kind === 'number') for (let i = 0; i < b.length; i++) sum += a.values[i] * ((rows + i) % 1000); // order-sensitive
      rows += b.length;
      const id = b.columns[3];
      if (id.kind === 'string') for (let i = 0; i < b.length; i++) ids += (stringValues(id)[i] ?? '').length;
      last = b.end;
    }
    await src.close();
    return { rows, sum, ids, last };
  };
  assert.deepEqual(await sums(2), await sums(0));
});

test('a decode error inside a thread surfaces as the input error, not a crash', { timeout: 60_000 }, async () => {
  const file = path.join(root, 'gone.csv');
  fs.writeFileSync(file, 'id,a,b,note,c\n' + 'r,1,2,n,3\n'.repeat(1000));
  const handle = await fs.promises.open(file);
  try {
    // a request naming a column the header lacks: each thread's decoder refuses it
    await assert.rejects(async () => {
      for await (const b of parallelCsvBatches({ file, handle, size: fs.statSync(file).size, delimiter: 44, header: ['id', 'a', 'b', 'note', 'c'], request: [{ name: 'zz', kind: 'number' }], batchRows: 64, start: headerEnd(file), rowsBefore: 0, threads: 2, spanBytes: 1024 })) void b;
    }, (e: unknown) => e instanceof OutpostError && e.code === 'input' && /zz/.test(e.message));
  } finally {
    await handle.close();
  }
});

test('default decode threads: the cores beyond two; on two cores one span thread for a file read as numbers only', () => {
  const numbers: ColumnRequest[] = [{ name: 'a', kind: 'number' }, { name: 'b', kind: 'number' }];
  const withText: ColumnRequest[] = [...numbers, { name: 'id', kind: 'string', utf8: true }];
  assert.deepEqual([1, 2, 3, 8].map((cores) => defaultDecodeThreads(numbers, cores)), [0, 1, 1, 6]);
  assert.deepEqual([1, 2, 3, 8].map((cores) => defaultDecodeThreads(withText, cores)), [0, 0, 1, 6]);
});

test('batches whose number buffers are their own are marked owned, and releaseBatch frees exactly those: CSV (decoded here or on span threads) and JSONL; a Parquet batch is left alone', async () => {
  const dir = path.join(root, 'owned');
  fs.mkdirSync(dir);
  const csv = path.join(dir, 'a.csv');
  fs.writeFileSync(csv, hostileCsv(3000, 11));
  const request: ColumnRequest[] = [{ name: 'a', kind: 'number' }, { name: 'note', kind: 'string' }, { name: 'c', kind: 'number' }];
  const jsonl = path.join(dir, 'a.jsonl');
  fs.writeFileSync(jsonl, Array.from({ length: 700 }, (_, i) => JSON.stringify({ a: i / 3, note: `n${i}`, c: i % 7 === 0 ? null : -i })).join('\n') + '\n');
  const lists: [string, ColumnBatch[]][] = [];
  for (const [file, decodeThreads] of [[csv, 0], [csv, 2], [jsonl, 0]] as const) {
    const src = await openSource(file);
    try {
      lists.push([`${path.extname(file)} × ${decodeThreads}`, await collect(src, request, { batchRows: 100, decodeThreads })]);
    } finally {
      await src.close();
    }
  }
  // the CSV × 2 case must really come from span threads: force them on a small file
  const handle = await fs.promises.open(csv);
  const spans: ColumnBatch[] = [];
  try {
    for await (const b of parallelCsvBatches({ file: csv, handle, size: fs.statSync(csv).size, delimiter: 44, header: ['id', 'a', 'b', 'note', 'c'], request, batchRows: 100, start: headerEnd(csv), rowsBefore: 0, threads: 2, spanBytes: 4096 })) spans.push(b);
  } finally {
    await handle.close();
  }
  lists.push(['CSV span threads', spans]);
  for (const [name, batches] of lists) {
    assert.ok(batches.length > 3, name);
    // no two batches share a buffer: freeing one cannot touch another's cells
    const seen = new Set<ArrayBufferLike>();
    for (const b of batches) {
      assert.equal(b.owned, true, `${name}: batch from row ${b.firstRow} is owned`);
      for (const c of b.columns) {
        if (c.kind !== 'number') continue;
        for (const buf of [c.values.buffer, c.status.buffer]) {
          assert.ok(!seen.has(buf), `${name}: a buffer shared between batches`);
          seen.add(buf);
        }
      }
    }
    const [first, second] = batches;
    const before = JSON.stringify(Array.from((second.columns[0] as { values: Float64Array }).values));
    releaseBatch(first);
    for (const c of first.columns) {
      if (c.kind === 'number') assert.equal(c.values.length + c.status.length, 0, `${name}: released`);
      else assert.equal(c.values.length, first.length, `${name}: text columns are kept`);
    }
    assert.equal(JSON.stringify(Array.from((second.columns[0] as { values: Float64Array }).values)), before, `${name}: the next batch is untouched`);
  }
  const pq = path.join(dir, 'a.parquet');
  fs.writeFileSync(pq, new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'a', data: Array.from({ length: 500 }, (_, i) => i / 4) }, { name: 'note', data: Array.from({ length: 500 }, (_, i) => `n${i}`) }, { name: 'c', data: Array.from({ length: 500 }, (_, i) => -i) }], rowGroupSize: 200 })));
  const src = await openSource(pq);
  try {
    const batches = await collect(src, request, { batchRows: 100 });
    for (const b of batches) {
      assert.notEqual(b.owned, true, 'Parquet batches may be views of a row group');
      releaseBatch(b);
      assert.equal((b.columns[0] as { values: Float64Array }).values.length, b.length, 'a batch not owned is not freed');
    }
  } finally {
    await src.close();
  }
});
