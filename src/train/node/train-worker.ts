// The training worker: read the file (scoring readers), run the pure pipeline, post events and the
// result. Errors travel back as data and become OutpostErrors again on the caller's side.
import { parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { trainPackage } from '../common/pipeline.ts';
import { readTable } from './read-table.ts';
import type { TrainFileEvent, TrainFileRequest, WorkerMessage } from './train-file.ts';

const req = workerData as TrainFileRequest;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);
const emit = (event: TrainFileEvent) => post({ type: 'event', event });

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
  const result = trainPackage(read.table, { ...r, features }, { ...req.info, dataSha256: read.sha256, dataSource: path.basename(read.file) }, {
    onEvent: emit,
    now: () => performance.now() / 1000,
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
}
