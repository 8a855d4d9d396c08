// Infers the input schema of a model from its training rows: type (float when any value has a
// fraction, int when every value is whole, category for text), nullable (any value missing), a
// range only where the data says the feature cannot be negative (min 0; the observed extremes are
// drift's business, not a reason to reject a row later), and the vocabulary of a category (sorted
// values seen in the training rows). A template (a card's `inputs`) overrides what it names.
import { OutpostError } from '../../common/errors.ts';
import type { InputField } from '../../package/common/card.ts';
import type { FeatureSpec } from './preprocess.ts';
import { isTextColumn, type TrainTable } from './table.ts';

/** More distinct values than this in a text column is an identifier, not a category. */
export const MAX_CATEGORIES = 1000;

export function inferFeature(t: TrainTable, name: string, template?: InputField): FeatureSpec {
  const c = t.columns[name];
  if (c === undefined) throw new OutpostError('input', `no column "${name}"`, { field: name });
  let missing = 0;
  let spec: FeatureSpec;
  if (isTextColumn(c)) {
    const seen = new Set<string>();
    for (let i = 0; i < t.rows; i++) {
      const v = c[i];
      if (v === null) missing++;
      else seen.add(v);
    }
    if (seen.size === 0) throw new OutpostError('input', 'every training value of this feature is missing', { field: name });
    if (seen.size > MAX_CATEGORIES && !template) throw new OutpostError('input', `${seen.size.toLocaleString('en-US')} distinct text values: an identifier, not a category (at most ${MAX_CATEGORIES}); leave it out with --features`, { field: name });
    spec = { name, type: 'category', vocabulary: [...seen].sort() };
  } else {
    const v = c as ArrayLike<number>;
    let whole = true;
    let min = Infinity;
    for (let i = 0; i < t.rows; i++) {
      const x = v[i];
      if (Number.isNaN(x)) { missing++; continue; }
      if (!Number.isFinite(x)) throw new OutpostError('input', `not a finite number: ${x}`, { row: i + 1, field: name });
      if (whole && !Number.isInteger(x)) whole = false;
      if (x < min) min = x;
    }
    if (missing === t.rows) throw new OutpostError('input', 'every training value of this feature is missing', { field: name });
    spec = { name, type: whole ? 'int' : 'float', ...(min >= 0 ? { range: { min: 0 } } : {}) };
  }
  if (missing > 0) spec.nullable = true;
  if (template) {
    if (template.type === 'category' && !isTextColumn(c)) throw new OutpostError('usage', 'the schema template says category but the column was read as numbers: list it in --categorical', { field: name });
    if (template.type !== 'category' && isTextColumn(c)) throw new OutpostError('input', `the schema template says ${template.type} but the column holds text`, { field: name });
    if (missing > 0 && template.nullable === false) throw new OutpostError('input', `the schema template says not nullable but ${missing} training value${missing === 1 ? ' is' : 's are'} missing`, { field: name });
    spec = {
      name,
      type: template.type,
      nullable: template.nullable || missing > 0,
      ...(template.range ? { range: { ...template.range } } : template.type === spec.type && spec.range ? { range: spec.range } : {}),
      ...(template.type === 'category' ? { vocabulary: template.vocabulary ? [...template.vocabulary] : spec.vocabulary } : {}),
      ...(template.unit !== undefined ? { unit: template.unit } : {}),
      ...(template.description !== undefined ? { description: template.description } : {}),
    };
  }
  return spec;
}

export function inferSchema(t: TrainTable, features: readonly string[], template: readonly InputField[] = []): FeatureSpec[] {
  const byName = new Map(template.map((f) => [f.name, f]));
  return features.map((f) => inferFeature(t, f, byName.get(f)));
}
