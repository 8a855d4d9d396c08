// The scoring observer that keeps drift statistics (wired in scoring/node/score-file.ts).
//
// observe(): the batch's accepted rows and outputs are counted in the current UTC hour's deltas —
// on this thread for the first rows of a job, then in a worker (stats-lane.ts) so that large jobs
// do not pay for statistics on the scoring thread (this thread counts a batch itself whenever the
// worker is behind). persist(), inside the checkpoint's transaction:
// the deltas are folded into the job's totals, merged into the stored hour and day windows, and the
// job and the touched windows are evaluated against the baseline (alerts). Nothing is written
// between checkpoints, so a killed job that resumes from its last checkpoint counts every row once.
import { absorbStats, createFeatureStats, driftReport, mergeStats, type BaselineFeature, type DriftReport, type FeatureStats } from '../../drift/common/index.ts';
import type { Card } from '../../package/common/card.ts';
import type { ScoringObserver } from '../../scoring/node/job-log.ts';
import type { Job } from '../../store/node/jobs.ts';
import type { Store } from '../../store/node/store.ts';
import { WindowDeltas } from '../common/batch-stats.ts';
import { arenaSize, extractColumns } from '../common/collect.ts';
import { modelMonitoring, type BoundFeature, type Monitoring } from '../common/features.ts';
import { hourRetentionStart, isoTime, windowStart, type WindowWidth } from '../common/windows.ts';
import { recordAlerts, type AlertScope } from './alerts.ts';
import { enqueue, outboxEnabled } from '../../store/node/outbox.ts';
import { StatsLane } from './stats-lane.ts';
import { enqueueAlertWebhook, type OpenedAlerts } from './webhook.ts';
import { mergeIntoWindow, parseStored, pruneHourWindows, readJobStats, writeJobStats, type MergedWindow, type ModelVersion, type WrittenWindow } from './stats-store.ts';

/** Rows a job counts on the scoring thread before it starts a worker (small jobs never need one). */
const INLINE_ROWS = 32_768;

export interface DriftObserverOptions {
  /** the clock that assigns batches to windows (tests) */
  now?: () => number;
  /**
   * Rows a job counts on the scoring thread before it starts a worker (default 32768); a worker
   * already started (pooled) is used from the first batch. Infinity: never use a worker.
   */
  inlineRows?: number;
  /**
   * `modelMonitoring(card)`, when the caller has made it already: `outpost score` makes it while
   * the inference worker creates its session (~20 ms of CPU in a fresh process: the baseline's
   * lookup tables and reference statistics), instead of after.
   */
  monitoring?: Monitoring;
}

export interface DriftObserver extends ScoringObserver {
  /** Stop using the statistics worker (a job that ends without a final checkpoint, e.g. failed). */
  close(): void;
}

// A job that fails between checkpoints never drains its worker; when its observer is collected,
// the worker it held is stopped (ScoringObserver has no end-of-job hook; close() is the direct way).
const orphans = new FinalizationRegistry((held: { lane?: StatsLane }) => held.lane?.close());

/** The drift observer for a job, or undefined when the card has no usable baseline (nothing to compare with). */
export function createDriftObserver(store: Store, job: Pick<Job, 'id' | 'modelName' | 'modelVersion'>, card: Card, opts: DriftObserverOptions = {}): DriftObserver | undefined {
  const monitoring = opts.monitoring ?? modelMonitoring(card);
  // An invalid baseline cannot stop scoring; `outpost drift` reports the problems.
  if (monitoring.status !== 'ok') return undefined;
  const { baseline, config, features } = monitoring;
  const now = opts.now ?? Date.now;
  const inlineRows = opts.inlineRows ?? INLINE_ROWS;
  const mv: ModelVersion = { name: job.modelName, version: job.modelVersion };
  const baselineFeatures = features.map((f) => f.baseline);
  pruneHourWindows(store, hourRetentionStart(now()));

  // A resumed job continues from the totals committed with its last checkpoint.
  const stored = readJobStats(store, job.id);
  const totals: FeatureStats[] = baselineFeatures.map((f) => {
    const json = stored.get(f.name);
    return json === undefined ? createFeatureStats(f) : parseStored(json, f, `job ${job.id}`);
  });
  const inline = new WindowDeltas(baselineFeatures);
  /** card input index → index of its monitored feature */
  const inputFeature = new Map<number, number>();
  features.forEach((f, i) => { if (f.source.from === 'input') inputFeature.set(f.source.index, i); });
  const held: { lane?: StatsLane } = {};
  let rowsSeen = 0;

  // Hours this job has rows in, when all its rows were counted by this observer (not resumed).
  const hoursOfJob = stored.size === 0 ? new Set<number>() : undefined;

  /**
   * Alerts for one scope. Scopes are evaluated hour → day → job; when a scope contains the one
   * evaluated just before it and has as many rows, the two hold the same rows and the report is
   * reused (typically one job in a fresh hour and day: one report instead of three).
   */
  type Evaluated = { scope: AlertScope; start: number; rows: number; report: DriftReport };
  let last: Evaluated | undefined;
  const evaluate = (scope: AlertScope, start: number, current: Map<string, FeatureStats>, contains: (prev: Evaluated) => boolean, t: number) => {
    const rows = Math.max(...[...current.values()].map((s) => s.rows));
    const report = last && last.rows === rows && contains(last) ? last.report : driftReport(baseline, Object.fromEntries(current), config);
    last = { scope, start, rows, report };
    const scopeKey = scope === 'job' ? job.id : isoTime(start);
    opened.push({ scope, scopeKey, report, opened: recordAlerts(store, mv, scope, scopeKey, report, current, t) });
  };
  /** the alerts this checkpoint opened, all scopes: one webhook message */
  const opened: OpenedAlerts[] = [];
  /** what this job's checkpoints last wrote per window width: not parsed again while nobody else merged into it */
  const written = new Map<WindowWidth, WrittenWindow>();

  const observer: DriftObserver = {
    observe(batch, v, scored) {
      const m = v.accepted.length;
      // unseen category values of rejected rows still count (a spike of new categories is drift)
      const unseen = (v.unseenRejected ?? []).flatMap(({ input, count }) => {
        const feature = inputFeature.get(input);
        return feature === undefined ? [] : [{ feature, count }];
      });
      if (m === 0 && unseen.length === 0) return;
      const hour = windowStart('hour', now());
      if (unseen.length) inline.addUnseen(hour, unseen);
      if (m === 0) { hoursOfJob?.add(hour); return; }
      hoursOfJob?.add(hour);
      rowsSeen += m;
      // a started worker (pooled) is used at once; a new one only for jobs past inlineRows
      if (!held.lane && inlineRows !== Infinity) held.lane = StatsLane.acquire(baselineFeatures, rowsSeen > inlineRows);
      const lane = held.lane;
      if (!lane) {
        inline.add(hour, extractColumns(features, batch, v.accepted, scored));
        return;
      }
      if (lane.hasRoom()) lane.post(hour, extractColumns(features, batch, v.accepted, scored, lane.arena(arenaSize(features, m)), v.feeds));
      else inline.add(hour, extractColumns(features, batch, v.accepted, scored));
    },

    persist() {
      if (held.lane) {
        // drained and given back: the next batches (or the next job) take it from the pool
        const current = held.lane;
        held.lane = undefined;
        let drained: Map<number, FeatureStats[]>;
        try {
          drained = current.drain();
        } catch (e) {
          current.close();
          throw e;
        }
        current.release();
        for (const [hour, stats] of drained) inline.addStats(hour, stats);
      }
      if (inline.size === 0) return;
      const t = now();
      const hours = [...inline.byWindow.entries()];
      // the job's totals are this observer's own objects: merged into in place
      for (const [, d] of hours) totals.forEach((s, i) => absorbStats(s, d[i]));
      // The job's rows are written first: a write takes SQLite's lock before the windows are read.
      writeJobStats(store, job.id, baselineFeatures.map((f, i) => [f.name, totals[i]] as const), t);
      syncDeltas(store, mv, features, hours, t);
      const days = new Map<number, FeatureStats[]>();
      for (const [hour, d] of hours) {
        const day = windowStart('day', hour);
        const prev = days.get(day);
        days.set(day, prev ? prev.map((s, i) => mergeStats(s, d[i])) : d);
      }
      last = undefined;
      opened.length = 0;
      /** hour windows merged, by their deltas: a day holding just that hour merges the same deltas */
      const merged = new Map<readonly FeatureStats[], MergedWindow>();
      for (const [hour, d] of hours) {
        const m = mergeIntoWindow(store, mv, 'hour', hour, pairs(features, d), t, undefined, written);
        merged.set(d, m);
        evaluate('hour', hour, m.stats, () => false, t);
      }
      for (const [day, d] of days) {
        evaluate('day', day, mergeIntoWindow(store, mv, 'day', day, pairs(features, d), t, merged.get(d), written).stats, (p) => p.scope === 'hour' && windowStart('day', p.start) === day, t);
      }
      const inDay = (day: number) => hoursOfJob !== undefined && [...hoursOfJob].every((h) => windowStart('day', h) === day);
      evaluate('job', 0, new Map(baselineFeatures.map((f, i) => [f.name, totals[i]])), (p) => p.scope === 'day' && inDay(p.start), t);
      // the webhook (setting driftWebhookUrl): one message per checkpoint that opens alerts, delivered in the background
      enqueueAlertWebhook(store, { model: mv.name, version: mv.version, job: job.id, at: new Date(t).toISOString() }, opened, t);
      opened.length = 0;
      inline.clear();
    },

    close() {
      held.lane?.close();
      held.lane = undefined;
    },
  };
  orphans.register(observer, held);
  return observer;
}

/**
 * The checkpoint's hour deltas as one sync item (same transaction): the hub merges them into the
 * device's hour and day windows with the same merge, so fleet drift equals local drift exactly.
 */
function syncDeltas(store: Store, mv: ModelVersion, features: readonly BoundFeature[], hours: readonly (readonly [number, readonly FeatureStats[]])[], t: number): void {
  if (!outboxEnabled(store)) return;
  const card = store.db.prepare('SELECT card_sha256 FROM models WHERE name = ? AND version = ?').get(mv.name, mv.version) as { card_sha256: string } | undefined;
  enqueue(store, 'drift', {
    model: mv.name, version: mv.version, cardSha256: card?.card_sha256 ?? null,
    hours: hours.map(([start, d]) => ({ start, features: Object.fromEntries(features.map((f, i) => [f.baseline.name, d[i]])) })),
  }, { rows: hours.reduce((n, [, d]) => n + Math.max(0, ...d.map((s) => s.rows)), 0), at: t });
}

const pairs = (features: readonly BoundFeature[], stats: readonly FeatureStats[]): [BaselineFeature, FeatureStats][] => features.map((f, i) => [f.baseline, stats[i]]);
