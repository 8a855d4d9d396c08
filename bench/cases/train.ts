// The `train` bench: Outpost's trainer (logreg, MLP, gbdt) against scikit-learn's LogisticRegression
// and HistGradientBoostingClassifier on the same rows, features and split, in the same run:
//   flights-3m: delay > 15 min from hour, weekday, distance, origin, destination; train Jan–Mar 2001, validate Apr–Jun
//   seattle-weather: weather type from precipitation, temperatures, wind; train 2012–2014, validate 2015
// Validation AUC (binary; macro one-vs-rest for multiclass), log-loss, accuracy, and fit time
// (binning/preprocessing included, reading excluded on both sides). gbdt also runs with its
// histograms on 2 threads and on 1 (the pool of `outpost train --threads N`): fit time ratio and
// whether the model bytes are the same. scikit-learn runs in
// /usr/bin/python3 (Debian's python3-sklearn); where it is absent that column says why.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutpostError } from '../../src/common/errors.ts';
import type { Algo } from '../../src/train/common/learner.ts';
import { rocAuc } from '../../src/train/common/metrics.ts';
import { splitRows, trainPackage, trainPackageAsync, type TrainRecipe } from '../../src/train/common/pipeline.ts';
import { createHistogramPool } from '../../src/train/node/gbdt-pool.ts';
import { takeRows, type TrainTable } from '../../src/train/common/table.ts';
import { flightsTable, weatherTable, writeTableCsv } from './train-data.ts';

const PYTHON = '/usr/bin/python3';
const SKLEARN_SCRIPT = path.join(import.meta.dirname, 'train-sklearn.py');

interface DataCase { name: string; table: TrainTable; recipe: Omit<TrainRecipe, 'algo'>; numeric: string[]; categorical: string[] }

function sklearnAvailable(): string | undefined {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, pandas'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `python3-sklearn (with pandas) is not installed: ${r.stderr.trim().split('\n').pop()}`;
}

function runSklearn(c: DataCase, dir: string): Record<string, unknown> {
  const { train, valid } = splitRows(c.table, c.recipe.split, c.recipe.seed);
  const cols = [...c.recipe.features, c.recipe.target];
  const trainCsv = path.join(dir, `${c.name}-train.csv`);
  const validCsv = path.join(dir, `${c.name}-valid.csv`);
  writeTableCsv(takeRows(c.table, train, cols), trainCsv);
  writeTableCsv(takeRows(c.table, valid, cols), validCsv);
  const r = spawnSync(PYTHON, [SKLEARN_SCRIPT, trainCsv, validCsv, c.recipe.target, c.numeric.join(','), c.categorical.join(',')], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, OMP_NUM_THREADS: String(os.cpus().length) } });
  if (r.status !== 0) return { error: r.stderr.trim().split('\n').slice(-3).join(' ') };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

async function runOutpost(c: DataCase, algo: Algo): Promise<Record<string, unknown>> {
  const recipe: TrainRecipe = { ...c.recipe, algo };
  try {
    const r = trainPackage(c.table, recipe, { name: `bench-${c.name}`, version: 1 }, { now: () => performance.now() / 1000 });
    const cand = r.candidates[0];
    const out: Record<string, unknown> = { ...cand.metrics, fitSeconds: cand.fitSeconds, ...cand.summary };
    if (algo === 'gbdt') out.modelSha256 = createHash('sha256').update(r.modelBytes).digest('hex');
    if (r.task === 'multiclass') {
      // macro one-vs-rest AUC, as scikit-learn's roc_auc_score(multi_class='ovr', average='macro')
      const { valid } = splitRows(c.table, c.recipe.split, c.recipe.seed);
      const rows = takeRows(c.table, valid, [...c.recipe.features, c.recipe.target]);
      const p = r.model.predict(rows).probabilities!;
      const classes = r.card.outputs.classes!;
      const truth = rows.columns[c.recipe.target] as string[];
      // over the classes the validation rows hold (AUC needs both sides)
      const aucs = classes.map((k, j) => rocAuc(truth.map((t) => t === k), Float64Array.from({ length: rows.rows }, (_, i) => p[i * classes.length + j]))).filter((a) => !Number.isNaN(a));
      out.aucMacroOvr = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    }
    return out;
  } catch (e) {
    if (e instanceof OutpostError) return { skipped: e.message };
    throw e;
  }
}

/** gbdt with its histograms on `threads` threads (src/train/node/gbdt-pool.ts), as `outpost train --threads N` runs it. */
async function runGbdtThreads(c: DataCase, threads: number): Promise<Record<string, unknown>> {
  const pool = createHistogramPool({ threads });
  try {
    const r = await trainPackageAsync(c.table, { ...c.recipe, algo: 'gbdt' }, { name: `bench-${c.name}`, version: 1 }, { now: () => performance.now() / 1000, histogramPool: pool });
    const cand = r.candidates[0];
    const helperShare = pool.stats.features ? pool.stats.helped / pool.stats.features : 0;
    return { threads: pool.lastThreads, fitSeconds: cand.fitSeconds, logLoss: cand.metrics.logLoss, helperShare, modelSha256: createHash('sha256').update(r.modelBytes).digest('hex') };
  } finally {
    await pool.close();
  }
}

export async function run(opts: { quick: boolean }) {
  const flightRows = opts.quick ? 400_000 : Infinity;
  const cases: DataCase[] = [
    {
      name: 'flights-3m',
      table: await flightsTable(flightRows),
      recipe: { target: 'late', task: 'binary', features: ['hour', 'weekday', 'distance', 'origin', 'destination'], split: opts.quick ? { kind: 'fraction', fraction: 0.5 } : { kind: 'time', column: 'month', validFrom: '4' }, seed: 1 },
      numeric: ['hour', 'weekday', 'distance'],
      categorical: ['origin', 'destination'],
    },
    {
      name: 'seattle-weather',
      table: weatherTable(),
      recipe: { target: 'weather', features: ['precipitation', 'temp_max', 'temp_min', 'wind'], split: { kind: 'time', column: 'year', validFrom: '2015' }, seed: 1 },
      numeric: ['precipitation', 'temp_max', 'temp_min', 'wind'],
      categorical: [],
    },
  ];
  const noSklearn = sklearnAvailable();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-bench-train-'));
  const results: Record<string, unknown> = {};
  try {
    for (const c of cases) {
      const { train, valid } = splitRows(c.table, c.recipe.split, c.recipe.seed);
      process.stderr.write(`  ${c.name}: ${train.length} training rows, ${valid.length} validation rows\n`);
      const outpost: Record<string, unknown> = {};
      for (const algo of ['gbdt', 'logreg', 'mlp'] as const) {
        process.stderr.write(`  ${c.name}: outpost ${algo}…\n`);
        outpost[algo] = await runOutpost(c, algo);
      }
      // 2 threads, then 1 thread again through the same pooled driver (so the order — a warmer JIT,
      // the machine's load — favours neither side; the first gbdt run above is the plain path)
      for (const threads of [2, 1]) {
        process.stderr.write(`  ${c.name}: outpost gbdt on ${threads} thread(s)…\n`);
        const loadBefore = os.loadavg()[0];
        outpost[`gbdtThreads${threads}`] = { ...(await runGbdtThreads(c, threads)), loadAverage1mBefore: loadBefore, loadAverage1mAfter: os.loadavg()[0] };
      }
      process.stderr.write(`  ${c.name}: scikit-learn…\n`);
      const sk = noSklearn ? { skipped: noSklearn } : runSklearn(c, dir);
      const cmp: Record<string, unknown> = {};
      const auc = (x: unknown) => (x as { auc?: number; aucMacroOvr?: number } | undefined)?.auc ?? (x as { aucMacroOvr?: number } | undefined)?.aucMacroOvr;
      const fit = (x: unknown) => (x as { fitSeconds?: number } | undefined)?.fitSeconds;
      const g = outpost.gbdt;
      const h = (sk as Record<string, unknown>).hgb;
      const l = outpost.logreg;
      const sl = (sk as Record<string, unknown>).logreg;
      if (auc(g) !== undefined && auc(h) !== undefined) {
        cmp.gbdtAucMinusHgb = auc(g)! - auc(h)!;
        cmp.gbdtFitOverHgb = fit(g)! / fit(h)!;
        cmp.gbdtTargetMet = cmp.gbdtAucMinusHgb as number >= -0.005 && (cmp.gbdtFitOverHgb as number) <= 1;
      }
      const t2 = outpost.gbdtThreads2 as { fitSeconds: number; modelSha256: string };
      const t1 = outpost.gbdtThreads1 as { fitSeconds: number; modelSha256: string };
      if (fit(g) !== undefined) {
        cmp.gbdtFit2ThreadsOver1 = t2.fitSeconds / t1.fitSeconds;
        cmp.gbdtFit2ThreadsOverPlain = t2.fitSeconds / fit(g)!;
        cmp.gbdtThreadsSameModel = t2.modelSha256 === (g as { modelSha256?: string }).modelSha256 && t1.modelSha256 === t2.modelSha256;
      }
      if (auc(l) !== undefined && auc(sl) !== undefined) {
        cmp.logregAucMinusSklearn = auc(l)! - auc(sl)!;
        cmp.logregTargetMet = Math.abs(cmp.logregAucMinusSklearn as number) <= 0.005;
      }
      results[c.name] = { trainRows: train.length, validRows: valid.length, outpost, sklearn: sk, comparison: cmp };
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
