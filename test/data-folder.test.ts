// The data folder as a whole: owner-only permissions (new and older stores), what its size counts,
// and the cleanup of uploads nobody needs any more.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ABANDONED_UPLOAD_MS, sweepUploads } from '../src/api/node/uploads.ts';
import { installPackage } from '../src/store/node/models.ts';
import { openStore } from '../src/store/node/store.ts';
import { dataFolderUsage } from '../src/store/node/usage.ts';
import { DEMO_PACKAGE } from './helpers/app-harness.ts';
import { tempDir } from './helpers/packages.ts';

const mode = (p: string) => fs.statSync(p).mode & 0o7777;
const posix = process.platform !== 'win32';

test('a new data folder is owner-only: 0700 folders, 0600 database files (WAL and SHM included), installed models too', { skip: !posix && 'POSIX modes only' }, () => {
  const parent = tempDir('outpost-perm-');
  const home = path.join(parent, 'data');
  try {
    const s = openStore(home);
    installPackage(s, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
    s.db.prepare("INSERT INTO settings (key, value) VALUES ('x', '1')").run(); // something in the WAL
    assert.equal(mode(home), 0o700);
    for (const f of ['outpost.db', 'outpost.db-wal', 'outpost.db-shm']) assert.equal(mode(path.join(home, f)), 0o600, f);
    for (const d of ['models', 'jobs', 'models/seattle-weather', 'models/seattle-weather/1']) assert.equal(mode(path.join(home, d)), 0o700, d);
    for (const f of ['model.onnx', 'card.json']) assert.equal(mode(path.join(home, 'models/seattle-weather/1', f)), 0o600, f);
    s.close();
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('a data folder made world-readable by an earlier version is fixed when opened; a shared folder keeps its mode', { skip: !posix && 'POSIX modes only' }, () => {
  const home = tempDir('outpost-perm-old-');
  const shared = tempDir('outpost-perm-shared-');
  try {
    openStore(home).close();
    fs.chmodSync(home, 0o755);
    fs.chmodSync(path.join(home, 'outpost.db'), 0o644);
    fs.mkdirSync(path.join(home, 'uploads', 'u-1'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(home, 'uploads', 'u-1', 'in.csv'), 'a\n1\n', { mode: 0o644 });
    fs.writeFileSync(path.join(home, 'notes.txt'), 'not ours', { mode: 0o644 });
    openStore(home).close();
    assert.equal(mode(home), 0o700);
    assert.equal(mode(path.join(home, 'outpost.db')), 0o600);
    assert.equal(mode(path.join(home, 'uploads')), 0o700);
    assert.equal(mode(path.join(home, 'uploads', 'u-1')), 0o700);
    assert.equal(mode(path.join(home, 'uploads', 'u-1', 'in.csv')), 0o600);
    assert.equal(mode(path.join(home, 'notes.txt')), 0o644, 'a file Outpost did not put there is left alone');

    fs.chmodSync(shared, 0o1777); // like /tmp: --home pointed at a shared folder
    openStore(shared).close();
    assert.equal(mode(shared), 0o1777, 'a shared (sticky) folder is not taken over');
    assert.equal(mode(path.join(shared, 'outpost.db')), 0o600, 'but the database in it is owner-only');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(shared, { recursive: true, force: true });
  }
});

test('the data folder size counts everything in it: database, models, uploads, outputs, the rest', () => {
  const home = tempDir('outpost-usage-');
  try {
    const s = openStore(home);
    installPackage(s, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
    fs.mkdirSync(path.join(home, 'uploads', 'u-a'), { recursive: true });
    fs.writeFileSync(path.join(home, 'uploads', 'u-a', 'in.csv'), Buffer.alloc(3000));
    fs.mkdirSync(path.join(home, 'outputs', 'j1'), { recursive: true });
    fs.writeFileSync(path.join(home, 'outputs', 'j1', 'in.scored.csv'), Buffer.alloc(2000));
    const u = dataFolderUsage(home);
    const db = ['outpost.db', 'outpost.db-wal', 'outpost.db-shm'].reduce((n, f) => n + (fs.statSync(path.join(home, f), { throwIfNoEntry: false })?.size ?? 0), 0);
    assert.equal(u.database, db);
    assert.equal(u.uploads, 3000);
    assert.equal(u.outputs, 2000);
    const model = fs.statSync(path.join(home, 'models/seattle-weather/1/model.onnx')).size + fs.statSync(path.join(home, 'models/seattle-weather/1/card.json')).size;
    assert.equal(u.models, model);
    assert.equal(u.total, u.database + u.models + u.uploads + u.outputs + u.other);
    assert.ok(u.total > db + 5000, 'more than the database alone');
    s.close();
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('uploads: abandoned ones, partial ones and those past retention are removed; those a job still needs stay', () => {
  const dir = tempDir('outpost-uploads-');
  try {
    const now = Date.now();
    const make = (name: string, file: string, ageMs: number) => {
      const d = path.join(dir, name);
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, file), 'a\n1\n');
      const t = new Date(now - ageMs);
      fs.utimesSync(path.join(d, file), t, t);
      fs.utimesSync(d, t, t);
      return d;
    };
    const fresh = make('u-fresh', 'in.csv', 60_000);
    const abandoned = make('u-abandoned', 'in.csv', ABANDONED_UPLOAD_MS + 60_000);
    const partial = make('u-partial', 'in.csv.part', 2 * 3_600_000);
    const uploading = make('u-uploading', 'in.csv.part', 60_000);
    const running = make('u-running', 'in.csv', 100 * 86_400_000);
    const recent = make('u-recent', 'in.csv', 100 * 86_400_000);
    const expired = make('u-expired', 'in.csv', 100 * 86_400_000);
    const lastUse = new Map([[running, Infinity], [recent, now - 86_400_000], [expired, now - 91 * 86_400_000]]);
    const removed = sweepUploads(dir, { lastUse }, 90 * 86_400_000, now);
    assert.deepEqual(removed.sort(), [abandoned, expired, partial].sort());
    for (const d of [fresh, uploading, running, recent]) assert.ok(fs.existsSync(d), d);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
