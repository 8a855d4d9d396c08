// What a hub folder holds, and its configuration file. Only the online keys (snapshot, timestamp)
// live in keys/; the offline root and targets keys never enter the hub folder (offline-keys.ts).
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';

export const hubPaths = (dir: string) => ({
  config: path.join(dir, 'hub.json'),
  db: path.join(dir, 'hub.db'),
  blobs: path.join(dir, 'blobs'),
  adminToken: path.join(dir, 'admin.token'),
  /** the first root, to pin on devices (`outpost pull --root`) */
  trustRoot: path.join(dir, 'root.json'),
  /** where hubs made before offline keys moved out kept them: `hub serve` warns when it exists */
  legacyOfflineKeys: path.join(dir, 'offline-keys'),
  onlineKeys: path.join(dir, 'keys'),
});

export interface HubConfig {
  format: 'outpost.hub/v1';
  createdAt: string;
  /** metadata lifetimes; timestamp and snapshot are re-signed by the hub before they run out */
  rootExpirySeconds: number;
  targetsExpirySeconds: number;
  snapshotExpirySeconds: number;
  timestampExpirySeconds: number;
  /** how long devices keep serving their last-known-good version once metadata has expired (signed into root) */
  offlineGraceSeconds: number;
  /** largest blob a publisher may upload */
  maxBlobBytes: number;
  /** database: a SQLite file (relative to the hub folder) or a postgres:// URL */
  db: string;
  /** largest sync request body a device may send (compressed bytes) */
  syncMaxBodyBytes: number;
  /** bytes (compressed) one device may upload per UTC day */
  syncDeviceBytesPerDay: number;
}

const DAY = 86_400;
export const DEFAULT_HUB_CONFIG: Omit<HubConfig, 'createdAt'> = {
  format: 'outpost.hub/v1',
  rootExpirySeconds: 365 * DAY,
  targetsExpirySeconds: 365 * DAY,
  snapshotExpirySeconds: 7 * DAY,
  timestampExpirySeconds: 1 * DAY,
  offlineGraceSeconds: 7 * DAY,
  maxBlobBytes: 4 * 1024 ** 3,
  db: 'hub.db',
  syncMaxBodyBytes: 16 * 1024 ** 2,
  syncDeviceBytesPerDay: 2 * 1024 ** 3,
};

export function readHubConfig(dir: string): HubConfig {
  const file = hubPaths(dir).config;
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    throw new OutpostError('not-found', `no hub here (create one with \`outpost hub init --dir ${dir}\`)`, { file });
  }
  let cfg: HubConfig;
  try {
    cfg = { ...DEFAULT_HUB_CONFIG, ...(JSON.parse(raw) as Partial<HubConfig>) } as HubConfig;
  } catch (e) {
    throw new OutpostError('input', `hub configuration is not JSON: ${(e as Error).message}`, { file });
  }
  if (cfg.format !== 'outpost.hub/v1') throw new OutpostError('input', `unknown hub format "${String(cfg.format)}"`, { file });
  return cfg;
}

/** Write a file owner-only, atomically (temp + rename). */
export function writeSecretFile(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
