// The training worker: read the file (scoring readers), run the pure pipeline, post events and the
// result. Errors travel back as data and become OutpostErrors again on the caller's side.
import { parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { trainPackageAsync, type TrainHooks } from '../common/pipeline.ts';
import { createHistogramPool } from './gbdt-pool.ts';
import { fitNetworkOnGraph } from './graph-train.ts';
import { readTable } from './read-table.ts';
import type { TrainFileEvent, TrainFileRequest, WorkerMessage } from './train-file.ts';

const req = workerData as TrainFileRequest;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);
const emit = (event: TrainFileEvent) => post({ type: 'event', event });
const threads = req.threads ?? 'auto';
// gbdt histograms on worker threads (none with threads = 1); its threads are terminated below on
// every path, and with this worker when a cancel terminates it.
const pool = threads === 1 ? undefined : createHistogramPool({
  threads,
  onOpen: (n, features) => emit({ event: 'stage', stage: 'fit', message: `gbdt histograms on ${n} thread${n === 1 ? '' : 's'} (${features} features)` }),
});

try {
  const r = req.recipe;
  const asText = [...(req.categorical ?? []), ...(r.schema ?? []).filter((f) => f.type === 'category').map((f) => f.name)];
  let lastProgress = 0;
  const read = await readTable(req.file, {
    ...(req.format ? { format: req.format } : {}),
    ...(req.delimiter !== undefined ? { delimiter: req.delimiter } : {}),
    asText,
    onProgress: (rows, fraction) => {
      const t = performance.now();
      if (t - lastProgress > 200) { lastProgress = t; emit({ event: 'read', rows, fraction }); }
    },
  });
  for (const c of asText) if (!read.fileColumns.includes(c)) throw new OutpostError('input', `no column "${c}" (named by --categorical or the schema template)`, { file: read.file, field: c });
  const timeCol = r.split.kind === 'time' ? r.split.column : undefined;
  const features = r.features.length ? r.features : read.fileColumns.filter((c) => c !== r.target && c !== timeCol);
  const result = await trainPackageAsync(read.table, { ...r, features }, { ...req.info, dataSha256: read.sha256, dataSource: path.basename(read.file) }, {
    onEvent: emit,
    now: () => performance.now() / 1000,
    ...(pool ? { histogramPool: pool } : {}),
    ...(req.ep ? {
      networkFitter: async (x, target, options, hooks) => {
        const r = await fitNetworkOnGraph(x, target, options, { ep: req.ep!, hooks });
        const others = r.provider.candidates.filter((c) => c.name !== r.provider.chosen).map((c) => `${c.name}: ${c.reason}`);
        emit({ event: 'stage', stage: 'fit', message: `graph training on ${r.provider.chosen}${others.length ? ` (${others.join('; ')})` : ''}: ${r.steps} steps; weights ${r.stateLocation.reason}` });
        return { network: r.network, provider: r.provider.chosen };
      },
    } satisfies Partial<TrainHooks> : {}),
  });
  const bytes = result.modelBytes.slice();
  const { model: _model, ...plain } = result;
  post({ type: 'done', result: { ...plain, modelBytes: bytes, file: read.file, sha256: read.sha256, rowsRead: read.table.rows } }, [bytes.buffer]);
} catch (e) {
  if (e instanceof OutpostError) {
    // A file-level error from the pipeline names the training file.
    const location: Record<string, unknown> = e.location.file === undefined && (e.location.row !== undefined || e.code === 'input') ? { file: path.resolve(req.file), ...e.location } : { ...e.location };
    post({ type: 'error', error: { code: e.code, message: e.message, location, details: e.details } });
  } else post({ type: 'error', error: { message: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack } });
} finally {
  await pool?.close();
}
