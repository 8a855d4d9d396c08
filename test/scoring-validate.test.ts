import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CellStatus, type ColumnBatch } from '../src/io/common/table.ts';
import type { ElemType } from '../src/onnx/common/onnx.ts';
import { columnRequests, validateBatch } from '../src/scoring/common/validate.ts';
import { tinyCard } from './helpers/packages.ts';

const card = tinyCard();
const types = new Map<string, ElemType>([['a', 'float'], ['b', 'float'], ['colour', 'string']]);
const ranks = new Map([['a', 2], ['b', 2], ['colour', 2]]);

function batch(a: (number | null | string)[], b: (number | null)[], colour: (string | null)[], rowProblems: ColumnBatch['rowProblems'] = []): ColumnBatch {
  const num = (xs: (number | null | string)[]) => {
    const bad = new Map<number, string>();
    const status = Uint8Array.from(xs, (x, i) => (x === null ? CellStatus.missing : typeof x === 'string' ? (bad.set(i, x), CellStatus.unparsable) : CellStatus.ok));
    return { kind: 'number' as const, values: Float64Array.from(xs, (x) => (typeof x === 'number' ? x : NaN)), status, bad };
  };
  return { firstRow: 101, length: a.length, columns: [num(a), num(b), { kind: 'string', values: colour }], rowProblems, end: { offset: 0, row: 0 } };
}

test('column requests: numbers parsed by the reader, categories as text, id last (with its bytes, copied to the output); nullable inputs optional (JSONL keys may appear late)', () => {
  assert.deepEqual(columnRequests(card.inputs, 'id'), [{ name: 'a', kind: 'number' }, { name: 'b', kind: 'number', optional: true }, { name: 'colour', kind: 'string' }, { name: 'id', kind: 'string', utf8: true }]);
});

test('good rows become [n,1] feeds in the graph dtype; nullable missing becomes NaN', () => {
  const v = validateBatch(batch([1.5, 2], [null, 3], ['red', 'green']), card.inputs, types, ranks);
  assert.deepEqual(Array.from(v.accepted), [0, 1]);
  assert.equal(v.rejects.length, 0);
  assert.equal(v.feeds.a.type, 'float32');
  assert.deepEqual(v.feeds.a.dims, [2, 1]);
  assert.ok(Number.isNaN((v.feeds.b.data as Float32Array)[0]));
  assert.deepEqual(v.feeds.colour.data, ['red', 'green']);
});

test('each kind of bad cell is rejected with its row, column and reason; other rows go on', () => {
  const v = validateBatch(batch([1, 'abc', 500, null, 2, 3], [0, 0, 0, 0, 0, 0], ['red', 'red', 'red', 'red', 'blue', null]), card.inputs, types, ranks);
  assert.deepEqual(Array.from(v.accepted), [0]);
  assert.equal(v.rejectedRows, 5);
  const byRow = Object.fromEntries(v.rejects.map((r) => [r.row, `${r.column}: ${r.reason}`]));
  assert.equal(byRow[102], 'a: cannot parse "abc" as a number');
  assert.equal(byRow[103], 'a: 500 is above the maximum 100');
  assert.equal(byRow[104], 'a: missing value in a non-nullable column');
  assert.match(byRow[105], /^colour: "blue" is not in the vocabulary \("red", "green"\)/);
  assert.equal(byRow[106], 'colour: missing value in a non-nullable column');
  assert.equal(v.feeds.a.dims[0], 1);
});

test('structurally bad rows (wrong field count) are reported once, not per cell', () => {
  const v = validateBatch(batch([1, null], [1, null], ['red', null], [{ row: 102, reason: 'expected 3 fields, found 1' }]), card.inputs, types, ranks);
  assert.deepEqual(v.rejects, [{ row: 102, column: '', reason: 'expected 3 fields, found 1', value: '' }]);
  assert.deepEqual(Array.from(v.accepted), [0]);
});

test('int features must be whole numbers; bool features accept true/false/1/0/yes/no', () => {
  const inputs = [{ name: 'n', type: 'int' as const, nullable: false }, { name: 'flag', type: 'bool' as const, nullable: false }];
  const b: ColumnBatch = {
    firstRow: 1, length: 3, rowProblems: [], end: { offset: 0, row: 0 },
    columns: [{ kind: 'number', values: Float64Array.from([1, 2.5, 3]), status: new Uint8Array(3) }, { kind: 'string', values: ['yes', 'True', 'maybe'] }],
  };
  const v = validateBatch(b, inputs, new Map<string, ElemType>([['n', 'int64'], ['flag', 'bool']]), new Map([['n', 1], ['flag', 2]]));
  assert.deepEqual(Array.from(v.accepted), [0]);
  assert.deepEqual(v.rejects.map((r) => r.reason), ['2.5 is not an integer', '"maybe" is not a boolean (true/false, 1/0, yes/no)']);
  assert.deepEqual(v.feeds.n, { type: 'int64', data: BigInt64Array.from([1n]), dims: [1] });
  assert.deepEqual(v.feeds.flag, { type: 'bool', data: Uint8Array.from([1]), dims: [1, 1] });
});

test('a number an integer feed cannot hold is rejected, not wrapped: int32 and int64 inputs, alone and as columns of a tensor', () => {
  const values = [7, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, -(2 ** 31), 2 ** 63 - 1024, 2 ** 63, -(2 ** 63), -1e19, 1.5];
  const inputs = [{ name: 'n', type: 'float' as const, nullable: false }];
  const b: ColumnBatch = { firstRow: 1, length: values.length, rowProblems: [], end: { offset: 0, row: 0 }, columns: [{ kind: 'number', values: Float64Array.from(values), status: new Uint8Array(values.length) }] };
  const int32 = validateBatch(b, inputs, new Map<string, ElemType>([['n', 'int32']]), new Map([['n', 2]]));
  assert.deepEqual(Array.from(int32.accepted), [0, 1, 4]);
  assert.deepEqual(Array.from(int32.feeds.n.data as Int32Array), [7, 2 ** 31 - 1, -(2 ** 31)]);
  assert.deepEqual(int32.rejects.map((r) => [r.row, r.reason]), [
    ...[3, 4, 6, 7, 8, 9].map((row) => [row, 'number out of range for int32, the type of the model input (-2147483648 to 2147483647)']),
    [10, '1.5 is not an integer'],
  ].sort((x, y) => Number(x[0]) - Number(y[0])));
  // int64: integers a double holds exactly (a larger one may have been rounded when it was read)
  const values64 = [7, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, -(2 ** 53), 2 ** 63, 1.5];
  const b64: ColumnBatch = { ...b, length: values64.length, columns: [{ kind: 'number', values: Float64Array.from(values64), status: new Uint8Array(values64.length) }] };
  const int64 = validateBatch(b64, inputs, new Map<string, ElemType>([['n', 'int64']]), new Map([['n', 2]]));
  assert.deepEqual(Array.from(int64.accepted), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(int64.feeds.n.data as BigInt64Array), [7n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 53n - 1n, -(2n ** 53n - 1n)]);
  const beyond = 'number out of range for an int64 model input as Outpost reads it (-9007199254740991 to 9007199254740991: numbers are read as doubles, exact up to 2^53 - 1)';
  assert.deepEqual(int64.rejects.map((r) => [r.row, r.reason]), [[6, beyond], [7, beyond], [8, beyond], [9, '1.5 is not an integer']]);
  // a column of an int64 tensor input is held to the tensor's type
  const tensor = validateBatch(b64, inputs, new Map<string, ElemType>([['x', 'int64']]), new Map([['x', 2]]), [{ input: 'x', features: ['n'] }]);
  assert.deepEqual(Array.from(tensor.accepted), [0, 1, 2, 3, 4]);
  assert.deepEqual(tensor.feeds.x.dims, [5, 1]);
});

test('a column whose only bad cells are missing or unparsable (no range to break) still rejects them', () => {
  // validateBatch first proves a column clean in one tight pass; a NaN passes every range
  // comparison, so that pass must look at the cell status too
  const inputs = [{ name: 'x', type: 'float' as const, nullable: false }, { name: 'k', type: 'int' as const, nullable: false, range: { min: 0, max: 10 } }];
  const b: ColumnBatch = {
    firstRow: 1, length: 4, rowProblems: [], end: { offset: 0, row: 0 },
    columns: [
      { kind: 'number', values: Float64Array.from([1, NaN, NaN, 4]), status: Uint8Array.from([CellStatus.ok, CellStatus.missing, CellStatus.unparsable, CellStatus.ok]), bad: new Map([[2, 'x1']]) },
      { kind: 'number', values: Float64Array.from([1, 2, 3, 4.5]), status: new Uint8Array(4) },
    ],
  };
  const v = validateBatch(b, inputs, new Map<string, ElemType>([['x', 'float'], ['k', 'int64']]), new Map([['x', 2], ['k', 2]]));
  assert.deepEqual(v.rejects.map((r) => `${r.row} ${r.column}: ${r.reason}`), ['2 x: missing value in a non-nullable column', '3 x: cannot parse "x1" as a number', '4 k: 4.5 is not an integer']);
  assert.deepEqual(Array.from(v.accepted), [0]);
});

test('a category feed carries its values as codes into the vocabulary; missing and scored unseen values get codes of the batch\'s own', () => {
  const v = validateBatch(batch([1, 2, 3, 4], [0, 0, 0, 0], ['green', 'red', 'green', 'red']), card.inputs, types, ranks);
  assert.deepEqual(v.feeds.colour.coded, { codes: Int32Array.from([1, 0, 1, 0]), dictionary: ['red', 'green'] });
  assert.equal(v.feeds.colour.coded.dictionary, card.inputs[2].vocabulary, 'the vocabulary itself, not a copy, when every value is in it');
  const open = card.inputs.map((f) => (f.name === 'colour' ? { ...f, nullable: true, unseen: 'score' as const } : f));
  const w = validateBatch(batch([1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 0, 0, 500], ['teal', null, 'red', '', 'teal', 'pink', 'green']), open, types, ranks);
  assert.deepEqual(Array.from(w.accepted), [0, 1, 2, 3, 4, 5, 6]);
  const { codes, dictionary } = w.feeds.colour.coded!;
  assert.deepEqual(w.feeds.colour.data, ['teal', '', 'red', '', 'teal', 'pink', 'green']);
  assert.deepEqual(Array.from(codes, (c) => dictionary[c]), w.feeds.colour.data, 'the codes spell the same strings');
  assert.deepEqual(dictionary, ['red', 'green', 'teal', '', 'pink']);
  assert.deepEqual(card.inputs[2].vocabulary, ['red', 'green'], 'the card\'s vocabulary is not touched');
  // rejected rows leave no code behind: accepted rows only, in order
  const x = validateBatch(batch([1, 999, 3], [0, 0, 0], ['green', 'red', 'blue']), card.inputs, types, ranks);
  assert.deepEqual(Array.from(x.accepted), [0]);
  assert.deepEqual(x.feeds.colour.coded, { codes: Int32Array.from([1]), dictionary: ['red', 'green'] });
});

test('a batch whose cells are all fine is taken whole, and one bad cell anywhere in it is found: at any position, in a status column at any byte offset and longer than the batch', () => {
  const inputs = [{ name: 'x', type: 'float' as const, nullable: false }];
  const graph = new Map<string, ElemType>([['x', 'float']]);
  const rank = new Map([['x', 2]]);
  for (const n of [1, 3, 8, 37]) {
    for (const offset of [0, 1, 3]) {
      const make = () => {
        const status = new Uint8Array(offset + n + 5).subarray(offset); // n cells of a longer column, as readers hand out
        status.fill(CellStatus.unparsable, n); // the cells past the batch are not its own
        return { kind: 'number' as const, values: Float64Array.from({ length: n + 5 }, (_, i) => i / 7), status, bad: new Map<number, string>() };
      };
      const whole: ColumnBatch = { firstRow: 1, length: n, columns: [make()], rowProblems: [], end: { offset: 0, row: 0 } };
      assert.equal(validateBatch(whole, inputs, graph, rank).accepted.length, n, `n ${n}, offset ${offset}`);
      for (let bad = 0; bad < n; bad++) {
        for (const kind of ['missing', 'unparsable', 'float32 overflow'] as const) {
          const col = make();
          if (kind === 'float32 overflow') col.values[bad] = -1e39;
          else col.status[bad] = CellStatus[kind];
          if (kind === 'unparsable') col.bad.set(bad, 'x?');
          const v = validateBatch({ firstRow: 1, length: n, columns: [col], rowProblems: [], end: { offset: 0, row: 0 } }, inputs, graph, rank);
          assert.equal(v.accepted.length, n - 1, `n ${n}, offset ${offset}, ${kind} at ${bad}`);
          assert.equal(v.rejects[0]?.row, 1 + bad);
        }
      }
    }
  }
});
