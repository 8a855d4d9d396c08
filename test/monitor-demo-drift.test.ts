// Drift on real data through the real CLI: the demo model (trained on Seattle's 2012–2014 days, its
// card carrying the training data's baseline) scores real later and earlier days, and `outpost
// drift` must flag what really moved and nothing else. The demo card asks for KS (numeric) and
// chi-square (categorical) verdicts — see DEMO_DRIFT in models/build-demo.ts.
//
// What the data says (scipy.stats.ks_2samp on the raw rows against the 1,096 training days):
//   all of 2015 (365 days): the season mix is the calendar's (chi-square p ≈ 1); precipitation
//     p 0.37, temp_min p 0.16, wind p 0.46 — not flagged. temp_max IS flagged: p 0.043, mean daily
//     maximum 16.1 → 17.4 °C (2015 was Seattle's warmest year in this record). Prediction drift
//     follows: fewer cold days (temp_min ≤ 0 °C on 4.1 % of days vs 6.7 %, temp_max ≤ 5 °C on
//     1.9 % vs 4.4 %) lower the snow probability (KS p ≈ 0.01), and the sun probability moves
//     too (p ≈ 0.01); the predicted label is flagged because the model predicts `drizzle` once in
//     2015, a class it never predicts on the training days (chi-square with a zero expected count).
//   summer 2015 (June–August, 92 days) against the full-year baseline: a real shift. temp_max
//     26.8 vs 16.1 °C (p 4.9e-35), temp_min 14.6 vs 8.0 °C (p 7.4e-35), precipitation 87 % dry
//     days vs 56 % (p 1.4e-7), wind slightly calmer (p 0.031), season all `summer`: everything is
//     flagged, inputs and predictions, and the dataset drifts.
//   2014 (365 days, inside the training period — the control): nothing flagged (smallest p 0.11).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseWeatherCsv, seasonOf, WEATHER_CSV } from '../models/build-demo.ts';
import { parseBaseline, type DriftReport, type FeatureDrift } from '../src/drift/common/index.ts';
import { modelMonitoring, PREDICTION_PREFIX } from '../src/monitor/common/features.ts';
import { parseCard } from '../src/package/common/card.ts';
import { listAlerts } from '../src/monitor/node/alerts.ts';
import { openStore } from '../src/store/node/store.ts';
import { lastJson, REPO, runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
const home = path.join(root, 'home');
after(() => fs.rmSync(root, { recursive: true, force: true }));

const SAMPLE_2015 = path.join(REPO, 'models/demo/weather-2015.csv');
const INPUTS = ['precipitation', 'temp_max', 'temp_min', 'wind', 'season'];
const PREDICTIONS = ['label', 'p_drizzle', 'p_fog', 'p_rain', 'p_snow', 'p_sun'].map((c) => PREDICTION_PREFIX + c);

/** Days of the vega file as a sample CSV like the demo's (with the derived season). */
function daysCsv(file: string, keep: (date: string) => boolean): string {
  const rows = parseWeatherCsv(fs.readFileSync(WEATHER_CSV, 'utf8'), WEATHER_CSV).filter((r) => keep(r.date));
  const lines = ['date,precipitation,temp_max,temp_min,wind,season,weather', ...rows.map((r) => [r.date, r.precipitation, r.temp_max, r.temp_min, r.wind, seasonOf(r.date), r.weather].join(','))];
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function score(file: string): Promise<string> {
  const r = await runCli(['score', file, '--model', 'seattle-weather', '--id', 'date', '--out', path.join(root, `${path.basename(file)}.scored.csv`), '--json'], { home });
  assert.equal(r.code, 0, r.stderr);
  return (lastJson(r.stdout) as { job: { id: string } }).job.id;
}

async function drift(args: string[]): Promise<{ rows: number; report: DriftReport; windows?: { start: string; rows: number; report: DriftReport | null }[] }> {
  const r = await runCli(['drift', 'seattle-weather', ...args, '--json'], { home });
  assert.equal(r.code, 0, r.stderr);
  return lastJson(r.stdout) as never;
}

const flagged = (report: DriftReport): string[] => report.features.filter((f) => f.drifted).map((f) => f.feature).sort();
const byName = (report: DriftReport): Record<string, FeatureDrift> => Object.fromEntries(report.features.map((f) => [f.feature, f]));

/** The KS statistic and p-value scipy.stats.ks_2samp gives on the raw rows (see the header). */
function matchesScipy(f: FeatureDrift, d: number, p: number): void {
  assert.equal(f.method, 'ks');
  assert.ok(Math.abs((f.statistic as number) - d) <= 1e-9 * d, `${f.feature}: D ${f.statistic} vs scipy ${d}`);
  assert.ok(Math.abs((f.score as number) - p) <= 1e-9 * p, `${f.feature}: p ${f.score} vs scipy ${p}`);
}

const jobs: Record<'year2015' | 'summer2015' | 'year2014', string> = { year2015: '', summer2015: '', year2014: '' };
let started = 0;

before(async () => {
  started = Date.now();
  const add = await runCli(['models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'], { home });
  assert.equal(add.code, 0, add.stderr);
  jobs.year2015 = await score(SAMPLE_2015);
  jobs.summer2015 = await score(daysCsv(path.join(root, 'summer-2015.csv'), (d) => d >= '2015-06' && d < '2015-09'));
  jobs.year2014 = await score(daysCsv(path.join(root, 'year-2014.csv'), (d) => d.startsWith('2014')));
});

describe('drift of the demo model on real Seattle weather', () => {
  test('the demo card carries a valid baseline of the training days, inputs and predictions', () => {
    const parsed = parseCard(JSON.parse(fs.readFileSync(path.join(REPO, 'models/demo/weather/card.json'), 'utf8')));
    assert.ok(parsed.ok);
    const baseline = parseBaseline(parsed.card.baseline);
    assert.equal(baseline.rows, parsed.card.lineage?.trainingRows);
    assert.deepEqual(baseline.features.map((f) => f.name), [...INPUTS, ...PREDICTIONS]);
    assert.equal(modelMonitoring(parsed.card).status, 'ok');
    const season = baseline.features.find((f) => f.name === 'season')!;
    assert.deepEqual(season.kind === 'categorical' && season.stats.counts, [271, 276, 276, 273], 'winter, spring, summer, autumn days of 2012–2014');
  });

  test('all of 2015: only temp_max among the inputs (a record-warm year), and the predictions that follow it', async () => {
    const { rows, report } = await drift(['--job', jobs.year2015]);
    assert.equal(rows, 365);
    assert.deepEqual(flagged(report), ['prediction.label', 'prediction.p_snow', 'prediction.p_sun', 'temp_max']);
    const f = byName(report);
    matchesScipy(f.precipitation, 0.054534546545345466, 0.37066393190862146);
    matchesScipy(f.temp_max, 0.08279422057794221, 0.04301465488119369);
    matchesScipy(f.temp_min, 0.0672982701729827, 0.15674111020176149);
    matchesScipy(f.wind, 0.050902409759024096, 0.4562159675207218);
    assert.equal(f.season.method, 'chisquare');
    assert.ok((f.season.score as number) > 0.99, `season p ${f.season.score}`);
    const label = f['prediction.label'].details.categories as { labels: string[]; reference: number[]; current: number[] };
    assert.equal(label.reference[label.labels.indexOf('drizzle')], 0, 'never predicted on the training days');
    assert.ok(label.current[label.labels.indexOf('drizzle')] > 0);
    for (const p of ['prediction.p_snow', 'prediction.p_sun']) assert.ok((f[p].score as number) < 0.02, `${p}: p ${f[p].score}`);
    // input drift: 1 of 5 inputs; prediction drift: the label — the five p_* columns are no votes
    assert.deepEqual([report.dataset.drifted, report.dataset.driftedFeatures, report.dataset.evaluatedFeatures], [false, 1, 5]);
    assert.deepEqual([report.prediction.drifted, report.prediction.feature, report.prediction.driftedOutputs, report.prediction.evaluatedOutputs], [true, 'prediction.label', 3, 6]);
    assert.equal(report.detected, true);
    for (const x of report.features) assert.deepEqual([x.nReference, x.nCurrent], [1096, 365]);
  });

  test('summer 2015 against the full-year baseline: every input and prediction is flagged', async () => {
    const { rows, report } = await drift(['--job', jobs.summer2015]);
    assert.equal(rows, 92);
    assert.deepEqual(flagged(report), [...INPUTS, ...PREDICTIONS].sort());
    const f = byName(report);
    matchesScipy(f.precipitation, 0.3066090130117423, 1.4187986390108186e-07);
    matchesScipy(f.temp_max, 0.6486036178990796, 4.904363114455517e-35);
    matchesScipy(f.temp_min, 0.6469771501110758, 7.418317103302323e-35);
    matchesScipy(f.wind, 0.15415741034592192, 0.031425172684948745);
    // 92 days: PSI is far above 0.25 but gets no level below 300 values
    assert.deepEqual([f.temp_max.psi?.level, f.temp_max.psi!.value > 0.25], ['insufficient', true]);
    assert.deepEqual([report.dataset.drifted, report.dataset.share], [true, 1]);
  });

  test('--fail-on-drift: exit 1 when drift is detected, 0 when not, 2 on bad usage', async () => {
    const drifted = await runCli(['drift', 'seattle-weather', '--job', jobs.summer2015, '--fail-on-drift'], { home });
    assert.equal(drifted.code, 1, drifted.stderr);
    assert.match(drifted.stdout, /Drift detected: exit status 1 \(--fail-on-drift\)\./);
    const calm = await runCli(['drift', 'seattle-weather', '--job', jobs.year2014, '--fail-on-drift', '--json'], { home });
    assert.equal(calm.code, 0, calm.stderr);
    assert.deepEqual([(lastJson(calm.stdout) as { exitCode: number }).exitCode, (lastJson(calm.stdout) as { report: DriftReport }).report.detected], [0, false]);
    // the same report without the flag: exit 0 even with drift
    assert.equal((await runCli(['drift', 'seattle-weather', '--job', jobs.summer2015], { home })).code, 0);
    const bad = await runCli(['drift', 'seattle-weather', '--fail-on-drift=yes'], { home });
    assert.equal(bad.code, 2, bad.stderr);
    const none = await runCli(['drift', 'seattle-weather', '--job', 'j-no-such-job', '--fail-on-drift'], { home });
    assert.notEqual(none.code, 0, 'no data is not "no drift"');
  });

  test('2014, inside the training period: nothing is flagged', async () => {
    const { rows, report } = await drift(['--job', jobs.year2014]);
    assert.equal(rows, 365);
    assert.deepEqual(flagged(report), []);
    const f = byName(report);
    matchesScipy(f.temp_max, 0.07007049295070493, 0.12672085762739485);
    matchesScipy(f.temp_min, 0.0716078392160784, 0.11413926261330444);
    assert.equal(report.dataset.drifted, false);
    assert.equal(report.features.filter((x) => x.drifted === null).length, 0, 'every feature has a verdict');
  });

  test('alerts are recorded for the shifted job, with the reproducible numbers, and none for the control', () => {
    const store = openStore(home);
    try {
      const alertsOf = (job: string) => listAlerts(store, { scope: 'job', scopeKeys: [job] });
      const summer = alertsOf(jobs.summer2015);
      assert.deepEqual(summer.map((a) => a.feature).sort(), [...INPUTS, ...PREDICTIONS].sort());
      const tmax = summer.find((a) => a.feature === 'temp_max')!;
      assert.deepEqual([tmax.model, tmax.version, tmax.method, tmax.threshold, tmax.nReference, tmax.nCurrent], ['seattle-weather', 1, 'ks', 0.05, 1096, 92]);
      assert.ok(Math.abs(tmax.score! - 4.904363114455517e-35) <= 1e-9 * 4.904363114455517e-35);
      assert.equal((tmax.current as { n: number }).n, 92);
      assert.deepEqual(alertsOf(jobs.year2014), []);
      assert.deepEqual(alertsOf(jobs.year2015).map((a) => a.feature).sort(), ['prediction.label', 'prediction.p_snow', 'prediction.p_sun', 'temp_max']);
    } finally {
      store.close();
    }
  });

  test('over time and since a time: the windows hold all three jobs', async () => {
    const byDay = await drift(['--window', 'day', '--last', '3']);
    assert.equal(byDay.windows?.length, 3);
    assert.equal(byDay.windows!.reduce((n, w) => n + w.rows, 0), 365 + 92 + 365);
    assert.equal(byDay.rows, 365 + 92 + 365);
    const since = await drift(['--since', new Date(started - 1000).toISOString()]);
    assert.equal(since.rows, 365 + 92 + 365);
    const all = await runCli(['drift', 'seattle-weather'], { home });
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /822 rows scored vs 1,096 reference rows/);
    assert.match(all.stdout, /^temp_max\s+ks\s+D [\d.]+\s+p [\d.e-]+\s+≤ 0\.05\s+DRIFT\s+1096\s+822/m);
    assert.match(all.stdout, /Worst features/);
    assert.match(all.stdout, /^Input drift: (YES|no) — \d of 5 input features drifted/m);
    assert.match(all.stdout, /^Prediction drift: (YES|no) — prediction\.label \(outputs with drift: \d of 6\)$/m);
  });
});
