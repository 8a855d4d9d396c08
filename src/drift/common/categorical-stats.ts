// Streaming, exactly mergeable statistics of one categorical feature: a count per reference
// vocabulary entry, plus `other` (values outside the vocabulary: unseen categories) and `missing`.
// Integer counts only, so merging is exact and order-independent by construction.

export const CATEGORICAL_STATS_VERSION = 1;

export interface CategoricalStatsJSON {
  v: 1;
  kind: 'categorical';
  /** id of the vocabulary (hash) the counts refer to */
  vocabulary: string;
  rows: number;
  /** counts in vocabulary order */
  counts: number[];
  other: number;
  missing: number;
}

/** Code values for updateCodes(): a vocabulary index, or one of these. */
export const CATEGORY_MISSING = -1;
export const CATEGORY_OTHER = -2;

/** A frozen vocabulary with its value → index map; shareable between statistics objects. */
export class Vocabulary {
  readonly values: readonly string[];
  readonly id: string;
  readonly index: ReadonlyMap<string, number>;

  constructor(values: readonly string[]) {
    const index = new Map<string, number>();
    values.forEach((v, i) => {
      if (index.has(v)) throw new RangeError(`vocabulary lists "${v}" twice`);
      index.set(v, i);
    });
    this.values = [...values];
    this.index = index;
    this.id = vocabularyId(values);
  }
}

/** FNV-1a (32-bit) over the UTF-16 code units, with a separator: a cheap identity check. */
function vocabularyId(values: readonly string[]): string {
  let h = 0x811c9dc5;
  for (const v of values) {
    for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v.charCodeAt(i), 16777619);
    h = Math.imul(h ^ 0xffff, 16777619);
  }
  return `${values.length.toString(36)}-${(h >>> 0).toString(36)}`;
}

/** CategoricalStats.toState(). */
export interface CategoricalStatsState { kind: 'categorical'; rows: number; counts: Float64Array; other: number; missing: number }

export class CategoricalStats {
  readonly kind = 'categorical' as const;
  readonly vocabulary: Vocabulary;
  rows = 0;
  readonly counts: Float64Array;
  other = 0;
  missing = 0;

  constructor(vocabulary: Vocabulary) {
    this.vocabulary = vocabulary;
    this.counts = new Float64Array(vocabulary.values.length);
  }

  /** Add a batch of category strings (null/undefined = missing). */
  update(values: readonly (string | null | undefined)[]): void {
    const index = this.vocabulary.index;
    const counts = this.counts;
    let other = 0;
    let missing = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) { missing++; continue; }
      const k = index.get(v);
      if (k === undefined) other++; else counts[k]++;
    }
    this.rows += values.length;
    this.other += other;
    this.missing += missing;
  }

  /** Add a batch already encoded as vocabulary indexes (CATEGORY_MISSING / CATEGORY_OTHER otherwise). */
  updateCodes(codes: Int32Array): void {
    const counts = this.counts;
    const V = counts.length;
    let other = 0;
    let missing = 0;
    for (let i = 0; i < codes.length; i++) {
      const k = codes[i];
      if (k >= 0 && k < V) counts[k]++;
      else if (k === CATEGORY_MISSING) missing++;
      else other++;
    }
    this.rows += codes.length;
    this.other += other;
    this.missing += missing;
  }

  /** Count `count` values outside the vocabulary (seen in rows that were not scored). */
  addUnseen(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError('unseen count must be a non-negative integer');
    this.rows += count;
    this.other += count;
  }

  /** Non-missing values. */
  get n(): number { return this.rows - this.missing; }

  merge(other: CategoricalStats): CategoricalStats {
    return new CategoricalStats(this.vocabulary).absorb(this).absorb(other);
  }

  /** Add `other` into this object (merge() without a new object: running totals). */
  absorb(other: CategoricalStats): this {
    if (other.vocabulary.id !== this.vocabulary.id) throw new RangeError(`cannot merge statistics over different vocabularies (${this.vocabulary.id} vs ${other.vocabulary.id})`);
    this.rows += other.rows;
    this.other += other.other;
    this.missing += other.missing;
    for (let k = 0; k < this.counts.length; k++) this.counts[k] += other.counts[k];
    if (!Number.isSafeInteger(this.rows)) throw new RangeError('row count exceeds 2^53 after merging');
    return this;
  }

  /** Everything it holds, for another thread (see NumericStats.toState). */
  toState(): CategoricalStatsState {
    return { kind: 'categorical', rows: this.rows, counts: this.counts, other: this.other, missing: this.missing };
  }

  static fromState(state: CategoricalStatsState, vocabulary: Vocabulary): CategoricalStats {
    const s = new CategoricalStats(vocabulary);
    if (state.counts.length !== s.counts.length) throw new RangeError(`categorical statistics state: ${state.counts.length} counts for ${s.counts.length} categories`);
    s.rows = state.rows;
    s.other = state.other;
    s.missing = state.missing;
    s.counts.set(state.counts);
    return s;
  }

  toJSON(): CategoricalStatsJSON {
    return { v: CATEGORICAL_STATS_VERSION, kind: 'categorical', vocabulary: this.vocabulary.id, rows: this.rows, counts: Array.from(this.counts), other: this.other, missing: this.missing };
  }

  static fromJSON(json: CategoricalStatsJSON, vocabulary: Vocabulary): CategoricalStats {
    if (json?.kind !== 'categorical') throw new RangeError('not categorical statistics');
    if (json.v !== CATEGORICAL_STATS_VERSION) throw new RangeError(`unsupported categorical statistics version ${String(json.v)} (this build reads ${CATEGORICAL_STATS_VERSION})`);
    if (json.vocabulary !== vocabulary.id) throw new RangeError(`statistics were built on vocabulary ${json.vocabulary}, not ${vocabulary.id}`);
    if (!Array.isArray(json.counts) || json.counts.length !== vocabulary.values.length) throw new RangeError('categorical statistics: one count per vocabulary entry expected');
    const s = new CategoricalStats(vocabulary);
    const all = [json.rows, json.other, json.missing, ...json.counts];
    if (!all.every((v) => Number.isSafeInteger(v) && v >= 0)) throw new RangeError('categorical statistics: counts must be non-negative integers');
    s.rows = json.rows;
    s.other = json.other;
    s.missing = json.missing;
    json.counts.forEach((c, k) => { s.counts[k] = c; });
    if (json.counts.reduce((a, c) => a + c, 0) + s.other + s.missing !== s.rows) throw new RangeError('categorical statistics: counts do not add up to rows');
    return s;
  }
}
