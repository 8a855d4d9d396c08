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
// checkpoints once more; it waits IDLE_MS for the next job before closing. What is stored is the
// same; only which thread copies it differs. If the worker cannot start or fails, the connection
// checkpoints by itself again.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/node/worker.ts';
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
  /** stops the worker once no hold has used it for IDLE_MS */
  idle: ReturnType<typeof setTimeout> | undefined;
}

/** A worker nobody holds is kept this long for the next job (starting one costs ~50 ms of CPU). */
const IDLE_MS = 30_000;

const states = new WeakMap<Store['db'], State>();

/** Background checkpoints of `store`'s WAL until release(); holds of one connection share one worker. */
export function deferCheckpoints(store: Store): DeferredCheckpoints {
  const db = store.db;
  let state = states.get(db);
  if (!state) {
    state = { holders: 0, previous: 0, worker: undefined, busy: false, again: false, checkpoints: 0, idle: undefined };
    states.set(db, state);
  }
  const s = state;
  if (s.holders === 0) {
    if (s.idle) clearTimeout(s.idle);
    s.idle = undefined;
    if (!s.worker) start(db, s);
    if (s.worker) {
      s.previous = Number(db.pragma('wal_autocheckpoint', { simple: true }));
      db.pragma('wal_autocheckpoint = 0');
    }
  }
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
      if (--s.holders > 0 || !s.worker) return;
      db.pragma(`wal_autocheckpoint = ${s.previous}`);
      post(s, 'checkpoint');
      s.idle = setTimeout(() => stop(s), IDLE_MS).unref();
    },
  };
}

function start(db: Store['db'], s: State): void {
  try {
    const worker = startWorker(new URL('./wal-checkpoint-worker.ts', import.meta.url), { workerData: { file: db.name } });
    worker.unref(); // never keeps the process alive; a checkpoint cut short leaves the WAL as it was
    worker.on('message', (m: { kind: 'done' }) => {
      if (m.kind !== 'done' || s.worker !== worker) return;
      s.checkpoints++;
      s.busy = false;
      if (s.again) { s.again = false; post(s, 'checkpoint'); }
    });
    worker.on('error', () => giveUp(db, s, worker));
    s.worker = worker;
    s.busy = s.again = false;
  } catch {
    s.worker = undefined;
  }
}

/** An idle worker: checkpoint once more (a commit may have landed since), close its connection, end. */
function stop(s: State): void {
  if (s.holders > 0 || !s.worker) return;
  s.worker.postMessage('checkpoint');
  s.worker.postMessage('close');
  s.worker = undefined;
  s.idle = undefined;
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
function giveUp(db: Store['db'], s: State, worker: Worker): void {
  if (s.worker !== worker) return;
  s.worker = undefined;
  if (s.idle) clearTimeout(s.idle);
  s.idle = undefined;
  if (s.holders > 0 && db.open) db.pragma(`wal_autocheckpoint = ${s.previous}`);
}
