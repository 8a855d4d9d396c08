// The hub storage contract (src/hub/node/storage.ts) on SQLite and PostgreSQL: writers serialised
// across connections (as several hub processes have), rollback, readers seeing only committed data,
// versioned schemas, clear errors for a database that cannot be used, and a database outage.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { OutpostError } from '../src/common/errors.ts';
import { parseDbSpec } from '../src/hub/node/db-spec.ts';
import { hubPaths } from '../src/hub/node/hub-dir.ts';
import { openPostgresStorage, POSTGRES_SCHEMA_VERSION } from '../src/hub/node/postgres-storage.ts';
import { commitRoles, initHub, openHub, openHubStorage } from '../src/hub/node/repository.ts';
import { startHubServer } from '../src/hub/node/server.ts';
import { openSqliteStorage, SQLITE_SCHEMA_VERSION } from '../src/hub/node/sqlite-storage.ts';
import { parseSnapshot, parseTimestamp } from '../src/hub/node/tuf-metadata.ts';
import { hubBackends } from './helpers/hub-backends.ts';
import { tmpDir } from './helpers/hub-fixtures.ts';
import { freshPostgresDatabase, stopPostgres } from './helpers/postgres.ts';

const work = tmpDir('outpost-hubstore-');
after(async () => { await stopPostgres(); fs.rmSync(work, { recursive: true, force: true }); });

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

for (const backend of hubBackends()) {
  describe(`hub storage on ${backend.name}`, { skip: backend.skip }, () => {
    /** a new hub folder on a fresh database; returns the folder and the db setting */
    const newHub = async () => {
      const dir = fs.mkdtempSync(path.join(work, `${backend.name}-`));
      const db = await backend.db();
      await initHub(dir, { config: db === undefined ? {} : { db } });
      return { dir, db: db ?? hubPaths(dir).db };
    };

    test('writers are serialised across connections: concurrent commits from two hubs give one linear history', async () => {
      const { dir } = await newHub();
      // two hubs on one database, each with its own connections, as two processes would have
      const hubs = [await openHub(dir), await openHub(dir)];
      try {
        const startSnap = (await hubs[0].storage.latestMetadata('snapshot'))!.version;
        const startTs = (await hubs[0].storage.latestMetadata('timestamp'))!.version;
        const perHub = 6;
        // Each transaction reads the latest version, yields (so that, without the lock, the other hub's
        // transaction would read the same latest version), then commits the next one.
        await Promise.all(hubs.flatMap((hub, i) => Array.from({ length: perHub }, (_, j) => hub.storage.transaction(async (tx) => {
          const prev = await tx.latestMetadata('probe');
          await sleep(2);
          const version = (prev?.version ?? 0) + 1;
          await commitRoles(hub, tx, [{ role: 'probe', version, body: JSON.stringify({ version, by: `${i}.${j}` }), createdAt: new Date().toISOString() }]);
        }))));
        const n = hubs.length * perHub;
        const s = hubs[1].storage;
        assert.equal((await s.latestMetadata('probe'))?.version, n, 'every commit saw the one before it');
        for (let v = 1; v <= n; v++) {
          assert.ok(await s.metadata('probe', v), `probe ${v}`);
          const snap = parseSnapshot((await s.metadata('snapshot', startSnap + v))!.body);
          assert.equal(snap.signed.meta['probe.json'].version, v, `snapshot ${startSnap + v} lists probe ${v}`);
          const ts = parseTimestamp((await s.metadata('timestamp', startTs + v))!.body);
          assert.equal(ts.signed.snapshotMeta.version, startSnap + v, `timestamp ${startTs + v} points at snapshot ${startSnap + v}`);
        }
        assert.equal((await s.latestMetadata('snapshot'))?.version, startSnap + n);
        assert.equal((await s.latestMetadata('timestamp'))?.version, startTs + n);
      } finally {
        for (const h of hubs) await h.close();
      }
    });

    test('a transaction that throws leaves nothing behind; readers see only committed writes', async () => {
      const { dir, db } = await newHub();
      const config = JSON.parse(fs.readFileSync(hubPaths(dir).config, 'utf8')) as Parameters<typeof openHubStorage>[1];
      const a = await openHubStorage(dir, config, db);
      const b = await openHubStorage(dir, config, db);
      try {
        await assert.rejects(a.transaction(async (tx) => {
          await tx.putSetting('k', 'lost');
          await tx.putBlob('a'.repeat(64), 1);
          throw new OutpostError('conflict', 'changed my mind');
        }), /changed my mind/);
        assert.equal(await b.setting('k'), undefined);
        assert.equal(await a.blob('a'.repeat(64)), undefined);

        let release!: () => void;
        const hold = new Promise<void>((resolve) => { release = resolve; });
        let written!: () => void;
        const wrote = new Promise<void>((resolve) => { written = resolve; });
        const tx = a.transaction(async (w) => {
          await w.putSetting('k', 'kept');
          assert.equal(await w.setting('k'), 'kept', 'a transaction sees its own writes');
          written();
          await hold;
        });
        await wrote;
        assert.equal(await a.setting('k'), undefined, 'not visible before commit (same storage)');
        assert.equal(await b.setting('k'), undefined, 'not visible before commit (other storage)');
        release();
        await tx;
        assert.equal(await b.setting('k'), 'kept');
        // bigger-than-32-bit numbers round-trip as numbers
        await b.transaction((w) => w.putBlob('b'.repeat(64), 5 * 1024 ** 3));
        assert.deepEqual(await a.blob('b'.repeat(64)), { length: 5 * 1024 ** 3 });
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('the schema is versioned: reopening migrates nothing, a database from a newer outpost is refused', async () => {
      const { dir, db } = await newHub();
      const config = JSON.parse(fs.readFileSync(hubPaths(dir).config, 'utf8')) as Parameters<typeof openHubStorage>[1];
      // several hubs starting at once on one database all open it
      const opened = await Promise.all([1, 2, 3].map(() => openHubStorage(dir, config, db)));
      for (const s of opened) assert.equal((await s.latestMetadata('root'))?.version, 1);
      await Promise.all(opened.map((s) => s.close()));
      if (backend.name === 'postgres') {
        const c = new pg.Client({ connectionString: db });
        await c.connect();
        assert.deepEqual((await c.query('SELECT version FROM hub_schema_version')).rows, [{ version: POSTGRES_SCHEMA_VERSION }]);
        await c.query('UPDATE hub_schema_version SET version = 99');
        await c.end();
        await assert.rejects(openPostgresStorage(db), (e: unknown) => e instanceof OutpostError && e.code === 'store' && /schema version 99, newer than this outpost knows/.test(e.message));
      } else {
        const raw = new Database(db);
        assert.equal(raw.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
        raw.pragma('user_version = 99');
        raw.close();
        assert.throws(() => openSqliteStorage(db), (e: unknown) => e instanceof OutpostError && e.code === 'store' && /schema version 99, newer than this outpost knows/.test(e.message));
      }
    });

    if (backend.name === 'postgres') {
      test('a PostgreSQL database that does not exist: refused with the server and the reason', async () => {
        const url = (await backend.db())!.replace(/\/[^/]+$/, '/no_such_db');
        const where = parseDbSpec(url, '.');
        assert.equal(where.kind, 'postgres');
        await assert.rejects(openPostgresStorage(url), (e: unknown) => e instanceof OutpostError && e.code === 'store'
          && e.message.includes(where.kind === 'postgres' ? where.where : '?') && /database "no_such_db" does not exist/.test(e.message));
      });

      test('PostgreSQL outage: the hub answers 503 without naming the server, survives dropped connections, recovers', async () => {
        const db = await freshPostgresDatabase('outpost_outage');
        const dir = fs.mkdtempSync(path.join(work, 'outage-'));
        await initHub(dir, { config: { db } });
        const told: unknown[] = [];
        const hub = await openHub(dir);
        const srv = await startHubServer(hub, { onError: (e) => told.push(e) });
        const name = new URL(db).pathname.slice(1);
        const admin = new pg.Client({ connectionString: db.replace(/\/[^/]+$/, '/postgres') });
        await admin.connect();
        try {
          assert.deepEqual(await (await fetch(`${srv.url}/healthz`)).json(), { ok: true, storage: 'postgres' });
          await Promise.all([1, 2, 3].map(() => fetch(`${srv.url}/metadata/timestamp.json`))); // idle connections in the pool
          // the database goes away: its connections are cut (idle ones too) and new ones refused
          await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
          await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
          for (const p of ['/healthz', '/metadata/timestamp.json', '/api/v1/models']) {
            const r = await fetch(`${srv.url}${p}`);
            assert.equal(r.status, 503, p);
            const body = await r.text();
            assert.match(body, /storage is unavailable/);
            assert.doesNotMatch(body, /127\.0\.0\.1|outpost_outage/, 'clients are not told where the database is');
          }
          assert.ok(told.some((e) => e instanceof OutpostError && e.message.includes(`PostgreSQL at 127.0.0.1:${new URL(db).port}/${name}`)), 'the operator is told which server failed');
          await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
          assert.equal((await fetch(`${srv.url}/healthz`)).status, 200, 'serves again without a restart');
          assert.equal((await fetch(`${srv.url}/metadata/timestamp.json`)).status, 200);
        } finally {
          await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
          await admin.end();
          await srv.close();
          await hub.close();
        }
      });

      test('a second hub init on a database that already holds a repository is refused before writing any file', async () => {
        const { db } = await newHub();
        const dir2 = path.join(work, 'second');
        fs.mkdirSync(dir2); // an existing, empty folder: init must leave it empty
        await assert.rejects(initHub(dir2, { config: { db } }), (e: unknown) => e instanceof OutpostError && e.code === 'conflict' && /already holds a repository/.test(e.message));
        assert.deepEqual(fs.readdirSync(dir2), [], 'no keys, token or hub.json left behind');
      });
    }
  });
}

test('PostgreSQL unreachable: a store error naming host:port and the reason', async () => {
  const port = await closedPort();
  await assert.rejects(openPostgresStorage(`postgres://outpost:secret@127.0.0.1:${port}/hub`, { connectTimeoutMs: 5000 }), (e: unknown) => {
    assert.ok(e instanceof OutpostError);
    assert.equal(e.code, 'store');
    assert.match(e.message, new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${port}/hub: .*ECONNREFUSED`));
    assert.doesNotMatch(e.message, /secret/, 'the password is never printed');
    return true;
  });
});

test('database settings: SQLite paths, postgres:// URLs, and malformed values refused as usage errors', () => {
  assert.deepEqual(parseDbSpec('hub.db', '/srv/hub'), { kind: 'sqlite', file: path.resolve('/srv/hub', 'hub.db') });
  const pgSpec = parseDbSpec('postgresql://hub:p%40ss@db.example:6432/outpost?sslmode=require', '.');
  assert.equal(pgSpec.kind, 'postgres');
  if (pgSpec.kind === 'postgres') {
    assert.equal(pgSpec.where, 'db.example:6432/outpost');
    assert.equal(pgSpec.hasPassword, true);
    assert.equal(pgSpec.redacted, 'postgresql://hub@db.example:6432/outpost?sslmode=require');
  }
  for (const [bad, why] of [
    ['', /empty/],
    ['mysql://h/db', /unsupported database URL scheme "mysql:"/],
    ['postgres:hub', /looks like postgres:\/\//],
    ['postgres://u:secret@h:99999/db', /not a valid PostgreSQL URL/],
    ['postgres://u:se%zzcret@h/db', /password .* not valid percent-encoding/],
    ['postgres://h/a/b', /not a database name/],
  ] as const) {
    assert.throws(() => parseDbSpec(bad, '.'), (e: unknown) => {
      assert.ok(e instanceof OutpostError, String(e));
      assert.equal(e.code, 'usage');
      assert.equal(e.exitCode, 2);
      assert.match(e.message, why);
      assert.doesNotMatch(e.message, /secret/);
      return true;
    }, bad);
  }
});

test('the SQLite hub database is owner-only (0600), its WAL and SHM files too; one an earlier version made 0644 is fixed when opened', { skip: process.platform === 'win32' ? 'POSIX modes only' : false }, async () => {
  const file = path.join(work, 'modes', 'hub.db');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const modes = () => Object.fromEntries([file, `${file}-wal`, `${file}-shm`].filter((f) => fs.existsSync(f)).map((f) => [path.basename(f), (fs.statSync(f).mode & 0o777).toString(8)]));
  const s = openSqliteStorage(file);
  try {
    assert.deepEqual(modes(), { 'hub.db': '600', 'hub.db-wal': '600', 'hub.db-shm': '600' });
  } finally {
    await s.close();
  }
  fs.chmodSync(file, 0o644);
  const again = openSqliteStorage(file);
  try {
    assert.equal(modes()['hub.db'], '600');
  } finally {
    await again.close();
  }
});
