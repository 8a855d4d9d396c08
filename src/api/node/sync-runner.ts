// The app's sync: on an interval (the syncIntervalSeconds setting, read again after every run so a
// change applies without a restart), and on demand. One sync at a time; a failure is recorded in
// the store's sync status (and so in the view), never thrown at the UI.
import { OutpostError } from '../../common/errors.ts';
import { outboxSummary } from '../../store/node/outbox.ts';
import { getSettings, type Store } from '../../store/node/store.ts';
import { hubConnection, syncStatus } from '../../store/node/sync-state.ts';
import { connect } from '../../sync/node/connect.ts';
import { setHubCa } from '../../registry/node/hub-tls.ts';
import { runSync } from '../../sync/node/sync.ts';
import type { SyncView } from '../common/contract.ts';

export interface SyncRunner {
  view(): SyncView;
  syncNow(): Promise<SyncView>;
  connect(p: { hubUrl: string; code: string; rootPath?: string; caPath?: string }): Promise<SyncView>;
  /** the interval setting changed */
  reschedule(): void;
  close(): Promise<void>;
}

export function createSyncRunner(store: Store, onFinished: (v: SyncView) => void): SyncRunner {
  let running: Promise<SyncView> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let nextAt: number | null = null;
  let closed = false;
  const abort = new AbortController();

  const view = (): SyncView => {
    const conn = hubConnection(store);
    const s = syncStatus(store);
    const w = outboxSummary(store);
    return {
      connected: conn !== undefined,
      hub: conn ? { url: conn.url, name: conn.name, group: conn.group, deviceId: conn.deviceId, connectedAt: conn.connectedAt } : null,
      waiting: { items: w.waiting, bytes: w.waitingBytes, rows: w.waitingRows, oldest: w.oldest === null ? null : new Date(w.oldest).toISOString(), byKind: w.byKind },
      problems: w.problems, lastAttemptAt: s.lastAttemptAt, lastSuccessAt: s.lastSuccessAt, lastSent: s.lastSent, lastError: s.lastError,
      running: running !== undefined, intervalSeconds: getSettings(store).syncIntervalSeconds, nextAt: nextAt === null ? null : new Date(nextAt).toISOString(),
    };
  };

  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    nextAt = null;
    const every = getSettings(store).syncIntervalSeconds;
    if (closed || every <= 0 || !hubConnection(store)) return;
    nextAt = Date.now() + every * 1000;
    timer = setTimeout(() => { void syncNow(); }, every * 1000);
    timer.unref();
  };

  const syncNow = (): Promise<SyncView> => {
    if (!hubConnection(store)) return Promise.reject(new OutpostError('usage', 'this workstation is not connected to a hub; connect it in Settings with the enrollment code from the hub operator'));
    running ??= (async () => {
      try {
        await runSync(store, { signal: abort.signal });
      } catch { /* recorded in the sync status */ }
      running = undefined;
      schedule();
      const v = view();
      onFinished(v);
      return v;
    })();
    return running;
  };

  schedule();
  return {
    view,
    syncNow,
    async connect(p) {
      if (p.caPath) setHubCa(store.home, p.hubUrl, p.caPath);
      await connect(store, { hubUrl: p.hubUrl, code: p.code, ...(p.rootPath ? { rootFile: p.rootPath } : {}), signal: abort.signal });
      return syncNow();
    },
    reschedule: () => { if (!running) schedule(); },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      abort.abort();
      await running?.catch(() => undefined);
    },
  };
}
