// Drift statistics in the store (migration 2): per job, and per model version and UTC hour/day
// window, one row per feature holding the JSON of its mergeable statistics. Window rows are updated
// by merging, so concurrent jobs in the same window simply add up.
import { OutpostError } from '../../common/errors.ts';
import { mergeStats, statsFromJSON, type BaselineFeature, type FeatureStats } from '../../drift/common/index.ts';
import type { Store } from '../../store/node/store.ts';
import type { WindowWidth } from '../common/windows.ts';
import { stmt } from './sql.ts';

export interface ModelVersion { name: string; version: number }

/** Parse a stored row against its baseline feature; a row that does not fit is a store problem. */
export function parseStored(json: string, f: BaselineFeature, where: string): FeatureStats {
  try {
    return statsFromJSON(JSON.parse(json), f);
  } catch (e) {
    throw new OutpostError('store', `drift statistics of ${where}, feature "${f.name}", are unreadable: ${(e as Error).message}`);
  }
}

/** A job's statistics so far, as stored text per feature (empty for a new job). */
export function readJobStats(store: Store, jobId: string): Map<string, string> {
  const rows = stmt(store, 'SELECT feature, stats_json FROM drift_job_stats WHERE job_id = ?').all(jobId) as { feature: string; stats_json: string }[];
  return new Map(rows.map((r) => [r.feature, r.stats_json]));
}

/** Replace a job's statistics (only that job writes them, so no read is needed). */
export function writeJobStats(store: Store, jobId: string, stats: Iterable<readonly [string, FeatureStats]>, now: number): void {
  const put = stmt(store, `INSERT INTO drift_job_stats (job_id, feature, stats_json, rows, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (job_id, feature) DO UPDATE SET stats_json = excluded.stats_json, rows = excluded.rows, updated_at = excluded.updated_at`);
  for (const [feature, s] of stats) put.run(jobId, feature, JSON.stringify(s), s.rows, now);
}

/**
 * What one writer (a job's observer) last stored for the windows of one width: per feature the text
 * and the statistics it serialises. mergeIntoWindow() takes such statistics instead of parsing a
 * stored text that is still exactly what this writer wrote (nobody merged into it since), and keeps
 * only the window it last wrote. Statistics whose min or max is −0 are not kept (their text reads
 * back as +0).
 */
export interface WrittenWindow { start: number; features: Map<string, { text: string; stats: FeatureStats }> }

let parsedTotal = 0;
/** Stored window statistics parsed so far in this process (diagnostics and tests). */
export const windowsParsed = (): number => parsedTotal;

/** A window as mergeIntoWindow() left it: its stored text before and after, and the merged statistics. */
export interface MergedWindow {
  before: Map<string, string>;
  after: Map<string, string>;
  stats: Map<string, FeatureStats>;
}

/**
 * Merge `deltas` into the window's stored statistics (one read, one upsert per feature); returns
 * the merged statistics. Run inside the checkpoint transaction. `like`: another window merged with
 * the very same deltas (a day holding one hour of them): where this window's stored text equals
 * what that one held, the merge is the same and its result is written again instead of parsing,
 * merging and serialising a second time.
 */
export function mergeIntoWindow(store: Store, mv: ModelVersion, width: WindowWidth, start: number, deltas: readonly (readonly [BaselineFeature, FeatureStats])[], now: number, like?: MergedWindow, written?: Map<WindowWidth, WrittenWindow>): MergedWindow {
  const rows = stmt(store, 'SELECT feature, stats_json FROM drift_window_stats WHERE model_name = ? AND model_version = ? AND width = ? AND start = ?')
    .all(mv.name, mv.version, width, start) as { feature: string; stats_json: string }[];
  const before = new Map(rows.map((r) => [r.feature, r.stats_json]));
  const put = stmt(store, `INSERT INTO drift_window_stats (model_name, model_version, width, start, feature, stats_json, rows, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (model_name, model_version, width, start, feature) DO UPDATE SET stats_json = excluded.stats_json, rows = excluded.rows, updated_at = excluded.updated_at`);
  const same = like !== undefined && before.size === like.before.size && deltas.every(([f]) => before.get(f.name) === like.before.get(f.name));
  const after = same ? like.after : new Map<string, string>();
  const stats = same ? like.stats : new Map<string, FeatureStats>();
  const mine = written?.get(width);
  const known = mine?.start === start ? mine.features : undefined;
  const next: WrittenWindow = { start, features: new Map() };
  for (const [f, delta] of deltas) {
    if (!same) {
      const old = before.get(f.name);
      const kept = known?.get(f.name);
      const prev = old === undefined ? undefined : kept?.text === old ? kept.stats : parseWindow(old, f, `${mv.name}@${mv.version} ${width} ${start}`);
      const s = prev === undefined ? delta : mergeStats(prev, delta);
      after.set(f.name, JSON.stringify(s));
      stats.set(f.name, s);
    }
    const s = stats.get(f.name)!;
    if (s.kind !== 'numeric' || !(Object.is(s.min, -0) || Object.is(s.max, -0))) next.features.set(f.name, { text: after.get(f.name)!, stats: s });
    put.run(mv.name, mv.version, width, start, f.name, after.get(f.name)!, s.rows, now);
  }
  written?.set(width, next);
  return { before, after, stats };
}

function parseWindow(json: string, f: BaselineFeature, where: string): FeatureStats {
  parsedTotal++;
  return parseStored(json, f, where);
}

export interface StoredWindow { start: number; stats: Map<string, string> }

/** Windows of a model version with start in [from, to), oldest first. */
export function readWindows(store: Store, mv: ModelVersion, width: WindowWidth, from = -Infinity, to = Infinity): StoredWindow[] {
  const rows = stmt(store, `SELECT start, feature, stats_json FROM drift_window_stats
    WHERE model_name = ? AND model_version = ? AND width = ? AND start >= ? AND start < ? ORDER BY start`)
    .all(mv.name, mv.version, width, Number.isFinite(from) ? from : Number.MIN_SAFE_INTEGER, Number.isFinite(to) ? to : Number.MAX_SAFE_INTEGER) as { start: number; feature: string; stats_json: string }[];
  const out: StoredWindow[] = [];
  for (const r of rows) {
    if (out.at(-1)?.start !== r.start) out.push({ start: r.start, stats: new Map() });
    out.at(-1)!.stats.set(r.feature, r.stats_json);
  }
  return out;
}

/** Start of the most recent window of a model version, or null when it has none. */
export function latestWindow(store: Store, mv: ModelVersion, width: WindowWidth): number | null {
  const r = stmt(store, 'SELECT max(start) AS start FROM drift_window_stats WHERE model_name = ? AND model_version = ? AND width = ?').get(mv.name, mv.version, width) as { start: number | null };
  return r.start;
}

/** Drop hour windows that started before `before` (day windows keep covering that time). */
export function pruneHourWindows(store: Store, before: number): number {
  return stmt(store, "DELETE FROM drift_window_stats WHERE width = 'hour' AND start < ?").run(before).changes;
}
