// Linear models (multinomial logistic / linear regression) on a sparse design: numbers standardised
// (dense, a few columns) plus one active one-hot column per category feature. The same arithmetic,
// in the same order, as fitNetwork with no hidden layer on the dense design matrix (which skips
// zero inputs in the forward pass and adds exact zeros in the backward pass): same seed and data →
// bit-for-bit the same weights, without a rows × (one-hot width) matrix in memory. That is what
// lets logistic regression train on millions of rows with hundreds of categories.
import { OutpostError } from '../../common/errors.ts';
import type { FitHooks, FitOptions, FitTarget } from './fit.ts';
import { Adam, initNetwork, standardiseTarget } from './fit.ts';
import type { Network } from './network.ts';
import { roundToFloat32, softmaxRows } from './network.ts';
import type { Dataset, Preprocessor } from './preprocess.ts';
import { createRng } from './random.ts';

export interface SparseDesign {
  rows: number;
  /** design-matrix width (numbers + every vocabulary entry) */
  cols: number;
  /** standardised numbers [rows × numeric], design columns 0..numeric−1 */
  numeric: Float64Array;
  nNumeric: number;
  /** design column of each category feature's value [rows × categories]; −1 = missing or unseen (all zeros) */
  active: Int32Array;
  nCategories: number;
}

/** The design of `transform`, kept sparse: same values, same error for a missing non-nullable value. */
export function transformSparse(p: Preprocessor, data: Dataset): SparseDesign {
  const n = data.rows;
  const nNum = p.numeric.length;
  const nCat = p.categories.length;
  const numeric = new Float64Array(n * nNum);
  p.numeric.forEach((s, j) => {
    const c = data.columns[s.spec.name] as ArrayLike<number>;
    if (c === undefined) throw new OutpostError('input', `missing column "${s.spec.name}"`, { field: s.spec.name });
    for (let i = 0; i < n; i++) {
      let v = c[i];
      if (typeof v !== 'number') throw new OutpostError('input', `expected a number, got ${JSON.stringify(v)}`, { row: i + 1, field: s.spec.name });
      if (Number.isNaN(v)) {
        if (!s.spec.nullable) throw new OutpostError('input', 'missing value in a feature that is not nullable', { row: i + 1, field: s.spec.name });
        v = s.mean;
      }
      numeric[i * nNum + j] = (v - s.mean) / s.std;
    }
  });
  const active = new Int32Array(n * nCat);
  let offset = nNum;
  p.categories.forEach((s, j) => {
    const c = data.columns[s.spec.name] as readonly (string | null)[];
    if (c === undefined) throw new OutpostError('input', `missing column "${s.spec.name}"`, { field: s.spec.name });
    const index = new Map(s.vocabulary.map((v, k) => [v, k]));
    for (let i = 0; i < n; i++) {
      const v = c[i];
      if (v === null && !s.spec.nullable) throw new OutpostError('input', 'missing value in a feature that is not nullable', { row: i + 1, field: s.spec.name });
      const k = v === null ? undefined : index.get(v);
      active[i * nCat + j] = k === undefined ? -1 : offset + k;
    }
    offset += s.vocabulary.length;
  });
  return { rows: n, cols: p.width, numeric, nNumeric: nNum, active, nCategories: nCat };
}

/** out[r × O + o] = bias + Σ x·w over the row's non-zero design columns, in column order. */
function linearForward(net: Network, x: SparseDesign, rows: ArrayLike<number>, count: number, out: Float64Array): void {
  const layer = net.layers[0];
  const O = layer.outputs;
  const { weights: w, bias } = layer;
  for (let r = 0; r < count; r++) {
    const i = rows[r];
    const base = r * O;
    for (let o = 0; o < O; o++) out[base + o] = bias[o];
    for (let k = 0; k < x.nNumeric; k++) {
      const xv = x.numeric[i * x.nNumeric + k];
      if (xv === 0) continue;
      for (let o = 0; o < O; o++) out[base + o] += xv * w[k * O + o];
    }
    for (let j = 0; j < x.nCategories; j++) {
      const k = x.active[i * x.nCategories + j];
      if (k < 0) continue;
      for (let o = 0; o < O; o++) out[base + o] += w[k * O + o];
    }
  }
}

export function predictLinear(net: Network, x: SparseDesign): Float64Array {
  const O = net.layers[0].outputs;
  const out = new Float64Array(x.rows * O);
  // chunks keep the identity lookup cheap and the softmax in place
  const CHUNK = 65536;
  const rows = new Uint32Array(CHUNK);
  for (let from = 0; from < x.rows; from += CHUNK) {
    const m = Math.min(CHUNK, x.rows - from);
    for (let r = 0; r < m; r++) rows[r] = from + r;
    const part = out.subarray(from * O, (from + m) * O);
    linearForward(net, x, rows, m, part);
    if (net.head === 'softmax') softmaxRows({ rows: m, cols: O, data: part });
  }
  return out;
}

/** fitNetwork with hidden = 0 on a sparse design (same arithmetic; see the file comment). */
export function fitLinearSparse(x: SparseDesign, target: FitTarget, opts: FitOptions, hooks: FitHooks = {}): Network {
  const n = x.rows;
  if (n === 0) throw new OutpostError('input', 'no training rows');
  const { scale, fitTarget } = standardiseTarget(target);
  const rng = createRng(opts.seed);
  const O = target.kind === 'classes' ? target.classes : 1;
  const net = initNetwork(x.cols, O, { hidden: 0, activation: opts.activation }, target.kind === 'classes' ? 'softmax' : 'identity', rng);
  const layer = net.layers[0];
  const optW = new Adam(layer.weights);
  const optB = new Adam(layer.bias);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const out = new Float64Array(opts.batchSize * O);
  const delta = new Float64Array(opts.batchSize * O);
  let t = 0;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    rng.shuffle(order);
    let epochLoss = 0;
    for (let from = 0; from < n; from += opts.batchSize) {
      if (hooks.signal?.aborted) throw new OutpostError('cancelled', 'training cancelled');
      const to = Math.min(n, from + opts.batchSize);
      const B = to - from;
      const rows = order.subarray(from, to);
      linearForward(net, x, rows, B, out);
      if (net.head === 'softmax') softmaxRows({ rows: B, cols: O, data: out.subarray(0, B * O) });
      let loss = 0;
      for (let r = 0; r < B; r++) {
        for (let c = 0; c < O; c++) {
          const y = fitTarget.kind === 'classes' ? (fitTarget.labels[rows[r]] === c ? 1 : 0) : fitTarget.values[rows[r]];
          const p = out[r * O + c];
          delta[r * O + c] = (p - y) / B;
          if (fitTarget.kind === 'values') loss += 0.5 * (p - y) * (p - y);
          else if (y === 1) loss -= Math.log(Math.max(p, 1e-15));
        }
      }
      const gw = new Float64Array(layer.weights.length);
      const gb = new Float64Array(O);
      for (let r = 0; r < B; r++) {
        const i = rows[r];
        for (let o = 0; o < O; o++) {
          const d = delta[r * O + o];
          gb[o] += d;
          for (let k = 0; k < x.nNumeric; k++) gw[k * O + o] += x.numeric[i * x.nNumeric + k] * d;
          for (let j = 0; j < x.nCategories; j++) {
            const k = x.active[i * x.nCategories + j];
            if (k >= 0) gw[k * O + o] += d;
          }
        }
      }
      epochLoss += (loss / B) * B;
      t++;
      for (let i = 0; i < gw.length; i++) gw[i] += opts.l2 * layer.weights[i];
      optW.step(gw, opts.learningRate, t);
      optB.step(gb, opts.learningRate, t);
    }
    hooks.onEpoch?.(epoch, epochLoss / n);
  }
  if (target.kind === 'values') {
    for (let i = 0; i < layer.weights.length; i++) layer.weights[i] *= scale.std;
    layer.bias[0] = layer.bias[0] * scale.std + scale.mean;
  }
  return roundToFloat32(net);
}
