// ONNX export of a boosted tree ensemble as ai.onnx.ml TreeEnsembleRegressor (raw scores) followed
// by the link function in plain ONNX (Softmax over [0, s] for binary, Softmax for multiclass): the
// outputs are plain tensors (no ZipMap), like every Outpost model. The interface is the one every
// exported model has: one [N, 1] input per feature (float32, or string for a category).
// Categories: LabelEncoder (vocabulary → code, anything else → the "missing" code), then for the
// native category splits one Gather from a [codes × splits] 0/1 table whose column j says whether a
// code goes right at split j, so each such split is an ordinary BRANCH_LEQ 0.5 on its own column.
// Numeric splits are BRANCH_LEQ on the float32 bin edge; missing values follow the learned side
// (nodes_missing_value_tracks_true).
import type { Graph, Node, Tensor, ValueInfo } from '../../onnx/common/onnx.ts';
import { encodeModel } from '../../onnx/common/onnx.ts';
import { OUTPUT_NAMES } from './export.ts';
import type { GbdtModel } from './gbdt.ts';

const P = 'outpost/';

export function gbdtGraph(model: GbdtModel, graphName: string): Uint8Array {
  const { binner } = model;
  const nodes: Node[] = [];
  const initializers: Tensor[] = [];
  const inputs: ValueInfo[] = binner.features.map((f) => ({ name: f.spec.name, type: f.kind === 'category' ? 'string' : 'float', shape: ['N', 1] }));
  const columns: string[] = [];
  const column = new Int32Array(binner.features.length).fill(-1);
  // numeric features: the input itself
  binner.features.forEach((f, i) => { if (f.kind === 'numeric') { column[i] = columns.length; columns.push(f.spec.name); } });
  // categorical features: their code (cast to float), then one membership column per split on them
  const splitColumn = new Map<string, number>(); // `${tree}/${node}` → column
  const blocks: string[] = [];
  let width = columns.length;
  binner.features.forEach((f, i) => {
    if (f.kind !== 'category') return;
    const codes = `${P}cat/${i}/code`;
    nodes.push({ op: 'LabelEncoder', domain: 'ai.onnx.ml', inputs: [f.spec.name], outputs: [codes], attrs: { keys_strings: f.spec.vocabulary!, values_int64s: f.spec.vocabulary!.map((_, k) => k), default_int64: f.valueBins } });
    nodes.push({ op: 'Cast', inputs: [codes], outputs: [`${codes}/float`], attrs: { to: 1 } });
    blocks.push(`${codes}/float`);
    column[i] = width++;
    const splits: { key: string; catLeft: Uint8Array }[] = [];
    model.trees.forEach((t, ti) => t.nodes.forEach((nd, ni) => { if (!nd.leaf && nd.feature === i) splits.push({ key: `${ti}/${ni}`, catLeft: nd.catLeft! }); }));
    if (!splits.length) return;
    const rows = f.valueBins + 1;
    const table = new Float32Array(rows * splits.length);
    splits.forEach((s, j) => {
      splitColumn.set(s.key, width + j);
      for (let c = 0; c < rows; c++) table[c * splits.length + j] = s.catLeft[c] === 1 ? 0 : 1;
    });
    initializers.push({ name: `${P}cat/${i}/right`, type: 'float', dims: [rows, splits.length], data: table });
    initializers.push({ name: `${P}cat/${i}/shape`, type: 'int64', dims: [2], data: [-1, splits.length] });
    nodes.push({ op: 'Gather', inputs: [`${P}cat/${i}/right`, codes], outputs: [`${P}cat/${i}/gathered`], attrs: { axis: 0 } });
    nodes.push({ op: 'Reshape', inputs: [`${P}cat/${i}/gathered`, `${P}cat/${i}/shape`], outputs: [`${P}cat/${i}/splits`] });
    blocks.push(`${P}cat/${i}/splits`);
    width += splits.length;
  });
  const X = `${P}X`;
  nodes.push({ op: 'Concat', inputs: [...columns, ...blocks], outputs: [X], attrs: { axis: 1 } });

  const a = { treeids: [] as number[], nodeids: [] as number[], featureids: [] as number[], modes: [] as string[], values: [] as number[], trueids: [] as number[], falseids: [] as number[], missingTrue: [] as number[] };
  const t = { treeids: [] as number[], nodeids: [] as number[], ids: [] as number[], weights: [] as number[] };
  model.trees.forEach((tree, ti) => tree.nodes.forEach((nd, ni) => {
    a.treeids.push(ti);
    a.nodeids.push(ni);
    if (nd.leaf) {
      a.featureids.push(0); a.modes.push('LEAF'); a.values.push(0); a.trueids.push(0); a.falseids.push(0); a.missingTrue.push(0);
      t.treeids.push(ti); t.nodeids.push(ni); t.ids.push(tree.target); t.weights.push(nd.value);
      return;
    }
    const f = binner.features[nd.feature];
    a.modes.push('BRANCH_LEQ');
    a.trueids.push(nd.left);
    a.falseids.push(nd.right);
    if (nd.catLeft) {
      a.featureids.push(splitColumn.get(`${ti}/${ni}`)!);
      a.values.push(0.5);
      a.missingTrue.push(0);
    } else {
      a.featureids.push(column[nd.feature]);
      a.values.push(nd.bin < f.edges.length ? f.edges[nd.bin] : Infinity);
      a.missingTrue.push(nd.missingLeft ? 1 : 0);
    }
  }));
  const k = model.outputs;
  const raw = model.task === 'regression' ? OUTPUT_NAMES.value : `${P}raw`;
  nodes.push({
    op: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    inputs: [X],
    outputs: [raw],
    attrs: {
      n_targets: k,
      nodes_treeids: a.treeids, nodes_nodeids: a.nodeids, nodes_featureids: a.featureids, nodes_modes: a.modes,
      nodes_values: { floats: a.values }, nodes_truenodeids: a.trueids, nodes_falsenodeids: a.falseids,
      nodes_missing_value_tracks_true: a.missingTrue,
      target_treeids: t.treeids, target_nodeids: t.nodeids, target_ids: t.ids, target_weights: { floats: t.weights },
      base_values: { floats: Array.from(model.base) },
      aggregate_function: 'SUM', post_transform: 'NONE',
    },
  });
  const outputs: ValueInfo[] = [];
  if (model.task === 'regression') outputs.push({ name: OUTPUT_NAMES.value, type: 'float', shape: ['N', 1] });
  else {
    let logits = raw;
    if (model.task === 'binary') {
      initializers.push({ name: `${P}binary`, type: 'float', dims: [1, 2], data: [0, 1] });
      logits = `${P}logits`;
      nodes.push({ op: 'Mul', inputs: [raw, `${P}binary`], outputs: [logits] });
    }
    nodes.push({ op: 'Softmax', inputs: [logits], outputs: [OUTPUT_NAMES.probabilities], attrs: { axis: 1 } });
    nodes.push({ op: 'ArgMax', inputs: [OUTPUT_NAMES.probabilities], outputs: [OUTPUT_NAMES.label], attrs: { axis: 1, keepdims: 0 } });
    const classes = model.task === 'binary' ? 2 : k;
    outputs.push({ name: OUTPUT_NAMES.probabilities, type: 'float', shape: ['N', classes] }, { name: OUTPUT_NAMES.label, type: 'int64', shape: ['N'] });
  }
  const g: Graph = { name: graphName, nodes, inputs, outputs, initializers };
  return encodeModel(g, { producer: 'outpost-train' });
}
