// The log-query worker: one persistent thread with its own store connection that answers the
// prediction log's heavy reads (sorted pages, a job's output distribution) for the serving thread,
// one message at a time. Its LogReader keeps sorted views between requests, so paging is cheap.
// Protocol: log-queries.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../store/node/store.ts';
import { toApiError } from '../common/dispatch.ts';
import { LogReader } from './log-reader.ts';
import type { LogQuery, LogQueryReply } from './log-queries.ts';

const port = parentPort!;
const store = openStore((workerData as { home: string }).home);
const reader = new LogReader(store);

port.on('message', (m: { id: number; query: LogQuery }) => {
  let reply: LogQueryReply;
  try {
    const q = m.query;
    const result = q.op === 'sortedPage'
      ? reader.sortedPage(q.query, q.column, q.descending, q.offset, q.limit, q.total)
      : reader.distribution(q.jobId, q.bins);
    reply = { id: m.id, ok: true, result };
  } catch (e) {
    reply = { id: m.id, ok: false, error: toApiError(e) };
  }
  port.postMessage(reply);
});
