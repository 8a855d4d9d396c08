// Training with ONNX Runtime graph steps (forward, backward, Adam as an ONNX graph, run on the
// chosen execution provider — CPU here): the result matches the TypeScript trainer on the same
// data, seed and settings within a stated tolerance (float32 graph vs float64 TypeScript: after 30
// epochs of 18 Adam steps, weights and probabilities agree within 1e-5; measured ~3e-6 and ~6e-7).
// The CLI path records the provider and the engine in the lineage; an explicit provider that
// cannot work is an error with its reason and nothing is written.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FEATURES, parseWeatherCsv, splitByYear, toDataset, WEATHER_CSV } from '../models/build-demo.ts';
import { encodeLabels, fitNetwork, fitPreprocessor, forward, transform } from '../src/train/common/index.ts';
import type { FitOptions, Network } from '../src/train/common/index.ts';
import { fitNetworkOnGraph, stateLocationFor } from '../src/train/node/graph-train.ts';
import { lastJson, runMain } from './helpers/cli.ts';

const TOLERANCE = 1e-5;
const rows = parseWeatherCsv(fs.readFileSync(WEATHER_CSV, 'utf8'), WEATHER_CSV);
const { train, heldOut } = splitByYear(rows);
const data = toDataset(train);
const pre = fitPreprocessor(FEATURES, data);
const x = transform(pre, data);
const xHeld = transform(pre, toDataset(heldOut));
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
const labels = encodeLabels(data.columns.weather as string[], CLASSES);

function maxDiff(a: Network, b: Network): number {
  let m = 0;
  a.layers.forEach((l, i) => {
    l.weights.forEach((w, j) => { m = Math.max(m, Math.abs(w - b.layers[i].weights[j])); });
    l.bias.forEach((w, j) => { m = Math.max(m, Math.abs(w - b.layers[i].bias[j])); });
  });
  return m;
}

describe('graph training (ONNX Runtime, CPU provider) vs the TypeScript trainer', () => {
  for (const hidden of [0, 8]) {
    it(`${hidden ? `MLP (${hidden} tanh units)` : 'logistic regression'}: weights and held-out probabilities within ${TOLERANCE}`, async () => {
      const opts: FitOptions = { hidden, activation: 'tanh', epochs: 30, batchSize: 64, learningRate: 0.01, l2: 1e-4, seed: 3 };
      const ts = fitNetwork(x, { kind: 'classes', labels, classes: CLASSES.length }, opts);
      const losses: number[] = [];
      const g = await fitNetworkOnGraph(x, { kind: 'classes', labels, classes: CLASSES.length }, opts, { ep: 'cpu', hooks: { onEpoch: (_e, loss) => losses.push(loss) } });
      assert.equal(g.provider.chosen, 'cpu');
      assert.equal(g.steps, 30 * Math.ceil(train.length / 64));
      assert.equal(losses.length, 30);
      assert.ok(losses[29] < losses[0], 'the loss goes down');
      const d = maxDiff(ts, g.network);
      assert.ok(d <= TOLERANCE, `weights differ by ${d}`);
      const pa = forward(ts, xHeld).data;
      const pb = forward(g.network, xHeld).data;
      let dp = 0;
      pa.forEach((v, i) => { dp = Math.max(dp, Math.abs(v - pb[i])); });
      assert.ok(dp <= TOLERANCE, `probabilities differ by ${dp}`);
    });
  }
  it('regression (standardised target folded back): values within 1e-4 of the TypeScript trainer', async () => {
    const opts: FitOptions = { hidden: 4, activation: 'relu', epochs: 10, batchSize: 32, learningRate: 0.01, l2: 0, seed: 5 };
    const y = Float64Array.from(train, (r) => r.temp_max);
    const xr = transform(fitPreprocessor(FEATURES.filter((f) => f.name !== 'temp_max'), data), data);
    const ts = fitNetwork(xr, { kind: 'values', values: y }, opts);
    const g = await fitNetworkOnGraph(xr, { kind: 'values', values: y }, opts, { ep: 'cpu' });
    const a = forward(ts, xr).data;
    const b = forward(g.network, xr).data;
    let d = 0;
    a.forEach((v, i) => { d = Math.max(d, Math.abs(v - b[i])); });
    assert.ok(d <= 1e-4, `values differ by ${d} °C`);
  });
});

describe('weights kept on the device between steps (IO binding)', () => {
  // No GPU here: the GPU providers' loop — state outputs bound at a location (preferredOutputLocation),
  // fed back as the next step's inputs, replaced tensors released, one download at the end — runs on
  // the CPU provider with the location 'cpu', and must give bit for bit the plain CPU path's weights.
  const bits = (n: Network) => n.layers.map((l) => [Array.from(l.weights), Array.from(l.bias)]);
  for (const hidden of [0, 8]) {
    it(`${hidden ? 'MLP' : 'logistic regression'}: the bound loop equals the plain CPU loop bit for bit`, async () => {
      const opts: FitOptions = { hidden, activation: 'tanh', epochs: 5, batchSize: 64, learningRate: 0.01, l2: 1e-4, seed: 3 };
      const target = { kind: 'classes', labels, classes: CLASSES.length } as const;
      const lossesA: number[] = [];
      const lossesB: number[] = [];
      const plain = await fitNetworkOnGraph(x, target, opts, { ep: 'cpu', hooks: { onEpoch: (_e, l) => lossesA.push(l) } });
      const bound = await fitNetworkOnGraph(x, target, opts, { ep: 'cpu', bindState: 'cpu', hooks: { onEpoch: (_e, l) => lossesB.push(l) } });
      assert.deepEqual(plain.stateLocation, { location: 'cpu', bound: false, reason: 'host memory is the device' });
      assert.deepEqual(bound.stateLocation, { location: 'cpu', bound: true, reason: 'bound to host memory (test)' });
      assert.deepEqual(bits(bound.network), bits(plain.network));
      assert.deepEqual(lossesB, lossesA);
    });
  }
  it('regression: the bound loop equals the plain CPU loop bit for bit', async () => {
    const opts: FitOptions = { hidden: 4, activation: 'relu', epochs: 3, batchSize: 32, learningRate: 0.01, l2: 0, seed: 5 };
    const y = Float64Array.from(train, (r) => r.temp_max);
    const xr = transform(fitPreprocessor(FEATURES.filter((f) => f.name !== 'temp_max'), data), data);
    const plain = await fitNetworkOnGraph(xr, { kind: 'values', values: y }, opts, { ep: 'cpu' });
    const bound = await fitNetworkOnGraph(xr, { kind: 'values', values: y }, opts, { ep: 'cpu', bindState: 'cpu' });
    assert.deepEqual(bits(bound.network), bits(plain.network));
  });
  it("asked for 'gpu-buffer' state on a provider that hands back host tensors: says so, same weights", async () => {
    const opts: FitOptions = { hidden: 0, activation: 'tanh', epochs: 3, batchSize: 64, learningRate: 0.01, l2: 1e-4, seed: 3 };
    const target = { kind: 'classes', labels, classes: CLASSES.length } as const;
    const plain = await fitNetworkOnGraph(x, target, opts, { ep: 'cpu' });
    const asked = await fitNetworkOnGraph(x, target, opts, { ep: 'cpu', bindState: 'gpu-buffer' });
    assert.equal(asked.stateLocation.location, 'cpu');
    assert.equal(asked.stateLocation.bound, true);
    assert.match(asked.stateLocation.reason, /cpu returned the state in host memory .*copied in and out each step/);
    assert.deepEqual(bits(asked.network), bits(plain.network));
  });
  it('GPU providers ask for device-located state; the others keep host memory', () => {
    assert.equal(stateLocationFor('cuda'), 'gpu-buffer');
    assert.equal(stateLocationFor('webgpu'), 'gpu-buffer');
    for (const p of ['cpu', 'dml', 'coreml']) assert.equal(stateLocationFor(p), 'cpu');
  });
});

describe('outpost train --ep', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-train-graph-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  it('--ep cpu trains the MLP with graph steps and says so in the lineage', async () => {
    const out = path.join(tmp, 'graph-pkg');
    const r = await runMain(['train', WEATHER_CSV, '--target', 'weather', '--name', 'w-graph', '--algo', 'mlp', '--ep', 'cpu', '--time-col', 'date', '--valid-from', '2015-01-01', '--params', '{"mlp":{"epochs":10}}', '--out', out, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(lastJson(r.out).algo, 'mlp');
    const card = JSON.parse(fs.readFileSync(path.join(out, 'card.json'), 'utf8'));
    assert.equal(card.lineage.recipe.provider, 'cpu');
    assert.match(card.lineage.recipe.trainer, /onnxruntime graph steps/);
  });
  it('an explicit provider that cannot work here is an error with the reason, nothing written', async (t) => {
    if (fs.existsSync('/dev/nvidia0')) { t.skip('this machine has an NVIDIA device: CUDA may work here'); return; }
    const out = path.join(tmp, 'cuda-pkg');
    const r = await runMain(['train', WEATHER_CSV, '--target', 'weather', '--name', 'w-cuda', '--algo', 'logreg', '--ep', 'cuda', '--time-col', 'date', '--valid-from', '2015-01-01', '--out', out]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /cuda/i);
    assert.equal(fs.existsSync(out), false);
  });
});
