// Population Stability Index: Σ (cur - ref) ln(cur / ref) over bin proportions. Empty bins would
// make it infinite, so a zero proportion is replaced as Evidently does (get_binned_data with
// feel_zeroes): by min_nonzero / 1e6 if min_nonzero <= 1e-4, else by 1e-4 — on each side
// separately and without renormalising.

export const PSI_WARN = 0.1;
export const PSI_ALERT = 0.25;

/** Proportions of counts (or already-normalised weights) with Evidently's zero fill. */
export function fillZeroProportions(counts: readonly number[]): number[] {
  const total = counts.reduce((s, v) => s + v, 0);
  const p = counts.map((c) => (total > 0 ? c / total : 0));
  let minNonZero = Infinity;
  for (const v of p) if (v !== 0 && v < minNonZero) minNonZero = v;
  if (minNonZero === Infinity) return p;
  const fill = minNonZero <= 1e-4 ? minNonZero / 1e6 : 1e-4;
  return p.map((v) => (v === 0 ? fill : v));
}

/** PSI of two binnings over the same bins (counts or proportions). */
export function populationStabilityIndex(reference: readonly number[], current: readonly number[]): number {
  if (reference.length !== current.length) throw new RangeError('binnings differ in length');
  const r = fillZeroProportions(reference);
  const c = fillZeroProportions(current);
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (c[i] - r[i]) * Math.log(c[i] / r[i]);
  return s;
}

export type PsiLevel = 'ok' | 'warn' | 'alert';
export const psiLevel = (psi: number, warn = PSI_WARN, alert = PSI_ALERT): PsiLevel => (psi >= alert ? 'alert' : psi >= warn ? 'warn' : 'ok');
