// Scoring through the real CLI keeps drift statistics: per job, and per model version and UTC
// hour/day window, for inputs and outputs; windows are exact merges of the jobs that fed them; only
// valid rows count.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { mergeStats, parseBaseline, statsFromJSON, type Baseline, type FeatureStats } from '../src/drift/common/index.ts';
import { getModel } from '../src/store/node/models.ts';
import { openStore, type Store } from '../src/store/node/store.ts';
import { lastJson, REPO, runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
const home = path.join(root, 'home');
after(() => fs.rmSync(root, { recursive: true, force: true }));
const SAMPLE = path.join(REPO, 'models/demo/weather-2015.csv');

async function score(file: string, extra: string[] = []): Promise<{ id: string; rowsScored: number; rowsRejected: number }> {
  const r = await runCli(['score', file, '--model', 'seattle-weather', '--out', path.join(root, `out-${Math.random()}.csv`), '--json', ...extra], { home });
  assert.equal(r.code, 0, r.stderr);
  return (lastJson(r.stdout) as { job: { id: string; rowsScored: number; rowsRejected: number } }).job;
}

function withStore<T>(fn: (s: Store, baseline: Baseline) => T): T {
  const s = openStore(home);
  try {
    return fn(s, parseBaseline(getModel(s, 'seattle-weather@1').card.baseline));
  } finally {
    s.close();
  }
}

/** Per feature, the exact merge of stored statistics rows, as JSON text. */
function merged(baseline: Baseline, rows: { feature: string; stats_json: string }[]): Record<string, string> {
  const acc = new Map<string, FeatureStats>();
  for (const r of rows) {
    const f = baseline.features.find((x) => x.name === r.feature)!;
    const s = statsFromJSON(JSON.parse(r.stats_json), f);
    const prev = acc.get(r.feature);
    acc.set(r.feature, prev ? mergeStats(prev, s) : s);
  }
  return Object.fromEntries([...acc].map(([k, v]) => [k, JSON.stringify(v)]).sort());
}

before(async () => {
  const add = await runCli(['models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'], { home });
  assert.equal(add.code, 0, add.stderr);
});

test('two jobs on the same file: each job has its statistics, and the windows are exactly their merge', async () => {
  const j1 = await score(SAMPLE);
  const j2 = await score(SAMPLE, ['--batch', '100']); // other batches, same rows
  withStore((s, baseline) => {
    const jobRows = (id: string) => s.db.prepare('SELECT feature, stats_json FROM drift_job_stats WHERE job_id = ?').all(id) as { feature: string; stats_json: string }[];
    for (const id of [j1.id, j2.id]) {
      const rows = jobRows(id);
      assert.deepEqual(rows.map((r) => r.feature).sort(), baseline.features.map((f) => f.name).sort(), 'every input and output');
      for (const r of rows) assert.equal(JSON.parse(r.stats_json).rows, 365, r.feature);
    }
    // the same values in other batches: identical counts and bins (sums may differ in the last bit)
    const a = merged(baseline, jobRows(j1.id));
    const b = merged(baseline, jobRows(j2.id));
    const { s1: _s1, s2: _s2, ...counts1 } = JSON.parse(a.temp_max);
    const { s1: _t1, s2: _t2, ...counts2 } = JSON.parse(b.temp_max);
    assert.deepEqual(counts1, counts2);
    assert.equal(a.season, b.season);
    assert.equal(a['prediction.label'], b['prediction.label']);

    const both = merged(baseline, [...jobRows(j1.id), ...jobRows(j2.id)]);
    const windowRows = (width: string) => s.db.prepare("SELECT feature, stats_json FROM drift_window_stats WHERE model_name = 'seattle-weather' AND model_version = 1 AND width = ?").all(width) as { feature: string; stats_json: string }[];
    assert.deepEqual(merged(baseline, windowRows('day')), both, 'day windows = exact merge of the two jobs');
    assert.deepEqual(merged(baseline, windowRows('hour')), both, 'hour windows = exact merge of the two jobs');
    const starts = s.db.prepare("SELECT DISTINCT width, start FROM drift_window_stats WHERE model_name = 'seattle-weather'").all() as { width: string; start: number }[];
    for (const w of starts) assert.equal(w.start % (w.width === 'hour' ? 3_600_000 : 86_400_000), 0, 'windows start on UTC hour/day boundaries');
  });
});

test('rejected rows are not counted', async () => {
  const lines = fs.readFileSync(SAMPLE, 'utf8').trim().split('\n');
  const cols = lines[0].split(',');
  const set = (line: string, col: string, v: string) => { const f = line.split(','); f[cols.indexOf(col)] = v; return f.join(','); };
  lines[5] = set(lines[5], 'temp_max', '99'); // above the card's physical range (60 °C)
  lines[9] = set(lines[9], 'season', 'monsoon'); // not in the vocabulary
  const file = path.join(root, 'with-bad-rows.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const job = await score(file);
  assert.deepEqual([job.rowsScored, job.rowsRejected], [363, 2]);
  withStore((s) => {
    const get = (feature: string) => JSON.parse((s.db.prepare('SELECT stats_json FROM drift_job_stats WHERE job_id = ? AND feature = ?').get(job.id, feature) as { stats_json: string }).stats_json);
    const valid = lines.slice(1).filter((_, i) => i !== 4 && i !== 8).map((l) => Number(l.split(',')[cols.indexOf('temp_max')]));
    const tmax = get('temp_max');
    assert.deepEqual([tmax.rows, tmax.n, tmax.max], [363, 363, Math.max(...valid)]);
    const season = get('season');
    // the row rejected for an unseen category still counts in that feature's statistics, as unseen
    // (a spike of new categories must show as drift); the row out of range counts nowhere
    assert.deepEqual([season.rows, season.other], [364, 1]);
    assert.equal(get('prediction.p_rain').n, 363);
  });
  const report = lastJson((await runCli(['drift', 'seattle-weather', '--job', job.id, '--json'], { home })).stdout) as { rows: number; report: { features: { feature: string; unseenCategories: number | null; nCurrent: number }[] } };
  // the report's rows are the rows scored; the rejected row's unseen category shows on its feature
  assert.equal(report.rows, 363);
  const seasonDrift = report.report.features.find((f) => f.feature === 'season')!;
  assert.deepEqual([seasonDrift.unseenCategories, seasonDrift.nCurrent], [1, 364]);
});

test('a model without a baseline scores as before and keeps no statistics', async () => {
  const pkg = path.join(root, 'plain');
  fs.cpSync(path.join(REPO, 'models/demo/weather'), pkg, { recursive: true });
  const card = JSON.parse(fs.readFileSync(path.join(pkg, 'card.json'), 'utf8'));
  delete card.baseline;
  delete card.drift;
  fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify({ ...card, name: 'plain-weather' }));
  assert.equal((await runCli(['models', 'add', pkg, '--allow-unsigned'], { home })).code, 0);
  const r = await runCli(['score', SAMPLE, '--model', 'plain-weather', '--out', path.join(root, 'plain.csv'), '--json'], { home });
  assert.equal(r.code, 0, r.stderr);
  const id = (lastJson(r.stdout) as { job: { id: string } }).job.id;
  withStore((s) => {
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM drift_job_stats WHERE job_id = ?').get(id) as { n: number }).n, 0);
    assert.equal((s.db.prepare("SELECT count(*) AS n FROM drift_window_stats WHERE model_name = 'plain-weather'").get() as { n: number }).n, 0);
  });
  const d = await runCli(['drift', 'plain-weather'], { home });
  assert.equal(d.code, 1);
  assert.match(d.stderr, /plain-weather@1 has no drift baseline .*outpost baseline/);
});
