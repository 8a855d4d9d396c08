// The hub storages the hub test suites run against: SQLite (always) and PostgreSQL (a throw-away
// local cluster, see postgres.ts; skipped with a printed reason when no server binaries exist).
import { freshPostgresSchema, postgresSkipReason, prewarmPostgres } from './postgres.ts';

export interface HubBackend {
  name: 'sqlite' | 'postgres';
  /** why this backend's tests are skipped here, if they are */
  skip: string | undefined;
  /** the `db` setting for a new hub: undefined = the default SQLite file; a postgres:// URL of a fresh,
   *  empty schema (faster to make than a database; the multi-process test uses a whole database) */
  db(): Promise<string | undefined>;
}

/** The backends, PostgreSQL's server already starting in the background. */
export function hubBackends(): HubBackend[] {
  prewarmPostgres();
  return [
    { name: 'sqlite', skip: undefined, db: async () => undefined },
    { name: 'postgres', skip: postgresSkipReason(), db: () => freshPostgresSchema('hub') },
  ];
}
