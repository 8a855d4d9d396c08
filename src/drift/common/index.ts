// Public surface of the drift statistics core (pure: usable in the hub and the renderer).
export {
  absorbStats, BASELINE_FORMAT, computeBaseline, createFeatureStats, mergeStats, mergeStats as merge, parseBaseline, referenceStats, statsFromJSON,
  statsFromState, updateFromColumn,
  type Baseline, type BaselineColumn, type BaselineFeature, type CategoricalBaselineFeature, type FeatureSpec, type FeatureStats,
  type FeatureStatsState,
  type FeatureType, type NumericBaselineFeature,
} from './baseline.ts';
export { NumericStats, type NumericStatsJSON } from './numeric-stats.ts';
export { CategoricalStats, CATEGORY_MISSING, CATEGORY_OTHER, type CategoricalStatsJSON } from './categorical-stats.ts';
export { type NumericBinningJSON } from './binning.ts';
export {
  DEFAULT_MIN_CURRENT, DEFAULT_THRESHOLDS, driftMethods, parseDriftConfig,
  type DriftConfig, type DriftMethod, type DriftMethodSetting,
} from './config.ts';
export { checkConfigAgainstBaseline, DEFAULT_DATASET_SHARE, driftReport, featureDriftOf, type CurrentStats, type DriftReport, type FeatureDrift } from './report.ts';
export { renderBar, renderSparkline, renderWorstFeatures } from './chart.ts';
export { ksTwoSample, ksTwoSamplePValue, ksStatisticFromSamples } from './metrics/ks.ts';
export { wassersteinDistance, normedWasserstein } from './metrics/wasserstein.ts';
export { jensenShannonDistance } from './metrics/jensen-shannon.ts';
export { populationStabilityIndex, psiLevel, PSI_ALERT, PSI_WARN } from './metrics/psi.ts';
export { chiSquareContingency, chiSquareDrift, chiSquareGoodnessOfFit, twoProportionZTest } from './metrics/chisquare.ts';
export { ksFromStats, wassersteinFromStats } from './metrics/binned.ts';
export { fromWire, parseDrift, stringifyDrift, toWire, type WireNumber } from './json.ts';
export { isPrediction, PREDICTION_PREFIX } from './report.ts';
export { MIN_EXPECTED, poolSparseCells } from './metrics/chisquare.ts';
