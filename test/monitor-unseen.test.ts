// Unseen categories on real data: the demo model (season vocabulary winter/spring/summer/autumn)
// scores the real 2015 days with some seasons replaced by values it has never seen. Whether the
// rows are rejected (the default) or scored (card: `unseen: "score"`), the drift statistics count
// the new values; one stray value does not read as infinite drift, a spike does drift, and a spike
// that stops the job on its reject rate still shows in `outpost drift` and its alerts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DriftReport, FeatureDrift } from '../src/drift/common/index.ts';
import { listAlerts } from '../src/monitor/node/alerts.ts';
import { openStore } from '../src/store/node/store.ts';
import { lastJson, REPO, runMain } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
const DEMO = path.join(REPO, 'models/demo/weather');
const lines = fs.readFileSync(path.join(REPO, 'models/demo/weather-2015.csv'), 'utf8').trimEnd().split('\n');

/** A copy of the demo package whose card sets the season's unseen policy and forces chi-square (365 rows). */
function pkg(name: string, unseen?: 'reject' | 'score'): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(DEMO, 'model.onnx'), path.join(dir, 'model.onnx'));
  const card = JSON.parse(fs.readFileSync(path.join(DEMO, 'card.json'), 'utf8')) as { inputs: { name: string; unseen?: string }[]; drift?: unknown };
  if (unseen) card.inputs.find((f) => f.name === 'season')!.unseen = unseen;
  card.drift = { categorical: { method: 'chisquare' } };
  fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card, null, 2));
  return dir;
}

/** The 2015 sample with the season of every k-th day replaced (k = 0: none), `count` days at most. */
function sample(name: string, every: number, count: number, value = 'monsoon'): string {
  let n = 0;
  const out = lines.map((l, i) => {
    if (i === 0 || every === 0 || i % every !== 0 || n >= count) return l;
    n++;
    const f = l.split(',');
    f[5] = value;
    return f.join(',');
  });
  const file = path.join(root, `${name}.csv`);
  fs.writeFileSync(file, out.join('\n') + '\n');
  return file;
}

async function cli(home: string, args: string[]): Promise<{ code: number; json: Record<string, unknown>; err: string }> {
  const r = await runMain(['--home', home, ...args, '--json']);
  return { code: r.code, json: lastJson(r.out), err: r.err };
}

const season = (report: DriftReport): FeatureDrift => report.features.find((f) => f.feature === 'season')!;

describe('unseen categories in drift, on real 2015 days', () => {
  const reject = path.join(root, 'home-reject');
  const score = path.join(root, 'home-score');
  before(async () => {
    assert.equal((await cli(reject, ['models', 'add', pkg('pkg-reject'), '--allow-unsigned'])).code, 0);
    assert.equal((await cli(score, ['models', 'add', pkg('pkg-score', 'score'), '--allow-unsigned'])).code, 0);
  });

  async function scored(home: string, file: string): Promise<{ job: { id: string; rowsScored: number; rowsRejected: number }; season: FeatureDrift; report: DriftReport; rows: number }> {
    const s = await cli(home, ['score', file, '--model', 'seattle-weather', '--out', `${file}.${path.basename(home)}.out.csv`]);
    assert.equal(s.code, 0, s.err);
    const job = s.json.job as { id: string; rowsScored: number; rowsRejected: number };
    const d = await cli(home, ['drift', 'seattle-weather', '--job', job.id]);
    assert.equal(d.code, 0, d.err);
    const report = d.json.report as DriftReport;
    return { job, season: season(report), report, rows: d.json.rows as number };
  }

  test('default policy: the rows are rejected, not scored, and still counted as unseen', async () => {
    const r = await scored(reject, sample('one-in-ten', 10, 36));
    assert.deepEqual([r.job.rowsScored, r.job.rowsRejected], [329, 36]);
    assert.equal(r.rows, 329, 'the report says how many rows were scored');
    assert.deepEqual([r.season.unseenCategories, r.season.nCurrent], [36, 365]);
    assert.equal(r.season.method, 'chisquare');
    assert.equal(r.season.drifted, true, `p ${r.season.score}`);
    const cats = r.season.details.categories as { labels: string[]; current: number[] };
    assert.equal(cats.current[cats.labels.indexOf('(other)')], 36);
    // the other inputs and the outputs describe the scored rows only
    assert.equal(r.report.features.find((f) => f.feature === 'temp_max')!.nCurrent, 329);
    assert.equal(r.report.features.find((f) => f.feature === 'prediction.label')!.nCurrent, 329);
  });

  test('one stray value of 365 is counted but is not drift (no infinite chi-square)', async () => {
    const r = await scored(reject, sample('one', 100, 1, 'Winter'));
    assert.equal(r.season.unseenCategories, 1);
    assert.equal(r.season.drifted, false);
    assert.ok(Number.isFinite(r.season.statistic!) && r.season.score! > 0.5, `χ² ${r.season.statistic}, p ${r.season.score}`);
  });

  test('unseen: "score": the model scores the rows (its one-hot encoder ignores unknowns) and drift counts them', async () => {
    const r = await scored(score, sample('one-in-ten', 10, 36));
    assert.deepEqual([r.job.rowsScored, r.job.rowsRejected], [365, 0]);
    assert.equal(r.season.unseenCategories, 36);
    assert.equal(r.season.drifted, true);
    assert.equal(r.report.features.find((f) => f.feature === 'prediction.label')!.nCurrent, 365);
  });

  test('a spike that stops the job on its reject rate still shows in drift and raises an alert', async () => {
    const file = sample('spike', 2, 1000);
    const s = await runMain(['--home', reject, 'score', file, '--model', 'seattle-weather', '--out', `${file}.out.csv`]);
    assert.equal(s.code, 1);
    assert.match(s.err, /rows rejected .*not in the vocabulary/s);
    const store = openStore(reject);
    let jobId: string;
    try {
      const job = store.db.prepare(`SELECT id, status FROM jobs WHERE input_path = ?`).get(file) as { id: string; status: string };
      assert.equal(job.status, 'failed');
      jobId = job.id;
      const alerts = listAlerts(store, { scope: 'job', scopeKeys: [jobId] });
      assert.ok(alerts.some((a) => a.feature === 'season'), `alerts: ${alerts.map((a) => a.feature).join(', ')}`);
    } finally {
      store.close();
    }
    const d = await cli(reject, ['drift', 'seattle-weather', '--job', jobId]);
    assert.equal(d.code, 0, d.err);
    const f = season(d.json.report as DriftReport);
    assert.equal(f.unseenCategories, 182);
    assert.equal(f.drifted, true);
    assert.equal(d.json.rows, 365 - 182);
  });

  test('a card may set the policy only on category inputs', async () => {
    const dir = pkg('pkg-bad');
    const card = JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8')) as { inputs: { name: string; unseen?: string }[] };
    card.inputs[0].unseen = 'score';
    fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card));
    const r = await cli(path.join(root, 'home-bad'), ['models', 'add', dir, '--allow-unsigned']);
    assert.equal(r.code, 1);
    assert.match(JSON.stringify(r.json), /inputs\.0\.unseen.*only category features have an unseen-value policy/);
  });
});
