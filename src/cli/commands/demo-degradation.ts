// `outpost demo --degradation`: the seed's first experiment, model degradation, run end to end with
// the product's own parts on real data (vega-datasets flights-3m, January–June 2001). A model that
// predicts "departure delayed more than 15 minutes" from hour, weekday, distance, origin and
// destination is trained on January (the project's trainer, gradient boosting), installed with a
// performance bound on its card, then each later month is scored (ids logged, inputs logged), its
// true outcomes joined as labels, and its performance per month reported with intervals; drift and
// performance alerts are recorded as they open; finally a challenger is retrained with the
// champion's recipe on the labelled months and compared with it on the newest held-out rows.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutpostError } from '../../common/errors.ts';
import { openSource } from '../../io/node/open.ts';
import type { MetricValue } from '../../monitor/common/performance.ts';
import { listAlerts } from '../../monitor/node/alerts.ts';
import { driftForModel } from '../../monitor/node/query.ts';
import { addLabels } from '../../monitor/node/labels.ts';
import { evaluatePerformanceAlerts, performanceForModel } from '../../monitor/node/performance.ts';
import { retrain } from '../../retrain/node/retrain.ts';
import { scoreFile } from '../../scoring/node/score-file.ts';
import { installPackage } from '../../store/node/models.ts';
import { openStore, updateSettings } from '../../store/node/store.ts';
import { trainPackage, type TrainRecipe } from '../../train/common/pipeline.ts';
import type { TrainTable } from '../../train/common/table.ts';
import { writePackage } from '../../train/node/train-file.ts';
import type { CommandContext } from '../command.ts';

export const FLIGHTS = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url));
export const MODEL = 'flights-delay';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun'];
const HEADER = 'flight,hour,weekday,distance,origin,destination,delayed';

interface Flight { id: number; hour: number; weekday: number; distance: number; origin: string; destination: string; delayed: number; month: number }

/** Every `stride`-th flight of January–June 2001 with a known delay, by month (1–6). */
async function readFlights(stride: number): Promise<Flight[][]> {
  const byMonth: Flight[][] = Array.from({ length: 6 }, () => []);
  const src = await openSource(FLIGHTS);
  let k = 0;
  try {
    for await (const b of src.batches([{ name: 'date', kind: 'string' }, { name: 'delay', kind: 'number' }, { name: 'distance', kind: 'number' }, { name: 'origin', kind: 'string' }, { name: 'destination', kind: 'string' }], { batchRows: 65_536 })) {
      const [d, del, dist, o, de] = b.columns as unknown as [{ values: (string | null)[] }, { values: Float64Array }, { values: Float64Array }, { values: (string | null)[] }, { values: (string | null)[] }];
      for (let i = 0; i < b.length; i++, k++) {
        if (k % stride !== 0) continue;
        const t = d.values[i];
        if (t === null || Number.isNaN(del.values[i]) || o.values[i] === null || de.values[i] === null) continue;
        const m = Number(t.slice(5, 7));
        if (!(m >= 1 && m <= 6) || t.slice(0, 4) !== '2001') continue;
        const date = new Date(t); // local departure time written as UTC: read back as written
        byMonth[m - 1].push({ id: b.firstRow + i, hour: date.getUTCHours(), weekday: date.getUTCDay(), distance: dist.values[i], origin: o.values[i]!, destination: de.values[i]!, delayed: del.values[i] > 15 ? 1 : 0, month: m });
      }
    }
  } finally {
    await src.close();
  }
  return byMonth;
}

function writeMonth(dir: string, m: number, rows: Flight[]): string {
  const file = path.join(dir, `flights-2001-${String(m).padStart(2, '0')}.csv`);
  fs.writeFileSync(file, [HEADER, ...rows.map((r) => `${r.id},${r.hour},${r.weekday},${r.distance},${r.origin},${r.destination},${r.delayed}`)].join('\n') + '\n');
  return file;
}

const f4 = (m: MetricValue | undefined): string => (!m || m.value === null ? '—' : m.ci ? `${m.value.toFixed(4)} [${m.ci.low.toFixed(3)}, ${m.ci.high.toFixed(3)}]` : m.value.toFixed(4));

export async function runDegradationDemo(ctx: CommandContext, rowsPerMonth: number): Promise<number> {
  const store = openStore(ctx.home);
  try {
    if (store.db.prepare('SELECT 1 FROM models WHERE name = ?').get(MODEL)) {
      throw new OutpostError('conflict', `${MODEL} is already installed in ${ctx.home}: run the degradation demo in a fresh data folder (outpost --home "$(mktemp -d)" demo --degradation)`);
    }
    if (!fs.existsSync(FLIGHTS)) throw new OutpostError('input', `the flights data is not installed (${FLIGHTS}); npm ci installs vega-datasets`, { file: FLIGHTS });
    const dir = path.join(ctx.home, 'demo-degradation');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    ctx.out.text(`Model degradation on real data: flights-3m (vega-datasets), January–June 2001; delayed = departure delay > 15 min`);
    const all = await readFlights(Math.max(1, Math.floor(2_900_000 / (rowsPerMonth * 6))));
    const months = all.map((rows) => rows.slice(0, rowsPerMonth));
    ctx.out.text(`  ${months.map((r, i) => `${MONTHS[i]} ${r.length.toLocaleString('en-US')}`).join(', ')} flights (a deterministic sample); files in ${dir}`);
    const files = months.map((rows, i) => writeMonth(dir, i + 1, rows));

    // 1. train on January (gradient boosting; a seeded 20 % of January validates)
    const jan = months[0];
    const table: TrainTable = {
      rows: jan.length,
      columns: {
        hour: Float64Array.from(jan, (r) => r.hour), weekday: Float64Array.from(jan, (r) => r.weekday), distance: Float64Array.from(jan, (r) => r.distance),
        origin: jan.map((r) => r.origin), destination: jan.map((r) => r.destination), delayed: Float64Array.from(jan, (r) => r.delayed),
      },
    };
    const recipe: TrainRecipe = { target: 'delayed', features: ['hour', 'weekday', 'distance', 'origin', 'destination'], task: 'binary', algo: 'gbdt', split: { kind: 'fraction', fraction: 0.2 }, seed: 1 };
    ctx.out.text('Training on January (gradient boosting; 20 % of January validates)…');
    const trained = trainPackage(table, recipe, { name: MODEL, version: 1, description: 'departure delayed > 15 min, trained on January 2001 flights', dataSource: 'vega-datasets flights-3m.parquet (January 2001 sample)', createdAt: '2001-02-01T00:00:00.000Z' });
    const validAuc = trained.metrics.auc;
    const bound = Math.floor((validAuc - 0.01) * 100) / 100;
    ctx.out.text(`  January validation: AUC ${validAuc.toFixed(4)}, accuracy ${trained.metrics.accuracy.toFixed(4)}, log-loss ${trained.metrics.logLoss.toFixed(4)} (${trained.validRows.toLocaleString('en-US')} rows)`);
    // every category of any month is in the card's vocabulary? No: only January's. Later months' new airports are rejected rows.
    const card = { ...trained.card, monitoring: { performance: { metric: 'auc' as const, min: bound, minSamples: 500 } } };
    const pkg = path.join(dir, 'package');
    fs.rmSync(pkg, { recursive: true, force: true });
    writePackage(pkg, trained.modelBytes, card);
    installPackage(store, pkg, { source: 'local', allowUnsigned: true });
    updateSettings(store, { logInputs: 'all' });
    ctx.out.text(`  installed ${MODEL}@1 with the card bound "AUC ≥ ${bound}" (1 point under January's validation AUC, rounded down); logInputs = all`);

    // 2. score month by month, join the outcomes, watch performance and drift
    const jobMonth = new Map<string, string>();
    ctx.out.text('');
    ctx.out.text('Scoring each later month, joining its outcomes as labels:');
    let firstAlert: string | undefined;
    const worstDrift: { month: string; feature: string | null; method: string | null; score: number | null; threshold: number | null }[] = [];
    for (let m = 1; m < 6; m++) {
      const r = await scoreFile(store, { input: files[m], model: MODEL, idColumn: 'flight', out: path.join(dir, `scored-${MONTHS[m]}.csv`), maxRejectRate: 0.5 }, { signal: ctx.signal });
      jobMonth.set(r.job.id, MONTHS[m]);
      const s = await addLabels(store, { file: files[m], model: MODEL, idColumn: 'flight', labelColumn: 'delayed' });
      const opened = evaluatePerformanceAlerts(store, MODEL, [1]);
      const drift = listAlerts(store, { model: MODEL, scope: 'job', scopeKeys: [r.job.id], activeOnly: true });
      const worst = driftForModel(store, MODEL, { kind: 'job', jobId: r.job.id }).report.features
        .filter((f) => f.severity !== null).sort((a, b) => b.severity! - a.severity!)[0];
      worstDrift.push({ month: MONTHS[m], feature: worst?.feature ?? null, method: worst?.method ?? null, score: worst?.score ?? null, threshold: worst?.threshold ?? null });
      const notes = [
        `${r.job.rowsScored.toLocaleString('en-US')} scored, ${r.job.rowsRejected.toLocaleString('en-US')} rejected (airports January never saw)`,
        `${s.joined.toLocaleString('en-US')} labels joined`,
        drift.length ? `DRIFT ALERT: ${drift.map((a) => a.feature).join(', ')}` : `no drift alert (largest: ${worst ? `${worst.feature} ${worst.method} ${worst.score?.toPrecision(3)} vs threshold ${worst.threshold}` : '—'})`,
        ...opened.filter((a) => a.scope === 'job').map((a) => `PERFORMANCE ALERT: AUC ${a.value.toFixed(4)} < ${a.threshold}`),
      ];
      if (!firstAlert && (drift.length || opened.length)) firstAlert = MONTHS[m];
      ctx.out.text(`  ${MONTHS[m]}: ${notes.join('; ')}`);
    }

    // 3. performance per month (one scoring job per month)
    const perf = performanceForModel(store, MODEL, 'job');
    ctx.out.text('');
    ctx.out.text(`Performance of ${MODEL}@1 per month from joined labels (95% intervals: accuracy Wilson, AUC DeLong, log-loss normal):`);
    ctx.out.text(`  ${'month'.padEnd(6)}${'n'.padStart(7)}  ${'AUC'.padEnd(26)}${'accuracy'.padEnd(26)}${'log-loss'.padEnd(26)}delayed`);
    const monthly: { month: string; n: number; auc: number | null; accuracy: number | null; logLoss: number | null }[] = [];
    for (const w of perf.windows) {
      const m = w.metrics as Record<string, MetricValue>;
      const rate = w.classCounts ? (w.classCounts['1'] ?? 0) / w.n : NaN;
      ctx.out.text(`  ${(jobMonth.get(w.key) ?? w.key).padEnd(6)}${w.n.toLocaleString('en-US').padStart(7)}  ${f4(m.auc).padEnd(26)}${f4(m.accuracy).padEnd(26)}${f4(m.logLoss).padEnd(26)}${(rate * 100).toFixed(1)} %${w.check?.breached ? '  < bound' : ''}`);
      monthly.push({ month: jobMonth.get(w.key) ?? w.key, n: w.n, auc: m.auc.value, accuracy: m.accuracy.value, logLoss: m.logLoss.value });
    }

    // 4. retrain with the champion's recipe on the labelled months; compare on the newest rows
    ctx.out.text('');
    ctx.out.text(`Retraining a challenger with ${MODEL}@1's recipe on the labelled months (February–June); the newest 20 % held out…`);
    const p = retrain(store, { model: MODEL, trigger: firstAlert ? 'performance-alert' : 'manual', triggerDetail: firstAlert ? `alerts from ${firstAlert} on` : 'demo' });
    const c = p.evaluation.champion.metrics;
    const h = p.evaluation.challenger.metrics;
    ctx.out.text(`  held out: the ${p.evaluation.holdoutRows.toLocaleString('en-US')} newest labelled flights (June's, in scoring order); trained on ${p.data.trainRows.toLocaleString('en-US')}, validated on ${p.data.validRows.toLocaleString('en-US')}`);
    ctx.out.text(`  ${'metric'.padEnd(10)}${'champion (January)'.padEnd(30)}challenger (Feb–Jun)`);
    for (const k of ['auc', 'accuracy', 'logLoss', 'f1']) ctx.out.text(`  ${k.padEnd(10)}${f4(c[k]).padEnd(30)}${f4(h[k])}`);
    ctx.out.text(`  decision: ${p.decision}`);
    ctx.out.text(`  proposal ${p.id} — outpost --home ${ctx.home} proposals show ${p.id}; activate with proposals activate ${p.id}`);
    ctx.out.json({
      ok: true, home: ctx.home, januaryValidation: trained.metrics, bound, monthly,
      alerts: { drift: listAlerts(store, { model: MODEL, scope: 'job' }).map((a) => ({ month: jobMonth.get(a.scopeKey), feature: a.feature, score: a.score })), worstDrift, firstAlert: firstAlert ?? null },
      proposal: { id: p.id, metric: p.metric, champion: p.championScore, challenger: p.challengerScore, better: p.better, decision: p.decision, holdoutRows: p.evaluation.holdoutRows },
    });
    return 0;
  } finally {
    store.close();
  }
}

export async function degradationCommandRun(ctx: CommandContext, rowsText: string | undefined): Promise<number> {
  const rows = rowsText === undefined ? 20_000 : Number(rowsText);
  if (!Number.isInteger(rows) || rows < 1000 || rows > 400_000) throw new OutpostError('usage', `--rows-per-month must be a whole number from 1000 to 400000 (got "${rowsText}")`);
  return runDegradationDemo(ctx, rows);
}
