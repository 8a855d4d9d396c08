// Special functions and p-values against scipy (values computed with scipy 1.17.1 / numpy 2.4;
// the algorithms did not change since the 1.10 the shared vectors came from). Every branch of the
// Simard–L'Ecuyer method selection for the Kolmogorov distribution is exercised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquareSf, erfc, logGamma, normalSf, roundHalfEven } from '../src/drift/common/special.ts';
import { kolmogorovCdf, kolmogorovLimitSf, kolmogorovSf } from '../src/drift/common/kolmogorov.ts';
import { ksTwoSample, ksTwoSamplePValue } from '../src/drift/common/metrics/ks.ts';
import { twoProportionZTest } from '../src/drift/common/metrics/chisquare.ts';
import { quantileLinear } from '../src/drift/common/quantile.ts';
import { computeBaseline, type NumericBaselineFeature, referenceStats } from '../src/drift/common/baseline.ts';
import type { NumericStats } from '../src/drift/common/numeric-stats.ts';

function close(actual: number, expected: number, what: string, tol = 1e-9): void {
  if (expected === 0) { assert.ok(Math.abs(actual) < 1e-300, `${what}: got ${actual}, expected 0`); return; }
  const rel = Math.abs(actual - expected) / Math.abs(expected);
  assert.ok(rel <= tol, `${what}: got ${actual}, scipy ${expected} (relative error ${rel.toExponential(2)})`);
}

const KSTWO_SF: [number, number, number][] = [
  [10, 0.07, 0.9999999619492741], // Ruben-Gambino, t <= 1
  [200, 0.004, 1.0], // Ruben-Gambino, n > 140
  [10, 0.04, 1.0], // t <= 1/2
  [10, 0.95, 1.9531250000000172e-13], // t >= n - 1
  [10, 0.6, 0.0005681672000000003], // d >= 1/2: 2·smirnov, exact
  [300, 0.5, 7.063417378483843e-70],
  [10, 0.25, 0.4841115325000003], // Durbin (n <= 140, nd² small)
  [100, 0.05, 0.9532159710635725],
  [50, 0.2, 0.03143877776953241], // Pomeranz
  [100, 0.15, 0.019839242125641813],
  [100, 0.25, 5.408871776434847e-06], // Miller (2·smirnov), n <= 140
  [1000, 0.05, 0.013012074781090332], // n > 140, sf: 2·smirnov
  [10000, 0.2, 0.0], // nd² >= 370
  [1000, 0.012, 0.9984464668620097], // n > 140: Durbin
  [1000, 0.03, 0.3226902143914636], // Pelz-Good
  [200000, 0.002, 0.39995085369038097], // Pelz-Good, n > 100000
  [141, 0.1, 0.11128445516467944],
];
const KSTWO_CDF: [number, number, number][] = [
  [1000, 0.05, 0.9869879197970768],
  [10, 0.25, 0.5158884674999997],
  [50, 0.2, 0.9685612222304676],
  [1000, 0.03, 0.6773097856085364],
];
const KS_EXACT: [number, number, number, number][] = [
  [30, 45, 0.2222222222222222, 0.306200396560441],
  [100, 250, 0.12, 0.23951196584770185],
  [7, 1000, 0.42857142857142855, 0.11237343815932742],
  [500, 600, 0.1, 0.007942180446458561],
  [20, 20, 0.25, 0.571336004933722],
  [1000, 3, 0.6666666666666666, 0.07474876870283471],
];
const KS_ASYMP: [number, number, number, number][] = [
  [500, 20000, 0.05, 0.16846298230098666],
  [1000, 50000, 0.03, 0.33435864272594673],
  [800, 12000, 0.1, 5.558521380055011e-07],
  [20000, 30000, 0.015, 0.008941754468154279],
];
const CHI2_SF: [number, number, number][] = [
  [23.333333333333332, 2, 8.574939102672296e-06],
  [10.5, 2, 0.0052475183991813855],
  [3.2, 1, 0.07363827012030258],
  [50, 30, 0.01240206071890054],
  [1500, 1200, 6.341071285724709e-09],
  [0.001, 5, 0.9999999983185123],
  [400, 3, 2.2138865931011112e-86],
  [7.5, 7, 0.37873690604821353],
];
const NORMAL_SF: [number, number][] = [
  [0, 0.5], [0.5, 0.3085375387259869], [1.96, 0.024997895148220435], [-1.5, 0.9331927987311419],
  [5, 2.866515718791933e-07], [10, 7.61985302416047e-24], [30, 4.906713927147908e-198],
];
const ERFC: [number, number][] = [
  [-2, 1.9953222650189528], [-0.3, 1.3286267594591274], [0, 1.0], [1e-08, 0.9999999887162083], [0.5, 0.4795001221869535],
  [1, 0.15729920705028516], [2.5, 0.00040695201744495886], [6, 2.1519736712498913e-17], [20, 5.395865611607901e-176],
];
const KOLMOGOROV: [number, number][] = [
  [0.2, 0.999999999999495], [0.5, 0.9639452436648751], [0.8, 0.5441424115741981], [1.0, 0.26999967167735456],
  [1.36, 0.049485876755377876], [2, 0.0006709252557796953], [3, 3.045995948942526e-08],
];
const LGAMMA: [number, number][] = [
  [0.5, 0.5723649429247], [1.5, -0.12078223763524526], [3, 0.6931471805599453], [7.25, 7.0521854507385395],
  [10, 12.801827480081469], [123.4, 469.3360974421906], [100000.0, 1051287.7089736569],
];

test('kstwo.sf and .cdf across every method branch', () => {
  for (const [n, x, p] of KSTWO_SF) close(kolmogorovSf(n, x), p, `kstwo.sf(${x}, ${n})`);
  for (const [n, x, p] of KSTWO_CDF) close(kolmogorovCdf(n, x), p, `kstwo.cdf(${x}, ${n})`);
  assert.ok(Number.isNaN(kolmogorovSf(2.5, 0.1)), 'n must be an integer');
});

test('ks_2samp exact p-values for equal and unequal sizes, asymptotic above 10000', () => {
  for (const [n1, n2, d, p] of KS_EXACT) {
    const r = ksTwoSamplePValue(d, n1, n2);
    assert.equal(r.method, 'exact');
    close(r.pValue, p, `exact p (${n1}, ${n2}, ${d})`);
    close(ksTwoSamplePValue(d, n2, n1).pValue, p, 'symmetric in the sizes');
  }
  for (const [n1, n2, d, p] of KS_ASYMP) {
    const r = ksTwoSamplePValue(d, n1, n2);
    assert.equal(r.method, 'asymp');
    close(r.pValue, p, `asymptotic p (${n1}, ${n2}, ${d})`);
  }
  assert.equal(ksTwoSamplePValue(0, 10, 12).pValue, 1);
  assert.throws(() => ksTwoSamplePValue(0.1, 0, 5), /positive integer/);
});

test('ks_2samp end to end on deterministic samples with unequal sizes', () => {
  const ref = Array.from({ length: 300 }, (_, i) => ((i * 7919) % 1000) / 1000);
  const cur = Array.from({ length: 450 }, (_, i) => (((i * 104729) % 997) / 997) ** 2);
  const r = ksTwoSample(ref, cur);
  close(r.d, 0.2633333333333333, 'D');
  close(r.pValue, 1.948073312184038e-11, 'p');
});

test('chi-square survival, normal tail, erfc, Kolmogorov limit, log-gamma', () => {
  for (const [x, k, p] of CHI2_SF) close(chiSquareSf(x, k), p, `chi2.sf(${x}, ${k})`);
  for (const [z, p] of NORMAL_SF) close(normalSf(z), p, `norm.sf(${z})`);
  for (const [x, v] of ERFC) close(erfc(x), v, `erfc(${x})`);
  for (const [x, v] of KOLMOGOROV) close(kolmogorovLimitSf(x), v, `kolmogorov(${x})`);
  for (const [x, v] of LGAMMA) close(logGamma(x), v, `gammaln(${x})`, 1e-13);
  assert.equal(logGamma(1), 0);
  assert.equal(chiSquareSf(Infinity, 3), 0);
});

test('two-proportion z-test matches the textbook formula; p stays accurate in the far tail', () => {
  const r = twoProportionZTest(420, 1000, 180, 500);
  close(r.statistic, 2.23606797749979, 'z');
  close(r.pValue, 0.0253473186774682, 'p');
  const far = twoProportionZTest(900, 1000, 100, 1000);
  assert.ok(far.pValue > 0 && far.pValue < 1e-100, `far-tail p ${far.pValue} should be tiny but not 0`);
  assert.deepEqual(twoProportionZTest(10, 10, 5, 5), { statistic: 0, pValue: 1 });
});

test('numpy rounding semantics: half to even', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
});

test('baseline decile edges equal numpy.quantile (linear) on skewed data with ties', () => {
  const x = [...Array.from({ length: 257 }, (_, i) => ((i * 37) % 101) ** 2 / 7), ...Array<number>(20).fill(3)];
  const expected = [3.0, 24.142857142857142, 82.28571428571429, 179.0571428571429, 302.2857142857143, 464.14285714285717, 660.5714285714286, 887.0857142857145, 1141.8000000000002];
  const sorted = Float64Array.from(x).sort();
  expected.forEach((q, i) => assert.equal(quantileLinear(sorted, (i + 1) / 10), q, `decile ${i + 1}`));
  const f = computeBaseline([{ name: 'x', type: 'float' }], { x }).features[0] as NumericBaselineFeature;
  assert.deepEqual(f.binning.deciles, expected);
  const s = referenceStats(f) as NumericStats;
  close(s.mean, 443.47292418772565, 'mean (numpy)', 1e-13);
  close(s.std, 432.2251194021006, 'std ddof=0 (numpy)', 1e-13);
});
