// The CSV decoder (pure): RFC 4180 syntax, chunk boundaries, cell rules, row problems, offsets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsvDecoder } from '../src/io/common/csv-decoder.ts';
import { parseCsvHeader } from '../src/io/common/csv-header.ts';
import type { ColumnBatch, ColumnRequest } from '../src/io/common/table.ts';
import { OutpostError } from '../src/common/errors.ts';
import { stringValues, utf8Cell } from '../src/io/common/utf8-cells.ts';
import { PlainRows } from '../src/io/common/csv-plain-rows.ts';
import { prng, toRows } from './helpers/io-helpers.ts';

const enc = new TextEncoder();
const bytesOf = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? enc.encode(s) : s);

interface DecodeOptions { delimiter?: string; request?: ColumnRequest[]; batchRows?: number; chunks?: 'whole' | 'bytes' | number; from?: { offset: number; row: number }; wasm?: boolean; chunkBytes?: number }

/** Header + data through the decoder the way the file reader drives it. */
function decode(text: string | Uint8Array, opts: DecodeOptions = {}): { batches: ColumnBatch[]; header: string[]; dataStart: number; rowsParsedByWasm: number } {
  const bytes = bytesOf(text);
  const delimiter = (opts.delimiter ?? ',').charCodeAt(0);
  const header = parseCsvHeader(bytes, true, delimiter, 't.csv');
  assert.ok(header);
  const request = opts.request ?? header.names.map((name) => ({ name, kind: 'string' as const }));
  const start = opts.from?.offset ?? header.dataStart;
  const decoder = new CsvDecoder({ file: 't.csv', delimiter, header: header.names, request, batchRows: opts.batchRows ?? 1000, offset: start, rowsBefore: opts.from?.row ?? 0, ...(opts.wasm === false ? { wasm: false } : {}) });
  const batches: ColumnBatch[] = [];
  const data = bytes.subarray(start);
  const chunks = opts.chunks ?? 'whole';
  const rnd = prng(typeof chunks === 'number' ? chunks : 1);
  const chunkBytes = opts.chunkBytes ?? 17;
  let p = 0;
  while (p < data.length) {
    const size = chunks === 'whole' ? data.length : chunks === 'bytes' ? 1 : 1 + Math.floor(rnd() * chunkBytes);
    decoder.push(data.subarray(p, p + size));
    p += size;
    for (let b = decoder.next(false); b; b = decoder.next(false)) batches.push(b);
  }
  for (let b = decoder.next(true); b; b = decoder.next(true)) batches.push(b);
  return { batches, header: header.names, dataStart: header.dataStart, rowsParsedByWasm: decoder.rowsParsedByWasm };
}

const strings = (text: string, opts: DecodeOptions = {}) => toRows(decode(text, opts).batches);

test('csv: quoted fields, escaped quotes, embedded delimiters and line breaks', () => {
  const r = strings('a,b,c\n"x, y","say ""hi""","line1\nline2"\n"","plain",""""\n');
  assert.deepEqual(r.rows, [['x, y', 'say "hi"', 'line1\nline2'], ['', 'plain', '"']]);
  assert.deepEqual(r.problems, []);
  // CRLF inside quotes is data; CRLF outside ends the record
  assert.deepEqual(strings('a,b\r\n"1\r\n2",3\r\n').rows, [['1\r\n2', '3']]);
});

test('csv: LF, CRLF and CR line ends; trailing line break or not; blank lines skipped', () => {
  const want = [['1', '2'], ['3', '4']];
  for (const text of ['a,b\n1,2\n3,4\n', 'a,b\r\n1,2\r\n3,4\r\n', 'a,b\r1,2\r3,4\r', 'a,b\n1,2\n3,4', 'a,b\r\n1,2\r\n3,4', 'a,b\n1,2\n\n3,4\n\n\n', 'a,b\r\n\r\n1,2\r\n3,4\r\n\r\n']) {
    assert.deepEqual(strings(text).rows, want, JSON.stringify(text));
    assert.deepEqual(strings(text).problems, [], JSON.stringify(text));
  }
});

test('csv: UTF-8 BOM is not part of the first column name', () => {
  const d = decode('\uFEFFid,name\n1,Zoë\n');
  assert.deepEqual(d.header, ['id', 'name']);
  assert.equal(d.dataStart, 3 + 'id,name\n'.length);
  assert.deepEqual(toRows(d.batches).rows, [['1', 'Zoë']]);
});

test('csv: delimiters , ; tab | (and the others are ordinary characters)', () => {
  for (const delimiter of [',', ';', '\t', '|']) {
    const others = [',', ';', '\t', '|'].filter((d) => d !== delimiter).join('');
    const text = `a${delimiter}b\nx${others}y${delimiter}"q${delimiter}"\n`;
    assert.deepEqual(strings(text, { delimiter }).rows, [[`x${others}y`, `q${delimiter}`]], JSON.stringify(delimiter));
  }
});

test('csv: the result is the same for any chunking (whole, 1-byte, random sizes) and batch size', () => {
  const text = '\uFEFFid,"na,me",v\r\n1,"a ""q"" b",1.5\r\n2,"multi\nline",-2e3\n\n3,,NA\n4,"x",1e309\n5,short\n6,"ok",  7  \n7,"tail",8';
  const reference = decode(text);
  const expected = toRows(reference.batches);
  const end = reference.batches.at(-1)?.end;
  for (const chunks of ['bytes', 3, 4, 5, 6, 7, 8] as const) {
    for (const batchRows of [1, 2, 3, 1000]) {
      const got = decode(text, { chunks, batchRows, request: [{ name: 'id', kind: 'number' }, { name: 'na,me', kind: 'string' }, { name: 'v', kind: 'number' }] });
      const ref = decode(text, { batchRows, request: [{ name: 'id', kind: 'number' }, { name: 'na,me', kind: 'string' }, { name: 'v', kind: 'number' }] });
      assert.deepEqual(toRows(got.batches), toRows(ref.batches), `chunks=${chunks} batchRows=${batchRows}`);
      assert.deepEqual(got.batches.map((b) => [b.firstRow, b.length, b.end]), ref.batches.map((b) => [b.firstRow, b.length, b.end]));
      assert.ok(got.batches.every((b) => b.length <= batchRows));
    }
  }
  assert.equal(expected.rows.length, 7);
  assert.deepEqual(end, { offset: enc.encode(text).length, row: 7 });
});

test('csv: number cells: exact values, spaces, markers for missing, unparsable text kept', () => {
  const text = 'v\n1.5\n-0\n  42 \n"3.25"\n\nNA\nN/A\nnull\nNULL\nNaN\nnan\n""\n  \nabc\n1e309\ninf\nInfinity\n0x10\n1,\n12345678901234567890\n';
  const { rows, problems } = toRows(decode(text, { request: [{ name: 'v', kind: 'number' }] }).batches);
  const want = [1.5, -0, 42, 3.25, null, null, null, null, null, null, null, null, { bad: 'abc' }, { bad: '1e309' }, { bad: 'inf' }, { bad: 'Infinity' }, { bad: '0x10' }, null, 12345678901234567890];
  assert.equal(rows.length, want.length);
  rows.forEach((r, i) => {
    if (typeof want[i] === 'number') assert.ok(Object.is(r[0], want[i]), `row ${i + 1}: ${String(r[0])} vs ${String(want[i])}`);
    else assert.deepEqual(r[0], want[i], `row ${i + 1}`);
  });
  // "1," has two fields in a one-column file
  assert.deepEqual(problems, [{ row: 18, reason: 'expected 1 fields, found 2' }]);
});

test('csv: string cells: empty is null, quoted empty is "", spaces and non-ASCII kept, long values', () => {
  const long = 'x'.repeat(100);
  const r = strings(`a,b\n,""\n  sp  ,"  q  "\nÄ€😀,${long}\n`);
  assert.deepEqual(r.rows, [[null, ''], ['  sp  ', '  q  '], ['Ä€😀', long]]);
});

test('csv: recurring short texts (categories) come back exactly, also texts that share a cache slot', () => {
  // the decoder makes a recurring ASCII text into a string once (ascii-interner.ts); texts of the
  // same length, first, middle and last byte land in the same slot and must still differ
  const texts = ['aXmYb', 'aZmWb', 'winter', 'spring', 'summer', 'autumn', 'aXmYb', 'x', 'y', 'aXmYb', 'long text with spaces, quoted', 'Ä', 'ab', 'ab'];
  const rnd = prng(5);
  const rows = Array.from({ length: 3000 }, (_, i) => [texts[Math.floor(rnd() * texts.length)], `id-${i}`]);
  const text = `season,id\n${rows.map(([a, b]) => `${a.includes(',') ? `"${a}"` : a},${b}`).join('\n')}\n`;
  for (const chunks of ['whole', 7] as const) assert.deepEqual(strings(text, { chunks, batchRows: 512 }).rows, rows);
  const [batch] = decode('c\nwinter\nwinter\nspring\n').batches;
  const values = (batch.columns[0] as { values: string[] }).values;
  assert.equal(values[0], values[1]);
  assert.notEqual(values[0], values[2]);
});

test('csv: a string column requested with utf8 keeps each cell\'s bytes: the UTF-8 of its string, missing where it is null; its ASCII cells\' strings are made only when asked for (stringValues)', () => {
  // unquoted, quoted, escaped quotes, quoted line breaks, "" vs empty, non-ASCII, long values (the byte buffer grows), a bad row
  const ascii = ['plain', '"a,b"', '"say ""hi"""', '"two\nlines"', '""', '', 'x'.repeat(300), ' sp ', '"q"'];
  const request: ColumnRequest[] = [{ name: 'id', kind: 'string', utf8: true }, { name: 'n', kind: 'number' }];
  const enc8 = new TextEncoder();
  // ASCII only (a batch's strings cut from one decoded text), and with non-ASCII cells among them
  for (const [ids, chunks] of [[ascii, 'whole'], [ascii, 'bytes'], [ascii, 3], [[...ascii, 'Ä€😀'], 'whole'], [[...ascii, 'Ä€😀'], 3]] as const) {
    const rnd = prng(9);
    const lines = Array.from({ length: 2000 }, (_, i) => (i === 777 ? 'only-one-field' : `${ids[Math.floor(rnd() * ids.length)]},${i}`));
    const text = `id,n\n${lines.join('\n')}\n`;
    // the strings as a plain string request gives them
    const reference = toRows(decode(text, { request: request.map(({ name, kind }) => ({ name, kind })) }).batches).rows;
    let rows = 0;
    let withBytes = 0;
    for (const b of decode(text, { request, chunks, batchRows: 256 }).batches) {
      const col = b.columns[0];
      assert.ok(col.kind === 'string' && col.utf8, 'the bytes are delivered');
      // unquoted ASCII cells have bytes and no string yet
      const lazy = col.utf8.pending;
      assert.ok(lazy && lazy.some((p, r) => p === 1 && col.values[r] === null && col.utf8!.starts[r] >= 0), 'ASCII cells are left as bytes');
      const values = stringValues(col);
      assert.equal(col.utf8.pending, undefined, 'made once');
      assert.equal(stringValues(col), values);
      const bad = new Set(b.rowProblems.map((p) => p.row - b.firstRow));
      for (let r = 0; r < b.length; r++, rows++) {
        if (bad.has(r)) {
          assert.equal(values[r], null, 'a rejected row has no string');
          continue;
        }
        assert.equal(values[r], reference[rows][0], `row ${rows + 1}`);
        assert.equal(utf8Cell(col.utf8, r), values[r], `row ${rows + 1}`);
        if (values[r] !== null) assert.deepEqual(col.utf8.bytes.subarray(col.utf8.starts[r], col.utf8.ends[r]), enc8.encode(values[r]!));
        withBytes++;
      }
    }
    assert.equal(rows, 2000);
    assert.equal(withBytes, 1999, `${chunks}: every good row checked`);
  }
  // a plain string request carries no bytes
  const [plain] = decode('id\nx\n').batches;
  assert.equal((plain.columns[0] as { utf8?: unknown }).utf8, undefined);
});

test('csv: a row with the wrong number of fields is a RowProblem and its cells are missing', () => {
  const { batches } = decode('a,b,c,d,e,f\n1,2,3,4,5,6\n1,2,3,4,5\n1,2,3,4,5,6,7\n9,9,9,9,9,9\n', { request: [{ name: 'a', kind: 'number' }, { name: 'f', kind: 'string' }] });
  const r = toRows(batches);
  assert.deepEqual(r.problems, [{ row: 2, reason: 'expected 6 fields, found 5' }, { row: 3, reason: 'expected 6 fields, found 7' }]);
  assert.deepEqual(r.rows, [[1, '6'], [null, null], [null, null], [9, '9']]);
});

test('csv: invalid UTF-8 in a requested string cell is a RowProblem naming the column', () => {
  const bytes = new Uint8Array([...enc.encode('a,b,c\nok,'), 0xff, 0xfe, ...enc.encode(',1\n'), ...enc.encode('fine,'), 0xc3, ...enc.encode(',2\nlast,x,3\n')]);
  const r = toRows(decode(bytes, { request: [{ name: 'a', kind: 'string' }, { name: 'b', kind: 'string' }, { name: 'c', kind: 'number' }] }).batches);
  assert.deepEqual(r.problems, [{ row: 1, field: 'b', reason: 'invalid UTF-8 in column "b"' }, { row: 2, field: 'b', reason: 'invalid UTF-8 in column "b"' }]);
  assert.deepEqual(r.rows, [[null, null, null], [null, null, null], ['last', 'x', 3]]);
  // the same bytes in a column nobody asked for are skipped, not judged
  assert.deepEqual(toRows(decode(bytes, { request: [{ name: 'c', kind: 'number' }] }).batches).problems, []);
});

test('csv: an unterminated quote at the end of the file is a RowProblem for that row', () => {
  const r = strings('a,b\n1,2\n3,"open\n4,5\n');
  assert.deepEqual(r.problems, [{ row: 2, field: 'b', reason: 'unterminated quoted field at end of file' }]);
  assert.deepEqual(r.rows, [['1', '2'], [null, null]]);
});

test('csv: text after a closing quote is a RowProblem; the next row is read normally', () => {
  const r = strings('a,b\n"x"y,2\n3,4\n');
  assert.deepEqual(r.problems, [{ row: 1, field: 'a', reason: 'unexpected character after a closing quote' }]);
  assert.deepEqual(r.rows, [[null, null], ['3', '4']]);
});

test('csv: a quote inside an unquoted field is an ordinary character', () => {
  assert.deepEqual(strings('a,b\n5" pipe,x"y\n').rows, [['5" pipe', 'x"y']]);
});

test('csv: resuming from any batch end gives exactly the remaining rows', () => {
  const rnd = prng(5);
  let text = 'id,x,s\n';
  for (let i = 1; i <= 200; i++) text += `${i},${(rnd() * 100).toFixed(3)},${rnd() < 0.2 ? `"q,${i}\n"` : `s${i}`}${rnd() < 0.1 ? '\r\n' : '\n'}`;
  const request: ColumnRequest[] = [{ name: 'id', kind: 'number' }, { name: 'x', kind: 'number' }, { name: 's', kind: 'string' }];
  const all = toRows(decode(text, { request, batchRows: 17 }).batches).rows;
  assert.equal(all.length, 200);
  for (const b of decode(text, { request, batchRows: 17 }).batches) {
    const rest = decode(text, { request, batchRows: 50, from: b.end, chunks: 13 }).batches;
    assert.deepEqual(toRows(rest).rows, all.slice(b.end.row));
    if (rest.length > 0) assert.equal(rest[0].firstRow, b.end.row + 1);
  }
});

test('csv: requested columns missing from the header are all named in one error', () => {
  assert.throws(() => decode('a,b\n1,2\n', { request: [{ name: 'a', kind: 'number' }, { name: 'x', kind: 'number' }, { name: 'y', kind: 'string' }] }), (e: unknown) => {
    assert.ok(e instanceof OutpostError);
    assert.equal(e.code, 'input');
    assert.match(e.message, /"x", "y" not found/);
    assert.deepEqual(e.details.missing, ['x', 'y']);
    return true;
  });
});

test('csv: memory stays bounded: the window holds one chunk plus a row, however much is read', () => {
  const header = 'a,b,c\n';
  const row = '1.25,2.5,hello\n';
  const chunk = enc.encode(row.repeat(Math.ceil(1024 * 1024 / row.length)));
  const decoder = new CsvDecoder({ file: 't.csv', delimiter: 44, header: ['a', 'b', 'c'], request: [{ name: 'a', kind: 'number' }], batchRows: 4096, offset: header.length, rowsBefore: 0 });
  let rows = 0;
  for (let i = 0; i < 24; i++) {
    decoder.window.reserve(chunk.length).set(chunk);
    decoder.window.commit(chunk.length);
    for (let b = decoder.next(false); b; b = decoder.next(false)) rows += b.length;
  }
  for (let b = decoder.next(true); b; b = decoder.next(true)) rows += b.length;
  assert.equal(rows, 24 * chunk.length / row.length);
  assert.ok(decoder.window.buf.length <= 3 * chunk.length, `window grew to ${decoder.window.buf.length} bytes`);
});

test('csv: a row longer than the limit (an unterminated quote mid-file) is a fatal error', () => {
  const decoder = new CsvDecoder({ file: 't.csv', delimiter: 44, header: ['a', 'b'], request: [{ name: 'a', kind: 'string' }], batchRows: 10, offset: 4, rowsBefore: 0, maxRowBytes: 1000 });
  decoder.push(enc.encode('1,2\n"never closed,'));
  assert.equal(decoder.next(false), null);
  decoder.push(enc.encode('x'.repeat(2000)));
  assert.throws(() => decoder.next(false), (e: unknown) => e instanceof OutpostError && e.location.row === 2 && /longer than 1000 bytes/.test(e.message));
});

// ---- the WebAssembly row parser (csv-plain-rows.wat): rows of plain fields ----

/** Everything a batch says, numbers by their bits (NaN, -0), in one comparable value. */
function dump(batches: readonly ColumnBatch[]) {
  return batches.map((b) => ({
    firstRow: b.firstRow, length: b.length, end: b.end, problems: b.rowProblems,
    columns: b.columns.map((c) => c.kind === 'string' ? { values: stringValues(c), utf8: c.utf8 && Array.from({ length: b.length }, (_, r) => utf8Cell(c.utf8!, r)) } : {
      bits: Buffer.from(c.values.buffer, c.values.byteOffset, c.values.byteLength).toString('hex'),
      status: Array.from(c.status), bad: [...c.bad ?? []], markers: [...c.markers ?? []], reasons: [...c.reasons ?? []],
    }),
  }));
}

/** A number cell: mostly plain decimals (the kernel's), with every kind of cell the JS loop takes. */
function numberCell(rnd: () => number): string {
  const r = rnd();
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
  const sign = rnd() < 0.3 ? '-' : rnd() < 0.05 ? '+' : '';
  if (r < 0.95) {
    const n = 1 + Math.floor(rnd() * 15);
    const point = Math.floor(rnd() * (n + 2)) - 1; // -1: no point; n: a trailing point
    const d = digits(n);
    return sign + (point < 0 ? d : `${d.slice(0, point)}.${d.slice(point)}`);
  }
  const odd = ['', 'NA', 'nan', '"2.5"', '""', ' 3.5', '4.5 ', 'abc', '1e309', '-1.5e-7', '2E5', 'inf', '-0', '-0.0', '.', '-', '+.5', '5.', '0x10', `${digits(16)}.5`, digits(17), `0.${digits(20)}`, `0.${digits(25)}`, '1,5'];
  return odd[Math.floor(rnd() * odd.length)];
}

/** A text cell (or a field nobody asked for): mostly plain ASCII, recurring or not, with every kind the JS loop takes. */
function textCell(rnd: () => number, row: number): string {
  const r = rnd();
  if (r < 0.5) return ['summer', 'winter', 'spring', 'fall'][Math.floor(rnd() * 4)];
  if (r < 0.9) return `id-${row}-${Math.floor(rnd() * 1e6)}`;
  const odd = ['', '"quoted, with a delimiter"', '"two\nlines"', '""', 'x"y', 'Zoë', '12.5', 'a'.repeat(40), 'tab\there', 'nul\0byte', '\u00ff', 'BAD'];
  return odd[Math.floor(rnd() * odd.length)];
}

/** A file of number, text and skipped fields (two skipped side by side: a quoted one's delimiter must not split it). */
function plainFile(seed: number, rows: number): { text: Uint8Array; request: ColumnRequest[] } {
  const rnd = prng(seed);
  const names = ['id', 'a', 'skip1', 'skip2', 'b', 'cat', 'c', 'skip3', 'd'];
  const parts: Buffer[] = [Buffer.from(`${names.join(',')}\n`)];
  for (let i = 0; i < rows; i++) {
    if (rnd() < 0.01) parts.push(Buffer.from(rnd() < 0.5 ? '\n' : '\r\n')); // blank lines
    const fields = names.map((n) => (['a', 'b', 'c', 'd'].includes(n) ? numberCell(rnd) : textCell(rnd, i)));
    if (rnd() < 0.01) fields.pop(); // a field too few
    if (rnd() < 0.01) fields.push('9'); // a field too many
    const end = rnd();
    // 'BAD' stands for a byte that is not UTF-8
    parts.push(Buffer.from((fields.join(',') + (end < 0.8 ? '\n' : end < 0.95 ? '\r\n' : '\r')).replace('BAD', '\u0001')).map((b) => (b === 1 ? 0xff : b)) as Buffer);
  }
  const request: ColumnRequest[] = [
    ...['a', 'b', 'c', 'd'].map((name) => ({ name, kind: 'number' as const })),
    { name: 'cat', kind: 'string' }, { name: 'id', kind: 'string', utf8: true },
  ];
  return { text: Buffer.concat(parts), request };
}

test('csv: rows parsed in WebAssembly are the JS loop\'s bit for bit, for any chunking, batch size and line end', () => {
  for (const seed of [1, 2, 3]) {
    const { text, request } = plainFile(seed, 3000);
    const js = decode(text, { request, batchRows: 1000, wasm: false });
    assert.equal(js.rowsParsedByWasm, 0);
    const reference = dump(js.batches);
    const whole = decode(text, { request, batchRows: 1000 });
    // most rows are the kernel's (else this test would compare the JS loop with itself)
    assert.ok(whole.rowsParsedByWasm > 1000, `only ${whole.rowsParsedByWasm} of 3000 rows parsed in WebAssembly`);
    assert.deepEqual(dump(whole.batches), reference, `seed ${seed}, whole`);
    for (const [chunks, chunkBytes] of [[seed, 17], [seed + 10, 300], [seed + 20, 70_000]] as const) {
      for (const batchRows of [1, 7, 1000]) {
        const got = decode(text, { request, batchRows, chunks, chunkBytes });
        const ref = batchRows === 1000 ? js : decode(text, { request, batchRows, wasm: false });
        assert.deepEqual(dump(got.batches), dump(ref.batches), `seed ${seed}, chunks of up to ${chunkBytes} bytes, batches of ${batchRows}`);
      }
    }
  }
});

test('csv: the WebAssembly parser hands back rows longer than its segment, and files larger than it, intact', () => {
  // a row of 1.5 MB (longer than the kernel's 1 MiB segment: its skipped field) between ordinary rows
  const text = `a,b,c\n1.5,x,2\n3,${'y'.repeat(1_500_000)},4.25\n-5,z,6\n`;
  const request = [{ name: 'a', kind: 'number' as const }, { name: 'c', kind: 'number' as const }];
  for (const chunkBytes of [65_536, 5_000_000]) {
    const got = decode(text, { request, chunks: 9, chunkBytes });
    assert.deepEqual(toRows(got.batches).rows, [[1.5, 2], [3, 4.25], [-5, 6]], `chunks of up to ${chunkBytes} bytes`);
    assert.ok(got.rowsParsedByWasm >= 2);
  }
  const { text: many, request: req } = plainFile(7, 30_000); // ~2 MB: several segments
  const got = decode(many, { request: req, batchRows: 8192, chunks: 4, chunkBytes: 1_500_000 });
  assert.ok(got.rowsParsedByWasm > 15_000, `only ${got.rowsParsedByWasm} of 30,000 rows parsed in WebAssembly`);
  assert.deepEqual(dump(got.batches), dump(decode(many, { request: req, batchRows: 8192, wasm: false }).batches));
});

test('csv: a quoted field nobody asked for is read as one field, also by the WebAssembly parser', () => {
  // "p,q" split at its delimiter would fill both skipped fields and make the short row look whole
  const text = 'a,s1,s2,b\n1,x,y,2\n1,"p,q",2\n3,"p,q",r,4\n';
  const request = [{ name: 'a', kind: 'number' as const }, { name: 'b', kind: 'number' as const }];
  const got = decode(text, { request });
  assert.ok(got.rowsParsedByWasm >= 1);
  assert.deepEqual(toRows(got.batches).problems, [{ row: 2, reason: 'expected 4 fields, found 3' }]);
  assert.deepEqual(dump(got.batches), dump(decode(text, { request, wasm: false }).batches));
});

test('csv: text cells from the WebAssembly parser: ASCII kept as is, non-ASCII and invalid UTF-8 left to the JS loop', () => {
  const bytes = Buffer.concat([Buffer.from('id,v\nab,1\n,2\nZo\u00eb,3\n'), Buffer.from([0x78, 0xff, 0x2c, 0x34, 0x0a]), Buffer.from('tab\there,5\n')]);
  const request: ColumnRequest[] = [{ name: 'id', kind: 'string', utf8: true }, { name: 'v', kind: 'number' }];
  const got = decode(bytes, { request });
  assert.equal(got.rowsParsedByWasm, 3);
  const rows = toRows(got.batches);
  assert.deepEqual(rows.rows.map((r) => r[0]), ['ab', null, 'Zoë', null, 'tab\there']);
  assert.deepEqual(rows.problems, [{ row: 4, field: 'id', reason: 'invalid UTF-8 in column "id"' }]);
  assert.deepEqual(dump(got.batches), dump(decode(bytes, { request, wasm: false }).batches));
  // a text cell ending a CRLF or CR record ends before the CR
  const last = decode('v,id\r\n1,ab\r\n2,cd\r3,ef\r\n', { request: [{ name: 'v', kind: 'number' }, { name: 'id', kind: 'string', utf8: true }] });
  assert.equal(last.rowsParsedByWasm, 3);
  assert.deepEqual(dump(last.batches)[0].columns[1], { values: ['ab', 'cd', 'ef'], utf8: ['ab', 'cd', 'ef'] });
});

test('csv: after a run of rows the WebAssembly parser stops at (a quoted field in each), it takes plain rows again', () => {
  let text = 'id,name,v\n';
  for (let i = 0; i < 300; i++) text += `${i},"n, ${i}",${i}.5\n`;
  for (let i = 300; i < 600; i++) text += `${i},n${i},${i}.5\n`;
  const request: ColumnRequest[] = [{ name: 'v', kind: 'number' }, { name: 'name', kind: 'string' }];
  const got = decode(text, { request });
  assert.ok(got.rowsParsedByWasm >= 200, `only ${got.rowsParsedByWasm} of the 300 plain rows parsed in WebAssembly`);
  assert.deepEqual(dump(got.batches), dump(decode(text, { request, wasm: false }).batches));
});

test('csv: the WebAssembly parser takes no file whose row would overflow its output area; the JS loop does', () => {
  const none = () => {};
  assert.ok(PlainRows.for(new Array(262_144).fill('number'), 44, none));
  assert.equal(PlainRows.for(new Array(262_145).fill('number'), 44, none), undefined);
  assert.equal(PlainRows.for(['number'], 34, none), undefined, 'a quote cannot be the delimiter');
});
