// SIGKILL a scoring job mid-file, resume it, and compare its drift statistics with an uninterrupted
// job on the same file: identical, bit for bit, and the windows count every row exactly once.
// (The prediction log and output side of the same scenario: scoring-resume.test.ts.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { mergeStats, parseBaseline, statsFromJSON, type FeatureStats } from '../src/drift/common/index.ts';
import { getModel } from '../src/store/node/models.ts';
import { openStore } from '../src/store/node/store.ts';
import { lastJson, onEvents, REPO, runCli, startCli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

const ROWS = 240_000;
const CHECKPOINT_ROWS = 20_000;

function bigInput(): string {
  const [header, ...rows] = fs.readFileSync(path.join(REPO, 'models/demo/weather-2015.csv'), 'utf8').trim().split('\n');
  const file = path.join(root, 'big.csv');
  const out = [`id,${header}`];
  for (let i = 0; i < ROWS; i++) out.push(`r${i},${rows[i % rows.length]}`);
  fs.writeFileSync(file, out.join('\n') + '\n');
  return file;
}

test('a SIGKILLed and resumed job has exactly the drift statistics of an uninterrupted one', async () => {
  const input = bigInput();
  const home = path.join(root, 'home');
  assert.equal((await runCli(['models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'], { home })).code, 0);
  const common = ['--model', 'seattle-weather', '--id', 'id', '--batch', '4096', '--checkpoint-rows', String(CHECKPOINT_ROWS)];

  const ref = await runCli(['score', input, ...common, '--out', path.join(root, 'reference.csv'), '--json'], { home });
  assert.equal(ref.code, 0, ref.stderr);
  const refJob = (lastJson(ref.stdout) as { job: { id: string } }).job.id;

  const child = startCli(['score', input, ...common, '--out', path.join(root, 'killed.csv'), '--json'], { home });
  let jobId = '';
  let rowsAtKill = 0;
  await new Promise<void>((resolve, reject) => {
    onEvents(child, (ev) => {
      if (ev.event === 'started') jobId = ev.jobId;
      // past a few checkpoints (and the switch to the statistics worker), well before the end
      if (ev.event === 'progress' && ev.rowsRead! > 3 * CHECKPOINT_ROWS && !rowsAtKill) {
        rowsAtKill = ev.rowsRead!;
        child.kill('SIGKILL');
      }
    });
    child.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the run ended by itself (code ${code}) before it could be killed`))));
  });
  assert.ok(jobId && rowsAtKill < ROWS, `killed job ${jobId} at ${rowsAtKill} rows`);

  const store0 = openStore(home);
  const atKill = store0.db.prepare("SELECT rows FROM drift_job_stats WHERE job_id = ? AND feature = 'temp_max'").get(jobId) as { rows: number } | undefined;
  store0.close();
  assert.ok(atKill && atKill.rows > 0 && atKill.rows < ROWS && atKill.rows % (Math.ceil(CHECKPOINT_ROWS / 4096) * 4096) === 0, `statistics committed with checkpoints only (every 5 batches of 4096 rows) (${atKill?.rows} rows at the kill)`);

  const resumed = await runCli(['score', '--resume', jobId, '--json'], { home });
  assert.equal(resumed.code, 0, resumed.stderr);

  const store = openStore(home);
  try {
    const baseline = parseBaseline(getModel(store, 'seattle-weather@1').card.baseline);
    const stats = (id: string) => Object.fromEntries((store.db.prepare('SELECT feature, stats_json FROM drift_job_stats WHERE job_id = ? ORDER BY feature').all(id) as { feature: string; stats_json: string }[]).map((r) => [r.feature, r.stats_json]));
    const a = stats(refJob);
    const b = stats(jobId);
    assert.equal(Object.keys(a).length, baseline.features.length);
    assert.deepEqual(b, a, 'the resumed job equals the uninterrupted one, bit for bit');
    assert.equal(JSON.parse(b.temp_max).rows, ROWS);

    // every row counted once in the windows too: all day windows = the two jobs
    const windows = store.db.prepare("SELECT feature, stats_json FROM drift_window_stats WHERE model_name = 'seattle-weather' AND width = 'day'").all() as { feature: string; stats_json: string }[];
    for (const f of baseline.features) {
      const parts = windows.filter((w) => w.feature === f.name).map((w) => statsFromJSON(JSON.parse(w.stats_json), f));
      const total = parts.reduce((x, y) => mergeStats(x as FeatureStats, y));
      const twice = mergeStats(statsFromJSON(JSON.parse(a[f.name]), f), statsFromJSON(JSON.parse(b[f.name]), f));
      assert.equal(JSON.stringify(total), JSON.stringify(twice), f.name);
    }
  } finally {
    store.close();
  }
});
