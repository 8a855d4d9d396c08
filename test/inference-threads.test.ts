// ONNX Runtime's intra-op thread count per graph (src/inference/common/intra-op-threads.ts): a tree
// ensemble's scores depend on it, so such a graph runs on one thread on every machine; other graphs
// get the cores the caller leaves. Checked on the exporters' real layouts (skl2onnx, torch) and
// through the real CLI.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import ort from 'onnxruntime-node';
import { intraOpThreadsFor, threadSensitiveNodes } from '../src/inference/common/intra-op-threads.ts';
import { inspectModel } from '../src/onnx/common/onnx.ts';
import { expected, HELD_OUT, handCard, modelBytes, readCsv } from './helpers/byo.ts';
import { runMain } from './helpers/cli.ts';
import { tempDir, writePackage } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('a graph with a tree ensemble gets one thread whatever the cores; the others share the cores but one', () => {
  const graph = (name: string) => inspectModel(modelBytes(name));
  for (const name of ['forest', 'forest-nozipmap']) {
    assert.deepEqual(threadSensitiveNodes(graph(name)).length, 1, name);
    for (const cores of [1, 2, 3, 16, 64]) for (const workers of [1, 2]) assert.equal(intraOpThreadsFor(graph(name), workers, cores), 1, `${name} on ${cores} cores, ${workers} workers`);
  }
  for (const name of ['logreg', 'mlp', 'linreg', 'mlp-binary']) {
    assert.deepEqual(threadSensitiveNodes(graph(name)), [], name);
    assert.equal(intraOpThreadsFor(graph(name), 1, 16), 15, name);
    assert.equal(intraOpThreadsFor(graph(name), 2, 16), 7, name);
    assert.equal(intraOpThreadsFor(graph(name), 1, 2), 1, name);
    assert.equal(intraOpThreadsFor(graph(name), 1, 1), 1, name);
  }
  // the project's own boosted trees export as TreeEnsembleRegressor (train/common/gbdt-export.ts);
  // only the ai.onnx.ml operator counts, not a custom op of the same name
  const node = (op: string, domain: string) => ({ name: 'n', op, domain, inputs: [], outputs: [], attrs: {} });
  assert.equal(intraOpThreadsFor({ nodes: [node('TreeEnsembleRegressor', 'ai.onnx.ml')] }, 1, 8), 1);
  assert.equal(intraOpThreadsFor({ nodes: [node('TreeEnsemble', 'ai.onnx.ml')] }, 1, 8), 1);
  assert.equal(intraOpThreadsFor({ nodes: [node('TreeEnsembleRegressor', 'com.example')] }, 1, 8), 7);
  assert.equal(intraOpThreadsFor(undefined, 1, 8), 7, 'no graph: the cores but one');
});

test('outpost score of a forest gives exactly a one-thread ONNX Runtime run\'s probabilities', async () => {
  const home = path.join(root, 'home');
  const dir = writePackage(path.join(root, 'pkg-forest'), handCard('forest'), modelBytes('forest'));
  const add = await runMain(['--home', home, 'models', 'add', dir, '--allow-unsigned']);
  assert.equal(add.code, 0, add.err);
  const out = path.join(root, 'forest.scored.csv');
  const score = await runMain(['--home', home, 'score', HELD_OUT, '--model', 'byo-forest', '--out', out]);
  assert.equal(score.code, 0, score.err);
  const { header, rows } = readCsv(HELD_OUT);
  const feats = expected.forest.features;
  const x = new Float32Array(rows.length * feats.length);
  rows.forEach((r, i) => feats.forEach((name, k) => (x[i * feats.length + k] = Number(r[header.indexOf(name)]))));
  const session = await ort.InferenceSession.create(modelBytes('forest-nozipmap'), { intraOpNumThreads: 1 });
  const want = (await session.run({ float_input: new ort.Tensor('float32', x, [rows.length, feats.length]) })).output_probability.data as Float32Array;
  const got = readCsv(out);
  const classes = expected.forest.classes!;
  got.rows.forEach((row, i) => classes.forEach((c, k) => assert.ok(Object.is(Math.fround(Number(row[got.header.indexOf(`p_${c}`)])), want[i * classes.length + k]), `row ${i + 1} p_${c}`)));
});
