// GBDT histograms spread over worker threads (src/train/node/gbdt-pool.ts): the model must be the
// very same bytes as the single-threaded trainer's for the same data and seed — on real data
// (seattle-weather; a slice of flights-3m) for binary, multiclass and regression — and the pool's
// threads must be gone after a run, after a cancel and after Ctrl-C (which writes nothing).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { flightsTable, WEATHER, writeTableCsv } from '../bench/cases/train-data.ts';
import { gatherGradients, histogramInto } from '../src/train/common/gbdt.ts';
import type { TrainRecipe } from '../src/train/common/pipeline.ts';
import { claimFeature, CLAIM, createHistogramPool, END, poolThreads, START, type PoolWorkerData } from '../src/train/node/gbdt-pool.ts';
import { startWorker } from '../src/runtime/node/worker.ts';
import { trainFile, type TrainFileEvent } from '../src/train/node/train-file.ts';
import { startCli } from './helpers/cli.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-train-threads-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Training threads of this process: the training worker and the histogram pool's (startWorker names each OS thread after its entry: train-worker.ts, gbdt-pool-worker.ts). */
const TRAINING_THREADS = new Set(['train', 'gbdt-pool']);
function workerThreads(): number | undefined {
  if (!fs.existsSync('/proc/self/task')) return undefined;
  let n = 0;
  for (const t of fs.readdirSync('/proc/self/task')) {
    try { if (TRAINING_THREADS.has(fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim())) n++; } catch { /* thread ended meanwhile */ }
  }
  return n;
}

async function untilThreads(n: number): Promise<void> {
  // no time limit of our own: the test runner's timeout ends a hang
  while (workerThreads() !== n) await new Promise((r) => setTimeout(r, 50));
}

let flightsCsv = '';
before(async () => {
  // the first 40,000 flights of 2001 (January), as a CSV the CLI reader reads
  flightsCsv = path.join(tmp, 'flights-40k.csv');
  const t = await flightsTable(40_000);
  delete (t.columns as Record<string, unknown>).month;
  writeTableCsv(t, flightsCsv);
});

async function train(file: string, recipe: Omit<TrainRecipe, 'algo' | 'seed'>, threads: number | 'auto', events: TrainFileEvent[] = []) {
  const r = await trainFile({ file, recipe: { ...recipe, algo: 'gbdt', seed: 7 }, threads, info: { name: 'threads', version: 1 } }, { onEvent: (e) => events.push(e) });
  return { sha: sha(r.modelBytes), metrics: r.metrics, events };
}

const threadsUsed = (events: TrainFileEvent[]) => events.map((e) => (e.event === 'stage' ? /gbdt histograms on (\d+) thread/.exec(e.message)?.[1] : undefined)).find(Boolean);

describe('gbdt on worker threads: the same model bytes as one thread', () => {
  const weatherTime = { kind: 'time', column: 'date', validFrom: '2015-01-01' } as const;
  const cases: [string, () => string, Omit<TrainRecipe, 'algo' | 'seed'>][] = [
    ['multiclass: seattle-weather (weather from precipitation, temperatures, wind)', () => WEATHER, { target: 'weather', features: [], split: weatherTime }],
    ['regression: seattle-weather (temp_max from the other columns)', () => WEATHER, { target: 'temp_max', features: ['precipitation', 'temp_min', 'wind', 'weather'], split: weatherTime }],
    ['binary: flights-3m slice (delay > 15 min from hour, weekday, distance, origin, destination)', () => flightsCsv, { target: 'late', features: ['hour', 'weekday', 'distance', 'origin', 'destination'], split: { kind: 'fraction', fraction: 0.25 }, params: { gbdt: { maxIter: 40 } } }],
  ];
  for (const [name, file, recipe] of cases) {
    it(name, async () => {
      const one = await train(file(), recipe, 1);
      assert.equal(threadsUsed(one.events), undefined, 'threads = 1 builds no pool');
      for (const threads of [2, 3]) {
        const many = await train(file(), recipe, threads);
        const features = recipe.features.length || 4;
        assert.equal(threadsUsed(many.events), String(Math.min(threads, features)), `the run used ${threads} threads`);
        assert.equal(many.sha, one.sha, `model.onnx with ${threads} threads equals the single-threaded one`);
        assert.deepEqual(many.metrics, one.metrics);
      }
    });
  }

  it('the pool builds the very same histogram as one thread, for any split of the features', async () => {
    const rows = 5000;
    const nf = 5;
    const offsets = Int32Array.from({ length: nf }, (_, f) => f * 40);
    const totalBins = nf * 40;
    const shared = <T>(make: (b: SharedArrayBuffer) => T, bytes: number) => make(new SharedArrayBuffer(bytes));
    const bins = Array.from({ length: nf }, (_, f) => { const b = shared((x) => new Uint16Array(x), rows * 2); for (let i = 0; i < rows; i++) b[i] = (i * 7919 + f * 31) % 40; return b; });
    const idx = shared((x) => new Uint32Array(x), rows * 4);
    for (let i = 0; i < rows; i++) idx[i] = (i * 37) % rows;
    const g = shared((x) => new Float64Array(x), rows * 8);
    const h = shared((x) => new Float64Array(x), rows * 8);
    for (let i = 0; i < rows; i++) { g[i] = Math.sin(i) * 1e3 + 1 / (i + 1); h[i] = Math.cos(i) ** 2 + 1e-9 * i; }
    const want = new Float64Array(totalBins * 3);
    histogramInto(want, bins, offsets, idx, 100, 4321, g, h, 0, nf);
    const want2 = new Float64Array(totalBins * 3);
    histogramInto(want2, bins, offsets, idx, 0, 17, g, h, 0, nf);
    for (const threads of [1, 2, 3, 5, 8]) {
      const pool = createHistogramPool({ threads });
      const s = await pool.open({ kind: 'open', bins, offsets, totalBins, idx, g, h });
      try {
        for (let k = 0; k < 20; k++) {
          assert.deepEqual(await s.build(100, 4321), want, `${threads} threads, build ${k}`);
          assert.deepEqual(await s.build(0, 17), want2, `${threads} threads, a small build after it`);
        }
        assert.equal(pool.lastThreads, Math.min(threads, nf));
      } finally {
        s.close();
        await pool.close();
      }
    }
    // a helper thread alone (the calling thread claims nothing): the same histogram in its scratch
    const d: PoolWorkerData = { bins, offsets, totalBins, idx, g, h, ctrl: shared((x) => new Int32Array(x), 3 * 4), done: shared((x) => new Int32Array(x), nf * 4), scratch: shared((x) => new Float64Array(x), 2 * totalBins * 3 * 8), gn: shared((x) => new Float64Array(x), rows * 8), hn: shared((x) => new Float64Array(x), rows * 8), helper: 2 };
    const helper = startWorker(new URL('../src/train/node/gbdt-pool-worker.ts', import.meta.url), { workerData: d });
    try {
      for (const [gen, start, end, expected] of [[1, 100, 4321, want], [2, 0, 17, want2]] as const) {
        gatherGradients(idx, start, end, g, h, { gn: d.gn, hn: d.hn });
        d.ctrl[START] = start;
        d.ctrl[END] = end;
        Atomics.store(d.ctrl, CLAIM, gen << 16);
        helper.postMessage(gen);
        for (let f = 0; f < nf; f++) {
          for (let w = Atomics.load(d.done, f); w !== ((gen << 8) | 2); w = Atomics.load(d.done, f)) {
            const r = Atomics.waitAsync(d.done, f, w);
            if (r.async) await r.value;
          }
        }
        assert.deepEqual(d.scratch.slice(totalBins * 3), expected, `helper 2's scratch, build ${gen}`);
        assert.ok(d.scratch.subarray(0, totalBins * 3).every((v) => v === 0), 'helper 1\'s scratch untouched');
      }
    } finally {
      await helper.terminate();
    }
    // the calling thread taking every feature from the helpers' scratch histograms
    for (const threads of [2, 3]) {
      const pool = createHistogramPool({ threads, helpersOnly: { patienceMs: 120_000 } });
      const s = await pool.open({ kind: 'open', bins, offsets, totalBins, idx, g, h });
      try {
        for (let k = 0; k < 5; k++) {
          assert.deepEqual(await s.build(100, 4321), want, `${threads} threads, helpers only, build ${k}`);
          assert.deepEqual(await s.build(0, 17), want2);
        }
        assert.deepEqual(pool.stats, { features: 10 * nf, helped: 10 * nf });
      } finally {
        s.close();
        await pool.close();
      }
    }
    // claiming: each feature of the current build once; nothing from a build that has moved on
    const ctrl = new Int32Array(4);
    ctrl[START] = 10;
    ctrl[END] = 20;
    ctrl[CLAIM] = 7 << 16;
    assert.deepEqual([0, 1, 2].map(() => claimFeature(ctrl, 7, 3)), [{ f: 0, start: 10, end: 20 }, { f: 1, start: 10, end: 20 }, { f: 2, start: 10, end: 20 }]);
    assert.equal(claimFeature(ctrl, 7, 3), undefined);
    ctrl[CLAIM] = 8 << 16;
    assert.equal(claimFeature(ctrl, 7, 3), undefined, 'a stale build claims nothing');
    assert.equal(poolThreads('auto', 5, 1000), 1, 'small data stays on one thread');
    assert.equal(poolThreads('auto', 5, 100_000), Math.min(5, os.availableParallelism()));
    assert.equal(poolThreads(8, 3, 10), 3, 'never more threads than features');
  });
});

describe('the pool\'s threads end on every path', { skip: workerThreads() === undefined ? 'no /proc/self/task here: threads cannot be counted' : false }, () => {
  it('after a run, and after a cancel in the middle of boosting', async () => {
    await untilThreads(0);
    const seen: number[] = [];
    const events: TrainFileEvent[] = [];
    await trainFile({ file: flightsCsv, recipe: { target: 'late', features: ['hour', 'weekday', 'distance', 'origin', 'destination'], algo: 'gbdt', split: { kind: 'fraction', fraction: 0.25 }, seed: 7, params: { gbdt: { maxIter: 5 } } }, threads: 2, info: { name: 'threads', version: 1 } }, {
      onEvent: (e) => { events.push(e); if (e.event === 'step') seen.push(workerThreads()!); },
    });
    // while boosting: the training worker and one histogram thread, never more. The events reach
    // this thread after the fact: under load the last rounds' can arrive once the run has ended
    // its histogram thread (seen at load: 2, 2, 2, 2, 1), so not every count can be 2.
    assert.ok(seen.includes(2) && seen.every((n) => n <= 2), `worker threads while boosting: ${seen.join(', ')}`);
    await untilThreads(0);

    const ac = new AbortController();
    let during = 0;
    const cancelled = trainFile({ file: flightsCsv, recipe: { target: 'late', features: ['hour', 'weekday', 'distance', 'origin', 'destination'], algo: 'gbdt', split: { kind: 'fraction', fraction: 0.25 }, seed: 7, params: { gbdt: { maxIter: 500, nIterNoChange: 0 } } }, threads: 3, info: { name: 'threads', version: 1 } }, {
      signal: ac.signal,
      onEvent: (e) => { if (e.event === 'step' && e.step === 2) { during = workerThreads()!; ac.abort(); } },
    });
    await assert.rejects(cancelled, (e: Error & { code?: string }) => e.code === 'cancelled');
    assert.equal(during, 3, 'the training worker and two histogram threads were running');
    await untilThreads(0);
  });

  it('Ctrl-C of `outpost train --threads 2` stops cleanly: exit 1, nothing written', async () => {
    const home = fs.mkdtempSync(path.join(tmp, 'home-'));
    const out = path.join(tmp, 'cancelled-pkg');
    const child = startCli(['train', flightsCsv, '--target', 'late', '--name', 'late', '--features', 'hour,weekday,distance,origin,destination', '--valid-frac', '0.25', '--threads', '2', '--params', '{"gbdt":{"maxIter":500,"nIterNoChange":0}}', '--out', out, '--json'], { home });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (!sent && /"event":"step"/.test(stdout)) { sent = true; child.kill('SIGINT'); }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.ok(sent, `the run reached a boosting round (stderr: ${stderr})`);
    assert.match(stdout, /gbdt histograms on 2 threads/);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /stopped by SIGINT|cancelled/);
    assert.equal(fs.existsSync(out), false);
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('cancelled-pkg')), []);
  });

  it('--threads must be a whole number from 1', async () => {
    const home = fs.mkdtempSync(path.join(tmp, 'home-'));
    for (const bad of ['0', 'two', '1.5']) {
      const child = startCli(['train', WEATHER, '--target', 'weather', '--name', 'wx', '--threads', bad, '--out', path.join(tmp, 'never')], { home });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      assert.equal(code, 2, stderr);
      assert.match(stderr, /--threads must be an integer from 1 to 256/);
    }
    assert.equal(fs.existsSync(path.join(tmp, 'never')), false);
  });
});
