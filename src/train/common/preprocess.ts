// Feature preprocessing learned from training data: standardisation (mean/std), mean imputation for
// nullable numeric features, and one-hot vocabularies for category features. The same statistics
// are baked into the exported ONNX graph, so `transform` here and the graph must agree exactly.
//
// Design-matrix layout (the graph's Concat follows it): every numeric feature (float, int, bool) in
// declaration order, one column each; then every category feature in declaration order, one column
// per vocabulary entry. Unseen or missing categories give an all-zero block (OneHotEncoder zeros=1).
import type { FeatureType } from '../../package/common/card.ts';
import { OutpostError } from '../../common/errors.ts';

export interface FeatureSpec {
  name: string;
  type: FeatureType;
  nullable?: boolean;
  /** plausible bounds for the card (not fitted) */
  range?: { min?: number; max?: number };
  unit?: string;
  description?: string;
  /** category features: a fixed vocabulary (in this order); learned sorted from the data when absent */
  vocabulary?: string[];
}

/** Columnar training or scoring data: numbers (NaN = missing) or strings (null = missing). */
export type FeatureColumn = ArrayLike<number> | readonly (string | null)[];
export interface Dataset {
  rows: number;
  columns: Record<string, FeatureColumn>;
}

export interface NumericStats { spec: FeatureSpec; mean: number; std: number }
export interface CategoryStats { spec: FeatureSpec; vocabulary: string[] }

export interface Preprocessor {
  /** every feature, in declaration order (the card's input order) */
  features: FeatureSpec[];
  numeric: NumericStats[];
  categories: CategoryStats[];
  /** columns of the design matrix */
  width: number;
}

/** A dense row-major matrix. */
export interface Matrix { rows: number; cols: number; data: Float64Array }

const isNumeric = (t: FeatureType): boolean => t !== 'category';

function column(data: Dataset, name: string): FeatureColumn {
  const c = data.columns[name];
  if (c === undefined) throw new OutpostError('input', `missing column "${name}"`, { field: name });
  if (c.length !== data.rows) throw new OutpostError('input', `column "${name}" has ${c.length} values, expected ${data.rows}`, { field: name });
  return c;
}

function numberAt(c: FeatureColumn, i: number, name: string): number {
  const v = c[i];
  if (typeof v === 'number') return v;
  if (v === null) return NaN;
  throw new OutpostError('input', `expected a number, got ${JSON.stringify(v)}`, { row: i + 1, field: name });
}

function stringAt(c: FeatureColumn, i: number, name: string): string | null {
  const v = c[i];
  if (v === null || typeof v === 'string') return v;
  throw new OutpostError('input', `expected a category (string), got ${String(v)}`, { row: i + 1, field: name });
}

const missingError = (name: string, i: number): OutpostError =>
  new OutpostError('input', 'missing value in a feature that is not nullable', { row: i + 1, field: name });

/** Learn the statistics from training data. Statistics are rounded to float32 so the graph holds the same values. */
export function fitPreprocessor(specs: readonly FeatureSpec[], data: Dataset): Preprocessor {
  if (specs.length === 0) throw new OutpostError('input', 'no features');
  if (data.rows === 0) throw new OutpostError('input', 'no training rows');
  const numeric: NumericStats[] = [];
  const categories: CategoryStats[] = [];
  for (const spec of specs) {
    const c = column(data, spec.name);
    if (isNumeric(spec.type)) {
      let n = 0;
      let sum = 0;
      for (let i = 0; i < data.rows; i++) {
        const v = numberAt(c, i, spec.name);
        if (Number.isNaN(v)) {
          if (!spec.nullable) throw missingError(spec.name, i);
          continue;
        }
        if (!Number.isFinite(v)) throw new OutpostError('input', `not a finite number: ${v}`, { row: i + 1, field: spec.name });
        n++;
        sum += v;
      }
      if (n === 0) throw new OutpostError('input', 'every training value is missing', { field: spec.name });
      const mean = sum / n;
      let ss = 0;
      for (let i = 0; i < data.rows; i++) {
        const v = numberAt(c, i, spec.name);
        if (!Number.isNaN(v)) ss += (v - mean) * (v - mean);
      }
      const std = Math.sqrt(ss / n);
      // A constant feature carries no signal; dividing by 1 keeps it harmless instead of Infinity.
      numeric.push({ spec, mean: Math.fround(mean), std: std > 1e-12 ? Math.fround(std) : 1 });
    } else {
      const seen = new Set<string>();
      for (let i = 0; i < data.rows; i++) {
        const v = stringAt(c, i, spec.name);
        if (v === null) {
          if (!spec.nullable) throw missingError(spec.name, i);
          continue;
        }
        if (spec.vocabulary && !spec.vocabulary.includes(v)) throw new OutpostError('input', `category "${v}" is not in the declared vocabulary`, { row: i + 1, field: spec.name });
        seen.add(v);
      }
      const vocabulary = spec.vocabulary ? [...spec.vocabulary] : [...seen].sort();
      if (vocabulary.length === 0) throw new OutpostError('input', 'every training value is missing', { field: spec.name });
      categories.push({ spec, vocabulary });
    }
  }
  const width = numeric.length + categories.reduce((s, c) => s + c.vocabulary.length, 0);
  return { features: [...specs], numeric, categories, width };
}

/**
 * The design matrix for a dataset: impute nullable numerics with the training mean, standardise,
 * one-hot categories (unseen or missing → zeros). A missing value in a non-nullable feature is an error.
 */
export function transform(p: Preprocessor, data: Dataset): Matrix {
  const out = new Float64Array(data.rows * p.width);
  p.numeric.forEach((s, j) => {
    const c = column(data, s.spec.name);
    for (let i = 0; i < data.rows; i++) {
      let v = numberAt(c, i, s.spec.name);
      if (Number.isNaN(v)) {
        if (!s.spec.nullable) throw missingError(s.spec.name, i);
        v = s.mean;
      }
      out[i * p.width + j] = (v - s.mean) / s.std;
    }
  });
  let offset = p.numeric.length;
  for (const s of p.categories) {
    const c = column(data, s.spec.name);
    const index = new Map(s.vocabulary.map((v, k) => [v, k]));
    for (let i = 0; i < data.rows; i++) {
      const v = stringAt(c, i, s.spec.name);
      if (v === null && !s.spec.nullable) throw missingError(s.spec.name, i);
      const k = v === null ? undefined : index.get(v);
      if (k !== undefined) out[i * p.width + offset + k] = 1;
    }
    offset += s.vocabulary.length;
  }
  return { rows: data.rows, cols: p.width, data: out };
}
