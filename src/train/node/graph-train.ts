// Training with ONNX Runtime: each mini-batch step (forward, backward, Adam) is the ONNX graph from
// graph-step.ts, run on the execution provider the inference probe chooses (CUDA, WebGPU, DirectML,
// CoreML when one works; CPU otherwise, with the reason). One code path for every provider. The
// batches, their order, the initial weights and every hyper-parameter are fitNetwork's (same seeded
// generator, same draws), so on the same data and seed the result matches the TypeScript trainer up
// to float32 arithmetic (the TypeScript trainer computes in float64).
// The updated parameters and Adam moments a step outputs are fed straight back as the next step's
// inputs — the tensors themselves, never copied into JavaScript arrays between steps. On a GPU
// provider the session asks for them as device-located outputs (`preferredOutputLocation`
// 'gpu-buffer', IO binding), so they stay in device memory from step to step and are downloaded once
// at the end; only the batch goes in and the scalar loss comes out. On CPU the host memory is the
// device and the outputs are plain CPU tensors (the same loop, bit for bit the same result).
// first: a GPU runtime chosen for this process is what onnxruntime-node loads (../../inference/node/ort-binding.ts)
import '../../inference/node/ort-binding.ts';
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

export interface GraphFitResult {
  network: Network;
  provider: ProviderDecision;
  steps: number;
  /** where the parameters and moments lived between steps, and why */
  stateLocation: { location: StateLocation; bound: boolean; reason: string };
}

/** 'cpu': host memory; 'gpu-buffer': device memory of the provider (ONNX Runtime's IO binding). */
export type StateLocation = 'cpu' | 'gpu-buffer';

/**
 * Where a step's state outputs are asked to live on `provider`: device memory for the GPU providers
 * (CUDA, WebGPU), host memory otherwise. onnxruntime-node 1.30 binds 'gpu-buffer' outputs to WebGPU
 * buffers: where the provider hands back host tensors instead, or its first step fails with the
 * binding, training goes on with host memory and the result says so (`stateLocation.reason`).
 */
export function stateLocationFor(provider: string): StateLocation {
  return provider === 'cuda' || provider === 'webgpu' ? 'gpu-buffer' : 'cpu';
}

export interface GraphFitOptions {
  ep?: ProviderRequest;
  hooks?: FitHooks;
  /**
   * Tests: bind the state outputs (IO binding) at this location even on CPU — 'cpu' runs the
   * GPU providers' loop (binding, device reads, disposal) on the host. Default: `stateLocationFor`,
   * unbound on CPU.
   */
  bindState?: StateLocation;
}

export async function fitNetworkOnGraph(x: Matrix, target: FitTarget, opts: FitOptions, o: GraphFitOptions = {}): Promise<GraphFitResult> {
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
  const model = trainStepModel(shape);
  const stateOutputs = params.flatMap((p) => [`${p.name}/next`, `${p.name}/m/next`, `${p.name}/v/next`]);
  const open = (location: StateLocation | undefined) => ort.InferenceSession.create(model, {
    ...sessionOptions({ ep: decision.chosen, intraOpThreads: 1 }),
    // bound: the state outputs at `location`, the loss (read every step) on the host
    ...(location ? { preferredOutputLocation: Object.fromEntries([...stateOutputs.map((n) => [n, location]), ['loss', 'cpu']]) } : {}),
  });
  let location: StateLocation = o.bindState ?? stateLocationFor(decision.chosen);
  let bound = o.bindState !== undefined || location !== 'cpu';
  let reason = bound ? (location === 'cpu' ? 'bound to host memory (test)' : `kept in ${decision.chosen} device memory between steps`) : 'host memory is the device';
  let session = await open(bound ? location : undefined);
  /** the state tensors a run returned (the initial ones are ours): released once the next step has consumed them */
  const fromRun = new Set<ort.Tensor>();
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
        let out: ort.InferenceSession.ReturnType;
        try {
          out = await session.run(feeds);
        } catch (e) {
          // A provider that cannot hand out device-located outputs fails its first step: go on with
          // host-located ones (the state is still the initial host tensors), saying why.
          if (t !== 1 || !bound || location === 'cpu') throw e;
          await session.release();
          session = await open(undefined);
          location = 'cpu';
          bound = false;
          reason = `${decision.chosen} could not keep the state in device memory (${(e as Error).message.split('\n')[0]}); copied in and out each step`;
          out = await session.run(feeds);
        }
        if (t === 1 && location === 'gpu-buffer') {
          // say where the state really is: a provider without device buffers to hand out returns host tensors
          const actual = out[stateOutputs[0]].location;
          if (actual !== 'gpu-buffer') {
            location = 'cpu';
            reason = `${decision.chosen} returned the state in host memory (location '${actual}'; onnxruntime-node binds 'gpu-buffer' outputs to WebGPU buffers), so it is copied in and out each step`;
          }
        }
        for (const p of params) {
          for (const key of [p.name, `${p.name}/m`, `${p.name}/v`]) {
            const old = state.get(key)!;
            const next = out[`${key}/next`];
            state.set(key, next);
            if (fromRun.delete(old) && bound) old.dispose();
            fromRun.add(next);
          }
        }
        epochLoss += (out.loss.data as Float32Array)[0] * B;
      }
      o.hooks?.onEpoch?.(epoch, epochLoss / n);
    }
    // one download of the trained parameters (a copy out of device memory when bound there)
    for (const p of params) {
      const layer = net.layers[Number(p.name.slice(1))];
      const data = (await state.get(p.name)!.getData()) as Float32Array;
      (p.weight ? layer.weights : layer.bias).set(data);
    }
    if (target.kind === 'values') {
      const last = net.layers[net.layers.length - 1];
      for (let i = 0; i < last.weights.length; i++) last.weights[i] *= scale.std;
      last.bias[0] = last.bias[0] * scale.std + scale.mean;
    }
    return { network: roundToFloat32(net), provider: decision, steps: t, stateLocation: { location, bound, reason } };
  } finally {
    if (bound) for (const tensor of fromRun) tensor.dispose();
    await session.release();
  }
}
