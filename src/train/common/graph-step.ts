// One training step of a Network (logistic/linear regression or a one-hidden-layer MLP) as an ONNX
// graph: forward, the hand-derived backward pass, L2 and the Adam update — the same math as fit.ts,
// in float32, so ONNX Runtime can run training on whichever execution provider is present.
//   inputs  X [B, D], Y [B, O] (one-hot classes, or standardised values), inv_b = 1/B, lr, l2,
//           c1 = 1 − β1^t, c2 = 1 − β2^t (scalars), and per parameter p: p, p/m, p/v
//   outputs per parameter: p/next, p/m/next, p/v/next; loss (mean over the batch)
// The host feeds the outputs of one step back as the inputs of the next.
import type { Graph, Node, Tensor, ValueInfo } from '../../onnx/common/onnx.ts';
import { encodeModel } from '../../onnx/common/onnx.ts';
import type { Activation, Head } from './network.ts';

export interface StepShape { inputs: number; hidden: number; outputs: number; activation: Activation; head: Head }

/** Parameter names in feed order: layer l weights and bias. */
export function paramNames(s: StepShape): { name: string; dims: number[]; weight: boolean }[] {
  const layers = s.hidden > 0 ? [[s.inputs, s.hidden], [s.hidden, s.outputs]] : [[s.inputs, s.outputs]];
  return layers.flatMap(([i, o], l) => [{ name: `w${l}`, dims: [i, o], weight: true }, { name: `b${l}`, dims: [o], weight: false }]);
}

export function trainStepModel(s: StepShape): Uint8Array {
  const nodes: Node[] = [];
  const scalar = (name: string, v: number): Tensor => ({ name, type: 'float', dims: [], data: [v] });
  const initializers: Tensor[] = [scalar('beta1', 0.9), scalar('one_minus_beta1', 1 - 0.9), scalar('beta2', 0.999), scalar('one_minus_beta2', 1 - 0.999), scalar('eps', 1e-8), scalar('one', 1), scalar('half', 0.5), scalar('tiny', 1e-15), { name: 'axis0', type: 'int64', dims: [1], data: [0] }];
  const f = (name: string, shape: (number | string)[]): ValueInfo => ({ name, type: 'float', shape });
  const params = paramNames(s);
  const inputs: ValueInfo[] = [f('X', ['B', s.inputs]), f('Y', ['B', s.outputs]), f('inv_b', []), f('lr', []), f('l2', []), f('c1', []), f('c2', [])];
  for (const p of params) inputs.push(f(p.name, p.dims), f(`${p.name}/m`, p.dims), f(`${p.name}/v`, p.dims));
  const op = (type: string, ins: string[], out: string, attrs?: Node['attrs']) => { nodes.push({ op: type, inputs: ins, outputs: [out], ...(attrs ? { attrs } : {}) }); return out; };

  // forward
  const hiddenOut = s.hidden > 0 ? op(s.activation === 'tanh' ? 'Tanh' : 'Relu', [op('Gemm', ['X', 'w0', 'b0'], 'z0')], 'a0') : undefined;
  const last = s.hidden > 0 ? 1 : 0;
  const z = op('Gemm', [hiddenOut ?? 'X', `w${last}`, `b${last}`], 'z_out');
  const out = s.head === 'softmax' ? op('Softmax', [z], 'p', { axis: 1 }) : z;
  // loss and output delta: (p − y) / B for softmax + cross-entropy and for ½·squared error
  const diff = op('Sub', [out, 'Y'], 'diff');
  const delta = op('Mul', [diff, 'inv_b'], 'delta');
  if (s.head === 'softmax') {
    const ll = op('Mul', ['Y', op('Log', [op('Max', [out, 'tiny'], 'p_clip')], 'logp')], 'ylogp');
    op('Neg', [op('Mul', [op('ReduceSum', [ll], 'sum_ylogp', { keepdims: 0 }), 'inv_b'], 'mean_ylogp')], 'loss');
  } else {
    op('Mul', [op('Mul', [op('ReduceSum', [op('Mul', [diff, diff], 'sq')], 'sum_sq', { keepdims: 0 }), 'inv_b'], 'mean_sq'), 'half'], 'loss');
  }
  // backward
  const grads: Record<string, string> = {};
  grads[`w${last}`] = op('Gemm', [hiddenOut ?? 'X', delta], `g_w${last}`, { transA: 1 });
  grads[`b${last}`] = op('ReduceSum', [delta, 'axis0'], `g_b${last}`, { keepdims: 0 });
  if (s.hidden > 0) {
    const back = op('Gemm', [delta, 'w1'], 'back1', { transB: 1 });
    const slope = s.activation === 'tanh' ? op('Sub', ['one', op('Mul', ['a0', 'a0'], 'a0_sq')], 'slope') : op('Sign', ['a0'], 'slope');
    const d0 = op('Mul', [back, slope], 'delta0');
    grads.w0 = op('Gemm', ['X', d0], 'g_w0', { transA: 1 });
    grads.b0 = op('ReduceSum', [d0, 'axis0'], 'g_b0', { keepdims: 0 });
  }
  // L2 on weights, then Adam
  const outputs: ValueInfo[] = [];
  for (const p of params) {
    const g = p.weight ? op('Add', [grads[p.name], op('Mul', ['l2', p.name], `${p.name}/l2`)], `${p.name}/g`) : grads[p.name];
    const m = op('Add', [op('Mul', ['beta1', `${p.name}/m`], `${p.name}/m_decay`), op('Mul', ['one_minus_beta1', g], `${p.name}/m_new`)], `${p.name}/m/next`);
    const g2 = op('Mul', [g, g], `${p.name}/g2`);
    const v = op('Add', [op('Mul', ['beta2', `${p.name}/v`], `${p.name}/v_decay`), op('Mul', ['one_minus_beta2', g2], `${p.name}/v_new`)], `${p.name}/v/next`);
    const mhat = op('Div', [m, 'c1'], `${p.name}/mhat`);
    const denom = op('Add', [op('Sqrt', [op('Div', [v, 'c2'], `${p.name}/vhat`)], `${p.name}/sqrt`), 'eps'], `${p.name}/denom`);
    op('Sub', [p.name, op('Div', [op('Mul', ['lr', mhat], `${p.name}/step`), denom], `${p.name}/update`)], `${p.name}/next`);
    outputs.push(f(`${p.name}/next`, p.dims), f(`${p.name}/m/next`, p.dims), f(`${p.name}/v/next`, p.dims));
  }
  outputs.push(f('loss', []));
  const g: Graph = { name: 'outpost-train-step', nodes, inputs, outputs, initializers };
  return encodeModel(g, { producer: 'outpost-train' });
}
