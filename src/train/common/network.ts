// A small feed-forward network: dense layers with one activation between them and a softmax (classifier)
// or identity (regression) head. One layer is logistic / linear regression; two layers are an MLP
// with one hidden layer. Weights are row-major [inputs × outputs], the layout of ONNX Gemm's B.
import type { Matrix } from './preprocess.ts';

export type Activation = 'tanh' | 'relu';
export type Head = 'softmax' | 'identity';

export interface Dense {
  inputs: number;
  outputs: number;
  /** row-major [inputs × outputs] */
  weights: Float64Array;
  bias: Float64Array;
}

export interface Network {
  layers: Dense[];
  /** applied after every layer but the last */
  activation: Activation;
  head: Head;
}

export function activate(a: Activation, z: number): number {
  return a === 'tanh' ? Math.tanh(z) : z > 0 ? z : 0;
}

/** d activation / dz, written in terms of the activation's output y (cheaper, and what backprop has). */
export function activationSlope(a: Activation, y: number): number {
  return a === 'tanh' ? 1 - y * y : y > 0 ? 1 : 0;
}

/** y = x · W + b for every row of x. */
export function dense(layer: Dense, x: Matrix): Matrix {
  if (x.cols !== layer.inputs) throw new RangeError(`layer expects ${layer.inputs} inputs, got ${x.cols}`);
  const { inputs, outputs, weights, bias } = layer;
  const out = new Float64Array(x.rows * outputs);
  for (let i = 0; i < x.rows; i++) {
    const row = i * outputs;
    for (let o = 0; o < outputs; o++) out[row + o] = bias[o];
    for (let k = 0; k < inputs; k++) {
      const xv = x.data[i * inputs + k];
      if (xv === 0) continue; // one-hot blocks are mostly zeros
      const w = k * outputs;
      for (let o = 0; o < outputs; o++) out[row + o] += xv * weights[w + o];
    }
  }
  return { rows: x.rows, cols: outputs, data: out };
}

/** Row-wise softmax in place (max-shifted for stability). */
export function softmaxRows(m: Matrix): Matrix {
  for (let i = 0; i < m.rows; i++) {
    const r = i * m.cols;
    let max = -Infinity;
    for (let c = 0; c < m.cols; c++) max = Math.max(max, m.data[r + c]);
    let sum = 0;
    for (let c = 0; c < m.cols; c++) {
      const e = Math.exp(m.data[r + c] - max);
      m.data[r + c] = e;
      sum += e;
    }
    for (let c = 0; c < m.cols; c++) m.data[r + c] /= sum;
  }
  return m;
}

/** The output of every layer (after its activation / head), first to last. Backprop needs them all. */
export function forwardAll(net: Network, x: Matrix): Matrix[] {
  const outs: Matrix[] = [];
  let h = x;
  net.layers.forEach((layer, l) => {
    h = dense(layer, h);
    if (l < net.layers.length - 1) for (let i = 0; i < h.data.length; i++) h.data[i] = activate(net.activation, h.data[i]);
    else if (net.head === 'softmax') softmaxRows(h);
    outs.push(h);
  });
  return outs;
}

/** Class probabilities [rows × classes] (softmax head) or values [rows × 1] (identity head). */
export function forward(net: Network, x: Matrix): Matrix {
  const outs = forwardAll(net, x);
  return outs[outs.length - 1];
}

/** Index of the largest value in each row (first one on ties, like ONNX ArgMax). */
export function argmaxRows(m: Matrix): Int32Array {
  const out = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let best = 0;
    for (let c = 1; c < m.cols; c++) if (m.data[i * m.cols + c] > m.data[i * m.cols + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Round every parameter to float32, so the network computed here is the one the ONNX file holds. */
export function roundToFloat32(net: Network): Network {
  return {
    ...net,
    layers: net.layers.map((l) => ({ ...l, weights: l.weights.map(Math.fround), bias: l.bias.map(Math.fround) })),
  };
}
