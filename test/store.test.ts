import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { OutpostError } from '../src/common/errors.ts';
import { packColumns, unpackColumns } from '../src/store/common/packing.ts';
import { createJob, newJobId } from '../src/store/node/jobs.ts';
import { migrations } from '../src/store/node/migrations.ts';
import { getModel, installPackage, listModels, rollback, verifyInstalled } from '../src/store/node/models.ts';
import { countPredictions, enforceRetention, insertPredictionBatch, logBytes, logSize, pagePredictions } from '../src/store/node/predictions.ts';
import { DB_FILE, getSettings, openStore, updateSettings, type Store } from '../src/store/node/store.ts';
import { tempDir, tinyCard, writePackage } from './helpers/packages.ts';

const require = createRequire(import.meta.url);
const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

const isErr = (code: string, re: RegExp) => (e: unknown) => e instanceof OutpostError && e.code === code && re.test(e.message);

test('opening a store creates the schema in WAL mode; reopening is a no-op; a newer schema is refused', () => {
  const home = path.join(root, 'h1');
  const s = openStore(home);
  assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(s.db.pragma('user_version', { simple: true }), migrations.at(-1)!.version);
  s.close();
  openStore(home).close();
  const raw = new Database(path.join(home, DB_FILE));
  raw.pragma('user_version = 999');
  raw.close();
  assert.throws(() => openStore(home), isErr('store', /newer Outpost/));
});

test('a second store opened in the same process (a worker thread\'s) keeps the first\'s database lock', () => {
  const home = path.join(root, 'locks');
  const a = openStore(home);
  // another process asking for the database exclusively (what a last connection's close-time
  // checkpoint, or a journal-mode change, needs): refused while this process has it open
  const exclusive = () => execFileSync(process.execPath, ['-e', `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const d = new Database(process.argv[1], { timeout: 0 });
    try { d.pragma('locking_mode = EXCLUSIVE'); d.prepare('BEGIN EXCLUSIVE').run(); d.prepare('COMMIT').run(); console.log('granted'); }
    catch (e) { console.log(e.code); } finally { d.close(); }`, path.join(home, DB_FILE)], { encoding: 'utf8' }).trim();
  try {
    a.db.prepare('SELECT count(*) FROM settings').get();
    assert.equal(exclusive(), 'SQLITE_BUSY');
    const b = openStore(home); // the serving process opens one per job worker and one for log queries
    try {
      assert.equal(exclusive(), 'SQLITE_BUSY', 'opening another store must not drop the process\'s lock on the database');
      assert.equal(fs.statSync(path.join(home, DB_FILE)).mode & 0o777, 0o600);
    } finally {
      b.close();
    }
  } finally {
    a.close();
  }
});

test('install, list, activate newer, roll back, verify; local packages need --allow-unsigned', () => {
  const s = openStore(path.join(root, 'h2'));
  try {
    const p1 = writePackage(path.join(root, 'pkg1'));
    const p2 = writePackage(path.join(root, 'pkg2'), tinyCard({ version: 2 }));
    assert.throws(() => installPackage(s, p1, { source: 'local' }), isErr('usage', /--allow-unsigned/));
    assert.equal(listModels(s).length, 0, 'nothing recorded for a refused install');

    const m1 = installPackage(s, p1, { source: 'local', allowUnsigned: true });
    assert.equal(m1.active, true);
    assert.ok(fs.existsSync(path.join(m1.dir, 'model.onnx')));
    const m2 = installPackage(s, p2, { source: 'local', allowUnsigned: true });
    assert.equal(m2.active, true);
    assert.equal(getModel(s, 'tiny').version, 2);
    assert.equal(getModel(s, 'tiny@1').active, false);

    // same version, same bytes: idempotent; different bytes: conflict
    installPackage(s, p1, { source: 'local', allowUnsigned: true });
    const changed = writePackage(path.join(root, 'pkg1b'), tinyCard({ description: 'changed' }));
    assert.throws(() => installPackage(s, changed, { source: 'local', allowUnsigned: true }), isErr('conflict', /already installed with different contents/));

    assert.equal(rollback(s, 'tiny').version, 1);
    assert.equal(getModel(s, 'tiny').version, 1);
    const events = s.db.prepare("SELECT kind, detail FROM model_events WHERE kind = 'activate' ORDER BY id").all() as { detail: string }[];
    assert.match(events.at(-1)!.detail, /rollback from 2/);

    assert.deepEqual(verifyInstalled(s, m2), []);
    fs.appendFileSync(path.join(m2.dir, 'model.onnx'), Buffer.from([0]));
    assert.match(verifyInstalled(s, m2)[0], /does not match the installed/);

    assert.throws(() => getModel(s, 'nope'), isErr('not-found', /no model "nope" is installed \(installed: tiny\)/));
    assert.throws(() => getModel(s, 'tiny@7'), isErr('not-found', /installed versions: 1, 2/));
    assert.throws(() => getModel(s, 'bad ref'), isErr('usage', /not a model reference/));
  } finally {
    s.close();
  }
});

test('packed columns round-trip exactly', () => {
  const cols = [
    { name: '#row', type: 'i32' as const, values: Int32Array.from([1, 2, 3]) },
    { name: 'p', type: 'f32' as const, values: Float32Array.from([0.1, 0.2, 1e-30]) },
    { name: 'v', type: 'f64' as const, values: Float64Array.from([Math.PI, -0, NaN]) },
    { name: 'id', type: 'str' as const, values: ['a', null, 'ü "q"'] },
  ];
  const back = unpackColumns(packColumns(cols));
  assert.deepEqual(back.map((c) => [c.name, c.type, Array.from(c.values as ArrayLike<unknown>)]), cols.map((c) => [c.name, c.type, Array.from(c.values as ArrayLike<unknown>)]));
  const dict = unpackColumns(packColumns([{ name: 'label', type: 'dict', codes: Int32Array.from([1, 0, 1, -1]), dictionary: ['no', 'yes'] }]));
  assert.deepEqual(dict, [{ name: 'label', type: 'str', values: ['yes', 'no', 'yes', null] }], 'dictionary-coded labels read back as strings');
});

test('a text column given as UTF-8 cells packs to the same bytes as its strings: every escape JSON.stringify writes, non-ASCII, empty and missing cells, cells out of order', () => {
  const enc8 = new TextEncoder();
  const every = Array.from({ length: 0x80 }, (_, b) => String.fromCharCode(b)).join('');
  const escaped: (string | null)[] = ['plain', '', null, 'say "hi"', 'back\\slash', 'tab\there\nline\r\u0000nul\u001f\u007f', every, 'Zoë € 😀 \u2028\u2029 \ufeff', 'x'.repeat(300), null];
  // and a batch with nothing to escape (copied without a look at each byte)
  const plain: (string | null)[] = ['2012-01-01', '', null, 'Zoë € 😀', 'x'.repeat(300), "it's ok"];
  for (const [trial, values] of [escaped, escaped, escaped, plain, plain].entries()) {
    // the cells' bytes in an order of their own, with other bytes between them (as a reader's buffer holds them)
    const order = values.map((_, i) => i).sort((a, b) => ((a * 7 + trial) % values.length) - ((b * 7 + trial) % values.length));
    const chunks: number[] = [];
    const starts = new Int32Array(values.length);
    const ends = new Int32Array(values.length);
    for (const i of order) {
      const v = values[i];
      if (v === null) { starts[i] = ends[i] = -1; continue; }
      chunks.push(0x22, 0x5c); // stray bytes between cells
      starts[i] = chunks.length;
      chunks.push(...enc8.encode(v));
      ends[i] = chunks.length;
    }
    const cells = { name: 'id', type: 'utf8' as const, bytes: Uint8Array.from(chunks), starts, ends };
    const asStrings = packColumns([{ name: 'id', type: 'str', values }]);
    assert.deepEqual(packColumns([cells]), asStrings, `trial ${trial}`);
    assert.deepEqual(unpackColumns(packColumns([cells])), [{ name: 'id', type: 'str', values }]);
  }
  assert.deepEqual(packColumns([{ name: 'id', type: 'utf8', bytes: new Uint8Array(0), starts: new Int32Array(0), ends: new Int32Array(0) }]), packColumns([{ name: 'id', type: 'str', values: [] }]), 'no rows');
});

function seedJob(s: Store, id = newJobId()): string {
  createJob(s, { id, modelName: 'tiny', modelVersion: 1, inputPath: '/in.csv', inputFormat: 'csv', inputSize: 1, inputFingerprint: 'x', outputPath: '/out.csv', outputFormat: 'csv', rejectsPath: '/r.csv', options: { batchRows: 10, ep: 'cpu', maxRejectRate: 0.2, logPredictions: true, logInputs: 'none', logSampleRate: 0 }, provider: 'cpu', providerSummary: 'cpu' });
  return id;
}

test('prediction log pages rows across batches, filters, and retention bounds it', () => {
  const s = openStore(path.join(root, 'h3'));
  try {
    const job = seedJob(s);
    const t0 = Date.now();
    for (let b = 0; b < 5; b++) {
      const rows = Int32Array.from({ length: 10 }, (_, i) => b * 10 + i + 1);
      insertPredictionBatch(s, {
        jobId: job, seq: b, modelName: 'tiny', modelVersion: 1, firstRow: b * 10 + 1, rowCount: 10, loggedAt: t0 + b,
        outputs: [{ name: '#row', type: 'i32', values: rows }, { name: 'label', type: 'str', values: Array.from(rows, (r) => (r % 2 ? 'odd' : 'even')) }, { name: 'p_odd', type: 'f32', values: Float32Array.from(rows, (r) => r / 100) }],
        inputs: [{ name: '#row', type: 'i32', values: Int32Array.from([b * 10 + 3]) }, { name: 'a', type: 'f32', values: Float32Array.from([b]) }],
      });
    }
    // A batch without rejected rows in between stores no row numbers: first_row implies them.
    insertPredictionBatch(s, { jobId: job, seq: 5, modelName: 'tiny', modelVersion: 1, firstRow: 51, rowCount: 3, loggedAt: t0 + 5, outputs: [{ name: 'label', type: 'dict', codes: Int32Array.from([0, 1, 0]), dictionary: ['odd', 'even'] }] });
    assert.deepEqual(pagePredictions(s, { jobId: job, offset: 50 }).map((r) => [r.row, r.values.label]), [[51, 'odd'], [52, 'even'], [53, 'odd']]);
    s.db.prepare('DELETE FROM prediction_batches WHERE seq = 5').run();
    assert.equal(countPredictions(s, { jobId: job }), 50);
    const page = pagePredictions(s, { jobId: job, offset: 8, limit: 5 });
    assert.deepEqual(page.map((r) => r.row), [9, 10, 11, 12, 13]);
    assert.equal(page[0].values.label, 'odd');
    assert.equal(page[2].values.p_odd, Math.fround(0.11));
    assert.equal(page.find((r) => r.row === 13)!.values['input.a'], 1, 'sampled inputs attach to their row');
    assert.equal(page.find((r) => r.row === 12)!.values['input.a'], undefined);
    assert.equal(pagePredictions(s, { model: 'other' }).length, 0);
    assert.equal(pagePredictions(s, { since: t0 + 3 }).length, 20);

    const before = logSize(s);
    const removed = enforceRetention(s, { retentionMaxBytes: before.bytes - 1, retentionMaxAgeDays: 365 });
    assert.equal(removed, 1, 'the oldest batch goes first');
    assert.equal(pagePredictions(s, { jobId: job, limit: 1 })[0].row, 11);
    assert.equal(enforceRetention(s, { retentionMaxBytes: 1e12, retentionMaxAgeDays: 0 }, t0 + 1000), 4, 'age limit drops everything older');
    assert.equal(countPredictions(s), 0);
  } finally {
    s.close();
  }
});

test('the prediction log\'s running size: derived when the store upgrades, kept by every insert and delete (any connection), used by retention', () => {
  const home = path.join(root, 'h-size');
  const summed = (s: Store) => (s.db.prepare('SELECT coalesce(sum(size_bytes), 0) AS b FROM prediction_batches').get() as { b: number }).b;
  const batch = (s: Store, job: string, seq: number, loggedAt: number, n = 10) => insertPredictionBatch(s, {
    jobId: job, seq, modelName: 'tiny', modelVersion: 1, firstRow: seq * n + 1, rowCount: n, loggedAt,
    outputs: [{ name: 'label', type: 'str', values: Array.from({ length: n }, (_, i) => `label-${seq}-${i}`) }],
  });
  const t0 = Date.now();
  // a store written before the running total existed (schema 8) with a log in it
  let s = openStore(home);
  const jobA = seedJob(s);
  const sizes = [0, 1, 2].map((seq) => batch(s, jobA, seq, t0 + seq));
  s.db.exec('DROP TRIGGER prediction_log_size_insert; DROP TRIGGER prediction_log_size_delete; DROP TRIGGER prediction_log_size_update; DROP TABLE prediction_log_size; ALTER TABLE api_tokens DROP COLUMN models; ALTER TABLE models DROP COLUMN card_checked');
  s.db.pragma('user_version = 8');
  s.close();
  s = openStore(home);
  const other = openStore(home); // another process on the same data folder
  try {
    assert.equal(logBytes(s), sizes.reduce((a, b) => a + b), 'derived from the log when the store upgrades');
    sizes.push(batch(s, jobA, 3, t0 + 3));
    const jobB = seedJob(other);
    const bSizes = [batch(other, jobB, 0, t0 + 10, 40), batch(other, jobB, 1, t0 + 11, 40)];
    assert.equal(logBytes(s), summed(s), 'another connection\'s inserts count');
    assert.throws(() => s.db.transaction(() => { batch(s, jobA, 4, t0 + 4); throw new Error('crash before commit'); })());
    assert.equal(logBytes(s), summed(s), 'a rolled-back insert does not count');
    s.db.prepare('UPDATE prediction_batches SET size_bytes = size_bytes + 5 WHERE job_id = ? AND seq = 0').run(jobA);
    assert.equal(logBytes(s), summed(s));
    s.db.prepare('UPDATE prediction_batches SET size_bytes = size_bytes - 5 WHERE job_id = ? AND seq = 0').run(jobA);

    // size retention drops the oldest batches until the log fits, by the running total
    const total = logBytes(s);
    assert.equal(total, sizes.reduce((a, b) => a + b) + bSizes.reduce((a, b) => a + b));
    const limit = total - sizes[0] - 1; // one byte too many without batch 0, so 0 and 1 go
    assert.equal(enforceRetention(other, { retentionMaxBytes: limit, retentionMaxAgeDays: 365 }, t0 + 20), 2);
    assert.deepEqual((s.db.prepare('SELECT seq FROM prediction_batches WHERE job_id = ? ORDER BY seq').all(jobA) as { seq: number }[]).map((r) => r.seq), [2, 3]);
    assert.equal(logBytes(s), total - sizes[0] - sizes[1]);
    assert.ok(logBytes(s) <= limit);
    assert.equal(enforceRetention(s, { retentionMaxBytes: logBytes(s), retentionMaxAgeDays: 365 }, t0 + 20), 0, 'a log exactly at the limit stays');
    // a removed job's batches go by cascade, and their bytes with them
    s.db.prepare('DELETE FROM jobs WHERE id = ?').run(jobB);
    assert.equal(logBytes(s), sizes[2] + sizes[3]);
    assert.equal(logBytes(s), summed(s));
    // age retention
    assert.equal(enforceRetention(s, { retentionMaxBytes: 1e12, retentionMaxAgeDays: 0 }, t0 + 3), 1);
    assert.equal(logBytes(s), sizes[3]);
    assert.equal(enforceRetention(s, { retentionMaxBytes: 0, retentionMaxAgeDays: 365 }, t0 + 20), 1);
    assert.equal(logBytes(s), 0);
    assert.equal(countPredictions(s), 0);
  } finally {
    other.close();
    s.close();
  }
});

test('settings have defaults, persist, and refuse unknown keys', () => {
  const home = path.join(root, 'h4');
  const s = openStore(home);
  assert.equal(getSettings(s).logInputs, 'sampled');
  updateSettings(s, { logInputs: 'all', retentionMaxAgeDays: 7 });
  s.close();
  const s2 = openStore(home);
  assert.equal(getSettings(s2).logInputs, 'all');
  assert.equal(getSettings(s2).retentionMaxAgeDays, 7);
  assert.throws(() => updateSettings(s2, { nope: 1 } as never), isErr('usage', /unknown setting "nope"/));
  s2.close();
});
