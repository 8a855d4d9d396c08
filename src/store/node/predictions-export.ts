// Export the prediction log (one job, or one model's versions, from a time on) as CSV, JSON Lines or
// Parquet, streamed: one log batch at a time is decoded and written, so memory stays at one batch
// whatever the log's size. The file appears only when complete (the sinks' temp file + rename).
import fs from 'node:fs';
import { OutpostError } from '../../common/errors.ts';
import type { OutColumn, OutputFormat, TableSink } from '../../io/common/table.ts';
import { openSink } from '../../io/node/open.ts';
import { unpackColumns, type PackedColumn } from '../common/packing.ts';
import { countPredictions, predictionFilter, type PredictionQuery } from './predictions.ts';
import type { Store } from './store.ts';

type ExportType = 'float32' | 'float64' | 'int' | 'string';

export interface ExportOptions {
  format: OutputFormat;
  /** CSV: neutralise text cells a spreadsheet would run as formulas (setting csvSafe) */
  csvSafe?: boolean;
  signal?: AbortSignal;
  onProgress?: (rows: number, total: number) => void;
}

export interface ExportResult { rows: number; batches: number; columns: string[] }

const FIXED: { name: string; type: ExportType }[] = [
  { name: 'job', type: 'string' }, { name: 'model', type: 'string' }, { name: 'version', type: 'int' }, { name: 'logged_at', type: 'string' }, { name: 'row', type: 'int' },
];

const typeOf = (c: { type: string }): ExportType => (c.type === 'f32' ? 'float32' : c.type === 'f64' ? 'float64' : c.type === 'i32' ? 'int' : 'string');

/** Only the header of a packed batch: its column names and types (no values decoded). */
function packedHeader(blob: Uint8Array): { name: string; type: string }[] {
  const hlen = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(0, true);
  return JSON.parse(new TextDecoder().decode(blob.subarray(4, 4 + hlen))) as { name: string; type: string }[];
}

interface BatchRow { job_id: string; model_name: string; model_version: number; logged_at: number; first_row: number; row_count: number; outputs: Buffer; inputs: Buffer | null }

/**
 * The export's columns: job, model, version, logged_at, row, then every output column (id, label,
 * p_<class>…, value) and logged input (`input.<name>`) that any matching batch has, in order of
 * first appearance. A column two batches store with different types is written as text.
 */
function exportSchema(store: Store, q: PredictionQuery): { name: string; type: ExportType; source: 'out' | 'in'; key: string }[] {
  const w = predictionFilter(q);
  const cols = new Map<string, { name: string; type: ExportType; source: 'out' | 'in'; key: string }>();
  const heads = store.db.prepare(`SELECT substr(outputs, 1, 65536) AS o, substr(inputs, 1, 65536) AS i, rowid FROM prediction_batches ${w.sql}`).iterate(...w.args) as Iterable<{ o: Buffer; i: Buffer | null; rowid: number }>;
  const full = store.db.prepare('SELECT outputs AS o, inputs AS i FROM prediction_batches WHERE rowid = ?');
  const add = (source: 'out' | 'in', entries: { name: string; type: string }[]) => {
    for (const e of entries) {
      if (e.name === '#row') continue;
      const name = source === 'in' ? `input.${e.name}` : e.name;
      const type = typeOf(e);
      const had = cols.get(name);
      if (!had) cols.set(name, { name, type, source, key: e.name });
      else if (had.type !== type) had.type = had.type !== 'string' && type !== 'string' ? 'float64' : 'string';
    }
  };
  for (const h of heads) {
    let o = h.o;
    let i = h.i;
    const needsFull = (b: Buffer | null) => b !== null && b.length >= 4 && 4 + b.readUInt32LE(0) > b.length;
    if (needsFull(o) || needsFull(i)) ({ o, i } = full.get(h.rowid) as { o: Buffer; i: Buffer | null });
    add('out', packedHeader(o));
    if (i) add('in', packedHeader(i));
  }
  const all = [...cols.values()];
  return [...all.filter((c) => c.source === 'out'), ...all.filter((c) => c.source === 'in')];
}

function column(name: string, type: ExportType, n: number): OutColumn {
  switch (type) {
    case 'float32': return { name, type, values: new Float32Array(n).fill(NaN) };
    case 'float64': return { name, type, values: new Float64Array(n).fill(NaN) };
    case 'int': return { name, type, values: new Float64Array(n).fill(NaN) };
    case 'string': return { name, type, values: new Array<string | null>(n).fill(null) };
  }
}

function put(col: OutColumn, i: number, v: number | string | null): void {
  if (col.type === 'string') col.values[i] = v === null ? null : String(v);
  else if (col.type !== 'dict' && col.type !== 'utf8') col.values[i] = v === null ? NaN : Number(v);
}

export async function exportPredictions(store: Store, q: PredictionQuery, out: string, opts: ExportOptions): Promise<ExportResult> {
  const total = countPredictions(store, q);
  if (total === 0) throw new OutpostError('not-found', 'no logged predictions match (the job or model has none in the log, or retention removed them)');
  const schema = [...FIXED.map((f) => ({ ...f, source: 'fixed' as const, key: f.name })), ...exportSchema(store, q)];
  const seen = new Set<string>();
  for (const c of schema) {
    // an id column named like a fixed one ("row", "model"…) keeps its own name with a prefix
    if (seen.has(c.name)) c.name = `output.${c.name}`;
    seen.add(c.name);
  }
  const w = predictionFilter(q);
  let sink: TableSink | undefined;
  let rows = 0;
  let batches = 0;
  try {
    sink = await openSink(out, opts.format, opts.csvSafe ? { csvSafe: true } : {});
    const it = store.db.prepare(`SELECT job_id, model_name, model_version, logged_at, first_row, row_count, outputs, inputs FROM prediction_batches ${w.sql} ORDER BY logged_at, job_id, seq`).iterate(...w.args) as Iterable<BatchRow>;
    for (const b of it) {
      if (opts.signal?.aborted) throw new OutpostError('cancelled', 'export stopped by the user');
      const n = b.row_count;
      const outs = unpackColumns(b.outputs);
      const ins = b.inputs ? unpackColumns(b.inputs) : [];
      const rowCol = outs.find((c) => c.name === '#row');
      const rowOf = (i: number) => (rowCol ? Number(rowCol.values[i]) : b.first_row + i);
      const cols = schema.map((c) => column(c.name, c.type, n));
      const at = new Date(b.logged_at).toISOString();
      for (let i = 0; i < n; i++) {
        put(cols[0], i, b.job_id);
        put(cols[1], i, b.model_name);
        put(cols[2], i, b.model_version);
        put(cols[3], i, at);
        put(cols[4], i, rowOf(i));
      }
      const byKey = (list: PackedColumn[]) => new Map(list.map((c) => [c.name, c]));
      const outMap = byKey(outs);
      const inMap = byKey(ins);
      // logged inputs carry their own row numbers (a sample of the batch's rows, or all of them)
      const inRows = inMap.get('#row');
      const inIndex = new Map<number, number>();
      if (inRows) for (let k = 0; k < inRows.values.length; k++) inIndex.set(Number(inRows.values[k]), k);
      schema.forEach((c, j) => {
        if (c.source === 'fixed') return;
        const src = (c.source === 'out' ? outMap : inMap).get(c.key);
        if (!src) return;
        const dst = cols[j];
        if (c.source === 'out') for (let i = 0; i < n; i++) put(dst, i, src.values[i] as number | string | null);
        else for (let i = 0; i < n; i++) {
          const k = inRows ? inIndex.get(rowOf(i)) : i;
          if (k !== undefined) put(dst, i, src.values[k] as number | string | null);
        }
      });
      await sink.write({ length: n, columns: cols });
      rows += n;
      batches++;
      opts.onProgress?.(rows, total);
    }
    await sink.finish();
    return { rows, batches, columns: schema.map((c) => c.name) };
  } catch (e) {
    if (sink) {
      const st = await sink.checkpoint().catch(() => undefined);
      await sink.close().catch(() => {});
      if (st) fs.rmSync(st.tempPath, { force: true });
    }
    throw e;
  }
}
