// Real drift on real data: vega-datasets' seattle-weather (daily, 2012-2015). The baseline is a
// "model trained" on January-March 2013; the current data are the autumns (September-November) of
// 2014 and 2015, scored on two "devices" (one per year) whose statistics are merged as the hub would.
//
// What really changed between the periods (checked on the data, numbers from scipy):
//   temp_max  mean  9.4 → 16.6 °C, KS D = 0.598, p = 9.1e-21   → must be flagged
//   temp_min  mean  3.3 →  9.0 °C, KS D = 0.658, p = 1.6e-25   → must be flagged
//   weather   label mix: fog 1 % → 17 %, drizzle 14 % → 0.5 %, sun 19 % → 35 % (later years of the
//             source record fog often and drizzle hardly at all), chi-square p = 4e-101 → flagged
//   wind      mean 3.31 vs 3.28 m/s, 10th/90th percentiles 1.3/5.7 vs 1.4/5.1, KS p = 0.88 → stable
//   precipitation  both are Seattle's wet season: 44 % vs 52 % dry days, KS p = 0.70   → stable
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { computeBaseline, createFeatureStats, driftReport, mergeStats, renderWorstFeatures, type FeatureSpec, type FeatureStats } from '../src/drift/common/index.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const csv = readFileSync(path.join(repoRoot, 'node_modules', 'vega-datasets', 'data', 'seattle-weather.csv'), 'utf8').trim().split('\n');
const header = csv[0].split(',');
const rows = csv.slice(1).map((line) => Object.fromEntries(line.split(',').map((v, i) => [header[i], v])));
const pick = (years: number[], months: number[]): Record<string, string>[] =>
  rows.filter((r) => years.includes(Number(r.date.slice(0, 4))) && months.includes(Number(r.date.slice(5, 7))));

const features: FeatureSpec[] = [
  { name: 'precipitation', type: 'float' },
  { name: 'temp_max', type: 'float' },
  { name: 'temp_min', type: 'float' },
  { name: 'wind', type: 'float' },
  { name: 'weather', type: 'category', vocabulary: ['drizzle', 'rain', 'sun', 'snow', 'fog'] },
];
const columns = (part: Record<string, string>[]): Record<string, Float64Array | string[]> => Object.fromEntries(features.map((f) => [
  f.name, f.type === 'category' ? part.map((r) => r[f.name]) : Float64Array.from(part, (r) => Number(r[f.name])),
]));

/** Statistics as a scoring run keeps them: updated batch by batch (16 rows at a time). */
function scored(part: Record<string, string>[], baseline: ReturnType<typeof computeBaseline>): Record<string, FeatureStats> {
  const cols = columns(part);
  const out: Record<string, FeatureStats> = {};
  for (const f of baseline.features) {
    const s = createFeatureStats(f);
    const col = cols[f.name];
    for (let i = 0; i < part.length; i += 16) {
      if (s.kind === 'numeric') s.update((col as Float64Array).subarray(i, i + 16));
      else s.update((col as string[]).slice(i, i + 16));
    }
    out[f.name] = s;
  }
  return out;
}

test('seattle weather: winter-trained baseline vs later autumns flags temperatures and labels, not wind or rain', () => {
  const reference = pick([2013], [1, 2, 3]);
  assert.equal(reference.length, 90);
  const baseline = computeBaseline(features, columns(reference));
  const dev2014 = scored(pick([2014], [9, 10, 11]), baseline);
  const dev2015 = scored(pick([2015], [9, 10, 11]), baseline);
  const fleet = Object.fromEntries(features.map((f) => [f.name, mergeStats(dev2014[f.name], dev2015[f.name])]));
  const report = driftReport(baseline, fleet);
  const by = Object.fromEntries(report.features.map((f) => [f.feature, f]));

  // 90 reference rows: Evidently's small-reference tests; KS is exact from the bins here
  assert.deepEqual(report.features.map((f) => [f.feature, f.method, f.nReference, f.nCurrent]), [
    ['precipitation', 'ks', 90, 182], ['temp_max', 'ks', 90, 182], ['temp_min', 'ks', 90, 182], ['wind', 'ks', 90, 182], ['weather', 'chisquare', 90, 182],
  ]);
  assert.equal(by.temp_max.drifted, true);
  assert.equal(by.temp_min.drifted, true);
  assert.equal(by.weather.drifted, true);
  assert.equal(by.wind.drifted, false);
  assert.equal(by.precipitation.drifted, false);
  // the same numbers scipy.stats.ks_2samp gives on the raw rows
  const scipy: Record<string, [number, number]> = {
    temp_max: [0.5978021978021978, 9.068031934255762e-21],
    temp_min: [0.6584859584859585, 1.5702928677554523e-25],
    wind: [0.07313797313797314, 0.8751871044411433],
    precipitation: [0.08717948717948718, 0.7034027335963999],
  };
  for (const [name, [d, p]] of Object.entries(scipy)) {
    assert.ok(Math.abs((by[name].statistic as number) - d) <= 1e-9 * d, `${name} D ${by[name].statistic} vs scipy ${d}`);
    assert.ok(Math.abs((by[name].score as number) - p) <= 1e-9 * p, `${name} p ${by[name].score} vs scipy ${p}`);
  }
  // snow (2 reference days) and fog (1) expect fewer than 5 autumn days: pooled into one cell before
  // the test (scipy.stats.chisquare([1, 86, 63, 32], [13, 57, 17, 3] · 182/90) gives these numbers)
  const cells = by.weather.details.cells as { labels: string[]; reference: number[]; current: number[] };
  assert.deepEqual(cells, { rule: 'cells expecting fewer than 5 values pooled (smallest first)', labels: ['drizzle', 'rain', 'sun', 'snow + fog'], reference: [13, 57, 17, 3], current: [1, 86, 63, 32] });
  assert.equal(by.weather.details.dof, 3);
  assert.ok(Math.abs((by.weather.statistic as number) - 166.44599315902008) <= 1e-12 * 166.44599315902008, `χ² ${by.weather.statistic}`);
  assert.ok(Math.abs((by.weather.score as number) - 7.445170653559288e-36) <= 1e-9 * 7.445170653559288e-36, `p ${by.weather.score}`);
  // 182 current values: PSI is reported but gets no level below 300
  assert.deepEqual([by.temp_max.psi?.level, by.wind.psi?.level], ['insufficient', 'insufficient']);
  assert.ok(by.temp_max.psi!.value >= 0.25 && by.wind.psi!.value < 0.1);
  assert.equal(report.dataset.drifted, true); // 3 of 5
  assert.equal(report.dataset.share, 0.6);
  // the terminal chart's three worst features are the three drifted ones
  const chart = renderWorstFeatures(report, 3);
  assert.deepEqual(chart.map((l) => l.split(' ')[0]).sort(), ['temp_max', 'temp_min', 'weather']);
  for (const line of chart) assert.match(line, /DRIFT$/);
});

test('seattle weather: the same season one year later is stable for rain and wind', () => {
  // the other direction on real data: Jan-Mar 2013 vs Jan-Mar 2014 (scipy KS p-values:
  // precipitation 0.116, wind 0.164): no drift flagged on these
  const baseline = computeBaseline(features, columns(pick([2013], [1, 2, 3])));
  const report = driftReport(baseline, scored(pick([2014], [1, 2, 3]), baseline));
  const by = Object.fromEntries(report.features.map((f) => [f.feature, f]));
  assert.equal(by.precipitation.drifted, false);
  assert.equal(by.wind.drifted, false);
});
