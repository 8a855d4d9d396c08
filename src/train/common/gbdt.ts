// Histogram gradient boosting (in the manner of LightGBM / scikit-learn's HistGradientBoosting):
// features binned once (≤ 255 bins from float32 values: each distinct value its own bin when there
// are few, else quantiles of a seeded sample; one more bin for missing), trees grown leaf-wise (best
// gain first) up to maxLeafNodes, histograms built for the smaller child and subtracted from the
// parent for the larger one, missing values sent to whichever side gains more (learned per split),
// categories split natively (sorted by gradient/hessian ratio, best prefix: any subset, including
// "missing"), shrinkage in the leaf values, early stopping on the validation loss.
// Losses: binary log-loss (one tree per round), multiclass softmax (one tree per class per round),
// squared error. Everything is deterministic: same data, settings and seed → same trees.
import { OutpostError } from '../../common/errors.ts';
import { gbdtGraph } from './gbdt-export.ts';
import type { FittedModel, LearnerInput } from './learner.ts';
import type { Dataset, FeatureSpec } from './preprocess.ts';
import { createRng } from './random.ts';
import { isTextColumn } from './table.ts';

export interface GbdtOptions {
  maxIter: number;
  learningRate: number;
  maxLeafNodes: number;
  /** 0 = no limit */
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
  maxBins: number;
  /** stop when the validation loss has not improved for this many rounds (0 = never stop early) */
  nIterNoChange: number;
  tol: number;
}

export const GBDT_DEFAULTS: GbdtOptions = { maxIter: 100, learningRate: 0.1, maxLeafNodes: 31, maxDepth: 0, minSamplesLeaf: 20, l2: 0, maxBins: 255, nIterNoChange: 10, tol: 1e-7 };

const MIN_HESSIAN = 1e-3;
const CAT_SMOOTH = 10;
const SAMPLE_FOR_BINS = 200_000;

// ---- binning ----

export interface BinnedFeature {
  spec: FeatureSpec;
  kind: 'numeric' | 'category';
  /** numeric: upper edge (float32) of every bin but the last (a value goes to the first bin whose edge it does not exceed) */
  edges: Float64Array;
  /** bins holding values; the missing bin is `valueBins` */
  valueBins: number;
}

export interface Binner { features: BinnedFeature[]; offsets: Int32Array; totalBins: number }

function fitBinner(specs: FeatureSpec[], data: Dataset, maxBins: number, seed: number): Binner {
  const rng = createRng(seed ^ 0xb1);
  const n = data.rows;
  let sample: Uint32Array | undefined;
  if (n > SAMPLE_FOR_BINS) {
    const all = rng.shuffle(Uint32Array.from({ length: n }, (_, i) => i));
    sample = all.slice(0, SAMPLE_FOR_BINS).sort();
  }
  const features: BinnedFeature[] = specs.map((spec) => {
    if (spec.type === 'category') return { spec, kind: 'category', edges: new Float64Array(0), valueBins: spec.vocabulary!.length };
    const col = data.columns[spec.name] as ArrayLike<number>;
    const m = sample ? sample.length : n;
    const buf = new Float64Array(m);
    let filled = 0;
    for (let j = 0; j < m; j++) {
      const x = col[sample ? sample[j] : j];
      if (!Number.isNaN(x)) buf[filled++] = Math.fround(x);
    }
    const values = buf.subarray(0, filled).sort();
    const distinct: number[] = [];
    for (const v of values) if (distinct.length === 0 || distinct[distinct.length - 1] !== v) distinct.push(v);
    let edges: number[];
    if (distinct.length <= maxBins) edges = distinct.slice(0, -1);
    else {
      edges = [];
      for (let b = 1; b < maxBins; b++) {
        const v = values[Math.min(values.length - 1, Math.floor((b * values.length) / maxBins))];
        if (edges.length === 0 || v > edges[edges.length - 1]) edges.push(v);
      }
      if (edges.length && edges[edges.length - 1] >= distinct[distinct.length - 1]) edges.pop();
    }
    return { spec, kind: 'numeric', edges: Float64Array.from(edges), valueBins: Math.max(1, edges.length + 1) };
  });
  const offsets = new Int32Array(features.length);
  let total = 0;
  features.forEach((f, i) => { offsets[i] = total; total += f.valueBins + 1; });
  return { features, offsets, totalBins: total };
}

/** Bin index of every row of every feature (the last bin of a feature is "missing"). */
function binData(b: Binner, data: Dataset, shared = false): Uint16Array[] {
  return b.features.map((f) => {
    const out = shared ? new Uint16Array(new SharedArrayBuffer(data.rows * 2)) : new Uint16Array(data.rows);
    const col = data.columns[f.spec.name];
    if (f.kind === 'category') {
      const index = new Map(f.spec.vocabulary!.map((v, i) => [v, i]));
      const c = col as readonly (string | null)[];
      for (let i = 0; i < data.rows; i++) {
        const v = c[i];
        out[i] = v === null ? f.valueBins : (index.get(v) ?? f.valueBins); // unknown → as missing
      }
    } else {
      if (isTextColumn(col)) throw new OutpostError('input', 'expected numbers', { field: f.spec.name });
      const c = col as ArrayLike<number>;
      const e = f.edges;
      for (let i = 0; i < data.rows; i++) {
        const x = c[i];
        if (Number.isNaN(x)) { out[i] = f.valueBins; continue; }
        const xf = Math.fround(x);
        let lo = 0;
        let hi = e.length; // first edge ≥ xf
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (e[mid] < xf) lo = mid + 1;
          else hi = mid;
        }
        out[i] = lo;
      }
    }
    return out;
  });
}

// ---- trees ----

export interface TreeNode {
  /** leaf value (already shrunk), for leaves */
  value: number;
  feature: number;
  /** numeric: rows with bin ≤ bin go left */
  bin: number;
  missingLeft: boolean;
  /** category: membership (by bin, missing included) of the left side */
  catLeft?: Uint8Array;
  left: number;
  right: number;
  leaf: boolean;
}

export interface Tree { nodes: TreeNode[]; target: number }

// ---- histograms (also built by a pool's threads: one definition of the sums) ----

/** The gradients and hessians of rows idx[start, end), in that order (read sequentially by `addFeatureHistogram`); into `into` when given. */
export function gatherGradients(idx: Uint32Array, start: number, end: number, g: Float64Array, h: Float64Array, into?: { gn: Float64Array; hn: Float64Array }): { gn: Float64Array; hn: Float64Array } {
  const m = end - start;
  const gn = into ? into.gn : new Float64Array(m);
  const hn = into ? into.hn : new Float64Array(m);
  for (let j = 0; j < m; j++) { const r = idx[start + j]; gn[j] = g[r]; hn[j] = h[r]; }
  return { gn, hn };
}

/**
 * Add the gradient, hessian and count of rows idx[start, end) (gathered: gn[j], hn[j] for row
 * idx[start + j]) to feature `f`'s bins of H (3 numbers per bin). The rows are added in row order
 * whatever thread runs it, so spreading features over threads gives the very same numbers.
 */
export function addFeatureHistogram(H: Float64Array, bins: readonly Uint16Array[], offsets: Int32Array, idx: Uint32Array, start: number, end: number, gn: Float64Array, hn: Float64Array, f: number): void {
  const b = bins[f];
  const off = offsets[f];
  const m = end - start;
  for (let j = 0; j < m; j++) {
    const k = (off + b[idx[start + j]]) * 3;
    H[k] += gn[j];
    H[k + 1] += hn[j];
    H[k + 2]++;
  }
}

/** `addFeatureHistogram` for features [fromFeature, toFeature) into H. */
export function histogramInto(H: Float64Array, bins: readonly Uint16Array[], offsets: Int32Array, idx: Uint32Array, start: number, end: number, g: Float64Array, h: Float64Array, fromFeature: number, toFeature: number): void {
  const { gn, hn } = gatherGradients(idx, start, end, g, h);
  for (let f = fromFeature; f < toFeature; f++) addFeatureHistogram(H, bins, offsets, idx, start, end, gn, hn, f);
}

/** What the trainer asks a histogram pool: open a training (shared arrays), then build histograms. */
export type HistogramRequest =
  | { kind: 'open'; bins: Uint16Array[]; offsets: Int32Array; totalBins: number; idx: Uint32Array; g: Float64Array; h: Float64Array }
  | { kind: 'build'; start: number; end: number };

/**
 * Builds histograms on several threads (a node host's worker pool: src/train/node/gbdt-pool.ts).
 * `open` gets the training's arrays — bins, row order and gradients, all backed by SharedArrayBuffers
 * that the trainer keeps writing (the row order after each split, the gradients before each tree).
 */
export interface HistogramPool {
  open(arrays: Extract<HistogramRequest, { kind: 'open' }>): Promise<HistogramSession>;
}

export interface HistogramSession {
  /** the histogram [totalBins × 3] of rows idx[start, end) with the current gradients */
  build(start: number, end: number): Promise<Float64Array>;
  /** end the session (its threads stop); called on every path */
  close(): void;
}

interface SplitInfo { gain: number; feature: number; bin: number; missingLeft: boolean; catLeft?: Uint8Array; gL: number; hL: number; cL: number }

interface GrowNode { id: number; start: number; end: number; hist: Float64Array; g: number; h: number; c: number; depth: number; split?: SplitInfo }

const leafWeight = (g: number, h: number, l2: number): number => -g / (h + l2);
const score = (g: number, h: number, l2: number): number => (g * g) / (h + l2);

class Grower {
  readonly bins: Uint16Array[];
  readonly binner: Binner;
  readonly o: GbdtOptions;
  readonly idx: Uint32Array;
  readonly tmp: Uint32Array;
  readonly pooled: boolean;
  g!: Float64Array;
  h!: Float64Array;
  constructor(bins: Uint16Array[], binner: Binner, o: GbdtOptions, n: number, pooled: boolean) {
    this.bins = bins;
    this.binner = binner;
    this.o = o;
    this.pooled = pooled;
    // pooled: the row order and the gradients live in shared memory, read by the pool's threads
    this.idx = pooled ? new Uint32Array(new SharedArrayBuffer(n * 4)) : new Uint32Array(n);
    this.tmp = new Uint32Array(n);
    if (pooled) {
      this.g = new Float64Array(new SharedArrayBuffer(n * 8));
      this.h = new Float64Array(new SharedArrayBuffer(n * 8));
    }
  }

  histogram(start: number, end: number): Float64Array {
    const H = new Float64Array(this.binner.totalBins * 3);
    histogramInto(H, this.bins, this.binner.offsets, this.idx, start, end, this.g, this.h, 0, this.bins.length);
    return H;
  }

  /** The histogram of idx[start, end): built here, or (pooled) asked of the driver, which spreads it over threads. */
  *hist(start: number, end: number): Generator<HistogramRequest, Float64Array, Float64Array> {
    if (!this.pooled) return this.histogram(start, end);
    return yield { kind: 'build', start, end };
  }

  bestSplit(node: GrowNode): SplitInfo | undefined {
    const { o } = this;
    const { g: G, h: H, c: C, hist } = node;
    const parent = score(G, H, o.l2);
    let best: SplitInfo | undefined;
    const consider = (gain: number, feature: number, bin: number, missingLeft: boolean, gL: number, hL: number, cL: number, catLeft?: Uint8Array) => {
      if (gain > 1e-12 && (!best || gain > best.gain)) best = { gain, feature, bin, missingLeft, gL, hL, cL, ...(catLeft ? { catLeft } : {}) };
    };
    const ok = (hL: number, cL: number) => cL >= o.minSamplesLeaf && C - cL >= o.minSamplesLeaf && hL >= MIN_HESSIAN && H - hL >= MIN_HESSIAN;
    this.binner.features.forEach((f, fi) => {
      const off = this.binner.offsets[fi] * 3;
      const nb = f.valueBins;
      const mk = off + nb * 3;
      const gm = hist[mk];
      const hm = hist[mk + 1];
      const cm = hist[mk + 2];
      if (f.kind === 'numeric') {
        let gL = 0;
        let hL = 0;
        let cL = 0;
        for (let b = 0; b < nb; b++) {
          const k = off + b * 3;
          gL += hist[k];
          hL += hist[k + 1];
          cL += hist[k + 2];
          if (b < nb - 1) {
            // missing right
            if (ok(hL, cL)) consider(score(gL, hL, o.l2) + score(G - gL, H - hL, o.l2) - parent, fi, b, false, gL, hL, cL);
            // missing left
            if (cm > 0 && ok(hL + hm, cL + cm)) consider(score(gL + gm, hL + hm, o.l2) + score(G - gL - gm, H - hL - hm, o.l2) - parent, fi, b, true, gL + gm, hL + hm, cL + cm);
          } else if (cm > 0 && ok(hL, cL)) {
            // every value left, missing right
            consider(score(gL, hL, o.l2) + score(gm, hm, o.l2) - parent, fi, b, false, gL, hL, cL);
          }
        }
      } else {
        // categories (missing is one of them): sort by g / (h + smooth), best prefix
        const cats: number[] = [];
        for (let b = 0; b <= nb; b++) if (hist[off + b * 3 + 2] > 0) cats.push(b);
        if (cats.length < 2) return;
        const ratio = (b: number) => hist[off + b * 3] / (hist[off + b * 3 + 1] + CAT_SMOOTH);
        cats.sort((a, b) => ratio(a) - ratio(b) || a - b);
        let gL = 0;
        let hL = 0;
        let cL = 0;
        let bestJ = -1;
        let bestGain = 0;
        let bestStats = [0, 0, 0];
        for (let j = 0; j < cats.length - 1; j++) {
          const k = off + cats[j] * 3;
          gL += hist[k];
          hL += hist[k + 1];
          cL += hist[k + 2];
          if (!ok(hL, cL)) continue;
          const gain = score(gL, hL, o.l2) + score(G - gL, H - hL, o.l2) - parent;
          if (gain > bestGain) { bestGain = gain; bestJ = j; bestStats = [gL, hL, cL]; }
        }
        if (bestJ >= 0) {
          const catLeft = new Uint8Array(nb + 1);
          for (let j = 0; j <= bestJ; j++) catLeft[cats[j]] = 1;
          consider(bestGain, fi, -1, catLeft[nb] === 1, bestStats[0], bestStats[1], bestStats[2], catLeft);
        }
      }
    });
    return best;
  }

  /** Stable in-place partition of idx[start, end) by the split; returns the first right index. */
  partition(node: GrowNode, s: SplitInfo): number {
    const b = this.bins[s.feature];
    const { idx, tmp } = this;
    let l = node.start;
    let r = 0;
    const cat = s.catLeft;
    if (cat) {
      for (let j = node.start; j < node.end; j++) {
        const row = idx[j];
        if (cat[b[row]] === 1) idx[l++] = row;
        else tmp[r++] = row;
      }
    } else {
      const missing = this.binner.features[s.feature].valueBins;
      const thr = s.bin;
      const ml = s.missingLeft;
      for (let j = node.start; j < node.end; j++) {
        const row = idx[j];
        const v = b[row];
        if (v === missing ? ml : v <= thr) idx[l++] = row;
        else tmp[r++] = row;
      }
    }
    idx.set(tmp.subarray(0, r), l);
    return l;
  }

  /** Grow one tree on gradients g, h (all rows); returns it and the leaf each row landed in. */
  *grow(target: number, raw: Float64Array, stride: number, signal?: { readonly aborted: boolean }): Generator<HistogramRequest, Tree, Float64Array> {
    const { o, idx } = this;
    const n = idx.length;
    for (let i = 0; i < n; i++) idx[i] = i;
    let G = 0;
    let Hs = 0;
    for (let i = 0; i < n; i++) { G += this.g[i]; Hs += this.h[i]; }
    const nodes: TreeNode[] = [];
    const newNode = (): number => { nodes.push({ value: 0, feature: -1, bin: -1, missingLeft: false, left: -1, right: -1, leaf: true }); return nodes.length - 1; };
    const root: GrowNode = { id: newNode(), start: 0, end: n, hist: yield* this.hist(0, n), g: G, h: Hs, c: n, depth: 0 };
    const canSplit = (x: GrowNode) => x.c >= 2 * o.minSamplesLeaf && (o.maxDepth === 0 || x.depth < o.maxDepth);
    if (canSplit(root)) root.split = this.bestSplit(root);
    const open: GrowNode[] = root.split ? [root] : [];
    const leaves: GrowNode[] = root.split ? [] : [root];
    let leafCount = 1;
    while (open.length && leafCount < o.maxLeafNodes) {
      if (signal?.aborted) throw new OutpostError('cancelled', 'training cancelled');
      let bi = 0;
      for (let i = 1; i < open.length; i++) if (open[i].split!.gain > open[bi].split!.gain) bi = i;
      const x = open.splice(bi, 1)[0];
      const s = x.split!;
      const mid = this.partition(x, s);
      const cL = mid - x.start;
      const cR = x.end - mid;
      const smallLeft = cL <= cR;
      const small = smallLeft ? yield* this.hist(x.start, mid) : yield* this.hist(mid, x.end);
      const large = x.hist; // reuse the parent's buffer: parent − small
      for (let k = 0; k < large.length; k++) large[k] -= small[k];
      const L: GrowNode = { id: newNode(), start: x.start, end: mid, hist: smallLeft ? small : large, g: s.gL, h: s.hL, c: cL, depth: x.depth + 1 };
      const R: GrowNode = { id: newNode(), start: mid, end: x.end, hist: smallLeft ? large : small, g: x.g - s.gL, h: x.h - s.hL, c: cR, depth: x.depth + 1 };
      const nd = nodes[x.id];
      nd.leaf = false;
      nd.feature = s.feature;
      nd.bin = s.bin;
      nd.missingLeft = s.missingLeft;
      if (s.catLeft) nd.catLeft = s.catLeft;
      nd.left = L.id;
      nd.right = R.id;
      leafCount++;
      for (const child of [L, R]) {
        if (canSplit(child)) child.split = this.bestSplit(child);
        (child.split ? open : leaves).push(child);
      }
    }
    for (const x of [...open, ...leaves]) {
      const v = Math.fround(o.learningRate * leafWeight(x.g, x.h, o.l2));
      nodes[x.id].value = v;
      for (let j = x.start; j < x.end; j++) raw[idx[j] * stride + target] += v;
    }
    for (const x of open) x.hist = new Float64Array(0);
    return { nodes, target };
  }
}

/** A tree as flat typed arrays (what prediction walks: no objects in the loop). */
interface FlatTree { feature: Int32Array; bin: Int32Array; missingBin: Int32Array; missingLeft: Uint8Array; left: Int32Array; right: Int32Array; value: Float64Array; cat: (Uint8Array | undefined)[]; target: number }

function flatten(t: Tree, binner: Binner): FlatTree {
  const n = t.nodes.length;
  const f: FlatTree = { feature: new Int32Array(n), bin: new Int32Array(n), missingBin: new Int32Array(n), missingLeft: new Uint8Array(n), left: new Int32Array(n), right: new Int32Array(n), value: new Float64Array(n), cat: new Array(n), target: t.target };
  t.nodes.forEach((nd, i) => {
    f.feature[i] = nd.leaf ? -1 : nd.feature;
    f.bin[i] = nd.bin;
    f.missingBin[i] = nd.leaf ? -1 : binner.features[nd.feature].valueBins;
    f.missingLeft[i] = nd.missingLeft ? 1 : 0;
    f.left[i] = nd.left;
    f.right[i] = nd.right;
    f.value[i] = nd.value;
    f.cat[i] = nd.catLeft;
  });
  return f;
}

/** Add the trees' leaf values to raw scores [rows × stride] of binned rows. */
function addTrees(trees: readonly Tree[], binner: Binner, bins: Uint16Array[], raw: Float64Array, stride: number): void {
  const n = bins.length ? bins[0].length : 0;
  for (const tree of trees) {
    const t = flatten(tree, binner);
    for (let i = 0; i < n; i++) {
      let k = 0;
      let f = t.feature[0];
      while (f >= 0) {
        const b = bins[f][i];
        const cat = t.cat[k];
        const left = cat !== undefined ? cat[b] === 1 : b === t.missingBin[k] ? t.missingLeft[k] === 1 : b <= t.bin[k];
        k = left ? t.left[k] : t.right[k];
        f = t.feature[k];
      }
      raw[i * stride + t.target] += t.value[k];
    }
  }
}

export interface GbdtModel {
  task: 'binary' | 'multiclass' | 'regression';
  binner: Binner;
  trees: Tree[];
  /** raw score before any tree, per output (float32) */
  base: Float64Array;
  outputs: number;
  options: GbdtOptions;
  iterations: number;
}

const sigmoid = (s: number): number => 1 / (1 + Math.exp(-s));

function lossOf(task: GbdtModel['task'], raw: Float64Array, y: Float64Array | Int32Array, k: number): number {
  const n = y.length;
  let s = 0;
  if (task === 'regression') { for (let i = 0; i < n; i++) s += (raw[i] - y[i]) ** 2; return s / n; }
  if (task === 'binary') {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(raw[i]);
      s -= Math.log(Math.max(1e-15, y[i] === 1 ? p : 1 - p));
    }
    return s / n;
  }
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, raw[i * k + c]);
    let z = 0;
    for (let c = 0; c < k; c++) z += Math.exp(raw[i * k + c] - m);
    s -= raw[i * k + y[i]] - m - Math.log(z);
  }
  return s / n;
}

/** Probabilities [rows × classes] (or values) from raw scores, as the exported graph computes them. */
function link(task: GbdtModel['task'], raw: Float64Array, k: number): { probabilities?: Float64Array; values?: Float64Array } {
  if (task === 'regression') return { values: raw.map(Math.fround) };
  if (task === 'binary') {
    const n = raw.length;
    const p = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) { p[i * 2 + 1] = Math.fround(sigmoid(raw[i])); p[i * 2] = Math.fround(1 / (1 + Math.exp(raw[i]))); }
    return { probabilities: p };
  }
  const n = raw.length / k;
  const p = new Float64Array(raw.length);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, raw[i * k + c]);
    let z = 0;
    for (let c = 0; c < k; c++) z += Math.exp(raw[i * k + c] - m);
    for (let c = 0; c < k; c++) p[i * k + c] = Math.fround(Math.exp(raw[i * k + c] - m) / z);
  }
  return { probabilities: p };
}

export function gbdtRaw(model: GbdtModel, data: Dataset): Float64Array {
  const bins = binData(model.binner, data);
  const k = model.outputs;
  const raw = new Float64Array(data.rows * k);
  for (let i = 0; i < data.rows; i++) for (let c = 0; c < k; c++) raw[i * k + c] = model.base[c];
  addTrees(model.trees, model.binner, bins, raw, k);
  return raw;
}

function readOptions(params: Record<string, unknown>): GbdtOptions {
  const o: GbdtOptions = { ...GBDT_DEFAULTS };
  for (const [key, v] of Object.entries(params)) {
    if (!(key in GBDT_DEFAULTS)) throw new OutpostError('usage', `unknown gbdt setting "${key}" (known: ${Object.keys(GBDT_DEFAULTS).join(', ')})`, { field: key });
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new OutpostError('usage', `gbdt setting ${key} must be a number`, { field: key });
    (o as unknown as Record<string, number>)[key] = v;
  }
  const int = (k: keyof GbdtOptions, min: number) => { if (!Number.isInteger(o[k]) || o[k] < min) throw new OutpostError('usage', `gbdt setting ${k} must be an integer ≥ ${min}`, { field: k }); };
  int('maxIter', 1); int('maxLeafNodes', 2); int('maxDepth', 0); int('minSamplesLeaf', 1); int('nIterNoChange', 0);
  int('maxBins', 2);
  if (o.maxBins > 255) throw new OutpostError('usage', 'gbdt setting maxBins is at most 255', { field: 'maxBins' });
  if (!(o.learningRate > 0)) throw new OutpostError('usage', 'gbdt setting learningRate must be > 0', { field: 'learningRate' });
  if (!(o.l2 >= 0)) throw new OutpostError('usage', 'gbdt setting l2 must be ≥ 0', { field: 'l2' });
  return o;
}

function* gbdtSteps(input: LearnerInput, pooled: boolean): Generator<HistogramRequest, GbdtModel, Float64Array> {
  const o = readOptions(input.params);
  const task = input.task;
  for (const f of input.features) if (f.type === 'category' && f.vocabulary!.length > 65_000) throw new OutpostError('input', 'too many categories for gbdt', { field: f.name });
  const binner = fitBinner(input.features, input.train, o.maxBins, input.seed);
  const bins = binData(binner, input.train, pooled);
  const validBins = binData(binner, input.valid);
  const n = input.train.rows;
  const nv = input.valid.rows;
  const k = task === 'multiclass' ? input.classes!.length : 1;
  const toY = (d: Dataset): Float64Array | Int32Array => {
    const c = d.columns[input.target];
    if (task === 'regression') return Float64Array.from(c as ArrayLike<number>);
    const index = new Map(input.classes!.map((x, i) => [x, i]));
    return Int32Array.from(c as readonly (string | null)[], (v) => index.get(v!) ?? -1);
  };
  const y = toY(input.train);
  const yv = toY(input.valid);

  const base = new Float64Array(k);
  if (task === 'regression') { let s = 0; for (let i = 0; i < n; i++) s += y[i]; base[0] = Math.fround(s / n); }
  else if (task === 'binary') { let s = 0; for (let i = 0; i < n; i++) s += y[i]; const p = Math.min(1 - 1e-12, Math.max(1e-12, s / n)); base[0] = Math.fround(Math.log(p / (1 - p))); }
  else {
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) counts[y[i]]++;
    for (let c = 0; c < k; c++) base[c] = Math.fround(Math.log(Math.max(1e-12, counts[c] / n)));
  }
  const raw = new Float64Array(n * k);
  const rawV = new Float64Array(nv * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) raw[i * k + c] = base[c];
  for (let i = 0; i < nv; i++) for (let c = 0; c < k; c++) rawV[i * k + c] = base[c];

  const grower = new Grower(bins, binner, o, n, pooled);
  if (pooled) yield { kind: 'open', bins, offsets: binner.offsets, totalBins: binner.totalBins, idx: grower.idx, g: grower.g, h: grower.h };
  const gs = Array.from({ length: k }, () => new Float64Array(n));
  const hs = Array.from({ length: k }, () => new Float64Array(n));
  const trees: Tree[] = [];
  let best = { loss: Infinity, iterations: 0 };
  let iter = 0;
  for (iter = 1; iter <= o.maxIter; iter++) {
    if (input.hooks.signal?.aborted) throw new OutpostError('cancelled', 'training cancelled');
    // gradients and hessians of the loss at the current raw scores
    if (task === 'regression') { for (let i = 0; i < n; i++) { gs[0][i] = raw[i] - y[i]; hs[0][i] = 1; } }
    else if (task === 'binary') { for (let i = 0; i < n; i++) { const p = sigmoid(raw[i]); gs[0][i] = p - y[i]; hs[0][i] = Math.max(p * (1 - p), 1e-16); } }
    else {
      for (let i = 0; i < n; i++) {
        let m = -Infinity;
        for (let c = 0; c < k; c++) m = Math.max(m, raw[i * k + c]);
        let z = 0;
        for (let c = 0; c < k; c++) z += Math.exp(raw[i * k + c] - m);
        for (let c = 0; c < k; c++) {
          const p = Math.exp(raw[i * k + c] - m) / z;
          gs[c][i] = p - (y[i] === c ? 1 : 0);
          hs[c][i] = Math.max(p * (1 - p), 1e-16);
        }
      }
    }
    const round: Tree[] = [];
    for (let c = 0; c < k; c++) {
      if (pooled) { grower.g.set(gs[c]); grower.h.set(hs[c]); } else { grower.g = gs[c]; grower.h = hs[c]; }
      round.push(yield* grower.grow(c, raw, k, input.hooks.signal));
    }
    trees.push(...round);
    addTrees(round, binner, validBins, rawV, k);
    const validLoss = lossOf(task, rawV, yv, k);
    input.hooks.onStep?.({ unit: 'iteration', step: iter, of: o.maxIter, validLoss });
    if (validLoss < best.loss - o.tol) best = { loss: validLoss, iterations: iter };
    else if (o.nIterNoChange > 0 && iter - best.iterations >= o.nIterNoChange) break;
  }
  const iterations = best.iterations || Math.min(iter, o.maxIter);
  return { task, binner, trees: trees.slice(0, iterations * k), base, outputs: k, options: o, iterations };
}

/** Train on the calling thread. */
export function trainGbdt(input: LearnerInput): GbdtModel {
  const steps = gbdtSteps(input, false);
  const r = steps.next();
  if (!r.done) throw new Error('gbdt: unexpected histogram request without a pool');
  return r.value;
}

/**
 * Train with the histograms built by `pool` (the same sums in the same order per feature, so the
 * same trees, bit for bit, as `trainGbdt`). The pool's session is closed on every path.
 */
export async function trainGbdtPooled(input: LearnerInput, pool: HistogramPool): Promise<GbdtModel> {
  const steps = gbdtSteps(input, true);
  let session: HistogramSession | undefined;
  try {
    let r = steps.next();
    while (!r.done) {
      const q = r.value;
      if (q.kind === 'open') {
        session = await pool.open(q);
        r = steps.next(new Float64Array(0));
      } else {
        if (!session) throw new Error('gbdt: histogram requested before the pool was opened');
        r = steps.next(await session.build(q.start, q.end));
      }
    }
    return r.value;
  } finally {
    session?.close();
  }
}

function fitted(model: GbdtModel): FittedModel {
  const leaves = model.trees.reduce((s, t) => s + t.nodes.filter((x) => x.leaf).length, 0);
  return {
    algo: 'gbdt',
    params: { ...model.options },
    summary: { iterations: model.iterations, trees: model.trees.length, leaves },
    predict: (data) => link(model.task, gbdtRaw(model, data), model.outputs),
    exportOnnx: (graphName) => gbdtGraph(model, graphName),
  };
}

export function fitGbdt(input: LearnerInput): FittedModel {
  return fitted(trainGbdt(input));
}

export async function fitGbdtPooled(input: LearnerInput, pool: HistogramPool): Promise<FittedModel> {
  return fitted(await trainGbdtPooled(input, pool));
}
