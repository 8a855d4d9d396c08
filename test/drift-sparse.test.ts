// Sparse chi-square cells, ∞ kept distinct from "not computed", PSI without a level on small
// samples, and input drift reported apart from prediction drift. Expected numbers: scipy 1.x
// (scipy.stats.chisquare on the pooled cells, printed by the commands quoted beside them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  computeBaseline, createFeatureStats, driftReport, parseDrift, poolSparseCells, stringifyDrift, toWire,
  type Baseline, type FeatureStats,
} from '../src/drift/common/index.ts';
import { createRng } from '../src/train/common/index.ts';

const SEASONS = ['winter', 'spring', 'summer', 'autumn'];
const repeat = (counts: Record<string, number>): string[] => Object.entries(counts).flatMap(([k, n]) => Array<string>(n).fill(k));
// the demo's training days per season (2012–2014)
const seasonBaseline = (): Baseline => computeBaseline([{ name: 'season', type: 'category', vocabulary: SEASONS }], {
  season: repeat({ winter: 271, spring: 276, summer: 276, autumn: 273 }),
});
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.abs(b), `${what}: ${a} vs ${b}`);

function seasons(baseline: Baseline, counts: Record<string, number>): Record<string, FeatureStats> {
  const s = createFeatureStats(baseline.features[0]);
  if (s.kind !== 'categorical') throw new Error('categorical expected');
  s.update(repeat(counts));
  return { season: s };
}

test('one unseen value of 365 no longer makes chi-square infinite: sparse cells are pooled', () => {
  const base = seasonBaseline();
  // chi-square forced (the reference has 1,096 rows, so auto would pick Jensen-Shannon)
  const f = driftReport(base, seasons(base, { winter: 90, spring: 92, summer: 92, autumn: 90, monsoon: 1 }), { categorical: { method: 'chisquare' } }).features[0];
  assert.equal(f.unseenCategories, 1);
  assert.equal(f.drifted, false);
  assert.deepEqual(f.details.cells, {
    rule: 'cells expecting fewer than 5 values pooled (smallest first)',
    labels: ['winter + (other)', 'spring', 'summer', 'autumn'], reference: [271, 276, 276, 273], current: [91, 92, 92, 90],
  });
  // scipy.stats.chisquare([91, 92, 92, 90], np.array([271, 276, 276, 273]) * 365 / 1096)
  close(f.statistic!, 0.015619175008549754, 'χ²');
  close(f.score!, 0.9994832602684104, 'p');
  assert.equal(f.details.dof, 3);
});

test('a spike of new categories raises the chi-square and Jensen-Shannon verdicts', () => {
  const base = seasonBaseline();
  const spike = { winter: 60, spring: 62, summer: 62, autumn: 60, monsoon: 80, haze: 41 };
  const chi = driftReport(base, seasons(base, spike), { categorical: { method: 'chisquare' } });
  const f = chi.features[0];
  assert.equal(f.unseenCategories, 121);
  assert.equal(f.drifted, true);
  // scipy.stats.chisquare([181, 62, 62, 60], np.array([271, 276, 276, 273]) * 365 / 1096)
  close(f.statistic!, 121.23720071165201, 'χ²');
  close(f.score!, 4.1780464368128493e-26, 'p');
  assert.equal(chi.dataset.drifted, true);
  // auto: 1,096 reference rows → Jensen-Shannon; it needs 500 current values for a verdict
  const big = Object.fromEntries(Object.entries(spike).map(([k, n]) => [k, n * 2]));
  const js = driftReport(base, seasons(base, big)).features[0];
  assert.equal(js.method, 'jensenshannon');
  assert.equal(js.drifted, true, `JS ${js.score}`);
  assert.equal(js.psi?.level, 'alert');
});

test('pooling: smallest expected first, into the next smallest; two cells are never merged into one', () => {
  assert.deepEqual(poolSparseCells(['a', 'b', 'c'], [50, 50, 0], [20, 20, 3]), {
    labels: ['a', 'b + c'], reference: [50, 50], current: [20, 23], pooled: ['b', 'c'],
  });
  // nothing sparse: unchanged
  assert.deepEqual(poolSparseCells(['a', 'b', 'c'], [60, 30, 10], [20, 15, 15]).pooled, []);
  // two cells left, one still expecting 0: kept, and the statistic is honestly infinite
  const two = poolSparseCells(['a', '(other)'], [100, 0], [40, 2]);
  assert.deepEqual(two.labels, ['a', '(other)']);
  const base = computeBaseline([{ name: 'g', type: 'category', vocabulary: ['a', 'b'] }], { g: repeat({ a: 100 }) });
  const cur = createFeatureStats(base.features[0]);
  if (cur.kind === 'categorical') cur.update(repeat({ a: 40, zzz: 2 }));
  const f = driftReport(base, { g: cur }, { categorical: { method: 'chisquare' } }).features[0];
  assert.equal(f.statistic, Infinity);
  assert.equal(f.score, 0);
  assert.equal(f.drifted, true);
  assert.equal(f.severity, Infinity);
});

test('∞ survives JSON as "Infinity"; null stays "not computed"; category labels are never revived', () => {
  const text = stringifyDrift({ statistic: Infinity, score: 0, severity: -Infinity, value: null, labels: ['Infinity'] });
  assert.equal(text, '{"statistic":"Infinity","score":0,"severity":"-Infinity","value":null,"labels":["Infinity"]}');
  assert.deepEqual(parseDrift(text), { statistic: Infinity, score: 0, severity: -Infinity, value: null, labels: ['Infinity'] });
  assert.equal(toWire(NaN), null);
  assert.equal(JSON.stringify({ x: Infinity }), '{"x":null}', 'why plain JSON is not enough');
});

test('PSI gets no level below 300 current values (and no "alert" from noise), then does', () => {
  const rng = createRng(5);
  const base = computeBaseline([{ name: 'x', type: 'float' }], { x: Float64Array.from({ length: 1096 }, () => rng.normal()) });
  const at = (n: number, shift: number) => {
    const s = createFeatureStats(base.features[0]);
    if (s.kind === 'numeric') s.update(Float64Array.from({ length: n }, () => rng.normal() + shift));
    return driftReport(base, { x: s }).features[0];
  };
  const small = at(40, 0);
  assert.equal(small.psi?.level, 'insufficient');
  assert.equal(small.psi?.minCurrent, 300);
  assert.ok(small.psi!.value > 0);
  assert.equal(at(299, 2).psi?.level, 'insufficient', 'even a large shift: too few values for a level');
  assert.equal(at(300, 2).psi?.level, 'alert');
  assert.equal(at(1000, 0).psi?.level, 'ok');
  // the card can move the minimum
  const s = createFeatureStats(base.features[0]);
  if (s.kind === 'numeric') s.update(Float64Array.from({ length: 40 }, () => rng.normal() + 2));
  assert.equal(driftReport(base, { x: s }, { minCurrent: { psi: 20 } }).features[0].psi?.level, 'alert');
});

test('a skipped verdict still shows its numbers; input drift and prediction drift are separate verdicts', () => {
  const rng = createRng(8);
  const n = 600;
  const norm = (shift: number) => Float64Array.from({ length: n }, () => rng.normal() + shift);
  // two inputs, a label and five probability columns (all moving together, as p_* columns do)
  const names = ['a', 'b', 'prediction.label', ...['p1', 'p2', 'p3', 'p4', 'p5'].map((p) => `prediction.${p}`)];
  const specs = names.map((name) => (name === 'prediction.label' ? { name, type: 'category' as const, vocabulary: ['x', 'y'] } : { name, type: 'float' as const }));
  const ref = Object.fromEntries(names.map((name) => [name, name === 'prediction.label' ? repeat({ x: 400, y: 400 }) : Float64Array.from({ length: 800 }, () => rng.normal())]));
  const base = computeBaseline(specs, ref);
  const cur: Record<string, FeatureStats> = {};
  for (const f of base.features) {
    const s = createFeatureStats(f);
    if (s.kind === 'numeric') s.update(norm(f.name.startsWith('prediction.p') ? 1 : 0));
    else s.update(repeat({ x: 300, y: 300 }));
    cur[f.name] = s;
  }
  const rep = driftReport(base, cur);
  // 5 of 8 features drifted; counted as votes that would be "dataset drift" — but they are outputs
  assert.equal(rep.features.filter((f) => f.drifted).length, 5);
  assert.deepEqual(rep.dataset, { drifted: false, share: 0, driftedFeatures: 0, evaluatedFeatures: 2, threshold: 0.5 });
  assert.deepEqual(rep.prediction, { drifted: false, feature: 'prediction.label', driftedOutputs: 5, evaluatedOutputs: 6 });
  assert.equal(rep.detected, false);
  // the label moves: prediction drift (and so drift detected), input drift still no
  const moved = createFeatureStats(base.features[2]);
  if (moved.kind === 'categorical') moved.update(repeat({ x: 450, y: 150 }));
  const rep2 = driftReport(base, { ...cur, 'prediction.label': moved });
  assert.equal(rep2.prediction.drifted, true);
  assert.equal(rep2.dataset.drifted, false);
  assert.equal(rep2.detected, true);
  // too few values: KS numbers shown, no verdict, no severity, and nothing detected
  const few = createFeatureStats(base.features[0]);
  if (few.kind === 'numeric') few.update(Float64Array.from({ length: 20 }, () => rng.normal() + 3));
  const r3 = driftReport(base, { a: few });
  const a = r3.features[0];
  assert.equal(a.drifted, null);
  assert.equal(a.severity, null);
  assert.ok(a.statistic! > 0.5 && a.score! < 1e-5, `D ${a.statistic}, p ${a.score}`);
  assert.match(a.reason!, /20 values; a ks verdict needs at least 30/);
  assert.equal(r3.detected, null);
  assert.match(r3.prediction.reason!, /not monitored/);
});
