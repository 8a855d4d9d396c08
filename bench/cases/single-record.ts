// Interactive scoring latency: one record through the worker-thread engine, against a bare
// session.run on the same model in the same process (the floor).
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { InferenceEngine } from '../../src/inference/node/engine.ts';
import { REPO } from '../lib.ts';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function run(opts: { calls: number }) {
  const modelFile = path.join(REPO, 'models/demo/weather/model.onnx');
  const bytes = fs.readFileSync(modelFile);
  const row = () => ({
    precipitation: { type: 'float32' as const, data: Float32Array.of(1.5), dims: [1, 1] },
    temp_max: { type: 'float32' as const, data: Float32Array.of(12), dims: [1, 1] },
    temp_min: { type: 'float32' as const, data: Float32Array.of(4), dims: [1, 1] },
    wind: { type: 'float32' as const, data: Float32Array.of(3.1), dims: [1, 1] },
    season: { type: 'string' as const, data: ['winter'], dims: [1, 1] },
  });
  const lat = async (f: () => Promise<unknown>) => {
    for (let i = 0; i < 200; i++) await f(); // warm-up
    const t: number[] = [];
    for (let i = 0; i < opts.calls; i++) {
      const s = performance.now();
      await f();
      t.push((performance.now() - s) * 1000);
    }
    t.sort((a, b) => a - b);
    return { p50us: quantile(t, 0.5), p99us: quantile(t, 0.99), maxUs: t[t.length - 1] };
  };
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const bare = await lat(() => {
    const r = row();
    return session.run(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, new ort.Tensor(v.type, v.data as never, v.dims)])));
  });
  const engine = await InferenceEngine.open(bytes, { ep: 'cpu', intraOpThreads: 1 });
  try {
    const viaEngine = await lat(() => engine.runOne(row()));
    return {
      calls: opts.calls,
      model: 'demo seattle-weather MLP (5 inputs incl. one-hot category)',
      bareSessionRun: bare,
      engineRunOne: viaEngine,
      ratioP50: viaEngine.p50us / bare.p50us,
      targets: { p99UnderOneMs: { target: 1000, met: viaEngine.p99us <= 1000 } },
    };
  } finally {
    await engine.close();
  }
}
