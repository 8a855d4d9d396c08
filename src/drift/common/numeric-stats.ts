// Streaming, exactly mergeable statistics of one numeric feature.
//
// State: integer counters (rows, missing, unparsable, NaN, ±inf, finite), min and max, per fine bin
// (binning.ts) the count, the count of values exactly on the bin's left edge ("atoms", so CDFs are
// known on both sides of every edge), and the sum of in-bin positions quantised to 1/65536 of the bin
// width (integers; they make the Wasserstein integral exact up to that quantisation). Plus four real
// sums: Σd and Σd² with d = x - shift (shift = reference mean, so the variance does not cancel), and
// the distances of tail values beyond the reference range. Each update() sums its batch in floating
// point (blocks folded into a double-double with TwoSum); merge() and toJSON() turn that into an exact
// integer multiple of 2^-1074 (exact-sum.ts).
//
// Why this is order-independent: every merged quantity is an integer count, a min/max, or an exact
// sum, and all three merge associatively and commutatively without rounding. So merging shards in
// any order yields the identical object, bit for bit; the only rounding is inside each shard's own
// batches (relative ~1e-16 per block of 1024 values, for the two moments and tail sums).
// Mean and M2 are derived from the exact sums: mean = shift + S1/n, M2 = (n·S2 - S1²)/n (computed
// exactly in BigInt, rounded once) — the same quantities Chan et al.'s parallel merge computes,
// without its order-dependent rounding.
//
// A feature with many distinct reference values (a "sketched" binning: its fine bins are just the
// decile bins and the tails) also keeps log-spaced buckets of x − shift (log-buckets.ts), from
// which KS and Wasserstein are bounded (metrics/sketch.ts). Integer counts again: exact merge.
import { OFFSET_LEVELS, searchCrowded, type Binning } from './binning.ts';
import { dyadicToDouble, exactFromDouble, exactFromString, exactToDouble, exactToString, twoSum } from './exact-sum.ts';
import * as buckets from './log-buckets.ts';
import { K_LOW_KEY, K_LT, K_MAX, K_MIN, K_RT, K_S1, K_S2, K_SKIPPED, K_ZEROS, ScanKernel, scanKernel } from './scan-kernel.ts';
import { batchCounter, LogBuckets, type BatchCounter, type LogBucketsJSON, type LogBucketsState } from './log-buckets.ts';

/** 2: log buckets on sketched binnings. Version 1 statistics (exact binnings only) read the same. */
export const NUMERIC_STATS_VERSION = 2;

export interface NumericStatsJSON {
  v: 1 | 2;
  kind: 'numeric';
  /** id of the binning the bins refer to */
  binning: string;
  rows: number;
  missing: number;
  invalid: number;
  nan: number;
  posInf: number;
  negInf: number;
  /** finite values */
  n: number;
  min: number | null;
  max: number | null;
  /** exact sums (exact-sum.ts text form): Σ(x-shift), Σ(x-shift)², left-tail and right-tail distance */
  s1: string;
  s2: string;
  lt: string;
  rt: string;
  /** non-empty bins, flattened: [bin, count, atoms, offsetSum, bin, …] */
  bins: number[];
  /** sketched binnings only: log-spaced buckets of x − shift (log-buckets.ts) */
  sketch?: LogBucketsJSON;
}

/** NumericStats.toState(): the exact sums with their pending parts folded in. */
export interface NumericStatsState {
  kind: 'numeric';
  rows: number; missing: number; invalid: number; nan: number; posInf: number; negInf: number; n: number;
  min: number; max: number;
  bins: Float64Array;
  exact: [bigint, bigint, bigint, bigint];
  sketch: LogBucketsState | undefined;
}

/** Values per block before the block's float sums are folded into the double-double accumulators. */
const BLOCK = 1024;

/** Batches shorter than this are scanned in JS: copying the bins in and out would cost more than the kernel saves. */
const KERNEL_MIN_VALUES = 256;
let kernelEnabled = true;

/** Scan batches with the WebAssembly kernel where it runs (default) or always in JS (tests and the bench compare the two). */
export function useScanKernel(on: boolean): void { kernelEnabled = on; }

/** Status bytes as in io/common/table.ts CellStatus: 0 ok, 1 missing, anything else unparsable. */
const STATUS_OK = 0;
const STATUS_MISSING = 1;

export class NumericStats {
  readonly kind = 'numeric' as const;
  readonly binning: Binning;
  rows = 0;
  missing = 0;
  invalid = 0;
  nan = 0;
  posInf = 0;
  negInf = 0;
  n = 0;
  min = Infinity;
  max = -Infinity;
  /**
   * Per bin k, interleaved so one value touches one cache line: [4k] count, [4k+1] values exactly on
   * the bin's left edge, [4k+2] Σ ⌊(x - left)/width · 65536⌋ over the other values, [4k+3] unused.
   */
  readonly bins: Float64Array;
  /** log-spaced buckets of x − shift, on sketched binnings (many distinct reference values) */
  sketch: LogBuckets | undefined;
  // exact parts (units of 2^-1074) and pending double-double parts of the four real sums
  private exact: [bigint, bigint, bigint, bigint] = [0n, 0n, 0n, 0n];
  private pending = new Float64Array(8); // hi/lo for s1, s2, lt, rt

  constructor(binning: Binning) {
    this.binning = binning;
    this.bins = new Float64Array(4 * (binning.size + 1));
    this.sketch = binning.sketched ? new LogBuckets() : undefined;
  }

  /**
   * Add a batch. `status` (optional) is the per-cell status of a parsed number column; cells whose
   * status is not ok are counted as missing/unparsable and their values ignored.
   */
  update(values: Float64Array, status?: Uint8Array): void {
    const len = values.length;
    if (status !== undefined && status.length < len) throw new RangeError('status is shorter than values');
    this.rows += len;
    const L = this.binning.size;
    if (L === 0) { this.updateWithoutEdges(values, status); return; }
    // the WebAssembly loop (scan-kernel.ts) where it runs and the batch is worth the copy in and out
    let kernel = kernelEnabled && len >= KERNEL_MIN_VALUES && ScanKernel.fits(len, this.bins.length) ? scanKernel() : undefined;
    if (kernel && !kernel.begin(this.binning, this.bins, values, status)) kernel = undefined;
    const counter = kernel ? kernel.counter : batchCounter;
    const sketch = this.sketch ? counter : undefined;
    const acc = scratch;
    acc.fill(0);
    acc[MIN] = this.min;
    acc[MAX] = this.max;
    try {
      for (let start = 0; start < len; start += BLOCK) {
        const end = Math.min(len, start + BLOCK);
        // sketched binnings: the log buckets are counted in the same pass
        if (kernel) scanBlockKernel(kernel, values, status, start, end, this.binning.json.shift, acc, sketch);
        else if (status === undefined) scanBlock(values, start, end, this.binning, this.bins, acc, sketch);
        else scanBlockWithStatus(values, status, start, end, this.binning, this.bins, acc, sketch);
        if (Number.isFinite(acc[S1] + acc[S2] + acc[LT] + acc[RT])) this.fold(acc[S1], acc[S2], acc[LT], acc[RT]);
        else this.addExactly(values, status, start, end); // a float sum overflowed (values beyond ~1e154)
        acc[S1] = acc[S2] = acc[LT] = acc[RT] = 0;
      }
    } finally {
      kernel?.end(this.bins);
      if (this.sketch) counter.flush(this.sketch); // the shared counter is left clean whatever happens
    }
    this.min = acc[MIN];
    this.max = acc[MAX];
    this.missing += acc[MISSING];
    this.invalid += acc[INVALID];
    this.nan += acc[NAN];
    this.posInf += acc[POS_INF];
    this.negInf += acc[NEG_INF];
    this.n += len - acc[MISSING] - acc[INVALID] - acc[NAN] - acc[POS_INF] - acc[NEG_INF];
  }

  /**
   * Add a batch to running totals: the same result, bit for bit, as update() on fresh statistics
   * followed by absorb() — the batch's float sums start from zero and are made exact at its end,
   * min/max merge as absorb() merges them (so ±0 resolve alike), counts and bins add as integers —
   * without the fresh object, its copy of the bins and its sketch (the statistics worker's hot path).
   */
  addBatch(values: Float64Array, status?: Uint8Array): void {
    const min = this.min;
    const max = this.max;
    this.#settle();
    this.min = Infinity;
    this.max = -Infinity;
    try {
      this.update(values, status);
    } finally {
      this.#settle();
      this.min = Math.min(min, this.min);
      this.max = Math.max(max, this.max);
    }
    for (const key of ['rows', 'missing', 'invalid', 'nan', 'posInf', 'negInf', 'n'] as const) safeAdd(this[key], 0, key);
    // a bin's offset sum grows by < OFFSET_LEVELS per value: only a very large total can reach 2^53
    if (this.n > MAX_VALUES_PER_BIN) for (let j = 0; j < this.bins.length; j += 4) { safeAdd(this.bins[j], 0, 'bin count'); safeAdd(this.bins[j + 2], 0, 'bin offset sum'); }
  }

  /** Move the pending float sums into the exact ones (what absorb() does with both sides). */
  #settle(): void {
    const p = this.pending;
    for (let k = 0; k < 4; k++) {
      if (p[2 * k] === 0 && p[2 * k + 1] === 0) continue;
      this.exact[k] += exactFromDouble(p[2 * k]) + exactFromDouble(p[2 * k + 1]);
      p[2 * k] = p[2 * k + 1] = 0;
    }
  }

  /** A baseline with no finite reference values has no edges: count everything in bin 0. */
  private updateWithoutEdges(values: Float64Array, status?: Uint8Array): void {
    const shift = this.binning.json.shift;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < values.length; i++) {
      const s = status === undefined ? STATUS_OK : status[i];
      if (s !== STATUS_OK) { if (s === STATUS_MISSING) this.missing++; else this.invalid++; continue; }
      const x = values[i];
      if (x !== x) { this.nan++; continue; }
      if (x === Infinity) { this.posInf++; continue; }
      if (x === -Infinity) { this.negInf++; continue; }
      this.n++;
      this.bins[0]++;
      if (x < this.min) this.min = x;
      if (x > this.max) this.max = x;
      s1 += x - shift;
      s2 += (x - shift) ** 2;
    }
    if (Number.isFinite(s1 + s2)) this.fold(s1, s2, 0, 0);
    else this.addExactly(values, status, 0, values.length);
  }

  private fold(s1: number, s2: number, lt: number, rt: number): void {
    const p = this.pending;
    const add = (i: number, v: number): void => {
      const [s, e] = twoSum(p[i], v);
      p[i] = s;
      p[i + 1] += e;
      // far from overflowing: move it into the exact part first
      if (Math.abs(p[i]) > 2 ** 1000) {
        this.exact[i / 2] += exactFromDouble(p[i]) + exactFromDouble(p[i + 1]);
        p[i] = p[i + 1] = 0;
      }
    };
    add(0, s1);
    add(2, s2);
    if (lt !== 0) add(4, lt);
    if (rt !== 0) add(6, rt);
  }

  /**
   * The four sums of values[start..end) straight into the exact part, value by value: for a block
   * whose float sums overflowed. Per value the same d = x − shift, d² and tail distances as the fast
   * path where they are finite, and their exact values (BigInt) where the float ones overflow.
   */
  private addExactly(values: Float64Array, status: Uint8Array | undefined, start: number, end: number): void {
    const shift = this.binning.json.shift;
    const e = this.binning.edges;
    const L = this.binning.size;
    const sum: [bigint, bigint, bigint, bigint] = [0n, 0n, 0n, 0n];
    const exactDiff = (a: number, b: number): bigint => { const d = a - b; return Number.isFinite(d) ? exactFromDouble(d) : exactFromDouble(a) - exactFromDouble(b); };
    const exactSquare = (d: number, units: bigint): bigint => (Number.isFinite(d * d) ? exactFromDouble(d * d) : (units * units) >> 1074n); // |d| ≥ 2^511: d² is a multiple of 2^1074 units
    for (let i = start; i < end; i++) {
      const x = values[i];
      if ((status !== undefined && status[i] !== STATUS_OK) || !Number.isFinite(x)) continue;
      const d = exactDiff(x, shift);
      sum[0] += d;
      sum[1] += exactSquare(x - shift, d);
      if (L > 0 && x < e[0]) sum[2] += exactDiff(e[0], x);
      else if (L > 0 && x > e[L - 1]) sum[3] += exactDiff(x, e[L - 1]);
    }
    for (let k = 0; k < 4; k++) this.exact[k] += sum[k];
  }

  /** The four exact sums, pending parts included (BigInt, units of 2^-1074). */
  exactSums(): [bigint, bigint, bigint, bigint] {
    const p = this.pending;
    return [0, 1, 2, 3].map((i) => this.exact[i] + exactFromDouble(p[2 * i]) + exactFromDouble(p[2 * i + 1])) as [bigint, bigint, bigint, bigint];
  }

  /** Mean of the finite values (NaN when there are none). */
  get mean(): number {
    if (this.n === 0) return NaN;
    const [s1] = this.exactSums();
    return this.binning.json.shift + exactToDouble(s1) / this.n;
  }

  /** M2 = Σ(x - mean)², from n·S2 - S1² computed exactly and rounded once. */
  get m2(): number {
    if (this.n === 0) return NaN;
    const [s1, s2] = this.exactSums();
    const n = BigInt(this.n);
    // S1 = a·2^-1074, S2 = b·2^-1074: n·S2 - S1² = (n·b·2^1074 - a²)·2^-2148
    const num = ((n * s2) << 1074n) - s1 * s1;
    const v = dyadicToDouble(num, -2148) / this.n;
    return v < 0 ? 0 : v;
  }

  /** Population variance (ddof = 0), as numpy.var / Evidently's np.std. */
  get variance(): number { return this.n === 0 ? NaN : this.m2 / this.n; }
  get std(): number { return Math.sqrt(this.variance); }

  /** Σ(e_0 - x) over values left of the reference range, Σ(x - e_last) right of it. */
  get tailSums(): { left: number; right: number } {
    const [, , lt, rt] = this.exactSums();
    return { left: exactToDouble(lt), right: exactToDouble(rt) };
  }

  /** Counts in the 10 coarse bins (-inf, d1), [d1, d2), …, [d9, +inf) of the frozen deciles. */
  coarseCounts(): number[] {
    const out = new Array<number>(10).fill(0);
    const map = this.binning.coarseOf;
    for (let k = 0; k < map.length; k++) out[map[k]] += this.bins[4 * k];
    return out;
  }

  /** Exact, order-independent merge into a new object (neither input changes). */
  merge(other: NumericStats): NumericStats {
    return new NumericStats(this.binning).absorb(this).absorb(other);
  }

  /** Add `other` into this object, exactly (merge() without a new object: running totals). */
  absorb(other: NumericStats): this {
    if (other.binning.json.id !== this.binning.json.id) throw new RangeError(`cannot merge statistics built on different baselines (binning ${this.binning.json.id} vs ${other.binning.json.id})`);
    for (const key of ['rows', 'missing', 'invalid', 'nan', 'posInf', 'negInf', 'n'] as const) this[key] = safeAdd(this[key], other[key], key);
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    for (let j = 0; j < this.bins.length; j += 4) {
      this.bins[j] = safeAdd(this.bins[j], other.bins[j], 'bin count');
      this.bins[j + 1] += other.bins[j + 1];
      this.bins[j + 2] = safeAdd(this.bins[j + 2], other.bins[j + 2], 'bin offset sum');
    }
    const a = this.exactSums();
    const b = other.exactSums();
    this.exact = [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
    this.pending.fill(0);
    if (this.sketch && other.sketch) this.sketch.absorb(other.sketch);
    return this;
  }

  /**
   * Everything this object holds, for handing it to another thread (structured clone; the typed
   * arrays may be transferred): fromState() rebuilds it exactly, without the text round trip and
   * checks of toJSON()/fromJSON(), which are for storage and untrusted input.
   */
  toState(): NumericStatsState {
    return {
      kind: 'numeric', rows: this.rows, missing: this.missing, invalid: this.invalid, nan: this.nan, posInf: this.posInf, negInf: this.negInf,
      n: this.n, min: this.min, max: this.max, bins: this.bins, exact: this.exactSums(), sketch: this.sketch?.toState(),
    };
  }

  static fromState(state: NumericStatsState, binning: Binning): NumericStats {
    const s = new NumericStats(binning);
    if (state.bins.length !== s.bins.length) throw new RangeError(`numeric statistics state: ${state.bins.length / 4} bins, the binning has ${s.bins.length / 4}`);
    for (const key of ['rows', 'missing', 'invalid', 'nan', 'posInf', 'negInf', 'n', 'min', 'max'] as const) s[key] = state[key];
    s.bins.set(state.bins);
    s.exact = [...state.exact];
    s.sketch = state.sketch && LogBuckets.fromState(state.sketch);
    if (binning.sketched !== (s.sketch !== undefined)) throw new RangeError('numeric statistics state: sketch and binning disagree');
    return s;
  }

  toJSON(): NumericStatsJSON {
    const [s1, s2, lt, rt] = this.exactSums();
    const bins: number[] = [];
    const b = this.bins;
    for (let k = 0; 4 * k < b.length; k++) if (b[4 * k] !== 0) bins.push(k, b[4 * k], b[4 * k + 1], b[4 * k + 2]);
    return {
      v: NUMERIC_STATS_VERSION, kind: 'numeric', binning: this.binning.json.id,
      rows: this.rows, missing: this.missing, invalid: this.invalid, nan: this.nan, posInf: this.posInf, negInf: this.negInf,
      n: this.n, min: this.n ? this.min : null, max: this.n ? this.max : null,
      s1: exactToString(s1), s2: exactToString(s2), lt: exactToString(lt), rt: exactToString(rt),
      bins,
      ...(this.sketch ? { sketch: this.sketch.toJSON() } : {}),
    };
  }

  static fromJSON(json: NumericStatsJSON, binning: Binning): NumericStats {
    if (json?.kind !== 'numeric') throw new RangeError('not numeric statistics');
    if (json.v !== NUMERIC_STATS_VERSION && !(json.v === 1 && !binning.sketched)) throw new RangeError(`unsupported numeric statistics version ${String(json.v)} (this build reads ${NUMERIC_STATS_VERSION}, and 1 on exact binnings)`);
    if (json.binning !== binning.json.id) throw new RangeError(`statistics were built on binning ${json.binning}, not ${binning.json.id}`);
    const s = new NumericStats(binning);
    for (const key of ['rows', 'missing', 'invalid', 'nan', 'posInf', 'negInf', 'n'] as const) {
      const v = json[key];
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`numeric statistics: "${key}" must be a non-negative integer`);
      s[key] = v;
    }
    if (s.n > 0) {
      if (typeof json.min !== 'number' || typeof json.max !== 'number' || !(json.min <= json.max)) throw new RangeError('numeric statistics: min/max missing or inconsistent');
      s.min = json.min;
      s.max = json.max;
    }
    s.exact = [exactFromString(json.s1), exactFromString(json.s2), exactFromString(json.lt), exactFromString(json.rt)];
    const bins = json.bins;
    if (!Array.isArray(bins) || bins.length % 4 !== 0) throw new RangeError('numeric statistics: bins must be quadruples');
    let total = 0;
    for (let i = 0; i < bins.length; i += 4) {
      const [k, c, a, o] = bins.slice(i, i + 4);
      if (!Number.isInteger(k) || k < 0 || k > binning.size || ![c, a, o].every((v) => Number.isSafeInteger(v) && v >= 0) || a > c) throw new RangeError(`numeric statistics: bad bin entry at ${i / 4}`);
      if (s.bins[4 * k] !== 0) throw new RangeError(`numeric statistics: bin ${k} listed twice`);
      s.bins[4 * k] = c;
      s.bins[4 * k + 1] = a;
      s.bins[4 * k + 2] = o;
      total += c;
    }
    if (total !== s.n) throw new RangeError(`numeric statistics: bin counts add up to ${total}, not n = ${s.n}`);
    if (binning.sketched) {
      s.sketch = LogBuckets.fromJSON(json.sketch, 'numeric statistics: sketch');
      const inBuckets = s.sketch.total();
      if (inBuckets !== s.n) throw new RangeError(`numeric statistics: sketch counts add up to ${inBuckets}, not n = ${s.n}`);
    } else if (json.sketch !== undefined) {
      throw new RangeError('numeric statistics: a sketch on an exact binning');
    }
    return s;
  }
}

function safeAdd(a: number, b: number, what: string): number {
  const s = a + b;
  if (!Number.isSafeInteger(s)) throw new RangeError(`${what} exceeds 2^53 after merging; split the window`);
  return s;
}

/** Largest total of quantised offsets one bin can hold exactly (offsets are < OFFSET_LEVELS each). */
export const MAX_VALUES_PER_BIN = Math.floor(Number.MAX_SAFE_INTEGER / OFFSET_LEVELS);

// Per-block scan: the hot loop, kept in small top-level functions (one with and one without the
// status column) so the JIT compiles each tightly; results go to a shared scratch accumulator.
const S1 = 0, S2 = 1, LT = 2, RT = 3, MIN = 4, MAX = 5, MISSING = 6, INVALID = 7, NAN = 8, POS_INF = 9, NEG_INF = 10;
const scratch = new Float64Array(11);
// Module-level copies of log-buckets.ts constants: an imported binding is read through its module
// cell at every use in the hot loops below (measured ~10 % more time per value).
const { HI, KEY_BITS, KEY_SHIFT, MAX_KEY } = buckets;
/** above every log-bucket key: no key counted yet */
const NO_KEY = MAX_KEY + 1;
/** a double and its two 32-bit words: a log-bucket key is the high word's top bits (log-buckets.ts keyOf) */
const keyBits = new Float64Array(1);
const keyWords = new Uint32Array(keyBits.buffer);

function scanBlock(values: Float64Array, start: number, end: number, b: Binning, bins: Float64Array, acc: Float64Array, sketch: BatchCounter | undefined): void {
  const edges = b.edges;
  const cell = b.cell;
  const scale = b.cellScale;
  const invW = b.invWidth;
  const L = b.size;
  const lo = edges[0];
  const hi = edges[L - 1];
  const shift = b.json.shift;
  let s1 = 0, s2 = 0, lt = 0, rt = 0, nonFinite = 0;
  let mn = acc[MIN], mx = acc[MAX];
  let lowKey = NO_KEY;
  let zeros = 0;
  const counts = sketch?.counts;
  for (let i = start; i < end; i++) {
    const x = values[i];
    if (x - x !== 0) { nonFinite++; continue; } // NaN or ±inf: classified after the loop
    if (x < mn) mn = x;
    if (x > mx) mx = x;
    const d = x - shift;
    s1 += d;
    s2 += d * d;
    if (counts !== undefined) {
      // BatchCounter.add() by hand, the key range kept in a local (noteRange after the loop)
      if (d === 0) zeros++;
      else {
        keyBits[0] = d;
        const bits = keyWords[HI];
        let key = (bits & 0x7fffffff) >>> KEY_SHIFT;
        if (key > MAX_KEY) key = MAX_KEY; // d overflowed to ±∞
        counts[((bits >>> 31) << KEY_BITS) + key]++;
        if (key < lowKey) lowKey = key;
      }
    }
    if (x < lo) {
      bins[0]++;
      lt += lo - x;
    } else if (x >= hi) {
      bins[4 * L]++;
      if (x === hi) bins[4 * L + 1]++; else rt += x - hi;
    } else {
      const c = ((x - lo) * scale) | 0;
      let k = cell[c];
      if (k < 0) k = searchCrowded(edges, cell, c, x, k);
      else if (x >= edges[k]) k++;
      const left = edges[k - 1];
      const j = 4 * k;
      bins[j]++;
      if (x === left) bins[j + 1]++; else bins[j + 2] += ((x - left) * invW[k]) | 0;
    }
  }
  if (nonFinite > 0) classifySkipped(values, undefined, start, end, acc);
  // every distance tallied lies in [mn − shift, mx − shift] (subtraction rounds monotonically)
  if (sketch !== undefined) {
    sketch.zero += zeros;
    sketch.noteRange(lowKey, mn - shift, mx - shift);
  }
  acc[S1] += s1; acc[S2] += s2; acc[LT] += lt; acc[RT] += rt; acc[MIN] = mn; acc[MAX] = mx;
}

function scanBlockWithStatus(values: Float64Array, status: Uint8Array, start: number, end: number, b: Binning, bins: Float64Array, acc: Float64Array, sketch: BatchCounter | undefined): void {
  const edges = b.edges;
  const cell = b.cell;
  const scale = b.cellScale;
  const invW = b.invWidth;
  const L = b.size;
  const lo = edges[0];
  const hi = edges[L - 1];
  const shift = b.json.shift;
  let s1 = 0, s2 = 0, lt = 0, rt = 0, skipped = 0;
  let mn = acc[MIN], mx = acc[MAX];
  let lowKey = NO_KEY;
  let zeros = 0;
  const counts = sketch?.counts;
  for (let i = start; i < end; i++) {
    const x = values[i];
    if (status[i] !== STATUS_OK || x - x !== 0) { skipped++; continue; }
    if (x < mn) mn = x;
    if (x > mx) mx = x;
    const d = x - shift;
    s1 += d;
    s2 += d * d;
    if (counts !== undefined) {
      // BatchCounter.add() by hand, the key range kept in a local (noteRange after the loop)
      if (d === 0) zeros++;
      else {
        keyBits[0] = d;
        const bits = keyWords[HI];
        let key = (bits & 0x7fffffff) >>> KEY_SHIFT;
        if (key > MAX_KEY) key = MAX_KEY; // d overflowed to ±∞
        counts[((bits >>> 31) << KEY_BITS) + key]++;
        if (key < lowKey) lowKey = key;
      }
    }
    if (x < lo) {
      bins[0]++;
      lt += lo - x;
    } else if (x >= hi) {
      bins[4 * L]++;
      if (x === hi) bins[4 * L + 1]++; else rt += x - hi;
    } else {
      const c = ((x - lo) * scale) | 0;
      let k = cell[c];
      if (k < 0) k = searchCrowded(edges, cell, c, x, k);
      else if (x >= edges[k]) k++;
      const left = edges[k - 1];
      const j = 4 * k;
      bins[j]++;
      if (x === left) bins[j + 1]++; else bins[j + 2] += ((x - left) * invW[k]) | 0;
    }
  }
  if (skipped > 0) classifySkipped(values, status, start, end, acc);
  // every distance tallied lies in [mn − shift, mx − shift] (subtraction rounds monotonically)
  if (sketch !== undefined) {
    sketch.zero += zeros;
    sketch.noteRange(lowKey, mn - shift, mx - shift);
  }
  acc[S1] += s1; acc[S2] += s2; acc[LT] += lt; acc[RT] += rt; acc[MIN] = mn; acc[MAX] = mx;
}

/** Count the cells of a block that the scan skipped: missing or unparsable (status), NaN, ±inf. */
function classifySkipped(values: Float64Array, status: Uint8Array | undefined, start: number, end: number, acc: Float64Array): void {
  for (let i = start; i < end; i++) {
    const s = status === undefined ? STATUS_OK : status[i];
    const x = values[i];
    if (s === STATUS_MISSING) acc[MISSING]++;
    else if (s !== STATUS_OK) acc[INVALID]++;
    else if (x !== x) acc[NAN]++; else if (x === Infinity) acc[POS_INF]++; else if (x === -Infinity) acc[NEG_INF]++;
  }
}

/** scanBlock / scanBlockWithStatus on the batch copied into `kernel` (ScanKernel.begin), with the same effect on acc, bins and sketch. */
function scanBlockKernel(kernel: ScanKernel, values: Float64Array, status: Uint8Array | undefined, start: number, end: number, shift: number, acc: Float64Array, sketch: BatchCounter | undefined): void {
  const k = kernel.scan(start, end, acc[MIN], acc[MAX], sketch !== undefined);
  if (k[K_SKIPPED] > 0) classifySkipped(values, status, start, end, acc);
  // every distance tallied lies in [mn − shift, mx − shift] (subtraction rounds monotonically)
  if (sketch !== undefined) {
    sketch.zero += k[K_ZEROS];
    sketch.noteRange(k[K_LOW_KEY], k[K_MIN] - shift, k[K_MAX] - shift);
  }
  acc[S1] += k[K_S1]; acc[S2] += k[K_S2]; acc[LT] += k[K_LT]; acc[RT] += k[K_RT]; acc[MIN] = k[K_MIN]; acc[MAX] = k[K_MAX];
}
