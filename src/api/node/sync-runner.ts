// The app's sync: on an interval (the syncIntervalSeconds setting, read again after every run so a
// change applies without a restart), and on demand. One sync at a time; a failure is recorded in
// the store's sync status (and so in the view), never thrown at the UI.
import { OutpostError } from '../../common/errors.ts';
import { outboxSummary } from '../../store/node/outbox.ts';
import { getSettings, type Store } from '../../store/node/store.ts';
import { hubConnection, syncStatus } from '../../store/node/sync-state.ts';
import { connect } from '../../sync/node/connect.ts';
import { setHubCa } from '../../registry/node/hub-tls.ts';
import { installOffered, listAssignments } from '../../sync/node/rollout.ts';
import { runSync } from '../../sync/node/sync.ts';
import type { SyncView } from '../common/contract.ts';

export interface SyncRunner {
  view(): SyncView;
  syncNow(): Promise<SyncView>;
  /** install an offered rollout (policy ask), then sync so the hub learns it */
  installUpdate(rollout: string): Promise<SyncView>;
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
      rolloutPolicy: getSettings(store).rolloutPolicy,
      updates: listAssignments(store).filter((a) => a.state !== 'withdrawn').slice(0, 20).map((a) => ({
        rollout: a.rollout, model: a.model, ref: a.ref, action: a.action, state: a.state, version: a.version, previousVersion: a.previousVersion, stage: a.stage, reason: a.reason, updatedAt: a.updatedAt,
      })),
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
    async installUpdate(rollout) {
      const conn = hubConnection(store);
      if (!conn) throw new OutpostError('usage', 'this workstation is not connected to a hub');
      await running?.catch(() => undefined); // not while a sync is following assignments
      const r = await installOffered(store, conn, rollout, { signal: abort.signal });
      const v = await syncNow(); // the outcome goes up now, installed or refused
      if (r.state === 'failed') throw new OutpostError('package', r.reason ?? `${r.ref} was refused at ${r.stage}`, {}, { stage: r.stage });
      return v;
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
