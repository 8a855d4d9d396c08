// One inference worker started ahead of need. A command that will score (`outpost score`,
// `outpost predict`) starts it before loading its own code, so Node's start in the worker, the
// worker's modules and ONNX Runtime's native library load while the main thread loads the rest of
// the command; `InferenceEngine.open` then takes it instead of starting one. Measured on a
// 1,000-row `outpost score` (2 cores): the main thread otherwise sat idle ~150 ms waiting for the
// worker it started only once its own modules had loaded.
//
// A process that exits while a worker is inside one of ONNX Runtime's native calls aborts
// ("terminate called after throwing an instance of 'Napi::Error'"). The worker loads the native
// library and creates ONNX Runtime's environment (~50 ms of CPU, otherwise paid inside the first
// session's creation) before it posts `ready`, and the spare keeps the process alive until then: a
// command that fails at once (bad usage) waits for that, up to ~0.3 s, rather than abort.
import type { Worker } from 'node:worker_threads';
import type { FromWorker } from '../common/protocol.ts';
import { startWorker } from '../../runtime/node/worker.ts';

export const INFERENCE_WORKER_URL = new URL('./worker.ts', import.meta.url);

interface Spare { href: string; worker: Worker; failed: boolean; ready: boolean; onGone: () => void; onMessage: (m: FromWorker) => void }
let spare: Spare | undefined;

/** Start the spare now (no-op when one is waiting). Once its modules have loaded it does not keep the process alive. */
export function prestartInferenceWorker(url: URL = INFERENCE_WORKER_URL): void {
  if (spare) return;
  const worker = startWorker(url);
  const s: Spare = {
    href: url.href, worker, failed: false, ready: false,
    onGone: () => { s.failed = true; },
    onMessage: (m) => {
      if (m.kind !== 'ready') return;
      s.ready = true;
      worker.unref(); // only a spare nobody took hears this: takeSpareWorker removes the listener
    },
  };
  // a spare that fails to start is dropped quietly; the engine then starts its own and reports why
  // that one failed
  worker.on('error', s.onGone).on('exit', s.onGone).on('message', s.onMessage);
  spare = s;
}

/** Whether a spare that nobody took is still starting (it holds the process until `ready`: ending the process now could abort it). */
export const spareStarting = (): boolean => spare !== undefined && !spare.ready && !spare.failed;

/** The spare for `url`, if one was started and is alive (it is then the caller's, referenced again). */
export function takeSpareWorker(url: URL): Worker | undefined {
  const s = spare;
  if (!s || s.href !== url.href) return undefined;
  spare = undefined;
  s.worker.off('error', s.onGone).off('exit', s.onGone).off('message', s.onMessage);
  if (s.failed) {
    void s.worker.terminate();
    return undefined;
  }
  s.worker.ref();
  return s.worker;
}
