// Gradient-boosting histograms spread over worker threads. The trainer (src/train/common/gbdt.ts)
// stays pure and asks through its `HistogramPool` interface; this host side starts the threads.
// Features are split into contiguous groups, one per thread — the calling thread computes the first
// group itself — and every thread runs the same `histogramInto` over the same rows in the same order,
// so each feature's sums, and therefore the trees and the model bytes, equal the single-threaded ones.
// Bins, row order and gradients are SharedArrayBuffers the trainer writes; the helpers write their
// features' part of a shared histogram. A session's threads are terminated when it closes (the
// trainer closes it on every path); `close()` on the pool terminates whatever is still running.
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/node/worker.ts';
import { histogramInto, type HistogramPool, type HistogramRequest, type HistogramSession } from '../common/gbdt.ts';

const WORKER_URL = new URL('./gbdt-pool-worker.ts', import.meta.url);

/** Below this many training rows an automatic thread count stays on one thread (starting threads costs more than it saves). */
export const POOL_MIN_ROWS = 20_000;

export interface HistogramPoolOptions {
  /** threads in all, the calling one included; 'auto' = the available cores, one thread for small data */
  threads: number | 'auto';
  /** told the thread count each time a training opens the pool */
  onOpen?: (threads: number, features: number) => void;
}

export interface PoolWorkerData {
  bins: Uint16Array[];
  offsets: Int32Array;
  totalBins: number;
  idx: Uint32Array;
  g: Float64Array;
  h: Float64Array;
  out: Float64Array;
  from: number;
  to: number;
}

export type PoolReply = { type: 'done' } | { type: 'error'; message: string };

/** Threads to use for `features` features and `rows` rows. */
export function poolThreads(threads: number | 'auto', features: number, rows: number): number {
  const want = threads === 'auto' ? (rows < POOL_MIN_ROWS ? 1 : os.availableParallelism()) : threads;
  return Math.max(1, Math.min(want, features));
}

/** Contiguous feature groups of nearly equal size: [from, to) per thread. */
export function featureGroups(features: number, threads: number): [number, number][] {
  const out: [number, number][] = [];
  let from = 0;
  for (let t = 0; t < threads; t++) {
    const size = Math.floor(features / threads) + (t < features % threads ? 1 : 0);
    out.push([from, from + size]);
    from += size;
  }
  return out;
}

export interface NodeHistogramPool extends HistogramPool {
  /** threads of the last opened session (1 = built on the calling thread) */
  lastThreads: number;
  /** terminate every thread still running */
  close(): Promise<void>;
}

export function createHistogramPool(opts: HistogramPoolOptions): NodeHistogramPool {
  const live = new Set<Worker>();
  const pool: NodeHistogramPool = {
    lastThreads: 1,
    async open(a: Extract<HistogramRequest, { kind: 'open' }>): Promise<HistogramSession> {
      const nf = a.bins.length;
      const threads = poolThreads(opts.threads, nf, a.idx.length);
      pool.lastThreads = threads;
      opts.onOpen?.(threads, nf);
      const groups = featureGroups(nf, threads);
      const [mine, ...theirs] = groups;
      const out = new Float64Array(new SharedArrayBuffer(a.totalBins * 3 * 8));
      const binStart = (f: number) => (f < nf ? a.offsets[f] : a.totalBins) * 3;
      const workers = theirs.map(([from, to]) => {
        const data: PoolWorkerData = { bins: a.bins, offsets: a.offsets, totalBins: a.totalBins, idx: a.idx, g: a.g, h: a.h, out, from, to };
        const w = startWorker(WORKER_URL, { workerData: data });
        live.add(w);
        w.once('exit', () => live.delete(w));
        return w;
      });
      // A helper that fails or stops fails the build in flight (and every later one).
      let closed = false;
      let failure: Error | undefined;
      let pending: { left: number; resolve: () => void; reject: (e: Error) => void } | undefined;
      const fail = (e: Error) => {
        failure ??= e;
        const p = pending;
        pending = undefined;
        p?.reject(failure);
      };
      for (const w of workers) {
        w.on('message', (m: PoolReply) => {
          if (m.type === 'error') return fail(new Error(`gbdt histogram thread: ${m.message}`));
          if (pending && --pending.left === 0) { const p = pending; pending = undefined; p.resolve(); }
        });
        w.on('error', (e) => fail(e));
        w.on('exit', (code) => { if (!closed) fail(new Error(`a gbdt histogram thread stopped (exit code ${code})`)); });
      }
      return {
        async build(start: number, end: number): Promise<Float64Array> {
          if (failure) throw failure;
          const H = new Float64Array(a.totalBins * 3);
          const done = workers.length ? new Promise<void>((resolve, reject) => { pending = { left: workers.length, resolve, reject }; }) : undefined;
          for (const w of workers) w.postMessage([start, end]);
          histogramInto(H, a.bins, a.offsets, a.idx, start, end, a.g, a.h, mine[0], mine[1]);
          if (done) {
            await done;
            H.set(out.subarray(binStart(theirs[0][0]), binStart(nf)), binStart(theirs[0][0]));
          }
          return H;
        },
        close() {
          if (closed) return;
          closed = true;
          for (const w of workers) void w.terminate();
        },
      };
    },
    async close() {
      await Promise.all([...live].map((w) => w.terminate()));
    },
  };
  return pool;
}
