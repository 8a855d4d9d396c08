// Where a hub keeps its database: a SQLite file (the default, `hub.db` in the hub folder) or a
// PostgreSQL server given as a postgres:// URL. Parsed once, here, for `--db`, hub.json and tests.
import path from 'node:path';
import { OutpostError, type ErrorCode } from '../../common/errors.ts';

export type DbSpec =
  | { kind: 'sqlite'; file: string }
  | {
    kind: 'postgres';
    /** the URL as given (with its password, if any): what the driver connects with */
    url: string;
    /** the URL without its password: safe to print and to store in hub.json */
    redacted: string;
    /** host:port/database, for messages */
    where: string;
    hasPassword: boolean;
  };

const PG_SCHEME = /^postgres(?:ql)?:/i;
const ANY_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Parse a database setting. `baseDir` resolves a relative SQLite path; `code` is the error code for
 * a malformed value ('usage' for a command-line option, 'input' for a configuration file).
 */
export function parseDbSpec(value: string, baseDir: string, opts: { code?: ErrorCode; origin?: string; file?: string } = {}): DbSpec {
  const code = opts.code ?? 'usage';
  const origin = opts.origin ?? '--db';
  const bad = (why: string) => new OutpostError(code, `${origin}: ${why}`, opts.file ? { file: opts.file } : {});
  const v = value.trim();
  if (!v) throw bad('is empty; give a SQLite file path or a postgres://user@host:port/database URL');
  if (PG_SCHEME.test(v)) return parsePostgresUrl(v, bad);
  if (ANY_SCHEME.test(v)) throw bad(`unsupported database URL scheme "${v.slice(0, v.indexOf(':') + 1)}"; give a SQLite file path or a postgres:// URL`);
  if (v.includes('\0')) throw bad('a file path cannot contain NUL');
  return { kind: 'sqlite', file: path.resolve(baseDir, v) };
}

function parsePostgresUrl(v: string, bad: (why: string) => OutpostError): DbSpec {
  if (!/^postgres(?:ql)?:\/\//i.test(v)) throw bad('a PostgreSQL URL looks like postgres://user[:password]@host[:port]/database');
  let u: URL;
  try {
    u = new URL(v);
  } catch (e) {
    throw bad(`"${redactLoose(v)}" is not a valid PostgreSQL URL (${(e as Error).message}); expected postgres://user[:password]@host[:port]/database`);
  }
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw bad(`the ${what} in "${redactLoose(v)}" is not valid percent-encoding`);
    }
  };
  decode(u.username, 'user name');
  decode(u.password, 'password');
  const db = decode(u.pathname.replace(/^\//, ''), 'database name');
  if (db.includes('/')) throw bad(`"${db}" is not a database name (one path segment after the host)`);
  const host = u.hostname || u.searchParams.get('host') || process.env.PGHOST || 'localhost';
  const port = u.port || u.searchParams.get('port') || process.env.PGPORT || '5432';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw bad(`port "${port}" is not a port number`);
  const database = db || decode(u.username, 'user name') || process.env.PGDATABASE || '(default)';
  const hasPassword = u.password !== '';
  const r = new URL(v);
  r.password = '';
  return { kind: 'postgres', url: v, redacted: r.toString(), where: `${host}:${port}/${database}`, hasPassword };
}

/** Hide a password in a string that may not parse as a URL. */
function redactLoose(v: string): string {
  return v.replace(/^(postgres(?:ql)?:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

/** The database setting to print: a file path, or the URL without its password. */
export const describeDb = (spec: DbSpec): string => (spec.kind === 'sqlite' ? spec.file : spec.redacted);
