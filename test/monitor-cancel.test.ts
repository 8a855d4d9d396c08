// A scoring job cancelled while the drift statistics worker still holds batches: the cancel's
// checkpoint drains them (in the same transaction as the rows it records), and the resumed job's
// statistics equal an uninterrupted job's bit for bit. Real parts: the demo model, ONNX Runtime, the
// statistics worker, SQLite.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseBaseline } from '../src/drift/common/index.ts';
import { StatsLane } from '../src/monitor/node/stats-lane.ts';
import { resumeJob, scoreFile } from '../src/scoring/node/score-file.ts';
import { getJob } from '../src/store/node/jobs.ts';
import { getModel, installPackage } from '../src/store/node/models.ts';
import { openStore } from '../src/store/node/store.ts';
import { REPO } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('a job cancelled with batches in the statistics worker counts each row once after its resume', async () => {
  const lines = fs.readFileSync(path.join(REPO, 'models/demo/weather-2015.csv'), 'utf8').trimEnd().split('\n');
  const input = path.join(root, 'weather-x20.csv');
  fs.writeFileSync(input, [lines[0], ...Array.from({ length: 20 }, () => lines.slice(1)).flat()].join('\n') + '\n');
  const rows = 20 * (lines.length - 1);
  const store = openStore(path.join(root, 'home'));
  try {
    installPackage(store, path.join(REPO, 'models/demo/weather'), { source: 'local', allowUnsigned: true });
    // a started worker in the pool: the jobs hand it batches from their first one
    const warm = StatsLane.acquire(parseBaseline(getModel(store, 'seattle-weather@1').card.baseline).features)!;
    warm.drain();
    warm.release();
    const stats = (id: string) => Object.fromEntries((store.db.prepare('SELECT feature, stats_json FROM drift_job_stats WHERE job_id = ? ORDER BY feature').all(id) as { feature: string; stats_json: string }[]).map((r) => [r.feature, r.stats_json]));
    const req = (name: string) => ({ input, model: 'seattle-weather', out: path.join(root, `${name}.csv`), batchRows: 1000, logPredictions: false });
    const whole = await scoreFile(store, req('whole'), { checkpointRows: 5000 });

    const stop = new AbortController();
    let jobId = '';
    const posted = StatsLane.postedTotal;
    await assert.rejects(scoreFile(store, req('cut'), {
      checkpointRows: 5000, signal: stop.signal,
      // the first progress report comes after the first batch: batches are with the worker then
      onProgress: (p) => { jobId = p.jobId; stop.abort(); },
    }), /cancelled after \d+ rows/);
    assert.ok(StatsLane.postedTotal > posted, 'the worker had batches of the cancelled job');
    const cancelled = getJob(store, jobId);
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(cancelled.rowsRead > 0 && cancelled.rowsRead < rows, `${cancelled.rowsRead} rows read before the stop`);
    const atCancel = JSON.parse(stats(jobId).temp_max) as { rows: number };
    assert.equal(atCancel.rows, cancelled.rowsScored, 'the statistics committed with the cancel hold every row it recorded, no more');

    const resumed = await resumeJob(store, jobId, { checkpointRows: 5000 });
    assert.equal(resumed.job.rowsScored, rows);
    assert.deepEqual(stats(jobId), stats(whole.job.id), 'the cancelled and resumed job equals the uninterrupted one, bit for bit');
  } finally {
    store.close();
  }
});
