// A worker thread that keeps drift statistics for a scoring job, so the per-value work (about
// 12 ns per value and feature on a loaded 2-core machine) runs beside the scoring thread instead
// of on it where a core is free. Batches are handed over as copies in shared memory: a ring of MAX_BACKLOG slots, reused
// once the worker has counted the batch in it (no allocation, no page faults per batch). At a
// checkpoint the lane is drained synchronously — the checkpoint runs inside a SQLite transaction — by waiting on
// shared memory and reading the worker's answer with receiveMessageOnPort. A drained lane goes
// back to a one-slot pool, so the next checkpoint interval or job reuses the warm worker (starting
// one costs a few hundred milliseconds); an unused pooled worker is stopped after a while.
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/node/worker.ts';
import { OutpostError } from '../../common/errors.ts';
import { statsFromState, type BaselineFeature, type FeatureStats } from '../../drift/common/baseline.ts';
import type { ColumnArena, FeatureColumn } from '../common/collect.ts';
import { FLAG_FAILED, FLAG_FLUSHES, FLAG_PROCESSED, FLAG_READY, FLAG_SLOTS, toRefs, type LaneReply, type LaneRequest, type SlotBuffers } from './stats-protocol.ts';

/** Batches handed over but not yet counted: beyond this the caller counts the batch itself. */
const MAX_BACKLOG = 4;
/** A worker that neither answers nor fails within this is treated as dead. */
const WAIT_LIMIT_MS = 120_000;
/** A pooled worker unused this long is stopped. */
const POOL_IDLE_MS = 30_000;

let pooled: { lane: StatsLane; timer: ReturnType<typeof setTimeout> } | undefined;
let postedTotal = 0;
let workerCpuTotal = 0;

export class StatsLane {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flags: Int32Array;
  readonly #slots: Slot[] = [];
  #features: readonly BaselineFeature[] = [];
  #sent = 0;
  #flushes = 0;
  /** the worker's thread CPU time at its last flush */
  #cpuMs = 0;
  #error: Error | undefined;

  /** Batches handed to workers in this process so far (diagnostics and tests). */
  static get postedTotal(): number { return postedTotal; }

  /** CPU time (ms) the statistics workers of this process had used at their last drain (diagnostics: the bench's CPU split). */
  static get workerCpuMs(): number { return workerCpuTotal; }

  /** A lane counting for `features`: the pooled one if there is one, else (with `spawn`) a new worker. */
  static acquire(features: readonly BaselineFeature[], spawn = true): StatsLane | undefined {
    let lane: StatsLane;
    if (pooled) {
      clearTimeout(pooled.timer);
      lane = pooled.lane;
      pooled = undefined;
    } else if (spawn) {
      lane = new StatsLane();
    } else {
      return undefined;
    }
    if (lane.#features !== features) {
      lane.#features = features;
      lane.#port.postMessage({ kind: 'init', features } satisfies LaneRequest);
    }
    return lane;
  }

  private constructor(workerUrl: URL = new URL('./stats-worker.ts', import.meta.url)) {
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(FLAG_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    this.#flags = new Int32Array(signal);
    this.#port = port1;
    this.#worker = startWorker(workerUrl, { workerData: { port: port2, signal }, transferList: [port2] });
    this.#worker.on('error', (e) => { this.#error = e; });
    this.#worker.unref(); // never keeps the process alive by itself
    this.#port.unref();
  }

  /**
   * Whether the worker can take another batch now. While it starts, or when it is behind (a busy
   * machine), the caller counts the batch itself instead of waiting: the scoring thread never
   * stalls and memory stays bounded; since every batch is counted in its own objects and merged
   * exactly, who counted which batch does not change the result.
   */
  hasRoom(): boolean {
    this.#check();
    return Atomics.load(this.#flags, FLAG_READY) === 1 && this.#sent - Atomics.load(this.#flags, FLAG_PROCESSED) < MAX_BACKLOG;
  }

  /**
   * Shared memory for the next batch (call only when hasRoom()): its slot last held the batch
   * posted MAX_BACKLOG batches ago, which the worker has counted since.
   */
  arena(size: { doubles: number; bytes: number; ints: number }): ColumnArena {
    const k = this.#sent % MAX_BACKLOG;
    let slot = this.#slots[k];
    if (!slot || slot.f64.length < size.doubles || slot.u8.length < size.bytes || slot.i32.length < size.ints) {
      slot = this.#slots[k] = new Slot(size);
      const buffers: SlotBuffers = { f64: slot.f64, u8: slot.u8, i32: slot.i32 };
      this.#port.postMessage({ kind: 'slot', index: k, buffers } satisfies LaneRequest);
    }
    return slot.reset();
  }

  /** Hand a batch's columns (views of the arena just taken) for window `window`. */
  post(window: number, columns: FeatureColumn[]): void {
    const k = this.#sent % MAX_BACKLOG;
    this.#port.postMessage({ kind: 'batch', window, slot: k, columns: toRefs(columns, this.#slots[k]) } satisfies LaneRequest);
    this.#sent++;
    postedTotal++;
  }

  /** Everything counted since the last drain, per window; waits until the worker has counted every batch posted. */
  drain(): Map<number, FeatureStats[]> {
    this.#check();
    this.#port.postMessage({ kind: 'flush' } satisfies LaneRequest);
    this.#waitFor(FLAG_FLUSHES, ++this.#flushes);
    let reply: LaneReply | undefined;
    for (let r = receiveMessageOnPort(this.#port); r; r = receiveMessageOnPort(this.#port)) reply = r.message as LaneReply;
    if (!reply || reply.kind === 'failed') throw this.#failure(reply?.message ?? 'no answer');
    workerCpuTotal += reply.cpuMs - this.#cpuMs;
    this.#cpuMs = reply.cpuMs;
    return new Map(reply.windows.map(([w, stats]) => [w, stats.map((state, i) => statsFromState(state, this.#features[i]))]));
  }

  /** Give a drained lane back for reuse (a second idle one is stopped). */
  release(): void {
    if (pooled || this.#error || Atomics.load(this.#flags, FLAG_FAILED)) { this.close(); return; }
    const timer = setTimeout(() => { if (pooled?.lane === this) pooled = undefined; this.close(); }, POOL_IDLE_MS).unref();
    pooled = { lane: this, timer };
  }

  close(): void {
    void this.#worker.terminate();
    this.#port.close();
  }

  /** Block until flags[slot] >= target (or the worker failed). */
  #waitFor(slot: number, target: number): void {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (let v = Atomics.load(this.#flags, slot); v < target; v = Atomics.load(this.#flags, slot)) {
      if (Atomics.load(this.#flags, FLAG_FAILED)) break;
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.#flags, slot, v, left) === 'timed-out') throw this.#failure(`no answer within ${WAIT_LIMIT_MS / 1000} s`);
    }
    this.#check();
  }

  #check(): void {
    if (this.#error) throw this.#failure(this.#error.message);
    if (Atomics.load(this.#flags, FLAG_FAILED)) {
      let why = 'it stopped';
      for (let r = receiveMessageOnPort(this.#port); r; r = receiveMessageOnPort(this.#port)) if ((r.message as LaneReply).kind === 'failed') why = (r.message as { message: string }).message;
      throw this.#failure(why);
    }
  }

  #failure(why: string): OutpostError {
    return new OutpostError('store', `the drift statistics worker failed: ${why}`);
  }
}

/** One ring slot: three shared buffers handed out front to back for one batch's columns. */
class Slot implements ColumnArena {
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  #f = 0;
  #u = 0;
  #i = 0;

  constructor(size: { doubles: number; bytes: number; ints: number }) {
    // a little headroom, so a slightly larger batch later does not reallocate
    const grow = (n: number) => Math.ceil(n * 1.25) + 64;
    this.f64 = new Float64Array(new SharedArrayBuffer(grow(size.doubles) * 8));
    this.u8 = new Uint8Array(new SharedArrayBuffer(grow(size.bytes)));
    this.i32 = new Int32Array(new SharedArrayBuffer(grow(size.ints) * 4));
  }

  reset(): this {
    this.#f = this.#u = this.#i = 0;
    return this;
  }

  doubles(n: number): Float64Array { return this.f64.subarray(this.#f, (this.#f += n)); }
  bytes(n: number): Uint8Array { return this.u8.subarray(this.#u, (this.#u += n)); }
  ints(n: number): Int32Array { return this.i32.subarray(this.#i, (this.#i += n)); }
}
