// String inputs read only by one-hot encoders reach ONNX Runtime as int64 codes
// (onnx/common/category-codes.ts, inference/common/category-feeds.ts): which inputs qualify, what the
// rewritten graph says, and that the engine's outputs stay bit for bit ORT's on the original graph —
// for unknown values, empty strings, dictionary-coded tensors, single records — on the mixed test
// model and on the demo model Outpost's own trainer exported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../src/common/errors.ts';
import { codableInputs, withCategoryCodes } from '../src/onnx/common/category-codes.ts';
import { inspectModel, type ModelInfo } from '../src/onnx/common/onnx.ts';
import type { Feeds } from '../src/inference/common/feeds.ts';
import { InferenceEngine } from '../src/inference/node/engine.ts';
import { cloneFeeds, colours, mixedModel } from './helpers/inference-models.ts';
import { direct } from './helpers/ort-reference.ts';

const limit = { timeout: 30_000 };
const DEMO = path.join(import.meta.dirname, '..', 'models', 'demo', 'weather', 'model.onnx');


/** Bit for bit the same tensors; a difference names the output and the first element (assert's diff of large arrays takes minutes). */
function assertSameOutputs(got: Feeds, expected: Feeds, what = ''): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort());
  for (const [name, e] of Object.entries(expected)) {
    const g = got[name];
    assert.equal(g.type, e.type, `${what} ${name}: type`);
    assert.deepEqual(g.dims, e.dims, `${what} ${name}: dims`);
    const bytes = (t: typeof e) => new Uint8Array((t.data as Float32Array).buffer, (t.data as Float32Array).byteOffset, (t.data as Float32Array).byteLength);
    const [gb, eb] = [bytes(g), bytes(e)];
    assert.equal(gb.length, eb.length, `${what} ${name}: length`);
    const at = gb.findIndex((b, i) => b !== eb[i]);
    const per = (e.data as Float32Array).BYTES_PER_ELEMENT;
    assert.equal(at, -1, `${what} ${name}: element ${Math.floor(at / per)} is ${String(g.data[Math.floor(at / per)])}, ORT gives ${String(e.data[Math.floor(at / per)])}`);
  }
}

const floats = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 3);

test('a string input read only by OneHotEncoders of one list qualifies; anything else does not', () => {
  const demo = inspectModel(new Uint8Array(fs.readFileSync(DEMO)));
  const season = demo.nodes.find((n) => n.op === 'OneHotEncoder')!.attrs.cats_strings as string[];
  assert.deepEqual(codableInputs(demo), [{ name: 'season', categories: season }]);
  assert.deepEqual(codableInputs(inspectModel(mixedModel())), [{ name: 'colour', categories: colours }]);

  const base = inspectModel(mixedModel());
  const encoder = base.nodes.find((n) => n.op === 'OneHotEncoder')!;
  const variant = (change: (m: ModelInfo) => void): ModelInfo => { const m = structuredClone(base); change(m); return m; };
  const withEncoder = (attrs: Record<string, unknown>) => variant((m) => { m.nodes.find((n) => n.op === 'OneHotEncoder')!.attrs = { ...encoder.attrs, ...attrs } as never; });
  assert.deepEqual(codableInputs(withEncoder({ zeros: 0 })), [], 'an unknown value must keep failing in ORT');
  assert.deepEqual(codableInputs(withEncoder({ zeros: undefined })).map((c) => c.name), ['colour'], 'zeros defaults to 1');
  assert.deepEqual(codableInputs(withEncoder({ cats_strings: ['red', 'red', 'blue'] })), [], 'duplicate categories');
  assert.deepEqual(codableInputs(variant((m) => { m.nodes.push({ ...encoder, name: 'second', outputs: ['oh2'], attrs: { ...encoder.attrs, cats_strings: ['blue', 'red', 'green'] } }); })), [], 'two encoders with different lists');
  assert.deepEqual(codableInputs(variant((m) => { m.nodes.push({ ...encoder, name: 'second', outputs: ['oh2'] }); })).map((c) => c.name), ['colour'], 'two encoders with the same list');
  assert.deepEqual(codableInputs(variant((m) => { m.nodes.push({ name: 'id', op: 'Identity', domain: '', inputs: ['colour'], outputs: ['c2'], attrs: {} }); })), [], 'another reader');
  assert.deepEqual(codableInputs(variant((m) => { m.outputs.push({ name: 'colour', type: 'string', shape: ['N', 1] }); })), [], 'a graph output');
  assert.deepEqual(codableInputs(variant((m) => { m.nodes.push({ name: 'if', op: 'If', domain: '', inputs: ['a'], outputs: ['z'], attrs: { then_branch: { kind: 'graph' } } }); })), [], 'a subgraph may read it');
  assert.deepEqual(codableInputs(variant((m) => { m.nodes = m.nodes.filter((n) => n.op !== 'OneHotEncoder'); })), [], 'an input nothing reads');
});

test('the rewritten graph takes int64 codes and one-hot encodes over 0 … n−1; everything else is unchanged', () => {
  const bytes = mixedModel();
  const before = inspectModel(bytes);
  const after = inspectModel(withCategoryCodes(bytes, codableInputs(before)));
  assert.deepEqual(after.inputs.find((i) => i.name === 'colour'), { name: 'colour', type: 'int64', shape: ['N', 1] });
  const encoder = after.nodes.find((n) => n.op === 'OneHotEncoder')!;
  assert.deepEqual(encoder.attrs.cats_int64s, [0, 1, 2]);
  assert.equal(encoder.attrs.cats_strings, undefined);
  assert.equal(encoder.attrs.zeros, 1);
  const rest = (m: ModelInfo) => ({ ...m, inputs: m.inputs.filter((i) => i.name !== 'colour'), nodes: m.nodes.filter((n) => n.op !== 'OneHotEncoder') });
  assert.deepEqual(rest(after), rest(before));
  assert.equal(withCategoryCodes(bytes, []), bytes, 'nothing to code: the same bytes');
});

test('the engine scores a coded input exactly as ORT scores the strings: unknown, empty, dictionary-coded, single records', limit, async () => {
  const bytes = mixedModel();
  const graph = inspectModel(bytes);
  const values = ['red', 'blue', 'green', 'purple', '', 'Red', 'blue ', 'green', 'red'];
  const n = values.length;
  const feeds = (): Feeds => ({
    a: { type: 'float32', data: floats(n, 1), dims: [n, 1] },
    b: { type: 'float32', data: floats(n, 2), dims: [n, 1] },
    colour: { type: 'string', data: [...values], dims: [n, 1] },
  });
  const expected = await direct(bytes, feeds());
  const engine = await InferenceEngine.open(bytes, { ep: 'cpu', intraOpThreads: 1, graph });
  try {
    assert.deepEqual(engine.codedInputs, ['colour']);
    assert.deepEqual(engine.inputs.find((i) => i.name === 'colour'), { name: 'colour', type: 'string', shape: ['N', 1] }, 'callers still see a string input');
    assertSameOutputs(await engine.run(feeds()), expected, 'strings:');
    // a category column's tensor: codes into a dictionary (in another order than the encoder's list)
    const dictionary = ['purple', 'green', '', 'red', 'Red', 'blue ', 'blue'];
    const codes = Int32Array.from(values, (v) => dictionary.indexOf(v));
    assertSameOutputs(await engine.run({ ...feeds(), colour: { type: 'string', data: [...values], dims: [n, 1], coded: { codes, dictionary } } }), expected, 'dictionary codes:');
    for (let i = 0; i < n; i++) {
      const one: Feeds = { a: { type: 'float32', data: feeds().a.data.slice(i, i + 1) as Float32Array, dims: [1, 1] }, b: { type: 'float32', data: feeds().b.data.slice(i, i + 1) as Float32Array, dims: [1, 1] }, colour: { type: 'string', data: [values[i]], dims: [1, 1] } };
      assertSameOutputs(await engine.runOne(cloneFeeds(one)), await direct(bytes, one), `record ${i} (${JSON.stringify(values[i])}):`);
    }
    await assert.rejects(engine.run({ ...feeds(), colour: { type: 'string', data: [...values], dims: [n, 1], coded: { codes: codes.map((c, i) => (i === 4 ? dictionary.length : c)), dictionary } } }),
      (e: Error) => e instanceof OutpostError && e.code === 'input' && /input "colour": code 7 at 4 is outside its dictionary of 7/.test(e.message), 'a code without a dictionary entry fails, naming the input');
    await assert.rejects(engine.run({ ...feeds(), colour: { type: 'int64', data: new BigInt64Array(n), dims: [n, 1] } }), /expects string, got int64/, 'codes are the engine\'s business, not its callers\'');
  } finally {
    await engine.close();
  }
});

test('the demo model scores 20,000 rows bit for bit as ORT does on its original graph', limit, async () => {
  const bytes = new Uint8Array(fs.readFileSync(DEMO));
  const graph = inspectModel(bytes);
  const n = 20_000;
  const seasons = ['winter', 'spring', 'summer', 'autumn', 'monsoon', ''];
  const feeds: Feeds = Object.fromEntries(graph.inputs.map((i, k) => [i.name, i.type === 'string'
    ? { type: 'string' as const, data: Array.from({ length: n }, (_, r) => seasons[(r * 7 + k) % seasons.length]), dims: [n, 1] }
    : { type: 'float32' as const, data: floats(n, k).map((x, r) => (r % 97 === 0 ? Number.NaN : x * 5)), dims: [n, 1] }]));
  const expected = await direct(bytes, cloneFeeds(feeds));
  const coded = await InferenceEngine.open(bytes, { ep: 'cpu', intraOpThreads: 1, graph });
  try {
    assert.deepEqual(coded.codedInputs, ['season']);
    assertSameOutputs(await coded.run(cloneFeeds(feeds)), expected);
  } finally {
    await coded.close();
  }
});
