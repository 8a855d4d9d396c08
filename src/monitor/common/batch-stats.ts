// Per-window accumulation of batch statistics. Each batch is counted as if in fresh statistics
// objects merged exactly into its window's running total (NumericStats.addBatch does both in place:
// the batch's float sums start from zero and are made exact at its end): the result depends only on how the
// input was cut into batches, never on which thread counted it, how batches were grouped between
// checkpoints, or where an hour boundary fell — so a resumed job matches an uninterrupted one bit
// for bit. Pure.
// (not the drift/common index: that would load zod into the statistics worker)
import { absorbStats, createFeatureStats, type BaselineFeature, type FeatureStats } from '../../drift/common/baseline.ts';
import { updateFromColumns, type FeatureColumn } from './collect.ts';

export class WindowDeltas {
  readonly features: readonly BaselineFeature[];
  /** window (hour) start → running totals, parallel to `features` */
  readonly byWindow = new Map<number, FeatureStats[]>();

  constructor(features: readonly BaselineFeature[]) {
    this.features = features;
  }

  /** Count a batch into its window's running totals (in place: the same as fresh objects merged in). */
  add(window: number, columns: readonly FeatureColumn[]): void {
    let totals = this.byWindow.get(window);
    if (!totals) this.byWindow.set(window, (totals = this.features.map((f) => createFeatureStats(f))));
    updateFromColumns(totals, columns);
  }

  /** Add a batch's statistics (fresh objects, kept as the window's running totals when it is new). */
  addStats(window: number, stats: readonly FeatureStats[]): void {
    const prev = this.byWindow.get(window);
    if (prev) prev.forEach((s, i) => absorbStats(s, stats[i]));
    else this.byWindow.set(window, [...stats]);
  }

  /** Count unseen category values of rows that were not scored: feature index → count. */
  addUnseen(window: number, unseen: readonly { feature: number; count: number }[]): void {
    const fresh = this.features.map((f) => createFeatureStats(f));
    for (const { feature, count } of unseen) {
      const s = fresh[feature];
      if (s.kind === 'categorical') s.addUnseen(count);
    }
    this.addStats(window, fresh);
  }

  get size(): number { return this.byWindow.size; }

  clear(): void { this.byWindow.clear(); }
}
