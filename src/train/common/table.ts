// A training table in memory: every column either numbers (Float64Array, NaN = missing) or text
// (null = missing). The same shape as the trainer's Dataset, so it feeds `trainModel` directly.
import type { Dataset } from './preprocess.ts';

export type TrainTable = Dataset;

export const isTextColumn = (c: ArrayLike<unknown>): c is readonly (string | null)[] => Array.isArray(c);

/** The rows at `index`, every column (or those named). */
export function takeRows(t: TrainTable, index: ArrayLike<number>, names: readonly string[] = Object.keys(t.columns)): TrainTable {
  const columns: TrainTable['columns'] = {};
  for (const name of names) {
    const c = t.columns[name];
    if (isTextColumn(c)) columns[name] = Array.from(index, (i) => c[i]);
    else {
      const out = new Float64Array(index.length);
      for (let j = 0; j < index.length; j++) out[j] = (c as ArrayLike<number>)[index[j]];
      columns[name] = out;
    }
  }
  return { rows: index.length, columns };
}
