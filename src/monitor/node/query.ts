// Drift of an installed model version over a scope (all data, one job, since a time, or the last N
// windows): the stored statistics merged exactly and compared with the card's baseline. Used by
// `outpost drift` and available to the app.
import { OutpostError } from '../../common/errors.ts';
import { driftReport, isPrediction, mergeStats, type Baseline, type BaselineFeature, type DriftReport, type FeatureStats } from '../../drift/common/index.ts';
import { getJob } from '../../store/node/jobs.ts';
import { getModel, parseModelRef, type InstalledModel } from '../../store/node/models.ts';
import type { Store } from '../../store/node/store.ts';
import { modelMonitoring, type BoundFeature } from '../common/features.ts';
import { isoTime, WINDOW_MS, windowsSince, windowStart, type WindowWidth } from '../common/windows.ts';
import { listAlerts, type DriftAlert } from './alerts.ts';
import { latestWindow, parseStored, readJobStats, readWindows, type StoredWindow } from './stats-store.ts';

export type DriftScope =
  | { kind: 'all' }
  | { kind: 'job'; jobId: string }
  /** epoch ms */
  | { kind: 'since'; since: number }
  | { kind: 'windows'; width: WindowWidth; last: number };

export interface WindowReport { start: string; rows: number; report: DriftReport | null }

export interface DriftResult {
  model: string;
  version: number;
  /** what was compared, in words, and the scope as asked */
  scope: DriftScope & { description: string };
  referenceRows: number;
  /** rows scored in the scope (with `windows`: in all of them); rejected rows are not counted */
  rows: number;
  /** the scope's report; with `windows`, the report of the latest window holding data */
  report: DriftReport;
  /** the last N windows, oldest first (empty ones have no report) */
  windows?: WindowReport[];
  /** alerts recorded for this model version in the scope, most recent first */
  alerts: DriftAlert[];
  /** the merged current statistics the report compared (with `windows`: the latest window's) — not for JSON output */
  current: Map<string, FeatureStats>;
  /** the baseline features compared */
  features: BaselineFeature[];
}

export interface MonitoredModel { model: InstalledModel; features: BoundFeature[]; baseline: Baseline; config: unknown }

/** An installed model version with a usable baseline; a clear error otherwise. */
export function monitoredModel(store: Store, ref: string): MonitoredModel {
  const model = getModel(store, ref);
  const m = modelMonitoring(model.card);
  const id = `${model.name}@${model.version}`;
  if (m.status === 'none') throw new OutpostError('package', m.reason);
  if (m.status === 'invalid') throw new OutpostError('package', `the drift baseline or settings in the card of ${id} are invalid: ${m.problems.join('; ')}`);
  return { model, features: m.features, baseline: m.baseline, config: model.card.drift ?? {} };
}

/** Merge stored statistics (per feature) across windows, exactly. */
function mergeStored(mm: MonitoredModel, windows: readonly { stats: ReadonlyMap<string, string> }[], where: string): Map<string, FeatureStats> {
  const out = new Map<string, FeatureStats>();
  for (const w of windows) {
    for (const { baseline: f } of mm.features) {
      const json = w.stats.get(f.name);
      if (json === undefined) continue;
      const s = parseStored(json, f, where);
      const prev = out.get(f.name);
      out.set(f.name, prev ? mergeStats(prev, s) : s);
    }
  }
  return out;
}

const rowsOf = (stats: ReadonlyMap<string, FeatureStats>): number => Math.max(0, ...[...stats.values()].map((s) => s.rows));
/**
 * Rows scored: a categorical input also counts the unseen values of rejected rows, so it can hold
 * more rows than were scored; every other feature describes exactly the scored rows.
 */
const scoredRowsOf = (stats: ReadonlyMap<string, FeatureStats>): number =>
  Math.max(0, ...[...stats.entries()].filter(([name, s]) => s.kind === 'numeric' || isPrediction(name)).map(([, s]) => s.rows));

export function driftForModel(store: Store, ref: string, scope: DriftScope, now = Date.now()): DriftResult {
  let mm: MonitoredModel;
  if (scope.kind === 'job') {
    const job = getJob(store, scope.jobId);
    const want = parseModelRef(ref);
    if (want.name !== job.modelName || (want.version !== undefined && want.version !== job.modelVersion)) {
      throw new OutpostError('usage', `job ${job.id} scored ${job.modelName}@${job.modelVersion}, not ${ref}`);
    }
    mm = monitoredModel(store, `${job.modelName}@${job.modelVersion}`);
  } else {
    mm = monitoredModel(store, ref);
  }
  const mv = { name: mm.model.name, version: mm.model.version };
  const id = `${mv.name}@${mv.version}`;
  const evaluate = (stats: ReadonlyMap<string, FeatureStats>): DriftReport => driftReport(mm.baseline, Object.fromEntries(stats), mm.config);
  const noData = (what: string): never => {
    const latest = latestWindow(store, mv, 'hour') ?? latestWindow(store, mv, 'day');
    throw new OutpostError('not-found', `no drift statistics for ${id} ${what}${latest !== null ? ` (the latest are from the window starting ${isoTime(latest)})` : ' (nothing scored with this version since it has a baseline)'}`);
  };

  let stats: Map<string, FeatureStats>;
  let description: string;
  let windows: WindowReport[] | undefined;
  let alerts: DriftAlert[];
  switch (scope.kind) {
    case 'job': {
      stats = mergeStored(mm, [{ stats: readJobStats(store, scope.jobId) }], `job ${scope.jobId}`);
      description = `job ${scope.jobId}`;
      if (rowsOf(stats) === 0) noData(`for job ${scope.jobId}`);
      alerts = listAlerts(store, { model: mv.name, version: mv.version, scope: 'job', scopeKeys: [scope.jobId] });
      break;
    }
    case 'all': {
      stats = mergeStored(mm, readWindows(store, mv, 'day'), `${id} day windows`);
      description = 'everything scored with this version';
      if (rowsOf(stats) === 0) noData('');
      alerts = listAlerts(store, { model: mv.name, version: mv.version, limit: 50 });
      break;
    }
    case 'since': {
      const plan = windowsSince(scope.since, now);
      const parts: StoredWindow[] = [
        ...(plan.days ? readWindows(store, mv, 'day', plan.days.from, plan.days.to) : []),
        ...readWindows(store, mv, 'hour', plan.hoursFrom),
      ];
      stats = mergeStored(mm, parts, `${id} windows since ${isoTime(scope.since)}`);
      const from = plan.days ? plan.days.from : plan.hoursFrom;
      description = `scored since ${isoTime(from)} (${plan.days ? 'day' : 'hour'} windows: --since ${isoTime(scope.since)} rounded down)`;
      if (rowsOf(stats) === 0) noData(`since ${isoTime(scope.since)}`);
      alerts = listAlerts(store, { model: mv.name, version: mv.version, since: from, limit: 50 });
      break;
    }
    case 'windows': {
      const step = WINDOW_MS[scope.width];
      const first = windowStart(scope.width, now) - (scope.last - 1) * step;
      const stored = new Map(readWindows(store, mv, scope.width, first).map((w) => [w.start, w]));
      windows = [];
      let latest: Map<string, FeatureStats> | undefined;
      for (let start = first, i = 0; i < scope.last; i++, start += step) {
        const w = stored.get(start);
        const s = w ? mergeStored(mm, [w], `${id} ${scope.width} ${isoTime(start)}`) : undefined;
        const rows = s ? rowsOf(s) : 0;
        windows.push({ start: isoTime(start), rows: s ? scoredRowsOf(s) : 0, report: s && rows > 0 ? evaluate(s) : null });
        if (s && rows > 0) latest = s;
      }
      description = `the last ${scope.last} ${scope.width} windows (UTC), from ${isoTime(first)}`;
      if (!latest) noData(`in ${description}`);
      stats = latest!;
      alerts = listAlerts(store, { model: mv.name, version: mv.version, scope: scope.width, scopeKeys: windows.map((w) => w.start) });
      break;
    }
  }
  return {
    model: mv.name, version: mv.version, scope: { ...scope, description }, referenceRows: mm.baseline.rows,
    rows: windows ? windows.reduce((n, w) => n + w.rows, 0) : scoredRowsOf(stats),
    report: windows ? [...windows].reverse().find((w) => w.report)!.report! : evaluate(stats), ...(windows ? { windows } : {}), alerts,
    current: stats, features: mm.features.map((f) => f.baseline),
  };
}
