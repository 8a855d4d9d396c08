// Worker thread that runs one scoring job (or a retrain) on its own store connection, so
// the thread that serves the UI only ever answers requests. SQLite in WAL mode lets the serving
// thread read everything the job commits while it runs.
import { parentPort, workerData } from 'node:worker_threads';
import { OutpostError } from '../../common/errors.ts';
import { resumeJob, scoreFile, type ScoreRequest } from '../../scoring/node/score-file.ts';
import { openStore } from '../../store/node/store.ts';
import type { ApiErrorShape, Progress } from '../common/contract.ts';
import { toApiError } from '../common/dispatch.ts';
import { retrain } from '../../retrain/node/retrain.ts';

export type WorkerTask =
  | { kind: 'start'; home: string; request: ScoreRequest }
  | { kind: 'resume'; home: string; jobId: string }
  /** `outpost retrain` from the app: reading the labelled log and training are long synchronous work */
  | { kind: 'retrain'; home: string; model: string; holdout?: number };

export type FromWorker =
  | { type: 'started'; jobId: string }
  | { type: 'progress'; progress: Progress }
  | { type: 'done'; result?: unknown }
  | { type: 'failed'; error: ApiErrorShape };

const port = parentPort!;
const task = workerData as WorkerTask;
const controller = new AbortController();
port.on('message', (m: { kind: string }) => {
  if (m.kind === 'cancel') controller.abort(new OutpostError('cancelled', 'cancelled from the app'));
});

const post = (m: FromWorker) => port.postMessage(m);
const store = openStore(task.home);
try {
  if (task.kind === 'retrain') {
    const p = retrain(store, { model: task.model, trigger: 'manual', triggerDetail: 'started from the app', ...(task.holdout !== undefined ? { holdout: task.holdout } : {}) });
    post({ type: 'done', result: p.id });
  } else {
    const opts = {
      signal: controller.signal,
      onStart: (job: { id: string }) => post({ type: 'started', jobId: job.id }),
      onProgress: (progress: Progress) => post({ type: 'progress', progress }),
    };
    if (task.kind === 'start') await scoreFile(store, task.request, opts);
    else await resumeJob(store, task.jobId, opts);
    post({ type: 'done' });
  }
} catch (e) {
  post({ type: 'failed', error: toApiError(e) });
} finally {
  store.close();
  port.close();
}
