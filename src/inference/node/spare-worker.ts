// One inference worker started ahead of need. A command that will score (`outpost score`,
// `outpost predict`) starts it before loading its own code, so Node's start in the worker, the
// worker's modules and ONNX Runtime's native library load while the main thread loads the rest of
// the command; `InferenceEngine.open` then takes it instead of starting one. Measured on a
// 1,000-row `outpost score` (2 cores): the main thread otherwise sat idle ~150 ms waiting for the
// worker it started only once its own modules had loaded. (ONNX Runtime's environment is not
// initialised ahead: a process that exits while a worker is inside that native call aborts.)
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/node/worker.ts';

export const INFERENCE_WORKER_URL = new URL('./worker.ts', import.meta.url);

interface Spare { href: string; worker: Worker; failed: boolean; onGone: () => void }
let spare: Spare | undefined;

/** Start the spare now (no-op when one is waiting). It does not keep the process alive. */
export function prestartInferenceWorker(url: URL = INFERENCE_WORKER_URL): void {
  if (spare) return;
  const worker = startWorker(url);
  const s: Spare = { href: url.href, worker, failed: false, onGone: () => { s.failed = true; } };
  // a spare that fails to start is dropped quietly; the engine then starts its own and reports why that one failed
  worker.on('error', s.onGone).on('exit', s.onGone);
  worker.unref();
  spare = s;
}

/** The spare for `url`, if one was started and is alive (it is then the caller's, referenced again). */
export function takeSpareWorker(url: URL): Worker | undefined {
  const s = spare;
  if (!s || s.href !== url.href) return undefined;
  spare = undefined;
  s.worker.off('error', s.onGone).off('exit', s.onGone);
  if (s.failed) {
    void s.worker.terminate();
    return undefined;
  }
  s.worker.ref();
  return s.worker;
}
