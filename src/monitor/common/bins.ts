// The binned distribution of a feature on both sides, as proportions: a numeric feature by its 10
// reference-decile bins, a categorical one by category (plus `(other)`: unseen values). What the
// app's Drift screen and the HTML report draw. Pure.
import { referenceStats, type BaselineFeature, type FeatureStats } from '../../drift/common/index.ts';

export interface FeatureBins { feature: string; labels: string[]; reference: number[]; current: number[] }

const share = (counts: readonly number[]): number[] => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
};

const fmt = (v: number): string => String(Number(v.toPrecision(4)));

export function binsOf(f: BaselineFeature, cur: FeatureStats | undefined): FeatureBins {
  const ref = referenceStats(f);
  if (ref.kind === 'numeric' && f.kind === 'numeric') {
    const d = f.binning.deciles;
    const labels = Array.from({ length: 10 }, (_, i) => (i === 0 ? `< ${fmt(d[0])}` : i === 9 ? `≥ ${fmt(d[8])}` : `${fmt(d[i - 1])} – ${fmt(d[i])}`));
    const c = cur && cur.kind === 'numeric' ? cur.coarseCounts() : new Array<number>(10).fill(0);
    return { feature: f.name, labels, reference: share(ref.coarseCounts()), current: share(c) };
  }
  if (ref.kind !== 'categorical') throw new Error('unreachable: feature kinds disagree');
  const labels = [...ref.vocabulary.values, '(other)'];
  const c = cur && cur.kind === 'categorical' ? [...cur.counts, cur.other] : labels.map(() => 0);
  return { feature: f.name, labels, reference: share([...ref.counts, ref.other]), current: share(c) };
}
