// Drift alerts: a job or window whose feature crossed its threshold. One row per (model version,
// scope, feature); it keeps the first time and the latest drifted evaluation with everything needed
// to recompute the number: the card's baseline and settings (model@version) and the current
// statistics at that moment (`current`), plus the full feature report. A later evaluation with a
// verdict of "no drift" marks it cleared; drifting again re-opens it.
import { parseDrift, stringifyDrift, toWire, type DriftReport, type FeatureDrift, type FeatureStats } from '../../drift/common/index.ts';
import { enqueue } from '../../store/node/outbox.ts';
import type { Store } from '../../store/node/store.ts';
import { stmt } from './sql.ts';
import type { ModelVersion } from './stats-store.ts';

export type AlertScope = 'job' | 'hour' | 'day';

export interface DriftAlert {
  id: number;
  model: string;
  version: number;
  scope: AlertScope;
  /** job id, or the window's start as an ISO time */
  scopeKey: string;
  feature: string;
  method: string;
  statistic: number | null;
  score: number | null;
  threshold: number;
  nReference: number;
  nCurrent: number;
  /** `prediction` is absent in alerts recorded by earlier builds */
  report: { feature: FeatureDrift; dataset: DriftReport['dataset']; prediction?: DriftReport['prediction'] };
  /** the feature's current statistics (JSON) when it was evaluated */
  current: unknown;
  firstAt: number;
  lastAt: number;
  clearedAt: number | null;
}

/**
 * Record the drifted features of one evaluation (one upsert each) and clear those now without drift.
 * Returns the alerts it opened (new, or re-opened after clearing) — for the webhook message of the
 * checkpoint (queueAlertWebhook), which lists every scope's newly opened alerts together.
 */
export function recordAlerts(store: Store, mv: ModelVersion, scope: AlertScope, scopeKey: string, report: DriftReport, current: ReadonlyMap<string, FeatureStats>, now: number): FeatureDrift[] {
  const upsert = stmt(store, `INSERT INTO drift_alerts (model_name, model_version, scope, scope_key, feature, method, statistic, score, threshold, n_reference, n_current, report_json, current_json, first_at, last_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (model_name, model_version, scope, scope_key, feature) DO UPDATE SET method = excluded.method, statistic = excluded.statistic, score = excluded.score,
      threshold = excluded.threshold, n_reference = excluded.n_reference, n_current = excluded.n_current, report_json = excluded.report_json,
      current_json = excluded.current_json, last_at = excluded.last_at, cleared_at = NULL`);
  // Which features are open now: opening and clearing are sync items (what the fleet view lists).
  const open = new Set((stmt(store, 'SELECT feature FROM drift_alerts WHERE model_name = ? AND model_version = ? AND scope = ? AND scope_key = ? AND cleared_at IS NULL')
    .all(mv.name, mv.version, scope, scopeKey) as { feature: string }[]).map((r) => r.feature));
  const sync = (state: 'opened' | 'cleared', f: FeatureDrift) => enqueue(store, 'alert', {
    state, model: mv.name, version: mv.version, scope, scopeKey, feature: f.feature, method: f.method,
    statistic: toWire(f.statistic), score: toWire(f.score), threshold: f.threshold, nReference: f.nReference, nCurrent: f.nCurrent, at: now,
  });
  const calm: string[] = [];
  const opened: FeatureDrift[] = [];
  for (const f of report.features) {
    if (f.drifted === false) {
      calm.push(f.feature);
      if (open.has(f.feature)) sync('cleared', f);
    }
    if (f.drifted !== true) continue;
    if (!open.has(f.feature)) {
      sync('opened', f);
      opened.push(f);
    }
    upsert.run(mv.name, mv.version, scope, scopeKey, f.feature, f.method, nan2null(f.statistic), nan2null(f.score), f.threshold, f.nReference, f.nCurrent,
      stringifyDrift({ feature: f, dataset: report.dataset, prediction: report.prediction }), JSON.stringify(current.get(f.feature)), now, now);
  }
  if (calm.length) {
    stmt(store, `UPDATE drift_alerts SET cleared_at = ? WHERE model_name = ? AND model_version = ? AND scope = ? AND scope_key = ? AND cleared_at IS NULL
      AND feature IN (SELECT value FROM json_each(?))`).run(now, mv.name, mv.version, scope, scopeKey, JSON.stringify(calm));
  }
  return opened;
}

// JSON has no ∞: the sync item carries ±∞ as "Infinity" (toWire); the device's own columns keep ∞
// (SQLite REAL holds it) and report_json writes it as "Infinity". NaN is stored as null.
const nan2null = (x: number | null): number | null => (x === null || Number.isNaN(x) ? null : x);

export interface AlertQuery {
  model?: string;
  version?: number;
  scope?: AlertScope;
  scopeKeys?: readonly string[];
  /** last evaluated at or after (epoch ms) */
  since?: number;
  activeOnly?: boolean;
  limit?: number;
}

interface AlertRow {
  id: number; model_name: string; model_version: number; scope: AlertScope; scope_key: string; feature: string; method: string;
  statistic: number | null; score: number | null; threshold: number; n_reference: number; n_current: number; report_json: string;
  current_json: string; first_at: number; last_at: number; cleared_at: number | null;
}

/** Alerts, most recent first. */
export function listAlerts(store: Store, q: AlertQuery = {}): DriftAlert[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.model !== undefined) { where.push('model_name = ?'); args.push(q.model); }
  if (q.version !== undefined) { where.push('model_version = ?'); args.push(q.version); }
  if (q.scope !== undefined) { where.push('scope = ?'); args.push(q.scope); }
  if (q.scopeKeys !== undefined) { where.push('scope_key IN (SELECT value FROM json_each(?))'); args.push(JSON.stringify(q.scopeKeys)); }
  if (q.since !== undefined) { where.push('last_at >= ?'); args.push(q.since); }
  if (q.activeOnly) where.push('cleared_at IS NULL');
  const rows = store.db.prepare(`SELECT * FROM drift_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_at DESC, id DESC LIMIT ?`)
    .all(...args, q.limit ?? 1000) as AlertRow[];
  return rows.map((r) => ({
    id: r.id, model: r.model_name, version: r.model_version, scope: r.scope, scopeKey: r.scope_key, feature: r.feature, method: r.method,
    statistic: r.statistic, score: r.score, threshold: r.threshold, nReference: r.n_reference, nCurrent: r.n_current,
    report: parseDrift(r.report_json) as DriftAlert['report'], current: JSON.parse(r.current_json) as unknown,
    firstAt: r.first_at, lastAt: r.last_at, clearedAt: r.cleared_at,
  }));
}
