// Performance of a model version from its joined labels (src/monitor/node/labels.ts), per window —
// a scoring job, or the UTC hour or day in which the predictions were logged — with sample sizes
// and 95 % intervals (methods in ../common/performance.ts). A window whose metric crosses the card's
// `monitoring.performance` bound with enough labels opens a performance alert (one row per model
// version, scope, window and metric; a later evaluation within bounds clears it), which syncs to the
// hub as an `alert` item like a drift alert does (feature `performance.<metric>`).
import { OutpostError } from '../../common/errors.ts';
import type { Card, PerformanceMetric } from '../../package/common/card.ts';
import { enqueue } from '../../store/node/outbox.ts';
import { getModel } from '../../store/node/models.ts';
import type { Store } from '../../store/node/store.ts';
import {
  accuracy, auc, classifierMetrics, f1, logLoss, mae, regressionMetrics, rmse, type ClassifierMetrics, type ClassifierSample, type MetricValue, type RegressionMetrics,
} from '../common/performance.ts';
import { isoTime, windowStart, type WindowWidth } from '../common/windows.ts';

export type PerformanceScope = 'job' | WindowWidth;

export interface PerformanceWindow {
  scope: PerformanceScope;
  /** job id, or the window's start (ISO time) */
  key: string;
  /** first and last prediction time in the window (epoch ms) */
  from: number;
  to: number;
  n: number;
  late: number;
  /** classifiers: labels per class */
  classCounts?: Record<string, number>;
  metrics: Partial<ClassifierMetrics & RegressionMetrics>;
  /** the card's bound and whether this window breaks it (null: too few labels or no bound) */
  check: { metric: PerformanceMetric; bound: number; direction: 'min' | 'max'; minSamples: number; breached: boolean | null; reason?: string } | null;
}

export interface PerformanceResult {
  model: string;
  version: number;
  task: Card['task'];
  scope: PerformanceScope;
  windows: PerformanceWindow[];
  /** every label of the version together */
  overall: PerformanceWindow;
  labelled: number;
  alerts: PerformanceAlert[];
}

interface LabelRow { job_id: string; predicted_at: number; truth: string; truth_value: number | null; predicted: string | null; scores_json: string | null; predicted_value: number | null; late: number }

function bucketKey(scope: PerformanceScope, r: LabelRow): string {
  return scope === 'job' ? r.job_id : isoTime(windowStart(scope, r.predicted_at));
}

const ONE: Record<PerformanceMetric, (s: never) => MetricValue> = { accuracy, f1, auc, logLoss, rmse, mae };

/** Metrics of one window; `only`: just that metric (alert evaluation need not pay for the rest). */
function evaluate(card: Card, scope: PerformanceScope, key: string, rows: LabelRow[], only?: PerformanceMetric): PerformanceWindow {
  let from = Infinity;
  let to = -Infinity;
  let late = 0;
  for (const r of rows) {
    from = Math.min(from, r.predicted_at);
    to = Math.max(to, r.predicted_at);
    late += r.late;
  }
  const w: PerformanceWindow = { scope, key, from, to, n: rows.length, late, metrics: {}, check: null };
  if (card.task === 'regression') {
    const keep = rows.filter((r) => r.truth_value !== null && r.predicted_value !== null);
    const sample = { truth: Float64Array.from(keep, (r) => r.truth_value!), predicted: Float64Array.from(keep, (r) => r.predicted_value!) };
    w.metrics = only ? { [only]: ONE[only](sample as never) } : regressionMetrics(sample);
  } else {
    const classes = card.outputs.classes!;
    const index = new Map(classes.map((c, i) => [c, i]));
    const keep = rows.filter((r) => index.has(r.truth) && r.predicted !== null && index.has(r.predicted));
    const sample: ClassifierSample = {
      classes,
      truth: Int32Array.from(keep, (r) => index.get(r.truth)!),
      predicted: Int32Array.from(keep, (r) => index.get(r.predicted!)!),
    };
    if (keep.length && keep.every((r) => r.scores_json !== null)) {
      const parsed = keep.map((r) => JSON.parse(r.scores_json!) as number[]);
      sample.scores = classes.map((_, c) => Float64Array.from(parsed, (p) => p[c]));
    }
    w.metrics = only ? { [only]: ONE[only](sample as never) } : classifierMetrics(sample);
    w.classCounts = Object.fromEntries(classes.map((c) => [c, 0]));
    for (const r of keep) w.classCounts[r.truth]++;
  }
  const p = card.monitoring?.performance;
  if (p) {
    const direction = p.max !== undefined && p.min === undefined ? 'max' : 'min';
    const bound = direction === 'min' ? p.min! : p.max!;
    const m = (w.metrics as Record<string, MetricValue | undefined>)[p.metric];
    let breached: boolean | null = null;
    let reason: string | undefined;
    if (w.n < p.minSamples) reason = `${w.n} labels, fewer than the ${p.minSamples} the card asks for`;
    else if (!m || m.value === null) reason = m?.note ?? `${p.metric} is not available`;
    else breached = direction === 'min' ? m.value < bound : m.value > bound;
    w.check = { metric: p.metric, bound, direction, minSamples: p.minSamples, breached, ...(reason ? { reason } : {}) };
  }
  return w;
}

/** The labels of one version, grouped by scope. */
function windowsOf(store: Store, card: Card, name: string, version: number, scope: PerformanceScope, only?: PerformanceMetric): { windows: PerformanceWindow[]; all: LabelRow[] } {
  const rows = store.db.prepare('SELECT job_id, predicted_at, truth, truth_value, predicted, scores_json, predicted_value, late FROM labels WHERE model_name = ? AND model_version = ? ORDER BY predicted_at, job_id, row')
    .all(name, version) as LabelRow[];
  const groups = new Map<string, LabelRow[]>();
  for (const r of rows) {
    const k = bucketKey(scope, r);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  const windows = [...groups].map(([k, g]) => evaluate(card, scope, k, g, only)).sort((a, b) => a.from - b.from || (a.key < b.key ? -1 : 1));
  return { windows, all: rows };
}

export function performanceForModel(store: Store, ref: string, scope: PerformanceScope = 'day'): PerformanceResult {
  const model = getModel(store, ref);
  const { windows, all } = windowsOf(store, model.card, model.name, model.version, scope);
  if (!all.length) {
    const other = store.db.prepare('SELECT model_version AS v, count(*) AS n FROM labels WHERE model_name = ? GROUP BY model_version ORDER BY model_version').all(model.name) as { v: number; n: number }[];
    throw new OutpostError('not-found', `${model.name}@${model.version} has no labelled predictions${other.length ? ` (labelled versions: ${other.map((o) => `@${o.v} (${o.n})`).join(', ')})` : ' (join ground truth with `outpost labels add <file> --model ' + model.name + ' --id COL --label COL`)'}`);
  }
  const overall = evaluate(model.card, scope, 'all', all);
  overall.check = null;
  return {
    model: model.name, version: model.version, task: model.card.task, scope, windows, overall, labelled: all.length,
    alerts: listPerformanceAlerts(store, { model: model.name, version: model.version }),
  };
}

// ---- alerts ----

export interface PerformanceAlert {
  id: number;
  model: string;
  version: number;
  scope: PerformanceScope;
  scopeKey: string;
  metric: string;
  value: number;
  ci: { low: number; high: number } | null;
  threshold: number;
  direction: 'min' | 'max';
  n: number;
  firstAt: number;
  lastAt: number;
  clearedAt: number | null;
}

/**
 * Evaluate the windows a label import touched (every scope: jobs, hours, days) against the card's
 * bound and open or clear alerts; opening and clearing are sync items. Returns the alerts opened now.
 */
export function evaluatePerformanceAlerts(store: Store, name: string, versions: readonly number[], now = Date.now()): PerformanceAlert[] {
  const opened: number[] = [];
  for (const version of versions) {
    const card = getModel(store, `${name}@${version}`).card;
    const p = card.monitoring?.performance;
    if (!p) continue;
    store.db.transaction(() => {
      for (const scope of ['job', 'hour', 'day'] as const) {
        for (const w of windowsOf(store, card, name, version, scope, p.metric).windows) {
          if (!w.check || w.check.breached === null) continue;
          const m = (w.metrics as Record<string, MetricValue>)[p.metric];
          const open = store.db.prepare('SELECT id FROM performance_alerts WHERE model_name = ? AND model_version = ? AND scope = ? AND scope_key = ? AND metric = ? AND cleared_at IS NULL')
            .get(name, version, scope, w.key, p.metric) as { id: number } | undefined;
          const item = (state: 'opened' | 'cleared') => enqueue(store, 'alert', {
            state, model: name, version, scope, scopeKey: w.key, feature: `performance.${p.metric}`, method: `${p.metric} ${w.check!.direction === 'min' ? '<' : '>'} bound`,
            statistic: m.value, score: m.value, threshold: w.check!.bound, nReference: 0, nCurrent: w.n, at: now,
          });
          if (w.check.breached) {
            const r = store.db.prepare(`INSERT INTO performance_alerts (model_name, model_version, scope, scope_key, metric, value, ci_low, ci_high, threshold, direction, n, first_at, last_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
              ON CONFLICT (model_name, model_version, scope, scope_key, metric) DO UPDATE SET value = excluded.value, ci_low = excluded.ci_low, ci_high = excluded.ci_high,
                threshold = excluded.threshold, direction = excluded.direction, n = excluded.n, last_at = excluded.last_at, cleared_at = NULL
              RETURNING id`).get(name, version, scope, w.key, p.metric, m.value, m.ci?.low ?? null, m.ci?.high ?? null, w.check.bound, w.check.direction, w.n, now, now) as { id: number };
            if (!open) { item('opened'); opened.push(r.id); }
          } else if (open) {
            store.db.prepare('UPDATE performance_alerts SET cleared_at = ?, value = ?, n = ?, last_at = ? WHERE id = ?').run(now, m.value, w.n, now, open.id);
            item('cleared');
          }
        }
      }
    })();
  }
  return opened.length ? listPerformanceAlerts(store, { ids: opened }) : [];
}

interface AlertRow {
  id: number; model_name: string; model_version: number; scope: PerformanceScope; scope_key: string; metric: string; value: number;
  ci_low: number | null; ci_high: number | null; threshold: number; direction: 'min' | 'max'; n: number; first_at: number; last_at: number; cleared_at: number | null;
}

export function listPerformanceAlerts(store: Store, q: { model?: string; version?: number; activeOnly?: boolean; ids?: readonly number[]; limit?: number } = {}): PerformanceAlert[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.model !== undefined) { where.push('model_name = ?'); args.push(q.model); }
  if (q.version !== undefined) { where.push('model_version = ?'); args.push(q.version); }
  if (q.activeOnly) where.push('cleared_at IS NULL');
  if (q.ids) { where.push('id IN (SELECT value FROM json_each(?))'); args.push(JSON.stringify(q.ids)); }
  const rows = store.db.prepare(`SELECT * FROM performance_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_at DESC, id DESC LIMIT ?`).all(...args, q.limit ?? 1000) as AlertRow[];
  return rows.map((r) => ({
    id: r.id, model: r.model_name, version: r.model_version, scope: r.scope, scopeKey: r.scope_key, metric: r.metric, value: r.value,
    ci: r.ci_low !== null && r.ci_high !== null ? { low: r.ci_low, high: r.ci_high } : null, threshold: r.threshold, direction: r.direction, n: r.n,
    firstAt: r.first_at, lastAt: r.last_at, clearedAt: r.cleared_at,
  }));
}

