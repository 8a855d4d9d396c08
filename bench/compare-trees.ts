// Old code against new in one process: scoreFile from two checkouts of this repository, runs
// alternating (so changes in machine load hit both alike), CPU time per 1M rows for all threads and
// the scoring thread, and the outputs and the drift statistics each job stored (drift_job_stats, and
// the job-scope drift_alerts rows' statistics and scores) and prediction log batches checked identical. For work on issue 13's throughput,
// where the 2-core machines are shared and wall time says little:
//   node bench/compare-trees.ts --baseline /work/main [--shape floats|demo] [--rows 1000000] [--runs 3] [--log on|both] [--drift on|both]
// `--log both` also runs each tree's job with the prediction log off and reports logging on ÷ off
// for each tree (as the throughput case's loggingOnOverOff, by CPU of all threads). `--drift both`
// (floats) also runs each tree's job on the throughput case's drift-off model (mlp-plain, the same
// network without a baseline) and reports drift on ÷ off and drift's CPU cost per thread name.
// The store, models and inputs come from this checkout (bench/data, as the throughput case makes
// them); only scoreFile (and what it imports) comes from each tree.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { installPackage } from '../src/store/node/models.ts';
import { openStore } from '../src/store/node/store.ts';
import type { scoreFile } from '../src/scoring/node/score-file.ts';
import type { StatsLane } from '../src/monitor/node/stats-lane.ts';
import { floatCsv, REPO, tempHome, threadCpu } from './lib.ts';
import { demoCsv } from './cases/throughput.ts';
import { installBenchMlp } from './bench-models.ts';

// as bench/run.ts: worker threads load from the compile cache, as the CLI's do
module.enableCompileCache?.();

const { values } = parseArgs({ options: { baseline: { type: 'string' }, shape: { type: 'string', default: 'floats' }, rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' }, log: { type: 'string', default: 'on' }, drift: { type: 'string', default: 'on' } } });
const rows = Number(values.rows);
const runs = Number(values.runs);
if (!values.baseline || !fs.existsSync(path.join(values.baseline, 'src/scoring/node/score-file.ts')) || !['floats', 'demo'].includes(values.shape!) || !(Number.isSafeInteger(rows) && rows > 0) || !(Number.isSafeInteger(runs) && runs > 0) || !['on', 'both'].includes(values.log!) || !['on', 'both'].includes(values.drift!) || (values.drift === 'both' && values.shape !== 'floats')) {
  console.error('usage: node bench/compare-trees.ts --baseline <checkout of this repository> [--shape floats|demo] [--rows N] [--runs N] [--log on|both] [--drift on|both (floats)]');
  process.exit(2);
}
const trees = [path.resolve(values.baseline), REPO.replace(/\/$/, '')];
const scorers: (typeof scoreFile)[] = await Promise.all(trees.map(async (t) => (await import(path.join(t, 'src/scoring/node/score-file.ts'))).scoreFile as typeof scoreFile));
// each tree's drift statistics workers' CPU time (read at their drains)
const lanes: (typeof StatsLane)[] = await Promise.all(trees.map(async (t) => (await import(path.join(t, 'src/monitor/node/stats-lane.ts'))).StatsLane as typeof StatsLane));
const home = tempHome();
const store = openStore(home);
try {
  await installBenchMlp(store, home, 'mlp-drift', { baseline: true });
  // (--drift both) the same network without a baseline: no drift statistics (the throughput case's driftOff)
  if (values.drift === 'both') await installBenchMlp(store, home, 'mlp-plain', { baseline: false });
  installPackage(store, path.join(REPO, 'models', 'demo', 'weather'), { source: 'local', allowUnsigned: true });
  const job = values.shape === 'demo' ? { input: demoCsv(rows), model: 'seattle-weather', idColumn: 'id' } : { input: floatCsv(rows, 20), model: 'mlp-drift' };
  // each tree's job with the log on, then (--log both) with it off, then (--drift both) on the
  // drift-off model with the log on: variant v is tree v % 2
  const variants = [0, 1, ...(values.log === 'both' ? [2, 3] : []), ...(values.drift === 'both' ? [4, 5] : [])];
  const logOn = (v: number) => v < 2 || v >= 4;
  const driftOn = (v: number) => v < 4;
  const cpu: { all: number; main: number; statsWorker: number; wall: number }[][] = Array.from({ length: 6 }, () => []);
  // (both indexed by variant) per thread name (`sink`, `inference`, `V8Worker` = GC helpers, …), sampled from /proc through each run
  const threads: Record<string, number>[][] = Array.from({ length: 6 }, () => []);
  const load: number[] = [];
  let driftStats = 0;
  let logHash = '';
  for (let i = -1; i < runs; i++) {
    load.push(os.loadavg()[0]);
    const outs: string[] = [];
    const jobs: string[] = [];
    for (const v of i % 2 ? variants : [...variants].reverse()) {
      const k = v % 2;
      const out = path.join(home, `out-${v}.csv`);
      fs.rmSync(out, { force: true });
      const t = performance.now();
      const all0 = process.cpuUsage();
      const main0 = process.threadCpuUsage();
      const worker0 = lanes[k].workerCpuMs;
      const sampler = threadCpu();
      const r = await scorers[k](store, { ...job, ...(driftOn(v) ? {} : { model: 'mlp-plain' }), out, logPredictions: logOn(v) });
      jobs[v] = r.job.id;
      const all = process.cpuUsage(all0);
      const main = process.threadCpuUsage(main0);
      const perThread = sampler.stop();
      if (i >= 0) threads[v].push(perThread);
      if (i >= 0) cpu[v].push({ all: (all.user + all.system) / 1000, main: (main.user + main.system) / 1000, statsWorker: lanes[k].workerCpuMs - worker0, wall: performance.now() - t });
      outs[v] = out;
    }
    for (const v of variants.slice(1)) if (!fs.readFileSync(outs[0]).equals(fs.readFileSync(outs[v]))) throw new Error('the two trees wrote different output bytes');
    // the drift statistics each job stored, and the job-scope statistics and scores its checkpoints computed
    const stored = (id: string) => JSON.stringify([
      store.db.prepare('SELECT feature, stats_json, rows FROM drift_job_stats WHERE job_id = ? ORDER BY feature').all(id),
      store.db.prepare("SELECT feature, method, statistic, score, report_json FROM drift_alerts WHERE scope = 'job' AND scope_key = ? ORDER BY feature, method").all(id),
    ]);
    for (const v of variants.slice(1).filter(driftOn)) if (stored(jobs[0]) !== stored(jobs[v])) throw new Error('the two trees stored different drift statistics');
    // the prediction log each tree's job stored (the blobs, their sizes and rows), hashed
    const logged = (id: string) => {
      const h = createHash('sha256');
      for (const r of store.db.prepare('SELECT seq, first_row, row_count, size_bytes, outputs, inputs FROM prediction_batches WHERE job_id = ? ORDER BY seq').iterate(id) as Iterable<{ seq: number; first_row: number; row_count: number; size_bytes: number; outputs: Buffer; inputs: Buffer | null }>) {
        h.update(`${r.seq} ${r.first_row} ${r.row_count} ${r.size_bytes} ${r.outputs.length} ${r.inputs?.length ?? -1}\n`).update(r.outputs).update(r.inputs ?? '');
      }
      return h.digest('hex');
    };
    if (logged(jobs[0]) !== logged(jobs[1])) throw new Error('the two trees stored different prediction log batches');
    logHash = logged(jobs[0]);
    driftStats = stored(jobs[0]).length;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const per = (k: number, f: 'all' | 'main' | 'statsWorker' | 'wall') => median(cpu[k].map((c) => c[f])) * (1e6 / rows);
  // medians per thread name (10 ms ticks, so ±10 ms per run)
  const perThread = (k: number) => Object.fromEntries([...new Set(threads[k].flatMap((t) => Object.keys(t)))].sort().map((name) => [name, median(threads[k].map((t) => t[name] ?? 0)) * (1e6 / rows)]));
  // the median of one round's ratio: both jobs of a round ran back to back, under about the same load
  const paired = (a: number, b: number, f: 'all' | 'main' | 'wall') => median(cpu[a].map((c, i) => c[f] / cpu[b][i][f]));
  const result = {
    shape: values.shape, rows, runs, trees, loadAverage: load.map((l) => Number(l.toFixed(2))), outputsIdentical: true, driftStatisticsIdentical: { jsonChars: driftStats }, predictionLogIdentical: { sha256: logHash },
    perMillionRowsMs: trees.map((t, k) => ({ tree: t, allThreadsCpu: per(k, 'all'), scoringThreadCpu: per(k, 'main'), statisticsWorkerCpu: per(k, 'statsWorker'), wall: per(k, 'wall'), perThreadCpu: perThread(k) })),
    newOverBaseline: { allThreadsCpu: per(1, 'all') / per(0, 'all'), scoringThreadCpu: per(1, 'main') / per(0, 'main'), statisticsWorkerCpu: per(1, 'statsWorker') / per(0, 'statsWorker'), wall: per(1, 'wall') / per(0, 'wall') },
    newOverBaselinePairedMedian: { allThreadsCpu: paired(1, 0, 'all'), scoringThreadCpu: paired(1, 0, 'main'), wall: paired(1, 0, 'wall') },
    // throughput with the log on ÷ off (issue 13's ≥ 0.95): CPU off ÷ CPU on, wall off ÷ wall on
    ...(values.log === 'both' ? {
      logOffPerMillionRowsMs: trees.map((t, k) => ({ tree: t, allThreadsCpu: per(k + 2, 'all'), scoringThreadCpu: per(k + 2, 'main'), wall: per(k + 2, 'wall') })),
      loggingOnOverOff: trees.map((t, k) => ({ tree: t, allThreadsCpu: per(k + 2, 'all') / per(k, 'all'), scoringThreadCpu: per(k + 2, 'main') / per(k, 'main'), wall: per(k + 2, 'wall') / per(k, 'wall'), logCostAllThreadsCpuMs: per(k, 'all') - per(k + 2, 'all'), pairedMedian: { allThreadsCpu: paired(k + 2, k, 'all'), scoringThreadCpu: paired(k + 2, k, 'main'), wall: paired(k + 2, k, 'wall') } })),
    } : {}),
    // drift on ÷ off (issue 13's ≥ 0.9): CPU off ÷ CPU on, wall off ÷ wall on; drift's cost per thread name
    ...(values.drift === 'both' ? {
      driftOffPerMillionRowsMs: trees.map((t, k) => ({ tree: t, allThreadsCpu: per(k + 4, 'all'), scoringThreadCpu: per(k + 4, 'main'), wall: per(k + 4, 'wall'), perThreadCpu: perThread(k + 4) })),
      driftOnOverOff: trees.map((t, k) => {
        const on = perThread(k);
        const off = perThread(k + 4);
        return {
          tree: t, allThreadsCpu: per(k + 4, 'all') / per(k, 'all'), scoringThreadCpu: per(k + 4, 'main') / per(k, 'main'), wall: per(k + 4, 'wall') / per(k, 'wall'), driftCostAllThreadsCpuMs: per(k, 'all') - per(k + 4, 'all'),
          driftCostPerThreadCpuMs: Object.fromEntries([...new Set([...Object.keys(on), ...Object.keys(off)])].sort().map((n) => [n, (on[n] ?? 0) - (off[n] ?? 0)])),
          pairedMedian: { allThreadsCpu: paired(k + 4, k, 'all'), scoringThreadCpu: paired(k + 4, k, 'main'), wall: paired(k + 4, k, 'wall') },
        };
      }),
    } : {}),
  };
  console.log(JSON.stringify(result, (k, v) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v), 2));
} finally {
  store.close();
  fs.rmSync(home, { recursive: true, force: true });
}
