// Log-spaced buckets (DDSketch-style) of the distance d = x − c of each value from a centre c, the
// reference mean: the quantile sketch of a numeric feature with many distinct values.
//
// A bucket's key is the top 17 bits of |d|'s IEEE-754 pattern below the sign: 11 exponent bits and
// the first 6 mantissa bits. So a bucket is [2^e·(1 + j/64), 2^e·(1 + (j+1)/64)) — 64 buckets per
// octave, each at most 1/64 of its lower bound wide: any value lies within 1/128 (0.78 %) of its
// bucket's midpoint, relative to |d|. Unlike DDSketch's logarithmic mapping the key needs no log:
// it is a shift of the value's bits, exact and monotone on every platform, and bucket bounds are
// exactly representable doubles, so bounds derived from buckets are rigorous. Values with d = 0
// (exactly the centre) have their own count; negative d count in a second set of buckets by |d|.
//
// State is integer counts per key: merging adds counts, which is exact and order-independent.
// Centring on the reference mean makes the accuracy scale-free: a bucket around x is at most
// |x − c|/64 wide, so a feature like 1,000,000 ± 10 is resolved as finely as one like 0 ± 10.

/** Buckets per octave (2^MANTISSA_BITS). */
export const BUCKETS_PER_OCTAVE = 64;
const MANTISSA_BITS = 6;
/** a key is the high word of |d|'s bits shifted right by this */
export const KEY_SHIFT = 20 - MANTISSA_BITS;
/** 17: keys of one sign fit in 2^17 slots */
export const KEY_BITS = 11 + MANTISSA_BITS;
/** Keys run from 0 (subnormal |d|) to MAX_KEY, the bucket [2^1023·(1 + 63/64), ∞) that also takes an overflowed d. */
export const MAX_KEY = (0x7ff00000 >>> KEY_SHIFT) - 1;
/** Relative half-width of a bucket at its lower bound: every value is within this of its bucket's midpoint, relative to |d|. */
export const RELATIVE_ACCURACY = 1 / (2 * BUCKETS_PER_OCTAVE);

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** index of the high (sign, exponent) word of a double in u32 */
export const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Key of |d| for d ≠ 0 (an infinite d — x − c overflowed — takes the last bucket). */
export function keyOf(d: number): number {
  f64[0] = d;
  return Math.min(MAX_KEY, (u32[HI] & 0x7fffffff) >>> KEY_SHIFT);
}

/** Smallest |d| with this key; lowerBound(MAX_KEY + 1) is Infinity. Bucket k is [lowerBound(k), lowerBound(k + 1)). */
export function lowerBound(key: number): number {
  u32[HI] = key << KEY_SHIFT;
  u32[1 - HI] = 0;
  return f64[0];
}

/** Signs of d as stored: 0 for d > 0, 1 for d < 0 (the sign bit). */
const POS = 0;
const NEG = 1;

/**
 * The sketch of one sample: counts of d > 0 and of d < 0 by key of |d|, and of d = 0. Each sign's
 * counts cover a dense key range that grows on demand; both ranges live in one array (positive
 * first) so the hot loop picks the range by the sign bit, without a branch.
 */
export class LogBuckets {
  zero = 0;
  /** [positive range | negative range] */
  counts = new Float64Array(0);
  /** first key of each sign's range */
  readonly off = new Int32Array(2);
  /** length of each sign's range */
  readonly len = new Int32Array(2);

  count(sign: number, key: number): number {
    const j = key - this.off[sign];
    return j >= 0 && j < this.len[sign] ? this.counts[sign * this.len[POS] + j] : 0;
  }

  /** Add `count` at (sign, key), growing that sign's range (to at least double) when needed. */
  add(sign: number, key: number, count: number): void {
    if (key - this.off[sign] < 0 || key - this.off[sign] >= this.len[sign]) this.#include(sign, key);
    this.counts[sign * this.len[POS] + key - this.off[sign]] += count;
  }

  #include(sign: number, key: number): void {
    const ranges: [number, number][] = [POS, NEG].map((s) => [this.off[s], this.off[s] + this.len[s]]);
    let [lo, hi] = ranges[sign];
    if (hi === lo) {
      // a first range of 5 octaves below and 1 above the first key: most samples fit without growing
      lo = Math.max(0, key - 5 * BUCKETS_PER_OCTAVE);
      hi = Math.min(MAX_KEY + 1, key + BUCKETS_PER_OCTAVE);
    } else {
      if (key < lo) lo = Math.max(0, Math.min(key, lo - (hi - lo)));
      if (key >= hi) hi = Math.min(MAX_KEY + 1, Math.max(key + 1, hi + (hi - lo)));
    }
    ranges[sign] = [lo, hi];
    this.#reshape(ranges);
  }

  /** Re-lay the counts on new ranges (each containing the old one). */
  #reshape(ranges: readonly [number, number][]): void {
    const posLen = ranges[POS][1] - ranges[POS][0];
    const next = new Float64Array(posLen + ranges[NEG][1] - ranges[NEG][0]);
    for (const s of [POS, NEG]) {
      if (this.len[s] === 0) continue;
      const from = s * this.len[POS];
      next.set(this.counts.subarray(from, from + this.len[s]), (s === POS ? 0 : posLen) + this.off[s] - ranges[s][0]);
    }
    this.counts = next;
    for (const s of [POS, NEG]) { this.off[s] = ranges[s][0]; this.len[s] = ranges[s][1] - ranges[s][0]; }
  }

  /** Non-empty keys of one sign, ascending, with their counts. */
  entries(sign: number): [number, number][] {
    const out: [number, number][] = [];
    const from = sign * this.len[POS];
    for (let j = 0; j < this.len[sign]; j++) if (this.counts[from + j] !== 0) out.push([this.off[sign] + j, this.counts[from + j]]);
    return out;
  }

  total(): number {
    let t = this.zero;
    for (const v of this.counts) t += v;
    return t;
  }

  /** A new sketch holding both sketches' counts (neither changes). */
  merge(other: LogBuckets): LogBuckets {
    return new LogBuckets().absorb(this).absorb(other);
  }

  /** Add `other`'s counts into this sketch. */
  absorb(other: LogBuckets): this {
    const ranges = [POS, NEG].map((s): [number, number] => {
      const mine: [number, number] = [this.off[s], this.off[s] + this.len[s]];
      if (other.len[s] === 0) return mine;
      if (this.len[s] === 0) return [other.off[s], other.off[s] + other.len[s]];
      return [Math.min(mine[0], other.off[s]), Math.max(mine[1], other.off[s] + other.len[s])];
    });
    if (ranges.some(([lo, hi], s) => lo !== this.off[s] || hi - lo !== this.len[s])) this.#reshape(ranges);
    for (const s of [POS, NEG]) {
      const from = s * other.len[POS];
      const to = s * this.len[POS] + other.off[s] - this.off[s];
      for (let j = 0; j < other.len[s]; j++) this.counts[to + j] += other.counts[from + j];
    }
    this.zero += other.zero;
    return this;
  }

  /**
   * Add counts[k − lo] at keys lo.. of one sign, growing the range once when needed — by at least its
   * length on the side that grows, so a batch per call does not re-lay the counts each time the
   * running extremes move a little (the range is storage: every reader skips empty keys).
   */
  addRange(sign: number, lo: number, counts: ArrayLike<number>): void {
    if (counts.length === 0) return;
    const to = this.reserve(sign, lo, counts.length);
    for (let j = 0; j < counts.length; j++) this.counts[to + j] += counts[j];
  }

  /** Make room for keys lo..lo + n − 1 of one sign (see addRange); returns the index of key lo in `counts`. */
  reserve(sign: number, lo: number, n: number): number {
    const hi = lo + n;
    if (this.len[sign] === 0 || lo < this.off[sign] || hi > this.off[sign] + this.len[sign]) {
      const ranges = [POS, NEG].map((s): [number, number] => [this.off[s], this.off[s] + this.len[s]]);
      const [from, to] = ranges[sign];
      const len = to - from;
      // a first range with room for 4 octaves below and 1 above, as #include lays it
      ranges[sign] = len === 0 ? [Math.max(0, lo - 4 * BUCKETS_PER_OCTAVE), Math.min(MAX_KEY + 1, hi + BUCKETS_PER_OCTAVE)]
        : [lo < from ? Math.max(0, Math.min(lo, from - len)) : from, hi > to ? Math.min(MAX_KEY + 1, Math.max(hi, to + len)) : to];
      this.#reshape(ranges);
    }
    return sign * this.len[POS] + lo - this.off[sign];
  }

  /** Canonical JSON: per sign [key, count, gap, count, …] — the first key, then each next non-empty key as the distance from the previous one (mostly 1: short). */
  toJSON(): LogBucketsJSON {
    return { neg: encodeSign(this.counts, NEG * this.len[POS], this.len[NEG], this.off[NEG]), zero: this.zero, pos: encodeSign(this.counts, 0, this.len[POS], this.off[POS]) };
  }

  /** Everything it holds (see NumericStats.toState). */
  toState(): LogBucketsState {
    return { zero: this.zero, counts: this.counts, off: [this.off[POS], this.off[NEG]], len: [this.len[POS], this.len[NEG]] };
  }

  static fromState(state: LogBucketsState): LogBuckets {
    const out = new LogBuckets();
    if (state.counts.length !== state.len[POS] + state.len[NEG]) throw new RangeError('log buckets state: ranges and counts disagree');
    out.zero = state.zero;
    out.counts = state.counts;
    out.off.set(state.off);
    out.len.set(state.len);
    return out;
  }

  static fromJSON(json: LogBucketsJSON | undefined, what: string): LogBuckets {
    if (typeof json !== 'object' || json === null) throw new RangeError(`${what}: missing`);
    if (!Number.isSafeInteger(json.zero) || json.zero < 0) throw new RangeError(`${what}: "zero" must be a non-negative integer`);
    const out = new LogBuckets();
    out.zero = json.zero;
    // keys ascend, so each sign's range is [first key, last key]: laid out once (a range is only
    // storage: every reader skips empty keys, so a tight range reads the same as a grown one)
    const keys: number[][] = [[], []];
    const counts: number[][] = [[], []];
    for (const [sign, name] of [[POS, 'pos'], [NEG, 'neg']] as const) {
      const list = json[name];
      if (!Array.isArray(list) || list.length % 2 !== 0) throw new RangeError(`${what}.${name}: expected [key, count, gap, count, …]`);
      let key = 0;
      for (let i = 0; i < list.length; i += 2) {
        const step = list[i];
        const count = list[i + 1];
        if (!Number.isSafeInteger(step) || step < (i === 0 ? 0 : 1) || !Number.isSafeInteger(count) || count < 1) throw new RangeError(`${what}.${name}: bad bucket entry at ${i / 2}`);
        key = i === 0 ? step : key + step;
        if (key > MAX_KEY) throw new RangeError(`${what}.${name}: bucket key ${key} out of range`);
        keys[sign].push(key);
        counts[sign].push(count);
      }
    }
    const ranges = [POS, NEG].map((s): [number, number] => (keys[s].length ? [keys[s][0], keys[s][keys[s].length - 1] + 1] : [0, 0]));
    if (keys[POS].length || keys[NEG].length) out.#reshape(ranges);
    for (const s of [POS, NEG]) {
      const base = s * out.len[POS] - out.off[s];
      for (let i = 0; i < keys[s].length; i++) out.counts[base + keys[s][i]] = counts[s][i];
    }
    return out;
  }
}

export interface LogBucketsJSON { neg: number[]; zero: number; pos: number[] }
/** LogBuckets.toState(): counts over [off, off + len) of each sign (positive first). */
export interface LogBucketsState { zero: number; counts: Float64Array<ArrayBuffer>; off: [number, number]; len: [number, number] }

/**
 * Counts a batch into a sketch through one dense per-thread array over every key of both signs
 * (2 × 2^17 counters): the hot loop has no range checks and never allocates; the touched key range
 * of each sign is tracked, copied into the sketch once per batch and cleared.
 */
export class BatchCounter {
  readonly counts: Uint32Array;
  /** per sign: lowest and highest key touched since the last flush */
  readonly lo = new Int32Array(2);
  readonly hi = new Int32Array(2);
  zero = 0;

  /** `counts`: 2 << KEY_BITS zeroed counters (scan-kernel.ts passes a view of its memory) */
  constructor(counts = new Uint32Array(2 << KEY_BITS)) {
    if (counts.length !== 2 << KEY_BITS) throw new RangeError(`a batch counter needs ${2 << KEY_BITS} counters`);
    this.counts = counts;
    this.reset();
  }

  reset(): void {
    this.lo.fill(MAX_KEY + 1);
    this.hi.fill(-1);
    this.zero = 0;
  }

  /** Count values[start..end) by d = x − centre, skipping non-finite values and cells whose status is not 0 (ok). */
  count(values: Float64Array, status: Uint8Array | undefined, start: number, end: number, centre: number): void {
    for (let i = start; i < end; i++) {
      const x = values[i];
      if (x - x !== 0 || (status !== undefined && status[i] !== 0)) continue;
      this.add(x - centre);
    }
  }

  /** Count one distance d = x − centre (x finite; an overflowed d takes the last bucket). Small, so the JIT inlines it into scanning loops. */
  add(d: number): void {
    if (d === 0) { this.zero++; return; }
    f64[0] = d;
    const bits = u32[HI];
    const sign = bits >>> 31;
    let key = (bits & 0x7fffffff) >>> KEY_SHIFT;
    if (key > MAX_KEY) key = MAX_KEY; // d overflowed to ±∞
    this.counts[(sign << KEY_BITS) + key]++;
    if (key < this.lo[sign]) this.lo[sign] = key;
    if (key > this.hi[sign]) this.hi[sign] = key;
  }

  /**
   * Widen the tracked key ranges over distances counted into `counts` directly (the scanning loops
   * in numeric-stats.ts do add() by hand, keeping the lowest key in a local): their lowest key was `lowKey`
   * and every one lay in [dMin, dMax]. Positive distances then have keys in [lowKey, keyOf(dMax)],
   * negative ones in [lowKey, keyOf(dMin)] (keys grow with |d|). That may be wider than the keys
   * touched, which only costs flush() copying and clearing a few empty counters: a sketch's range is
   * storage (every reader skips empty keys).
   */
  noteRange(lowKey: number, dMin: number, dMax: number): void {
    if (lowKey > MAX_KEY) return; // zeros only
    if (dMax > 0) {
      if (lowKey < this.lo[POS]) this.lo[POS] = lowKey;
      const k = keyOf(dMax);
      if (k > this.hi[POS]) this.hi[POS] = k;
    }
    if (dMin < 0) {
      if (lowKey < this.lo[NEG]) this.lo[NEG] = lowKey;
      const k = keyOf(dMin);
      if (k > this.hi[NEG]) this.hi[NEG] = k;
    }
  }

  /** Move what was counted into `sketch` (added and cleared in one pass). */
  flush(sketch: LogBuckets): void {
    for (const sign of [POS, NEG]) {
      const lo = this.lo[sign];
      const n = this.hi[sign] + 1 - lo;
      if (n <= 0) continue;
      const to = sketch.reserve(sign, lo, n);
      const into = sketch.counts;
      const from = this.counts;
      const base = (sign << KEY_BITS) + lo;
      for (let j = 0; j < n; j++) {
        into[to + j] += from[base + j];
        from[base + j] = 0;
      }
    }
    sketch.zero += this.zero;
    this.reset();
  }
}

/** One per thread: counting is synchronous, so batches never interleave in it. */
export const batchCounter = new BatchCounter();

/** One step of the real line in ascending order: an interval holding `ref`/`cur` values (a bucket, a gap, or the point d = 0). */
export interface Segment { lo: number; hi: number; ref: number; cur: number }

/**
 * The buckets of two sketches on one ascending axis of d: every occupied bucket of either sample,
 * the empty gaps between them (so segments tile the axis from the first bucket to the last), and
 * the point d = 0. Both CDFs are known exactly at every segment boundary.
 */
export function segments(a: LogBuckets, b: LogBuckets): Segment[] {
  const s = segmentColumns(a, b);
  return Array.from({ length: s.count }, (_, i) => ({ lo: s.lo[i], hi: s.hi[i], ref: s.ref[i], cur: s.cur[i] }));
}

/** segments() as columns: segment i is [lo[i], hi[i]] holding ref[i] / cur[i] values. */
export interface SegmentColumns { count: number; lo: Float64Array; hi: Float64Array; ref: Float64Array; cur: Float64Array }

/** reused by segmentColumns(): one set per thread, grown on demand */
const columns: SegmentColumns = { count: 0, lo: new Float64Array(0), hi: new Float64Array(0), ref: new Float64Array(0), cur: new Float64Array(0) };

/**
 * segments() written into reused typed arrays, valid until the next call on this thread: the
 * metrics walk them for every monitored feature at every checkpoint, and a plain loop over columns
 * costs a fraction of a callback per segment (thousands of keys per feature).
 */
export function segmentColumns(a: LogBuckets, b: LogBuckets): SegmentColumns {
  const [nlo, nhi] = keyRange(a, b, NEG);
  const [plo, phi] = keyRange(a, b, POS);
  // at most a gap before each bucket, and the point d = 0 with a gap on each side
  const cap = 2 * (nhi - nlo + phi - plo) + 3;
  if (columns.lo.length < cap) {
    const n = Math.max(cap, 2 * columns.lo.length);
    columns.lo = new Float64Array(n);
    columns.hi = new Float64Array(n);
    columns.ref = new Float64Array(n);
    columns.cur = new Float64Array(n);
  }
  const { lo, hi, ref, cur } = columns;
  let n = 0;
  let at = -Infinity; // right end of the last segment
  // negative side: largest |d| first; bucket k holds d in (-lowerBound(k+1), -lowerBound(k)]
  {
    const aFrom = a.off[NEG], aTo = aFrom + a.len[NEG], aBase = a.len[POS] - aFrom, ac = a.counts;
    const bFrom = b.off[NEG], bTo = bFrom + b.len[NEG], bBase = b.len[POS] - bFrom, bc = b.counts;
    for (let k = nhi - 1; k >= nlo; k--) {
      const r = k >= aFrom && k < aTo ? ac[aBase + k] : 0;
      const c = k >= bFrom && k < bTo ? bc[bBase + k] : 0;
      if (r + c === 0) continue;
      const left = -lowerBound(k + 1);
      if (at !== -Infinity && left > at) { lo[n] = at; hi[n] = left; ref[n] = 0; cur[n] = 0; n++; } // gap: no values
      at = -lowerBound(k);
      lo[n] = left; hi[n] = at; ref[n] = r; cur[n] = c; n++;
    }
  }
  if (a.zero + b.zero > 0) {
    if (at !== -Infinity && 0 > at) { lo[n] = at; hi[n] = 0; ref[n] = 0; cur[n] = 0; n++; }
    at = 0;
    lo[n] = 0; hi[n] = 0; ref[n] = a.zero; cur[n] = b.zero; n++;
  }
  {
    const aFrom = a.off[POS], aTo = aFrom + a.len[POS], aBase = -aFrom, ac = a.counts;
    const bFrom = b.off[POS], bTo = bFrom + b.len[POS], bBase = -bFrom, bc = b.counts;
    for (let k = plo; k < phi; k++) {
      const r = k >= aFrom && k < aTo ? ac[aBase + k] : 0;
      const c = k >= bFrom && k < bTo ? bc[bBase + k] : 0;
      if (r + c === 0) continue;
      const left = lowerBound(k);
      if (at !== -Infinity && left > at) { lo[n] = at; hi[n] = left; ref[n] = 0; cur[n] = 0; n++; }
      at = lowerBound(k + 1);
      lo[n] = left; hi[n] = at; ref[n] = r; cur[n] = c; n++;
    }
  }
  columns.count = n;
  return columns;
}

/** The keys [lo, hi) of one sign that either sketch's range covers (empty: [0, 0)). */
function keyRange(a: LogBuckets, b: LogBuckets, sign: number): [number, number] {
  if (a.len[sign] === 0 && b.len[sign] === 0) return [0, 0];
  if (a.len[sign] === 0) return [b.off[sign], b.off[sign] + b.len[sign]];
  if (b.len[sign] === 0) return [a.off[sign], a.off[sign] + a.len[sign]];
  return [Math.min(a.off[sign], b.off[sign]), Math.max(a.off[sign] + a.len[sign], b.off[sign] + b.len[sign])];
}

/**
 * One sign's non-empty keys of `counts[from, from + len)` (key `off` at `from`) as [key, count,
 * gap, count, …]. Written into an array sized by a first count (pushes cost ~3× more: every
 * checkpoint writes each sketch of the job and its windows). A module function, not a closure made
 * per call: V8 compiled each new closure afresh (about 14 Maglev and TurboFan compiles per 1M-row
 * job on its helper threads).
 */
function encodeSign(counts: Float64Array, from: number, len: number, off: number): number[] {
  const to = from + len;
  let occupied = 0;
  for (let j = from; j < to; j++) if (counts[j] !== 0) occupied++;
  const out = new Array<number>(2 * occupied);
  let prev = 0;
  let o = 0;
  for (let j = from; j < to; j++) {
    const c = counts[j];
    if (c === 0) continue;
    const k = off + j - from;
    out[o] = o === 0 ? k : k - prev;
    out[o + 1] = c;
    o += 2;
    prev = k;
  }
  return out;
}
