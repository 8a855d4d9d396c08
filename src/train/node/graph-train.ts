// Training with ONNX Runtime: each mini-batch step (forward, backward, Adam) is the ONNX graph from
// graph-step.ts, run on the execution provider the inference probe chooses (CUDA, WebGPU, DirectML,
// CoreML when one works; CPU otherwise, with the reason). One code path for every provider. The
// batches, their order, the initial weights and every hyper-parameter are fitNetwork's (same seeded
// generator, same draws), so on the same data and seed the result matches the TypeScript trainer up
// to float32 arithmetic (the TypeScript trainer computes in float64).
// The updated parameters and Adam moments a step outputs are fed straight back as the next step's
// inputs; on CPU they stay in host memory, which is the device.
import ort from 'onnxruntime-node';
import { OutpostError } from '../../common/errors.ts';
import type { ProviderDecision, ProviderRequest } from '../../inference/common/providers.ts';
import { chooseProvider } from '../../inference/node/providers.ts';
import { sessionOptions } from '../../inference/node/session.ts';
import type { FitHooks, FitOptions, FitTarget } from '../common/fit.ts';
import { initNetwork, standardiseTarget } from '../common/fit.ts';
import { paramNames, trainStepModel } from '../common/graph-step.ts';
import type { Network } from '../common/network.ts';
import { roundToFloat32 } from '../common/network.ts';
import type { Matrix } from '../common/preprocess.ts';
import { createRng } from '../common/random.ts';

export interface GraphFitResult { network: Network; provider: ProviderDecision; steps: number }

export async function fitNetworkOnGraph(x: Matrix, target: FitTarget, opts: FitOptions, o: { ep?: ProviderRequest; hooks?: FitHooks } = {}): Promise<GraphFitResult> {
  const n = x.rows;
  if (n === 0) throw new OutpostError('input', 'no training rows');
  const decision = await chooseProvider(o.ep ?? 'auto');
  const { scale, fitTarget } = standardiseTarget(target);
  const values = fitTarget.kind === 'values' ? fitTarget.values : undefined;
  const rng = createRng(opts.seed);
  const O = target.kind === 'classes' ? target.classes : 1;
  const head = target.kind === 'classes' ? 'softmax' : 'identity';
  const net = initNetwork(x.cols, O, opts, head, rng);
  const shape = { inputs: x.cols, hidden: opts.hidden, outputs: O, activation: opts.activation, head } as const;
  const params = paramNames(shape);
  const session = await ort.InferenceSession.create(trainStepModel(shape), sessionOptions({ ep: decision.chosen, intraOpThreads: 1 }));
  try {
    const state = new Map<string, ort.Tensor>();
    params.forEach((p) => {
      const layer = net.layers[Number(p.name.slice(1))];
      const data = Float32Array.from(p.weight ? layer.weights : layer.bias);
      state.set(p.name, new ort.Tensor('float32', data, p.dims));
      state.set(`${p.name}/m`, new ort.Tensor('float32', new Float32Array(data.length), p.dims));
      state.set(`${p.name}/v`, new ort.Tensor('float32', new Float32Array(data.length), p.dims));
    });
    const order = Uint32Array.from({ length: n }, (_, i) => i);
    const scalar = (v: number) => new ort.Tensor('float32', Float32Array.of(v), []);
    let t = 0;
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      rng.shuffle(order);
      let epochLoss = 0;
      for (let from = 0; from < n; from += opts.batchSize) {
        if (o.hooks?.signal?.aborted) throw new OutpostError('cancelled', 'training cancelled');
        const to = Math.min(n, from + opts.batchSize);
        const B = to - from;
        const xb = new Float32Array(B * x.cols);
        const yb = new Float32Array(B * O);
        for (let r = 0; r < B; r++) {
          const i = order[from + r];
          for (let k = 0; k < x.cols; k++) xb[r * x.cols + k] = x.data[i * x.cols + k];
          if (target.kind === 'classes') yb[r * O + target.labels[i]] = 1;
          else yb[r] = values![i];
        }
        t++;
        const feeds: Record<string, ort.Tensor> = {
          X: new ort.Tensor('float32', xb, [B, x.cols]), Y: new ort.Tensor('float32', yb, [B, O]),
          inv_b: scalar(1 / B), lr: scalar(opts.learningRate), l2: scalar(opts.l2), c1: scalar(1 - 0.9 ** t), c2: scalar(1 - 0.999 ** t),
        };
        for (const [k, v] of state) feeds[k] = v;
        const out = await session.run(feeds);
        for (const p of params) {
          state.set(p.name, out[`${p.name}/next`]);
          state.set(`${p.name}/m`, out[`${p.name}/m/next`]);
          state.set(`${p.name}/v`, out[`${p.name}/v/next`]);
        }
        epochLoss += (out.loss.data as Float32Array)[0] * B;
      }
      o.hooks?.onEpoch?.(epoch, epochLoss / n);
    }
    params.forEach((p) => {
      const layer = net.layers[Number(p.name.slice(1))];
      const data = state.get(p.name)!.data as Float32Array;
      (p.weight ? layer.weights : layer.bias).set(data);
    });
    if (target.kind === 'values') {
      const last = net.layers[net.layers.length - 1];
      for (let i = 0; i < last.weights.length; i++) last.weights[i] *= scale.std;
      last.bias[0] = last.bias[0] * scale.std + scale.mean;
    }
    return { network: roundToFloat32(net), provider: decision, steps: t };
  } finally {
    await session.release();
  }
}
