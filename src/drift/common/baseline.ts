// The drift baseline (the model card's `baseline` field): per feature the frozen binning or
// vocabulary and the reference data's statistics in exactly the structures a current window keeps,
// so reference and current are compared like for like. Plus the factory for current statistics.
import { Binning, buildBinning, type NumericBinningJSON } from './binning.ts';
import { CategoricalStats, Vocabulary, type CategoricalStatsJSON, type CategoricalStatsState } from './categorical-stats.ts';
import { NumericStats, type NumericStatsJSON, type NumericStatsState } from './numeric-stats.ts';
import { twoSum } from './exact-sum.ts';
import type { Column } from '../../io/common/table.ts';

/** v2: features with many distinct values keep log buckets (v1 kept 257 quantile bins). */
export const BASELINE_FORMAT = 'outpost.drift-baseline/v2';
/** v1 baselines read as long as every numeric feature has an exact binning (the same structures in v2). */
export const BASELINE_FORMAT_V1 = 'outpost.drift-baseline/v1';

export type FeatureType = 'float' | 'int' | 'bool' | 'category';

export interface FeatureSpec {
  name: string;
  type: FeatureType;
  /** categories of a `category` feature; values outside count as `other` (unseen) */
  vocabulary?: readonly string[];
}

export interface NumericBaselineFeature {
  name: string;
  type: 'float' | 'int' | 'bool';
  kind: 'numeric';
  binning: NumericBinningJSON;
  stats: NumericStatsJSON;
}

export interface CategoricalBaselineFeature {
  name: string;
  type: 'category';
  kind: 'categorical';
  vocabulary: string[];
  stats: CategoricalStatsJSON;
}

export type BaselineFeature = NumericBaselineFeature | CategoricalBaselineFeature;

export interface Baseline {
  format: typeof BASELINE_FORMAT | typeof BASELINE_FORMAT_V1;
  /** reference rows */
  rows: number;
  features: BaselineFeature[];
}

export type FeatureStats = NumericStats | CategoricalStats;

/**
 * A reference column: numbers (Float64Array or array; NaN/null = missing), a parsed number column
 * with per-cell status (io/common/table.ts), booleans (bool features), or strings (categories).
 */
export type BaselineColumn =
  | Float64Array
  | readonly (number | null)[]
  | readonly (boolean | null)[]
  | { values: Float64Array; status?: Uint8Array }
  | readonly (string | null)[];

/** Build the baseline from reference columns (keyed by feature name). */
export function computeBaseline(features: readonly FeatureSpec[], columns: Readonly<Record<string, BaselineColumn>>): Baseline {
  let rows = -1;
  const out: BaselineFeature[] = [];
  for (const f of features) {
    const col = columns[f.name];
    if (col === undefined) throw new RangeError(`no reference column for feature "${f.name}"`);
    const len = Array.isArray(col) || col instanceof Float64Array ? col.length : (col as { values: Float64Array }).values.length;
    if (rows === -1) rows = len;
    else if (len !== rows) throw new RangeError(`reference column "${f.name}" has ${len} rows, others ${rows}`);
    out.push(f.type === 'category' ? categoricalBaseline(f, col) : numericBaseline(f, col));
  }
  return { format: BASELINE_FORMAT, rows: Math.max(rows, 0), features: out };
}

function categoricalBaseline(f: FeatureSpec, col: BaselineColumn): CategoricalBaselineFeature {
  if (!f.vocabulary || f.vocabulary.length === 0) throw new RangeError(`category feature "${f.name}" needs a vocabulary`);
  if (!Array.isArray(col) || col.some((v) => v !== null && v !== undefined && typeof v !== 'string')) throw new RangeError(`reference column "${f.name}" must hold strings (category feature)`);
  const stats = new CategoricalStats(new Vocabulary(f.vocabulary));
  stats.update(col as readonly (string | null)[]);
  return { name: f.name, type: 'category', kind: 'categorical', vocabulary: [...f.vocabulary], stats: stats.toJSON() };
}

/** Reference column → Float64Array values (+ status when given). */
function numericColumn(name: string, col: BaselineColumn): { values: Float64Array; status?: Uint8Array } {
  if (col instanceof Float64Array) return { values: col };
  if (!Array.isArray(col)) return col as { values: Float64Array; status?: Uint8Array };
  const values = new Float64Array(col.length);
  col.forEach((v: unknown, i) => {
    if (v === null || v === undefined) values[i] = NaN;
    else if (typeof v === 'number') values[i] = v;
    else if (typeof v === 'boolean') values[i] = v ? 1 : 0;
    else throw new RangeError(`reference column "${name}", row ${i + 1}: expected a number, got ${JSON.stringify(v)}`);
  });
  return { values };
}

function numericBaseline(f: FeatureSpec, col: BaselineColumn): NumericBaselineFeature {
  const { values, status } = numericColumn(f.name, col);
  const finite: number[] = [];
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if ((status === undefined || status[i] === 0) && Number.isFinite(x)) {
      finite.push(x);
      const [s, e] = twoSum(hi, x); // compensated sum: the mean becomes the shift
      hi = s;
      lo += e;
    }
  }
  const sorted = Float64Array.from(finite).sort();
  const mean = sorted.length ? (hi + lo) / sorted.length : 0;
  const binning = buildBinning(sorted, mean);
  const stats = new NumericStats(new Binning(binning));
  stats.update(values, status);
  return { name: f.name, type: f.type as 'float' | 'int' | 'bool', kind: 'numeric', binning, stats: stats.toJSON() };
}

// Runtime forms (lookup tables) are built once per baseline feature object.
const binnings = new WeakMap<object, Binning>();
const vocabularies = new WeakMap<object, Vocabulary>();

export function binningOf(f: NumericBaselineFeature): Binning {
  let b = binnings.get(f.binning);
  if (!b) { b = new Binning(f.binning); binnings.set(f.binning, b); }
  return b;
}

export function vocabularyOf(f: CategoricalBaselineFeature): Vocabulary {
  let v = vocabularies.get(f.vocabulary);
  if (!v) { v = new Vocabulary(f.vocabulary); vocabularies.set(f.vocabulary, v); }
  return v;
}

/** Empty statistics for a current window/job, on the feature's frozen binning or vocabulary. */
export function createFeatureStats(f: NumericBaselineFeature): NumericStats;
export function createFeatureStats(f: CategoricalBaselineFeature): CategoricalStats;
export function createFeatureStats(f: BaselineFeature): FeatureStats;
export function createFeatureStats(f: BaselineFeature): FeatureStats {
  return f.kind === 'numeric' ? new NumericStats(binningOf(f)) : new CategoricalStats(vocabularyOf(f));
}

/** The reference statistics stored in the baseline, as a live object (shared: read it, never change it). */
export function referenceStats(f: BaselineFeature): FeatureStats {
  const hit = references.get(f);
  if (hit?.json === f.stats) return hit.stats;
  const stats = statsFromJSON(f.stats, f);
  references.set(f, { json: f.stats, stats });
  return stats;
}

/**
 * Parsed reference statistics per baseline feature object, while it holds the same `stats`: a job
 * evaluates its baseline at every checkpoint (job, hour, day), and parsing 20-odd sketches each time
 * cost more than the metrics. Callers only read them.
 */
const references = new WeakMap<BaselineFeature, { json: unknown; stats: FeatureStats }>();

/** Parse stored statistics (SQLite, hub sync) against the baseline feature they were built on. */
export function statsFromJSON(json: NumericStatsJSON | CategoricalStatsJSON, f: BaselineFeature): FeatureStats {
  if (f.kind === 'numeric') {
    if (json.kind !== 'numeric') throw new RangeError(`feature "${f.name}" is numeric but the statistics are ${String(json.kind)}`);
    return NumericStats.fromJSON(json, binningOf(f));
  }
  if (json.kind !== 'categorical') throw new RangeError(`feature "${f.name}" is categorical but the statistics are ${String(json.kind)}`);
  return CategoricalStats.fromJSON(json, vocabularyOf(f));
}

/** What FeatureStats.toState() gives: the same statistics handed between threads of this process. */
export type FeatureStatsState = NumericStatsState | CategoricalStatsState;

/** Statistics handed over by another thread of this process (toState()), on the same feature. */
export function statsFromState(state: FeatureStatsState, f: BaselineFeature): FeatureStats {
  if (f.kind !== state.kind) throw new RangeError(`feature "${f.name}" is ${f.kind} but the statistics are ${String(state.kind)}`);
  return f.kind === 'numeric' ? NumericStats.fromState(state as NumericStatsState, binningOf(f)) : CategoricalStats.fromState(state as CategoricalStatsState, vocabularyOf(f));
}

/** Exact merge of two statistics objects of the same feature (order never matters). */
export function mergeStats<T extends FeatureStats>(a: T, b: T): T {
  if (a.kind === 'numeric' && b.kind === 'numeric') return a.merge(b) as T;
  if (a.kind === 'categorical' && b.kind === 'categorical') return a.merge(b) as T;
  throw new RangeError('cannot merge numeric with categorical statistics');
}

/** mergeStats into `total` itself (a running total that nothing else holds). */
export function absorbStats<T extends FeatureStats>(total: T, b: T): T {
  if (total.kind === 'numeric' && b.kind === 'numeric') return total.absorb(b) as T;
  if (total.kind === 'categorical' && b.kind === 'categorical') return total.absorb(b) as T;
  throw new RangeError('cannot merge numeric with categorical statistics');
}

/** Check the shape of an untrusted baseline (card field) well enough to use it; throws with the path. */
export function parseBaseline(raw: unknown): Baseline {
  const fail = (path: string, msg: string): never => { throw new RangeError(`baseline${path}: ${msg}`); };
  if (typeof raw !== 'object' || raw === null) return fail('', 'not an object');
  const b = raw as Partial<Baseline>;
  if (b.format !== BASELINE_FORMAT && b.format !== BASELINE_FORMAT_V1) fail('.format', `expected "${BASELINE_FORMAT}", got ${JSON.stringify(b.format)}`);
  if (!Number.isSafeInteger(b.rows) || (b.rows as number) < 0) fail('.rows', 'not a row count');
  if (!Array.isArray(b.features)) return fail('.features', 'not a list');
  const names = new Set<string>();
  b.features.forEach((f, i) => {
    if (typeof f?.name !== 'string') fail(`.features[${i}].name`, 'missing');
    if (names.has(f.name)) fail(`.features[${i}].name`, `duplicate feature "${f.name}"`);
    names.add(f.name);
    try {
      referenceStats(f); // validates binning/vocabulary ids, counts and sums
    } catch (e) {
      fail(`.features[${i}] ("${f.name}")`, (e as Error).message);
    }
  });
  return b as Baseline;
}

/**
 * Update statistics from a scoring batch column (io/common/table.ts): number columns feed numeric
 * features (status byte per cell), string columns categorical ones.
 */
export function updateFromColumn(stats: FeatureStats, column: Column): void {
  if (stats.kind === 'numeric') {
    if (column.kind !== 'number') throw new RangeError('a numeric feature needs a number column');
    stats.update(column.values, column.status);
  } else {
    if (column.kind !== 'string') throw new RangeError('a categorical feature needs a string column');
    stats.update(column.values);
  }
}
