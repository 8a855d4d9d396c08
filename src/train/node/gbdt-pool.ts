// Gradient-boosting histograms spread over worker threads. The trainer (src/train/common/gbdt.ts)
// stays pure and asks through its `HistogramPool` interface; this host side starts the threads.
// Each histogram is split by feature: the calling thread and the helpers claim features one at a time
// from a shared counter (compare-and-swap) and each sums its feature's rows with the same function in
// the same row order — so every sum, and therefore the trees and the model bytes, equal the
// single-threaded ones, whichever thread summed which feature.
// The calling thread never depends on a helper: once no feature is left to claim it takes each
// helper-claimed feature that is finished from that helper's scratch histogram, waits for an
// unfinished one at most about as long as one feature takes it, and otherwise sums it itself. On a
// busy machine a helper that is not scheduled costs next to nothing, and a helper that died cannot
// stall or corrupt a build (its failure is reported after).
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/node/worker.ts';
import { addFeatureHistogram, gatherGradients, histogramInto, type HistogramPool, type HistogramRequest, type HistogramSession } from '../common/gbdt.ts';

const WORKER_URL = new URL('./gbdt-pool-worker.ts', import.meta.url);

/** Below this many training rows an automatic thread count stays on one thread (starting threads costs more than it saves). */
export const POOL_MIN_ROWS = 20_000;
/** features are numbered in 16 bits of the claim word; helpers in 8 bits of a done word */
const MAX_POOLED_FEATURES = 0xffff;
const MAX_THREADS = 255;
/** a histogram of fewer rows is built by the calling thread alone (waking a helper costs more) */
export const SHARE_MIN_ROWS = 4096;

export interface HistogramPoolOptions {
  /** threads in all, the calling one included; 'auto' = the available cores, one thread for small data */
  threads: number | 'auto';
  /** told the thread count each time a training opens the pool */
  onOpen?: (threads: number, features: number) => void;
  /**
   * Tests: the calling thread claims no feature and waits this long for each helper's (default: it
   * claims, and waits about one feature's time) — makes the helpers' path deterministic.
   */
  helpersOnly?: { patienceMs: number };
}

/** Control words (Int32): the claim word (generation << 16 | next feature), the build's first and end row. */
export const CLAIM = 0;
export const START = 1;
export const END = 2;

export interface PoolWorkerData {
  bins: Uint16Array[];
  offsets: Int32Array;
  totalBins: number;
  idx: Uint32Array;
  g: Float64Array;
  h: Float64Array;
  ctrl: Int32Array;
  /** per feature: generation << 8 | helper, written when a helper has finished it */
  done: Int32Array;
  /** the helpers' histograms, totalBins × 3 each, helper 1 first */
  scratch: Float64Array;
  /** the build's gradients and hessians in row order, gathered once by the calling thread before it opens the build */
  gn: Float64Array;
  hn: Float64Array;
  /** this helper's number (1, 2, …) */
  helper: number;
}

export type PoolReply = { type: 'error'; message: string };

/** Threads to use for `features` features and `rows` rows. */
export function poolThreads(threads: number | 'auto', features: number, rows: number): number {
  const want = threads === 'auto' ? (rows < POOL_MIN_ROWS ? 1 : os.availableParallelism()) : threads;
  return features > MAX_POOLED_FEATURES ? 1 : Math.max(1, Math.min(want, features, MAX_THREADS));
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

/** A feature's slice [lo, hi) of a histogram. */
export function featureRange(offsets: Int32Array, totalBins: number, f: number): [number, number] {
  return [offsets[f] * 3, (f + 1 < offsets.length ? offsets[f + 1] : totalBins) * 3];
}

export interface NodeHistogramPool extends HistogramPool {
  /** threads of the last opened session (1 = built on the calling thread) */
  lastThreads: number;
  /** feature histograms built, in all, and taken from a helper (the rest summed by the calling thread) */
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
      const size = a.totalBins * 3;
      const shared = { ctrl: new Int32Array(new SharedArrayBuffer(3 * 4)), done: new Int32Array(new SharedArrayBuffer(nf * 4)), scratch: new Float64Array(new SharedArrayBuffer(Math.max(1, threads - 1) * size * 8)), gn: new Float64Array(new SharedArrayBuffer(a.idx.length * 8)), hn: new Float64Array(new SharedArrayBuffer(a.idx.length * 8)) };
      let closed = false;
      let failure: Error | undefined;
      const workers = Array.from({ length: threads - 1 }, (_, i) => {
        const data: PoolWorkerData = { bins: a.bins, offsets: a.offsets, totalBins: a.totalBins, idx: a.idx, g: a.g, h: a.h, ...shared, helper: i + 1 };
        const w = startWorker(WORKER_URL, { workerData: data });
        live.add(w);
        w.once('exit', () => live.delete(w));
        w.on('message', (m: PoolReply) => { failure ??= new Error(`gbdt histogram thread: ${m.message}`); });
        w.on('error', (e) => { failure ??= e; });
        w.on('exit', (code) => { if (!closed) failure ??= new Error(`a gbdt histogram thread stopped (exit code ${code})`); });
        return w;
      });
      const { ctrl, done, scratch, gn, hn } = shared;
      let gen = 0;
      let builds = 0;
      let featureMs = 0.05;
      return {
        async build(start: number, end: number): Promise<Float64Array> {
          // let the helpers' failures through now and then (a build itself never waits on the event loop)
          if (workers.length && (++builds & 31) === 0) await new Promise((r) => setImmediate(r));
          if (failure) throw failure;
          const H = new Float64Array(size);
          if (!workers.length || (end - start < SHARE_MIN_ROWS && !opts.helpersOnly)) {
            histogramInto(H, a.bins, a.offsets, a.idx, start, end, a.g, a.h, 0, nf);
            pool.stats.features += nf;
            return H;
          }
          gen = gen === 0x7fff ? 1 : gen + 1;
          for (let f = 0; f < nf; f++) Atomics.store(done, f, 0); // no done word from a build 32,767 ago can match
          gatherGradients(a.idx, start, end, a.g, a.h, { gn, hn });
          Atomics.store(ctrl, START, start);
          Atomics.store(ctrl, END, end);
          Atomics.store(ctrl, CLAIM, gen << 16); // opens the build: claims start here
          for (const w of workers) w.postMessage(gen);
          const mine = new Uint8Array(nf);
          const sum = (f: number) => addFeatureHistogram(H, a.bins, a.offsets, a.idx, start, end, gn, hn, f);
          for (let c = opts.helpersOnly ? undefined : claimFeature(ctrl, gen, nf); c; c = claimFeature(ctrl, gen, nf)) {
            const t = performance.now();
            sum(c.f);
            mine[c.f] = 1;
            featureMs = 0.8 * featureMs + 0.2 * (performance.now() - t);
          }
          // every feature is claimed: take the helpers' finished ones, wait briefly for the rest, else sum them here
          for (let f = 0; f < nf; f++) {
            if (mine[f]) continue;
            let w = Atomics.load(done, f);
            const until = performance.now() + (opts.helpersOnly?.patienceMs ?? featureMs);
            while (w >>> 8 !== gen) {
              const left = until - performance.now();
              if (left <= 0) break;
              Atomics.wait(done, f, w, left);
              w = Atomics.load(done, f);
            }
            if (w >>> 8 === gen) {
              const [lo, hi] = featureRange(a.offsets, a.totalBins, f);
              const base = ((w & 0xff) - 1) * size;
              H.set(scratch.subarray(base + lo, base + hi), lo);
              pool.stats.helped++;
            } else sum(f);
          }
          pool.stats.features += nf;
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
