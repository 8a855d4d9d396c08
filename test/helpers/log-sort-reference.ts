// The prediction log's sort as it was before src/api/common/sort-order.ts (main 47ec9fe's
// LogReader.sortedPage, verbatim): every batch decoded into JS arrays, then Int32Array.sort with a
// comparator over all rows. Tests and the serve-thread bench compare the new path against it.
import { OutpostError } from '../../src/common/errors.ts';
import { unpackColumns } from '../../src/store/common/packing.ts';
import { predictionFilter as where, type PredictionQuery, type PredictionRow } from '../../src/store/node/predictions.ts';
import type { Store } from '../../src/store/node/store.ts';

const MAX_SORT_ROWS = 2_000_000;

interface Loaded {
  n: number;
  jobId: string[];
  model: string[];
  version: Int32Array;
  loggedAt: Float64Array;
  row: Int32Array;
  columns: Map<string, (string | number | null)[]>;
}

/** A cheap fingerprint of what a query covers: changes when batches are added or removed. */
function versionOf(store: Store, q: PredictionQuery): string {
  const w = where(q);
  const r = store.db.prepare(`SELECT count(*) AS b, coalesce(sum(row_count), 0) AS n, coalesce(max(rowid), 0) AS m FROM prediction_batches ${w.sql}`).get(...w.args) as { b: number; n: number; m: number };
  return `${r.b}:${r.n}:${r.m}`;
}

function* batches(store: Store, q: PredictionQuery): Generator<{ job_id: string; model_name: string; model_version: number; logged_at: number; first_row: number; row_count: number; outputs: Buffer }> {
  const w = where(q);
  yield* store.db.prepare(`SELECT job_id, model_name, model_version, logged_at, first_row, row_count, outputs FROM prediction_batches ${w.sql} ORDER BY logged_at, job_id, seq`).iterate(...w.args) as Iterable<{ job_id: string; model_name: string; model_version: number; logged_at: number; first_row: number; row_count: number; outputs: Buffer }>;
}

function load(store: Store, q: PredictionQuery, total: number): Loaded {
  const L: Loaded = { n: 0, jobId: new Array(total), model: new Array(total), version: new Int32Array(total), loggedAt: new Float64Array(total), row: new Int32Array(total), columns: new Map() };
  for (const b of batches(store, q)) {
    const cols = unpackColumns(b.outputs);
    const rowCol = cols.find((c) => c.name === '#row');
    for (const c of cols) {
      if (c.name === '#row') continue;
      let dst = L.columns.get(c.name);
      if (!dst) L.columns.set(c.name, (dst = new Array(total).fill(null)));
      for (let i = 0; i < b.row_count; i++) dst[L.n + i] = c.values[i] as string | number | null;
    }
    for (let i = 0; i < b.row_count; i++) {
      const k = L.n + i;
      L.jobId[k] = b.job_id; L.model[k] = b.model_name; L.version[k] = b.model_version; L.loggedAt[k] = b.logged_at;
      L.row[k] = rowCol ? Number(rowCol.values[i]) : b.first_row + i;
    }
    L.n += b.row_count;
  }
  return L;
}

const compare = (a: string | number | null, b: string | number | null): number => {
  if (a === b) return 0;
  if (a === null) return 1; // nulls last either way round
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b;
  return String(a) < String(b) ? -1 : 1;
};

interface SortedView { key: string; version: string; loaded: Loaded; order: Int32Array }

/** The sort as it ran on the serving thread before the log-query worker (decode everything, comparator sort). */
export class ReferenceLogSort {
  #sorted: SortedView[] = [];
  readonly #store: Store;
  constructor(store: Store) { this.#store = store; }

  /** One page of a query sorted by an output column ('row' = data row number). Stable: ties keep log order. */
  sortedPage(q: PredictionQuery, column: string, descending: boolean, offset: number, limit: number, total: number): PredictionRow[] {
    if (total > MAX_SORT_ROWS) throw new OutpostError('usage', `sorting needs every matching row in memory: ${total.toLocaleString('en-US')} rows match, at most ${MAX_SORT_ROWS.toLocaleString('en-US')} can be sorted; narrow the query (job, model version or time)`);
    const key = JSON.stringify([q.jobId, q.model, q.version, q.since, q.until, column, descending]);
    const version = versionOf(this.#store, q);
    let view = this.#sorted.find((v) => v.key === key && v.version === version);
    if (!view) {
      const loaded = load(this.#store, q, total);
      const values = column === 'row' ? Array.from(loaded.row) : loaded.columns.get(column);
      if (!values) throw new OutpostError('usage', `cannot sort by "${column}": the log has ${['row', ...loaded.columns.keys()].join(', ')}`);
      const order = new Int32Array(loaded.n);
      for (let i = 0; i < loaded.n; i++) order[i] = i;
      const dir = descending ? -1 : 1;
      order.sort((a, b) => {
        const va = values[a], vb = values[b];
        // nulls stay last whichever way the user sorts
        const c = va === null || vb === null ? compare(va, vb) : dir * compare(va, vb);
        return c || a - b;
      });
      view = { key, version, loaded, order };
      this.#sorted = [view, ...this.#sorted.filter((v) => v.key !== key)].slice(0, 2);
    }
    const { loaded, order } = view;
    const out: PredictionRow[] = [];
    for (let k = offset; k < Math.min(loaded.n, offset + limit); k++) {
      const i = order[k];
      const values: Record<string, string | number | null> = {};
      for (const [name, col] of loaded.columns) values[name] = col[i];
      out.push({ jobId: loaded.jobId[i], model: loaded.model[i], version: loaded.version[i], loggedAt: loaded.loggedAt[i], row: loaded.row[i], values });
    }
    return out;
  }
}
