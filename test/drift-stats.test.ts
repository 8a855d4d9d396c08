// Mergeable statistics: merge-order independence, serialisation round trips, bin assignment,
// moments accuracy, counting of missing/invalid values, and the bounds of binned KS/Wasserstein.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeBaseline, createFeatureStats, mergeStats, parseBaseline, referenceStats, statsFromJSON,
  type CategoricalBaselineFeature, type FeatureStats, type NumericBaselineFeature,
} from '../src/drift/common/baseline.ts';
import { Binning } from '../src/drift/common/binning.ts';
import { CATEGORY_MISSING, CATEGORY_OTHER, type CategoricalStats } from '../src/drift/common/categorical-stats.ts';
import type { NumericStats, NumericStatsJSON } from '../src/drift/common/numeric-stats.ts';
import { exactFromDouble, exactFromString, exactToDouble, exactToString } from '../src/drift/common/exact-sum.ts';
import { ksFromStats, wassersteinFromStats } from '../src/drift/common/metrics/binned.ts';
import { ksStatisticFromSamples, wassersteinDistance } from '../src/drift/common/index.ts';

/** mulberry32: small seeded PRNG so every run sees the same data. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const normal = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

function numericFeature(ref: ArrayLike<number>): NumericBaselineFeature {
  return computeBaseline([{ name: 'x', type: 'float' }], { x: Float64Array.from(ref) }).features[0] as NumericBaselineFeature;
}

/** Shuffle and merge as a random binary tree, returning the serialised result. */
function mergeRandomly<T extends FeatureStats>(shards: T[], r: () => number): string {
  const pool = [...shards];
  for (let i = pool.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [pool[i], pool[j]] = [pool[j], pool[i]]; }
  while (pool.length > 1) {
    const i = Math.floor(r() * (pool.length - 1));
    pool.splice(i, 2, r() < 0.5 ? mergeStats(pool[i], pool[i + 1]) : mergeStats(pool[i + 1], pool[i]));
  }
  return JSON.stringify(pool[0].toJSON());
}

test('numeric: merging random shards in 50 random orders gives the identical serialised result', () => {
  const r = prng(1);
  const ref = Array.from({ length: 5000 }, () => 1e6 + 10 * normal(r)); // large offset: moments must not cancel
  const f = numericFeature(ref);
  const edges = f.binning.edges;
  const shards: NumericStats[] = [];
  const whole = createFeatureStats(f);
  for (let s = 0; s < 12; s++) {
    const n = 1 + Math.floor(r() * 3000);
    const values = new Float64Array(n);
    const status = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const u = r();
      values[i] = u < 0.05 ? edges[Math.floor(r() * edges.length)] // exactly on edges (atoms)
        : u < 0.07 ? 1e6 + 80 * normal(r) // beyond the reference range on both sides
          : u < 0.08 ? [NaN, Infinity, -Infinity][Math.floor(r() * 3)]
            : 1e6 + 3 + 12 * normal(r);
      status[i] = u > 0.99 ? 1 : u > 0.985 ? 2 : 0;
      if (status[i]) values[i] = NaN;
    }
    const st = createFeatureStats(f);
    st.update(values, status);
    whole.update(values, status);
    shards.push(st);
  }
  const results = new Set<string>();
  for (let k = 0; k < 50; k++) results.add(mergeRandomly(shards, r));
  assert.equal(results.size, 1, 'the merge order changed the serialised statistics');
  const merged = statsFromJSON(JSON.parse([...results][0]) as NumericStatsJSON, f) as NumericStats;
  // integer parts identical to one object that saw everything; moments equal to 1e-12 relative
  const a = merged.toJSON();
  const b = whole.toJSON();
  assert.deepEqual({ ...a, s1: 0, s2: 0, lt: 0, rt: 0 }, { ...b, s1: 0, s2: 0, lt: 0, rt: 0 });
  for (const key of ['mean', 'variance'] as const) {
    const rel = Math.abs(merged[key] - whole[key]) / Math.abs(whole[key]);
    assert.ok(rel < 1e-12, `${key}: merged ${merged[key]} vs whole ${whole[key]}`);
  }
  assert.ok(merged.nan > 0 && merged.posInf > 0 && merged.negInf > 0 && merged.missing > 0 && merged.invalid > 0);
  assert.equal(merged.rows, merged.n + merged.nan + merged.posInf + merged.negInf + merged.missing + merged.invalid);
});

test('categorical: merge order never matters; strings and codes count alike', () => {
  const r = prng(2);
  const vocab = ['red', 'green', 'blue'];
  const f = computeBaseline([{ name: 'c', type: 'category', vocabulary: vocab }], { c: ['red', 'green', 'blue', null] }).features[0] as CategoricalBaselineFeature;
  const shards: CategoricalStats[] = [];
  for (let s = 0; s < 9; s++) {
    const st = createFeatureStats(f);
    const pick = (): string | null => { const u = r(); return u < 0.1 ? null : u < 0.15 ? 'purple' : vocab[Math.floor(r() * 3)]; };
    if (s % 2) st.update(Array.from({ length: 200 }, pick));
    else st.updateCodes(Int32Array.from({ length: 200 }, () => { const v = pick(); return v === null ? CATEGORY_MISSING : v === 'purple' ? CATEGORY_OTHER : vocab.indexOf(v); }));
    shards.push(st);
  }
  const results = new Set<string>();
  for (let k = 0; k < 30; k++) results.add(mergeRandomly(shards, r));
  assert.equal(results.size, 1);
  const m = JSON.parse([...results][0]) as { rows: number; other: number; missing: number; counts: number[] };
  assert.equal(m.rows, 1800);
  assert.ok(m.other > 0 && m.missing > 0);
  assert.equal(m.counts.reduce((a, b) => a + b, 0) + m.other + m.missing, 1800);
});

test('serialisation round trip is lossless and versioned', () => {
  const r = prng(3);
  const f = numericFeature(Array.from({ length: 3000 }, () => normal(r)));
  const s = createFeatureStats(f);
  s.update(Float64Array.from({ length: 4000 }, () => 0.5 + normal(r)));
  const json = JSON.parse(JSON.stringify(s.toJSON())) as NumericStatsJSON;
  const back = statsFromJSON(json, f) as NumericStats;
  assert.deepEqual(back.toJSON(), s.toJSON());
  assert.equal(back.mean, s.mean);
  assert.equal(back.variance, s.variance);
  assert.deepEqual(back.coarseCounts(), s.coarseCounts());
  // the baseline itself survives JSON (as stored in the card) and re-validates
  const baseline = computeBaseline([{ name: 'x', type: 'float' }, { name: 'c', type: 'category', vocabulary: ['a', 'b'] }], { x: [1, 2, 3, NaN], c: ['a', 'b', null, 'z'] });
  const again = parseBaseline(JSON.parse(JSON.stringify(baseline)));
  assert.deepEqual(again, baseline);
  // what fromJSON refuses
  assert.throws(() => statsFromJSON({ ...json, v: 3 as 2 }, f), /version 3/);
  assert.throws(() => statsFromJSON({ ...json, v: 1 }, f), /version 1 \(this build reads 2, and 1 on exact binnings\)/, 'v1 had quantile bins here, not log buckets');
  assert.throws(() => statsFromJSON({ ...json, sketch: { ...json.sketch!, zero: json.sketch!.zero + 1 } }, f), /sketch counts add up/);
  assert.throws(() => statsFromJSON({ ...json, sketch: undefined }, f), /sketch: missing/);
  assert.throws(() => statsFromJSON({ ...json, binning: 'other' }, f), /built on binning other/);
  assert.throws(() => statsFromJSON({ ...json, n: json.n + 1 }, f), /add up/);
  assert.throws(() => statsFromJSON({ ...json, s1: 'zz' }, f), /not an exact sum/);
  assert.throws(() => statsFromJSON({ ...json, bins: [...json.bins, 99999, 1, 0, 0] }, f), /bad bin entry/);
  assert.throws(() => parseBaseline({ ...baseline, format: 'x' }), /format/);
  const tampered = JSON.parse(JSON.stringify(baseline)) as { features: NumericBaselineFeature[] };
  tampered.features[0].binning.shift += 1;
  assert.throws(() => parseBaseline(tampered), /binning id does not match/);
});

test('exact sums: every double converts exactly and back; text form is canonical', () => {
  const r = prng(4);
  const samples = [0, -0, 1, -1, 0.1, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, 1e-300, 123456.789];
  for (let i = 0; i < 200; i++) samples.push((r() - 0.5) * 10 ** Math.floor(r() * 600 - 300));
  for (const x of samples) {
    const e = exactFromDouble(x);
    assert.equal(exactToDouble(e), x === 0 ? 0 : x, `round trip of ${x}`);
    assert.equal(exactFromString(exactToString(e)), e);
    assert.match(exactToString(e), /^0$|^-?[0-9a-f]*[13579bdf]p-?\d+$/, `${x}: an odd mantissa (canonical)`);
    for (const shift of [1n, 3n, 4n, 17n, 64n]) assert.equal(exactToString(e << shift), e === 0n ? '0' : exactToString(e).replace(/p(-?\d+)$/, (_, p: string) => `p${Number(p) + Number(shift)}`), `${x} × 2^${shift}`);
  }
  assert.deepEqual([1, 0.5, 3, -6, 2 ** -1074, 0x10000].map((x) => exactToString(exactFromDouble(x))), ['1p0', '1p-1', '3p0', '-3p1', '1p-1074', '1p16']);
  // the doubles nearest 0.1, 0.2, 0.3 sum exactly to 2^-55; floating point gets 2^-54
  const s = exactFromDouble(0.1) + exactFromDouble(0.2) - exactFromDouble(0.3);
  assert.equal(exactToDouble(s), 2 ** -55);
  assert.equal(0.1 + 0.2 - 0.3, 2 ** -54);
  assert.throws(() => exactFromDouble(Infinity), /non-finite/);
});

test('bin assignment: update() puts every value in the same bin as a binary search', () => {
  const r = prng(5);
  const refs: [string, number[]][] = [
    ['normal, sketched (edges: min, deciles, max)', Array.from({ length: 20000 }, () => normal(r))],
    ['lognormal, sketched', Array.from({ length: 20000 }, () => Math.exp(2.5 * normal(r)))],
    ['lognormal, 1,000 values: every value an edge, clustered', Array.from({ length: 1000 }, () => Math.exp(2.5 * normal(r)))],
    ['few integers, every value an edge', Array.from({ length: 500 }, () => Math.floor(r() * 7))],
    ['constant', Array.from({ length: 50 }, () => 4.25)],
    ['tiny range', Array.from({ length: 3000 }, () => 1 + r() * 1e-12)],
  ];
  for (const [label, ref] of refs) {
    const f = numericFeature(ref);
    const b = new Binning(f.binning);
    const e = b.edges;
    const values: number[] = [];
    for (const x of e) values.push(x, x * (1 + 2 ** -52), x * (1 - 2 ** -52), x + 1e-300, -x);
    for (let i = 0; i < 5000; i++) values.push(ref[Math.floor(r() * ref.length)] * (1 + (r() - 0.5) * 0.01), (r() - 0.5) * 1e3);
    const s = createFeatureStats(f);
    s.update(Float64Array.from(values));
    const expected = new Float64Array(e.length + 1);
    for (const x of values) {
      let lo = 0;
      let hi = e.length; // number of edges <= x
      while (lo < hi) { const mid = (lo + hi) >> 1; if (e[mid] <= x) lo = mid + 1; else hi = mid; }
      expected[lo]++;
      assert.equal(b.binOf(x), lo, `${label}: binOf(${x})`);
    }
    assert.deepEqual(Array.from({ length: e.length + 1 }, (_, k) => s.bins[4 * k]), Array.from(expected), label);
  }
  // a reference with no finite values: everything lands in one bin and is still counted
  const empty = numericFeature([NaN, NaN]);
  const s = createFeatureStats(empty);
  s.update(Float64Array.from([1, 2, NaN]));
  assert.equal(s.n, 2);
  assert.equal(s.nan, 1);
  assert.equal(s.mean, 1.5);
});

test('moments stay accurate with a large offset (shifted exact sums, no cancellation)', () => {
  const r = prng(6);
  const ref = Array.from({ length: 2000 }, () => 1e9 + normal(r));
  const f = numericFeature(ref);
  const s = referenceStats(f) as NumericStats;
  // two-pass reference in plain doubles is accurate here: deviations are O(1)
  const mean = ref.reduce((a, b) => a + (b - 1e9), 0) / ref.length + 1e9;
  const m2 = ref.reduce((a, b) => a + (b - mean) ** 2, 0);
  assert.ok(Math.abs(s.mean - mean) / mean < 1e-15, `mean ${s.mean} vs ${mean}`);
  assert.ok(Math.abs(s.m2 - m2) / m2 < 1e-9, `M2 ${s.m2} vs ${m2}`);
  // the current window is centred elsewhere: still accurate (the shift only needs to be near)
  const cur = Float64Array.from({ length: 2000 }, () => 1e9 + 50 + 3 * normal(r));
  const c = createFeatureStats(f);
  c.update(cur);
  const cm = cur.reduce((a, b) => a + (b - 1e9), 0) / cur.length + 1e9;
  const cm2 = cur.reduce((a, b) => a + (b - cm) ** 2, 0);
  assert.ok(Math.abs(c.m2 - cm2) / cm2 < 1e-9, `current M2 ${c.m2} vs ${cm2}`);
});

test('binned KS and Wasserstein: the exact raw-sample values lie within the stated bounds', () => {
  const r = prng(7);
  const cases: [string, () => number, () => number][] = [
    ['same distribution', () => normal(r), () => normal(r)],
    ['mean shift', () => normal(r), () => 0.3 + normal(r)],
    ['scale change (CDFs cross)', () => normal(r), () => 1.8 * normal(r)],
    ['skewed vs shifted skewed', () => Math.exp(normal(r)), () => 1.2 * Math.exp(normal(r))],
    ['rounded values with ties', () => Math.round(10 * normal(r)) / 2, () => Math.round(10 * (0.2 + normal(r))) / 2],
  ];
  for (const [label, refGen, curGen] of cases) {
    const ref = Array.from({ length: 5000 }, refGen); // > 1024 distinct: quantile edges, inexact bins
    const cur = Array.from({ length: 3000 }, curGen);
    const f = numericFeature(ref);
    const rs = referenceStats(f) as NumericStats;
    const cs = createFeatureStats(f);
    cs.update(Float64Array.from(cur));
    const d = ksFromStats(rs, cs);
    const D = ksStatisticFromSamples(ref, cur);
    assert.ok(d.lo <= D + 1e-12 && D <= d.hi + 1e-12, `${label}: KS ${D} outside [${d.lo}, ${d.hi}]`);
    assert.ok(d.hi - d.lo <= 0.02, `${label}: KS bound width ${d.hi - d.lo}`);
    const w = wassersteinFromStats(rs, cs);
    const W = wassersteinDistance(ref, cur);
    assert.ok(w.lo <= W * (1 + 1e-9) && W <= w.hi * (1 + 1e-9), `${label}: W ${W} outside [${w.lo}, ${w.hi}]`);
    assert.ok(Math.abs(w.value - W) <= 0.01 * rs.std, `${label}: W estimate ${w.value} vs ${W}`);
  }
});

test('a far outlier in the reference (all edges crowded into one cell) still bins correctly', () => {
  const r = prng(8);
  const ref = [...Array.from({ length: 5000 }, () => r()), 1e12];
  const f = numericFeature(ref);
  const b = new Binning(f.binning);
  assert.ok(Array.from(b.cell).some((c) => c < 0), 'expected crowded cells');
  const values = Float64Array.from({ length: 20000 }, (_, i) => (i % 100 === 0 ? r() * 1e12 : r()));
  const s = createFeatureStats(f);
  s.update(values);
  const expected = new Float64Array(b.size + 1);
  for (const x of values) expected[b.edges.filter((e) => e <= x).length]++;
  assert.deepEqual(Array.from({ length: b.size + 1 }, (_, k) => s.bins[4 * k]), Array.from(expected));
});

test('values whose squares overflow a double are summed exactly, not refused', () => {
  const f = numericFeature(Array.from({ length: 3000 }, () => normal(prng(9))));
  const a = 2 ** 520;
  const b = a * (1 + 2 ** -50);
  const one = createFeatureStats(f);
  one.update(Float64Array.from([a, b]));
  assert.equal(one.mean, a * (1 + 2 ** -51));
  assert.equal(one.variance, 2 ** 938, 'population variance of {a, b}: ((b − a)/2)²');
  const split = mergeStats(createFeatureStats(f), createFeatureStats(f));
  const x = createFeatureStats(f);
  x.update(Float64Array.from([a]));
  const y = createFeatureStats(f);
  y.update(Float64Array.from([b]));
  assert.equal(JSON.stringify(mergeStats(x, y)), JSON.stringify(mergeStats(split, one)), 'the same exact sums however the values were split');
  const huge = createFeatureStats(f);
  huge.update(Float64Array.from([Number.MAX_VALUE, -Number.MAX_VALUE, 1]));
  assert.ok(Math.abs(huge.mean) < 1, `mean ${huge.mean}`); // (x − shift) rounds at this magnitude, as everywhere
  assert.equal(huge.variance, Infinity, 'a variance beyond the largest double');
  assert.equal(JSON.stringify(statsFromJSON(JSON.parse(JSON.stringify(huge)), f)), JSON.stringify(huge));
});
