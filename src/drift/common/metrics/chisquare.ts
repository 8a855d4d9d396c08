// Chi-square tests on category counts (scipy.stats.chisquare / chi2_contingency) and the
// two-proportion z-test Evidently uses when a feature has exactly two values.
import { chiSquareSf, normalSf } from '../special.ts';

export interface ChiSquareResult { statistic: number; pValue: number; dof: number }

/**
 * Pearson goodness of fit: Σ (o - e)² / e with dof = k - 1 (scipy.stats.chisquare). Evidently's
 * chi-square drift test calls it with expected = reference counts scaled to the current total.
 * A category expected 0 but observed > 0 makes the statistic infinite (p = 0), as in scipy.
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], expected: readonly number[]): ChiSquareResult {
  if (observed.length !== expected.length) throw new RangeError('observed and expected differ in length');
  let stat = 0;
  for (let i = 0; i < observed.length; i++) {
    const d = observed[i] - expected[i];
    stat += d === 0 ? 0 : (d * d) / expected[i];
  }
  const dof = observed.length - 1;
  return { statistic: stat, pValue: dof > 0 ? chiSquareSf(stat, dof) : 1, dof };
}

/** Evidently's chi-square drift test: current counts against reference counts rescaled to n_cur. */
export function chiSquareDrift(reference: readonly number[], current: readonly number[]): ChiSquareResult {
  const nRef = reference.reduce((s, v) => s + v, 0);
  const nCur = current.reduce((s, v) => s + v, 0);
  const k = nCur / nRef;
  return chiSquareGoodnessOfFit(current, reference.map((r) => r * k));
}

/** Cochran's rule of thumb: the chi-square approximation needs every expected count to be at least 5. */
export const MIN_EXPECTED = 5;

export interface PooledCells {
  labels: string[];
  reference: number[];
  current: number[];
  /** the labels of cells that were pooled (empty: none) */
  pooled: string[];
}

/**
 * Make category counts fit for the chi-square goodness-of-fit test (expected = reference counts
 * scaled to the current total): while some cell expects fewer than `minExpected` values and more
 * than two cells remain, the cell with the smallest expected count is merged with the next smallest
 * (ties: the later cell first, so unseen `(other)` goes first). Pooled cells are labelled
 * "a + b". A cell the reference never saw (expected 0) is thereby merged with other sparse cells
 * instead of making the statistic infinite from a single row; a *spike* of such values still
 * shows, as the pooled cell's observed count far above its expected one. When two cells remain and
 * one still expects fewer than `minExpected` (but more than 0) they are kept (a test on two cells
 * is better than none); an expected count of exactly 0 then gives χ² = ∞ (the reference gave these
 * values probability 0), as scipy would.
 */
export function poolSparseCells(labels: readonly string[], reference: readonly number[], current: readonly number[], minExpected = MIN_EXPECTED): PooledCells {
  const nRef = reference.reduce((s, v) => s + v, 0);
  const nCur = current.reduce((s, v) => s + v, 0);
  const cells = labels.map((l, i) => ({ labels: [l], ref: reference[i], cur: current[i] }));
  const pooled = new Set<string>();
  const expected = (c: { ref: number }) => (nRef > 0 ? (c.ref * nCur) / nRef : 0);
  const smallest = (skip: number): number => {
    let best = -1;
    for (let i = cells.length - 1; i >= 0; i--) if (i !== skip && (best < 0 || cells[i].ref < cells[best].ref)) best = i;
    return best;
  };
  while (cells.length > 2) {
    const a = smallest(-1);
    if (expected(cells[a]) >= minExpected) break;
    const b = smallest(a);
    const [lo, hi] = a < b ? [a, b] : [b, a];
    const merged = { labels: [...cells[lo].labels, ...cells[hi].labels], ref: cells[lo].ref + cells[hi].ref, cur: cells[lo].cur + cells[hi].cur };
    for (const l of merged.labels) pooled.add(l);
    cells.splice(hi, 1);
    cells[lo] = merged;
  }
  return {
    labels: cells.map((c) => c.labels.join(' + ')),
    reference: cells.map((c) => c.ref),
    current: cells.map((c) => c.cur),
    pooled: labels.filter((l) => pooled.has(l)),
  };
}

/**
 * Test of independence on an r×c table (scipy.stats.chi2_contingency): expected = row·col/total,
 * dof = (r-1)(c-1), with Yates' continuity correction when dof = 1 (scipy's default).
 */
export function chiSquareContingency(table: readonly (readonly number[])[], correction = true): ChiSquareResult {
  const r = table.length;
  const c = table[0]?.length ?? 0;
  const rows = table.map((row) => row.reduce((s, v) => s + v, 0));
  const cols = Array.from({ length: c }, (_, j) => table.reduce((s, row) => s + row[j], 0));
  const total = rows.reduce((s, v) => s + v, 0);
  const dof = (r - 1) * (c - 1);
  let stat = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      const e = (rows[i] * cols[j]) / total;
      let d = table[i][j] - e;
      if (dof === 1 && correction) d = Math.sign(d) * Math.max(0, Math.abs(d) - 0.5);
      stat += d === 0 ? 0 : (d * d) / e;
    }
  }
  return { statistic: stat, pValue: dof > 0 ? chiSquareSf(stat, dof) : 1, dof };
}

export interface ZTestResult { statistic: number; pValue: number }

/**
 * Two-proportion z-test (pooled variance), two-sided: z = (p1 - p2) / sqrt(P(1-P)(1/n1 + 1/n2)).
 * The p-value is 2·Φ(-|z|) computed through erfc, so it stays accurate where Evidently's
 * 2·(1 - Φ(|z|)) rounds to 0 (|z| > ~8); elsewhere the two agree to ~1e-15.
 */
export function twoProportionZTest(k1: number, n1: number, k2: number, n2: number): ZTestResult {
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const P = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1 / n1 + 1 / n2));
  if (Number.isNaN(z)) return { statistic: 0, pValue: 1 }; // one value only, on both sides
  return { statistic: z, pValue: 2 * normalSf(Math.abs(z)) };
}
