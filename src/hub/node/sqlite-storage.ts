// HubStorage on SQLite (better-sqlite3, WAL). Two connections: readers never see a publish half
// done, and the writer runs one transaction at a time (BEGIN IMMEDIATE also serialises other
// processes on the same file). Schema versioned with PRAGMA user_version.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { OutpostError } from '../../common/errors.ts';
import { precreateOwnerOnly } from '../../store/node/permissions.ts';
import { fleetSchema, rolloutSchema, proposalsSchema, labelsSchema, fleetRollupsSchema, rolloutSeqSchema, enrollmentCancelSchema, type SqlRunner } from './fleet-schema.ts';
import type { AliasRow, HubReader, HubStorage, HubWriter, MetadataRow, ModelVersionRow, PublisherRow, UploadRow } from './storage.ts';

/** Schema migrations, in order; PRAGMA user_version records how many have run. The first one uses
 *  IF NOT EXISTS so hub databases made before the schema was versioned are adopted as they are. */
const MIGRATIONS = [`
  CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS metadata (role TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (role, version));
  CREATE TABLE IF NOT EXISTS publishers (name TEXT PRIMARY KEY, key_ids TEXT NOT NULL, threshold INTEGER NOT NULL, models_glob TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS model_versions (name TEXT NOT NULL, version INTEGER NOT NULL, publisher TEXT NOT NULL, signed_by TEXT NOT NULL, signed_at TEXT NOT NULL,
    model_sha256 TEXT NOT NULL, card_sha256 TEXT NOT NULL, size_bytes INTEGER NOT NULL, published_at TEXT NOT NULL, PRIMARY KEY (name, version));
  CREATE TABLE IF NOT EXISTS aliases (name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, publisher TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (name, alias));
  CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, length INTEGER NOT NULL);
`, `
  CREATE TABLE uploads (id TEXT PRIMARY KEY, publisher TEXT NOT NULL, metadata TEXT NOT NULL, needed TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
  CREATE INDEX uploads_by_expiry ON uploads (expires_at);
`, fleetSchema('sqlite'), rolloutSchema('sqlite'), proposalsSchema('sqlite'), labelsSchema(), fleetRollupsSchema(), rolloutSeqSchema(), enrollmentCancelSchema()];
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;
/** How long a writer waits for another connection's write transaction before giving up. */
const WRITE_LOCK_WAIT_MS = 10_000;

function migrate(db: Database.Database): void {
  db.exec('BEGIN IMMEDIATE'); // another process opening the same file waits (busy_timeout)
  try {
    const have = db.pragma('user_version', { simple: true }) as number;
    if (have > MIGRATIONS.length) throw new Error(`it has schema version ${have}, newer than this outpost knows (${MIGRATIONS.length}); upgrade outpost`);
    for (let v = have; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

interface PubRow { name: string; key_ids: string; threshold: number; models_glob: string; token_hash: string; created_at: string }
interface MvRow { name: string; version: number; publisher: string; signed_by: string; signed_at: string; model_sha256: string; card_sha256: string; size_bytes: number; published_at: string }

const toPublisher = (r: PubRow): PublisherRow => ({ name: r.name, keyIds: JSON.parse(r.key_ids) as string[], threshold: r.threshold, modelsGlob: r.models_glob, tokenHash: r.token_hash, createdAt: r.created_at });
const toVersion = (r: MvRow): ModelVersionRow => ({ name: r.name, version: r.version, publisher: r.publisher, signedBy: JSON.parse(r.signed_by) as string[], signedAt: r.signed_at, modelSha256: r.model_sha256, cardSha256: r.card_sha256, sizeBytes: r.size_bytes, publishedAt: r.published_at });

function reader(db: Database.Database): HubReader {
  return {
    latestMetadata: async (role) => {
      const r = db.prepare('SELECT role, version, body, created_at AS createdAt FROM metadata WHERE role = ? ORDER BY version DESC LIMIT 1').get(role) as MetadataRow | undefined;
      return r;
    },
    metadata: async (role, version) => db.prepare('SELECT role, version, body, created_at AS createdAt FROM metadata WHERE role = ? AND version = ?').get(role, version) as MetadataRow | undefined,
    setting: async (key) => (db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value,
    publisher: async (name) => { const r = db.prepare('SELECT * FROM publishers WHERE name = ?').get(name) as PubRow | undefined; return r && toPublisher(r); },
    publisherByTokenHash: async (hash) => { const r = db.prepare('SELECT * FROM publishers WHERE token_hash = ?').get(hash) as PubRow | undefined; return r && toPublisher(r); },
    publishers: async () => (db.prepare('SELECT * FROM publishers ORDER BY name').all() as PubRow[]).map(toPublisher),
    modelVersions: async (name) => (name === undefined
      ? db.prepare('SELECT * FROM model_versions ORDER BY name, version').all()
      : db.prepare('SELECT * FROM model_versions WHERE name = ? ORDER BY version').all(name) as MvRow[]).map((r) => toVersion(r as MvRow)),
    aliases: async (name) => (name === undefined
      ? db.prepare('SELECT name, alias, version, publisher, updated_at AS updatedAt FROM aliases ORDER BY name, alias').all()
      : db.prepare('SELECT name, alias, version, publisher, updated_at AS updatedAt FROM aliases WHERE name = ? ORDER BY alias').all(name)) as AliasRow[],
    latestVersion: async (name) => (db.prepare('SELECT max(version) AS v FROM model_versions WHERE name = ?').get(name) as { v: number | null }).v ?? undefined,
    blob: async (sha) => db.prepare('SELECT length FROM blobs WHERE sha256 = ?').get(sha) as { length: number } | undefined,
    upload: async (id) => {
      const r = db.prepare('SELECT id, publisher, metadata, needed, created_at AS createdAt, expires_at AS expiresAt FROM uploads WHERE id = ?').get(id) as (Omit<UploadRow, 'needed'> & { needed: string }) | undefined;
      return r && { ...r, needed: JSON.parse(r.needed) as Record<string, number> };
    },
    expiredUploads: async (at) => (db.prepare('SELECT id FROM uploads WHERE expires_at < ?').all(at) as { id: string }[]).map((r) => r.id),
  };
}

function runner(db: Database.Database): SqlRunner {
  return {
    all: async <R>(sql: string, params: readonly unknown[] = []) => db.prepare(sql).all(...params) as R[],
    run: async (sql, params = []) => db.prepare(sql).run(...params).changes,
  };
}

/**
 * The hub database holds the fleet's synced predictions, device records and token hashes: owner-only
 * (0600) like a workstation's store, its WAL and SHM files too (SQLite gives them the database's
 * mode). A database an earlier version made 0644 is fixed when opened.
 */
function ownerOnly(file: string): void {
  precreateOwnerOnly(file);
  if (process.platform === 'win32') return;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    const st = fs.statSync(f, { throwIfNoEntry: false });
    if (st?.isFile() && (st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) fs.chmodSync(f, st.mode & 0o700);
  }
}

function open(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  return db;
}

/** `create: false`: a file that is not there is refused, not made (default: made, as `hub init` does). */
export function openSqliteStorage(file: string, opts: { create?: boolean } = {}): HubStorage {
  if (opts.create === false && !fs.existsSync(file)) {
    throw new OutpostError('not-found', `there is no hub database at ${file}: check --db (or "db" in hub.json); \`outpost hub init\` creates a hub and its database`, { file });
  }
  let w: Database.Database | undefined;
  let r: Database.Database;
  try {
    ownerOnly(file); // once, before either connection makes the WAL and SHM files
    w = open(file);
    migrate(w);
    r = open(file);
  } catch (e) {
    w?.close();
    throw new OutpostError('store', `cannot open the hub database: ${(e as Error).message}`, { file });
  }
  const writerReads = reader(w);
  const writer: HubWriter = {
    ...writerReads,
    putMetadata: async (m) => { w.prepare('INSERT INTO metadata (role, version, body, created_at) VALUES (?, ?, ?, ?)').run(m.role, m.version, m.body, m.createdAt); },
    putSetting: async (k, v) => { w.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(k, v); },
    putPublisher: async (p) => {
      w.prepare(`INSERT INTO publishers (name, key_ids, threshold, models_glob, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET key_ids = excluded.key_ids, threshold = excluded.threshold, models_glob = excluded.models_glob, token_hash = excluded.token_hash`)
        .run(p.name, JSON.stringify(p.keyIds), p.threshold, p.modelsGlob, p.tokenHash, p.createdAt);
    },
    deletePublisher: async (name) => { w.prepare('DELETE FROM publishers WHERE name = ?').run(name); },
    putModelVersion: async (v) => {
      w.prepare('INSERT INTO model_versions (name, version, publisher, signed_by, signed_at, model_sha256, card_sha256, size_bytes, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(v.name, v.version, v.publisher, JSON.stringify(v.signedBy), v.signedAt, v.modelSha256, v.cardSha256, v.sizeBytes, v.publishedAt);
    },
    putAlias: async (a) => {
      w.prepare('INSERT INTO aliases (name, alias, version, publisher, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, publisher = excluded.publisher, updated_at = excluded.updated_at')
        .run(a.name, a.alias, a.version, a.publisher, a.updatedAt);
    },
    putBlob: async (sha, length) => { w.prepare('INSERT INTO blobs (sha256, length) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING').run(sha, length); },
    putUpload: async (u) => { w.prepare('INSERT INTO uploads (id, publisher, metadata, needed, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)').run(u.id, u.publisher, u.metadata, JSON.stringify(u.needed), u.createdAt, u.expiresAt); },
    touchUpload: async (id, at) => { w.prepare('UPDATE uploads SET expires_at = ? WHERE id = ?').run(at, id); },
    deleteUpload: async (id) => { w.prepare('DELETE FROM uploads WHERE id = ?').run(id); },
  };
  // One writer at a time within this process; BEGIN IMMEDIATE handles other processes (and other
  // connections of this one). Waiting for their lock is asynchronous: better-sqlite3's busy
  // timeout would block the event loop, so the hub could neither serve reads meanwhile nor, when
  // the lock holder is in this very process, ever let it finish.
  w.pragma('busy_timeout = 0');
  const begin = async (): Promise<void> => {
    const deadline = Date.now() + WRITE_LOCK_WAIT_MS;
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      try {
        w.exec('BEGIN IMMEDIATE');
        return;
      } catch (e) {
        if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
        if (Date.now() >= deadline) throw new OutpostError('store', `the hub database stayed locked by another writer for ${WRITE_LOCK_WAIT_MS / 1000} s`, { file });
      }
      await new Promise<void>((resolve) => setTimeout(resolve, pause));
    }
  };
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = async (): Promise<T> => {
      await begin();
      try {
        const out = await fn();
        w.exec('COMMIT');
        return out;
      } catch (e) {
        if (w.inTransaction) w.exec('ROLLBACK');
        throw e;
      }
    };
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };
  const fleetWriter = runner(w);
  return {
    kind: 'sqlite',
    location: file,
    ...reader(r),
    transaction: <T>(fn: (tx: HubWriter) => Promise<T>): Promise<T> => exclusive(() => fn(writer)),
    fleet: runner(r),
    // SQLite has one writer per file: every fleet write is serialised like the repository's
    fleetTransaction: <T>(_device: string | undefined, fn: (sql: SqlRunner) => Promise<T>): Promise<T> => exclusive(() => fn(fleetWriter)),
    close: async () => { await queue.catch(() => undefined); r.close(); w.close(); },
  };
}
