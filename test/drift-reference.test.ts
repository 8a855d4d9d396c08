// Every case of the shared scipy reference vectors (shared/reference/drift-vectors.json): exact
// computations within 1e-9 relative; the binned (sketch) forms within their stated bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { computeBaseline, createFeatureStats, type NumericBaselineFeature } from '../src/drift/common/baseline.ts';
import type { NumericStats } from '../src/drift/common/numeric-stats.ts';
import { ksStatisticFromSamples, ksStephensPValue, ksTwoSample, ksTwoSamplePValue } from '../src/drift/common/metrics/ks.ts';
import { jensenShannonDistance } from '../src/drift/common/metrics/jensen-shannon.ts';
import { normedWasserstein, wassersteinDistance } from '../src/drift/common/metrics/wasserstein.ts';
import { populationStabilityIndex } from '../src/drift/common/metrics/psi.ts';
import { chiSquareContingency, chiSquareDrift, chiSquareGoodnessOfFit } from '../src/drift/common/metrics/chisquare.ts';
import { ksFromStats, wassersteinFromStats } from '../src/drift/common/metrics/binned.ts';
import { mergeStats } from '../src/drift/common/baseline.ts';
import { driftReport } from '../src/drift/common/report.ts';
import { CategoricalStats, Vocabulary } from '../src/drift/common/categorical-stats.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const vectors = JSON.parse(readFileSync(path.resolve(repoRoot, '..', 'shared', 'reference', 'drift-vectors.json'), 'utf8')) as {
  conventions: Record<string, string>;
  cases: ({ id: string } & Record<string, unknown>)[];
};
const byId = (id: string): Record<string, unknown> => {
  const c = vectors.cases.find((x) => x.id === id);
  assert.ok(c, `reference case ${id} missing`);
  return c;
};

const TOL = 1e-9;
let worstRelativeError = 0;
function close(actual: number, expected: number, what: string, tol = TOL): void {
  const rel = actual === expected ? 0 : Math.abs(actual - expected) / Math.abs(expected);
  worstRelativeError = Math.max(worstRelativeError, rel);
  assert.ok(rel <= tol, `${what}: got ${actual}, scipy ${expected} (relative error ${rel.toExponential(2)} > ${tol})`);
}

/** Reference and current as baseline + current statistics (the only form a window has). */
function binned(ref: number[], cur: number[]): { feature: NumericBaselineFeature; ref: NumericStats; cur: NumericStats } {
  const baseline = computeBaseline([{ name: 'x', type: 'float' }], { x: ref });
  const feature = baseline.features[0] as NumericBaselineFeature;
  const refStats = createFeatureStats(feature);
  refStats.update(Float64Array.from(ref));
  const curStats = createFeatureStats(feature);
  curStats.update(Float64Array.from(cur));
  return { feature, ref: refStats, cur: curStats };
}

const grid = (): { ref: number[]; cur: number[] } => {
  const ref = Array.from({ length: 1000 }, (_, i) => (i + 0.5) / 1000);
  return { ref, cur: ref.map((x) => x * x) };
};

test('every reference case is covered by a test here', () => {
  const covered = ['ks-small', 'js-probs', 'js-counts-empty-bins', 'js-disjoint', 'wasserstein-basic', 'wasserstein-normed', 'psi-basic', 'psi-empty-ref-bin', 'chi2-categorical', 'grid-square'];
  assert.deepEqual(vectors.cases.map((c) => c.id).sort(), [...covered].sort());
});

test('ks-small: D, exact / asymptotic / Stephens p-values, and D from bins', () => {
  const c = byId('ks-small');
  const ref = c.ref as number[];
  const cur = c.cur as number[];
  close(ksStatisticFromSamples(ref, cur), c.ks_D as number, 'D');
  const exact = ksTwoSample(ref, cur); // method auto: exact at these sizes
  assert.equal(exact.method, 'exact');
  close(exact.pValue, c.ks_p_exact as number, 'exact p');
  close(ksTwoSamplePValue(c.ks_D as number, ref.length, cur.length, 'asymp').pValue, c.ks_p_asymp as number, 'asymptotic p');
  close(ksStephensPValue(c.ks_D as number, ref.length, cur.length), c.ks_p_stephens as number, 'Stephens p');
  // from the mergeable structures: every reference value is an edge, so D is exact (ties included)
  const b = binned(ref, cur);
  const d = ksFromStats(b.ref, b.cur);
  assert.equal(d.exact, true);
  close(d.value, c.ks_D as number, 'D from bins');
  close(ksTwoSamplePValue(d.value, b.ref.n, b.cur.n).pValue, c.ks_p_exact as number, 'exact p from bins');
});

test('js-probs: Jensen-Shannon distance, natural log and base 2', () => {
  const c = byId('js-probs');
  close(jensenShannonDistance(c.ref_p as number[], c.cur_p as number[]), c.js_e as number, 'js (e)');
  close(jensenShannonDistance(c.ref_p as number[], c.cur_p as number[], 2), c.js_2 as number, 'js (2)');
});

test('js-counts-empty-bins: counts with empty bins (no zero fill for JS)', () => {
  const c = byId('js-counts-empty-bins');
  close(jensenShannonDistance(c.ref_counts as number[], c.cur_counts as number[]), c.js_e as number, 'js (e)');
  close(jensenShannonDistance(c.ref_counts as number[], c.cur_counts as number[], 2), c.js_2 as number, 'js (2)');
});

test('js-disjoint: disjoint supports reach the maximum sqrt(ln 2)', () => {
  const c = byId('js-disjoint');
  close(jensenShannonDistance(c.ref_p as number[], c.cur_p as number[]), c.js_e as number, 'js (e)');
  close(jensenShannonDistance(c.ref_p as number[], c.cur_p as number[], 2), c.js_2 as number, 'js (2)');
});

test('wasserstein-basic: raw samples and from bins (current wholly beyond the reference)', () => {
  const c = byId('wasserstein-basic');
  close(wassersteinDistance(c.ref as number[], c.cur as number[]), c.wasserstein as number, 'W');
  const b = binned(c.ref as number[], c.cur as number[]);
  const w = wassersteinFromStats(b.ref, b.cur);
  assert.equal(w.exact, true);
  close(w.value, c.wasserstein as number, 'W from bins');
});

test('wasserstein-normed: W / max(std(ref, ddof=0), 0.001), raw and from bins', () => {
  const c = byId('wasserstein-normed');
  const ref = c.ref as number[];
  const cur = c.cur as number[];
  close(wassersteinDistance(ref, cur), c.wasserstein as number, 'W');
  const b = binned(ref, cur);
  close(b.ref.std, c.std_ref_ddof0 as number, 'reference std from mergeable moments');
  const w = wassersteinFromStats(b.ref, b.cur);
  assert.equal(w.exact, true); // current values sit on reference values or beyond the range
  close(w.value, c.wasserstein as number, 'W from bins');
  close(normedWasserstein(w.value, b.ref.std), c.wasserstein_normed as number, 'normed W');
});

test('psi-basic: PSI over bin proportions', () => {
  const c = byId('psi-basic');
  close(populationStabilityIndex(c.ref_p as number[], c.cur_p as number[]), c.psi as number, 'psi');
});

test("psi-empty-ref-bin: Evidently's zero fill (1e-4 here, per side, not renormalised)", () => {
  const c = byId('psi-empty-ref-bin');
  close(populationStabilityIndex(c.ref_p as number[], c.cur_p as number[]), c.psi_evidently_fill as number, 'psi');
});

test('chi2-categorical: goodness of fit (Evidently) and contingency, directly and through the report', () => {
  const c = byId('chi2-categorical');
  const ref = c.ref_counts as Record<string, number>;
  const cur = c.cur_counts as Record<string, number>;
  const keys = Object.keys(ref);
  const gof = c.chisquare_goodness_of_fit as { stat: number; p: number; dof: number };
  const r = chiSquareDrift(keys.map((k) => ref[k]), keys.map((k) => cur[k]));
  close(r.statistic, gof.stat, 'chi2 statistic');
  close(r.pValue, gof.p, 'chi2 p');
  assert.equal(r.dof, gof.dof);
  const nCur = keys.reduce((s, k) => s + cur[k], 0);
  const nRef = keys.reduce((s, k) => s + ref[k], 0);
  close(chiSquareGoodnessOfFit(keys.map((k) => cur[k]), keys.map((k) => (ref[k] * nCur) / nRef)).pValue, gof.p, 'chisquare()');
  const ct = c.chi2_contingency as { stat: number; p: number; dof: number };
  const t = chiSquareContingency([keys.map((k) => ref[k]), keys.map((k) => cur[k])]);
  close(t.statistic, ct.stat, 'contingency statistic');
  close(t.pValue, ct.p, 'contingency p');
  assert.equal(t.dof, ct.dof);
  // through the mergeable categorical statistics and the report (auto: chi-square, small reference)
  const expand = (counts: Record<string, number>): string[] => keys.flatMap((k) => Array<string>(counts[k]).fill(k));
  const baseline = computeBaseline([{ name: 'g', type: 'category', vocabulary: keys }], { g: expand(ref) });
  const curStats = new CategoricalStats(new Vocabulary(keys));
  curStats.update(expand(cur));
  const report = driftReport(baseline, { g: curStats });
  const f = report.features[0];
  assert.equal(f.method, 'chisquare');
  close(f.statistic as number, gof.stat, 'report statistic');
  close(f.score as number, gof.p, 'report p-value');
  assert.equal(f.drifted, true);
});

test('grid-square: KS, Wasserstein, deciles, decile histograms, PSI, JS — raw and from bins', () => {
  const c = byId('grid-square');
  const { ref, cur } = grid();
  close(ksStatisticFromSamples(ref, cur), c.ks_D as number, 'D');
  const p = ksTwoSample(ref, cur);
  assert.equal(p.method, 'exact');
  close(p.pValue, c.ks_p_exact as number, 'exact p');
  close(wassersteinDistance(ref, cur), c.wasserstein as number, 'W');
  const b = binned(ref, cur);
  close(b.ref.std, c.std_ref_ddof0 as number, 'reference std');
  close(normedWasserstein(wassersteinDistance(ref, cur), b.ref.std), c.wasserstein_normed as number, 'normed W');
  // frozen decile edges = numpy linear quantiles
  b.feature.binning.deciles.forEach((e, i) => close(e, (c.decile_interior_edges_numpy_linear as number[])[i], `decile ${i + 1}`));
  assert.deepEqual(b.ref.coarseCounts(), c.ref_counts);
  assert.deepEqual(b.cur.coarseCounts(), c.cur_counts);
  close(populationStabilityIndex(b.ref.coarseCounts(), b.cur.coarseCounts()), c.psi as number, 'psi');
  close(jensenShannonDistance(b.ref.coarseCounts(), b.cur.coarseCounts()), c.js_e as number, 'js (e)');
  close(jensenShannonDistance(b.ref.coarseCounts(), b.cur.coarseCounts(), 2), c.js_2 as number, 'js (2)');
  // KS from bins: reference values are edges, so D is exact, and so is the p-value
  const d = ksFromStats(b.ref, b.cur);
  assert.equal(d.exact, true);
  close(d.value, c.ks_D as number, 'D from bins');
  close(ksTwoSamplePValue(d.value, 1000, 1000).pValue, c.ks_p_exact as number, 'exact p from bins');
  // Wasserstein from bins: the stated bound holds and is tight (quantisation of in-bin positions)
  const w = wassersteinFromStats(b.ref, b.cur);
  const exactW = c.wasserstein as number;
  assert.ok(w.lo <= exactW && exactW <= w.hi, `scipy W ${exactW} outside the stated bounds [${w.lo}, ${w.hi}]`);
  assert.ok(Math.abs(w.value - exactW) <= w.hi - w.lo, 'estimate further from scipy than the bound width');
  assert.ok(w.hi - w.lo < 1e-5 * exactW, `bounds unexpectedly wide: ${w.hi - w.lo}`);
});

test('grid-square merge check: 7 shards merged in any order give identical statistics', () => {
  const { ref, cur } = grid();
  const b = binned(ref, cur);
  const shards: NumericStats[] = [];
  for (let s = 0; s < 7; s++) {
    const part = cur.filter((_, i) => i % 7 === s);
    const st = createFeatureStats(b.feature);
    st.update(Float64Array.from(part));
    shards.push(st);
  }
  let seed = 42;
  const rand = (): number => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 32; };
  const serialised = new Set<string>();
  for (let trial = 0; trial < 30; trial++) {
    const order = [...shards].sort(() => rand() - 0.5);
    // merge as a random tree, not just left to right
    const pool = [...order];
    while (pool.length > 1) {
      const i = Math.floor(rand() * (pool.length - 1));
      pool.splice(i, 2, rand() < 0.5 ? mergeStats(pool[i], pool[i + 1]) : mergeStats(pool[i + 1], pool[i]));
    }
    serialised.add(JSON.stringify(pool[0].toJSON()));
  }
  assert.equal(serialised.size, 1, 'merge order changed the result');
  const merged = shards.reduce((a, s) => mergeStats(a, s));
  assert.deepEqual(merged.coarseCounts(), byId('grid-square').cur_counts);
  // statistics equal to the unsharded ones within 1e-12 relative, and D unchanged (|D - 0.25| <= 2·0)
  close(merged.mean, b.cur.mean, 'mean', 1e-12);
  close(merged.variance, b.cur.variance, 'variance', 1e-12);
  const d = ksFromStats(b.ref, merged);
  close(d.value, 0.25, 'D from merged bins');
  assert.equal(d.hi - d.lo, 0);
  assert.equal(ksTwoSamplePValue(d.value, 1000, 1000).d, 0.25); // snapped to h/lcm as scipy does
});

test('report the worst relative error against scipy', () => {
  // runs last in this file: every comparison above went through close()
  assert.ok(worstRelativeError <= TOL);
  console.log(`drift reference vectors: worst relative error ${worstRelativeError.toExponential(2)}`);
});
