// WAL checkpoints in the background (src/store/node/wal-checkpoints.ts): while held, the committing
// connection never copies the write-ahead log into the database file itself; a worker thread with
// its own connection does, after request(); the last release() gives the connection its own
// checkpoints back; a worker that cannot run gives them back at once. And a large scoring job uses
// it (its log commits leave checkpoints to the worker), a small one never starts it. Real parts:
// SQLite files, worker threads, ONNX Runtime.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { BACKGROUND_CHECKPOINT_ROWS } from '../src/scoring/node/job-log.ts';
import { scoreFile } from '../src/scoring/node/score-file.ts';
import { installPackage } from '../src/store/node/models.ts';
import { DB_FILE, openStore } from '../src/store/node/store.ts';
import { backgroundCheckpoints, deferCheckpoints } from '../src/store/node/wal-checkpoints.ts';
import { buildSyntheticMlp } from '../src/train/common/index.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Wait until `done()` holds (the worker answers asynchronously); fails after a generous deadline. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const autocheckpoint = (db: { pragma: (s: string, o: { simple: true }) => unknown }) => Number(db.pragma('wal_autocheckpoint', { simple: true }));
const EIGHT_MB = Buffer.alloc(8 << 20, 7); // 2,048 pages: past the default checkpoint threshold of 1,000

test('held checkpoints: the committing connection leaves the WAL alone, the worker copies it, the last release restores the setting', async () => {
  const home = path.join(root, 'unit');
  const store = openStore(home);
  try {
    const file = path.join(home, DB_FILE);
    store.db.exec('CREATE TABLE blobs (b BLOB)');
    const insert = store.db.prepare('INSERT INTO blobs VALUES (?)');
    assert.equal(autocheckpoint(store.db), 1000);
    // without a hold, the commit that grows the WAL past 1,000 pages copies it into the file itself
    let size = fs.statSync(file).size;
    insert.run(EIGHT_MB);
    assert.ok(fs.statSync(file).size >= size + EIGHT_MB.length, 'the commit checkpointed on this thread');

    const first = deferCheckpoints(store);
    const second = deferCheckpoints(store);
    assert.equal(autocheckpoint(store.db), 0);
    size = fs.statSync(file).size;
    const done = backgroundCheckpoints(store);
    insert.run(EIGHT_MB);
    assert.equal(fs.statSync(file).size, size, 'the commit left the pages in the WAL');
    first.request();
    await until(() => backgroundCheckpoints(store) > done, 'a background checkpoint');
    assert.ok(fs.statSync(file).size >= size + EIGHT_MB.length, 'the worker copied the pages into the database file');
    first.release();
    first.release(); // twice: still one hold less, not two
    assert.equal(autocheckpoint(store.db), 0, 'the second hold keeps checkpoints in the background');
    second.request();
    second.release();
    assert.equal(autocheckpoint(store.db), 1000, 'the last release restores the connection\'s own checkpoints');
    assert.equal((store.db.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number }).n, 2);
    assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    store.close();
  }
});

test('the checkpoint thread carries its name (wal-checkpoint) for per-thread CPU figures', { skip: !fs.existsSync('/proc/self/task') && 'no /proc (Linux only)' }, async () => {
  const home = path.join(root, 'named');
  const store = openStore(home);
  try {
    const threads = () => fs.readdirSync('/proc/self/task').map((t) => { try { return fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim(); } catch { return ''; } });
    const hold = deferCheckpoints(store);
    try {
      hold.request();
      await until(() => backgroundCheckpoints(store) > 0, 'a background checkpoint');
      assert.ok(threads().includes('wal-checkpoint'), `threads: ${threads().join(', ')}`);
    } finally {
      hold.release();
    }
  } finally {
    store.close();
  }
});

test('a checkpoint worker that cannot open the database gives the connection its own checkpoints back', async () => {
  const home = path.join(root, 'moved');
  const store = openStore(home);
  const file = path.join(home, DB_FILE);
  fs.renameSync(file, `${file}.away`); // the open connection keeps its file; a new one finds none
  try {
    const hold = deferCheckpoints(store);
    hold.request(); // nothing to post to once the worker is gone: no error
    await until(() => autocheckpoint(store.db) === 1000, 'the setting restored after the worker failed');
    hold.request();
    hold.release();
    assert.equal(autocheckpoint(store.db), 1000);
  } finally {
    fs.renameSync(`${file}.away`, file);
    store.close();
  }
});

test('a scoring job that logs BACKGROUND_CHECKPOINT_ROWS rows in a commit checkpoints in the background; a small job does not', async () => {
  const home = path.join(root, 'jobs');
  const store = openStore(home);
  try {
    const { bytes, card } = buildSyntheticMlp({ features: 3, hidden: 4, classes: 2, seed: 3 });
    const pkg = path.join(root, 'mlp');
    fs.mkdirSync(pkg);
    fs.writeFileSync(path.join(pkg, 'model.onnx'), bytes);
    fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify({ ...card, name: 'mlp' }));
    installPackage(store, pkg, { source: 'local', allowUnsigned: true });
    const csv = (rows: number) => {
      const f = path.join(root, `in-${rows}.csv`);
      fs.writeFileSync(f, ['f0,f1,f2', ...Array.from({ length: rows }, (_, i) => `${(i % 97) / 10},${(i % 13) - 6},${i % 7}`)].join('\n') + '\n');
      return f;
    };
    const logged = (id: string) => (store.db.prepare('SELECT coalesce(sum(row_count), 0) AS n FROM prediction_batches WHERE job_id = ?').get(id) as { n: number }).n;

    const before = backgroundCheckpoints(store);
    const small = await scoreFile(store, { input: csv(1000), model: 'mlp', out: path.join(root, 'small.csv'), logPredictions: true });
    assert.equal(logged(small.job.id), 1000);
    assert.equal(backgroundCheckpoints(store), before, 'a small job never starts the worker');

    // two commits of BACKGROUND_CHECKPOINT_ROWS + 5000 rows: a checkpoint after the first, one at the end
    const rows = 2 * (BACKGROUND_CHECKPOINT_ROWS + 5000);
    const large = await scoreFile(store, { input: csv(rows), model: 'mlp', out: path.join(root, 'large.csv'), logPredictions: true }, { checkpointRows: rows / 2 });
    assert.equal(logged(large.job.id), rows);
    assert.equal(autocheckpoint(store.db), 1000, 'the job gave the connection its own checkpoints back');
    await until(() => backgroundCheckpoints(store) >= before + 2, 'the large job\'s background checkpoints (after its first commit and at its end)');
    assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    store.close();
  }
});
