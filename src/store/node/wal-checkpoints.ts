// WAL checkpoints off the thread that commits. SQLite runs a checkpoint (copy the write-ahead log's
// pages into the database file, then fsync) inside the commit that grows the log past
// `wal_autocheckpoint` pages (1,000 = 4 MB), on the committing thread. A scoring job's prediction
// log adds ~12 MB per 1M rows, so its checkpoint commits paid ~3 of them: ~130 ms of the scoring
// thread's wall time per 1M rows (measured), most of the cost of logging on the critical path.
//
// While a large job logs, its store connection stops checkpointing by itself (`wal_autocheckpoint =
// 0`) and a worker thread with its own connection runs a PASSIVE checkpoint after each commit: a
// passive checkpoint never waits for, nor blocks, the writer or readers (WAL mode), and copies what
// is committed. When the last job lets go, the connection's own setting comes back and the worker
// checkpoints once more and closes. What is stored is the same; only which thread copies it differs.
// If the worker cannot start or fails, the connection checkpoints by itself again.
import type { Worker } from 'node:worker_threads';
import { startCheckpointWorker } from './wal-checkpoint-worker.ts';
import type { Store } from './store.ts';

/** A hold on background checkpoints of one store connection (see deferCheckpoints). */
export interface DeferredCheckpoints {
  /** a commit landed: checkpoint what is committed, in the background */
  request(): void;
  /** the caller is done committing: the last hold restores the connection's own checkpoints */
  release(): void;
}

interface State {
  holders: number;
  /** the connection's wal_autocheckpoint before the first hold */
  previous: number;
  worker: Worker | undefined;
  /** a checkpoint asked for while the worker was busy: it runs once more when done */
  busy: boolean;
  again: boolean;
  checkpoints: number;
}

const states = new WeakMap<Store['db'], State>();

/** Background checkpoints of `store`'s WAL until release(); holds of one connection share one worker. */
export function deferCheckpoints(store: Store): DeferredCheckpoints {
  const db = store.db;
  let state = states.get(db);
  if (!state || state.holders === 0) {
    state = { holders: 0, previous: Number(db.pragma('wal_autocheckpoint', { simple: true })), worker: undefined, busy: false, again: false, checkpoints: state?.checkpoints ?? 0 };
    states.set(db, state);
    const s = state;
    try {
      // A hold keeps the process up until release() lets the worker end after its last checkpoint:
      // the 'message' listener refs the worker (an unref() before it measured no different: a
      // never-released hold kept a script alive either way). A checkpoint cut short leaves the WAL as it was.
      const worker = startCheckpointWorker(db.name);
      worker.on('message', (m: { kind: 'done' }) => {
        if (m.kind !== 'done') return;
        s.checkpoints++;
        s.busy = false;
        if (s.again) { s.again = false; post(s, 'checkpoint'); }
      });
      worker.on('error', () => giveUp(db, s));
      s.worker = worker;
      db.pragma('wal_autocheckpoint = 0');
    } catch {
      s.worker = undefined;
    }
  }
  const s = state;
  s.holders++;
  let held = true;
  return {
    request() {
      if (!held || !s.worker) return;
      if (s.busy) s.again = true;
      else post(s, 'checkpoint');
    },
    release() {
      if (!held) return;
      held = false;
      if (--s.holders > 0) return;
      if (s.worker) {
        db.pragma(`wal_autocheckpoint = ${s.previous}`);
        post(s, 'checkpoint');
        post(s, 'close');
        s.worker = undefined;
      }
    },
  };
}

/** Checkpoints the background worker of this connection has finished (diagnostics and tests). */
export function backgroundCheckpoints(store: Store): number {
  return states.get(store.db)?.checkpoints ?? 0;
}

function post(s: State, message: 'checkpoint' | 'close'): void {
  if (message === 'checkpoint') s.busy = true;
  s.worker?.postMessage(message);
}

/** The worker failed: the connection checkpoints by itself again. */
function giveUp(db: Store['db'], s: State): void {
  if (!s.worker) return;
  s.worker = undefined;
  if (db.open) db.pragma(`wal_autocheckpoint = ${s.previous}`);
}
