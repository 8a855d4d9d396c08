// Reads the prediction log column-wise for what pagePredictions (row-wise, oldest first) does not
// do: sorting a whole query by one output column, and a job's output distribution. It runs in the
// log-query worker (log-queries.ts), never on the serving thread. A sorted view (the query's
// batches, the sort column's keys, the orders computed so far) is kept per query and column until
// the query's batches change, so paging a sorted view is cheap.
import { OutpostError } from '../../common/errors.ts';
import { openPacked, unpackColumns, type PackedBatch } from '../../store/common/packing.ts';
import { appendKeys, fullOrder, keyBuilder, topK, type SortKeys, type SortValue } from '../common/sort-order.ts';
import { batchInputs, predictionFilter as where, type PredictionQuery, type PredictionRow } from '../../store/node/predictions.ts';
import type { Store } from '../../store/node/store.ts';
import type { Distribution } from '../common/contract.ts';
import { histogram } from '../common/histogram.ts';

/** Sorting reads every matching row's sort key; beyond this the user narrows the query first. */
export const MAX_SORT_ROWS = 2_000_000;

/** Pages up to this far down are selected with a heap of offset + limit rows; deeper, the whole order is sorted once and kept. */
export const TOP_K_MAX = 10_000;

interface Meta { rowid: number; job_id: string; model_name: string; model_version: number; logged_at: number; first_row: number; row_count: number }

/** One query's batches with one column's sort keys; the orders computed so far, per direction. */
interface View {
  query: string;
  column: string;
  version: string;
  metas: Meta[];
  batches: PackedBatch[];
  /** row index where each batch starts (prefix sums of row_count), then n */
  starts: Float64Array;
  n: number;
  /** every output column of the query, first seen first ('#row' left out) */
  names: string[];
  keys: SortKeys;
  /** per direction: the first rows of the order (a top-k selection) or the whole order */
  orders: Map<boolean, { order: Int32Array; whole: boolean }>;
}

/** A cheap fingerprint of what a query covers: changes when batches are added or removed. */
function versionOf(store: Store, q: PredictionQuery): string {
  const w = where(q);
  const r = store.db.prepare(`SELECT count(*) AS b, coalesce(sum(row_count), 0) AS n, coalesce(max(rowid), 0) AS m FROM prediction_batches ${w.sql}`).get(...w.args) as { b: number; n: number; m: number };
  return `${r.b}:${r.n}:${r.m}`;
}

function* batches(store: Store, q: PredictionQuery): Generator<Meta & { outputs: Buffer }> {
  const w = where(q);
  yield* store.db.prepare(`SELECT rowid, job_id, model_name, model_version, logged_at, first_row, row_count, outputs FROM prediction_batches ${w.sql} ORDER BY logged_at, job_id, seq`).iterate(...w.args) as Iterable<Meta & { outputs: Buffer }>;
}

/** Add one batch's values of the sort column to the keys. */
function addBatch(keys: ReturnType<typeof keyBuilder>, m: Meta, p: PackedBatch, column: string): void {
  const dict = column === 'row' ? undefined : p.codes(column);
  if (dict && dict.codes.length === m.row_count) { keys.addCodes(dict.codes, dict.dictionary); return; }
  const c = dict ? undefined : p.column(column === 'row' ? '#row' : column);
  for (let i = 0; i < m.row_count; i++) {
    if (column === 'row') keys.add(c ? Number(c.values[i]) | 0 : (m.first_row + i) | 0);
    else keys.add(c ? (c.values[i] as SortValue) : null);
  }
}

function startsOf(metas: Meta[]): Float64Array {
  const starts = new Float64Array(metas.length + 1);
  for (let k = 0; k < metas.length; k++) starts[k + 1] = starts[k] + metas[k].row_count;
  return starts;
}

/** Read a query's batches (headers only) and decode the one column it is sorted by. */
function load(store: Store, q: PredictionQuery, query: string, column: string, version: string): View {
  const metas: Meta[] = [];
  const packed: PackedBatch[] = [];
  const names = new Set<string>();
  for (const b of batches(store, q)) {
    const { outputs, ...meta } = b;
    metas.push(meta);
    const p = openPacked(outputs);
    packed.push(p);
    for (const name of p.names) if (name !== '#row') names.add(name);
  }
  const starts = startsOf(metas);
  const n = starts[metas.length];
  if (column !== 'row' && !names.has(column)) throw new OutpostError('usage', `cannot sort by "${column}": the log has ${['row', ...names].join(', ')}`);
  const keys = keyBuilder(n);
  for (let k = 0; k < metas.length; k++) addBatch(keys, metas[k], packed[k], column);
  return { query, column, version, metas, batches: packed, starts, n, names: [...names], keys: keys.done(), orders: new Map() };
}

/**
 * The view with the batches a running job appended since it was built: when the query's batches
 * are the view's, in the same order, followed by new ones, only the new ones are read and their
 * keys appended (numeric columns; string ranks change with new strings, so those are rebuilt).
 * Undefined when anything else changed.
 */
function extend(store: Store, q: PredictionQuery, view: View, version: string): View | undefined {
  if (view.keys.ranked || view.keys.mixed) return undefined;
  const w = where(q);
  const ids = store.db.prepare(`SELECT rowid FROM prediction_batches ${w.sql} ORDER BY logged_at, job_id, seq`).pluck().all(...w.args) as number[];
  if (ids.length <= view.metas.length) return undefined;
  for (let k = 0; k < view.metas.length; k++) if (ids[k] !== view.metas[k].rowid) return undefined;
  const get = store.db.prepare('SELECT rowid, job_id, model_name, model_version, logged_at, first_row, row_count, outputs FROM prediction_batches WHERE rowid = ?');
  const added: Meta[] = [], packed: PackedBatch[] = [];
  const names = new Set(view.names);
  for (const id of ids.slice(view.metas.length)) {
    const { outputs, ...meta } = get.get(id) as Meta & { outputs: Buffer };
    added.push(meta);
    const p = openPacked(outputs);
    packed.push(p);
    for (const name of p.names) if (name !== '#row') names.add(name);
  }
  const more = keyBuilder(added.reduce((s, m) => s + m.row_count, 0));
  for (let k = 0; k < added.length; k++) addBatch(more, added[k], packed[k], view.column);
  const keys = appendKeys(view.keys, more.done());
  if (!keys) return undefined;
  const metas = [...view.metas, ...added];
  return { ...view, version, metas, batches: [...view.batches, ...packed], starts: startsOf(metas), n: keys.n, names: [...names], keys, orders: new Map() };
}

/** Rows `offset`… of the view's order: outputs from the kept batches, logged inputs read for the batches the page touches. */
function page(store: Store, view: View, descending: boolean, offset: number, limit: number): PredictionRow[] {
  const end = Math.min(view.n, offset + limit);
  if (offset >= end) return [];
  let o = view.orders.get(descending);
  if (!o || (!o.whole && o.order.length < end)) {
    // select a few pages ahead: the pass over the keys costs about the same
    const k = Math.max(1_000, 2 * end);
    o = k <= TOP_K_MAX && k <= view.n / 4 ? { order: topK(view.keys, descending, k), whole: false } : { order: fullOrder(view.keys, descending), whole: true };
    view.orders.set(descending, o);
  }
  const inputsOf = store.db.prepare('SELECT inputs FROM prediction_batches WHERE rowid = ?').pluck();
  const inputs = new Map<number, ReturnType<typeof batchInputs>>();
  const out: PredictionRow[] = [];
  for (let k = offset; k < end; k++) {
    const r = o.order[k];
    // the batch that holds row r: the last whose start is <= r
    let lo = 0, hi = view.metas.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (view.starts[mid] <= r) lo = mid; else hi = mid - 1; }
    const m = view.metas[lo], p = view.batches[lo], i = r - view.starts[lo];
    const values: Record<string, string | number | null> = {};
    for (const name of view.names) values[name] = p.value(name, i) ?? null;
    const stored = p.value('#row', i);
    const row = stored !== undefined ? Number(stored) | 0 : (m.first_row + i) | 0;
    if (!inputs.has(m.rowid)) inputs.set(m.rowid, batchInputs(inputsOf.get(m.rowid) as Buffer | null));
    inputs.get(m.rowid)?.(values, row, i);
    out.push({ jobId: m.job_id, model: m.model_name, version: m.model_version, loggedAt: m.logged_at, row, values });
  }
  return out;
}

export class LogReader {
  #views: View[] = [];
  readonly #store: Store;
  constructor(store: Store) { this.#store = store; }

  /**
   * One page of a query sorted by an output column ('row' = data row number). Stable: ties keep log
   * order; nulls last either way; NaN above every number. Only the sort column is decoded for the
   * whole query (the rows of the page, with their logged inputs, are read from their batches); a page near the top is a heap
   * selection of offset + limit rows, a deeper one sorts the whole order once. Both are kept until
   * the query's batches change; batches a running job appends are added to the kept keys.
   */
  sortedPage(q: PredictionQuery, column: string, descending: boolean, offset: number, limit: number, total: number): PredictionRow[] {
    if (total > MAX_SORT_ROWS) throw new OutpostError('usage', `sorting needs every matching row in memory: ${total.toLocaleString('en-US')} rows match, at most ${MAX_SORT_ROWS.toLocaleString('en-US')} can be sorted; narrow the query (job, model version or time)`);
    const query = JSON.stringify([q.jobId, q.model, q.version, q.since, q.until]);
    // one read transaction: the version and the batches are one snapshot while a job commits more
    return this.#store.db.transaction(() => {
      const version = versionOf(this.#store, q);
      const kept = this.#views.find((v) => v.query === query && v.column === column);
      let view = kept?.version === version ? kept : undefined;
      if (!view) {
        view = (kept && extend(this.#store, q, kept, version)) ?? load(this.#store, q, query, column, version);
        this.#views = [view, ...this.#views.filter((v) => !(v.query === query && v.column === column))].slice(0, 2);
      }
      return page(this.#store, view, descending, offset, limit);
    })();
  }

  /** Class counts and top-class confidence (classifiers) or a value histogram (regression) of one job. */
  distribution(jobId: string, bins: number): Distribution {
    const labels = new Map<string, number>();
    const conf: number[] = [];
    const vals: number[] = [];
    let total = 0;
    for (const b of batches(this.#store, { jobId })) {
      const cols = unpackColumns(b.outputs);
      const label = cols.find((c) => c.name === 'label');
      const probs = cols.filter((c) => c.name.startsWith('p_'));
      const value = cols.find((c) => c.name === 'value');
      for (let i = 0; i < b.row_count; i++) {
        if (label) {
          const l = String(label.values[i] ?? '(none)');
          labels.set(l, (labels.get(l) ?? 0) + 1);
          if (probs.length) {
            let best = -Infinity;
            for (const p of probs) best = Math.max(best, Number(p.values[i]));
            conf.push(best);
          }
        } else if (value) vals.push(Number(value.values[i]));
      }
      total += b.row_count;
    }
    if (total === 0) return { kind: 'empty', jobId, total: 0 };
    if (labels.size) {
      return {
        kind: 'classes', jobId, total,
        classes: [...labels.entries()].map(([l, count]) => ({ label: l, count })).sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1)),
        confidence: histogram(conf, bins, 0, 1),
      };
    }
    return { kind: 'values', jobId, total, histogram: histogram(vals, bins) };
  }
}
