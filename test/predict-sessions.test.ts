// Record sessions (src/scoring/node/predict.ts), in process with the demo model and ONNX Runtime:
// one job per caller, model version and UTC day; a new day opens a new session; two scorers of one
// process never share a session; a reopened session continues its counters and row numbers; the
// records of one commit are one log batch; the logInputs policy applies.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { RecordScorer, type RecordOutcome } from '../src/scoring/node/predict.ts';
import { getModel, installPackage } from '../src/store/node/models.ts';
import { pagePredictions } from '../src/store/node/predictions.ts';
import { openStore, updateSettings, type Store } from '../src/store/node/store.ts';
import { REPO } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
let store: Store;
const GOOD = { precipitation: 1.5, temp_max: 5.6, temp_min: 0, wind: 2.3, season: 'winter' };
const DAY1 = Date.parse('2026-03-01T23:59:00Z');
const DAY2 = Date.parse('2026-03-02T00:00:30Z');

before(() => {
  store = openStore(path.join(root, 'home'));
  installPackage(store, path.join(REPO, 'models/demo/weather'), { source: 'local', allowUnsigned: true });
});
after(() => {
  store.close();
  fs.rmSync(root, { recursive: true, force: true });
});

interface JobRow { id: string; input_path: string; rows_read: number; rows_scored: number; rows_rejected: number; status: string; day: string }
const sessions = (): JobRow[] => store.db.prepare("SELECT id, input_path, rows_read, rows_scored, rows_rejected, status, json_extract(checkpoint_json, '$.day') AS day FROM jobs WHERE input_format = 'records' ORDER BY rowid").all() as JobRow[];
const batches = (job: string) => store.db.prepare('SELECT seq, first_row, row_count, inputs IS NOT NULL AS hasInputs FROM prediction_batches WHERE job_id = ? ORDER BY seq').all(job) as { seq: number; first_row: number; row_count: number; hasInputs: number }[];

test('a session per caller and day; one log batch per commit; a new UTC day opens a new session', async () => {
  let clock = DAY1;
  const scorer = await RecordScorer.open(store, getModel(store, 'seattle-weather'), 'cpu', { now: () => clock });
  try {
    for (let i = 0; i < 20; i++) await scorer.score([{ value: { ...GOOD, temp_max: i } }], 'cli');
    const bad = await scorer.score([{ value: { ...GOOD, temp_max: 99 } }, { value: GOOD }], 'cli');
    assert.deepEqual(bad.map((o) => o.ok), [false, true]);
    await scorer.score([{ value: GOOD }], 'api:other');
    scorer.flush();
    const [cli, other] = sessions();
    assert.deepEqual([cli.input_path, cli.rows_read, cli.rows_scored, cli.rows_rejected, cli.status], ['records:cli', 22, 21, 1, 'completed']);
    assert.deepEqual([other.input_path, other.rows_read], ['records:api:other', 1]);
    // 21 scored rows, 22 numbered (row 21 was rejected): one batch, with its row numbers
    assert.deepEqual(batches(cli.id).map((b) => [b.seq, b.first_row, b.row_count]), [[0, 1, 21]]);
    assert.deepEqual(pagePredictions(store, { jobId: cli.id, limit: 100 }).map((r) => r.row), [...Array.from({ length: 20 }, (_, i) => i + 1), 22]);

    clock = DAY2;
    await scorer.score([{ value: GOOD }], 'cli');
    scorer.flush();
    const all = sessions();
    assert.equal(all.length, 3, 'the new day has its own session');
    assert.deepEqual([all[2].input_path, all[0].day, all[2].day], ['records:cli', '2026-03-01', '2026-03-02']);
    assert.equal(all[2].rows_read, 1);
    assert.equal(sessions()[0].rows_read, 22, 'the old day\'s session was committed and closed');
  } finally {
    await scorer.close();
  }
});

test('two scorers in one process get a session each; a reopened session continues its counters and rows', async () => {
  const model = getModel(store, 'seattle-weather');
  const a = await RecordScorer.open(store, model, 'cpu', { now: () => DAY1 });
  const b = await RecordScorer.open(store, model, 'cpu', { now: () => DAY1 });
  try {
    await a.score([{ value: GOOD }], 'cli');
    await b.score([{ value: GOOD }], 'cli');
    const ids = [...a.sessionJobs(), ...b.sessionJobs()].map((j) => j.id);
    assert.equal(new Set(ids).size, 2, 'one process, two scorers: two sessions, never one shared');
  } finally {
    await a.close();
    await b.close();
  }
  const before = sessions().filter((j) => j.input_path === 'records:cli' && j.day === '2026-03-01');
  const first = before[0];
  const c = await RecordScorer.open(store, model, 'cpu', { now: () => DAY1 });
  try {
    await c.score([{ value: GOOD }, { value: GOOD }], 'cli');
    assert.equal(c.sessionJobs()[0].id, first.id, 'the day\'s first session is taken up again');
  } finally {
    await c.close();
  }
  const again = sessions().find((j) => j.id === first.id)!;
  assert.equal(again.rows_read, first.rows_read + 2);
  assert.deepEqual(batches(first.id).map((x) => x.seq), batches(first.id).map((_, i) => i), 'log batches numbered on');
  assert.deepEqual(pagePredictions(store, { jobId: first.id, limit: 100 }).slice(-2).map((r) => r.row), [first.rows_read + 1, first.rows_read + 2]);
});

test('the logInputs policy applies to single records; a scorer with logging off writes nothing', async () => {
  updateSettings(store, { logInputs: 'none' });
  const count = () => (store.db.prepare('SELECT count(*) AS n FROM prediction_batches').get() as { n: number }).n;
  try {
    const s = await RecordScorer.open(store, getModel(store, 'seattle-weather'), 'cpu', { now: () => DAY2 });
    try {
      await s.score([{ value: GOOD }], 'api:policy');
    } finally {
      await s.close();
    }
    const job = sessions().find((j) => j.input_path === 'records:api:policy')!;
    assert.deepEqual(batches(job.id).map((x) => [x.row_count, x.hasInputs]), [[1, 0]]);
    const n = count();
    const quiet = await RecordScorer.open(store, getModel(store, 'seattle-weather'), 'cpu', { log: false });
    try {
      const [o] = await quiet.score([{ value: GOOD }], 'api:quiet');
      assert.equal(o.ok, true);
    } finally {
      await quiet.close();
    }
    assert.equal(count(), n);
    assert.equal(sessions().some((j) => j.input_path === 'records:api:quiet'), false);
  } finally {
    updateSettings(store, { logInputs: 'sampled' });
  }
});

test('concurrent callers: requests batched together in the engine each get exactly their own outputs, logged in their own session', async () => {
  const records = Array.from({ length: 60 }, (_, i) => ({ ...GOOD, temp_max: -10 + i, precipitation: i % 7, season: ['winter', 'spring', 'summer', 'autumn'][i % 4] }));
  const alone = await RecordScorer.open(store, getModel(store, 'seattle-weather'), 'cpu', { log: false });
  const expected: RecordOutcome[] = [];
  try {
    for (const r of records) expected.push((await alone.score([{ value: r }], 'x'))[0]);
  } finally {
    await alone.close();
  }
  const shared = await RecordScorer.open(store, getModel(store, 'seattle-weather'), 'cpu', { now: () => DAY2 });
  try {
    // one- and three-record requests from two callers, all at once
    const calls = records.map((r, i) => (i % 3 === 0 && i + 2 < records.length
      ? shared.score([{ value: r }, { value: records[i + 1] }, { value: records[i + 2] }], 'api:three')
      : shared.score([{ value: r }], 'api:one')));
    const got = await Promise.all(calls);
    records.forEach((_, i) => assert.deepEqual(got[i][0], expected[i], `record ${i}`));
    got.forEach((g, i) => { if (g.length === 3) assert.deepEqual(g, expected.slice(i, i + 3), `request ${i}`); });
  } finally {
    await shared.close();
  }
  const byCaller = Object.fromEntries(sessions().filter((j) => j.day === '2026-03-02' && j.input_path.startsWith('records:api:')).map((j) => [j.input_path, j.rows_read]));
  assert.equal(byCaller['records:api:three'], 20 * 3);
  assert.equal(byCaller['records:api:one'], 40);
});
