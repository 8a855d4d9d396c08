// JSON Lines: columns from the first records, the cell rules, bad lines as RowProblems, chunking.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { JsonlDecoder, parseKeepingNumbers, sampleJsonlColumns, topLevelNumbers } from '../src/io/common/jsonl-decoder.ts';
import type { ColumnBatch, ColumnRequest } from '../src/io/common/table.ts';
import { openSource } from '../src/io/node/open.ts';
import { collect, prng, tempDir, toRows } from './helpers/io-helpers.ts';

const enc = new TextEncoder();

function decode(bytes: Uint8Array, columns: string[], request: ColumnRequest[], chunk: number | 'whole', batchRows = 100): ColumnBatch[] {
  const decoder = new JsonlDecoder({ file: 't.jsonl', columns, request, batchRows, offset: 0, rowsBefore: 0 });
  const out: ColumnBatch[] = [];
  const rnd = prng(3);
  for (let p = 0; p < bytes.length;) {
    const size = chunk === 'whole' ? bytes.length : 1 + Math.floor(rnd() * chunk);
    decoder.push(bytes.subarray(p, p + size));
    p += size;
    for (let b = decoder.next(false); b; b = decoder.next(false)) out.push(b);
  }
  for (let b = decoder.next(true); b; b = decoder.next(true)) out.push(b);
  return out;
}

test('jsonl: columns are the keys of the first records, in order of first appearance', () => {
  const text = '{"a":1,"b":2}\n\n{"b":3,"c":null}\r\n{"d":4}\n';
  assert.deepEqual(sampleJsonlColumns(enc.encode(text), true).columns, ['a', 'b', 'c', 'd']);
  assert.deepEqual(sampleJsonlColumns(enc.encode(text), true, 1).columns, ['a', 'b']);
  // a bad line does not stop the sampling
  assert.deepEqual(sampleJsonlColumns(enc.encode('oops\n{"z":1}\n'), true), { columns: ['z'], records: 1, lines: 2, firstProblem: sampleJsonlColumns(enc.encode('oops\n'), true).firstProblem });
});

test('jsonl: cell rules for number and string columns', () => {
  const text = [
    '{"n":1.5,"s":"text"}',
    '{"n":"2.25","s":7}',
    '{"n":true,"s":false}',
    '{"n":null,"s":null}',
    '{}',
    '{"n":"NA","s":"NA"}',
    '{"n":"","s":""}',
    '{"n":"abc","s":{"k":[1,"x"]}}',
    '{"n":[1],"s":[1,2]}',
    '{"n":1e400,"s":"Ä😀"}',
  ].join('\n');
  const rows = toRows(decode(enc.encode(text), ['n', 's'], [{ name: 'n', kind: 'number' }, { name: 's', kind: 'string' }], 'whole'));
  assert.deepEqual(rows.problems, []);
  assert.deepEqual(rows.rows, [
    [1.5, 'text'],
    [2.25, '7'],
    [1, 'false'],
    [null, null],
    [null, null],
    [null, 'NA'],
    [null, ''],
    [{ bad: 'abc' }, '{"k":[1,"x"]}'],
    [{ bad: '[1]' }, '[1,2]'],
    [{ bad: 'Infinity' }, 'Ä😀'],
  ]);
});

test('jsonl: a number for a string column is its text in the line, as a CSV cell holding it gives it (not String() of the double), in any chunking', () => {
  const lines = [
    ['{"n":1.50,"s":1.50}', '1.50'],
    ['{"s":1e3,"n":1e3}', '1e3'],
    ['{ "s" : -0 , "n": 2 }', '-0'],
    ['{"s":9223372036854775808}', '9223372036854775808'],
    ['{"s":1E+39}', '1E+39'],
    ['{"s":1e400}', '1e400'],
    // nested values, strings holding JSON punctuation, an escaped key: only the object's own key counts
    ['{"x":{"s":7},"t":"}\\\\\\"{,\\"s\\":8","s":[1],"s2":3}', '[1]'],
    ['{"x":[{"s":7}],"\\u0073":2.50}', '2.50'],
    ['{"s":12}', '12'],
  ];
  const bytes = enc.encode(lines.map(([l]) => l).join('\n'));
  for (const chunk of ['whole', 5] as const) {
    const rows = toRows(decode(bytes, ['n', 's'], [{ name: 'n', kind: 'number' }, { name: 's', kind: 'string' }], chunk, 4));
    assert.deepEqual(rows.problems, [], String(chunk));
    assert.deepEqual(rows.rows.map((r) => r[1]), lines.map(([, want]) => want), `chunk ${chunk}`);
  }
  assert.deepEqual(toRows(decode(bytes, ['n', 's'], [{ name: 'n', kind: 'number' }, { name: 's', kind: 'string' }], 'whole')).rows[0], [1.5, '1.50'], 'a number column still gets the double');
});

test('jsonl: topLevelNumbers finds what parseKeepingNumbers finds for the object itself', () => {
  const texts = [
    '{"a":1.50,"b":-0.0e-0,"c":"2.5","d":{"a":3},"e":[4,5.0],"f":true,"g":null,"h":6E2}',
    '{ "a" : 1 ,\t"b":\n2 }',
    '{"q\\"":1.0,"\\\\":2.0,"k\\u00e9":3.0,"é":4.0,"😀":5e-1}',
    '{"s":"a\\"b{[,:","n":7,"o":{"p":{"q":[{"r":8}]}},"m":9}',
    '{"a":1,"a":2.0}',
    '{}',
  ];
  for (const text of texts) {
    const kept = parseKeepingNumbers(text);
    assert.deepEqual(topLevelNumbers(text), kept.numbersIn(kept.value) ?? new Map(), text);
  }
});

test('jsonl: a line that is not a JSON object is a RowProblem with the reason; the rest is read', () => {
  const bytes = new Uint8Array([...enc.encode('{"x":1}\n{"x":\n[1,2]\n"str"\nnull\n42\n'), 0x7b, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x0a, ...enc.encode('{"x":8}')]);
  const rows = toRows(decode(bytes, ['x'], [{ name: 'x', kind: 'number' }], 'whole'));
  assert.equal(rows.rows.length, 8);
  assert.deepEqual(rows.rows.map((r) => r[0]), [1, null, null, null, null, null, null, 8]);
  assert.deepEqual(rows.problems.map((p) => p.row), [2, 3, 4, 5, 6, 7]);
  assert.match(rows.problems[0].reason, /^invalid JSON: /);
  assert.equal(rows.problems[1].reason, 'not a JSON object (found an array)');
  assert.equal(rows.problems[2].reason, 'not a JSON object (found string)');
  assert.equal(rows.problems[3].reason, 'not a JSON object (found null)');
  assert.equal(rows.problems[4].reason, 'not a JSON object (found number)');
  assert.equal(rows.problems[5].reason, 'invalid UTF-8');
});

test('jsonl: a line that names a key read twice (or repeats one within its value) is a RowProblem naming the key (not scored with the last value); a repeat elsewhere is read', () => {
  const rows = toRows(decode(enc.encode('{"x":1}\n{"x":2,"x":3}\n{"y":{"z":1,"z":2},"x":4}\n{"t":"10:00","x":5}\n{"x":6,"s":{"z":1,"z":2}}\n'), ['x', 's'], [{ name: 'x', kind: 'number' }, { name: 's', kind: 'string' }], 'whole'));
  assert.deepEqual(rows.rows.map((r) => r[0]), [1, null, 4, 5, null]);
  assert.deepEqual(rows.problems.map((p) => [p.row, p.reason]), [
    [2, 'names the key "x" twice (a JSON object must name each key once)'],
    [5, 'names the key "z" twice in s (a JSON object must name each key once)'],
  ]);
  // a value nested 100,000 deep (JSON.stringify of it, for a string cell, overflowed the stack and failed the whole file)
  const deep = toRows(decode(enc.encode(`{"x":1,"s":${'['.repeat(100_000)}${']'.repeat(100_000)}}\n{"x":2,"s":[1]}\n`), ['x', 's'], [{ name: 'x', kind: 'number' }, { name: 's', kind: 'string' }], 'whole'));
  assert.deepEqual(deep.rows, [[null, null], [2, '[1]']]);
  assert.deepEqual(deep.problems.map((p) => [p.row, p.reason]), [[1, 'nested more than 64 levels deep (a record is an object of values)']]);
});

test('jsonl: any chunking gives the same rows, problems and offsets', () => {
  let text = '';
  const rnd = prng(11);
  for (let i = 0; i < 300; i++) text += (rnd() < 0.05 ? 'broken\n' : `${JSON.stringify({ i, v: rnd(), s: `é${i}` })}${rnd() < 0.2 ? '\r\n' : '\n'}`) + (rnd() < 0.1 ? '\n  \n' : '');
  const bytes = enc.encode(text);
  const request: ColumnRequest[] = [{ name: 'i', kind: 'number' }, { name: 'v', kind: 'number' }, { name: 's', kind: 'string' }];
  const ref = decode(bytes, ['i', 'v', 's'], request, 'whole', 37);
  for (const chunk of [1, 5, 64]) {
    const got = decode(bytes, ['i', 'v', 's'], request, chunk, 37);
    assert.deepEqual(toRows(got), toRows(ref));
    assert.deepEqual(got.map((b) => [b.firstRow, b.length, b.end]), ref.map((b) => [b.firstRow, b.length, b.end]));
  }
  assert.equal(ref.at(-1)?.end.offset, bytes.length);
});

test('jsonl: a UTF-8 BOM before the first record is skipped; no records at all is an error', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'bom.jsonl');
  fs.writeFileSync(file, '\uFEFF{"a":1}\n{"a":2}\n');
  const source = await openSource(file);
  assert.deepEqual(source.columns, ['a']);
  assert.deepEqual(toRows(await collect(source, [{ name: 'a', kind: 'number' }], { batchRows: 10 })), { rows: [[1], [2]], problems: [] });
  await source.close();
  const blank = path.join(dir, 'blank.ndjson');
  fs.writeFileSync(blank, '\n \r\n\n');
  await assert.rejects(openSource(blank), /no data rows/);
});
