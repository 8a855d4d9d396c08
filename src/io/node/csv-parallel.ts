// The CSV reader on several threads: the file is cut into spans at line breaks, worker threads
// (./csv-span-worker.ts) decode the spans with the sequential reader's own decoder, and the batches
// come back here in file order with their row numbers made absolute.
//
// Cutting at a line break is a guess: the break may lie inside a quoted field. The guess is checked,
// never trusted: a span's worker starts at a true row boundary (the first span at the data start or
// a resume point; each later one where the previous span really ended) and decodes until the first
// row boundary at or after the next cut, completing the row that straddles it. When that boundary is
// the cut itself (always, unless a quoted field holds a line break right there) the next span's work
// is valid; otherwise the spans already decoded from the wrong place are dropped and decoding goes on
// from the true boundary. So the rows, their values and their numbers are exactly the sequential
// reader's; only where batches end differs (each span's last batch may be short).
//
// Memory: at most `inFlight` spans are decoded ahead of the consumer.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/node/worker.ts';
import { OutpostError, type ErrorCode } from '../../common/errors.ts';
import type { ColumnBatch, ColumnRequest } from '../common/table.ts';
import { readAt } from './input-file.ts';
import type { FileHandle } from 'node:fs/promises';
import type { FromSpanWorker, SpanTask, SpanWorkerData } from './csv-span-worker.ts';
import { throwIfAborted } from './stream.ts';

/** Bytes per span: big enough that each span's short last batch is rare next to its full ones. */
export const SPAN_BYTES = 16 * 1024 * 1024;
/** Files (from the start point on) smaller than this are read on the calling thread. */
export const PARALLEL_MIN_BYTES = 2 * SPAN_BYTES;

/**
 * Decode threads by default: the cores left after the scoring thread and one for the rest of the
 * pipeline (inference, output formatting, drift statistics); more cores take more spans. On 2 cores
 * both are already busy, and one span thread pays only where its batches come back without copies:
 * number columns are transferred, text is cloned (and made again on the scoring thread). Measured
 * on the 2-core machines with the WebAssembly row parser (same process, 7 alternating rounds, bench
 * README "Session 11"): 1M rows × 20 floats 0.86 of the wall time with a span thread; the demo shape
 * (an id and a category as text) 1.24, so it keeps none.
 */
export function defaultDecodeThreads(request: readonly ColumnRequest[], cores = availableParallelism()): number {
  if (cores > 2) return cores - 2;
  return cores === 2 && request.every((r) => r.kind === 'number') ? 1 : 0;
}

export interface ParallelCsvOptions {
  file: string;
  handle: FileHandle;
  size: number;
  delimiter: number;
  header: readonly string[];
  request: readonly ColumnRequest[];
  batchRows: number;
  /** a row boundary: the data start or a resume point */
  start: number;
  rowsBefore: number;
  threads: number;
  spanBytes?: number;
  signal?: AbortSignal;
}

interface Span {
  task: SpanTask;
  batches: ColumnBatch[];
  done?: { end: number; rows: number };
  error?: OutpostError;
  /** wakes the consumer waiting on this span */
  wake?: () => void;
}

/** The first row-boundary guess at or after `at`: just after the next LF (the file's end if none). */
async function cutAfter(handle: FileHandle, at: number, size: number): Promise<number> {
  let pos = at;
  while (pos < size) {
    const chunk = await readAt(handle, pos, Math.min(64 * 1024, size - pos));
    const lf = chunk.indexOf(10);
    if (lf >= 0) return pos + lf + 1;
    pos += chunk.length;
    if (chunk.length === 0) break;
  }
  return size;
}

function relocate(batch: ColumnBatch, base: number): ColumnBatch {
  batch.firstRow += base;
  batch.end.row += base;
  for (const p of batch.rowProblems) p.row += base;
  return batch;
}

export async function* parallelCsvBatches(o: ParallelCsvOptions): AsyncGenerator<ColumnBatch> {
  const spanBytes = o.spanBytes ?? SPAN_BYTES;
  const data: SpanWorkerData = { file: o.file, delimiter: o.delimiter, header: [...o.header], request: o.request.map((r) => ({ ...r })), batchRows: o.batchRows };
  const workers: Worker[] = [];
  const idle: Worker[] = [];
  const spans = new Map<number, Span>();
  const queue: Span[] = []; // planned spans not yet handed to a worker
  let nextId = 1;
  let crashed: OutpostError | undefined;
  const inFlight = o.threads + 1;

  const onMessage = (w: Worker) => (m: FromSpanWorker) => {
    const s = spans.get(m.id);
    if (m.kind !== 'batch') {
      idle.push(w);
      dispatch();
    }
    if (!s) return; // a span that was dropped
    if (m.kind === 'batch') s.batches.push(m.batch);
    else if (m.kind === 'done') s.done = { end: m.end, rows: m.rows };
    else s.error = new OutpostError(m.code as ErrorCode, m.message, m.location, m.details);
    s.wake?.();
  };
  const dispatch = () => {
    while (idle.length && queue.length) idle.pop()!.postMessage(queue.shift()!.task);
  };
  for (let i = 0; i < o.threads; i++) {
    const w = startWorker(new URL('./csv-span-worker.ts', import.meta.url), { workerData: data });
    w.on('message', onMessage(w));
    w.on('error', (e) => { crashed = new OutpostError('input', `CSV decode thread failed: ${e.message}`, { file: o.file }); for (const s of spans.values()) s.wake?.(); });
    workers.push(w);
    idle.push(w);
  }

  // planning: spans are cut ahead of the consumer, `inFlight` at most
  const order: Span[] = [];
  let cutFrom = o.start; // where the next span starts
  const plan = async () => {
    while (order.length < inFlight && cutFrom < o.size) {
      const stopAt = cutFrom + spanBytes >= o.size ? o.size : await cutAfter(o.handle, cutFrom + spanBytes, o.size);
      const s: Span = { task: { id: nextId++, start: cutFrom, stopAt, size: o.size }, batches: [] };
      spans.set(s.task.id, s);
      order.push(s);
      queue.push(s);
      cutFrom = stopAt;
    }
    dispatch();
  };

  let base = o.rowsBefore;
  try {
    await plan();
    while (order.length) {
      const s = order[0];
      // hand out this span's batches as they come
      for (;;) {
        throwIfAborted(o.signal, o.file);
        if (crashed) throw crashed;
        if (s.error) {
          const loc = { ...s.error.location };
          if (typeof loc.row === 'number') loc.row += base;
          throw new OutpostError(s.error.code, s.error.message, loc, s.error.details);
        }
        const b = s.batches.shift();
        if (b) { yield relocate(b, base); continue; }
        if (s.done) break;
        await new Promise<void>((resolve) => { s.wake = resolve; });
        s.wake = undefined;
      }
      base += s.done!.rows;
      order.shift();
      spans.delete(s.task.id);
      const end = s.done!.end;
      if (order.length && order[0].task.start !== end) {
        // the cut was inside a quoted field: everything planned after it starts at the wrong place
        for (const d of order) spans.delete(d.task.id);
        queue.length = 0;
        order.length = 0;
        cutFrom = end;
      } else if (!order.length && end < o.size && cutFrom <= end) {
        cutFrom = end; // (the last planned span ran past every cut planned so far)
      }
      await plan();
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
