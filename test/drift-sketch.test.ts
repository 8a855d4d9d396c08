// The log-bucket sketch of features with many distinct values: bucket keys and bounds, exact and
// order-independent merging, quantiles within the stated accuracy, and KS / Wasserstein bounds that
// hold and are narrow enough to decide — on skewed data at 1M rows, where quantile bins were not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASELINE_FORMAT_V1, computeBaseline, createFeatureStats, mergeStats, parseBaseline, referenceStats, statsFromJSON,
  type Baseline, type NumericBaselineFeature,
} from '../src/drift/common/baseline.ts';
import { driftReport, ksStatisticFromSamples, wassersteinDistance, type FeatureDrift } from '../src/drift/common/index.ts';
import { batchCounter, BUCKETS_PER_OCTAVE, keyOf, LogBuckets, lowerBound, MAX_KEY, RELATIVE_ACCURACY } from '../src/drift/common/log-buckets.ts';
import { ksFromStats } from '../src/drift/common/metrics/binned.ts';
import { quantileFromSketch } from '../src/drift/common/metrics/sketch.ts';
import type { NumericStats, NumericStatsJSON } from '../src/drift/common/numeric-stats.ts';
import { prng } from './helpers/io-helpers.ts';

const r = prng(2024);
const normal = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const lognormal = (): number => Math.exp(normal());
const pareto = (shape: number) => (): number => (1 - r()) ** (-1 / shape);

const feature = (ref: Float64Array): NumericBaselineFeature => computeBaseline([{ name: 'x', type: 'float' }], { x: ref }).features[0] as NumericBaselineFeature;

test('bucket keys: every double lies in its bucket; buckets are at most 1/64 of their lower bound wide; keys are monotone', () => {
  const samples = [5e-324, 1e-310, 2 ** -1022, 1e-300, 1e-9, 0.1, 1, 1 + 2 ** -52, 1.0156249999, 1.015625, 2, 3.14159, 1e6, 1e300, Number.MAX_VALUE];
  for (let i = 0; i < 20000; i++) samples.push(Math.exp((r() - 0.5) * 1400), r() * 10);
  samples.sort((a, b) => a - b);
  let prev = -1;
  for (const d of samples) {
    const k = keyOf(d);
    assert.equal(keyOf(-d), k, 'the sign does not change the key');
    const lo = lowerBound(k);
    const hi = lowerBound(k + 1);
    assert.ok(lo <= d && d < hi, `${d} outside its bucket [${lo}, ${hi})`);
    if (lo >= 2 ** -1022 && k < MAX_KEY) assert.ok(hi - lo <= lo / BUCKETS_PER_OCTAVE, `bucket of ${d} too wide`);
    assert.ok(k >= prev, 'keys must not decrease as |d| grows');
    prev = k;
  }
  assert.equal(keyOf(Infinity), MAX_KEY, 'an overflowed d takes the last bucket');
  assert.equal(lowerBound(MAX_KEY + 1), Infinity);
  assert.equal(keyOf(1.015625), keyOf(1) + 1, 'exactly 64 buckets per octave');
  assert.equal(RELATIVE_ACCURACY, 1 / 128);
});

test('bucket counts: canonical JSON (delta keys), ranges growing both ways per sign, and what fromJSON refuses', () => {
  const a = new LogBuckets();
  for (const k of [5000, 5001, 5001, 20, 120000]) a.add(0, k, 1);
  a.add(1, 7, 2);
  batchCounter.count(Float64Array.from([3, 3, -1, 2, NaN, Infinity, 2]), Uint8Array.from([0, 0, 0, 0, 0, 0, 1]), 0, 7, 3);
  batchCounter.flush(a);
  assert.deepEqual(a.toJSON(), { neg: [7, 2, keyOf(1) - 7, 1, keyOf(4) - keyOf(1), 1], zero: 2, pos: [20, 1, 4980, 1, 1, 2, 114999, 1] }, 'd = 0, 0, −4, −1; NaN, ∞ and a cell with status ≠ 0 skipped');
  assert.equal(a.total(), 5 + 2 + 2 + 2);
  assert.deepEqual(LogBuckets.fromJSON(a.toJSON(), 'x').toJSON(), a.toJSON());
  const b = new LogBuckets();
  b.add(0, 5001, 3);
  b.add(1, 70000, 1);
  assert.deepEqual(a.merge(b).toJSON(), b.merge(a).toJSON());
  assert.deepEqual(a.merge(b).toJSON(), { neg: [7, 2, keyOf(1) - 7, 1, keyOf(4) - keyOf(1), 1, 70000 - keyOf(4), 1], zero: 2, pos: [20, 1, 4980, 1, 1, 5, 114999, 1] });
  const bad = (pos: number[]) => () => LogBuckets.fromJSON({ neg: [], zero: 0, pos }, 'x');
  assert.throws(bad([3, 1, 0, 2]), /x\.pos: bad bucket entry at 1/, 'gaps are at least 1: keys ascend strictly');
  assert.throws(bad([3, 0]), /bad bucket entry/, 'empty buckets are never listed');
  assert.throws(bad([MAX_KEY + 1, 1]), /out of range/);
  assert.throws(bad([1, 2, 3]), /expected \[key, count/);
  assert.throws(() => LogBuckets.fromJSON({ neg: [], zero: -1, pos: [] }, 'x'), /zero/);
});

test('sketch merge: random shards in random merge trees give byte-identical JSON, equal to one pass over all values', () => {
  const ref = Float64Array.from({ length: 20000 }, lognormal);
  const f = feature(ref);
  assert.equal(f.binning.exact, false);
  assert.equal(f.binning.bucketsPerOctave, BUCKETS_PER_OCTAVE);
  const whole = createFeatureStats(f);
  const shards: NumericStats[] = [];
  for (let s = 0; s < 15; s++) {
    const n = 1 + Math.floor(r() * 4000);
    const values = Float64Array.from({ length: n }, () => {
      const u = r();
      return u < 0.02 ? f.binning.shift : u < 0.04 ? -lognormal() * 1e3 : u < 0.05 ? 1e300 * r() : u < 0.06 ? 1e-300 * r() : u < 0.07 ? NaN : 1.3 * lognormal();
    });
    const st = createFeatureStats(f);
    st.update(values);
    whole.update(values);
    shards.push(st);
  }
  const results = new Set<string>();
  for (let k = 0; k < 40; k++) {
    const pool = [...shards];
    for (let i = pool.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [pool[i], pool[j]] = [pool[j], pool[i]]; }
    while (pool.length > 1) {
      const i = Math.floor(r() * (pool.length - 1));
      pool.splice(i, 2, r() < 0.5 ? mergeStats(pool[i], pool[i + 1]) : mergeStats(pool[i + 1], pool[i]));
    }
    results.add(JSON.stringify(pool[0]));
  }
  assert.equal(results.size, 1, 'merge order changed the serialised sketch');
  const merged = JSON.parse([...results][0]) as NumericStatsJSON;
  assert.deepEqual(merged.sketch, whole.toJSON().sketch, 'merged buckets equal one pass over every value');
  assert.ok(merged.sketch!.zero > 0 && merged.sketch!.neg.length > 0, 'values at the centre and below it were counted');
  const back = statsFromJSON(merged, f) as NumericStats;
  assert.equal(JSON.stringify(back), [...results][0], 'JSON round trip');
});

test('quantiles from the sketch lie within 1/128 of |x − centre| of the exact ones', () => {
  const ref = Float64Array.from({ length: 50000 }, pareto(1.5));
  const f = feature(ref);
  const s = referenceStats(f) as NumericStats;
  const sorted = Float64Array.from(ref).sort();
  const c = f.binning.shift;
  for (const q of [0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1]) {
    const exact = sorted[Math.floor(q * (sorted.length - 1))];
    const est = quantileFromSketch(s, q);
    assert.ok(est.lo <= exact && exact <= est.hi, `q ${q}: ${exact} outside [${est.lo}, ${est.hi}]`);
    assert.ok(Math.abs(est.value - exact) <= RELATIVE_ACCURACY * Math.abs(exact - c) * (1 + 1e-12), `q ${q}: ${est.value} vs ${exact}`);
  }
});

/** The report's Wasserstein verdict for a reference and a current sample, and the exact normed distance (scipy's definition). */
function wassersteinCase(ref: Float64Array, cur: Float64Array): { f: FeatureDrift; exact: number; ks: { lo: number; hi: number; exact: number } } {
  const baseline = computeBaseline([{ name: 'x', type: 'float' }], { x: ref });
  const feat = baseline.features[0] as NumericBaselineFeature;
  const cs = createFeatureStats(feat);
  cs.update(cur);
  const report = driftReport(baseline, { x: cs });
  const rs = referenceStats(feat) as NumericStats;
  const d = ksFromStats(rs, cs);
  return { f: report.features[0], exact: wassersteinDistance(ref, cur) / rs.std, ks: { lo: d.lo, hi: d.hi, exact: ksStatisticFromSamples(ref, cur) } };
}

test('skewed features at 1M reference rows: Wasserstein verdicts are right and decisive, bounds narrow and true', () => {
  const N = 1_000_000;
  const cases: [string, () => number, () => number, boolean][] = [
    ['lognormal, no drift', lognormal, lognormal, false],
    ['lognormal, scaled by 1.2', lognormal, () => 1.2 * lognormal(), true],
    ['pareto 1.5, no drift', pareto(1.5), pareto(1.5), false],
    ['pareto 1.5 vs 1.2 (heavier tail)', pareto(1.5), pareto(1.2), true],
  ];
  for (const [label, refGen, curGen, drifts] of cases) {
    const { f, exact, ks } = wassersteinCase(Float64Array.from({ length: N }, refGen), Float64Array.from({ length: N }, curGen));
    assert.equal(f.method, 'wasserstein', label);
    assert.equal(f.drifted, drifts, `${label}: normed W ${f.score}`);
    assert.equal(f.certain, true, `${label}: bounds [${f.bounds?.lo}, ${f.bounds?.hi}] straddle the threshold`);
    const { lo, hi } = f.bounds!;
    assert.ok(lo <= exact * (1 + 1e-9) && exact <= hi * (1 + 1e-9), `${label}: exact normed W ${exact} outside [${lo}, ${hi}]`);
    assert.ok(hi - lo <= 1 / 32, `${label}: bounds [${lo}, ${hi}] wider than the stated (1 + mean|x − c|/σ)/64`);
    assert.ok(Math.abs(f.score! - exact) <= 0.05 * exact + 1e-4, `${label}: estimate ${f.score} vs exact ${exact}`);
    assert.ok(ks.lo <= ks.exact + 1e-12 && ks.exact <= ks.hi + 1e-12, `${label}: KS ${ks.exact} outside [${ks.lo}, ${ks.hi}]`);
  }
});

test('a v1 baseline reads when every numeric feature is exact; one with quantile bins is refused, saying what to do', () => {
  const small = computeBaseline([{ name: 'a', type: 'float' }, { name: 'c', type: 'category', vocabulary: ['x', 'y'] }], { a: [1, 2, 2, 3.5], c: ['x', 'y', 'x', null] });
  const v1 = JSON.parse(JSON.stringify({ ...small, format: BASELINE_FORMAT_V1 })) as Baseline;
  (v1.features[0].stats as { v: number }).v = 1; // exact binnings: the same structure in v1
  assert.equal(parseBaseline(v1).features.length, 2);
  const cs = createFeatureStats(parseBaseline(v1).features[0] as NumericBaselineFeature);
  cs.update(Float64Array.from([1, 2]));
  assert.equal(driftReport(parseBaseline(v1), { a: cs }).features[0].nCurrent, 2);
  // a v1 feature with many distinct values had 257 quantile edges and no log buckets
  const big = computeBaseline([{ name: 'b', type: 'float' }], { b: Float64Array.from({ length: 3000 }, normal) });
  const old = JSON.parse(JSON.stringify({ ...big, format: BASELINE_FORMAT_V1 })) as { features: { binning: Record<string, unknown> }[] };
  delete old.features[0].binning.bucketsPerOctave;
  assert.throws(() => parseBaseline(old), /baseline\.features\[0\] \("b"\): written by an earlier Outpost .*re-run `outpost baseline/);
});
