// The drift report: Evidently's method choice, thresholds and overrides from the card, skipped
// verdicts on small samples, per-feature counts, dataset drift, config validation and the chart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeBaseline, createFeatureStats, driftReport, renderBar, renderSparkline, renderWorstFeatures,
  type Baseline, type FeatureStats,
} from '../src/drift/common/index.ts';

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const r = prng(11);
const normal = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

type Col = (number | null)[] | (string | null)[];

/** Current statistics for every baseline feature from plain columns. */
function current(baseline: Baseline, columns: Record<string, Col>): Record<string, FeatureStats> {
  const out: Record<string, FeatureStats> = {};
  for (const f of baseline.features) {
    const col = columns[f.name];
    if (!col) continue;
    const s = createFeatureStats(f);
    if (s.kind === 'numeric') s.update(Float64Array.from(col as (number | null)[], (v) => (v === null ? NaN : v)));
    else s.update(col as (string | null)[]);
    out[f.name] = s;
  }
  return out;
}

const features = [
  { name: 'num', type: 'float' as const },
  { name: 'flag', type: 'bool' as const },
  { name: 'level', type: 'int' as const },
  { name: 'color', type: 'category' as const, vocabulary: ['red', 'green', 'blue'] },
];
function reference(n: number): Record<string, Col> {
  return {
    num: many(n, () => normal()),
    flag: many(n, () => (r() < 0.3 ? 1 : 0)),
    level: many(n, () => Math.floor(r() * 4)),
    color: many(n, () => ['red', 'green', 'blue'][Math.floor(r() * 3)]),
  };
}

test("auto methods follow Evidently: small reference → tests, large → distances", () => {
  const small = computeBaseline(features, reference(800));
  const rs = driftReport(small, current(small, reference(600)));
  assert.deepEqual(rs.features.map((f) => [f.feature, f.method, f.scoreKind]), [
    ['num', 'ks', 'p-value'], ['flag', 'z', 'p-value'], ['level', 'chisquare', 'p-value'], ['color', 'chisquare', 'p-value'],
  ]);
  const large = computeBaseline(features, reference(3000));
  const rl = driftReport(large, current(large, reference(2000)));
  assert.deepEqual(rl.features.map((f) => f.method), ['wasserstein', 'jensenshannon', 'jensenshannon', 'jensenshannon']);
  // same distribution: nothing drifts, and no dataset drift
  for (const f of [...rs.features, ...rl.features]) assert.equal(f.drifted, false, `${f.feature} (${f.method}) score ${f.score}`);
  assert.equal(rs.dataset.drifted, false);
  assert.equal(rl.dataset.share, 0);
});

test('shifted data drifts under every method; PSI levels, severity and bounds are reported', () => {
  const base = computeBaseline(features, reference(3000));
  const cur = reference(2000);
  cur.num = cur.num.map((v) => (v as number) + 1); // one standard deviation
  cur.flag = many(2000, () => (r() < 0.6 ? 1 : 0));
  cur.color = many(2000, () => (r() < 0.7 ? 'red' : 'blue'));
  const rep = driftReport(base, current(base, cur));
  const by = Object.fromEntries(rep.features.map((f) => [f.feature, f]));
  assert.equal(by.num.drifted, true);
  assert.ok(by.num.score! > 0.9 && by.num.score! < 1.1, `normed Wasserstein ~1 sd, got ${by.num.score}`);
  assert.ok(by.num.bounds && by.num.bounds.lo <= by.num.score! && by.num.score! <= by.num.bounds.hi);
  assert.equal(by.num.certain, true);
  assert.equal(by.num.psi?.level, 'alert');
  assert.equal(by.flag.drifted, true);
  assert.equal(by.color.drifted, true);
  assert.equal(by.level.drifted, false);
  assert.equal(rep.dataset.drifted, true); // 3 of 4 >= 0.5
  assert.equal(rep.dataset.share, 0.75);
  assert.ok(by.num.severity! > 1 && by.level.severity! < 1);
});

test('a verdict is skipped on too small a current sample, and the report says why', () => {
  const base = computeBaseline(features, reference(800));
  const rep = driftReport(base, current(base, { num: many(20, () => normal() + 5), color: ['red', 'red'] }));
  const num = rep.features.find((f) => f.feature === 'num')!;
  assert.equal(num.drifted, null);
  assert.match(num.reason!, /20 values; a ks verdict needs at least 30/);
  assert.equal(num.nCurrent, 20);
  assert.equal(num.outOfRange! > 0, true); // the counts are still reported
  assert.equal(rep.dataset.drifted, null);
  assert.match(rep.dataset.reason!, /no input feature has a verdict/);
  // distances need more (large reference → Wasserstein): 300 values are not enough by default
  const large = computeBaseline(features, reference(3000));
  const r300 = driftReport(large, current(large, { num: many(300, () => normal()) }));
  assert.match(r300.features[0].reason!, /needs at least 500/);
  // ...unless the card lowers the minimum
  const ok = driftReport(large, current(large, { num: many(300, () => normal()) }), { minCurrent: { distance: 100 } });
  assert.equal(ok.features[0].drifted, false);
  // features without current statistics are left out
  assert.deepEqual(rep.features.map((f) => f.feature), ['num', 'color']);
});

test('card overrides: feature > kind > default, thresholds, disabled features, dataset share', () => {
  const base = computeBaseline(features, reference(800));
  const cur = reference(600);
  cur.num = cur.num.map((v) => (v as number) + 0.15); // small shift: KS sees it, a loose threshold does not
  const stats = current(base, cur);
  const plain = driftReport(base, stats).features.find((f) => f.feature === 'num')!;
  assert.equal(plain.drifted, true);
  const loose = driftReport(base, stats, { features: { num: { threshold: 1e-6 } } }).features.find((f) => f.feature === 'num')!;
  assert.equal(loose.method, 'ks');
  assert.equal(loose.threshold, 1e-6);
  assert.equal(loose.drifted, false);
  assert.equal(loose.score, plain.score);
  const psi = driftReport(base, stats, { method: 'psi', numeric: { threshold: 0.5 }, features: { num: { method: 'wasserstein' } } });
  assert.deepEqual(psi.features.map((f) => [f.method, f.threshold, f.methodSource]), [
    ['wasserstein', 0.5, 'feature'], ['psi', 0.5, 'default'], ['psi', 0.5, 'default'], ['psi', 0.1, 'default'],
  ]);
  const off = driftReport(base, stats, { features: { num: { enabled: false } }, datasetShare: 0.2 });
  const num = off.features.find((f) => f.feature === 'num')!;
  assert.equal(num.drifted, null);
  assert.match(num.reason!, /disabled/);
  assert.ok(num.psi !== null);
  assert.equal(off.dataset.evaluatedFeatures, 3);
  assert.equal(off.dataset.threshold, 0.2);
});

test('invalid drift settings fail loudly with the path', () => {
  const base = computeBaseline(features, reference(200));
  const stats = current(base, reference(100));
  assert.throws(() => driftReport(base, stats, { features: { color: { method: 'ks' } } }), /color: ks needs a numeric feature/);
  assert.throws(() => driftReport(base, stats, { features: { nope: {} } }), /drift\.features\.nope: no such feature/);
  assert.throws(() => driftReport(base, stats, { method: 'magic' }), /drift\.method/);
  assert.throws(() => driftReport(base, stats, { numeric: { method: 'chisquare' } }), /num: chisquare needs a categorical feature/);
  assert.throws(() => driftReport(base, stats, { psi: { warn: 0.3, alert: 0.2 } }), /psi/);
});

test('missing-rate change, out-of-range values and unseen categories', () => {
  const ref = reference(1000);
  ref.num[0] = null;
  const base = computeBaseline(features, ref);
  const cur = reference(1000);
  for (let i = 0; i < 100; i++) cur.num[i] = null;
  cur.num[100] = 1e6;
  cur.num[101] = -1e6;
  for (let i = 0; i < 40; i++) cur.color[i] = i % 2 ? 'purple' : null;
  const rep = driftReport(base, current(base, cur));
  const num = rep.features.find((f) => f.feature === 'num')!;
  assert.equal(num.missingRate.reference, 0.001);
  assert.equal(num.missingRate.current, 0.1);
  assert.ok(Math.abs(num.missingRate.change - 0.099) < 1e-15);
  assert.equal(num.outOfRange, 2);
  assert.equal(num.nCurrent, 900);
  const color = rep.features.find((f) => f.feature === 'color')!;
  assert.equal(color.unseenCategories, 20);
  assert.equal(color.missingRate.current, 0.02);
  assert.deepEqual((color.details.categories as { labels: string[] }).labels, ['red', 'green', 'blue', '(other)']);
});

test('current statistics can be passed as their JSON (as stored in SQLite)', () => {
  const base = computeBaseline(features, reference(500));
  const live = current(base, reference(400));
  const asJson = Object.fromEntries(Object.entries(live).map(([k, v]) => [k, JSON.parse(JSON.stringify(v.toJSON()))]));
  assert.deepEqual(driftReport(base, asJson), driftReport(base, live));
});

test('terminal charts: bars, sparklines, worst features', () => {
  assert.equal(renderBar(5, 10, 4), '██  ');
  assert.equal(renderBar(1, 8, 1), '▏');
  assert.equal(renderBar(20, 10, 3), '███');
  assert.equal(renderSparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  assert.equal(renderSparkline([1, null, 1]), '▁ ▁');
  const base = computeBaseline(features, reference(800));
  const cur = reference(600);
  cur.num = cur.num.map((v) => (v as number) + 2);
  const lines = renderWorstFeatures(driftReport(base, current(base, cur)), 2, 10);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^num +█{10} +(>99|\d+\.\d\d)× threshold {2}DRIFT$/);
  assert.match(lines[1], /× threshold {2}ok$/);
});

test('scoring batch columns update the statistics (number column with status, string column)', async () => {
  const { updateFromColumn, merge } = await import('../src/drift/common/index.ts');
  const base = computeBaseline(features, reference(200));
  const num = createFeatureStats(base.features[0]);
  updateFromColumn(num, { kind: 'number', values: Float64Array.from([1, NaN, 2, NaN]), status: Uint8Array.from([0, 1, 0, 2]) });
  assert.deepEqual([num.rows, num.n, (num as { missing: number }).missing, (num as { invalid: number }).invalid], [4, 2, 1, 1]);
  const color = createFeatureStats(base.features[3]);
  updateFromColumn(color, { kind: 'string', values: ['red', null, 'mauve'] });
  assert.deepEqual(color.toJSON(), { v: 1, kind: 'categorical', vocabulary: (color.toJSON() as { vocabulary: string }).vocabulary, rows: 3, counts: [1, 0, 0], other: 1, missing: 1 });
  assert.throws(() => updateFromColumn(num, { kind: 'string', values: ['x'] }), /number column/);
  assert.throws(() => merge(num, color as never), /numeric with categorical/);
});
