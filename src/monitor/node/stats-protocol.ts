// Messages and shared flags between a StatsLane and its worker. A batch's numbers travel in shared
// slots (see stats-lane.ts): the message only says where each column lies, which keeps handing a
// batch over far cheaper than cloning two dozen typed-array views.
import type { BaselineFeature, FeatureStatsState } from '../../drift/common/baseline.ts';
import type { FeatureColumn } from '../common/collect.ts';

/** A ring slot's shared buffers. */
export interface SlotBuffers { f64: Float64Array; u8: Uint8Array; i32: Int32Array }

/** Per feature: where its column lies in the slot, or its strings (category columns). */
export type ColumnRef =
  | { kind: 'none' }
  | { kind: 'f64'; at: number; n: number; status?: number }
  | { kind: 'codes'; at: number; n: number }
  | { kind: 'str'; values: (string | null)[] };

export type LaneRequest =
  /** start counting for a (new) set of features; what was counted before is dropped */
  | { kind: 'init'; features: readonly BaselineFeature[] }
  /** (re)allocated ring slot `index` */
  | { kind: 'slot'; index: number; buffers: SlotBuffers }
  | { kind: 'batch'; window: number; slot: number; columns: ColumnRef[] }
  | { kind: 'flush' };
export type LaneReply =
  /** cpuMs: the worker thread's CPU time so far (diagnostics: the bench's CPU split) */
  | { kind: 'flushed'; windows: [number, FeatureStatsState[]][]; cpuMs: number }
  | { kind: 'failed'; message: string };

/** Int32 slots of the shared signal buffer. */
export const FLAG_FLUSHES = 0;
export const FLAG_PROCESSED = 1;
export const FLAG_FAILED = 2;
/** set once the worker has loaded and listens */
export const FLAG_READY = 3;
export const FLAG_SLOTS = 4;

/** Columns (views of `slot`, or strings) → references. */
export function toRefs(columns: readonly FeatureColumn[], slot: SlotBuffers): ColumnRef[] {
  const check = (a: ArrayBufferView, on: ArrayBufferView) => {
    if (a.buffer !== on.buffer) throw new Error('a column handed to the statistics worker is not in its slot');
  };
  return columns.map((c): ColumnRef => {
    switch (c.kind) {
      case 'none': return c;
      case 'str': return c;
      case 'codes': check(c.values, slot.i32); return { kind: 'codes', at: c.values.byteOffset / 4, n: c.values.length };
      case 'f64': {
        check(c.values, slot.f64);
        if (c.status) check(c.status, slot.u8);
        return { kind: 'f64', at: c.values.byteOffset / 8, n: c.values.length, ...(c.status ? { status: c.status.byteOffset } : {}) };
      }
      case 'f32': throw new Error('float32 columns are widened into the slot');
    }
  });
}

/** References → columns (views of `slot`). */
export function fromRefs(refs: readonly ColumnRef[], slot: SlotBuffers): FeatureColumn[] {
  return refs.map((r): FeatureColumn => {
    switch (r.kind) {
      case 'none': case 'str': return r;
      case 'codes': return { kind: 'codes', values: slot.i32.subarray(r.at, r.at + r.n) };
      case 'f64': return { kind: 'f64', values: slot.f64.subarray(r.at, r.at + r.n), ...(r.status !== undefined ? { status: slot.u8.subarray(r.status, r.status + r.n) } : {}) };
    }
  });
}
