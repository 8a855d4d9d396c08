// The appliance's local store: one SQLite file (WAL) under the home folder, plus model package
// folders next to it. Opening it applies pending migrations in one transaction.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { OutpostError } from '../../common/errors.ts';
import { settingsFromStored, validateSettingsPatch, type SettingKey, type Settings } from '../common/settings.ts';
import { migrations } from './migrations.ts';
import { DIR_MODE, precreateOwnerOnly, secureDataFolder } from './permissions.ts';

export interface Store {
  readonly home: string;
  readonly db: Database.Database;
  readonly modelsDir: string;
  readonly jobsDir: string;
  close(): void;
}

export const DB_FILE = 'outpost.db';

export function openStore(home: string): Store {
  const file = path.join(home, DB_FILE);
  try {
    fs.mkdirSync(home, { recursive: true, mode: DIR_MODE });
    precreateOwnerOnly(file);
    secureDataFolder(home);
  } catch (e) {
    throw new OutpostError('store', `cannot create the data folder: ${(e as Error).message}`, { file: home });
  }
  let db: Database.Database;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable at checkpoints we fsync ourselves, fast commits
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, file);
  } catch (e) {
    if (e instanceof OutpostError) throw e;
    throw new OutpostError('store', `cannot open the store: ${(e as Error).message}`, { file });
  }
  const modelsDir = path.join(home, 'models');
  const jobsDir = path.join(home, 'jobs');
  fs.mkdirSync(modelsDir, { recursive: true, mode: DIR_MODE });
  fs.mkdirSync(jobsDir, { recursive: true, mode: DIR_MODE });
  return { home, db, modelsDir, jobsDir, close: () => db.close() };
}

function migrate(db: Database.Database, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations[migrations.length - 1].version;
  if (current > latest) {
    throw new OutpostError('store', `the store was written by a newer Outpost (schema ${current}, this one knows ${latest}); upgrade Outpost`, { file });
  }
  const pending = migrations.filter((m) => m.version > current);
  if (!pending.length) return;
  db.transaction(() => {
    for (const m of pending) db.exec(m.sql);
    db.pragma(`user_version = ${latest}`);
  })();
}

export const nowIso = (): string => new Date().toISOString();

// ---- settings (schema, defaults and validation: ../common/settings.ts) ----

export { DEFAULT_SETTINGS, type Settings } from '../common/settings.ts';

export function getSettings(store: Store): Settings {
  return settingsFromStored(store.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[]);
}

/** Validate and store a patch (the same rules for the app, the CLI and the API); returns the result. */
export function updateSettings(store: Store, patch: Record<string, unknown>): Settings {
  let valid: Partial<Settings>;
  try {
    valid = validateSettingsPatch(patch);
  } catch (e) {
    throw new OutpostError('usage', (e as Error).message);
  }
  const put = store.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  store.db.transaction(() => {
    for (const [k, v] of Object.entries(valid)) put.run(k, JSON.stringify(v));
  })();
  return getSettings(store);
}

/** Back to the default value (the stored value is removed). */
export function resetSetting(store: Store, key: SettingKey): Settings {
  store.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
  return getSettings(store);
}

/**
 * This workstation's hub ("connected hub"): the one `pull`, `models check` and the app use when no
 * hub is named. Kept as its own settings row (key `hub`), written by `outpost connect` / enrollment:
 * the hub's base URL and the id of the trust folder that pins its root.
 */
export interface HubSetting { url: string; trustId: string }

export function getHubSetting(store: Store): HubSetting | undefined {
  const r = store.db.prepare("SELECT value FROM settings WHERE key = 'hub'").get() as { value: string } | undefined;
  if (!r) return undefined;
  const v = JSON.parse(r.value) as Partial<HubSetting> | null;
  return v && typeof v.url === 'string' && typeof v.trustId === 'string' ? { url: v.url, trustId: v.trustId } : undefined;
}

export function setHubSetting(store: Store, v: HubSetting | null): void {
  if (v === null) store.db.prepare("DELETE FROM settings WHERE key = 'hub'").run();
  else store.db.prepare("INSERT INTO settings (key, value) VALUES ('hub', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(JSON.stringify(v));
}
