// Worker thread of the parallel CSV reader (./csv-parallel.ts): decodes one span of the file at a
// time — from a row boundary `start` until the first row boundary at or after `stopAt` — with the
// same CsvDecoder as the sequential reader, and posts its batches (buffers transferred, row numbers
// relative to the span) and where the span really ended. Reads the file itself (positional reads).
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { OutpostError } from '../../common/errors.ts';
import { CsvDecoder } from '../common/csv-decoder.ts';
import type { ColumnBatch, ColumnRequest } from '../common/table.ts';

export interface SpanWorkerData { file: string; delimiter: number; header: string[]; request: ColumnRequest[]; batchRows: number }
export interface SpanTask { id: number; start: number; stopAt: number; size: number }
export type FromSpanWorker =
  | { kind: 'batch'; id: number; batch: ColumnBatch }
  | { kind: 'done'; id: number; end: number; rows: number }
  | { kind: 'error'; id: number; code: string; message: string; location: Record<string, unknown>; details: Record<string, unknown> };

const READ_BYTES = 1024 * 1024;
const data = workerData as SpanWorkerData;
const fd = fs.openSync(data.file, 'r');

function transfers(batch: ColumnBatch): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const c of batch.columns) if (c.kind === 'number') { out.add(c.values.buffer as ArrayBuffer); out.add(c.status.buffer as ArrayBuffer); }
  return [...out];
}

function decodeSpan(t: SpanTask): void {
  const decoder = new CsvDecoder({ file: data.file, delimiter: data.delimiter, header: data.header, request: data.request, batchRows: data.batchRows, offset: t.start, rowsBefore: 0, stopAt: t.stopAt });
  const post = (batch: ColumnBatch) => parentPort!.postMessage({ kind: 'batch', id: t.id, batch } satisfies FromSpanWorker, transfers(batch));
  let rows = 0;
  let pos = t.start;
  for (;;) {
    // up to stopAt in large reads; past it (the row that straddles it) in small ones
    const want = pos < t.stopAt ? Math.min(READ_BYTES, t.stopAt - pos) : 64 * 1024;
    const n = pos < t.size ? fs.readSync(fd, decoder.window.reserve(want), 0, Math.min(want, t.size - pos), pos) : 0;
    decoder.window.commit(n);
    pos += n;
    const eof = n === 0;
    for (let b = decoder.next(eof); b !== null; b = decoder.next(eof)) {
      rows += b.length;
      post(b);
    }
    if (eof) break;
    if (decoder.window.offset >= t.stopAt) {
      // the rows that started before stopAt are complete; send the partial batch
      for (let b = decoder.next(true); b !== null; b = decoder.next(true)) {
        rows += b.length;
        post(b);
      }
      break;
    }
  }
  parentPort!.postMessage({ kind: 'done', id: t.id, end: decoder.window.offset, rows } satisfies FromSpanWorker);
}

parentPort!.on('message', (t: SpanTask) => {
  try {
    decodeSpan(t);
  } catch (e) {
    const err = e instanceof OutpostError ? e : new OutpostError('input', (e as Error).message ?? String(e), { file: data.file });
    parentPort!.postMessage({ kind: 'error', id: t.id, code: err.code, message: err.message, location: { ...err.location }, details: { ...err.details } } satisfies FromSpanWorker);
  }
});
