// A throw-away PostgreSQL cluster for tests: started lazily once per test process (each test file
// is its own process under `node --test`), a fresh database or schema per caller, stopped and deleted in
// stopPostgres() (call it from the file's top-level `after`) or at process exit.
//
// Uses the real server binaries (Debian's `postgresql` package: /usr/lib/postgresql/<v>/bin, or
// initdb/pg_ctl on PATH). When none are installed, postgresSkipReason() says so and the PostgreSQL
// variants of the tests skip with that reason instead of failing. OUTPOST_TEST_PG_URL=postgres://…
// points the tests at an existing server instead (the user must be allowed to CREATE DATABASE);
// OUTPOST_TEST_NO_POSTGRES=1 skips them.
// initdb refuses to run as root, so as root the cluster runs as the `postgres` system user.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

interface Binaries { initdb: string; pgCtl: string }

function findBinaries(): Binaries | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean)];
  try {
    const versions = fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch { /* not Debian-style */ }
  for (const d of dirs) {
    const initdb = path.join(d, 'initdb');
    const pgCtl = path.join(d, 'pg_ctl');
    if (fs.existsSync(initdb) && fs.existsSync(pgCtl)) return { initdb, pgCtl };
  }
  return undefined;
}

const isRoot = () => process.getuid?.() === 0;

function postgresUserExists(): boolean {
  return spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status === 0;
}

let skipReason: string | undefined | null = null;

/** Why the PostgreSQL tests cannot run here (printed once), or undefined when they can. */
export function postgresSkipReason(): string | undefined {
  if (skipReason !== null) return skipReason;
  if (process.env.OUTPOST_TEST_NO_POSTGRES) skipReason = 'OUTPOST_TEST_NO_POSTGRES is set';
  else if (process.env.OUTPOST_TEST_PG_URL) skipReason = undefined;
  else if (!findBinaries()) skipReason = 'PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin; install Debian\'s `postgresql` package (or set OUTPOST_TEST_PG_URL) to run the PostgreSQL hub tests';
  else if (isRoot() && !postgresUserExists()) skipReason = 'running as root but there is no `postgres` system user to run the throw-away PostgreSQL cluster as (initdb refuses root)';
  else skipReason = undefined;
  if (skipReason) console.log(`# skipping PostgreSQL tests: ${skipReason}`);
  return skipReason;
}

export interface PgServer {
  /** base URL without a database, e.g. postgres://outpost@127.0.0.1:5433 */
  base: string;
  /** a new, empty database; returns its URL */
  createDatabase(prefix?: string): Promise<string>;
  /** a new, empty schema in the server's scratch database; returns a URL whose search_path is that
   *  schema (CREATE DATABASE takes a few hundred ms, CREATE SCHEMA a few) */
  createSchema(prefix?: string): Promise<string>;
}

let started: Promise<PgServer> | undefined;
let cleanup: (() => void) | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const uniqueName = (prefix: string) => `${prefix}_${crypto.randomBytes(5).toString('hex')}`;

async function sql(url: string, statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

function server(base: string, adminDb: string): PgServer {
  let scratch: Promise<string> | undefined;
  const createDatabase = async (prefix = 'outpost_test') => {
    const name = uniqueName(prefix);
    await sql(`${base}/${adminDb}`, `CREATE DATABASE ${name}`);
    return `${base}/${name}`;
  };
  return {
    base,
    createDatabase,
    async createSchema(prefix = 'outpost_test') {
      scratch ??= createDatabase('outpost_scratch');
      const db = await scratch;
      const name = uniqueName(prefix);
      await sql(db, `CREATE SCHEMA ${name}`);
      return `${db}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
    },
  };
}

async function startCluster(): Promise<PgServer> {
  const external = process.env.OUTPOST_TEST_PG_URL;
  if (external) {
    const u = new URL(external);
    const adminDb = u.pathname.replace(/^\//, '') || 'postgres';
    u.pathname = '';
    const base = u.toString().replace(/\/$/, '');
    return server(base, adminDb);
  }
  const bins = findBinaries();
  if (!bins) throw new Error('no PostgreSQL binaries (check postgresSkipReason() first)');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-pg-'));
  const asPg = isRoot();
  if (asPg) fs.chownSync(root, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const run = (cmd: string, args: string[]) => {
    const r = asPg ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
    return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
  };
  const data = path.join(root, 'data');
  const stop = () => {
    run(bins.pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
    fs.rmSync(root, { recursive: true, force: true });
  };
  const init = run(bins.initdb, ['-D', data, '-A', 'trust', '-U', 'outpost', '-E', 'UTF8', '--locale=C', '--no-sync']);
  if (!init.ok) { fs.rmSync(root, { recursive: true, force: true }); throw new Error(`initdb failed:\n${init.out}`); }
  // The free port can be taken by someone else before the server binds it: try a few.
  let port = 0;
  let lastErr = '';
  for (let attempt = 0; attempt < 3 && !port; attempt++) {
    const p = await freePort();
    const opts = `-p ${p} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=60`;
    const r = run(bins.pgCtl, ['-D', data, '-o', opts, '-l', path.join(root, 'server.log'), '-w', '-t', '30', 'start']);
    if (r.ok) port = p;
    else lastErr = `${r.out}\n${fs.existsSync(path.join(root, 'server.log')) ? fs.readFileSync(path.join(root, 'server.log'), 'utf8') : ''}`;
  }
  if (!port) { stop(); throw new Error(`PostgreSQL did not start:\n${lastErr}`); }
  cleanup = stop;
  process.once('exit', () => cleanup?.());
  const base = `postgres://outpost@127.0.0.1:${port}`;
  return server(base, 'postgres');
}

/** The process's test server, started on first use. */
export function sharedPostgres(): Promise<PgServer> {
  started ??= startCluster();
  return started;
}

/** Start the server in the background now (when PostgreSQL is available), so it boots while other tests run. */
export function prewarmPostgres(): void {
  if (postgresSkipReason() === undefined) sharedPostgres().catch(() => undefined); // a failure surfaces at the first real use
}

/** A fresh database on the process's test server; returns its URL. */
export async function freshPostgresDatabase(prefix?: string): Promise<string> {
  return (await sharedPostgres()).createDatabase(prefix);
}

/** A fresh schema on the process's test server; returns a URL that works in it. */
export async function freshPostgresSchema(prefix?: string): Promise<string> {
  return (await sharedPostgres()).createSchema(prefix);
}

/** Stop and delete the throw-away cluster (no-op if none was started). */
export async function stopPostgres(): Promise<void> {
  await started?.catch(() => undefined);
  const c = cleanup;
  cleanup = undefined;
  started = undefined;
  c?.();
}
