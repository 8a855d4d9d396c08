// InferenceEngine against real onnxruntime-node sessions: results must equal a direct
// InferenceSession.run exactly on CPU, overlapping calls must get their own results, and every
// failure (bad feed, bad model, crash, close) must reject with a clear OutpostError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutpostError } from '../src/common/errors.ts';
import type { Feeds } from '../src/inference/common/feeds.ts';
import { InferenceEngine } from '../src/inference/node/engine.ts';
import { encodeModel } from '../src/onnx/common/onnx.ts';
import { cloneFeeds, identityModel, mixedModel, mlpFeeds, mlpModel } from './helpers/inference-models.ts';
import { direct } from './helpers/ort-reference.ts';

/** A hung worker must fail the test, not stall the run. */
const limit = { timeout: 30_000 };


const isOutpost = (code: string, message: RegExp, field?: string) => (e: unknown): boolean => {
  assert.ok(e instanceof OutpostError, `expected OutpostError, got ${String(e)}`);
  assert.equal(e.code, code);
  assert.match(e.message, message);
  if (field !== undefined) assert.equal(e.location.field, field);
  return true;
};

test('an MLP with one [N,1] input per feature gives exactly what ORT gives', limit, async () => {
  const model = mlpModel(6);
  const feeds = mlpFeeds(6, 257, 1);
  const expected = await direct(model, cloneFeeds(feeds));
  const engine = await InferenceEngine.open(model, { ep: 'cpu', intraOpThreads: 1 });
  try {
    assert.equal(engine.provider.chosen, 'cpu');
    assert.deepEqual(engine.inputs.map((i) => [i.name, i.type, i.shape]), [0, 1, 2, 3, 4, 5].map((j) => [`f${j}`, 'float32', ['N', 1]]));
    assert.deepEqual(engine.outputs, [{ name: 'probabilities', type: 'float32', shape: ['N', 3] }, { name: 'label', type: 'int64', shape: ['N'] }]);
    const got = await engine.run(cloneFeeds(feeds));
    assert.deepEqual(got, expected);
    assert.equal(got.label.data.length, 257);
    assert.ok(got.label.data instanceof BigInt64Array);
    // The single-record path packs feeds differently; the numbers must not change.
    const one = cloneFeeds(mlpFeeds(6, 1, 42));
    assert.deepEqual(await engine.runOne(one), await direct(model, one));
  } finally {
    await engine.close();
  }
});

test('a string input through OneHotEncoder and an int64 ArgMax output match ORT exactly', limit, async () => {
  const model = mixedModel();
  const feeds: Feeds = {
    a: { type: 'float32', data: Float32Array.from([1, -2, 0.5, 3, 0]), dims: [5, 1] },
    b: { type: 'float32', data: Float32Array.from([0, 4, -1, 2, 9]), dims: [5, 1] },
    colour: { type: 'string', data: ['red', 'blue', 'green', 'purple', 'blue'], dims: [5, 1] },
  };
  const expected = await direct(model, cloneFeeds(feeds));
  const engine = await InferenceEngine.open(model, { ep: 'cpu' });
  try {
    assert.deepEqual(engine.inputs.find((i) => i.name === 'colour'), { name: 'colour', type: 'string', shape: ['N', 1] });
    const got = await engine.run(cloneFeeds(feeds));
    assert.deepEqual(got, expected);
    assert.equal(got.label.type, 'int64');
    assert.deepEqual(await engine.runOne({ a: { type: 'float32', data: new Float32Array([1]), dims: [1, 1] }, b: { type: 'float32', data: new Float32Array([0]), dims: [1, 1] }, colour: { type: 'string', data: ['red'], dims: [1, 1] } }),
      { probabilities: { ...got.probabilities, data: got.probabilities.data.slice(0, 3) as Float32Array, dims: [1, 3] }, label: { ...got.label, data: got.label.data.slice(0, 1) as BigInt64Array, dims: [1] } });
  } finally {
    await engine.close();
  }
});

test('every element type crosses the threads unchanged; inputs are kept unless handed over', limit, async () => {
  const make = (): Feeds => ({
    d: { type: 'float64', data: Float64Array.from([Math.PI, -0, 1e300]), dims: [3] },
    i: { type: 'int32', data: Int32Array.from([-(2 ** 31), 0, 2 ** 31 - 1]), dims: [3] },
    n: { type: 'int64', data: BigInt64Array.from([-(2n ** 63n), 0n, 2n ** 63n - 1n]), dims: [3] },
    t: { type: 'bool', data: Uint8Array.from([1, 0, 1]), dims: [3] },
    s: { type: 'string', data: ['', 'ünïcødé', 'a,b'], dims: [3] },
    f: { type: 'float32', data: Float32Array.from([Number.NaN, Infinity, 1.5]), dims: [3] },
  });
  const engine = await InferenceEngine.open(identityModel(), { ep: 'cpu' });
  try {
    const kept = make();
    const out = await engine.run(kept);
    for (const [name, t] of Object.entries(make())) assert.deepEqual(out[`${name}_out`], t);
    assert.deepEqual(kept, make(), 'by default the caller\'s arrays stay usable');
    const given = make();
    const moved = await engine.run(given, { transferInputs: true });
    for (const [name, t] of Object.entries(make())) assert.deepEqual(moved[`${name}_out`], t);
    assert.equal(given.d.data.length, 0, 'transferInputs: the buffers move to the worker');
    assert.equal(given.s.data.length, 3, 'strings are copied');
    // Feeds on shared memory cross without a copy and stay readable.
    const shared = new Float32Array(new SharedArrayBuffer(12));
    shared.set([1, 2, 3]);
    const viaShared = await engine.run({ ...make(), f: { type: 'float32', data: shared, dims: [3] } }, { transferInputs: true });
    assert.deepEqual(Array.from(viaShared.f_out.data as Float32Array), [1, 2, 3]);
    assert.equal(shared.length, 3);
    const one = make();
    const single = await engine.runOne(one);
    assert.deepEqual(single.n_out, make().n);
    assert.equal(one.d.data.length, 3, 'runOne copies');
  } finally {
    await engine.close();
  }
});

test('pipelined calls each get their own result, on one worker and on a pool of two', limit, async () => {
  const model = mlpModel(4);
  for (const workers of [1, 2]) {
    const engine = await InferenceEngine.open(model, { ep: 'cpu', workers, intraOpThreads: 1 });
    try {
      const calls = Array.from({ length: 30 }, (_, i) => mlpFeeds(4, 1 + ((i * 37) % 300), i));
      const expected = await Promise.all(calls.map((f) => direct(model, cloneFeeds(f))));
      // All in flight at once, batch and single-record paths mixed.
      const results = await Promise.all(calls.map((f, i) => (i % 5 === 0 ? engine.runOne(cloneFeeds(f)) : engine.run(cloneFeeds(f)))));
      results.forEach((r, i) => assert.deepEqual(r, expected[i], `call ${i} with ${workers} worker(s)`));
    } finally {
      await engine.close();
    }
  }
});

test('a string input sent as dictionary codes gives the same results; a code outside its dictionary names the input', limit, async () => {
  const model = mixedModel();
  const dictionary = ['red', 'green', 'blue', 'purple'];
  const codes = [0, 2, 1, 3, 2, 2, 0];
  const plain = (): Feeds => ({
    a: { type: 'float32', data: Float32Array.from([1, -2, 0.5, 3, 0, 1, 2]), dims: [7, 1] },
    b: { type: 'float32', data: Float32Array.from([0, 4, -1, 2, 9, 1, 1]), dims: [7, 1] },
    colour: { type: 'string', data: codes.map((c) => dictionary[c]), dims: [7, 1] },
  });
  const expected = await direct(model, plain());
  const engine = await InferenceEngine.open(model, { ep: 'cpu' });
  try {
    const coded = plain();
    const sent = Int32Array.from(codes);
    coded.colour.coded = { codes: sent, dictionary };
    assert.deepEqual(await engine.run(coded, { transferInputs: true }), expected);
    assert.equal(sent.length, 0, 'the codes were handed over');
    const kept = plain();
    kept.colour.coded = { codes: Int32Array.from(codes), dictionary };
    assert.deepEqual(await engine.run(kept), expected);
    assert.equal(kept.colour.coded.codes.length, 7, 'copied when not handed over');
    const bad = plain();
    bad.colour.coded = { codes: Int32Array.from(codes, (c, i) => (i === 4 ? 9 : c)), dictionary };
    await assert.rejects(engine.run(bad), isOutpost('input', /input "colour": .*code 9 at 4 is outside its dictionary of 4/, 'colour'));
    assert.deepEqual(await engine.run(plain()), expected, 'the engine keeps working');
  } finally {
    await engine.close();
  }
});

test('runOne overtakes batches still queued on the main thread; laneDepth sets how many are with the worker', limit, async () => {
  await assert.rejects(InferenceEngine.open(mlpModel(4), { ep: 'cpu', laneDepth: 0 }), isOutpost('usage', /laneDepth must be a positive integer, got 0/));
  for (const laneDepth of [undefined, 4]) {
    const engine = await InferenceEngine.open(mlpModel(4), { ep: 'cpu', workers: 1, intraOpThreads: 1, ...(laneDepth ? { laneDepth } : {}) });
    try {
      const order: string[] = [];
      const batches = Array.from({ length: 6 }, (_, i) => engine.run(mlpFeeds(4, 2000, i)).then(() => order.push(`batch${i}`)));
      const one = engine.runOne(mlpFeeds(4, 1, 99)).then(() => order.push('one'));
      await Promise.all([...batches, one]);
      // Two batches (by default) were already with the worker; the record goes next, before the rest.
      const ahead = laneDepth ?? 2;
      assert.deepEqual(order, [...Array.from({ length: ahead }, (_, i) => `batch${i}`), 'one', ...Array.from({ length: 6 - ahead }, (_, i) => `batch${ahead + i}`)], `laneDepth ${laneDepth}`);
    } finally {
      await engine.close();
    }
  }
});

test('bad feeds reject with an error naming the input, and the engine keeps working', limit, async () => {
  const engine = await InferenceEngine.open(mlpModel(2), { ep: 'cpu' });
  try {
    const f = (): Feeds => mlpFeeds(2, 3, 1);
    await assert.rejects(engine.run({ f0: f().f0 }), isOutpost('input', /^input "f1": missing from the feeds$/, 'f1'));
    await assert.rejects(engine.run({ ...f(), f1: { type: 'float64', data: new Float64Array(3), dims: [3, 1] } }), isOutpost('input', /input "f1": the model expects float32, got float64/, 'f1'));
    await assert.rejects(engine.run({ ...f(), f0: { type: 'float32', data: new Float32Array(6), dims: [3, 2] } }), isOutpost('input', /input "f0": the model expects size 1 on axis 1/, 'f0'));
    await assert.rejects(engine.runOne({ ...f(), f0: { type: 'float32', data: new Float32Array(2), dims: [3, 1] } }), isOutpost('input', /input "f0": dims \[3, 1\] need 3 values, got 2/, 'f0'));
    await assert.rejects(engine.run({ ...f(), zz: f().f0 }), isOutpost('input', /input "zz": the model has no such input/, 'zz'));
    // Consistent per input but not with each other: only ORT can tell, and its error comes back.
    await assert.rejects(engine.run({ f0: f().f0, f1: { type: 'float32', data: new Float32Array(4), dims: [4, 1] } }), isOutpost('input', /^inference failed on cpu: .*concat/i));
    const ok = await engine.run(f());
    assert.equal(ok.label.data.length, 3);
  } finally {
    await engine.close();
  }
});

test('close() rejects calls still pending, and later calls', limit, async () => {
  const engine = await InferenceEngine.open(mlpModel(4), { ep: 'cpu' });
  const pending = Array.from({ length: 8 }, (_, i) => engine.run(mlpFeeds(4, 5000, i)));
  const closing = engine.close();
  for (const p of pending) await assert.rejects(p, isOutpost('cancelled', /inference engine closed before the call finished/));
  await closing;
  await assert.rejects(engine.run(mlpFeeds(4, 1, 1)), isOutpost('cancelled', /inference engine is closed/));
  await engine.close(); // twice is fine
});

test('a worker that crashes rejects every pending call with a clear error', limit, async () => {
  const engine = await InferenceEngine.open(mlpModel(2), { ep: 'cpu', workerUrl: new URL('./helpers/inference-crash-worker.ts', import.meta.url) });
  try {
    assert.equal((await engine.run(mlpFeeds(2, 2, 1))).label.data.length, 2, 'the wrapped worker is the real one');
    const crash = mlpFeeds(2, 2, 1);
    (crash.f0.data as Float32Array)[0] = 999;
    const pending = [engine.run(crash), engine.run(mlpFeeds(2, 2, 2)), engine.runOne(mlpFeeds(2, 1, 3))];
    for (const p of pending) await assert.rejects(p, isOutpost('provider', /inference worker crashed \(simulated worker crash\); 3 pending call\(s\) cancelled/));
    await assert.rejects(engine.run(mlpFeeds(2, 2, 1)), isOutpost('provider', /crashed/));
  } finally {
    await engine.close();
  }
});

test('models load from a path; bad models and missing files are clear errors', limit, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-inference-'));
  try {
    const file = path.join(dir, 'model.onnx');
    fs.writeFileSync(file, mlpModel(2));
    const engine = await InferenceEngine.open(file, { ep: 'cpu', workers: 2 });
    assert.equal((await engine.run(mlpFeeds(2, 4, 1))).probabilities.dims.join(), '4,3');
    await engine.close();

    const bad = path.join(dir, 'bad.onnx');
    fs.writeFileSync(bad, 'not a model');
    await assert.rejects(InferenceEngine.open(bad, { ep: 'cpu' }), (e: unknown) => isOutpost('package', /^cannot load the model on cpu: /)(e) && (e as OutpostError).location.file === bad);
    await assert.rejects(InferenceEngine.open(new Uint8Array([1, 2, 3]), { ep: 'cpu' }), isOutpost('package', /cannot load the model on cpu/));
    await assert.rejects(InferenceEngine.open(path.join(dir, 'missing.onnx'), { ep: 'cpu' }), isOutpost('not-found', /model file not found/));
    await assert.rejects(InferenceEngine.open(mlpModel(2), { ep: 'cpu', workers: 0 }), isOutpost('usage', /workers must be a positive integer/));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a model with an input type the engine cannot carry is refused at open', limit, async () => {
  const model = encodeModel({
    name: 'bytes', initializers: [],
    inputs: [{ name: 'raw', type: 'uint8', shape: ['N'] }],
    outputs: [{ name: 'same', type: 'uint8', shape: ['N'] }],
    nodes: [{ op: 'Identity', inputs: ['raw'], outputs: ['same'] }],
  });
  await assert.rejects(InferenceEngine.open(model, { ep: 'cpu' }), isOutpost('package', /model input "raw" has type uint8; the engine carries float32, float64, int64, int32, bool, string/, 'raw'));
});

test('asking for cuda on a machine without it fails at open instead of running on CPU', { ...limit, skip: fs.existsSync('/dev/nvidia0') ? 'this machine has an NVIDIA device: cuda may work here' : false }, async () => {
  await assert.rejects(InferenceEngine.open(mlpModel(2), { ep: 'cuda' }), isOutpost('provider', /^execution provider cuda cannot be used: /));
});

test('a spare worker started ahead is taken by the next open and gives the same results; a spare that died is dropped quietly', limit, async () => {
  const { INFERENCE_WORKER_URL, prestartInferenceWorker, takeSpareWorker } = await import('../src/inference/node/spare-worker.ts');
  const model = mlpModel(4);
  const feeds = mlpFeeds(4, 33, 7);
  prestartInferenceWorker();
  const engine = await InferenceEngine.open(model, { ep: 'cpu', intraOpThreads: 1 });
  try {
    assert.equal(takeSpareWorker(INFERENCE_WORKER_URL), undefined, 'the engine took the spare');
    assert.deepEqual(await engine.run(cloneFeeds(feeds)), await direct(model, feeds));
  } finally {
    await engine.close();
  }
  // a spare whose script fails to load: no unhandled 'error' event, and it is not handed out
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-spare-'));
  try {
    const broken = new URL(`file://${path.join(dir, 'broken.mjs')}`);
    fs.writeFileSync(broken, 'throw new Error("cannot start");\n');
    prestartInferenceWorker(broken);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(takeSpareWorker(broken), undefined, 'a dead spare is not handed out');
    // and the next spare can be started again
    prestartInferenceWorker();
    const again = await InferenceEngine.open(model, { ep: 'cpu', intraOpThreads: 1 });
    assert.equal(takeSpareWorker(INFERENCE_WORKER_URL), undefined);
    await again.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a command that fails at once, while its spare worker is still loading ONNX Runtime, exits with its code, not aborted', { timeout: 120_000 }, async () => {
  // `outpost score` starts a spare inference worker first; a usage error ends the process while
  // that worker is inside ONNX Runtime's native load, and ending it there aborted the process
  // ("terminate called after throwing an instance of 'Napi::Error'", exit 134: 6 of 30 runs here).
  // The spare now holds the process until its modules have loaded.
  const { runCli } = await import('./helpers/cli.ts');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-spare-exit-'));
  try {
    for (let i = 0; i < 20; i++) {
      const r = await runCli(['score', 'in.csv', '--model', 'm', '--format', 'xlsx'], { home });
      assert.equal(r.code, 2, `run ${i + 1}: exit ${r.code} ${r.signal ?? ''}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /terminate called/);
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
