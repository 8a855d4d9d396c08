// openSource end to end on real files: the checks at open, missing columns, resume, and the
// three formats on real data from vega-datasets (CSV, TSV, JSON converted to JSONL, Parquet).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { OutpostError } from '../src/common/errors.ts';
import { openSource } from '../src/io/node/open.ts';
import type { ColumnRequest, TableSource } from '../src/io/common/table.ts';
import { collect, tempDir, toRows } from './helpers/io-helpers.ts';

const data = path.join(import.meta.dirname, '..', 'node_modules', 'vega-datasets', 'data');
const dir = tempDir();
let n = 0;
const write = (name: string, content: string | Uint8Array): string => {
  const file = path.join(dir, `${n++}-${name}`);
  fs.writeFileSync(file, content);
  return file;
};

async function rejects(promise: Promise<unknown>, code: string, pattern: RegExp, file?: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof OutpostError, `not an OutpostError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    if (file !== undefined) assert.equal(e.location.file, file);
    return true;
  });
}

async function readAll(source: TableSource, request: ColumnRequest[], batchRows = 1000) {
  try {
    return toRows(await collect(source, request, { batchRows }));
  } finally {
    await source.close();
  }
}

test('open: a missing file, a directory and an empty file are input errors naming the file', async () => {
  const missing = path.join(dir, 'nope.csv');
  await rejects(openSource(missing), 'input', /not found/, missing);
  const sub = path.join(dir, 'folder.csv');
  fs.mkdirSync(sub);
  await rejects(openSource(sub), 'input', /directory/, sub);
  // without an extension too: what is wrong is the path, not its name
  const folder = path.join(dir, 'inputs');
  fs.mkdirSync(folder);
  await rejects(openSource(folder), 'input', /is a directory, not a file/, folder);
  await rejects(openSource(path.join(dir, 'nope')), 'input', /not found/, path.join(dir, 'nope'));
  for (const ext of ['csv', 'jsonl', 'parquet']) {
    const empty = write(`empty.${ext}`, '');
    await rejects(openSource(empty), 'input', /empty \(0 bytes\)/, empty);
  }
});

test('open: the format comes from the extension or the option; otherwise a usage error', async () => {
  const file = write('table.dat', 'a,b\n1,2\n');
  await rejects(openSource(file), 'usage', /cannot tell the format/, file);
  const source = await openSource(file, { format: 'csv' });
  assert.deepEqual(source.columns, ['a', 'b']);
  await source.close();
  await rejects(openSource(file, { format: 'xlsx' as never }), 'usage', /unknown format/);
  await rejects(openSource(write('t.csv', 'a\n1\n'), { delimiter: '.' }), 'usage', /invalid delimiter/);
  await rejects(openSource(write('t.csv', 'a\n1\n'), { delimiter: ';;' }), 'usage', /invalid delimiter/);
});

test('open: a header-only CSV, or one with only blank lines after it, has no data rows', async () => {
  for (const text of ['a,b,c', 'a,b,c\n', 'a,b,c\r\n\r\n\n']) {
    const file = write('header.csv', text);
    await rejects(openSource(file), 'input', /header but no data rows/, file);
  }
  await rejects(openSource(write('blank.csv', '\n\n\r\n')), 'input', /no header line/);
});

test('open: binary garbage is rejected at open, whatever its extension says', async () => {
  const png = fs.readFileSync(path.join(data, 'gimp.png'));
  const csv = write('image.csv', png);
  await rejects(openSource(csv), 'input', /NUL bytes|not valid UTF-8|binary/, csv);
  const jsonl = write('image.jsonl', png);
  await rejects(openSource(jsonl), 'input', /NUL bytes|JSON/, jsonl);
  const parquet = write('image.parquet', png);
  await rejects(openSource(parquet), 'input', /not a Parquet file/, parquet);
  const csvAsParquet = write('data.parquet', 'a,b\n1,2\n');
  await rejects(openSource(csvAsParquet), 'input', /not a Parquet file/, csvAsParquet);
  // invalid UTF-8 without NUL bytes
  const latin1 = write('latin1.csv', new Uint8Array([0x6e, 0x61, 0xef, 0x76, 0x65, 0x2c, 0x62, 0x0a, 0x31, 0x2c, 0x32, 0x0a]));
  await rejects(openSource(latin1), 'input', /not valid UTF-8/, latin1);
  // a Parquet file cut short keeps its head magic but loses its footer
  const real = fs.readFileSync(path.join(data, 'flights-3m.parquet'));
  const truncated = write('cut.parquet', real.subarray(0, 100_000));
  await rejects(openSource(truncated), 'input', /Parquet/, truncated);
  // both PAR1 markers, garbage between: the footer is named damaged, not a JavaScript TypeError
  const garbage = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 0x41), Buffer.from([20, 0, 0, 0]), Buffer.from('PAR1')]);
  const footer = write('garbage-footer.parquet', garbage);
  await rejects(openSource(footer), 'input', /cannot read the Parquet metadata: its footer is damaged \(not valid Parquet metadata\)$/, footer);
  const jsonArray = write('array.jsonl', '[1,2,3]\n[4]\n');
  await rejects(openSource(jsonArray), 'input', /not a JSON object/, jsonArray);
});

test('open: duplicate header names are an input error listing them and where; allowed, only reading one of them is', async () => {
  const file = write('dup.csv', 'id,x,y,x,id\n1,2,3,4,5\n');
  await rejects(openSource(file), 'input', /duplicate column names in the header: "id" \(columns 1 and 5\), "x" \(columns 2 and 4\)$/, file);
  const source = await openSource(file, { allowRepeatedColumns: true });
  assert.deepEqual(toRows(await collect(source, [{ name: 'y', kind: 'number' }], { batchRows: 10 })).rows, [[3]]);
  const it = source.batches([{ name: 'y', kind: 'number' }, { name: 'x', kind: 'number' }], { batchRows: 10 })[Symbol.asyncIterator]();
  await rejects(it.next(), 'input', /column "x" \(columns 2 and 4\) appears more than once in the file: which one to read cannot be known/, file);
  await source.close();
});

test('batches: requested columns missing from the file are all named before any batch is read', async () => {
  for (const [name, content] of [['m.csv', 'a,b\n1,2\n'], ['m.jsonl', '{"a":1,"b":2}\n']] as const) {
    const source = await openSource(write(name, content));
    const it = source.batches([{ name: 'a', kind: 'number' }, { name: 'zz', kind: 'number' }, { name: 'yy', kind: 'string' }], { batchRows: 10 })[Symbol.asyncIterator]();
    await rejects(it.next(), 'input', /columns "zz", "yy" not found \(the file has: "a", "b"\)/, source.path);
    await source.close();
  }
  const parquet = await openSource(path.join(data, 'flights-3m.parquet'));
  const it = parquet.batches([{ name: 'delay', kind: 'number' }, { name: 'tail_number', kind: 'string' }, { name: 'carrier', kind: 'string' }], { batchRows: 10 })[Symbol.asyncIterator]();
  await rejects(it.next(), 'input', /"tail_number", "carrier" not found/);
  await parquet.close();
});

test('real CSV: seattle-weather.csv, all rows, known values, LF and no BOM', async () => {
  const source = await openSource(path.join(data, 'seattle-weather.csv'));
  assert.deepEqual(source.columns, ['date', 'precipitation', 'temp_max', 'temp_min', 'wind', 'weather']);
  assert.equal(source.totalRows, undefined);
  const r = await readAll(source, [{ name: 'weather', kind: 'string' }, { name: 'precipitation', kind: 'number' }, { name: 'temp_min', kind: 'number' }, { name: 'date', kind: 'string' }], 100);
  assert.equal(r.rows.length, 1461);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.rows[0], ['drizzle', 0, 5, '2012-01-01']);
  assert.deepEqual(r.rows[1], ['rain', 10.9, 2.8, '2012-01-02']);
  assert.deepEqual(r.rows[1460], ['sun', 0, -2.1, '2015-12-31']);
});

test('real TSV: unemployment.tsv by extension (tab delimiter), numbers like ".097"', async () => {
  const source = await openSource(path.join(data, 'unemployment.tsv'));
  assert.deepEqual(source.columns, ['id', 'rate']);
  const r = await readAll(source, [{ name: 'id', kind: 'string' }, { name: 'rate', kind: 'number' }]);
  assert.deepEqual(r.rows[0], ['1001', 0.097]);
  assert.ok(r.rows.length > 3000);
  assert.deepEqual(r.problems, []);
});

test('real JSONL: cars.json converted to JSON Lines (with nulls, CRLF and blank lines)', async () => {
  const cars = JSON.parse(fs.readFileSync(path.join(data, 'cars.json'), 'utf8')) as Record<string, unknown>[];
  const file = write('cars.jsonl', `${cars.map((c, i) => JSON.stringify(c) + (i % 7 === 0 ? '\r\n\n' : '\n')).join('')}`);
  const source = await openSource(file);
  assert.deepEqual(source.columns, Object.keys(cars[0]));
  const r = await readAll(source, [{ name: 'Name', kind: 'string' }, { name: 'Miles_per_Gallon', kind: 'number' }, { name: 'Year', kind: 'string' }, { name: 'Cylinders', kind: 'number' }], 64);
  assert.equal(r.rows.length, cars.length);
  assert.deepEqual(r.rows[0], ['chevrolet chevelle malibu', 18, '1970-01-01', 8]);
  r.rows.forEach((row, i) => assert.equal(row[1], cars[i].Miles_per_Gallon, `row ${i + 1}`)); // null stays missing
  assert.deepEqual(r.problems, []);
});

test('real Parquet: flights-3m.parquet (ZSTD): metadata, known rows, bounded reads from an offset', async () => {
  const source = await openSource(path.join(data, 'flights-3m.parquet'));
  assert.equal(source.totalRows, 3_000_000);
  assert.deepEqual(source.columns, ['date', 'delay', 'distance', 'origin', 'destination']);
  const request: ColumnRequest[] = [{ name: 'delay', kind: 'number' }, { name: 'origin', kind: 'string' }, { name: 'date', kind: 'string' }, { name: 'distance', kind: 'number' }];
  // the last rows only: one row group is decoded, not the file
  const tail = toRows(await collect(source, request, { batchRows: 4, from: { offset: 2_999_990, row: 2_999_990 } }));
  assert.equal(tail.rows.length, 10);
  assert.deepEqual(tail.rows[0], [16, 'ATL', '2001-06-30T23:59:00.000Z', tail.rows[0][3]]);
  assert.deepEqual(tail.rows[1].slice(0, 2), [87, 'PIT']);
  // the first row, through an early stop after one batch
  for await (const b of source.batches([{ name: 'date', kind: 'number' }, { name: 'delay', kind: 'string' }, { name: 'destination', kind: 'string' }], { batchRows: 3 })) {
    assert.equal(b.firstRow, 1);
    assert.deepEqual(toRows([b]).rows, [[Date.UTC(2001, 0, 1, 0, 1), '33', 'PHL'], [Date.UTC(2001, 0, 1, 0, 1), '19', 'SAV'], [Date.UTC(2001, 0, 1, 0, 1), '14', 'MDW']]);
    assert.deepEqual(b.end, { offset: 3, row: 3 });
    break;
  }
  await rejects(collect(source, request, { batchRows: 4, from: { offset: 3_000_001, row: 3_000_001 } }), 'input', /cannot resume at row/);
  await source.close();
});

test('resume: CSV and JSONL from a mid-file ResumePoint give exactly the remaining rows', async () => {
  let csv = 'id,v,name\n';
  let jsonl = '';
  for (let i = 1; i <= 500; i++) {
    csv += `${i},${i / 4},"n ${i}${i % 50 === 0 ? '\n(two lines)' : ''}"\r\n`;
    jsonl += `${JSON.stringify({ id: i, v: i / 4, name: `n ${i}` })}\n${i % 9 === 0 ? '\n' : ''}`;
  }
  for (const [name, content] of [['r.csv', csv], ['r.jsonl', jsonl]] as const) {
    const file = write(name, content);
    const request: ColumnRequest[] = [{ name: 'id', kind: 'number' }, { name: 'v', kind: 'number' }];
    const source = await openSource(file);
    const batches = await collect(source, request, { batchRows: 64 });
    const all = toRows(batches).rows;
    assert.equal(all.length, 500);
    for (const b of batches.slice(0, -1)) {
      const rest = await collect(source, request, { batchRows: 100, from: b.end });
      assert.equal(rest[0].firstRow, b.end.row + 1);
      assert.deepEqual(toRows(rest).rows, all.slice(b.end.row), `${name} from ${JSON.stringify(b.end)}`);
    }
    await rejects(collect(source, request, { batchRows: 10, from: { offset: content.length + 10, row: 3 } }), 'input', /cannot resume at byte/);
    await source.close();
  }
});

test('cancel: an aborted signal stops reading with a cancelled error', async () => {
  const source = await openSource(path.join(data, 'seattle-weather.csv'));
  const controller = new AbortController();
  let batches = 0;
  await rejects((async () => {
    for await (const _ of source.batches([{ name: 'wind', kind: 'number' }], { batchRows: 100, signal: controller.signal })) {
      batches++;
      controller.abort();
    }
  })(), 'cancelled', /cancelled/);
  assert.equal(batches, 1);
  await source.close();
});
