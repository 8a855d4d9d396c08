// The scoring hot path of drift monitoring, in two steps so the expensive one can leave the main
// thread: extractColumns() takes a batch's accepted rows and the model's outputs per monitored
// feature (views of the reader's columns where possible, copies in shared memory when a worker
// counts them); updateFromColumns() runs the statistics update on them. Pure.
import { vocabularyOf, type FeatureStats } from '../../drift/common/baseline.ts';
import { CATEGORY_MISSING, CATEGORY_OTHER } from '../../drift/common/categorical-stats.ts';
import { allOk, CellStatus, type ColumnBatch, type NumberColumn, type StringColumn } from '../../io/common/table.ts';
import type { ScoredColumns } from '../../scoring/common/outputs.ts';
import { BOOL_TEXT, type Feed } from '../../scoring/common/validate.ts';
import type { BoundFeature } from './features.ts';

/** One feature's values for one batch (structured-cloneable; typed arrays transferable). */
export type FeatureColumn =
  | { kind: 'f64'; values: Float64Array; status?: Uint8Array }
  /** float32 model outputs: widened (exactly) when the statistics are updated */
  | { kind: 'f32'; values: Float32Array }
  | { kind: 'str'; values: (string | null)[] }
  /** vocabulary indexes (CATEGORY_OTHER for values outside it) */
  | { kind: 'codes'; values: Int32Array }
  | { kind: 'none' };

/** Values and status bytes of the accepted rows of a number column, written into `values`/`status`. */
export function acceptedNumbers(col: NumberColumn, accepted: Int32Array, values: Float64Array, status: Uint8Array): void {
  const src = col.values;
  const st = col.status;
  for (let j = 0; j < accepted.length; j++) {
    const i = accepted[j];
    values[j] = src[i];
    status[j] = st[i];
  }
}

/** A bool column's accepted cells as 1/0, missing where empty (validation already refused other text). */
export function acceptedBooleans(col: StringColumn, accepted: Int32Array, values: Float64Array, status: Uint8Array): void {
  for (let j = 0; j < accepted.length; j++) {
    const v = col.values[accepted[j]];
    const b = v === null || v === '' ? undefined : BOOL_TEXT.get(v.trim().toLowerCase());
    values[j] = b ?? NaN;
    status[j] = b === undefined ? CellStatus.missing : CellStatus.ok;
  }
}

/** A category column's accepted cells; '' is missing, as validation treats it. */
export function acceptedStrings(col: StringColumn, accepted: Int32Array): (string | null)[] {
  const out = new Array<string | null>(accepted.length);
  const src = col.values;
  for (let j = 0; j < accepted.length; j++) {
    const v = src[accepted[j]];
    out[j] = v === '' ? null : v;
  }
  return out;
}

/**
 * A category column's accepted cells as vocabulary codes, written into `codes`: the index in
 * `index`, CATEGORY_MISSING for null, undefined and '' (as acceptedStrings), CATEGORY_OTHER outside the
 * vocabulary — what CategoricalStats.update() would count for the strings.
 */
export function acceptedCodes(col: StringColumn, accepted: Int32Array, index: ReadonlyMap<string, number>, codes: Int32Array): void {
  const src = col.values;
  for (let j = 0; j < accepted.length; j++) {
    const v = src[accepted[j]];
    codes[j] = v === null || v === undefined || v === '' ? CATEGORY_MISSING : (index.get(v) ?? CATEGORY_OTHER);
  }
}

/**
 * A category feed's codes (validation's: indexes into the card's vocabulary, then the batch's other
 * values) as acceptedCodes() would give them, written into `codes`: one array read per row, not a
 * Map lookup. The feed's dictionary must start with `vocabulary` (the card's, which the baseline
 * repeats); false, writing nothing, when it does not.
 */
export function recodeFeedCodes(coded: { codes: Int32Array; dictionary: readonly string[] }, vocabulary: readonly string[], codes: Int32Array): boolean {
  const { dictionary } = coded;
  const V = vocabulary.length;
  if (dictionary.length < V) return false;
  if (dictionary !== vocabulary) for (let k = 0; k < V; k++) if (dictionary[k] !== vocabulary[k]) return false;
  // the batch's other values: '' is a missing cell (validation's null), the rest are outside the vocabulary
  const others = Int32Array.from(dictionary.slice(V), (v) => (v === '' ? CATEGORY_MISSING : CATEGORY_OTHER));
  const src = coded.codes;
  for (let j = 0; j < src.length; j++) {
    const k = src[j];
    if (k < 0 || k >= dictionary.length) return false; // not validation's: the caller looks the strings up
    codes[j] = k < V ? k : others[k - V];
  }
  return true;
}

/** Predicted class indexes; a label outside the card's classes arrives as -1, which would read as "missing". */
function labelCodes(codes: Int32Array): Int32Array {
  for (let j = 0; j < codes.length; j++) if (codes[j] < 0) return codes.map((k) => (k < 0 ? CATEGORY_OTHER : k));
  return codes;
}

/** Where extractColumns() puts copies that must outlive the batch (a worker's shared slot). */
export interface ColumnArena {
  doubles(n: number): Float64Array;
  bytes(n: number): Uint8Array;
  ints(n: number): Int32Array;
}

/** How much an arena must hold for a batch of `m` accepted rows. */
export function arenaSize(features: readonly BoundFeature[], m: number): { doubles: number; bytes: number; ints: number } {
  let numericInputs = 0;
  let categoryInputs = 0;
  let outputs = 0;
  for (const { source } of features) {
    if (source.from === 'input') { if (source.type === 'category') categoryInputs++; else numericInputs++; }
    else if (source.from === 'probability' || source.from === 'value') outputs++;
  }
  return { doubles: (numericInputs + outputs) * m, bytes: numericInputs * m, ints: (1 + categoryInputs) * m };
}

/**
 * Each feature's values for the rows `accepted` (ascending indexes into `batch`, whose columns are
 * in card-input order) and their outputs (row-aligned with `accepted`). With an `arena`, every
 * typed array is a copy in it and category inputs are vocabulary codes in it; without, the reader's
 * and the model's arrays are used as they are wherever possible.
 */
export function extractColumns(features: readonly BoundFeature[], batch: ColumnBatch, accepted: Int32Array, scored: ScoredColumns | undefined, arena?: ColumnArena, feeds?: Readonly<Record<string, Feed>>): FeatureColumn[] {
  const m = accepted.length;
  const all = m === batch.length; // then accepted[j] === j
  return features.map(({ source, baseline }): FeatureColumn => {
    switch (source.from) {
      case 'input': {
        const col = batch.columns[source.index];
        if (source.type === 'category') {
          if (!arena || baseline.kind !== 'categorical') return { kind: 'str', values: acceptedStrings(col as StringColumn, accepted) };
          // for a worker: codes in shared memory, not strings cloned into its heap one by one
          const codes = arena.ints(m);
          const vocabulary = vocabularyOf(baseline);
          const coded = feeds?.[baseline.name]?.coded;
          // validation's codes when they are still there (a feed handed to the engine may be detached)
          if (!coded || coded.codes.length !== m || !recodeFeedCodes(coded, vocabulary.values, codes)) acceptedCodes(col as StringColumn, accepted, vocabulary.index, codes);
          return { kind: 'codes', values: codes };
        }
        if (col.kind === 'number' && all) {
          // all cells ok (the usual case): no status to copy, and the faster update without one
          const ok = allOk(col.status);
          if (!arena) return { kind: 'f64', values: col.values, ...(ok ? {} : { status: col.status }) };
          const values = arena.doubles(m);
          values.set(col.values);
          if (ok) return { kind: 'f64', values };
          const status = arena.bytes(m);
          status.set(col.status);
          return { kind: 'f64', values, status };
        }
        const values = arena?.doubles(m) ?? new Float64Array(m);
        const status = arena?.bytes(m) ?? new Uint8Array(m);
        if (col.kind === 'number') acceptedNumbers(col, accepted, values, status);
        else acceptedBooleans(col, accepted, values, status);
        return { kind: 'f64', values, status };
      }
      case 'label': {
        const codes = scored?.labelCodes;
        if (!codes) return { kind: 'none' };
        const c = labelCodes(codes);
        if (!arena) return { kind: 'codes', values: c };
        const values = arena.ints(m);
        values.set(c);
        return { kind: 'codes', values };
      }
      case 'probability':
      case 'value': {
        const x = source.from === 'value' ? scored?.value : scored?.probabilities?.[source.index];
        if (!x) return { kind: 'none' };
        if (!arena) return x instanceof Float64Array ? { kind: 'f64', values: x } : { kind: 'f32', values: x };
        const values = arena.doubles(m);
        values.set(x); // float32 widened exactly
        return { kind: 'f64', values };
      }
    }
  });
}

let widened = new Float64Array(0);

/**
 * Add extracted columns to `stats` (parallel arrays) as one batch: the same result as counting the
 * batch in fresh statistics and absorbing those (NumericStats.addBatch), so running totals can be
 * updated in place.
 */
export function updateFromColumns(stats: readonly FeatureStats[], columns: readonly FeatureColumn[]): void {
  columns.forEach((c, i) => {
    const s = stats[i];
    if (c.kind === 'none') return;
    if (s.kind === 'categorical') {
      if (c.kind === 'str') s.update(c.values);
      else if (c.kind === 'codes') s.updateCodes(c.values);
      return;
    }
    if (c.kind === 'f64') s.addBatch(c.values, c.status);
    else if (c.kind === 'f32') {
      if (widened.length < c.values.length) widened = new Float64Array(c.values.length);
      const w = widened.subarray(0, c.values.length);
      w.set(c.values);
      s.addBatch(w);
    }
  });
}
