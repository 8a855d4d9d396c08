// The serving thread's side of the log-query worker (log-query-worker.ts): heavy reads of the
// prediction log (sorting up to MAX_SORT_ROWS rows, a job's distribution) run there, so the
// thread that answers the UI never decodes a log. The worker starts with the first query (through
// startWorker, so it loads from the compile cache), stays for the next ones (its sorted views are
// kept there), and is restarted when it dies: a query in flight when it stopped — killed, crashed,
// out of its memory limit — is sent once more to a fresh worker; if that one stops too, the query
// fails with an error that says so (and the next query starts another worker).
import type { Worker, ResourceLimits } from 'node:worker_threads';
import { OutpostError } from '../../common/errors.ts';
import type { PredictionQuery, PredictionRow } from '../../store/node/predictions.ts';
import { startWorker } from '../../runtime/node/worker.ts';
import type { ApiErrorShape, Distribution } from '../common/contract.ts';

export type LogQuery =
  | { op: 'sortedPage'; query: PredictionQuery; column: string; descending: boolean; offset: number; limit: number; total: number }
  | { op: 'distribution'; jobId: string; bins: number };

export type LogQueryReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ApiErrorShape };

const WORKER_URL = new URL('./log-query-worker.ts', import.meta.url);

export interface LogQueries {
  sortedPage(query: PredictionQuery, column: string, descending: boolean, offset: number, limit: number, total: number): Promise<PredictionRow[]>;
  distribution(jobId: string, bins: number): Promise<Distribution>;
  /** start the worker now if none runs (a sort is likely soon: its start is then not in the first sort's time) */
  warm(): void;
  /** workers started so far (1 after the first query; one more per restart) */
  readonly started: number;
  /** the running worker, if any (tests stop it to see the restart) */
  readonly worker: Worker | undefined;
  /** stop the worker; queries still in flight fail */
  close(): Promise<void>;
}

interface Pending { query: LogQuery; attempts: number; resolve: (v: unknown) => void; reject: (e: Error) => void }

export interface LogQueriesOptions {
  /** the worker's memory limits: a query beyond them stops that worker, not the serving process */
  resourceLimits?: ResourceLimits;
}

export function createLogQueries(home: string, opts: LogQueriesOptions = {}): LogQueries {
  let worker: Worker | undefined;
  let started = 0;
  let nextId = 1;
  let closed = false;
  const pending = new Map<number, Pending>();

  // the worker's error as the serving thread throws it: same code, message and location
  const fromReply = (e: ApiErrorShape): Error => Object.assign(new Error(e.message), { code: e.code, location: { file: e.file, row: e.row, field: e.field } });

  const spawn = (): Worker => {
    const w = startWorker(WORKER_URL, { workerData: { home }, ...(opts.resourceLimits ? { resourceLimits: opts.resourceLimits } : {}) });
    started++;
    let why = 'it stopped';
    w.on('message', (m: LogQueryReply) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      if (m.ok) p.resolve(m.result);
      else p.reject(fromReply(m.error));
    });
    w.on('error', (e: Error & { code?: string }) => {
      why = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'it ran out of memory' : `it failed: ${e.message}`;
    });
    w.once('exit', (code) => {
      if (worker === w) worker = undefined;
      if (closed) return;
      // whatever it was answering goes to a fresh worker once; a second stop fails the query
      const again = [...pending.entries()];
      pending.clear();
      for (const [, p] of again) {
        if (p.attempts >= 2) {
          p.reject(new Error(`the log-query worker stopped twice while answering this query (${why}, exit code ${code}); try again, or narrow the query (job, model version or time)`));
        } else send(p);
      }
    });
    return w;
  };

  const send = (p: Pending): void => {
    worker ??= spawn();
    const id = nextId++;
    p.attempts++;
    pending.set(id, p);
    worker.ref(); // a query in flight keeps the process alive; an idle worker does not
    worker.postMessage({ id, query: p.query });
  };

  const ask = <T>(query: LogQuery): Promise<T> => new Promise<T>((resolve, reject) => {
    if (closed) { reject(new OutpostError('conflict', 'the service is shutting down')); return; }
    send({ query, attempts: 0, resolve: resolve as (v: unknown) => void, reject });
  });

  return {
    sortedPage: (query, column, descending, offset, limit, total) => ask<PredictionRow[]>({ op: 'sortedPage', query, column, descending, offset, limit, total }),
    distribution: (jobId, bins) => ask<Distribution>({ op: 'distribution', jobId, bins }),
    warm() {
      if (closed || worker) return;
      worker = spawn();
      worker.unref();
    },
    get started() { return started; },
    get worker() { return worker; },
    async close() {
      closed = true;
      const w = worker;
      worker = undefined;
      for (const p of pending.values()) p.reject(new OutpostError('conflict', 'the service is shutting down'));
      pending.clear();
      if (w) await w.terminate();
    },
  };
}
