// Jensen-Shannon distance, as scipy.spatial.distance.jensenshannon: the square root of the
// divergence ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2, natural log unless a base is given. Inputs are
// normalised first (counts are fine); zero entries contribute 0 (rel_entr(0, m) = 0), so no fill.

/** x ln(x/y) with the conventions of scipy.special.rel_entr. */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

export function jensenShannonDistance(p: readonly number[], q: readonly number[], base?: number): number {
  if (p.length !== q.length) throw new RangeError('distributions differ in length');
  const sp = p.reduce((s, v) => s + v, 0);
  const sq = q.reduce((s, v) => s + v, 0);
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] / sp;
    const b = q[i] / sq;
    const m = (a + b) / 2;
    left += relEntr(a, m);
    right += relEntr(b, m);
  }
  let js = left + right;
  if (base !== undefined) js /= Math.log(base);
  return Math.sqrt(js / 2);
}
