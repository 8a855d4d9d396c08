// Feed checks and hand-off to the worker: pure functions, no ORT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutpostError } from '../src/common/errors.ts';
import { checkTensor, inputNamedIn, validateFeeds } from '../src/inference/common/feeds.ts';
import type { Feeds, TensorInfo } from '../src/inference/common/feeds.ts';
import { decodeStrings, packFeeds, prepareHandoff, receivedFeed, unpackFeeds } from '../src/inference/common/handoff.ts';

const inputs: TensorInfo[] = [
  { name: 'x', type: 'float32', shape: ['N', 2] },
  { name: 'colour', type: 'string', shape: ['N', 1] },
];
const good = (): Feeds => ({
  x: { type: 'float32', data: new Float32Array([1, 2, 3, 4]), dims: [2, 2] },
  colour: { type: 'string', data: ['red', 'blue'], dims: [2, 1] },
});

function rejectsNaming(feeds: Feeds, field: string, message: RegExp): void {
  assert.throws(() => validateFeeds(feeds, inputs), (e: unknown) => {
    assert.ok(e instanceof OutpostError);
    assert.equal(e.code, 'input');
    assert.equal(e.location.field, field);
    assert.match(e.message, message);
    return true;
  });
}

test('good feeds pass', () => {
  validateFeeds(good(), inputs);
});

test('bad feeds are rejected with the input named', () => {
  rejectsNaming({ x: good().x }, 'colour', /^input "colour": missing from the feeds$/);
  rejectsNaming({ ...good(), y: good().x }, 'y', /input "y": the model has no such input \(inputs: x, colour\)/);
  rejectsNaming({ ...good(), x: { type: 'float64', data: new Float64Array(4), dims: [2, 2] } }, 'x', /the model expects float32, got float64/);
  rejectsNaming({ ...good(), x: { type: 'float32', data: new Float64Array(4) as never, dims: [2, 2] } }, 'x', /type float32 needs its data in a Float32Array/);
  rejectsNaming({ ...good(), x: { type: 'float32', data: new Float32Array(4), dims: [4] } }, 'x', /expects rank 2 \[N, 2\], got dims \[4\]/);
  rejectsNaming({ ...good(), x: { type: 'float32', data: new Float32Array(4), dims: [1, 4] } }, 'x', /expects size 2 on axis 1/);
  rejectsNaming({ ...good(), x: { type: 'float32', data: new Float32Array(3), dims: [2, 2] } }, 'x', /dims \[2, 2\] need 4 values, got 3/);
  rejectsNaming({ ...good(), x: { type: 'float16' as never, data: new Float32Array(4), dims: [2, 2] } }, 'x', /unsupported type "float16"/);
  rejectsNaming({ ...good(), x: { type: 'float32', data: new Float32Array(4), dims: [2, -2] } }, 'x', /non-negative integers/);
  assert.throws(() => checkTensor('s', { type: 'string', data: new Uint8Array(2) as never, dims: [2] }), /needs its data in a string\[\]/);
});

test('the input an ORT message is about is found', () => {
  const names = ['f0', 'f1', 'colour'];
  assert.equal(inputNamedIn('Got invalid dimensions for input: f1 for the following indices\n index: 1 Got: 3 Expected: 4', names), 'f1');
  assert.equal(inputNamedIn("input 'colour' is missing in 'feeds'.", names), 'colour');
  assert.equal(inputNamedIn('Invalid rank for input: f0 Got: 1 Expected: 2', names), 'f0');
  assert.equal(inputNamedIn('Non concat axis dimensions must match', names), undefined);
});

test('hand-off moves whole buffers, copies views, shares shared memory', () => {
  const whole = new Float32Array([1, 2, 3]);
  const big = new Float64Array(1000).fill(7);
  const view = big.subarray(10, 12);
  const shared = new Int32Array(new SharedArrayBuffer(8));
  shared[0] = 5;
  const feeds: Feeds = {
    a: { type: 'float32', data: whole, dims: [3] },
    b: { type: 'float64', data: view, dims: [2] },
    c: { type: 'int32', data: shared, dims: [2] },
    s: { type: 'string', data: ['x'], dims: [1] },
  };
  const h = prepareHandoff(feeds, true);
  assert.equal(whole.length, 0, 'the caller gave the buffer away');
  assert.deepEqual([...(h.feeds.a.data as Float32Array)], [1, 2, 3]);
  assert.equal((h.feeds.b.data as Float64Array).buffer.byteLength, 16, 'only the view is copied, not its 8000-byte buffer');
  assert.equal(big.length, 1000, 'a view\'s buffer is never detached');
  assert.equal(h.feeds.c.data, shared);
  assert.equal(h.transfer.length, 2);
  assert.ok(!h.transfer.includes(shared.buffer as never));

  const kept = new Float32Array([1, 2]);
  const copy = prepareHandoff({ a: { type: 'float32', data: kept, dims: [2] } }, false);
  assert.equal(kept.length, 2, 'not moved when the caller keeps its arrays');
  assert.equal(copy.transfer.length, 0);
});

test('a string feed with codes travels as the codes and its dictionary, not the strings', () => {
  const dictionary = ['red', 'green', 'blue'];
  const codes = Int32Array.from([2, 0, 0, 1]);
  const feeds: Feeds = { colour: { type: 'string', data: ['blue', 'red', 'red', 'green'], dims: [4, 1], coded: { codes, dictionary } } };
  checkTensor('colour', feeds.colour);
  const moved = prepareHandoff(feeds, true);
  assert.deepEqual(moved.feeds.colour.data, [], 'no strings cloned');
  assert.deepEqual([...moved.feeds.colour.coded!.codes], [2, 0, 0, 1]);
  assert.equal(codes.length, 0, 'the codes were moved');
  assert.deepEqual(moved.transfer, [moved.feeds.colour.coded!.codes.buffer]);
  const arrived = receivedFeed('colour', structuredClone(moved.feeds.colour));
  assert.deepEqual(arrived, { type: 'string', data: ['blue', 'red', 'red', 'green'], dims: [4, 1] });

  const kept = Int32Array.from([1, 1]);
  const view = new Int32Array(8).subarray(2, 4);
  view.set([0, 2]);
  const copied = prepareHandoff({ k: { type: 'string', data: ['green', 'green'], dims: [2], coded: { codes: kept, dictionary } } }, false);
  assert.equal(kept.length, 2, 'copied when the caller keeps its arrays');
  assert.deepEqual([...copied.feeds.k.coded!.codes], [1, 1]);
  const fromView = prepareHandoff({ v: { type: 'string', data: ['red', 'blue'], dims: [2], coded: { codes: view, dictionary } } }, true);
  assert.equal(fromView.feeds.v.coded!.codes.buffer.byteLength, 8, 'a view is copied, not its buffer');
  assert.equal(view.length, 2, 'a view\'s buffer is never detached');
  assert.throws(() => decodeStrings('colour', { codes: Int32Array.from([0, 3]), dictionary }), /input 'colour': code 3 at 1 is outside its dictionary of 3/);
  assert.throws(() => decodeStrings('colour', { codes: Int32Array.from([-1]), dictionary }), /code -1 at 0/);
  assert.throws(() => checkTensor('x', { type: 'float32', data: new Float32Array(1), dims: [1], coded: { codes: new Int32Array(1), dictionary } }), /only a string tensor can carry codes/);
  assert.throws(() => checkTensor('s', { type: 'string', data: ['a', 'b'], dims: [2], coded: { codes: new Int32Array(1), dictionary } }), /input "s": 1 codes for 2 values/);
  assert.throws(() => checkTensor('s', { type: 'string', data: ['a'], dims: [1], coded: { codes: [0] as never, dictionary } }), /codes must be an Int32Array/);
});

test('two feeds on one buffer move it once', () => {
  const buf = new ArrayBuffer(8);
  const h = prepareHandoff({ a: { type: 'float32', data: new Float32Array(buf), dims: [2] }, b: { type: 'int32', data: new Int32Array(buf), dims: [2] } }, true);
  assert.equal(h.transfer.length, 1);
  assert.equal((h.feeds.a.data as Float32Array).buffer, (h.feeds.b.data as Int32Array).buffer);
});

test('packing a record keeps every value and type', () => {
  const feeds: Feeds = {
    a: { type: 'float32', data: new Float32Array([1.5]), dims: [1, 1] },
    b: { type: 'float32', data: new Float32Array([2.5, 3.5]), dims: [1, 2] },
    n: { type: 'int64', data: new BigInt64Array([-(2n ** 60n)]), dims: [1] },
    d: { type: 'float64', data: new Float64Array([Math.PI]), dims: [1] },
    i: { type: 'int32', data: new Int32Array([-3]), dims: [1] },
    t: { type: 'bool', data: new Uint8Array([1]), dims: [1] },
    s: { type: 'string', data: ['hé'], dims: [1, 1] },
    s2: { type: 'string', data: ['x', 'y'], dims: [2] },
  };
  const p = packFeeds(feeds);
  assert.equal(p.float32?.length, 3);
  const back = unpackFeeds(structuredClone(p));
  assert.deepEqual(back, feeds);
});
