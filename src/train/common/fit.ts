// Fits a Network by mini-batch Adam on cross-entropy (softmax head) or squared error (identity
// head), with hand-written backprop. Everything random comes from the seeded PRNG and every sum runs
// in a fixed order, so the same data, options and seed give bit-for-bit the same weights.
import { OutpostError } from '../../common/errors.ts';
import type { Activation, Dense, Network } from './network.ts';
import { activationSlope, forwardAll, roundToFloat32 } from './network.ts';
import type { Matrix } from './preprocess.ts';
import { createRng } from './random.ts';
import type { Rng } from './random.ts';

export interface FitOptions {
  /** hidden units; 0 fits a linear model (multinomial logistic / linear regression) */
  hidden: number;
  activation: Activation;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty on weights (not biases) */
  l2: number;
  seed: number;
}

export type FitTarget =
  | { kind: 'classes'; labels: Int32Array; classes: number }
  | { kind: 'values'; values: Float64Array };

export interface FitHooks {
  /** called after each epoch with the mean training loss of that epoch */
  onEpoch?: (epoch: number, loss: number) => void;
  /** checked between batches; training stops with a 'cancelled' error when set */
  signal?: { readonly aborted: boolean };
}

const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

function checkOptions(o: FitOptions): void {
  const bad = (field: string, why: string): never => { throw new OutpostError('usage', `training option ${field}: ${why}`, { field }); };
  if (!Number.isInteger(o.hidden) || o.hidden < 0) bad('hidden', 'must be an integer ≥ 0');
  if (!Number.isInteger(o.epochs) || o.epochs < 1) bad('epochs', 'must be an integer ≥ 1');
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) bad('batchSize', 'must be an integer ≥ 1');
  if (!(o.learningRate > 0)) bad('learningRate', 'must be > 0');
  if (!(o.l2 >= 0)) bad('l2', 'must be ≥ 0');
  if (!Number.isInteger(o.seed)) bad('seed', 'must be an integer');
}

/** Glorot-uniform weights, zero biases. */
function initLayer(inputs: number, outputs: number, rng: Rng): Dense {
  const limit = Math.sqrt(6 / (inputs + outputs));
  const weights = new Float64Array(inputs * outputs);
  for (let i = 0; i < weights.length; i++) weights[i] = rng.uniform(-limit, limit);
  return { inputs, outputs, weights, bias: new Float64Array(outputs) };
}

export function initNetwork(inputs: number, outputs: number, opts: Pick<FitOptions, 'hidden' | 'activation'>, head: Network['head'], rng: Rng): Network {
  const layers = opts.hidden > 0 ? [initLayer(inputs, opts.hidden, rng), initLayer(opts.hidden, outputs, rng)] : [initLayer(inputs, outputs, rng)];
  return { layers, activation: opts.activation, head };
}

function gatherRows(x: Matrix, idx: Uint32Array, from: number, to: number): Matrix {
  const rows = to - from;
  const data = new Float64Array(rows * x.cols);
  for (let r = 0; r < rows; r++) data.set(x.data.subarray(idx[from + r] * x.cols, (idx[from + r] + 1) * x.cols), r * x.cols);
  return { rows, cols: x.cols, data };
}

export class Adam {
  readonly m: Float64Array;
  readonly v: Float64Array;
  readonly param: Float64Array;
  constructor(param: Float64Array) {
    this.param = param;
    this.m = new Float64Array(param.length);
    this.v = new Float64Array(param.length);
  }
  step(grad: Float64Array, lr: number, t: number): void {
    const c1 = 1 - ADAM.beta1 ** t;
    const c2 = 1 - ADAM.beta2 ** t;
    for (let i = 0; i < grad.length; i++) {
      this.m[i] = ADAM.beta1 * this.m[i] + (1 - ADAM.beta1) * grad[i];
      this.v[i] = ADAM.beta2 * this.v[i] + (1 - ADAM.beta2) * grad[i] * grad[i];
      this.param[i] -= (lr * (this.m[i] / c1)) / (Math.sqrt(this.v[i] / c2) + ADAM.eps);
    }
  }
}

export interface Gradients { loss: number; layers: { weights: Float64Array; bias: Float64Array }[] }

/**
 * Mean loss over a batch and its gradient for every parameter (no L2 term), by backprop.
 * Softmax + cross-entropy → output delta (p − onehot) / B; identity + ½·squared error → (ŷ − y) / B.
 * `rows[r]` is the target index of batch row r.
 */
export function lossAndGradients(net: Network, xb: Matrix, target: FitTarget, rows: ArrayLike<number>): Gradients {
  const B = xb.rows;
  const outs = forwardAll(net, xb);
  const out = outs[outs.length - 1];
  let delta = new Float64Array(out.data.length);
  let loss = 0;
  for (let r = 0; r < B; r++) {
    for (let c = 0; c < out.cols; c++) {
      const y = target.kind === 'classes' ? (target.labels[rows[r]] === c ? 1 : 0) : target.values[rows[r]];
      const p = out.data[r * out.cols + c];
      delta[r * out.cols + c] = (p - y) / B;
      if (target.kind === 'values') loss += 0.5 * (p - y) * (p - y);
      else if (y === 1) loss -= Math.log(Math.max(p, 1e-15));
    }
  }
  const layers: Gradients['layers'] = new Array(net.layers.length);
  for (let l = net.layers.length - 1; l >= 0; l--) {
    const layer = net.layers[l];
    const input = l === 0 ? xb : outs[l - 1];
    const gw = new Float64Array(layer.weights.length);
    const gb = new Float64Array(layer.outputs);
    for (let r = 0; r < B; r++) {
      for (let o = 0; o < layer.outputs; o++) {
        const d = delta[r * layer.outputs + o];
        gb[o] += d;
        for (let k = 0; k < layer.inputs; k++) gw[k * layer.outputs + o] += input.data[r * layer.inputs + k] * d;
      }
    }
    layers[l] = { weights: gw, bias: gb };
    if (l > 0) {
      // Through this layer's weights, then the slope of the activation that produced its input.
      const below = new Float64Array(input.data.length);
      for (let r = 0; r < B; r++) {
        for (let k = 0; k < layer.inputs; k++) {
          let s = 0;
          for (let o = 0; o < layer.outputs; o++) s += delta[r * layer.outputs + o] * layer.weights[k * layer.outputs + o];
          below[r * layer.inputs + k] = s * activationSlope(net.activation, input.data[r * layer.inputs + k]);
        }
      }
      delta = below;
    }
  }
  return { loss: loss / B, layers };
}

/** Fit a network to x. Parameters come back rounded to float32 (what the exported graph holds). */
/** A regression target standardised to mean 0, std 1 (a constant target keeps std 1), with the scale to fold back; classes pass through. */
export function standardiseTarget(target: FitTarget): { scale: { mean: number; std: number }; fitTarget: FitTarget } {
  if (target.kind !== 'values') return { scale: { mean: 0, std: 1 }, fitTarget: target };
  const n = target.values.length;
  let s = 0;
  for (const v of target.values) s += v;
  const mean = s / n;
  let ss = 0;
  for (const v of target.values) ss += (v - mean) * (v - mean);
  const std = Math.sqrt(ss / n) > 1e-12 ? Math.sqrt(ss / n) : 1;
  return { scale: { mean, std }, fitTarget: { kind: 'values', values: target.values.map((v) => (v - mean) / std) } };
}

export function fitNetwork(x: Matrix, target: FitTarget, opts: FitOptions, hooks: FitHooks = {}): Network {
  checkOptions(opts);
  const n = x.rows;
  if (n === 0) throw new OutpostError('input', 'no training rows');
  const given = target.kind === 'classes' ? target.labels.length : target.values.length;
  if (given !== n) throw new OutpostError('input', `${given} targets for ${n} rows`);
  if (target.kind === 'classes') {
    if (target.classes < 2) throw new OutpostError('input', 'a classifier needs at least 2 classes');
    for (let i = 0; i < n; i++) if (!(target.labels[i] >= 0 && target.labels[i] < target.classes)) throw new OutpostError('input', `label index ${target.labels[i]} out of range`, { row: i + 1 });
  }

  // Regression fits a standardised target (better conditioned) and folds the scale back in at the end.
  const { scale, fitTarget } = standardiseTarget(target);

  const rng = createRng(opts.seed);
  const outputs = target.kind === 'classes' ? target.classes : 1;
  const net = initNetwork(x.cols, outputs, opts, target.kind === 'classes' ? 'softmax' : 'identity', rng);
  const optimisers = net.layers.map((l) => ({ w: new Adam(l.weights), b: new Adam(l.bias) }));
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  let t = 0;

  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    rng.shuffle(order);
    let epochLoss = 0;
    for (let from = 0; from < n; from += opts.batchSize) {
      if (hooks.signal?.aborted) throw new OutpostError('cancelled', 'training cancelled');
      const to = Math.min(n, from + opts.batchSize);
      const xb = gatherRows(x, order, from, to);
      const g = lossAndGradients(net, xb, fitTarget, order.subarray(from, to));
      epochLoss += g.loss * (to - from);
      t++;
      net.layers.forEach((layer, l) => {
        const gw = g.layers[l].weights;
        for (let i = 0; i < gw.length; i++) gw[i] += opts.l2 * layer.weights[i];
        optimisers[l].w.step(gw, opts.learningRate, t);
        optimisers[l].b.step(g.layers[l].bias, opts.learningRate, t);
      });
    }
    hooks.onEpoch?.(epoch, epochLoss / n);
  }

  if (target.kind === 'values') {
    const last = net.layers[net.layers.length - 1];
    for (let i = 0; i < last.weights.length; i++) last.weights[i] *= scale.std;
    last.bias[0] = last.bias[0] * scale.std + scale.mean;
  }
  return roundToFloat32(net);
}
