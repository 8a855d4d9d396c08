// The drift report: per feature the method, statistic, threshold and verdict (or why there is
// none), sample sizes, missing-rate change, out-of-range / unseen counts and PSI; plus dataset drift.
//
// Method choice ('auto') follows Evidently's data drift defaults:
//   numeric with > 5 distinct reference values: KS p-value (<= 1000 reference values) else normed
//   Wasserstein; categorical, or numeric with <= 5 values (tested per value): chi-square (z-test for
//   two values) for <= 1000 reference values, else Jensen-Shannon distance.
// Deliberate differences from Evidently (it has the raw data, we have frozen mergeable structures):
//   - "distinct values" is counted on the reference (so a feature's method does not flip between
//     windows); Evidently counts reference ∪ current.
//   - PSI and Jensen-Shannon of a numeric feature use the 10 frozen reference-decile bins, not 30
//     equal-width bins over the pooled data.
//   - unseen categories are pooled into one `other` category.
//   - the z-test p-value is 2·Φ(-|z|) via erfc, accurate where Evidently's 2(1 - Φ(|z|)) rounds to 0.
//   - chi-square pools sparse cells first (expected count < 5, Cochran's rule; `poolSparseCells`), so
//     one unseen value no longer makes χ² infinite; Evidently passes them to scipy as they are.
// Input drift and prediction drift are separate verdicts: the dataset share counts input features
// only (the model's outputs are one signal, not one vote per probability column), and prediction
// drift is the verdict of the predicted label (classifiers) or value (regression).
import type { Baseline, BaselineFeature, FeatureStats } from './baseline.ts';
import { referenceStats, statsFromJSON } from './baseline.ts';
import type { CategoricalStats, CategoricalStatsJSON } from './categorical-stats.ts';
import {
  DEFAULT_THRESHOLDS, minCurrentFor, parseDriftConfig, pValueMethods, resolveRule,
  type DriftConfig, type DriftMethod, type ResolvedRule,
} from './config.ts';
import { ksFromStats, valueCountsFromStats, wassersteinFromStats } from './metrics/binned.ts';
import { chiSquareDrift, MIN_EXPECTED, poolSparseCells, twoProportionZTest } from './metrics/chisquare.ts';
import { jensenShannonDistance } from './metrics/jensen-shannon.ts';
import { ksTwoSamplePValue } from './metrics/ks.ts';
import { PSI_ALERT, PSI_WARN, populationStabilityIndex, psiLevel, type PsiLevel } from './metrics/psi.ts';
import { normedWasserstein } from './metrics/wasserstein.ts';
import type { NumericStats, NumericStatsJSON } from './numeric-stats.ts';

/** Reference sizes up to this use the statistical tests (Evidently's switch). */
export const SMALL_REFERENCE = 1000;
/** Numeric features with at most this many distinct reference values are tested per value. */
export const FEW_VALUES = 5;
export const DEFAULT_DATASET_SHARE = 0.5;
/**
 * Monitored model outputs are named `prediction.label`, `prediction.p_<class>`, `prediction.value`
 * (src/monitor); every other feature is an input.
 */
export const PREDICTION_PREFIX = 'prediction.';
export const isPrediction = (feature: string): boolean => feature.startsWith(PREDICTION_PREFIX);
/** The output whose verdict is prediction drift: the predicted label, else the regression value. */
const PRIMARY_OUTPUTS = [`${PREDICTION_PREFIX}label`, `${PREDICTION_PREFIX}value`];

export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  /** the method used (resolved from 'auto' or taken from the card) */
  method: DriftMethod;
  methodSource: ResolvedRule['source'];
  /** the test statistic or raw distance: KS D, chi², z, Wasserstein (not normed), JS, PSI */
  statistic: number | null;
  /** what is compared with the threshold: a p-value (ks, chisquare, z) or a distance */
  score: number | null;
  scoreKind: 'p-value' | 'distance';
  threshold: number;
  /** null: no verdict, see `reason` */
  drifted: boolean | null;
  reason?: string;
  /** where the score was computed from bins inexactly: the interval that holds the exact value */
  bounds?: { lo: number; hi: number };
  /** false when the threshold falls inside `bounds` (the verdict could flip with exact data) */
  certain?: boolean;
  /**
   * How far past the threshold, comparable across methods (>= 1: drift): distance/threshold, and
   * ln(p)/ln(threshold) for p-values (log scale: 1 at the threshold, 2 at threshold²).
   */
  severity: number | null;
  nReference: number;
  nCurrent: number;
  /** share of rows that are missing, unparsable, NaN or ±inf */
  missingRate: { reference: number; current: number; change: number };
  /** numeric: current values outside the reference's [min, max] */
  outOfRange: number | null;
  /** categorical: current values outside the vocabulary */
  unseenCategories: number | null;
  /**
   * PSI and its level; `insufficient` below `minCurrent` current values (default 300: below that,
   * PSI's sampling noise alone crosses the warn level often; see config.ts).
   */
  psi: { value: number; level: PsiLevel | 'insufficient'; minCurrent?: number } | null;
  /** method details needed to reproduce the number */
  details: Record<string, unknown>;
}

export interface DriftReport {
  features: FeatureDrift[];
  /** input drift: the share of input features (not model outputs) with a drift verdict */
  dataset: {
    drifted: boolean | null;
    /** drifted / evaluated input features */
    share: number | null;
    driftedFeatures: number;
    evaluatedFeatures: number;
    threshold: number;
    reason?: string;
  };
  /** prediction drift: the verdict of the predicted label (classifiers) or value (regression) */
  prediction: {
    drifted: boolean | null;
    /** the output whose verdict this is (null: the model's outputs are not monitored) */
    feature: string | null;
    /** all monitored outputs (label, each p_<class>, value): drifted / with a verdict, for diagnosis */
    driftedOutputs: number;
    evaluatedOutputs: number;
    reason?: string;
  };
  /** input drift or prediction drift (`outpost drift --fail-on-drift` exits 1 on true) */
  detected: boolean | null;
}

export type CurrentStats = Readonly<Record<string, FeatureStats | NumericStatsJSON | CategoricalStatsJSON>>;

/**
 * Compare current statistics (live objects or their JSON) with the baseline. Features without
 * current statistics are skipped; `config` is the card's `drift` field (validated here).
 */
export function driftReport(baseline: Baseline, current: CurrentStats, config: unknown = {}): DriftReport {
  const parsed = parseDriftConfig(config);
  if (!parsed.ok) throw new RangeError(`invalid drift settings: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const cfg = parsed.config;
  const problems = checkConfigAgainstBaseline(cfg, baseline);
  if (problems.length) throw new RangeError(`invalid drift settings: ${problems.join('; ')}`);
  const features: FeatureDrift[] = [];
  for (const f of baseline.features) {
    const raw = current[f.name];
    if (raw === undefined) continue;
    const cur = 'kind' in raw && typeof (raw as FeatureStats).merge === 'function' ? (raw as FeatureStats) : statsFromJSON(raw as NumericStatsJSON | CategoricalStatsJSON, f);
    features.push(featureDrift(f, referenceStats(f), cur, cfg));
  }
  const share = cfg.datasetShare ?? DEFAULT_DATASET_SHARE;
  const evaluated = features.filter((f) => f.drifted !== null && !isPrediction(f.feature));
  const drifted = evaluated.filter((f) => f.drifted).length;
  const dataset: DriftReport['dataset'] = evaluated.length
    ? { drifted: drifted / evaluated.length >= share, share: drifted / evaluated.length, driftedFeatures: drifted, evaluatedFeatures: evaluated.length, threshold: share }
    : { drifted: null, share: null, driftedFeatures: 0, evaluatedFeatures: 0, threshold: share, reason: 'no input feature has a verdict' };
  const outputs = features.filter((f) => isPrediction(f.feature));
  const primary = PRIMARY_OUTPUTS.map((n) => outputs.find((f) => f.feature === n)).find((f) => f !== undefined);
  const prediction: DriftReport['prediction'] = {
    drifted: primary?.drifted ?? null,
    feature: primary?.feature ?? null,
    driftedOutputs: outputs.filter((f) => f.drifted === true).length,
    evaluatedOutputs: outputs.filter((f) => f.drifted !== null).length,
    ...(primary === undefined ? { reason: 'the model\'s outputs are not monitored' } : primary.drifted === null ? { reason: `${primary.feature}: ${primary.reason ?? 'no verdict'}` } : {}),
  };
  const detected = dataset.drifted === true || prediction.drifted === true ? true : dataset.drifted === null && prediction.drifted === null ? null : false;
  return { features, dataset, prediction, detected };
}

/** Settings that cannot apply to this baseline (unknown features, a method for the wrong kind). */
/**
 * One feature's drift against the baseline, for many current statistics in a row (the hub's
 * per-device breakdown): the same as `driftReport(baseline, { [name]: cur }, config).features[0]`,
 * with the settings checked and the reference statistics read once.
 */
export function featureDriftOf(baseline: Baseline, name: string, config: unknown = {}): (cur: FeatureStats) => FeatureDrift {
  const parsed = parseDriftConfig(config);
  if (!parsed.ok) throw new RangeError(`invalid drift settings: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const cfg = parsed.config;
  const problems = checkConfigAgainstBaseline(cfg, baseline);
  if (problems.length) throw new RangeError(`invalid drift settings: ${problems.join('; ')}`);
  const f = baseline.features.find((x) => x.name === name);
  if (!f) throw new RangeError(`"${name}" is not a feature of the baseline`);
  const ref = referenceStats(f);
  return (cur) => featureDrift(f, ref, cur, cfg);
}

export function checkConfigAgainstBaseline(cfg: DriftConfig, baseline: Baseline): string[] {
  const problems: string[] = [];
  const byName = new Map(baseline.features.map((f) => [f.name, f]));
  for (const name of Object.keys(cfg.features ?? {})) if (!byName.has(name)) problems.push(`drift.features.${name}: no such feature in the baseline`);
  for (const f of baseline.features) {
    const rule = resolveRule(cfg, f.name, f.kind);
    if (f.kind === 'categorical' && (rule.method === 'ks' || rule.method === 'wasserstein')) problems.push(`${f.name}: ${rule.method} needs a numeric feature (set by ${rule.source} rule)`);
    if (f.kind === 'numeric' && (rule.method === 'chisquare' || rule.method === 'z') && f.binning.distinct > FEW_VALUES) problems.push(`${f.name}: ${rule.method} needs a categorical feature or one with at most ${FEW_VALUES} distinct values (this one has ${f.binning.exact ? f.binning.distinct : 'more than 1024'})`);
  }
  return problems;
}

interface Categories { labels: string[]; reference: number[]; current: number[] }

function categoriesOf(f: BaselineFeature, ref: FeatureStats, cur: FeatureStats): Categories {
  let labels: string[];
  let r: number[];
  let c: number[];
  if (f.kind === 'categorical') {
    const rs = ref as CategoricalStats;
    const cs = cur as CategoricalStats;
    labels = [...rs.vocabulary.values, '(other)'];
    r = [...rs.counts, rs.other];
    c = [...cs.counts, cs.other];
  } else {
    const v = valueCountsFromStats(ref as NumericStats, cur as NumericStats);
    labels = [...v.values.map(String), '(other)'];
    r = [...v.reference, v.referenceOther];
    c = [...v.current, v.currentOther];
  }
  // as Evidently: only values present on either side are categories
  const keep = labels.map((_, i) => r[i] + c[i] > 0);
  return { labels: labels.filter((_, i) => keep[i]), reference: r.filter((_, i) => keep[i]), current: c.filter((_, i) => keep[i]) };
}

function missingRate(s: FeatureStats): number {
  if (s.rows === 0) return 0;
  if (s.kind === 'categorical') return s.missing / s.rows;
  return (s.missing + s.invalid + s.nan + s.posInf + s.negInf) / s.rows;
}

function featureDrift(f: BaselineFeature, ref: FeatureStats, cur: FeatureStats, cfg: DriftConfig): FeatureDrift {
  const rule = resolveRule(cfg, f.name, f.kind);
  const nRef = ref.n;
  const nCur = cur.n;
  const fewValues = f.kind === 'categorical' || f.binning.distinct <= FEW_VALUES;
  const cats = fewValues && nRef > 0 && nCur > 0 ? categoriesOf(f, ref, cur) : null;
  let method: DriftMethod;
  if (rule.method !== 'auto') method = rule.method;
  else if (!fewValues) method = nRef <= SMALL_REFERENCE ? 'ks' : 'wasserstein';
  else method = nRef <= SMALL_REFERENCE ? ((cats?.labels.length ?? 0) > 2 ? 'chisquare' : 'z') : 'jensenshannon';
  const threshold = rule.threshold ?? DEFAULT_THRESHOLDS[method];
  const isP = pValueMethods.includes(method);
  const base: FeatureDrift = {
    feature: f.name, kind: f.kind, method, methodSource: rule.source, statistic: null, score: null, scoreKind: isP ? 'p-value' : 'distance',
    threshold, drifted: null, severity: null, nReference: nRef, nCurrent: nCur,
    missingRate: { reference: missingRate(ref), current: missingRate(cur), change: missingRate(cur) - missingRate(ref) },
    outOfRange: null, unseenCategories: null, psi: null, details: {},
  };
  if (cur.kind === 'numeric' && f.kind === 'numeric') {
    const L = cur.binning.size;
    base.outOfRange = L === 0 ? cur.n : cur.bins[0] + cur.bins[4 * L] - cur.bins[4 * L + 1];
  } else if (cur.kind === 'categorical') {
    base.unseenCategories = cur.other;
  }
  if (nRef === 0) return { ...base, reason: 'the baseline has no values for this feature' };
  if (nCur === 0) return { ...base, reason: 'no current values' };

  // PSI is always reported: decile bins for numeric features, categories otherwise.
  const psiBins = cats ? [cats.reference, cats.current] : [(ref as NumericStats).coarseCounts(), (cur as NumericStats).coarseCounts()];
  const psiValue = populationStabilityIndex(psiBins[0], psiBins[1]);
  const psiMin = minCurrentFor(cfg, 'psi-level');
  base.psi = nCur < psiMin
    ? { value: psiValue, level: 'insufficient', minCurrent: psiMin }
    : { value: psiValue, level: psiLevel(psiValue, cfg.psi?.warn ?? PSI_WARN, cfg.psi?.alert ?? PSI_ALERT) };

  if (!rule.enabled) return { ...base, reason: 'drift verdict disabled for this feature in the card' };
  const minCurrent = minCurrentFor(cfg, method);
  const tooFew = nCur < minCurrent;

  let statistic: number;
  let score: number;
  let bounds: { lo: number; hi: number } | undefined;
  const details: Record<string, unknown> = {};
  switch (method) {
    case 'ks': {
      const d = ksFromStats(ref as NumericStats, cur as NumericStats);
      const p = ksTwoSamplePValue(d.value, nRef, nCur);
      statistic = p.d;
      score = p.pValue;
      details.pValueMethod = p.method;
      if (!d.exact) {
        bounds = { lo: ksTwoSamplePValue(d.hi, nRef, nCur).pValue, hi: score };
        details.statisticBounds = { lo: d.lo, hi: d.hi };
      }
      break;
    }
    case 'wasserstein': {
      const w = wassersteinFromStats(ref as NumericStats, cur as NumericStats);
      const std = (ref as NumericStats).std;
      statistic = w.value;
      score = normedWasserstein(w.value, std);
      bounds = { lo: normedWasserstein(w.lo, std), hi: normedWasserstein(w.hi, std) };
      details.referenceStd = std;
      details.distanceBounds = { lo: w.lo, hi: w.hi };
      break;
    }
    case 'psi':
      statistic = score = psiValue;
      details.bins = cats ? cats.labels : 'reference deciles';
      break;
    case 'jensenshannon': {
      statistic = score = cats ? jensenShannonDistance(cats.reference, cats.current) : jensenShannonDistance(psiBins[0], psiBins[1]);
      details.bins = cats ? cats.labels : 'reference deciles';
      break;
    }
    case 'chisquare': {
      if (!cats) throw new Error('unreachable: chisquare without categories');
      const cells = poolSparseCells(cats.labels, cats.reference, cats.current);
      const r = chiSquareDrift(cells.reference, cells.current);
      statistic = r.statistic;
      score = r.pValue;
      details.dof = r.dof;
      details.categories = { labels: cats.labels, reference: cats.reference, current: cats.current };
      // what was tested: scipy.stats.chisquare(cells.current, cells.reference · n_cur / n_ref) reproduces it
      if (cells.pooled.length) details.cells = { rule: `cells expecting fewer than ${MIN_EXPECTED} values pooled (smallest first)`, labels: cells.labels, reference: cells.reference, current: cells.current };
      break;
    }
    case 'z': {
      if (!cats) throw new Error('unreachable: z-test without categories');
      if (cats.labels.length > 2) return { ...base, reason: `the z-test needs at most two values; ${cats.labels.length} are present (use chisquare)` };
      const r = cats.labels.length === 1 ? { statistic: 0, pValue: 1 } : twoProportionZTest(cats.reference[0], nRef, cats.current[0], nCur);
      statistic = r.statistic;
      score = r.pValue;
      details.categories = { labels: cats.labels, reference: cats.reference, current: cats.current };
      break;
    }
  }
  // too small a sample: the numbers are shown, but no verdict (and no severity) is given
  if (tooFew) return { ...base, statistic, score, details, ...(bounds ? { bounds } : {}), reason: `current sample has ${nCur} values; a ${method} verdict needs at least ${minCurrent}` };
  const drifted = method === 'ks' ? score <= threshold : isP ? score < threshold : score >= threshold;
  const out: FeatureDrift = { ...base, statistic, score, drifted, details, severity: isP ? (score > 0 ? Math.log(score) / Math.log(threshold) : Infinity) : score / threshold };
  if (bounds) {
    out.bounds = bounds;
    out.certain = bounds.lo === bounds.hi || !(bounds.lo <= threshold && threshold <= bounds.hi);
  }
  return out;
}
