// The offline keys folder: the root and targets keys of a hub. It is created outside the hub folder
// (a copy of the hub folder can then never sign trust) and belongs on another machine or a removable
// disk; every operation that needs it takes it explicitly (`--offline-keys DIR`). A rotation makes
// `<role>.next.key`, signs with old and new, then retires the old key to retired/ rather than
// deleting it: an update signed but never uploaded can be redone with it.
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import type { Metadata, Root } from '@tufjs/models';
import { generateKeyFile, loadPrivateKey, loadPublicKey, publicKeyFile, type PrivateKeyHandle } from '../../keys/node/keys.ts';

export type OfflineRole = 'root' | 'targets';

export const offlineKeyPaths = (dir: string) => ({
  dir,
  root: path.join(dir, 'root.key'),
  targets: path.join(dir, 'targets.key'),
  retired: path.join(dir, 'retired'),
});

/** The default offline keys folder for a hub folder: beside it, never inside it. */
export const defaultOfflineKeysDir = (hubDir: string): string => `${path.resolve(hubDir)}.offline-keys`;

/** Refuse an offline keys folder inside the hub folder (or the hub folder inside it). */
export function checkOutsideHub(hubDir: string, offlineDir: string): void {
  const hub = path.resolve(hubDir);
  const off = path.resolve(offlineDir);
  const inside = (a: string, b: string) => a === b || a.startsWith(b + path.sep);
  if (inside(off, hub) || inside(hub, off)) {
    throw new OutpostError('usage', `--offline-keys ${off} is inside the hub folder ${hub} (or holds it): the offline keys must live apart from the hub, so that a copy of the hub folder cannot sign trust`);
  }
}

export interface OfflineKeys { dir: string; root: PrivateKeyHandle; rootKeys: PrivateKeyHandle[]; targets: PrivateKeyHandle }

export function createOfflineKeys(dir: string, passphrase?: string): OfflineKeys {
  const p = offlineKeyPaths(path.resolve(dir));
  for (const f of [p.root, p.targets]) if (fs.existsSync(f)) throw new OutpostError('conflict', 'offline keys already exist here; give another --offline-keys folder (keys are never overwritten)', { file: f });
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const root = generateKeyFile(p.root, { passphrase });
  return { dir: p.dir, root, rootKeys: [root], targets: generateKeyFile(p.targets, { passphrase }) };
}

/** Every key in the folder: current, pending (`<role>.next.key`) and retired ones. */
function candidates(dir: string, passphrase?: string): PrivateKeyHandle[] {
  const p = offlineKeyPaths(path.resolve(dir));
  if (!fs.existsSync(p.root) && !fs.existsSync(p.targets)) {
    throw new OutpostError('usage', `no offline keys in ${p.dir} (expected root.key and targets.key, as \`outpost hub init --offline-keys\` made them)`);
  }
  const files = [p.root, p.targets, path.join(p.dir, 'root.next.key'), path.join(p.dir, 'targets.next.key')].filter((f) => fs.existsSync(f));
  if (fs.existsSync(p.retired)) files.push(...fs.readdirSync(p.retired).filter((f) => f.endsWith('.key')).sort().map((f) => path.join(p.retired, f)));
  return files.map((f) => loadPrivateKey(f, passphrase));
}

/**
 * The folder's keys that the hub's current root names for root and targets. A rotation signed but
 * not uploaded yet leaves the hub on keys already retired here; those still sign for it.
 */
export function offlineKeysFor(dir: string, root: Metadata<Root>, passphrase?: string): OfflineKeys {
  const all = candidates(dir, passphrase);
  const pick = (role: OfflineRole) => all.filter((k) => root.signed.roles[role].keyIDs.includes(k.keyId));
  const rootKeys = pick('root');
  const targets = pick('targets')[0];
  if (!rootKeys.length || !targets) {
    const missing = [!rootKeys.length ? 'root' : '', !targets ? 'targets' : ''].filter(Boolean).join(' and ');
    throw new OutpostError('usage', `${path.resolve(dir)} holds no ${missing} key of this hub (root v${root.signed.version} names ${missing === 'targets' ? root.signed.roles.targets.keyIDs.map((k) => k.slice(0, 12)).join(', ') : root.signed.roles.root.keyIDs.map((k) => k.slice(0, 12)).join(', ')}): wrong --offline-keys folder?`);
  }
  return { dir: path.resolve(dir), root: rootKeys[0], rootKeys, targets };
}

/** A new key for a rotation, as `<role>.next.key` (reused when an earlier attempt made one). */
export function nextOfflineKey(dir: string, role: OfflineRole, passphrase?: string): PrivateKeyHandle {
  const f = path.join(path.resolve(dir), `${role}.next.key`);
  return fs.existsSync(f) ? loadPrivateKey(f, passphrase) : generateKeyFile(f, { passphrase });
}

/** After the rotation was applied or written out: the next key becomes current, the old one retired. */
export function promoteOfflineKey(dir: string, role: OfflineRole): void {
  const p = offlineKeyPaths(path.resolve(dir));
  const next = path.join(p.dir, `${role}.next.key`);
  if (!fs.existsSync(next)) return;
  const cur = p[role];
  if (fs.existsSync(cur)) {
    const old = loadPublicKey(publicKeyFile(cur));
    fs.mkdirSync(p.retired, { recursive: true, mode: 0o700 });
    const dest = path.join(p.retired, `${role}-${old.keyID.slice(0, 16)}.key`);
    fs.renameSync(cur, dest);
    fs.renameSync(publicKeyFile(cur), publicKeyFile(dest));
  }
  fs.renameSync(next, cur);
  fs.renameSync(publicKeyFile(next), publicKeyFile(cur));
}
