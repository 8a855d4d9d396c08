// Reads the prediction log column-wise for what pagePredictions (row-wise, oldest first) does not
// do: sorting a whole query by one output column, and a job's output distribution. Decoded columns
// are cached per query (invalidated when batches are added) so paging a sorted view is cheap.
import { OutpostError } from '../../common/errors.ts';
import { unpackColumns } from '../../store/common/packing.ts';
import { predictionFilter as where, type PredictionQuery, type PredictionRow } from '../../store/node/predictions.ts';
import type { Store } from '../../store/node/store.ts';
import type { Distribution } from '../common/contract.ts';
import { histogram } from '../common/histogram.ts';

/** Sorting decodes every matching row; beyond this the user narrows the query first. */
export const MAX_SORT_ROWS = 2_000_000;

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

export class LogReader {
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
