// onnxruntime-web in the renderer, for the what-if explorer. Loaded on demand (its own chunk), with
// its WebAssembly files taken from this build — never a CDN: `env.wasm.wasmPaths` points at the
// .wasm/.mjs assets Vite emitted next to the app, so the explorer works offline and under the CSP
// ('self' scripts, 'wasm-unsafe-eval'). The JSEP build runs both WebGPU and the WASM CPU kernels.
// Threads: ORT can spawn workers only where the page is cross-origin isolated (serve mode and the
// Electron app send COOP + COEP); it does so for large models only (see configure).
import * as ort from 'onnxruntime-web';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import mjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import type { Feed } from '../../../src/scoring/common/validate.ts';
import { canDoubleRows, doubleRows, firstRows, isSingleRow } from '../../../src/inference/common/single-row.ts';

export type Backend = 'webgpu' | 'wasm';

export interface Runtime {
  /** which execution provider the session was created on */
  backend: Backend;
  /** WebAssembly threads (1 when the page is not cross-origin isolated) */
  threads: number;
  /** why the backend was chosen (WebGPU absent, refused, …) */
  note: string;
  /**
   * One inference. A session runs one call at a time (onnxruntime-web refuses concurrent runs on a
   * session: "Session mismatch"), so calls queue; a call whose `wanted` says no by the time its turn
   * comes (a newer edit superseded it) is skipped and resolves to null.
   */
  run(feeds: Record<string, Feed>, wanted?: () => boolean): Promise<Record<string, Feed> | null>;
  release(): Promise<void>;
}

let configured = false;
/**
 * Threads: the page is cross-origin isolated, so WebAssembly threads are available, but they are used
 * only for models of 8 MiB or more. The explorer's usual models are small tabular graphs whose
 * operators are too small to split: measured in Chromium (bench/results/explore.json), two threads
 * made a 1,000-point sweep of the demo MLP 15× slower (20 ms vs 1.3 ms) and a single record 1.6×
 * slower than one thread. The first session of a window decides (ORT's setting is global);
 * `threads` overrides it (bench and tests).
 */
export const THREADS_FROM_BYTES = 8 * 1024 * 1024;
function configure(modelBytes: number, threads?: number): void {
  if (configured) return;
  configured = true;
  // Absolute URLs (ORT's requirement), resolved against the page: http://127.0.0.1:…/assets/… in
  // serve mode, app://outpost/assets/… in Electron.
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, document.baseURI).href, mjs: new URL(mjsUrl, document.baseURI).href };
  const cores = navigator.hardwareConcurrency || 1;
  ort.env.wasm.numThreads = threads ?? (globalThis.crossOriginIsolated && modelBytes >= THREADS_FROM_BYTES ? Math.max(1, Math.min(4, cores)) : 1);
  ort.env.logLevel = 'error';
}

async function webgpuAvailable(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'this browser has no WebGPU';
  try {
    return (await gpu.requestAdapter()) ? null : 'WebGPU has no adapter here';
  } catch (e) {
    return `WebGPU: ${(e as Error).message}`;
  }
}

const toTensor = (f: Feed): ort.Tensor => new ort.Tensor(f.type, f.data as never, f.dims);

const fromTensor = (t: ort.Tensor): Feed => ({ type: t.type as Feed['type'], data: t.data as Feed['data'], dims: [...t.dims] });

/** A session on `bytes`: WebGPU where the browser has it (per-node fallback to the CPU kernels), else WASM. */
export async function createRuntime(bytes: Uint8Array, prefer: 'auto' | 'wasm' = 'auto', threads?: number): Promise<Runtime> {
  configure(bytes.length, threads);
  const gpuMissing = prefer === 'wasm' ? 'WebAssembly chosen' : await webgpuAvailable();
  const threadCount = ort.env.wasm.numThreads ?? 1;
  const open = async (backend: Backend, note: string): Promise<Runtime> => {
    const session = await ort.InferenceSession.create(bytes, { executionProviders: backend === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'], graphOptimizationLevel: 'all' });
    // one record runs as two rows, as in the Node engine (single-row.ts), so it equals `outpost predict`
    const shapeOf = (m: ort.InferenceSession.ValueMetadata) => (m.isTensor ? m.shape : []);
    const doubles = canDoubleRows(session.inputMetadata.map(shapeOf));
    const fixedFirst = new Set(session.outputMetadata.filter((m) => typeof shapeOf(m)[0] === 'number').map((m) => m.name));
    let queue: Promise<unknown> = Promise.resolve();
    return {
      backend, threads: threadCount, note,
      run(feeds, wanted) {
        const turn = queue.then(async () => {
          if (wanted && !wanted()) return null;
          const doubled = doubles && isSingleRow(feeds);
          const out = await session.run(Object.fromEntries(Object.entries(doubled ? doubleRows(feeds) : feeds).map(([k, f]) => [k, toTensor(f)])));
          const got = Object.fromEntries(Object.entries(out).map(([k, t]) => [k, fromTensor(t)]));
          return doubled ? firstRows(got, (name) => fixedFirst.has(name)) : got;
        });
        queue = turn.catch(() => undefined);
        return turn;
      },
      release: () => { const last = queue; queue = last.then(() => session.release()); return queue as Promise<void>; },
    };
  };
  if (gpuMissing === null) {
    try {
      return await open('webgpu', 'WebGPU (operators it lacks run on the CPU kernels)');
    } catch (e) {
      return open('wasm', `WebGPU refused this model (${(e as Error).message.split('\n')[0]}); WebAssembly instead`);
    }
  }
  return open('wasm', gpuMissing);
}
