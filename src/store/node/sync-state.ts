// This workstation's hub connection and the outcome of its syncs, kept in the settings table under
// keys of their own (not user settings: `connect` writes the first, every sync the second).
import type { Store } from './store.ts';

export interface HubConnection {
  /** the hub's base URL */
  url: string;
  /** the trust folder of this hub under <home>/trust (src/registry/node/trust.ts hubId) */
  trustId: string;
  deviceId: string;
  name: string;
  group: string;
  /** the device's private key (owner-only), relative to the data folder */
  keyFile: string;
  connectedAt: string;
}

export interface SyncStatus {
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  lastError: { at: string; message: string; code: string } | null;
  /** items the last successful sync sent */
  lastSent: number;
}

const HUB_KEY = 'sync.hub';
const STATUS_KEY = 'sync.status';

function read<T>(store: Store, key: string): T | undefined {
  const r = store.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
  return r ? JSON.parse(r.value) as T : undefined;
}
function write(store: Store, key: string, value: unknown): void {
  store.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
}

export const hubConnection = (store: Store): HubConnection | undefined => read<HubConnection>(store, HUB_KEY);
export const setHubConnection = (store: Store, c: HubConnection): void => write(store, HUB_KEY, c);

export const syncStatus = (store: Store): SyncStatus => read<SyncStatus>(store, STATUS_KEY) ?? { lastAttemptAt: null, lastSuccessAt: null, lastError: null, lastSent: 0 };
export function recordSyncOutcome(store: Store, outcome: { sent: number } | { error: { message: string; code: string } }, at = new Date()): SyncStatus {
  const prev = syncStatus(store);
  const iso = at.toISOString();
  const next: SyncStatus = 'error' in outcome
    ? { ...prev, lastAttemptAt: iso, lastError: { at: iso, ...outcome.error } }
    : { ...prev, lastAttemptAt: iso, lastSuccessAt: iso, lastError: null, lastSent: outcome.sent };
  write(store, STATUS_KEY, next);
  return next;
}
