// Train from a file, on a worker thread: reading and fitting are long synchronous work, so they run
// off the caller's thread (the CLI stays able to see Ctrl-C; a server stays responsive). Cancelling
// terminates the worker: nothing has been written by then — the package is written only after, by
// `writePackage`, into a temporary folder renamed into place.
import fs from 'node:fs';
import path from 'node:path';
import { startWorker } from '../../runtime/node/worker.ts';
import { OutpostError } from '../../common/errors.ts';
import type { InputFormat } from '../../io/common/table.ts';
import type { Card } from '../../package/common/card.ts';
import type { ProviderRequest } from '../../inference/common/providers.ts';
import type { PackageInfo, TrainEvent, TrainRecipe, TrainResult } from '../common/pipeline.ts';

export interface TrainFileRequest {
  file: string;
  format?: InputFormat;
  delimiter?: string;
  /**
   * The recipe; `features` may be empty to mean "every column but the target and the time column".
   * Columns listed in `categorical` (and schema-template categories) are read as text.
   */
  recipe: TrainRecipe;
  categorical?: string[];
  /** logreg / MLP: train with ONNX Runtime graph steps on this provider (auto = probe); absent = the TypeScript trainer */
  ep?: ProviderRequest;
  /** gbdt: threads building histograms (this one included); 'auto' (default) = the available cores, one for under 20,000 rows; 1 = no pool */
  threads?: number | 'auto';
  info: Omit<PackageInfo, 'dataSha256' | 'dataSource'>;
}

export type TrainFileEvent = TrainEvent | { event: 'read'; rows: number; fraction: number };

export interface TrainFileResult extends Omit<TrainResult, 'model'> {
  file: string;
  sha256: string;
  rowsRead: number;
}

export type WorkerMessage =
  | { type: 'event'; event: TrainFileEvent }
  | { type: 'done'; result: TrainFileResult }
  | { type: 'error'; error: { code?: string; message: string; location?: Record<string, unknown>; details?: Record<string, unknown>; stack?: string } };

const WORKER_URL = new URL('./train-worker.ts', import.meta.url);

export function trainFile(req: TrainFileRequest, o: { onEvent?: (e: TrainFileEvent) => void; signal?: AbortSignal } = {}): Promise<TrainFileResult> {
  if (o.signal?.aborted) return Promise.reject(new OutpostError('cancelled', 'training cancelled'));
  return new Promise((resolve, reject) => {
    const worker = startWorker(WORKER_URL, { workerData: req });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      finish(() => reject(o.signal?.reason instanceof OutpostError ? o.signal.reason : new OutpostError('cancelled', 'training cancelled')));
      void worker.terminate();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'event') { if (!settled) o.onEvent?.(m.event); } else if (m.type === 'done') finish(() => resolve({ ...m.result, modelBytes: new Uint8Array(m.result.modelBytes) }));
      else {
        const e = m.error;
        finish(() => reject(e.code ? new OutpostError(e.code as OutpostError['code'], e.message, e.location ?? {}, e.details ?? {}) : Object.assign(new Error(e.message), { stack: e.stack })));
      }
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new OutpostError('input', `the training worker stopped unexpectedly (exit code ${code})`))));
  });
}

/**
 * Write model.onnx + card.json into `dir`, all or nothing: files go to a temporary sibling folder
 * that is renamed to `dir` at the end. An existing `dir` is refused unless `replace`.
 */
export function writePackage(dir: string, modelBytes: Uint8Array, card: Card, opts: { replace?: boolean } = {}): void {
  const abs = path.resolve(dir);
  if (fs.existsSync(abs) && !opts.replace) throw new OutpostError('conflict', `${abs} already exists (choose another --out, or pass --force to replace it)`, { file: abs });
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = `${abs}.partial-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp);
  try {
    const files: [string, Uint8Array][] = [['model.onnx', modelBytes], ['card.json', new TextEncoder().encode(JSON.stringify(card, null, 2) + '\n')]];
    for (const [name, data] of files) {
      const fd = fs.openSync(path.join(tmp, name), 'w');
      try { fs.writeSync(fd, data); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    }
    if (fs.existsSync(abs)) fs.rmSync(abs, { recursive: true });
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
