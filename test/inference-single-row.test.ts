// A record scores the same alone as inside any batch (src/inference/common/single-row.ts): ONNX
// Runtime's linear ML operators round a one-row batch differently from a larger one, so the engine
// runs one row as two. Checked on the exporters' real layouts (skl2onnx's logistic and linear
// regressions, which differ without it, and the others), against ORT's own run of a whole batch,
// bit for bit; and through `outpost predict` against `outpost score` of the same rows.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import ort from 'onnxruntime-node';
import { canDoubleRows, doubleRows, firstRows, isSingleRow } from '../src/inference/common/single-row.ts';
import type { FeedTensor } from '../src/inference/common/feeds.ts';
import { InferenceEngine } from '../src/inference/node/engine.ts';
import { inspectModel } from '../src/onnx/common/onnx.ts';
import { directSession, HELD_OUT, handCard, modelBytes, readCsv, tensorInput, expected } from './helpers/byo.ts';
import { runCli, runMain } from './helpers/cli.ts';
import { tempDir, writePackage } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** The held-out rows' features as one [rows, width] float tensor. */
function heldOut(features: string[]): { data: Float32Array; rows: number } {
  const { header, rows } = readCsv(HELD_OUT);
  const at = features.map((f) => header.indexOf(f));
  const data = new Float32Array(rows.length * features.length);
  rows.forEach((r, i) => at.forEach((c, j) => { data[i * features.length + j] = Number(r[c]); }));
  return { data, rows: rows.length };
}

const firstDifference = (a: ArrayLike<unknown>, b: ArrayLike<unknown>): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
};

test('each record alone through the engine equals its row in ORT\'s run of the whole file, for every exporter layout', async () => {
  for (const name of ['logreg-nozipmap', 'linreg', 'mlp', 'forest-nozipmap']) {
    const bytes = modelBytes(name);
    const fixture = name.replace('-nozipmap', '') as 'logreg' | 'linreg' | 'mlp' | 'forest';
    const features = expected[fixture].features;
    const { data, rows } = heldOut(features);
    const width = features.length;
    const input = tensorInput(fixture);
    const whole = await (await directSession(bytes)).run({ [input]: new ort.Tensor('float32', data, [rows, width]) });
    const engine = await InferenceEngine.open(bytes, { ep: 'cpu', graph: inspectModel(bytes) });
    try {
      for (let r = 0; r < rows; r++) {
        const one = await engine.run({ [input]: { type: 'float32', data: data.slice(r * width, (r + 1) * width), dims: [1, width] } });
        for (const [out, t] of Object.entries(one)) {
          const all = whole[out];
          const per = all.data.length / rows;
          assert.deepEqual(t.dims, [1, ...all.dims.slice(1)], `${name} ${out}`);
          const at = firstDifference(t.data as ArrayLike<unknown>, Array.prototype.slice.call(all.data, r * per, (r + 1) * per) as unknown[]);
          assert.equal(at, -1, `${name}: row ${r} ${out}[${at}] alone ${String((t.data as ArrayLike<unknown>)[at])}, in the file ${String(all.data[r * per + at])}`);
        }
      }
    } finally {
      await engine.close();
    }
  }
});

test('a model whose batch axis is fixed at 1 still runs one row as one', async () => {
  const bytes = modelBytes('mlp-fixed-batch');
  const engine = await InferenceEngine.open(bytes, { ep: 'cpu', graph: inspectModel(bytes) });
  try {
    const out = await engine.run({ input: { type: 'float32', data: new Float32Array([1, 2, 3, 4]), dims: [1, 4] } });
    assert.deepEqual(Object.values(out).map((t) => t.dims[0]), Object.values(out).map(() => 1));
  } finally {
    await engine.close();
  }
});

test('doubling and halving: every feed type, coded strings, outputs whose first axis is fixed', () => {
  const feeds: Record<string, FeedTensor> = {
    f: { type: 'float32', data: new Float32Array([1, 2]), dims: [1, 2] },
    i: { type: 'int64', data: new BigInt64Array([7n]), dims: [1] },
    b: { type: 'bool', data: new Uint8Array([1]), dims: [1, 1] },
    s: { type: 'string', data: ['a'], dims: [1, 1], coded: { codes: new Int32Array([3]), dictionary: ['w', 'x', 'y', 'a'] } },
  };
  assert.ok(isSingleRow(feeds));
  const two = doubleRows(feeds);
  assert.deepEqual([...two.f.data as Float32Array], [1, 2, 1, 2]);
  assert.deepEqual(two.f.dims, [2, 2]);
  assert.deepEqual([...two.i.data as BigInt64Array], [7n, 7n]);
  assert.deepEqual([...two.b.data as Uint8Array], [1, 1]);
  assert.deepEqual(two.s.data, ['a', 'a']);
  assert.deepEqual([...two.s.coded!.codes], [3, 3]);
  assert.ok(!isSingleRow(two));
  const back = firstRows({ p: { type: 'float32', data: new Float32Array([0.25, 0.75, 0.25, 0.75]), dims: [2, 2] }, k: { type: 'int64', data: new BigInt64Array([4n, 5n]), dims: [2] } }, (n) => n === 'k');
  assert.deepEqual([...back.p.data as Float32Array], [0.25, 0.75]);
  assert.deepEqual(back.p.dims, [1, 2]);
  assert.deepEqual(back.k.dims, [2], 'a fixed first axis is not a batch');
  assert.equal(canDoubleRows([['batch', 4], ['', 3]]), true);
  assert.equal(canDoubleRows([[1, 4]]), false);
  assert.equal(canDoubleRows([[]]), false, 'a scalar input has no batch axis');
});

test('outpost predict of each held-out record prints what outpost score wrote for it, digit for digit (logistic and linear regression)', async () => {
  const home = path.join(root, 'home');
  for (const f of ['logreg', 'linreg'] as const) {
    const dir = writePackage(path.join(root, `pkg-${f}`), handCard(f), modelBytes(f));
    const add = await runMain(['--home', home, 'models', 'add', dir, '--allow-unsigned']);
    assert.equal(add.code, 0, add.err);
    const out = path.join(root, `${f}.scored.csv`);
    const score = await runMain(['--home', home, 'score', HELD_OUT, '--model', `byo-${f}`, '--out', out]);
    assert.equal(score.code, 0, score.err);
    const scored = readCsv(out);
    const { header, rows } = readCsv(HELD_OUT);
    const features = expected[f].features;
    const lines = rows.map((r) => JSON.stringify(Object.fromEntries(features.map((x) => [x, Number(r[header.indexOf(x)])])))).join('\n') + '\n';
    const predicted = await runCli(['predict', '--model', `byo-${f}`, '--input', '-'], { home, stdin: lines });
    assert.equal(predicted.code, 0, predicted.stderr);
    const printed = predicted.stdout.trim().split('\n');
    assert.equal(printed.length, rows.length);
    const columns = scored.header.slice(1); // row id first
    printed.forEach((line, i) => {
      const want = columns.map((c, j) => `${c}=${scored.rows[i][j + 1]}`).join(' ');
      assert.equal(line, want, `${f} row ${i + 1}`);
    });
  }
});
