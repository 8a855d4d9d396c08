// Input handling on the path of someone scoring their own files (CSV, JSONL, Parquet) and records
// (`outpost predict`): numbers beyond a double or float32 and infinities get one reason in every
// format; control characters never reach a terminal raw from the rejects file, and a NUL in an id
// rejects the row; a repeated column is refused only when the model (or --id) reads it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { NOT_FINITE, TOO_LARGE_FOR_DOUBLE, TOO_LARGE_FOR_FLOAT32 } from '../src/io/common/number-reasons.ts';
import { encodeModel } from '../src/onnx/common/onnx.ts';
import { lastJson, runMain as cli } from './helpers/cli.ts';
import { tempDir, tinyCard, writePackage } from './helpers/packages.ts';

const root = tempDir('outpost-score-input-');
const home = path.join(root, 'home');
after(() => fs.rmSync(root, { recursive: true, force: true }));

before(async () => {
  // tiny: a (float, -100…100), b (float, nullable, no range), colour (category); all float32 in the graph
  const r = await cli(['--home', home, 'models', 'add', writePackage(path.join(root, 'pkg'), tinyCard()), '--allow-unsigned']);
  assert.equal(r.code, 0, r.err);
});

const write = (name: string, text: string | Uint8Array): string => {
  const file = path.join(root, name);
  fs.writeFileSync(file, text);
  return file;
};
const score = (args: string[]) => cli(['--home', home, 'score', ...args, '--model', 'tiny', '--json', '--max-reject-rate', '1']);

/** The rejects file of a --json score run, parsed into rows of [row, column, reason, value] (a minimal CSV reader). */
function rejectsOf(out: string): string[][] {
  const text = fs.readFileSync((lastJson(out) as { rejectsPath: string }).rejectsPath, 'utf8');
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += c;
  }
  return rows.slice(1);
}

test('a number beyond a double, beyond float32 or infinite gets the same reason in CSV, JSONL, Parquet and predict', async () => {
  // column b: nullable, no range, fed to the graph as float32
  const cells = ['1e400', '-1e400', 'inf', '-Infinity', '+INF', '1e39', '-3.5e38', '3.4e38'];
  const want = [TOO_LARGE_FOR_DOUBLE, TOO_LARGE_FOR_DOUBLE, NOT_FINITE, NOT_FINITE, NOT_FINITE, TOO_LARGE_FOR_FLOAT32, TOO_LARGE_FOR_FLOAT32];
  const csv = await score([write('inf.csv', `a,b,colour\n${cells.map((c) => `1,${c},red`).join('\n')}\n`)]);
  assert.equal(csv.code, 0, csv.err);
  assert.deepEqual(rejectsOf(csv.out).map((r) => [r[0], r[1], r[2]]), want.map((w, i) => [String(i + 1), 'b', w]), 'CSV; 3.4e38 (within float32) is scored');
  // the value as written (1e39, -3.5e38), not the double read from it (1e+39, -3.5e+38)
  assert.deepEqual(rejectsOf(csv.out).map((r) => r[3]), cells.slice(0, 7), 'CSV values as written');
  assert.equal((lastJson(csv.out) as { job: { rowsScored: number } }).job.rowsScored, 1);

  // JSONL: the same texts as strings, and as JSON numbers where JSON has them
  const jsonl = await score([write('inf.jsonl', [...cells.map((c) => `{"a":1,"b":"${c}","colour":"red"}`), '{"a":1,"b":1e400,"colour":"red"}', '{"a":1,"b":-1e400,"colour":"red"}', '{"a":1,"b":1e39,"colour":"red"}'].join('\n') + '\n')]);
  assert.equal(jsonl.code, 0, jsonl.err);
  const jsonlWant = [...want.map((w, i) => [String(i + 1), w]), ['9', TOO_LARGE_FOR_DOUBLE], ['10', TOO_LARGE_FOR_DOUBLE], ['11', TOO_LARGE_FOR_FLOAT32]];
  assert.deepEqual(rejectsOf(jsonl.out).map((r) => [r[0], r[2]]), jsonlWant, 'JSONL');
  assert.deepEqual(rejectsOf(jsonl.out).map((r) => r[3]).slice(5), ['1e39', '-3.5e38', '1e400', '-1e400', '1e39'], 'JSONL values as written (JSON numbers too: not 1e+39, nor Infinity for 1e400)');

  // Parquet: a stored infinity is not finite; a double beyond float32 is too large for it; numeric text as CSV
  const pq = write('inf.parquet', new Uint8Array(parquetWriteBuffer({
    columnData: [
      { name: 'a', data: [1, 1, 1, 1, 1, 1] },
      { name: 'b', data: [Infinity, -Infinity, 1e39, 3.4e38, 2, 1] },
      { name: 'colour', data: ['red', 'red', 'red', 'red', 'red', 'red'] },
    ],
  })));
  const parquet = await score([pq]);
  assert.equal(parquet.code, 0, parquet.err);
  assert.deepEqual(rejectsOf(parquet.out).map((r) => [r[0], r[2]]), [['1', NOT_FINITE], ['2', NOT_FINITE], ['3', TOO_LARGE_FOR_FLOAT32]], 'Parquet');

  // predict: the same words for the same values
  for (const [b, reason] of [['1e400', TOO_LARGE_FOR_DOUBLE], ['-1e400', TOO_LARGE_FOR_DOUBLE], ['"-inf"', NOT_FINITE], ['"Infinity"', NOT_FINITE], ['1e39', TOO_LARGE_FOR_FLOAT32]] as const) {
    const p = await cli(['--home', home, 'predict', '--model', 'tiny', '--input', `{"a": 1, "b": ${b}, "colour": "red"}`, '--json']);
    assert.equal(p.code, 1, p.err);
    assert.deepEqual((lastJson(p.out) as { errors: { field: string; reason: string }[] }).errors.map((e) => [e.field, e.reason]), [['b', reason]], `predict b=${b}`);
  }
});

test('a number an int32 or int64 input refuses (out of range, a fraction) or out of a card range is shown as written: CSV, JSONL, and Parquet\'s stored digits', async () => {
  // n: int64, k: int32 (range up to 1000), both read as numbers and refused past what the type holds
  const card = tinyCard({ name: 'ints', inputs: [{ name: 'n', type: 'int', nullable: false }, { name: 'k', type: 'int', nullable: false, range: { min: 0, max: 1000 } }] });
  const model = encodeModel({
    name: 'ints',
    nodes: [
      { op: 'Cast', inputs: ['n'], outputs: ['nf'], attrs: { to: 1 } },
      { op: 'Cast', inputs: ['k'], outputs: ['kf'], attrs: { to: 1 } },
      { op: 'Concat', inputs: ['nf', 'kf'], outputs: ['x'], attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['z'] },
      { op: 'Softmax', inputs: ['z'], outputs: ['probabilities'], attrs: { axis: 1 } },
      { op: 'ArgMax', inputs: ['z'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
    ],
    inputs: [{ name: 'n', type: 'int64', shape: ['N', 1] }, { name: 'k', type: 'int32', shape: ['N', 1] }],
    outputs: [{ name: 'probabilities', type: 'float', shape: ['N', 3] }, { name: 'label', type: 'int64', shape: ['N'] }],
    initializers: [{ name: 'W', type: 'float', dims: [2, 3], data: [0.5, -0.25, 0.1, 0.3, 0.2, -0.4] }, { name: 'B', type: 'float', dims: [3], data: [0.1, 0, -0.1] }],
  });
  const add = await cli(['--home', home, 'models', 'add', writePackage(path.join(root, 'ints-pkg'), card, model), '--allow-unsigned']);
  assert.equal(add.code, 0, add.err);
  const scoreInts = (file: string) => cli(['--home', home, 'score', file, '--model', 'ints', '--json', '--max-reject-rate', '1']);
  const int64 = 'number out of range for an int64 model input as Outpost reads it (-9007199254740991 to 9007199254740991: numbers are read as doubles, exact up to 2^53 - 1)';
  const int32 = 'number out of range for int32, the type of the model input (-2147483648 to 2147483647)';
  const want = [
    ['1', 'n', int64, '9223372036854775808'],
    ['2', 'n', '2.5 is not an integer', '2.50'],
    ['3', 'k', int32, '2147483648.0'],
    ['4', 'k', '1500 is above the maximum 1000', '1.5E3'],
  ];
  // a quoted cell and one with spaces around it too; a batch of 2 rows: the second batch is read again from its own start
  const csv = await scoreInts(write('ints.csv', 'n,k\n9223372036854775808,1\n"2.50",1\n1,2147483648.0\n1, 1.5E3 \n7,7\n'));
  assert.equal(csv.code, 0, csv.err);
  assert.deepEqual(rejectsOf(csv.out), want.map((w, i) => (i === 3 ? [...w.slice(0, 3), ' 1.5E3 '] : w)), 'CSV');
  const small = await cli(['--home', home, 'score', write('ints-b.csv', 'n,k\n7,7\n9223372036854775808,1\n\n1,2147483648.0\n'), '--model', 'ints', '--json', '--max-reject-rate', '1', '--batch', '2']);
  assert.equal(small.code, 0, small.err);
  assert.deepEqual(rejectsOf(small.out).map((r) => [r[0], r[3]]), [['2', '9223372036854775808'], ['3', '2147483648.0']], 'CSV, a reject in the second batch (after a blank line)');
  // JSONL: JSON numbers as written, numeric strings as they are
  const jsonl = await scoreInts(write('ints.jsonl', '{"n":9223372036854775808,"k":1}\n{"n":"2.50","k":1}\n{"n":1,"k":2147483648.0}\n{"n":1,"k":1.5E3}\n{"n":7,"k":7}\n'));
  assert.equal(jsonl.code, 0, jsonl.err);
  assert.deepEqual(rejectsOf(jsonl.out), want, 'JSONL');
  // Parquet: the stored INT64 exactly (a double would read 9223372036854775807 as ...776000)
  const pq = write('ints.parquet', new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'n', data: BigInt64Array.from([9223372036854775807n, 7n]), type: 'INT64' }, { name: 'k', data: [1, 7] }] })));
  const parquet = await scoreInts(pq);
  assert.equal(parquet.code, 0, parquet.err);
  assert.deepEqual(rejectsOf(parquet.out), [['1', 'n', int64, '9223372036854775807']], 'Parquet');
});

test('predict echoes a refused value as sent: a JSON number\'s text, not the double read from it; control characters escaped', async () => {
  const errorsOf = async (input: string) => {
    const p = await cli(['--home', home, 'predict', '--model', 'tiny', '--input', input, '--json']);
    assert.equal(p.code, 1, p.err);
    return (lastJson(p.out) as { errors: { field: string; reason: string; value: string }[] }).errors.map((e) => [e.field, e.reason, e.value]);
  };
  assert.deepEqual(await errorsOf('{"a": 1E+39, "colour": "red"}'), [['a', TOO_LARGE_FOR_FLOAT32, '1E+39']]);
  assert.deepEqual(await errorsOf('{"a": 150.0, "colour": "red"}'), [['a', '150 is above the maximum 100', '150.0']]);
  assert.deepEqual(await errorsOf('{"a": 1, "b": 1e400, "colour": "red"}'), [['b', TOO_LARGE_FOR_DOUBLE, '1e400']]);
  // a key the model does not take, named with an escape sequence and holding a number a double rounds
  assert.deepEqual(await errorsOf('{"a": 1, "colour": "red", "z\\u001b[2J": 9223372036854775808}'), [['z\\u001b[2J', 'unknown field (the model\'s inputs: a, b, colour)', '9223372036854775808']]);
  assert.deepEqual(await errorsOf('{"a": 1, "colour": "re\\u009bd"}'), [['colour', '"re\\u009bd" is not in the vocabulary ("red", "green")', 're\\u009bd']]);
  // text mode prints no raw control character either
  const text = await cli(['--home', home, 'predict', '--model', 'tiny', '--input', '{"a": 1, "colour": "red", "z\\u001b[2J": 1}']);
  assert.equal(text.code, 1);
  assert.doesNotMatch(text.out, /\u001b/);
  assert.match(text.out, /z\\u001b\[2J: unknown field/);
});

test('a JSON number for a text (category) input is scored as written, as the same CSV cell is: CSV, JSONL and predict agree', async () => {
  // none is in the vocabulary: the reject's reason quotes the value validation got, the value column shows the cell
  const cells = ['1.50', '1e3', '-0', '9223372036854775808', '2.0E+1'];
  const want = cells.map((c, i) => [String(i + 1), 'colour', `"${c}" is not in the vocabulary ("red", "green")`, c]);
  const csv = await score([write('num-colour.csv', `a,b,colour\n${cells.map((c) => `1,1,${c}`).join('\n')}\n1,1,red\n`)]);
  assert.equal(csv.code, 0, csv.err);
  assert.deepEqual(rejectsOf(csv.out), want, 'CSV');
  const jsonl = await score([write('num-colour.jsonl', `${cells.map((c) => `{"a":1,"b":1,"colour":${c}}`).join('\n')}\n{"a":1,"b":1,"colour":"red"}\n`)]);
  assert.equal(jsonl.code, 0, jsonl.err);
  assert.deepEqual(rejectsOf(jsonl.out), want, 'JSONL: the number as written (String() gave 1.5, 1000, 0, 9223372036854776000, 20)');
  for (const c of cells) {
    const p = await cli(['--home', home, 'predict', '--model', 'tiny', '--input', `{"a": 1, "colour": ${c}}`, '--json']);
    assert.equal(p.code, 1, p.err);
    assert.deepEqual((lastJson(p.out) as { errors: { field: string; reason: string; value: string }[] }).errors.map((e) => [e.reason, e.value]), [[`"${c}" is not in the vocabulary ("red", "green")`, c]], `predict ${c}`);
  }
});

test('the job\'s grouped reject reasons: rejects of one kind with different values are one group, shown with the limits', async () => {
  const r = await score([write('groups.csv', 'a,b,colour\n150,1,red\n175.5,1,red\n-101,1,red\n1,1e39,red\n1,-5e38,red\n1,1,teal\n1,1,navy\n1,1,red\n')]);
  assert.equal(r.code, 0, r.err);
  const reasons = (lastJson(r.out) as { rejectReasons: { reason: string; count: number }[] }).rejectReasons;
  assert.deepEqual(new Map(reasons.map((g) => [g.reason, g.count])), new Map([
    ['a: … is above the maximum 100', 2],
    ['a: … is below the minimum -100', 1],
    [`b: ${TOO_LARGE_FOR_FLOAT32}`, 2],
    ['colour: … is not in the vocabulary ("red", "green")', 2],
  ]));
});

test('control characters: a NUL in an id rejects the row (naming row and column); the rejects file echoes control characters as escapes', async () => {
  // row 1 good; row 2: NUL in the id; row 3: ESC in a category, BEL in a number; row 4: a quoted value with a line break and a tab; row 5 good
  const csv = 'id,a,b,colour\nr1,1,2,red\n"r\x002",1,2,red\nr3,1\x07,2,"\x1b[31mred"\nr4,1,2,"bl\nue\t"\nr5,2,3,green\n';
  const r = await score([write('controls.csv', csv), '--id', 'id']);
  assert.equal(r.code, 0, r.err);
  const res = lastJson(r.out) as { job: { rowsScored: number; rowsRejected: number; outputPath: string }; rejectsPath: string };
  assert.deepEqual([res.job.rowsScored, res.job.rowsRejected], [2, 3]);
  const rejectsText = fs.readFileSync(res.rejectsPath, 'utf8');
  assert.doesNotMatch(rejectsText.replace(/\n/g, ''), /[\u0000-\u001f\u007f-\u009f]/, 'no raw control character but the line ends');
  assert.deepEqual(rejectsOf(r.out), [
    ['2', 'id', 'the id contains a NUL byte (U+0000): the file is probably damaged', 'r\\u00002'],
    ['3', 'a', 'cannot parse "1\\u0007" as a number', '1\\u0007'],
    ['3', 'colour', '"\\u001b[31mred" is not in the vocabulary ("red", "green")', '\\u001b[31mred'],
    ['4', 'colour', '"bl\\nue\\t" is not in the vocabulary ("red", "green")', 'bl\\nue\\t'],
  ]);
  const output = fs.readFileSync(res.job.outputPath, 'utf8');
  assert.doesNotMatch(output, /\u0000/);
  assert.deepEqual(output.trim().split('\n').slice(1).map((l) => l.split(',')[0]), ['r1', 'r5']);

  // JSONL and Parquet ids (strings, no bytes kept): the same rule
  const jsonl = await score([write('controls.jsonl', '{"id":"j1","a":1,"colour":"red"}\n{"id":"j\\u00002","a":1,"colour":"red"}\n'), '--id', 'id']);
  assert.equal(jsonl.code, 0, jsonl.err);
  assert.deepEqual(rejectsOf(jsonl.out), [['2', 'id', 'the id contains a NUL byte (U+0000): the file is probably damaged', 'j\\u00002']]);
  const pq = write('controls.parquet', new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'id', data: ['p\x001', 'p2'] }, { name: 'a', data: [1, 1] }, { name: 'b', data: [1, 1] }, { name: 'colour', data: ['red', 'red'] }] })));
  const parquet = await score([pq, '--id', 'id']);
  assert.equal(parquet.code, 0, parquet.err);
  assert.deepEqual(rejectsOf(parquet.out), [['1', 'id', 'the id contains a NUL byte (U+0000): the file is probably damaged', 'p\\u00001']]);
});

test('header names echoed in an error or warning have their control characters escaped', async () => {
  const missing = await score([write('header-controls.csv', 'a,b,"x\x1b[2J"\n1,2,3\n')]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /missing required column "colour" \(the file has: a, b, x\\u001b\[2J\)/);
  const repeated = await score([write('header-repeat.csv', '"n\x07",a,b,colour,"n\x07"\nx,1,2,red,y\n')]);
  assert.equal(repeated.code, 0, repeated.err);
  assert.match(repeated.err, /column "n\\u0007" \(columns 1 and 5\) appears more than once/);
  for (const r of [missing, repeated]) assert.doesNotMatch(r.err, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no raw control character');
});

test('a repeated column the model does not read is scored with a warning; one it reads, or the --id column, is refused naming both positions', async () => {
  const rows = [['r1', '1', 'x', '2', 'y', 'red'], ['r2', '3', 'x', '', 'y', 'green']];
  const repeated = write('repeat-unread.csv', `id,a,note,b,note,colour\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  const plain = write('repeat-none.csv', `id,a,b,colour\n${rows.map((r) => [r[0], r[1], r[3], r[5]].join(',')).join('\n')}\n`);
  const r = await score([repeated, '--id', 'id']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /column "note" \(columns 3 and 5\) appears more than once in repeat-unread\.csv; the model does not read it, so the file is scored/);
  const p = await score([plain, '--id', 'id']);
  assert.equal(p.code, 0, p.err);
  const outputOf = (out: string) => fs.readFileSync((lastJson(out) as { job: { outputPath: string } }).job.outputPath);
  assert.deepEqual(outputOf(r.out), outputOf(p.out), 'the same bytes as the file without the repeated column');

  const read = await score([write('repeat-read.csv', 'a,b,a,colour\n1,2,3,red\n')]);
  assert.equal(read.code, 1);
  assert.match(read.err, /column "a" \(columns 1 and 3\) appears more than once in the file: which one to read cannot be known/);
  const id = await score([write('repeat-id.csv', 'id,a,b,colour,id\nr1,1,2,red,r9\n'), '--id', 'id']);
  assert.equal(id.code, 1);
  assert.match(id.err, /column "id" \(columns 1 and 5\) appears more than once/);
  // without --id the repeated id column is read by nobody
  const noId = await score([write('repeat-id2.csv', 'id,a,b,colour,id\nr1,1,2,red,r9\n')]);
  assert.equal(noId.code, 0, noId.err);
  assert.match(noId.err, /column "id" \(columns 1 and 5\) appears more than once/);

  // Parquet: a schema naming a column twice, the same rule
  const parquet = (name: string, first: string) => write(name, new Uint8Array(parquetWriteBuffer({ columnData: [{ name: first, data: ['x', 'y'] }, { name: 'a', data: [1, 2] }, { name: 'b', data: [1, 2] }, { name: first, data: ['z', 'w'] }, { name: 'colour', data: ['red', 'green'] }] })));
  const pu = await score([parquet('repeat-unread.parquet', 'note')]);
  assert.equal(pu.code, 0, pu.err);
  assert.match(pu.err, /column "note" \(columns 1 and 4\) appears more than once/);
  assert.equal((lastJson(pu.out) as { job: { rowsScored: number } }).job.rowsScored, 2);
  const pr = await score([parquet('repeat-read.parquet', 'colour')]);
  assert.equal(pr.code, 1);
  assert.match(pr.err, /column "colour" \(columns 1, 4 and 5\) appears more than once in the file/);
});

test('JSONL: a line repeating a key the model does not read is scored (one warning per key); repeating one it reads rejects the line', async () => {
  const lines = [
    '{"a":1,"note":"x","colour":"red","note":"y"}',
    '{"a":2,"note":1,"colour":"green","note":2,"meta":{"k":1,"k":2}}',
    '{"a":1,"colour":"red","a":3}',
    '{"a":1,"colour":"red","note":"x","note":"z"}',
  ];
  const r = await score([write('repeat.jsonl', `${lines.join('\n')}\n`)]);
  assert.equal(r.code, 0, r.err);
  assert.equal((lastJson(r.out) as { job: { rowsScored: number } }).job.rowsScored, 3);
  assert.deepEqual(rejectsOf(r.out), [['3', '', 'names the key "a" twice (a JSON object must name each key once)', '']]);
  const warnings = r.err.split('\n').filter((l) => / twice/.test(l));
  assert.equal(warnings.length, 2, r.err);
  assert.match(warnings[0], /repeat\.jsonl: row 1 \(and maybe others\) names the key "note" twice; the model does not read it, so such rows are scored/);
  assert.match(warnings[1], /row 2 \(and maybe others\) names the key "k" twice in meta/);

  // a record given to predict names each key once, read or not: which value was meant is the sender's
  const p = await cli(['--home', home, 'predict', '--model', 'tiny', '--input', '{"a": 1, "colour": "red", "b": 1, "b": 2}', '--json']);
  assert.equal(p.code, 1);
  assert.match(p.out, /names the key \\"b\\" twice/);
});

test('--id naming a column the model reads is bad usage, not an internal error', async () => {
  const file = write('id-input.csv', 'a,b,colour\n1,2,red\n');
  const r = await score([file, '--id', 'a']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--id column "a" is an input of the model/);
});
