// The prediction log. Predictions are stored a batch per SQL row (packed columns), written in the
// same transaction as the job checkpoint they belong to, and read back through a paging API that
// yields ordinary rows. Retention (age, size) keeps the file bounded.
import { openPacked, packColumns, unpackColumns, type ColumnToPack, type PackedColumn } from '../common/packing.ts';
import { dropOrphanedPredictions } from './outbox.ts';
import type { Settings, Store } from './store.ts';

export interface PredictionBatchRecord {
  jobId: string;
  seq: number;
  modelName: string;
  modelVersion: number;
  /** data row number of each logged prediction (i32), ids, outputs */
  outputs: ColumnToPack[];
  /** logged inputs per policy (with their own `row` column when sampled), or none */
  inputs?: PackedColumn[];
  rowCount: number;
  firstRow: number;
  loggedAt: number;
}

/** Store one batch; returns its size in bytes. */
export function insertPredictionBatch(store: Store, r: PredictionBatchRecord): number {
  const outputs = packColumns(r.outputs);
  const inputs = r.inputs ? packColumns(r.inputs) : null;
  const size = outputs.length + (inputs?.length ?? 0);
  store.db.prepare(`INSERT INTO prediction_batches (job_id, seq, model_name, model_version, first_row, row_count, logged_at, outputs, inputs, size_bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(r.jobId, r.seq, r.modelName, r.modelVersion, r.firstRow, r.rowCount, r.loggedAt, outputs, inputs, size);
  return size;
}

export interface PredictionQuery {
  jobId?: string;
  model?: string;
  version?: number;
  /** epoch ms, inclusive */
  since?: number;
  until?: number;
  offset?: number;
  limit?: number;
}

export interface PredictionRow {
  jobId: string;
  model: string;
  version: number;
  loggedAt: number;
  row: number;
  /** output columns by name: id, label, p_<class>… / value; logged inputs as input.<name> */
  values: Record<string, string | number | null>;
}

/** The SQL filter (WHERE clause and arguments) over prediction_batches for a query. */
export function predictionFilter(q: PredictionQuery): { sql: string; args: (string | number)[] } {
  const c: string[] = [];
  const args: (string | number)[] = [];
  if (q.jobId !== undefined) { c.push('job_id = ?'); args.push(q.jobId); }
  if (q.model !== undefined) { c.push('model_name = ?'); args.push(q.model); }
  if (q.version !== undefined) { c.push('model_version = ?'); args.push(q.version); }
  if (q.since !== undefined) { c.push('logged_at >= ?'); args.push(q.since); }
  if (q.until !== undefined) { c.push('logged_at <= ?'); args.push(q.until); }
  return { sql: c.length ? `WHERE ${c.join(' AND ')}` : '', args };
}

export function countPredictions(store: Store, q: PredictionQuery = {}): number {
  const w = predictionFilter(q);
  return (store.db.prepare(`SELECT coalesce(sum(row_count), 0) AS n FROM prediction_batches ${w.sql}`).get(...w.args) as { n: number }).n;
}

/**
 * A batch's logged inputs, as a function adding a row's `input.<name>` values: a batch that logged
 * a sample of its inputs stores their data row numbers (`#row`) and is matched by `row`; one that
 * logged them all by position `i`. Undefined when the batch logged no inputs. Read lazily.
 */
export function batchInputs(blob: Uint8Array | null): ((values: PredictionRow['values'], row: number, i: number) => void) | undefined {
  if (!blob) return undefined;
  const p = openPacked(blob);
  const names = p.names.filter((n) => n !== '#row');
  const rowCol = p.column('#row');
  const index = new Map<number, number>();
  if (rowCol) for (let k = 0; k < rowCol.values.length; k++) index.set(Number(rowCol.values[k]), k);
  return (values, row, i) => {
    const k = rowCol ? index.get(row) : i;
    if (k !== undefined) for (const name of names) values[`input.${name}`] = p.value(name, k) ?? null;
  };
}

/** Page through logged predictions as rows, oldest first. Only the batches that hold the page are decoded. */
export function pagePredictions(store: Store, q: PredictionQuery = {}): PredictionRow[] {
  const offset = q.offset ?? 0;
  const limit = q.limit ?? 100;
  const w = predictionFilter(q);
  const metas = store.db.prepare(`SELECT rowid, job_id, seq, model_name, model_version, logged_at, first_row, row_count FROM prediction_batches ${w.sql} ORDER BY logged_at, job_id, seq`).all(...w.args) as { rowid: number; job_id: string; model_name: string; model_version: number; logged_at: number; first_row: number; row_count: number }[];
  const blobOf = store.db.prepare('SELECT outputs, inputs FROM prediction_batches WHERE rowid = ?');
  const out: PredictionRow[] = [];
  let skip = offset;
  for (const m of metas) {
    if (out.length >= limit) break;
    if (skip >= m.row_count) { skip -= m.row_count; continue; }
    const b = blobOf.get(m.rowid) as { outputs: Buffer; inputs: Buffer | null };
    const cols = unpackColumns(b.outputs);
    const rowCol = cols.find((c) => c.name === '#row');
    const addInputs = batchInputs(b.inputs);
    for (let i = skip; i < m.row_count && out.length < limit; i++) {
      const row = rowCol ? Number(rowCol.values[i]) : m.first_row + i;
      const values: Record<string, string | number | null> = {};
      for (const c of cols) if (c.name !== '#row') values[c.name] = c.values[i] as string | number | null;
      addInputs?.(values, row, i);
      out.push({ jobId: m.job_id, model: m.model_name, version: m.model_version, loggedAt: m.logged_at, row, values });
    }
    skip = 0;
  }
  return out;
}

export interface LogSize { batches: number; rows: number; bytes: number }

export function logSize(store: Store): LogSize {
  return store.db.prepare('SELECT count(*) AS batches, coalesce(sum(row_count), 0) AS rows, coalesce(sum(size_bytes), 0) AS bytes FROM prediction_batches').get() as LogSize;
}

/** The bytes of the prediction log: the running total the store's triggers keep (migration 9). */
export function logBytes(store: Store): number {
  return (store.db.prepare('SELECT bytes FROM prediction_log_size WHERE id = 1').get() as { bytes: number }).bytes;
}

/** Drop the oldest batches beyond the age and size limits. Returns the number of batches removed. */
export function enforceRetention(store: Store, settings: Pick<Settings, 'retentionMaxBytes' | 'retentionMaxAgeDays'>, now = Date.now()): number {
  const db = store.db;
  return db.transaction(() => {
    let removed = db.prepare('DELETE FROM prediction_batches WHERE logged_at < ?').run(now - settings.retentionMaxAgeDays * 86_400_000).changes;
    let bytes = logBytes(store);
    if (bytes > settings.retentionMaxBytes) {
      const oldest = db.prepare('SELECT rowid, size_bytes FROM prediction_batches ORDER BY logged_at, job_id, seq').iterate() as IterableIterator<{ rowid: number; size_bytes: number }>;
      const drop: number[] = [];
      for (const r of oldest) {
        if (bytes <= settings.retentionMaxBytes) break;
        drop.push(r.rowid);
        bytes -= r.size_bytes;
      }
      const del = db.prepare('DELETE FROM prediction_batches WHERE rowid = ?');
      for (const id of drop) del.run(id);
      removed += drop.length;
    }
    // never silently: unsent prediction items whose batches went are recorded as dropped
    if (removed) dropOrphanedPredictions(store, now);
    return removed;
  })();
}
