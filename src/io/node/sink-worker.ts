// The worker side of worker-sink.ts: owns the real sink and runs its operations in order.
import { parentPort } from 'node:worker_threads';
import { OutpostError } from '../../common/errors.ts';
import type { TableSink } from '../common/table.ts';
import { openSink } from './open.ts';
import type { FromSinkWorker, ToSinkWorker } from './worker-sink.ts';

const port = parentPort!;
let sink: TableSink | undefined;
let chain: Promise<unknown> = Promise.resolve();

const failure = (e: unknown) => {
  const err = e instanceof OutpostError ? e : new OutpostError('store', (e as Error)?.message ?? String(e));
  return { code: err.code, message: err.message, location: { ...err.location } };
};

port.on('message', (m: ToSinkWorker) => {
  chain = chain.then(async () => {
    if (m.kind === 'open') {
      try {
        sink = await openSink(m.file, m.format, m.options);
        port.postMessage({ kind: 'opened', path: sink.path } satisfies FromSinkWorker);
      } catch (e) {
        port.postMessage({ kind: 'failed', id: 0, error: failure(e) } satisfies FromSinkWorker);
      }
      return;
    }
    try {
      if (m.kind === 'write') await sink!.write(m.batch);
      else if (m.kind === 'checkpoint') {
        port.postMessage({ kind: 'done', id: m.id, state: await sink!.checkpoint(m.options) } satisfies FromSinkWorker);
        return;
      } else if (m.kind === 'finish') await sink!.finish();
      else await sink!.close();
      port.postMessage({ kind: 'done', id: m.id } satisfies FromSinkWorker);
    } catch (e) {
      port.postMessage({ kind: 'failed', id: m.id, error: failure(e) } satisfies FromSinkWorker);
    }
  });
});
