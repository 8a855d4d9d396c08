// Issue 4's cost target: drift statistics may slow scoring by at most 10 %. The same 1M-row ×
// 20-float CSV is scored end to end with the same synthetic MLP installed twice — once with a drift
// baseline in its card (statistics for 20 inputs + label + 2 probabilities, per job, hour and day,
// counted in the statistics worker where it keeps up, alerts evaluated at every checkpoint) and
// once without. Runs alternate so changes in machine load hit both alike; each figure is the
// median. `cpu` adds the scoring thread's own CPU time per run (process.threadCpuUsage): the work
// drift monitoring leaves on it, whatever the other cores are doing.
import fs from 'node:fs';
import path from 'node:path';
import { computePackageBaseline, writeCardBaseline } from '../../src/monitor/node/baseline-file.ts';
import { scoreFile } from '../../src/scoring/node/score-file.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore } from '../../src/store/node/store.ts';
import { buildSyntheticMlp } from '../../src/train/common/index.ts';
import { floatCsv, perSecond, tempHome, type Timing } from '../lib.ts';

const FEATURES = 20;
/** reference rows for the baseline: a different sample of the same distribution */
const REFERENCE_ROWS = 50_000;

export async function run(opts: { rows: number; runs: number }) {
  const file = floatCsv(opts.rows, FEATURES);
  const reference = floatCsv(REFERENCE_ROWS, FEATURES, 11);
  const home = tempHome();
  const store = openStore(home);
  try {
    const { bytes: model, card } = buildSyntheticMlp({ features: FEATURES, hidden: 16, classes: 2, seed: 1 });
    const write = (name: string, extra: object) => {
      const dir = path.join(home, name);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'model.onnx'), model);
      fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify({ ...card, name, ...extra }));
      return dir;
    };
    write('bench-plain', {});
    const withBaseline = write('bench-drift', {});
    const { baseline, cardFile } = await computePackageBaseline({ packageDir: withBaseline, reference });
    writeCardBaseline(cardFile, baseline);
    installPackage(store, path.join(home, 'bench-plain'), { source: 'local', allowUnsigned: true });
    installPackage(store, withBaseline, { source: 'local', allowUnsigned: true });

    const cpuMs = () => { const c = process.threadCpuUsage(); return (c.user + c.system) / 1000; };
    const once = async (name: string): Promise<{ ms: number; cpu: number }> => {
      const out = path.join(home, `out-${name}.csv`);
      const t = performance.now();
      const c = cpuMs();
      const r = await scoreFile(store, { input: file, model: name, out });
      const ms = performance.now() - t;
      const cpu = cpuMs() - c;
      if (r.job.rowsScored !== opts.rows) throw new Error(`scored ${r.job.rowsScored}`);
      fs.rmSync(out);
      return { ms, cpu };
    };
    await once('bench-plain'); // warm-up: file cache, JIT
    await once('bench-drift'); // and the statistics worker
    const runs = { withDrift: [] as { ms: number; cpu: number }[], without: [] as { ms: number; cpu: number }[] };
    for (let i = 0; i < opts.runs; i++) {
      runs.without.push(await once('bench-plain'));
      runs.withDrift.push(await once('bench-drift'));
    }
    const median = (ms: number[]): Timing => ({ medianMs: [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)], runsMs: ms });
    const withDrift = perSecond(opts.rows, median(runs.withDrift.map((r) => r.ms)));
    const without = perSecond(opts.rows, median(runs.without.map((r) => r.ms)));
    const cpu = { withDrift: median(runs.withDrift.map((r) => r.cpu)).medianMs, without: median(runs.without.map((r) => r.cpu)).medianMs };
    const stored = store.db.prepare("SELECT count(*) AS n, sum(length(stats_json)) AS bytes FROM drift_window_stats WHERE model_name = 'bench-drift'").get() as { n: number; bytes: number };
    return {
      input: { rows: opts.rows, features: FEATURES, model: 'MLP 20-16-2 (tanh), float32', monitoredFeatures: baseline.features.length, referenceRows: REFERENCE_ROWS },
      rowsPerSecond: { withDrift, without },
      ratio: withDrift / without,
      target: { ratio: 0.9, met: withDrift / without >= 0.9 },
      scoringThreadCpuMs: { ...cpu, ratio: cpu.without / cpu.withDrift },
      windowRows: stored.n,
      windowBytes: stored.bytes,
      runsMs: { withDrift: runs.withDrift.map((r) => r.ms), without: runs.without.map((r) => r.ms) },
    };
  } finally {
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
