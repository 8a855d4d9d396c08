// Small real ONNX models for the inference tests, built with the project's encoder.
import { encodeModel } from '../../src/onnx/common/onnx.ts';
import type { FeedTensor, Feeds } from '../../src/inference/common/feeds.ts';

/** Deterministic values in [-1, 1]. */
export const wave = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.sin((i + 1) * seed) * Math.cos(i * 0.31 + seed));

export const featureNames = (k: number): string[] => Array.from({ length: k }, (_, i) => `f${i}`);

/** k float features, each [N,1] → Concat → MLP → probabilities [N,3] (float) and label [N] (int64). */
export function mlpModel(k = 4, hidden = 16, classes = 3): Uint8Array {
  const names = featureNames(k);
  return encodeModel({
    name: 'mlp',
    inputs: names.map((name) => ({ name, type: 'float', shape: ['N', 1] })),
    outputs: [
      { name: 'probabilities', type: 'float', shape: ['N', classes] },
      { name: 'label', type: 'int64', shape: ['N'] },
    ],
    initializers: [
      { name: 'W1', type: 'float', dims: [k, hidden], data: wave(k * hidden, 1.7) },
      { name: 'B1', type: 'float', dims: [hidden], data: wave(hidden, 0.3) },
      { name: 'W2', type: 'float', dims: [hidden, classes], data: wave(hidden * classes, 2.9) },
      { name: 'B2', type: 'float', dims: [classes], data: wave(classes, 4.1) },
    ],
    nodes: [
      { op: 'Concat', inputs: names, outputs: ['x'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['h1'] },
      { op: 'Add', inputs: ['h1', 'B1'], outputs: ['a1'] },
      { op: 'Relu', inputs: ['a1'], outputs: ['r1'] },
      { op: 'MatMul', inputs: ['r1', 'W2'], outputs: ['h2'] },
      { op: 'Add', inputs: ['h2', 'B2'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: -1 } },
      { op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
    ],
  });
}

export const colours = ['red', 'green', 'blue'];

/** a, b float [N,1] and colour string [N,1] (ai.onnx.ml OneHotEncoder) → probabilities, label. */
export function mixedModel(): Uint8Array {
  return encodeModel({
    name: 'mixed',
    inputs: [
      { name: 'a', type: 'float', shape: ['N', 1] },
      { name: 'b', type: 'float', shape: ['N', 1] },
      { name: 'colour', type: 'string', shape: ['N', 1] },
    ],
    outputs: [
      { name: 'probabilities', type: 'float', shape: ['N', 3] },
      { name: 'label', type: 'int64', shape: ['N'] },
    ],
    initializers: [
      { name: 'flat', type: 'int64', dims: [2], data: [-1, 3] },
      { name: 'W', type: 'float', dims: [5, 3], data: wave(15, 0.9) },
      { name: 'B', type: 'float', dims: [3], data: [0.1, -0.2, 0.05] },
    ],
    nodes: [
      { op: 'OneHotEncoder', domain: 'ai.onnx.ml', inputs: ['colour'], outputs: ['oh3'], attrs: { cats_strings: colours, zeros: 1 } },
      { op: 'Reshape', inputs: ['oh3', 'flat'], outputs: ['oh'] },
      { op: 'Cast', inputs: ['oh'], outputs: ['ohf'], attrs: { to: 1 } },
      { op: 'Concat', inputs: ['a', 'b', 'ohf'], outputs: ['x'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'B'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: -1 } },
      { op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
    ],
  });
}

/** One Identity per element type the engine carries: every value must come back unchanged. */
export function identityModel(): Uint8Array {
  const types = [['d', 'double'], ['i', 'int32'], ['n', 'int64'], ['t', 'bool'], ['s', 'string'], ['f', 'float']] as const;
  return encodeModel({
    name: 'identity',
    inputs: types.map(([name, type]) => ({ name, type, shape: ['N'] })),
    outputs: types.map(([name, type]) => ({ name: `${name}_out`, type, shape: ['N'] })),
    initializers: [],
    nodes: types.map(([name]) => ({ op: 'Identity', inputs: [name], outputs: [`${name}_out`] })),
  });
}

/** Column feeds for mlpModel: row r, feature j gets a value that depends on `seed`. */
export function mlpFeeds(k: number, rows: number, seed: number): Feeds {
  const feeds: Feeds = {};
  featureNames(k).forEach((name, j) => {
    feeds[name] = { type: 'float32', data: Float32Array.from({ length: rows }, (_, r) => Math.sin(seed * 7.3 + r * 0.77 + j * 1.9) * 3), dims: [rows, 1] };
  });
  return feeds;
}

export function cloneFeeds(feeds: Feeds): Feeds {
  const out: Feeds = {};
  for (const [k, t] of Object.entries(feeds)) out[k] = { ...t, data: (Array.isArray(t.data) ? [...t.data] : t.data.slice()) as FeedTensor['data'], dims: [...t.dims] };
  return out;
}
