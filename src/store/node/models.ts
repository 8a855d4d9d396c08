// Installed model versions: copied into <home>/models/<name>/<version>/, recorded with their
// hashes and provenance, and one active version per name (the previous one kept as last-known-good).
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { OutpostError, quote } from '../../common/errors.ts';
import { parseCard, type Card } from '../../package/common/card.ts';
import { ROLLBACK_DETAIL, rollbackTarget, type ModelEventLike } from '../common/activation-history.ts';
import { CARD_FILE, loadPackage, MODEL_FILE, sha256, type CheckedPackage } from '../../package/node/load.ts';
import { enqueue } from './outbox.ts';
import { DIR_MODE, FILE_MODE } from './permissions.ts';
import { cardMark } from './card-mark.ts';
import { findModelRow, MODEL_SELECT as SELECT, parseModelRef, rowToModel, type InstalledModel, type ModelRow } from './model-list.ts';
import { nowIso, type Store } from './store.ts';

export interface InstallOptions {
  /** 'local' packages need allowUnsigned; 'hub' packages arrive verified by the registry client */
  source: 'local' | 'hub';
  allowUnsigned?: boolean;
  signedBy?: string;
  signedAt?: string;
  /** the hub role (publisher) that signed it, and the keys its delegation listed at install */
  signerRole?: string;
  signerKeyIds?: string[];
  /** hub URL or local folder it came from */
  origin?: string;
  /** make it the active version (default: when it is newer than the active one, or none is active) */
  activate?: boolean;
  /**
   * Move the package's files into the store instead of copying them (the registry's quarantine
   * folder is on the same file system and is discarded afterwards: a rename, not a second write).
   */
  move?: boolean;
}

export type { InstalledModel } from './model-list.ts';
export { parseModelRef };

function toModel(store: Store, r: ModelRow): InstalledModel {
  const parsed = parseCard(JSON.parse(r.card_json));
  if (!parsed.ok) throw new OutpostError('store', `stored card of ${r.name}@${r.version} is invalid`);
  return rowToModel(store, r, parsed.card);
}

export function listModels(store: Store): InstalledModel[] {
  return (store.db.prepare(`${SELECT} ORDER BY m.name, m.version`).all() as ModelRow[]).map((r) => toModel(store, r));
}

/** Resolve a model reference to an installed version (the active one when no version is given). */
export function getModel(store: Store, ref: string): InstalledModel {
  return toModel(store, installedRow(store, ref));
}

/**
 * getModel, and mark the stored card when the card rules returned it unchanged — exactly the stored
 * text's values, keys and order — so that scoring can use it as stored (getModelForScoring).
 */
export function getCheckedModel(store: Store, ref: string): InstalledModel {
  const row = installedRow(store, ref);
  const model = toModel(store, row);
  markCard(store, row, model.card);
  return model;
}

function markCard(store: Store, row: ModelRow, card: Card): void {
  if (JSON.stringify(card) !== row.card_json || !isDeepStrictEqual(JSON.parse(row.card_json), card)) return;
  const mark = cardMark(row.card_json);
  if (row.card_checked === mark) return;
  store.db.prepare('UPDATE models SET card_checked = ? WHERE name = ? AND version = ? AND card_json = ?').run(mark, row.name, row.version, row.card_json);
}

function installedRow(store: Store, ref: string): ModelRow {
  const { name, version } = parseModelRef(ref);
  const row = findModelRow(store, name, version);
  if (row) return row;
  const versions = (store.db.prepare('SELECT version FROM models WHERE name = ? ORDER BY version').all(name) as { version: number }[]).map((v) => v.version);
  if (!versions.length) {
    const names = (store.db.prepare('SELECT DISTINCT name FROM models ORDER BY name').all() as { name: string }[]).map((n) => n.name);
    throw new OutpostError('not-found', `no model ${quote(name)} is installed${names.length ? ` (installed: ${names.join(', ')})` : ' (none are; add one with `outpost models add`)'}`);
  }
  throw new OutpostError('not-found', version === undefined ? `model ${quote(name)} has no active version` : `${name}@${version} is not installed (installed versions: ${versions.join(', ')})`);
}

/** Record an install/activate/rollback; an install's sync item carries the card (the hub needs its drift baseline). */
export function recordModelEvent(store: Store, name: string, version: number | null, kind: string, detail: string): void {
  const at = nowIso();
  store.db.transaction(() => {
    store.db.prepare('INSERT INTO model_events (at, name, version, kind, detail) VALUES (?, ?, ?, ?, ?)').run(at, name, version, kind, detail);
    const m = version === null ? undefined : store.db.prepare('SELECT dir, card_sha256, model_sha256, source, signed_by FROM models WHERE name = ? AND version = ?').get(name, version) as
      { dir: string; card_sha256: string; model_sha256: string; source: string; signed_by: string | null } | undefined;
    enqueue(store, 'model', {
      event: kind, name, version, detail, at,
      ...(m ? { cardSha256: m.card_sha256, modelSha256: m.model_sha256, source: m.source, signedBy: m.signed_by } : {}),
      // the installed card's exact bytes: the hub checks them against cardSha256
      ...(m && kind === 'install' ? { card: installedCardText(store, m.dir) } : {}),
    });
  })();
}

function installedCardText(store: Store, dir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(store.home, dir, CARD_FILE), 'utf8');
  } catch {
    return undefined;
  }
}

export function recordSecurityEvent(store: Store, kind: string, model: string | null, detail: string): void {
  const at = nowIso();
  store.db.transaction(() => {
    store.db.prepare('INSERT INTO security_events (at, kind, model, detail) VALUES (?, ?, ?, ?)').run(at, kind, model, detail);
    enqueue(store, 'security', { kind, model, detail, at });
  })();
}

export function setActive(store: Store, name: string, version: number, reason: string): void {
  const exists = store.db.prepare('SELECT 1 FROM models WHERE name = ? AND version = ?').get(name, version);
  if (!exists) throw new OutpostError('not-found', `${name}@${version} is not installed`);
  store.db.transaction(() => {
    const cur = store.db.prepare('SELECT version FROM active_models WHERE name = ?').get(name) as { version: number } | undefined;
    if (cur?.version === version) return;
    store.db.prepare(`INSERT INTO active_models (name, version, previous_version, changed_at, reason) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET version = excluded.version, previous_version = excluded.previous_version, changed_at = excluded.changed_at, reason = excluded.reason`)
      .run(name, version, cur?.version ?? null, nowIso(), reason);
    recordModelEvent(store, name, version, 'activate', reason);
  })();
}

/**
 * What `rollback` would do: the version that was active before the current one in the recorded
 * history (model events), or null when there is none. The app shows it before asking to confirm.
 */
export function rollbackPlan(store: Store, name: string): { from: number; to: number | null } | null {
  const cur = store.db.prepare('SELECT version FROM active_models WHERE name = ?').get(name) as { version: number } | undefined;
  if (!cur) return null;
  const events = store.db.prepare('SELECT kind, version, detail FROM model_events WHERE name = ? ORDER BY id').all(name) as ModelEventLike[];
  const installed = new Set((store.db.prepare('SELECT version FROM models WHERE name = ?').all(name) as { version: number }[]).map((r) => r.version));
  return { from: cur.version, to: rollbackTarget(events, cur.version, installed) ?? null };
}

/** Go back one step in the recorded activation history: an explicit local act, recorded. Rolling back again goes further back, never forward. */
export function rollback(store: Store, name: string): InstalledModel {
  const plan = rollbackPlan(store, name);
  if (!plan) throw new OutpostError('not-found', `model ${quote(name)} has no active version`);
  const older = plan.to;
  if (older === null) {
    const others = (store.db.prepare('SELECT version FROM models WHERE name = ? AND version != ? ORDER BY version').all(name, plan.from) as { version: number }[]).map((r) => r.version);
    throw new OutpostError('conflict', `${name}@${plan.from} has no earlier active version in its recorded history to roll back to${others.length ? ` (installed: ${others.join(', ')}; pick one with \`outpost models activate ${name}@<version>\`)` : ''}`);
  }
  setActive(store, name, older, `${ROLLBACK_DETAIL}${plan.from}`);
  return getModel(store, `${name}@${older}`);
}

/** Make an installed version the active one (any version, older or newer): recorded. */
export function activate(store: Store, ref: string, opts: { force?: boolean } = {}): { model: InstalledModel; previous: number | null } {
  const { name, version } = parseModelRef(ref);
  if (version === undefined) throw new OutpostError('usage', `which version? outpost models activate ${name}@<version>`);
  const m = getModel(store, `${name}@${version}`);
  if (m.hubStatus && !opts.force) throw new OutpostError('conflict', `${name}@${version} is ${m.hubStatus} (${m.hubStatusDetail ?? 'no reason given'}); pass --force to activate it anyway`);
  const problems = verifyInstalled(store, m);
  if (problems.length) throw new OutpostError('package', `${name}@${version}'s installed files do not match what was verified at install: ${problems.join('; ')} — repair with \`outpost pull ${name}@${version} --repair\` or remove it`);
  const cur = store.db.prepare('SELECT version FROM active_models WHERE name = ?').get(name) as { version: number } | undefined;
  setActive(store, name, version, cur ? `activated by the user (was ${cur.version})` : 'activated by the user');
  return { model: getModel(store, `${name}@${version}`), previous: cur?.version ?? null };
}

export interface RemoveResult { name: string; version: number; wasActive: boolean; nowActive: number | null; predictionsKept: number; jobs: string[] }

/**
 * Remove an installed version: its files and its records (the prediction log, jobs and drift
 * statistics that mention it stay). The active version is refused unless `force`, in which case
 * the version before it in the recorded history becomes active (or none, when there is none).
 */
export function removeModel(store: Store, ref: string, opts: { force?: boolean } = {}): RemoveResult {
  const { name, version } = parseModelRef(ref);
  if (version === undefined) throw new OutpostError('usage', `which version? outpost models remove ${name}@<version> (see \`outpost models list\`)`);
  const m = getModel(store, `${name}@${version}`);
  let nowActive: number | null = null;
  if (m.active) {
    const events = store.db.prepare('SELECT kind, version, detail FROM model_events WHERE name = ? ORDER BY id').all(name) as ModelEventLike[];
    const installed = new Set((store.db.prepare('SELECT version FROM models WHERE name = ?').all(name) as { version: number }[]).map((r) => r.version));
    const back = rollbackTarget(events, version, installed);
    const others = (store.db.prepare('SELECT count(*) AS n FROM models WHERE name = ? AND version != ?').get(name, version) as { n: number }).n;
    if (!opts.force && others === 0) throw new OutpostError('conflict', `${name}@${version} is the active and only installed version of ${name}; pass --force to remove it (then no version of ${name} is active)`);
    if (!opts.force) {
      throw new OutpostError('conflict', `${name}@${version} is the active version; activate another first (\`outpost models activate ${name}@<version>\`${back !== undefined ? `, or \`outpost models rollback ${name}\` to go back to ${back}` : ''}) or pass --force${back !== undefined ? ` (then ${name}@${back} becomes active)` : ' (then no version is active)'}`);
    }
    nowActive = back ?? null;
  } else {
    nowActive = (store.db.prepare('SELECT version FROM active_models WHERE name = ?').get(name) as { version: number } | undefined)?.version ?? null;
  }
  const predictionsKept = (store.db.prepare('SELECT coalesce(sum(row_count), 0) AS n FROM prediction_batches WHERE model_name = ? AND model_version = ?').get(name, version) as { n: number }).n;
  const jobs = (store.db.prepare('SELECT id FROM jobs WHERE model_name = ? AND model_version = ? ORDER BY created_at').all(name, version) as { id: string }[]).map((j) => j.id);
  // The files go first, renamed out of the way (atomic), so a crash never leaves a record without files.
  const trash = path.join(store.modelsDir, `.remove-${name}-${version}-${process.pid}-${Date.now()}`);
  const had = fs.existsSync(m.dir);
  if (had) {
    try {
      fs.renameSync(m.dir, trash);
    } catch (e) {
      throw new OutpostError('store', `cannot remove the installed files: ${(e as Error).message}`, { file: m.dir });
    }
  }
  try {
    store.db.transaction(() => {
      if (m.active) {
        if (nowActive !== null) setActive(store, name, nowActive, `${ROLLBACK_DETAIL}${version} (${version} removed)`);
        else store.db.prepare('DELETE FROM active_models WHERE name = ?').run(name);
      }
      store.db.prepare('UPDATE active_models SET previous_version = NULL WHERE name = ? AND previous_version = ?').run(name, version);
      recordModelEvent(store, name, version, 'remove', `removed by the user${m.active ? ` (was active${nowActive !== null ? `; ${nowActive} is active now` : '; no version is active now'})` : ''}`);
      store.db.prepare('DELETE FROM models WHERE name = ? AND version = ?').run(name, version);
    })();
  } catch (e) {
    if (had) fs.renameSync(trash, m.dir); // put the files back: nothing changed
    throw e;
  }
  if (had) fs.rmSync(trash, { recursive: true, force: true });
  const parent = path.dirname(m.dir);
  try { fs.rmdirSync(parent); } catch { /* other versions remain */ }
  return { name, version, wasActive: m.active, nowActive, predictionsKept, jobs };
}

/**
 * Copy (or move) a package into the store — atomically: a temp folder renamed into place — and
 * record it. Takes a folder, or a package already loaded and checked (no second read of its files).
 */
export function installPackage(store: Store, packageDir: string | CheckedPackage, opts: InstallOptions): InstalledModel {
  if (opts.source === 'local' && !opts.allowUnsigned) {
    throw new OutpostError('usage', 'local packages are unsigned: pass --allow-unsigned to install one anyway (signed installs come from a hub with `outpost pull`)');
  }
  const pkg: CheckedPackage = typeof packageDir === 'string' ? loadPackage(packageDir) : packageDir;
  const { name, version } = pkg.card;
  const existing = store.db.prepare('SELECT model_sha256, card_sha256 FROM models WHERE name = ? AND version = ?').get(name, version) as { model_sha256: string; card_sha256: string } | undefined;
  if (existing) {
    if (existing.model_sha256 === pkg.modelSha256 && existing.card_sha256 === pkg.cardSha256) return getCheckedModel(store, `${name}@${version}`);
    throw new OutpostError('conflict', `${name}@${version} is already installed with different contents; publish a new version number instead`, { file: pkg.dir });
  }

  const rel = path.join('models', name, String(version));
  const finalDir = path.join(store.home, rel);
  const tmpDir = path.join(store.modelsDir, `.install-${name}-${version}-${process.pid}-${Date.now()}`);
  fs.mkdirSync(tmpDir, { recursive: true, mode: DIR_MODE });
  try {
    for (const [file, bytes] of [[MODEL_FILE, pkg.modelBytes], [CARD_FILE, pkg.cardBytes]] as const) {
      const from = path.join(pkg.dir, file);
      const to = path.join(tmpDir, file);
      if (opts.move && moved(from, to)) fs.chmodSync(to, FILE_MODE);
      else if (bytes) fs.writeFileSync(to, bytes, { mode: FILE_MODE });
      else { fs.copyFileSync(from, to); fs.chmodSync(to, FILE_MODE); } // checked on disk, never read into memory
    }
    fs.mkdirSync(path.dirname(finalDir), { recursive: true, mode: DIR_MODE });
    fs.rmSync(finalDir, { recursive: true, force: true }); // leftover of an install that died before recording
    fs.renameSync(tmpDir, finalDir);
  } catch (e) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw new OutpostError('store', `cannot copy the package into the store: ${(e as Error).message}`, { file: finalDir });
  }

  store.db.transaction(() => {
    store.db.prepare(`INSERT INTO models (name, version, dir, card_json, model_sha256, card_sha256, size_bytes, source, signed_by, signed_at, origin, installed_at, signer_role, signer_key_ids)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      name, version, rel, JSON.stringify(pkg.card), pkg.modelSha256, pkg.cardSha256, pkg.modelSize + pkg.cardBytes.length,
      opts.source === 'local' ? 'local-unsigned' : 'hub', opts.signedBy ?? null, opts.signedAt ?? null, opts.origin ?? pkg.dir, nowIso(),
      opts.signerRole ?? null, opts.signerKeyIds ? JSON.stringify(opts.signerKeyIds) : null,
    );
    recordModelEvent(store, name, version, 'install', `${opts.source} from ${opts.origin ?? pkg.dir}`);
    const cur = store.db.prepare('SELECT version FROM active_models WHERE name = ?').get(name) as { version: number } | undefined;
    const activate = opts.activate ?? (!cur || version > cur.version);
    if (activate) setActive(store, name, version, 'install');
  })();
  return getCheckedModel(store, `${name}@${version}`);
}

/** Rename when both paths are on one file system; false (nothing done) when they are not. */
function moved(from: string, to: string): boolean {
  try {
    fs.renameSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EXDEV') return false;
    throw e;
  }
}

/**
 * The hub a version came from is gone for good (the demo's throw-away hub): nothing is left to
 * refresh its metadata from, so it is served without the offline-grace check, saying so.
 */
export function forgetOrigin(store: Store, name: string, version: number, note: string): void {
  store.db.prepare('UPDATE models SET origin = NULL, hub_status_detail = ? WHERE name = ? AND version = ?').run(note, name, version);
}

/** Record what a hub metadata check said of an installed version (null status: nothing to report). */
export function setHubStatus(store: Store, name: string, version: number, status: 'yanked' | 'revoked' | null, detail: string | null): void {
  store.db.prepare('UPDATE models SET hub_status = ?, hub_status_detail = ?, hub_checked_at = ? WHERE name = ? AND version = ?').run(status, detail, nowIso(), name, version);
}

/**
 * Replace an installed version's files with verified copies (same hashes as recorded at install):
 * `outpost pull --repair`. Each file is renamed over the old one, so a reader sees old or new, whole.
 */
export function repairFiles(store: Store, model: InstalledModel, fromDir: string, verified?: { model: string; card: string }): void {
  for (const file of [MODEL_FILE, CARD_FILE]) {
    const from = path.join(fromDir, file);
    const want = file === MODEL_FILE ? model.modelSha256 : model.cardSha256;
    // `verified`: the hashes the pull computed while writing these very files (no second read)
    const have = verified ? (file === MODEL_FILE ? verified.model : verified.card) : sha256(fs.readFileSync(from));
    if (have !== want) throw new OutpostError('store', `the repair copy of ${file} does not have the recorded sha256`, { file: from });
    fs.renameSync(from, path.join(model.dir, file));
  }
  recordModelEvent(store, model.name, model.version, 'repair', 'installed files replaced with verified copies');
}

/** Re-hash installed files; returns the problems found (empty = intact). */
export function verifyInstalled(store: Store, model: InstalledModel): string[] {
  const problems: string[] = [];
  for (const [file, want] of [[MODEL_FILE, model.modelSha256], [CARD_FILE, model.cardSha256]] as const) {
    const p = path.join(model.dir, file);
    let got: string;
    try {
      got = sha256(fs.readFileSync(p));
    } catch (e) {
      problems.push(`${p}: ${(e as Error).message}`);
      continue;
    }
    if (got !== want) problems.push(`${p}: sha256 ${got} does not match the installed ${want} (modified on disk)`);
  }
  return problems;
}
