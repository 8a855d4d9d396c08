// ONNX export of a TrainedModel with its preprocessing inside the graph, so the appliance feeds raw
// feature columns and gets probabilities out. The interface the engine relies on:
//   inputs  one per feature, named like it, shape [N, 1]: float32 (float, int, bool 0/1) or string (category)
//   outputs classifier: probabilities float32 [N, C] and label int64 [N]; regression: value float32 [N, 1]
// Inside: nullable numerics NaN → training mean (IsNaN + Where); Concat numerics, (x − mean) / std;
// categories → OneHotEncoder (unseen → zeros) → Squeeze to [N, k]; Concat; Gemm layers; head.
import { OutpostError } from '../../common/errors.ts';
import type { Graph, Node, Tensor, ValueInfo } from '../../onnx/common/onnx.ts';
import { encodeModel } from '../../onnx/common/onnx.ts';
import type { TrainedModel } from './model.ts';

/** Graph output names (the card's output mapping refers to them). */
export const OUTPUT_NAMES = { probabilities: 'probabilities', label: 'label', value: 'value' } as const;

/** Prefix of every internal tensor name; features may not use it. */
const INTERNAL = 'outpost/';

const floats = (name: string, dims: number[], data: ArrayLike<number>): Tensor => ({ name, type: 'float', dims, data });

function checkNames(model: TrainedModel): void {
  const reserved = new Set<string>(model.task === 'regression' ? [OUTPUT_NAMES.value] : [OUTPUT_NAMES.probabilities, OUTPUT_NAMES.label]);
  for (const f of model.preprocessor.features) {
    if (reserved.has(f.name)) throw new OutpostError('input', `a feature may not be called "${f.name}": that is a graph output`, { field: f.name });
    if (f.name.startsWith(INTERNAL)) throw new OutpostError('input', `a feature name may not start with "${INTERNAL}"`, { field: f.name });
  }
}

export function modelGraph(model: TrainedModel, graphName = 'outpost'): Graph {
  checkNames(model);
  const { preprocessor: pre, network: net } = model;
  const nodes: Node[] = [];
  const initializers: Tensor[] = [];
  const inputs: ValueInfo[] = pre.features.map((f) => ({ name: f.name, type: f.type === 'category' ? 'string' : 'float', shape: ['N', 1] }));

  const blocks: string[] = [];
  if (pre.numeric.length > 0) {
    const columns = pre.numeric.map((s, i) => {
      if (!s.spec.nullable) return s.spec.name;
      const mean = `${INTERNAL}impute/${i}/mean`;
      const isNan = `${INTERNAL}impute/${i}/isnan`;
      const imputed = `${INTERNAL}impute/${i}/value`;
      initializers.push(floats(mean, [], [s.mean]));
      nodes.push({ op: 'IsNaN', inputs: [s.spec.name], outputs: [isNan] });
      nodes.push({ op: 'Where', inputs: [isNan, mean, s.spec.name], outputs: [imputed] });
      return imputed;
    });
    initializers.push(floats(`${INTERNAL}numeric/mean`, [pre.numeric.length], pre.numeric.map((s) => s.mean)));
    initializers.push(floats(`${INTERNAL}numeric/std`, [pre.numeric.length], pre.numeric.map((s) => s.std)));
    nodes.push({ op: 'Concat', inputs: columns, outputs: [`${INTERNAL}numeric/raw`], attrs: { axis: 1 } });
    nodes.push({ op: 'Sub', inputs: [`${INTERNAL}numeric/raw`, `${INTERNAL}numeric/mean`], outputs: [`${INTERNAL}numeric/centred`] });
    nodes.push({ op: 'Div', inputs: [`${INTERNAL}numeric/centred`, `${INTERNAL}numeric/std`], outputs: [`${INTERNAL}numeric/standardised`] });
    blocks.push(`${INTERNAL}numeric/standardised`);
  }
  if (pre.categories.length > 0) {
    initializers.push({ name: `${INTERNAL}axis1`, type: 'int64', dims: [1], data: [1] });
    pre.categories.forEach((s, i) => {
      const onehot = `${INTERNAL}onehot/${i}`;
      nodes.push({ op: 'OneHotEncoder', domain: 'ai.onnx.ml', inputs: [s.spec.name], outputs: [onehot], attrs: { cats_strings: s.vocabulary, zeros: 1 } });
      nodes.push({ op: 'Squeeze', inputs: [onehot, `${INTERNAL}axis1`], outputs: [`${onehot}/2d`] });
      blocks.push(`${onehot}/2d`);
    });
  }
  let h = `${INTERNAL}features`;
  nodes.push({ op: 'Concat', inputs: blocks, outputs: [h], attrs: { axis: 1 } });

  const last = net.layers.length - 1;
  net.layers.forEach((layer, l) => {
    const w = `${INTERNAL}layer${l}/weights`;
    const b = `${INTERNAL}layer${l}/bias`;
    initializers.push(floats(w, [layer.inputs, layer.outputs], layer.weights), floats(b, [layer.outputs], layer.bias));
    const z = l === last && net.head === 'identity' ? OUTPUT_NAMES.value : `${INTERNAL}layer${l}/z`;
    nodes.push({ op: 'Gemm', inputs: [h, w, b], outputs: [z] });
    h = z;
    if (l < last) {
      h = `${INTERNAL}layer${l}/${net.activation}`;
      nodes.push({ op: net.activation === 'tanh' ? 'Tanh' : 'Relu', inputs: [z], outputs: [h] });
    }
  });

  const outputs: ValueInfo[] = [];
  if (net.head === 'softmax') {
    const classes = net.layers[last].outputs;
    nodes.push({ op: 'Softmax', inputs: [h], outputs: [OUTPUT_NAMES.probabilities], attrs: { axis: 1 } });
    nodes.push({ op: 'ArgMax', inputs: [OUTPUT_NAMES.probabilities], outputs: [OUTPUT_NAMES.label], attrs: { axis: 1, keepdims: 0 } });
    outputs.push({ name: OUTPUT_NAMES.probabilities, type: 'float', shape: ['N', classes] }, { name: OUTPUT_NAMES.label, type: 'int64', shape: ['N'] });
  } else {
    outputs.push({ name: OUTPUT_NAMES.value, type: 'float', shape: ['N', 1] });
  }
  return { name: graphName, nodes, inputs, outputs, initializers };
}

/** ONNX ModelProto bytes for the model (opset 17 + ai.onnx.ml 3). Deterministic: same model → same bytes. */
export function exportOnnx(model: TrainedModel, graphName?: string): Uint8Array {
  return encodeModel(modelGraph(model, graphName), { producer: 'outpost-train' });
}
