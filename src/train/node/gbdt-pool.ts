// Gradient-boosting histograms spread over worker threads. The trainer (src/train/common/gbdt.ts)
// stays pure and asks through its `HistogramPool` interface; this host side starts the threads.
// Each histogram is split by feature: the calling thread and the helpers claim features one at a time
// from a shared counter (compare-and-swap) and each sums its feature's rows with the same function in
// the same row order — so every sum, and therefore the trees and the model bytes, equal the
// single-threaded ones, whichever thread summed which feature. Claiming (rather than fixed groups)
// matters on a busy machine: a helper that is not scheduled claims nothing and the calling thread
// does the rest, waiting at most for the features already claimed.
// Bins, row order and gradients are SharedArrayBuffers the trainer writes; the histogram and the
// control words are shared too. A session's threads are terminated when it closes (the trainer closes
// it on every path); `close()` on the pool terminates whatever is still running.
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/node/worker.ts';
import { addFeatureHistogram, gatherGradients, type HistogramPool, type HistogramRequest, type HistogramSession } from '../common/gbdt.ts';

const WORKER_URL = new URL('./gbdt-pool-worker.ts', import.meta.url);

/** Below this many training rows an automatic thread count stays on one thread (starting threads costs more than it saves). */
export const POOL_MIN_ROWS = 20_000;
/** features are numbered in 16 bits of the claim word */
const MAX_POOLED_FEATURES = 0xffff;

export interface HistogramPoolOptions {
  /** threads in all, the calling one included; 'auto' = the available cores, one thread for small data */
  threads: number | 'auto';
  /** told the thread count each time a training opens the pool */
  onOpen?: (threads: number, features: number) => void;
}

/** Control words (Int32): the claim word (generation << 16 | next feature), features done, start, end, features the helpers summed (all builds). */
export const CLAIM = 0;
export const DONE = 1;
export const START = 2;
export const END = 3;
export const HELPED = 4;

export interface PoolWorkerData {
  bins: Uint16Array[];
  offsets: Int32Array;
  totalBins: number;
  idx: Uint32Array;
  g: Float64Array;
  h: Float64Array;
  out: Float64Array;
  ctrl: Int32Array;
}

export type PoolReply = { type: 'error'; message: string };

/** Threads to use for `features` features and `rows` rows. */
export function poolThreads(threads: number | 'auto', features: number, rows: number): number {
  const want = threads === 'auto' ? (rows < POOL_MIN_ROWS ? 1 : os.availableParallelism()) : threads;
  return features > MAX_POOLED_FEATURES ? 1 : Math.max(1, Math.min(want, features));
}

/**
 * Claim the next feature of build `gen` and read that build's rows; undefined when the build has no
 * feature left (or is no longer the current one). The rows are read between the load and the swap:
 * a successful swap proves the build was still open, so they were that build's.
 */
export function claimFeature(ctrl: Int32Array, gen: number, features: number): { f: number; start: number; end: number } | undefined {
  for (;;) {
    const w = Atomics.load(ctrl, CLAIM);
    if (w >>> 16 !== gen) return undefined;
    const f = w & 0xffff;
    if (f >= features) return undefined;
    const start = Atomics.load(ctrl, START);
    const end = Atomics.load(ctrl, END);
    if (Atomics.compareExchange(ctrl, CLAIM, w, w + 1) === w) return { f, start, end };
  }
}

/** Sum the claimed feature into the shared histogram (its own bins only) and count it done. */
export function sumFeature(d: PoolWorkerData, f: number, start: number, gn: Float64Array, hn: Float64Array, helper: boolean): void {
  const lo = d.offsets[f] * 3;
  const hi = (f + 1 < d.offsets.length ? d.offsets[f + 1] : d.totalBins) * 3;
  d.out.fill(0, lo, hi);
  addFeatureHistogram(d.out, d.bins, d.offsets, d.idx, start, gn, hn, f);
  if (helper) Atomics.add(d.ctrl, HELPED, 1);
  Atomics.add(d.ctrl, DONE, 1);
  Atomics.notify(d.ctrl, DONE);
}

export interface NodeHistogramPool extends HistogramPool {
  /** threads of the last opened session (1 = built on the calling thread) */
  lastThreads: number;
  /** feature histograms summed, in all, and by the helper threads (the rest by the calling thread) */
  stats: { features: number; helped: number };
  /** terminate every thread still running */
  close(): Promise<void>;
}

export function createHistogramPool(opts: HistogramPoolOptions): NodeHistogramPool {
  const live = new Set<Worker>();
  const pool: NodeHistogramPool = {
    lastThreads: 1,
    stats: { features: 0, helped: 0 },
    async open(a: Extract<HistogramRequest, { kind: 'open' }>): Promise<HistogramSession> {
      const nf = a.bins.length;
      const threads = poolThreads(opts.threads, nf, a.idx.length);
      pool.lastThreads = threads;
      opts.onOpen?.(threads, nf);
      const d: PoolWorkerData = {
        bins: a.bins, offsets: a.offsets, totalBins: a.totalBins, idx: a.idx, g: a.g, h: a.h,
        out: new Float64Array(new SharedArrayBuffer(a.totalBins * 3 * 8)),
        ctrl: new Int32Array(new SharedArrayBuffer(5 * 4)),
      };
      let closed = false;
      // A helper that fails or stops fails the build in flight (it may hold a claimed feature) and every later one.
      let failure: Error | undefined;
      const fail = (e: Error) => {
        failure ??= e;
        Atomics.notify(d.ctrl, DONE);
      };
      const workers = Array.from({ length: threads - 1 }, () => {
        const w = startWorker(WORKER_URL, { workerData: d });
        live.add(w);
        w.once('exit', () => live.delete(w));
        w.on('message', (m: PoolReply) => fail(new Error(`gbdt histogram thread: ${m.message}`)));
        w.on('error', (e) => fail(e));
        w.on('exit', (code) => { if (!closed) fail(new Error(`a gbdt histogram thread stopped (exit code ${code})`)); });
        return w;
      });
      let gen = 0;
      return {
        async build(start: number, end: number): Promise<Float64Array> {
          if (failure) throw failure;
          gen = (gen + 1) & 0x7fff;
          const { ctrl } = d;
          Atomics.store(ctrl, START, start);
          Atomics.store(ctrl, END, end);
          Atomics.store(ctrl, DONE, 0);
          Atomics.store(ctrl, CLAIM, gen << 16); // opens the build: claims start here
          for (const w of workers) w.postMessage(gen);
          let gathered: { gn: Float64Array; hn: Float64Array } | undefined;
          for (let c = claimFeature(ctrl, gen, nf); c; c = claimFeature(ctrl, gen, nf)) {
            gathered ??= gatherGradients(d.idx, start, end, d.g, d.h);
            sumFeature(d, c.f, start, gathered.gn, gathered.hn, false);
          }
          pool.stats.features += nf;
          // every feature is claimed: wait for the helpers still summing theirs
          for (let done = Atomics.load(ctrl, DONE); done < nf; done = Atomics.load(ctrl, DONE)) {
            if (failure) throw failure;
            const r = Atomics.waitAsync(ctrl, DONE, done);
            if (r.async) await r.value;
          }
          return d.out.slice();
        },
        close() {
          if (closed) return;
          closed = true;
          pool.stats.helped += Atomics.load(d.ctrl, HELPED);
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
