// Bin edges frozen in a baseline, and the O(1) value → bin lookup the streaming update uses.
//
// Fine edges e_0 < … < e_{L-1} are reference data points: e_0 = reference min, e_{L-1} = max, and
// every distinct reference value when there are at most EXACT_EDGE_LIMIT of them ("exact"). The 9
// decile edges of the coarse histogram (numpy 'linear' quantiles) are inserted too, so coarse counts
// are sums of fine counts. Bins: 0 = (-inf, e_0), k = [e_{k-1}, e_k) for 1 <= k <= L-1,
// L = [e_{L-1}, +inf).
//
// Why reference points as edges: with every distinct reference value an edge, the reference CDF
// is constant inside each bin, so the KS statistic against any current sample is computed exactly
// from bins (see metrics/binned.ts) — the whole KS regime (reference <= 1000 rows) is exact.
// With more distinct values the binning is "sketched": the edges are only min, deciles and max (the
// coarse histogram and the out-of-range counts), and the statistics keep log-spaced buckets of
// x − shift with a stated relative accuracy instead (log-buckets.ts, metrics/sketch.ts).
import { BUCKETS_PER_OCTAVE } from './log-buckets.ts';
import { decileEdges } from './quantile.ts';

/** Up to this many distinct reference values, every one becomes an edge (exact reference CDF). */
export const EXACT_EDGE_LIMIT = 1024;

/** What a baseline stores for a numeric feature's bins (JSON-serialisable). */
export interface NumericBinningJSON {
  /** fine edges, ascending and distinct; edges[0] = reference min, last = reference max */
  edges: number[];
  /** the 9 interior decile edges of the coarse histogram (may repeat on discrete data) */
  deciles: number[];
  /** reference mean, subtracted before squaring so the variance does not cancel */
  shift: number;
  /** distinct finite reference values, counted up to EXACT_EDGE_LIMIT + 1 */
  distinct: number;
  /** true when every distinct reference value is an edge */
  exact: boolean;
  /** sketched binnings (exact: false): log buckets per octave of |x − shift| (since baseline format v2) */
  bucketsPerOctave?: number;
  /** hash of edges, shift (and bucket resolution): statistics only merge/compare when built on the same binning */
  id: string;
}

/** Sorted finite sample → binning (the sample must be ascending and free of NaN/±inf). */
export function buildBinning(sorted: Float64Array, mean: number): NumericBinningJSON {
  const n = sorted.length;
  if (n === 0) return finishBinning([], [], 0, 0, true);
  const distinctValues: number[] = [];
  for (let i = 0; i < n && distinctValues.length <= EXACT_EDGE_LIMIT; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinctValues.push(sorted[i]);
  const exact = distinctValues.length <= EXACT_EDGE_LIMIT;
  const deciles = decileEdges(sorted);
  const edges = exact ? distinctValues : [sorted[0], sorted[n - 1]];
  const all = Float64Array.from([...edges, ...deciles]).sort();
  const unique: number[] = [];
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) unique.push(all[i]);
  return finishBinning(unique, deciles, mean, distinctValues.length, exact);
}

function finishBinning(edges: number[], deciles: number[], shift: number, distinct: number, exact: boolean): NumericBinningJSON {
  if (exact) return { edges, deciles, shift, distinct, exact, id: binningId(edges, deciles, shift) };
  return { edges, deciles, shift, distinct, exact, bucketsPerOctave: BUCKETS_PER_OCTAVE, id: binningId(edges, deciles, shift, BUCKETS_PER_OCTAVE) };
}

/** 53-bit hash (cyrb53) of the edge and shift bits (and bucket resolution): a cheap identity check, not a security hash. */
export function binningId(edges: readonly number[], deciles: readonly number[], shift: number, bucketsPerOctave?: number): string {
  const f = Float64Array.from([edges.length, ...edges, ...deciles, shift, ...(bucketsPerOctave === undefined ? [] : [bucketsPerOctave])]);
  const words = new Uint32Array(f.buffer);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (const w of words) {
    h1 = Math.imul(h1 ^ w, 2654435761);
    h2 = Math.imul(h2 ^ w, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** Fewest cells of the value → bin lookup table (see Binning.cell). */
const MIN_CELLS = 1024;

/** Quantisation of a value's position inside its bin: offsets are summed as integers 0..Q-1. */
export const OFFSET_LEVELS = 65536;

/** Runtime form of a binning: typed arrays plus the lookup table. Immutable, shareable. */
export class Binning {
  readonly json: NumericBinningJSON;
  /** statistics on this binning keep log buckets (many distinct reference values) */
  readonly sketched: boolean;
  readonly edges: Float64Array;
  /** number of edges L; there are L + 1 bins */
  readonly size: number;
  /** OFFSET_LEVELS / width of each interior bin (index = bin) */
  readonly invWidth: Float64Array;
  /**
   * Lookup over [e_0, e_{L-1}) split into G equal cells, cell(x) = ⌊(x - e_0)·cellScale⌋. For each
   * cell: the bin of the smallest value mapping to it, plus whether the cell holds at most one edge.
   * cell(x) is monotone in x (float subtraction, multiplication by a positive constant and
   * truncation all are), so an edge e_j with cell(e_j) < c is below every x of cell c, one with
   * cell(e_j) > c above. With at most one edge in the cell, bin(x) = cell[c] + (x >= e_{cell[c]}):
   * one comparison, no search. Cells with several edges are stored as ~bin and binary-searched up
   * to the next cell's bin (bounded even when a far outlier squeezes all edges into one cell).
   * cell[G + 1] = L - 1 is a sentinel for that search.
   */
  readonly cell: Int32Array;
  readonly cellScale: number;
  /** fine bin → coarse (decile) bin 0..9 */
  readonly coarseOf: Uint8Array;

  constructor(json: NumericBinningJSON) {
    this.json = json;
    const e = Float64Array.from(json.edges);
    for (let i = 1; i < e.length; i++) if (!(e[i] > e[i - 1])) throw new RangeError('binning edges must be strictly ascending');
    if (json.deciles.length !== (e.length ? 9 : 0)) throw new RangeError('binning needs 9 decile edges');
    this.sketched = json.exact === false;
    if (this.sketched && json.bucketsPerOctave === undefined) {
      throw new RangeError('written by an earlier Outpost (baseline format v1: quantile bins, replaced by log buckets); re-run `outpost baseline <reference data> --package <dir>` to write a v2 baseline');
    }
    if (this.sketched && json.bucketsPerOctave !== BUCKETS_PER_OCTAVE) throw new RangeError(`binning has ${String(json.bucketsPerOctave)} buckets per octave; this build reads ${BUCKETS_PER_OCTAVE}`);
    if (binningId(json.edges, json.deciles, json.shift, json.bucketsPerOctave) !== json.id) throw new RangeError('binning id does not match its edges (corrupted baseline?)');
    this.edges = e;
    const L = e.length;
    this.size = L;
    this.invWidth = new Float64Array(L + 1);
    for (let k = 1; k < L; k++) this.invWidth[k] = OFFSET_LEVELS / (e[k] - e[k - 1]);
    // About 4 cells per edge measured fastest (the table stays in L1/L2, ~6 ns/value vs ~9 at 16
    // per edge), but never fewer than MIN_CELLS: a value in a cell holding an edge takes an
    // unpredictable branch, and with few edges (a sketched binning has ~11) 4 per edge put a quarter
    // of the values there (1,024 cells: ~30 % less CPU per value for 11 edges, 4 KB of table);
    // more cells only while over 10 % of the edges share a cell with another (clustered quantile
    // edges of skewed data), since values in such cells take a short scan.
    let table: { cell: Int32Array; scale: number; crowdedEdges: number } = { cell: new Int32Array(1), scale: 0, crowdedEdges: 0 };
    if (L > 1) {
      const cap = 1 << 16;
      for (let G = Math.min(Math.max(4 * L, MIN_CELLS), cap); ; G = Math.min(4 * G, cap)) {
        table = cellTable(e, G);
        if (table.crowdedEdges <= 0.1 * L || G === cap) break;
      }
    }
    this.cell = table.cell;
    this.cellScale = table.scale;
    this.coarseOf = new Uint8Array(L + 1);
    for (let k = 1; k <= L; k++) {
      let c = 0;
      for (const d of json.deciles) if (d <= e[k - 1]) c++;
      this.coarseOf[k] = c;
    }
  }

  /** Bin index of a finite value (the same rule as the streaming update). */
  binOf(x: number): number {
    const e = this.edges;
    const L = this.size;
    if (L === 0 || x < e[0]) return 0;
    if (x >= e[L - 1]) return L;
    const c = ((x - e[0]) * this.cellScale) | 0;
    let b = this.cell[c];
    if (b < 0) b = searchCrowded(e, this.cell, c, x, b);
    else if (x >= e[b]) b++;
    return b;
  }
}

/** The cell lookup table for G cells (see Binning.cell). */
function cellTable(e: Float64Array, G: number): { cell: Int32Array; scale: number; crowdedEdges: number } {
  const L = e.length;
  const lo = e[0];
  const scale = G / (e[L - 1] - lo);
  const inCell = new Int32Array(G + 1);
  for (let j = 1; j <= L - 2; j++) inCell[((e[j] - lo) * scale) | 0]++;
  const cell = new Int32Array(G + 2);
  cell[G + 1] = L - 1;
  let below = 1; // bin of the cell's smallest value = 1 + number of interior edges in earlier cells
  let crowdedEdges = 0;
  for (let c = 0; c <= G; c++) {
    cell[c] = inCell[c] <= 1 ? below : ~below;
    if (inCell[c] > 1) crowdedEdges += inCell[c];
    below += inCell[c];
  }
  return { cell, scale, crowdedEdges };
}

/** Bin of x in a cell holding several edges: lower bound on (edges > x) between this cell's first bin and the next's. */
export function searchCrowded(e: Float64Array, cell: Int32Array, c: number, x: number, code: number): number {
  let lo = ~code;
  let hi = cell[c + 1];
  if (hi < 0) hi = ~hi;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x >= e[mid]) lo = mid + 1; else hi = mid;
  }
  return lo;
}
