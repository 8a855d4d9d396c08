// Prepared statements compiled once per connection: checkpoints run the same few statements
// every few hundred thousand rows.
import type Database from 'better-sqlite3';
import type { Store } from '../../store/node/store.ts';

const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

export function stmt(store: Store, sql: string): Database.Statement {
  let m = cache.get(store.db);
  if (!m) { m = new Map(); cache.set(store.db, m); }
  let s = m.get(sql);
  if (!s) { s = store.db.prepare(sql); m.set(sql, s); }
  return s;
}
