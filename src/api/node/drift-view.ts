// The Drift screen's data: the drift report of a model version (all data, or one job) from the
// monitor, the binned distributions both sides (reference deciles or categories, as proportions),
// the score per feature over the last hour/day windows, and the alerts. Numbers that may be infinite
// (χ², severity) travel as "Infinity" (src/drift/common/json.ts), so ∞ stays distinct from null.
import { OutpostError } from '../../common/errors.ts';
import { mergeStats, toWire, type BaselineFeature, type DriftReport, type FeatureDrift, type FeatureStats, type WireNumber } from '../../drift/common/index.ts';
import { binsOf } from '../../monitor/common/bins.ts';
import { isoTime, WINDOW_MS, windowStart } from '../../monitor/common/windows.ts';
import { driftForModel, monitoredModel, type DriftAlert, type WindowReport } from '../../monitor/node/index.ts';
import type { MonitoredModel } from '../../monitor/node/query.ts';
import { parseStored, readJobStats, readWindows } from '../../monitor/node/stats-store.ts';
import type { Store } from '../../store/node/store.ts';
import type { DriftAlertShape, DriftView, FeatureDriftShape, ParsedParams } from '../common/contract.ts';

const fin = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const wire = (x: number | null | undefined): WireNumber | null => toWire(x);

export function toAlert(a: DriftAlert): DriftAlertShape {
  return {
    id: a.id, model: a.model, version: a.version, scope: a.scope, scopeKey: a.scopeKey, feature: a.feature, method: a.method,
    statistic: wire(a.statistic), score: wire(a.score), threshold: a.threshold, nReference: a.nReference, nCurrent: a.nCurrent,
    firstAt: a.firstAt, lastAt: a.lastAt, clearedAt: a.clearedAt,
  };
}

function toFeature(f: FeatureDrift): FeatureDriftShape {
  return {
    feature: f.feature, kind: f.kind, method: f.method, methodSource: f.methodSource, statistic: wire(f.statistic), score: fin(f.score), scoreKind: f.scoreKind,
    threshold: f.threshold, drifted: f.drifted, ...(f.reason !== undefined ? { reason: f.reason } : {}), ...(f.certain !== undefined ? { certain: f.certain } : {}),
    severity: wire(f.severity), nReference: f.nReference, nCurrent: f.nCurrent, missingRate: f.missingRate, outOfRange: fin(f.outOfRange),
    unseenCategories: fin(f.unseenCategories), psi: f.psi ? { value: wire(f.psi.value), level: f.psi.level, ...(f.psi.minCurrent !== undefined ? { minCurrent: f.psi.minCurrent } : {}) } : null,
  };
}

/** The current statistics per feature for the scope (the same rows the report compared). */
function currentStats(store: Store, mm: MonitoredModel, jobId: string | undefined): Map<string, FeatureStats> {
  const mv = { name: mm.model.name, version: mm.model.version };
  const sources = jobId !== undefined ? [{ stats: readJobStats(store, jobId) }] : readWindows(store, mv, 'day');
  const out = new Map<string, FeatureStats>();
  for (const w of sources) {
    for (const { baseline: f } of mm.features) {
      const json = w.stats.get(f.name);
      if (json === undefined) continue;
      const s = parseStored(json, f, `${mv.name}@${mv.version}`);
      const prev = out.get(f.name);
      out.set(f.name, prev ? mergeStats(prev, s) : s);
    }
  }
  return out;
}

export interface DriftViewParts {
  model: string; version: number; description: string; referenceRows: number; rows: number;
  report: DriftReport;
  /** the card's monitored features (their baselines: the bins' reference side) */
  baselines: readonly BaselineFeature[];
  /** the current statistics per feature (the bins' current side) */
  current: ReadonlyMap<string, FeatureStats>;
  width: 'hour' | 'day';
  windows: readonly WindowReport[];
  alerts: DriftAlertShape[];
}

/**
 * The Drift screen's data from a report, its windows and the statistics behind it: the one builder
 * for a workstation's drift (`drift.report`) and the fleet's merged drift on the hub console.
 */
export function assembleDriftView(p: DriftViewParts): DriftView {
  const names = p.baselines.map((f) => f.name);
  const timeline = p.windows.map((w) => {
    const by = new Map((w.report?.features ?? []).map((f) => [f.feature, f]));
    return {
      start: w.start, rows: w.rows,
      scores: Object.fromEntries(names.map((n) => [n, fin(by.get(n)?.score)])),
      drifted: Object.fromEntries(names.map((n) => [n, by.get(n)?.drifted ?? null])),
    };
  });
  const d = p.report.dataset;
  return {
    model: p.model, version: p.version, description: p.description, referenceRows: p.referenceRows, rows: p.rows,
    features: p.report.features.map(toFeature),
    dataset: { drifted: d.drifted, share: fin(d.share), driftedFeatures: d.driftedFeatures, evaluatedFeatures: d.evaluatedFeatures, threshold: d.threshold, ...(d.reason !== undefined ? { reason: d.reason } : {}) },
    prediction: p.report.prediction,
    bins: p.baselines.map((f) => binsOf(f, p.current.get(f.name))),
    timeline: { width: p.width, windows: timeline },
    alerts: p.alerts,
  };
}

export function driftView(store: Store, p: ParsedParams<'drift.report'>, now = Date.now()): DriftView {
  const r = driftForModel(store, p.model, p.jobId !== undefined ? { kind: 'job', jobId: p.jobId } : { kind: 'all' }, now);
  const mm = monitoredModel(store, `${r.model}@${r.version}`);
  const cur = currentStats(store, mm, p.jobId);

  let windows: WindowReport[];
  try {
    windows = driftForModel(store, `${r.model}@${r.version}`, { kind: 'windows', width: p.width, last: p.windows }, now).windows ?? [];
  } catch (e) {
    if (!(e instanceof OutpostError) || e.code !== 'not-found') throw e;
    const step = WINDOW_MS[p.width];
    const first = windowStart(p.width, now) - (p.windows - 1) * step;
    windows = Array.from({ length: p.windows }, (_, i) => ({ start: isoTime(first + i * step), rows: 0, report: null }));
  }
  return assembleDriftView({
    model: r.model, version: r.version, description: r.scope.description, referenceRows: r.referenceRows, rows: r.rows, report: r.report,
    baselines: mm.features.map((f) => f.baseline), current: cur, width: p.width, windows, alerts: r.alerts.map(toAlert),
  });
}
