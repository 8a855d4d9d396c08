// The statistics worker's fast path — WindowDeltas.add counting each batch into its window's running
// totals in place (NumericStats.addBatch, log buckets counted in the binning pass, the larger lookup
// table) — against the path it replaced (every batch counted in fresh statistics with update(), then
// absorbed) and against per-value definitions (binary search over the edges, keyOf), on the Seattle
// weather sample with NaN, missing and unparsable cells, ±Infinity, −0, subnormals and values whose
// squares overflow a double. Plus the checkpoint side: the sketches' segments and JSON against
// their definitions from entries(), the sketch metrics against their definitions over segments(),
// and the scoring thread's column checks (all cells ok, labels outside the classes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { computeBaseline, createFeatureStats, mergeStats, referenceStats, statsFromState, vocabularyOf, type BaselineFeature, type CategoricalBaselineFeature, type FeatureStats, type NumericBaselineFeature } from '../src/drift/common/baseline.ts';
import type { CategoricalStats } from '../src/drift/common/categorical-stats.ts';
import { batchCounter, keyOf, lowerBound, segments, type LogBuckets, type Segment } from '../src/drift/common/log-buckets.ts';
import { ksFromSketch, wassersteinFromSketch } from '../src/drift/common/metrics/sketch.ts';
import { CATEGORY_OTHER } from '../src/drift/common/categorical-stats.ts';
import type { NumericStats } from '../src/drift/common/numeric-stats.ts';
import { CellStatus, type ColumnBatch, type StringColumn } from '../src/io/common/table.ts';
import { WindowDeltas } from '../src/monitor/common/batch-stats.ts';
import { acceptedCodes, acceptedStrings, extractColumns, recodeFeedCodes, type FeatureColumn } from '../src/monitor/common/collect.ts';
import { validateBatch } from '../src/scoring/common/validate.ts';
import type { InputField } from '../src/package/common/card.ts';
import { allOk } from '../src/io/common/table.ts';
import type { BoundFeature } from '../src/monitor/common/features.ts';

const csv = fs.readFileSync(new URL('../models/demo/weather-2015.csv', import.meta.url), 'utf8').trimEnd().split('\n').map((l) => l.split(','));
const header = csv[0];
const rows = csv.slice(1);
const column = (name: string): number[] => rows.map((r) => Number(r[header.indexOf(name)]));
const real: Record<string, number[]> = Object.fromEntries(['precipitation', 'temp_max', 'temp_min', 'wind'].map((n) => [n, column(n)]));
// a feature with more distinct reference values than an exact binning takes (a sketched binning,
// with log buckets): products of two days' real readings
real.product = real.temp_max.flatMap((t, i) => real.wind.map((w, j) => t * w + real.precipitation[(i + j) % rows.length]));
const seasons = rows.map((r) => r[header.indexOf('season')]);

const numeric = ['precipitation', 'temp_max', 'temp_min', 'wind', 'product'];
const baseline = computeBaseline(
  [...numeric.map((name) => ({ name, type: 'float' as const })), { name: 'season', type: 'category', vocabulary: ['winter', 'spring', 'summer'] }],
  { ...Object.fromEntries(numeric.map((n) => [n, Float64Array.from({ length: 2000 }, (_, i) => real[n][(i * 11) % real[n].length])])), season: Array.from({ length: 2000 }, (_, i) => seasons[i % seasons.length]) },
);
const features = baseline.features;

/**
 * One batch per entry of `sizes`: the real values in turn, with special cells at fixed strides.
 * Precipitation (never negative) gets −0 only from the second batch on, after batches whose
 * minimum is +0: merged minima must resolve ±0 as the old merge did.
 */
function batches(sizes: number[]): { columns: FeatureColumn[]; values: Float64Array[]; status: Uint8Array[]; strings: (string | null)[] }[] {
  let at = 0;
  return sizes.map((n, b) => {
    const values: Float64Array[] = [];
    const status: Uint8Array[] = [];
    for (const name of numeric) {
      const src = real[name];
      const v = new Float64Array(n);
      const s = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const k = at + i;
        v[i] = src[(k * 7) % src.length];
        if (k % 53 === 0) v[i] = NaN;
        else if (k % 59 === 0) v[i] = Infinity;
        else if (k % 61 === 0) v[i] = -Infinity;
        else if (k % 67 === 0) s[i] = CellStatus.missing;
        else if (k % 71 === 0) s[i] = CellStatus.unparsable;
        else if (k % 13 === 0 && (name !== 'precipitation' || b > 0)) v[i] = -0;
        else if (k % 83 === 0) v[i] = 5e-324;
        else if (name !== 'precipitation' && k % 97 === 0) v[i] = (k % 2 ? 1 : -1) * 3e200; // its square overflows: exact per-value sums
        else if (k % 89 === 0) v[i] = v[i] * 40; // beyond the reference range
        if (s[i] !== CellStatus.ok) v[i] = NaN;
      }
      values.push(v);
      status.push(s);
    }
    const strings = Array.from({ length: n }, (_, i) => ((at + i) % 31 === 0 ? null : (at + i) % 37 === 0 ? 'monsoon' : seasons[(at + i) % seasons.length]));
    at += n;
    const columns: FeatureColumn[] = [
      // the first feature without a status column (the update without one), the others with
      ...values.map((v, f): FeatureColumn => (f === 0 ? { kind: 'f64', values: v.map((x, i) => (status[f][i] === CellStatus.ok ? x : NaN)) } : { kind: 'f64', values: v, status: status[f] })),
      { kind: 'str', values: strings },
    ];
    return { columns, values, status, strings };
  });
}

/** The replaced path: fresh statistics per batch with update(), absorbed into the window's total. */
function oldPath(input: ReturnType<typeof batches>): FeatureStats[] {
  let totals: FeatureStats[] | undefined;
  for (const { columns } of input) {
    const fresh = features.map((f) => createFeatureStats(f));
    columns.forEach((c, i) => {
      const s = fresh[i];
      if (s.kind === 'numeric' && c.kind === 'f64') s.update(c.values, c.status);
      else if (s.kind === 'categorical' && c.kind === 'str') s.update(c.values);
    });
    if (!totals) totals = fresh;
    else totals.forEach((t, i) => (t.kind === 'numeric' ? t.absorb(fresh[i] as NumericStats) : t.absorb(fresh[i] as typeof t)));
  }
  return totals!;
}

function newPath(input: ReturnType<typeof batches>): FeatureStats[] {
  const deltas = new WindowDeltas(features);
  for (const { columns } of input) deltas.add(0, columns);
  return deltas.byWindow.get(0)!;
}

const SIZES = [1, 7, 1024, 1025, 3000, 8192, 2, 4097];

test('fast path: the same statistics, bit for bit, as fresh statistics per batch absorbed into the total', () => {
  const input = batches(SIZES);
  const before = oldPath(input);
  const after = newPath(input);
  assert.equal((features[4] as NumericBaselineFeature).binning.exact, false, 'the product feature has a sketched binning (log buckets)');
  assert.ok((features[0] as NumericBaselineFeature).binning.exact, 'the real readings have exact binnings');
  features.forEach((f, i) => {
    assert.deepEqual(after[i].toJSON(), before[i].toJSON(), `feature ${f.name}`);
    if (after[i].kind === 'numeric') {
      const a = after[i] as NumericStats;
      const b = before[i] as NumericStats;
      assert.ok(Object.is(a.min, b.min) && Object.is(a.max, b.max), `${f.name}: min/max ${a.min}/${a.max} vs ${b.min}/${b.max} (±0 told apart)`);
      assert.deepEqual([a.mean, a.m2, a.tailSums], [b.mean, b.m2, b.tailSums], `${f.name}: moments`);
    }
  });
  assert.ok(Object.is((after[0] as NumericStats).min, -0), 'precipitation: −0 merged after batches whose minimum was +0 gives −0, as absorb() did');
  const big = after[1] as NumericStats;
  assert.ok(big.posInf > 0 && big.negInf > 0 && big.nan > 0 && big.missing > 0 && big.invalid > 0 && Math.abs(big.max) === 3e200, 'the special cells are in the data');
});

test('fast path: bins and log buckets equal per-value counting (binary search over the edges, keyOf)', () => {
  const input = batches(SIZES);
  const after = newPath(input);
  numeric.forEach((name, f) => {
    const feature = features[f] as NumericBaselineFeature;
    const edges = feature.binning.edges;
    const shift = feature.binning.shift;
    const bins = new Map<number, number>();
    const pos = new Map<number, number>();
    const neg = new Map<number, number>();
    let zero = 0;
    let n = 0;
    for (const { values, status } of input) {
      values[f].forEach((x, i) => {
        if (status[f][i] !== CellStatus.ok || !Number.isFinite(x)) return;
        n++;
        let lo = 0;
        let hi = edges.length;
        while (lo < hi) { const mid = (lo + hi) >> 1; if (x >= edges[mid]) lo = mid + 1; else hi = mid; } // bin = number of edges <= x
        bins.set(lo, (bins.get(lo) ?? 0) + 1);
        const d = x - shift;
        if (d === 0) zero++;
        else (d > 0 ? pos : neg).set(keyOf(d), ((d > 0 ? pos : neg).get(keyOf(d)) ?? 0) + 1);
      });
    }
    const s = after[f] as NumericStats;
    assert.equal(s.n, n, `${name}: finite values`);
    const got = new Map<number, number>();
    for (let k = 0; 4 * k < s.bins.length; k++) if (s.bins[4 * k]) got.set(k, s.bins[4 * k]);
    assert.deepEqual(got, bins, `${name}: bin counts`);
    if (!feature.binning.exact) {
      const sketch = s.sketch!;
      assert.equal(sketch.zero, zero, `${name}: d = 0`);
      assert.deepEqual(new Map(sketch.entries(0)), pos, `${name}: buckets of d > 0`);
      assert.deepEqual(new Map(sketch.entries(1)), neg, `${name}: buckets of d < 0`);
    } else {
      assert.equal(s.sketch, undefined);
    }
  });
});

test('fast path: counting into a window total keeps windows apart and leaves absorb() of drained statistics exact', () => {
  const input = batches([500, 700, 900, 1100]);
  const deltas = new WindowDeltas(features);
  input.forEach(({ columns }, b) => deltas.add(b % 2, columns));
  const even = oldPath([input[0], input[2]]);
  const odd = oldPath([input[1], input[3]]);
  features.forEach((f, i) => {
    assert.deepEqual(deltas.byWindow.get(0)![i].toJSON(), even[i].toJSON(), `${f.name}, window 0`);
    assert.deepEqual(deltas.byWindow.get(1)![i].toJSON(), odd[i].toJSON(), `${f.name}, window 1`);
  });
  // statistics drained from a worker are added as they are; later batches count into them
  const drained = new WindowDeltas(features);
  drained.addStats(0, oldPath([input[0]]));
  drained.add(0, input[1].columns);
  features.forEach((f: BaselineFeature, i) => assert.deepEqual(drained.byWindow.get(0)![i].toJSON(), oldPath([input[0], input[1]])[i].toJSON(), f.name));
});

/** Segments by definition: every occupied key of either sketch, negatives by descending |d|, d = 0, positives ascending; empty gaps between. */
function segmentsByDefinition(a: LogBuckets, b: LogBuckets): Segment[] {
  const keys = (sign: number) => [...new Set([...a.entries(sign), ...b.entries(sign)].map(([k]) => k))].sort((x, y) => x - y);
  const at = (s: LogBuckets, sign: number, k: number) => s.entries(sign).find(([key]) => key === k)?.[1] ?? 0;
  const cells: Segment[] = [
    ...keys(1).reverse().map((k) => ({ lo: -lowerBound(k + 1), hi: -lowerBound(k), ref: at(a, 1, k), cur: at(b, 1, k) })),
    ...(a.zero + b.zero > 0 ? [{ lo: 0, hi: 0, ref: a.zero, cur: b.zero }] : []),
    ...keys(0).map((k) => ({ lo: lowerBound(k), hi: lowerBound(k + 1), ref: at(a, 0, k), cur: at(b, 0, k) })),
  ];
  return cells.flatMap((c, i) => (i > 0 && c.lo > cells[i - 1].hi ? [{ lo: cells[i - 1].hi, hi: c.lo, ref: 0, cur: 0 }, c] : [c]));
}

test('checkpoint side: segments and the sketch JSON equal their definitions from the occupied keys', () => {
  const product = features[4] as NumericBaselineFeature;
  const reference = (createFeatureStats(product) as NumericStats);
  reference.update(Float64Array.from(real.product));
  const current = newPath(batches([3000, 5000]))[4] as NumericStats;
  const shifted = createFeatureStats(product) as NumericStats;
  shifted.update(Float64Array.from(real.product.slice(0, 20000), (x) => x * 1.7 - 30));
  for (const [a, b] of [[reference.sketch!, current.sketch!], [current.sketch!, shifted.sketch!], [shifted.sketch!, reference.sketch!]]) {
    assert.deepEqual(segments(a, b), segmentsByDefinition(a, b));
    for (const s of [a, b]) {
      const encode = (sign: number) => s.entries(sign).flatMap(([k, c], i, all) => [i === 0 ? k : k - all[i - 1][0], c]);
      assert.deepEqual(s.toJSON(), { neg: encode(1), zero: s.zero, pos: encode(0) });
    }
  }
  assert.ok(reference.sketch!.entries(1).length > 10 && shifted.sketch!.zero + current.sketch!.zero >= 0, 'both signs occupied');
});

test('fast path: the shared log-bucket counter is clean after every batch (a key range that missed a key would leak it into the next sketch)', () => {
  const deltas = new WindowDeltas(features);
  const product = features[4] as NumericBaselineFeature;
  for (const { columns } of batches(SIZES)) {
    deltas.add(0, columns);
    assert.equal(batchCounter.counts.findIndex((c) => c !== 0), -1, 'every counted key was moved into the sketch and cleared');
    assert.equal(batchCounter.zero, 0);
  }
  // one batch with only values right of the centre, then one with only values left of it: each sign's range alone
  const s = createFeatureStats(product) as NumericStats;
  const shift = product.binning.shift;
  s.addBatch(Float64Array.from([shift + 1, shift + 1e-9, shift + 5e6, shift]));
  s.addBatch(Float64Array.from([shift - 3, shift - 1e-12, -Infinity, shift - 7e8]));
  assert.equal(batchCounter.counts.findIndex((c) => c !== 0), -1);
  const keys = (sign: number) => s.sketch!.entries(sign).map(([k]) => k);
  assert.deepEqual(keys(0), [shift + 1e-9 - shift, shift + 1 - shift, shift + 5e6 - shift].map(keyOf));
  assert.deepEqual(keys(1), [shift - 1e-12 - shift, shift - 3 - shift, shift - 7e8 - shift].map(keyOf));
  assert.equal(s.sketch!.zero, 1);
});

test('statistics handed to another thread (toState, structured clone with the arrays transferred, statsFromState) are the same statistics', () => {
  const input = batches(SIZES);
  const before = oldPath(input);
  const counted = newPath(input);
  const states = counted.map((s) => s.toState());
  const buffers = states.flatMap((st) => (st.kind === 'numeric' ? [st.bins.buffer, ...(st.sketch ? [st.sketch.counts.buffer] : [])] : [st.counts.buffer]));
  const moved = structuredClone(states, { transfer: buffers as ArrayBuffer[] });
  assert.equal((counted[0] as NumericStats).bins.length, 0, 'the arrays moved, not copied');
  features.forEach((f, i) => {
    const back = statsFromState(moved[i], f);
    assert.deepEqual(back.toJSON(), before[i].toJSON(), f.name);
    if (back.kind === 'numeric') {
      const b = before[i] as NumericStats;
      assert.ok(Object.is(back.min, b.min) && Object.is(back.max, b.max), `${f.name}: min/max (±0 told apart)`);
      assert.deepEqual([back.mean, back.m2, back.tailSums], [b.mean, b.m2, b.tailSums], `${f.name}: moments`);
    }
    // and it merges on as the original would
    const again = createFeatureStats(f);
    if (again.kind === 'numeric') again.absorb(back as NumericStats).absorb(before[i] as NumericStats);
    else again.absorb(back as typeof again).absorb(before[i] as typeof again);
    assert.deepEqual(again.toJSON(), mergeStats(before[i], before[i]).toJSON(), `${f.name}: merged`);
  });
  assert.throws(() => statsFromState(moved[5], features[0]), /feature "precipitation" is numeric but the statistics are categorical/);
  assert.throws(() => statsFromState(moved[0], features[4]), /numeric statistics state: \d+ bins, the binning has \d+/);
});

test('checkpoint side: a baseline feature\'s reference statistics are parsed once (shared by every report), again when its stats change', () => {
  const f = features[4];
  const a = referenceStats(f);
  assert.equal(referenceStats(f), a, 'the same parsed object for every report');
  const json = structuredClone(f.stats) as { rows: number; n: number };
  const changed = { ...f, stats: json } as BaselineFeature;
  assert.notEqual(referenceStats(changed), a);
  assert.deepEqual(referenceStats(changed).toJSON(), a.toJSON());
  json.rows += 1;
  const other = { ...f, stats: { ...json } } as BaselineFeature;
  assert.equal(referenceStats(other).rows, a.rows + 1, 'other stats: parsed from them');
  assert.throws(() => referenceStats({ ...f, stats: { ...json, n: -1 } } as BaselineFeature), /"n" must be a non-negative integer/);
});

test('a category column handed to the worker as vocabulary codes counts as its strings do (missing, empty, unseen)', () => {
  const season = features[5];
  assert.equal(season.kind, 'categorical');
  for (const { strings } of batches([1, 700, 4097])) {
    const cells = strings.map((v, i) => (i % 41 === 0 ? '' : i % 43 === 0 ? undefined : v)) as (string | null)[];
    const accepted = Int32Array.from(cells.keys()).filter((i) => i % 5 !== 3); // some rows rejected
    const col: StringColumn = { kind: 'string', values: cells };
    const byStrings = createFeatureStats(season) as CategoricalStats;
    byStrings.update(acceptedStrings(col, accepted));
    const codes = new Int32Array(accepted.length);
    acceptedCodes(col, accepted, vocabularyOf(season as CategoricalBaselineFeature).index, codes);
    const byCodes = createFeatureStats(season) as CategoricalStats;
    byCodes.updateCodes(codes);
    assert.deepEqual(byCodes.toJSON(), byStrings.toJSON());
    if (cells.length > 1) assert.ok(byCodes.missing > 0 && byCodes.other > 0, 'missing and unseen values are in the data');
  }
});

test('validation\'s category codes, recoded for the worker, are the codes the strings give: vocabulary values, missing, empty, unseen (scored); a feed whose dictionary does not start with the vocabulary, or whose codes were handed away, falls back to the strings', () => {
  const season = features[5] as CategoricalBaselineFeature;
  const input: InputField = { name: 'season', type: 'category', vocabulary: [...season.vocabulary], unseen: 'score', nullable: true };
  for (const { strings } of batches([1, 700, 4097])) {
    const cells = strings.map((v, i) => (i % 41 === 0 ? '' : i % 43 === 0 ? null : i % 47 === 0 ? 'monsoon' : i % 53 === 0 ? 'Winter' : v));
    const batch = { firstRow: 1, length: cells.length, columns: [{ kind: 'string', values: cells }], rowProblems: [], end: { offset: 0, row: cells.length }, start: 0 } as ColumnBatch;
    const v = validateBatch(batch, [input], new Map([['season', 'string']]), new Map());
    const coded = v.feeds.season.coded!;
    const want = new Int32Array(v.accepted.length);
    acceptedCodes(batch.columns[0] as StringColumn, v.accepted, vocabularyOf(season).index, want);
    const got = new Int32Array(v.accepted.length).fill(99);
    assert.ok(recodeFeedCodes(coded, season.vocabulary, got));
    assert.deepEqual(got, want);
    if (cells.length > 1) assert.ok(want.includes(-1) && want.includes(-2), 'missing and unseen values are in the data');
    // through extractColumns, as the worker gets them: with the feeds, and with codes that were handed to the engine (detached)
    const arena = { doubles: (n: number) => new Float64Array(n), bytes: (n: number) => new Uint8Array(n), ints: (n: number) => new Int32Array(n) };
    const bound: BoundFeature = { baseline: season, source: { from: 'input', index: 0, type: 'category' } };
    assert.deepEqual(extractColumns([bound], batch, v.accepted, undefined, arena, v.feeds), [{ kind: 'codes', values: want }]);
    const handed = { season: { ...v.feeds.season, coded: { codes: new Int32Array(0), dictionary: coded.dictionary } } };
    assert.deepEqual(extractColumns([bound], batch, v.accepted, undefined, arena, handed), [{ kind: 'codes', values: want }]);
  }
  // a dictionary that is not the vocabulary's: refused, nothing relied on
  assert.equal(recodeFeedCodes({ codes: Int32Array.of(0, 1), dictionary: ['spring', 'winter', 'summer'] }, ['winter', 'spring', 'summer'], new Int32Array(2)), false);
  assert.equal(recodeFeedCodes({ codes: Int32Array.of(0, 5), dictionary: ['winter', 'spring', 'summer', ''] }, ['winter', 'spring', 'summer'], new Int32Array(2)), false, 'a code past the dictionary');
  assert.equal(recodeFeedCodes({ codes: Int32Array.of(0), dictionary: ['winter'] }, ['winter', 'spring'], new Int32Array(1)), false, 'a dictionary shorter than the vocabulary');
});

/** The sketch metrics by definition: both CDFs before (A) and after (B) each segment of segments(), W1 and KS bounds as metrics/sketch.ts states them. */
function sketchMetricsByDefinition(ref: NumericStats, cur: NumericStats) {
  const times = (w: number, g: number) => (g === 0 ? 0 : w * g);
  let cr = 0, cc = 0, lower = 0, upper = 0, lo = 0, hi = 0, est = 0;
  for (const s of segments(ref.sketch!, cur.sketch!)) {
    const ar = cr / ref.n, ac = cc / cur.n;
    cr += s.ref;
    cc += s.cur;
    const br = cr / ref.n, bc = cc / cur.n;
    lower = Math.max(lower, Math.abs(ar - ac), Math.abs(br - bc));
    if (s.ref > 0 && s.cur > 0 && s.lo !== s.hi) upper = Math.max(upper, br - ac, bc - ar);
    const w = s.hi - s.lo;
    if (w === 0) continue;
    if (s.ref === 0 && s.cur === 0) { const g = times(w, Math.abs(ar - ac)); lo += g; hi += g; est += g; continue; }
    const l = times(w, Math.max(0, ar - bc, ac - br));
    const h = times(w, Math.max(br - ac, bc - ar));
    const ga = ar - ac, gb = br - bc;
    const linear = ga * gb >= 0 ? times(w, Math.abs(ga + gb)) / 2 : times(w, ga * ga + gb * gb) / (2 * (Math.abs(ga) + Math.abs(gb)));
    lo += l; hi += h; est += Math.min(h, Math.max(l, linear));
  }
  upper = Math.max(upper, lower);
  return { ks: { value: lower, lo: lower, hi: upper, exact: upper === lower }, wasserstein: { value: est, lo, hi, exact: lo === hi } };
}

test('checkpoint side: sketch KS and Wasserstein equal their definitions over segments(), bit for bit', () => {
  const product = features[4] as NumericBaselineFeature;
  const reference = createFeatureStats(product) as NumericStats;
  reference.update(Float64Array.from(real.product));
  const current = newPath(batches([3000, 5000]))[4] as NumericStats;
  const shifted = createFeatureStats(product) as NumericStats;
  shifted.update(Float64Array.from(real.product.slice(0, 20000), (x) => x * 1.7 - 30));
  const tiny = createFeatureStats(product) as NumericStats;
  tiny.update(Float64Array.of(reference.binning.json.shift, 1e300, -2));
  for (const [a, b] of [[reference, current], [current, shifted], [shifted, reference], [reference, tiny], [tiny, shifted], [current, current]]) {
    const want = sketchMetricsByDefinition(a, b);
    assert.deepEqual(ksFromSketch(a, b), want.ks);
    assert.deepEqual(wassersteinFromSketch(a, b), want.wasserstein);
  }
  assert.ok(wassersteinFromSketch(reference, shifted).value > 0 && !ksFromSketch(current, shifted).exact, 'the pairs differ');
});

test('scoring thread: allOk is true exactly when every status byte is ok, at any offset and length', () => {
  const buffer = new Uint8Array(64);
  for (let offset = 0; offset < 8; offset++) {
    for (let n = 0; n <= 40; n++) {
      const status = buffer.subarray(offset, offset + n);
      assert.equal(allOk(status), true, `offset ${offset}, ${n} cells`);
      for (let i = 0; i < n; i++) {
        for (const bad of [CellStatus.missing, CellStatus.unparsable]) {
          status[i] = bad;
          assert.equal(allOk(status), false, `offset ${offset}, ${n} cells, cell ${i}`);
          status[i] = CellStatus.ok;
        }
      }
      // bytes just outside the view do not count
      if (offset > 0) buffer[offset - 1] = CellStatus.missing;
      buffer[offset + n] = CellStatus.unparsable;
      assert.equal(allOk(status), true, `offset ${offset}, ${n} cells, neighbours not ok`);
      buffer.fill(0);
    }
  }
});

test('scoring thread: a predicted label outside the classes (-1) is handed to the statistics as "other", not "missing"', () => {
  const label: BoundFeature = { baseline: features[5], source: { from: 'label' } };
  const labelCodes = Int32Array.of(0, 2, -1, 1, -1);
  const batch = { length: 5, firstRow: 0, columns: [] } as unknown as Parameters<typeof extractColumns>[1];
  const accepted = Int32Array.of(0, 1, 2, 3, 4);
  const [col] = extractColumns([label], batch, accepted, { labelCodes } as Parameters<typeof extractColumns>[3]);
  assert.deepEqual(col, { kind: 'codes', values: Int32Array.of(0, 2, CATEGORY_OTHER, 1, CATEGORY_OTHER) });
  assert.deepEqual(labelCodes, Int32Array.of(0, 2, -1, 1, -1), 'the model\'s own array is left alone');
  const inRange = Int32Array.of(0, 1, 2, 1, 0);
  assert.equal((extractColumns([label], batch, accepted, { labelCodes: inRange } as Parameters<typeof extractColumns>[3])[0] as { values: Int32Array }).values, inRange, 'no copy when every label is a class');
});
