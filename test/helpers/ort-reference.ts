// The reference run of the engine tests: a plain ONNX Runtime session on the test's own thread.
// Its own file, apart from inference-models.ts: importing onnxruntime-node loads ONNX Runtime into
// the process, and gpu-runtime-child.ts (which builds its models there) must choose which ORT loads.
import ort from 'onnxruntime-node';
import type { Feeds } from '../../src/inference/common/feeds.ts';

/** The reference for engine tests: a plain ORT session on this thread (CPU, full optimisation, one thread), released after the run. */
export async function direct(model: Uint8Array, feeds: Feeds): Promise<Feeds> {
  const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, executionMode: 'sequential' });
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor(t.type, t.data as never, t.dims);
  const out = await s.run(ortFeeds);
  await s.release();
  const res: Feeds = {};
  for (const [k, t] of Object.entries(out)) res[k] = { type: t.type as never, data: t.data as never, dims: [...t.dims] };
  return res;
}
