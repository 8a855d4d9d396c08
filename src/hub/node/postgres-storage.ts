// HubStorage on PostgreSQL (node-postgres Pool), for several hub processes behind a load balancer.
// Same contract as the SQLite storage (storage.ts): every write runs in `transaction`, and
// transactions are serialised across ALL processes on the database by a row lock taken first thing
// (`SELECT … FROM hub_lock … FOR UPDATE`, the equivalent of SQLite's BEGIN IMMEDIATE). Inside it,
// READ COMMITTED statements see every earlier commit, so "latest snapshot + 1" is computed on top of
// the true latest and snapshot/timestamp/role versions stay linear; the (role, version) primary key
// would refuse a fork even if the lock were bypassed. Readers never wait for the lock and only see
// committed publishes.
//
// Only the database is shared through PostgreSQL: blobs and the online keys stay in the hub folder,
// so every hub process on one database must be given the same hub folder (a shared filesystem when
// the processes run on several machines).
import pg, { Pool, type PoolClient } from 'pg';
import { OutpostError } from '../../common/errors.ts';
import { parseDbSpec } from './db-spec.ts';
import { fleetSchema, rolloutSchema, proposalsSchema, labelsSchema, fleetRollupsSchema, rolloutSeqSchema, enrollmentCancelSchema, type SqlRunner } from './fleet-schema.ts';
import type { AliasRow, HubReader, HubStorage, HubWriter, MetadataRow, ModelVersionRow, PublisherRow } from './storage.ts';

/** Schema migrations, in order; the database records how many have run (hub_schema_version). */
const MIGRATIONS: string[] = [
  `CREATE TABLE hub_lock (id integer PRIMARY KEY);
   INSERT INTO hub_lock (id) VALUES (1);
   CREATE TABLE hub_settings (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
   CREATE TABLE hub_metadata (role text COLLATE "C" NOT NULL, version bigint NOT NULL, body text NOT NULL, created_at text NOT NULL, PRIMARY KEY (role, version));
   CREATE TABLE hub_publishers (name text COLLATE "C" PRIMARY KEY, key_ids jsonb NOT NULL, threshold integer NOT NULL, models_glob text NOT NULL, token_hash text NOT NULL UNIQUE, created_at text NOT NULL);
   CREATE TABLE hub_model_versions (name text COLLATE "C" NOT NULL, version bigint NOT NULL, publisher text NOT NULL, signed_by jsonb NOT NULL, signed_at text NOT NULL,
     model_sha256 text NOT NULL, card_sha256 text NOT NULL, size_bytes bigint NOT NULL, published_at text NOT NULL, PRIMARY KEY (name, version));
   CREATE TABLE hub_aliases (name text COLLATE "C" NOT NULL, alias text COLLATE "C" NOT NULL, version bigint NOT NULL, publisher text NOT NULL, updated_at text NOT NULL, PRIMARY KEY (name, alias));
   CREATE TABLE hub_blobs (sha256 text PRIMARY KEY, length bigint NOT NULL);`,
  `CREATE TABLE hub_uploads (id text COLLATE "C" PRIMARY KEY, publisher text NOT NULL, metadata text NOT NULL, needed jsonb NOT NULL, created_at text NOT NULL, expires_at text COLLATE "C" NOT NULL);
   CREATE INDEX hub_uploads_by_expiry ON hub_uploads (expires_at);`,
  fleetSchema('postgres'),
  rolloutSchema('postgres'),
  proposalsSchema('postgres'),
  labelsSchema(),
  fleetRollupsSchema(),
  rolloutSeqSchema(),
  enrollmentCancelSchema(),
];

// The fleet tables' integers are counts and epoch milliseconds, well inside 2^53: read bigint as a number.
const fleetTypes = { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')) };
/** `?` placeholders (the fleet SQL is written once for both backends) → `$1, $2, …`. */
const numbered = (sql: string): string => { let i = 0; return sql.replace(/\?/g, () => `$${++i}`); };
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/** Serialises schema migrations of concurrently starting hub processes (per database). */
const MIGRATION_LOCK = 0x6f75_7470_6f73; // "outpos"
/** A writer waiting longer than this for another process's transaction fails instead of hanging. */
const LOCK_TIMEOUT = '30s';

type Run = <R>(sql: string, params?: unknown[]) => Promise<R[]>;

interface PubRow { name: string; key_ids: string[]; threshold: number; models_glob: string; token_hash: string; created_at: string }
interface MvRow { name: string; version: string; publisher: string; signed_by: string[]; signed_at: string; model_sha256: string; card_sha256: string; size_bytes: string; published_at: string }
interface MdRow { role: string; version: string; body: string; created_at: string }
interface AlRow { name: string; alias: string; version: string; publisher: string; updated_at: string }

// bigint columns come back as strings (node-postgres does not guess at precision)
const toMetadata = (r: MdRow): MetadataRow => ({ role: r.role, version: Number(r.version), body: r.body, createdAt: r.created_at });
const toPublisher = (r: PubRow): PublisherRow => ({ name: r.name, keyIds: r.key_ids, threshold: r.threshold, modelsGlob: r.models_glob, tokenHash: r.token_hash, createdAt: r.created_at });
const toVersion = (r: MvRow): ModelVersionRow => ({
  name: r.name, version: Number(r.version), publisher: r.publisher, signedBy: r.signed_by, signedAt: r.signed_at,
  modelSha256: r.model_sha256, cardSha256: r.card_sha256, sizeBytes: Number(r.size_bytes), publishedAt: r.published_at,
});
const toAlias = (r: AlRow): AliasRow => ({ name: r.name, alias: r.alias, version: Number(r.version), publisher: r.publisher, updatedAt: r.updated_at });

function reader(run: Run): HubReader {
  const one = async <R>(sql: string, params: unknown[]): Promise<R | undefined> => (await run<R>(sql, params))[0];
  return {
    latestMetadata: async (role) => {
      const r = await one<MdRow>('SELECT role, version, body, created_at FROM hub_metadata WHERE role = $1 ORDER BY version DESC LIMIT 1', [role]);
      return r && toMetadata(r);
    },
    metadata: async (role, version) => {
      const r = await one<MdRow>('SELECT role, version, body, created_at FROM hub_metadata WHERE role = $1 AND version = $2', [role, version]);
      return r && toMetadata(r);
    },
    setting: async (key) => (await one<{ value: string }>('SELECT value FROM hub_settings WHERE key = $1', [key]))?.value,
    publisher: async (name) => { const r = await one<PubRow>('SELECT * FROM hub_publishers WHERE name = $1', [name]); return r && toPublisher(r); },
    publisherByTokenHash: async (hash) => { const r = await one<PubRow>('SELECT * FROM hub_publishers WHERE token_hash = $1', [hash]); return r && toPublisher(r); },
    publishers: async () => (await run<PubRow>('SELECT * FROM hub_publishers ORDER BY name')).map(toPublisher),
    modelVersions: async (name) => (name === undefined
      ? await run<MvRow>('SELECT * FROM hub_model_versions ORDER BY name, version')
      : await run<MvRow>('SELECT * FROM hub_model_versions WHERE name = $1 ORDER BY version', [name])).map(toVersion),
    aliases: async (name) => (name === undefined
      ? await run<AlRow>('SELECT * FROM hub_aliases ORDER BY name, alias')
      : await run<AlRow>('SELECT * FROM hub_aliases WHERE name = $1 ORDER BY alias', [name])).map(toAlias),
    latestVersion: async (name) => {
      const v = (await one<{ v: string | null }>('SELECT max(version) AS v FROM hub_model_versions WHERE name = $1', [name]))?.v;
      return v === null || v === undefined ? undefined : Number(v);
    },
    upload: async (id) => {
      const r = await one<{ id: string; publisher: string; metadata: string; needed: Record<string, number>; created_at: string; expires_at: string }>('SELECT * FROM hub_uploads WHERE id = $1', [id]);
      return r && { id: r.id, publisher: r.publisher, metadata: r.metadata, needed: r.needed, createdAt: r.created_at, expiresAt: r.expires_at };
    },
    expiredUploads: async (at) => (await run<{ id: string }>('SELECT id FROM hub_uploads WHERE expires_at < $1', [at])).map((r) => r.id),
    blob: async (sha) => { const r = await one<{ length: string }>('SELECT length FROM hub_blobs WHERE sha256 = $1', [sha]); return r && { length: Number(r.length) }; },
  };
}

function writer(run: Run): HubWriter {
  return {
    ...reader(run),
    putMetadata: async (m) => { await run('INSERT INTO hub_metadata (role, version, body, created_at) VALUES ($1, $2, $3, $4)', [m.role, m.version, m.body, m.createdAt]); },
    putSetting: async (k, v) => { await run('INSERT INTO hub_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [k, v]); },
    putPublisher: async (p) => {
      await run(`INSERT INTO hub_publishers (name, key_ids, threshold, models_glob, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (name) DO UPDATE SET key_ids = excluded.key_ids, threshold = excluded.threshold, models_glob = excluded.models_glob, token_hash = excluded.token_hash`,
      [p.name, JSON.stringify(p.keyIds), p.threshold, p.modelsGlob, p.tokenHash, p.createdAt]);
    },
    putUpload: async (u) => { await run('INSERT INTO hub_uploads (id, publisher, metadata, needed, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [u.id, u.publisher, u.metadata, JSON.stringify(u.needed), u.createdAt, u.expiresAt]); },
    touchUpload: async (id, at) => { await run('UPDATE hub_uploads SET expires_at = $2 WHERE id = $1', [id, at]); },
    deleteUpload: async (id) => { await run('DELETE FROM hub_uploads WHERE id = $1', [id]); },
    deletePublisher: async (name) => { await run('DELETE FROM hub_publishers WHERE name = $1', [name]); },
    putModelVersion: async (v) => {
      await run(`INSERT INTO hub_model_versions (name, version, publisher, signed_by, signed_at, model_sha256, card_sha256, size_bytes, published_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [v.name, v.version, v.publisher, JSON.stringify(v.signedBy), v.signedAt, v.modelSha256, v.cardSha256, v.sizeBytes, v.publishedAt]);
    },
    putAlias: async (a) => {
      await run(`INSERT INTO hub_aliases (name, alias, version, publisher, updated_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, publisher = excluded.publisher, updated_at = excluded.updated_at`,
      [a.name, a.alias, a.version, a.publisher, a.updatedAt]);
    },
    putBlob: async (sha, length) => { await run('INSERT INTO hub_blobs (sha256, length) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING', [sha, length]); },
  };
}

/** The reason a driver error gives (connection errors can be AggregateErrors with an empty message). */
function reasonOf(e: unknown): string {
  const err = e as { message?: string; code?: string; errors?: { message?: string }[] };
  const inner = err.errors?.map((x) => x.message).filter(Boolean).join('; ');
  return err.message || inner || err.code || String(e);
}

export interface PostgresStorageOptions {
  /** most connections this process opens (default 10) */
  poolSize?: number;
  /** how long to wait for a connection (default 10 s) */
  connectTimeoutMs?: number;
}

/** Connect, create or migrate the schema, and return the storage. Refuses clearly when PostgreSQL cannot be reached. */
export async function openPostgresStorage(url: string, opts: PostgresStorageOptions = {}): Promise<HubStorage> {
  const spec = parseDbSpec(url, '.', { code: 'input', origin: 'hub database' });
  if (spec.kind !== 'postgres') throw new OutpostError('input', `hub database: "${url}" is not a postgres:// URL`);
  const where = spec.where;
  const pool = new Pool({ connectionString: spec.url, max: opts.poolSize ?? 10, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000, application_name: 'outpost-hub' });
  // An idle connection dropped by the server (restart, failover) must not crash the hub: the pool
  // discards it and the next query opens a new one.
  pool.on('error', () => undefined);
  const fail = (e: unknown, doing: string) => {
    if (e instanceof OutpostError) return e;
    const sqlstate = (e as { code?: string }).code;
    return new OutpostError('store', `PostgreSQL at ${where}: ${doing} failed: ${reasonOf(e)}`, {}, sqlstate ? { sqlstate } : {});
  };
  const on = (c: Pool | PoolClient, doing: string): Run => async <R>(sql: string, params?: unknown[]) => {
    try {
      return (await c.query(sql, params)).rows as R[];
    } catch (e) {
      throw fail(e, doing);
    }
  };

  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new OutpostError('store', `cannot connect to the hub database on PostgreSQL at ${where}: ${reasonOf(e)}`);
  }
  try {
    await migrate(on(client, 'creating the hub schema'));
    client.release();
  } catch (e) {
    client.release(true);
    await pool.end().catch(() => undefined);
    throw e;
  }

  const read = reader(on(pool, 'a read'));
  const fleetOn = (c: Pool | PoolClient, doing: string): SqlRunner => ({
    all: async <R>(sql: string, params: readonly unknown[] = []) => {
      try { return (await c.query({ text: numbered(sql), values: params as unknown[], types: fleetTypes as never })).rows as R[]; } catch (e) { throw fail(e, doing); }
    },
    run: async (sql, params = []) => {
      try { return (await c.query({ text: numbered(sql), values: params as unknown[], types: fleetTypes as never })).rowCount ?? 0; } catch (e) { throw fail(e, doing); }
    },
    lock: async (key: string) => {
      try { await c.query({ text: 'SELECT pg_advisory_xact_lock(hashtext($1))', values: [key] }); } catch (e) { throw fail(e, doing); }
    },
  });
  // One writer at a time within this process (a single connection waits on the lock, not the
  // whole pool); the row lock orders writers of different processes.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    kind: 'postgres',
    location: spec.redacted,
    ...read,
    transaction<T>(fn: (tx: HubWriter) => Promise<T>): Promise<T> {
      const run = async (): Promise<T> => {
        let c: PoolClient;
        try {
          c = await pool.connect();
        } catch (e) {
          throw fail(e, 'connecting');
        }
        let broken: Error | undefined;
        const q = on(c, 'a write');
        try {
          await q('BEGIN');
          await q(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
          await q('SELECT id FROM hub_lock WHERE id = 1 FOR UPDATE');
          const out = await fn(writer(q));
          await q('COMMIT');
          return out;
        } catch (e) {
          try { await c.query('ROLLBACK'); } catch (re) { broken = re as Error; }
          throw e;
        } finally {
          c.release(broken);
        }
      };
      const next = queue.then(run, run);
      queue = next.catch(() => undefined);
      return next;
    },
    fleet: fleetOn(pool, 'a read'),
    async fleetTransaction<T>(device: string | undefined, fn: (sql: SqlRunner) => Promise<T>): Promise<T> {
      let c: PoolClient;
      try {
        c = await pool.connect();
      } catch (e) {
        throw fail(e, 'connecting');
      }
      let broken: Error | undefined;
      const q = fleetOn(c, 'a write');
      try {
        await q.run('BEGIN');
        await q.run(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        if (device !== undefined) await q.all('SELECT id FROM fleet_devices WHERE id = ? FOR UPDATE', [device]);
        const out = await fn(q);
        await q.run('COMMIT');
        return out;
      } catch (e) {
        try { await c.query('ROLLBACK'); } catch (re) { broken = re as Error; }
        throw e;
      } finally {
        c.release(broken);
      }
    },
    close: async () => { await queue.catch(() => undefined); await pool.end(); },
  };
}

async function migrate(q: Run): Promise<void> {
  await q('BEGIN');
  try {
    await q('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await q('CREATE TABLE IF NOT EXISTS hub_schema_version (version integer NOT NULL)');
    const rows = await q<{ version: number }>('SELECT version FROM hub_schema_version');
    if (!rows.length) await q('INSERT INTO hub_schema_version (version) VALUES (0)');
    const have = rows[0]?.version ?? 0;
    if (have > MIGRATIONS.length) {
      throw new OutpostError('store', `the hub database has schema version ${have}, newer than this outpost knows (${MIGRATIONS.length}); upgrade outpost on every hub process`);
    }
    for (let v = have; v < MIGRATIONS.length; v++) {
      await q(MIGRATIONS[v]);
      await q('UPDATE hub_schema_version SET version = $1', [v + 1]);
    }
    await q('COMMIT');
  } catch (e) {
    await q('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
