// The drift observer's checkpoint work (persist(): the job's totals, the hour and day windows, the
// alerts of each scope) in one thread, old code against new: the CPU time of persist() per
// checkpoint of 262,144 rows (the default checkpoint interval) on the throughput case's model
// (20 float inputs and its outputs: 22 sketched features and a label), every batch counted on this
// thread. Nothing else runs, so the thread's CPU time is exact where compare-trees.ts, on a shared
// 2-core machine, cannot resolve a few ms per checkpoint. The stored job statistics of both trees
// are checked identical. It also reports the CPU time of the process's other threads per checkpoint
// (V8's helpers: concurrent compiles and GC of the work on this thread; nothing else runs).
//   node bench/compare-drift-checkpoint.ts --baseline /work/main [--checkpoints 12] [--runs 5]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { createDriftObserver } from '../src/monitor/node/observer.ts';
import type { ColumnBatch } from '../src/io/common/table.ts';
import type { ScoredColumns } from '../src/scoring/common/outputs.ts';
import type { ValidatedBatch } from '../src/scoring/common/validate.ts';
import { getModelForScoring } from '../src/store/node/checked-card.ts';
import { createJob, newJobId } from '../src/store/node/jobs.ts';
import { openStore } from '../src/store/node/store.ts';
import { createRng } from '../src/train/common/index.ts';
import { installBenchMlp } from './bench-models.ts';
import { REPO, tempHome } from './lib.ts';

const { values } = parseArgs({ options: { baseline: { type: 'string' }, checkpoints: { type: 'string', default: '12' }, runs: { type: 'string', default: '5' } } });
const checkpoints = Number(values.checkpoints);
const runs = Number(values.runs);
if (!values.baseline || !fs.existsSync(path.join(values.baseline, 'src/monitor/node/observer.ts')) || !(Number.isSafeInteger(checkpoints) && checkpoints > 0) || !(Number.isSafeInteger(runs) && runs > 0)) {
  console.error('usage: node bench/compare-drift-checkpoint.ts --baseline <checkout of this repository> [--checkpoints N] [--runs N]');
  process.exit(2);
}
const trees = [path.resolve(values.baseline), REPO.replace(/\/$/, '')];
const observers: (typeof createDriftObserver)[] = await Promise.all(trees.map(async (t) => (await import(path.join(t, 'src/monitor/node/observer.ts'))).createDriftObserver as typeof createDriftObserver));

const BATCH_ROWS = 8192;
const BATCHES_PER_CHECKPOINT = 32; // 262,144 rows
/** Batches as the reader and the model hand them over: 20 float columns (6 significant digits, as the bench's floats file) and two class probabilities. */
function batches(): { batch: ColumnBatch; v: ValidatedBatch; scored: ScoredColumns }[] {
  const rng = createRng(5);
  const n = BATCH_ROWS;
  return Array.from({ length: BATCHES_PER_CHECKPOINT }, (_, b) => {
    const columns = Array.from({ length: 20 }, () => ({ kind: 'number' as const, values: Float64Array.from({ length: n }, () => Number(rng.normal().toPrecision(6))), status: new Uint8Array(n) }));
    const p1 = Float32Array.from({ length: n }, () => rng.next());
    return {
      batch: { firstRow: b * n, length: n, rowProblems: [], end: { offset: 0, row: 0 }, columns },
      v: { accepted: Int32Array.from({ length: n }, (_, i) => i), rejects: [], rejectedRows: 0, unseenRejected: [], feeds: {} },
      scored: { labelCodes: Int32Array.from(p1, (x) => (x > 0.5 ? 1 : 0)), probabilities: [p1.map((x) => 1 - x), p1] },
    };
  });
}

const home = tempHome();
const store = openStore(home);
try {
  await installBenchMlp(store, home, 'mlp-drift', { baseline: true });
  const model = await getModelForScoring(store, 'mlp-drift');
  const input = batches();
  const cpu = () => { const c = process.threadCpuUsage(); return (c.user + c.system) / 1000; };
  const allCpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
  const persistMs: number[][] = [[], []];
  const helpersMs: number[][] = [[], []];
  for (let i = -1; i < runs; i++) {
    const jobs: string[] = [];
    for (const k of i % 2 ? [0, 1] : [1, 0]) {
      const id = newJobId();
      jobs[k] = id;
      createJob(store, {
        id, modelName: 'mlp-drift', modelVersion: model.version, inputPath: '/in.csv', inputFormat: 'csv', inputSize: 1, inputFingerprint: 'x', outputPath: `/out-${id}.csv`, outputFormat: 'csv', rejectsPath: `/rejects-${id}.csv`,
        options: { batchRows: BATCH_ROWS, ep: 'cpu', maxRejectRate: 0.2, logPredictions: false, logInputs: 'none', logSampleRate: 0 }, provider: 'cpu', providerSummary: 'cpu',
      });
      // every batch on this thread: no worker's CPU in the figures
      const observer = observers[k](store, { id, modelName: 'mlp-drift', modelVersion: model.version }, model.card, { inlineRows: Infinity })!;
      let ms = 0;
      const [all0, own0] = [allCpu(), cpu()];
      for (let c = 0; c < checkpoints; c++) {
        for (const { batch, v, scored } of input) observer.observe(batch, v, scored);
        const t = cpu();
        store.db.transaction(() => observer.persist())();
        ms += cpu() - t;
      }
      const helpers = allCpu() - all0 - (cpu() - own0);
      observer.close();
      if (i >= 0) persistMs[k].push(ms / checkpoints);
      if (i >= 0) helpersMs[k].push(helpers / checkpoints);
    }
    const stored = (id: string) => JSON.stringify(store.db.prepare('SELECT feature, stats_json, rows FROM drift_job_stats WHERE job_id = ? ORDER BY feature').all(id));
    if (stored(jobs[0]) !== stored(jobs[1])) throw new Error('the two trees stored different drift statistics');
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    checkpoints, runs, rowsPerCheckpoint: String(BATCH_ROWS * BATCHES_PER_CHECKPOINT), jobStatisticsIdentical: true,
    persistCpuMsPerCheckpoint: trees.map((tree, k) => ({ tree, median: median(persistMs[k]), runs: persistMs[k] })),
    newOverBaseline: median(persistMs[1]) / median(persistMs[0]),
    // counting and persist together, on V8's helper threads (compiles, GC marking and sweeping)
    helperThreadsCpuMsPerCheckpoint: trees.map((tree, k) => ({ tree, median: median(helpersMs[k]), runs: helpersMs[k] })),
    helperThreadsNewOverBaseline: median(helpersMs[1]) / median(helpersMs[0]),
  };
  console.log(JSON.stringify(result, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v), 2));
} finally {
  store.close();
  fs.rmSync(home, { recursive: true, force: true });
}
