// One histogram thread of the gbdt pool (gbdt-pool.ts): for each [start, end) it is sent, it zeroes
// its features' part of the shared histogram, adds the rows with `histogramInto` and answers 'done'.
import { parentPort, workerData } from 'node:worker_threads';
import { histogramInto } from '../common/gbdt.ts';
import type { PoolReply, PoolWorkerData } from './gbdt-pool.ts';

const d = workerData as PoolWorkerData;
const lo = d.offsets[d.from] * 3;
const hi = (d.to < d.offsets.length ? d.offsets[d.to] : d.totalBins) * 3;
const mine = d.out.subarray(lo, hi);

parentPort!.on('message', ([start, end]: [number, number]) => {
  let reply: PoolReply;
  try {
    mine.fill(0);
    histogramInto(d.out, d.bins, d.offsets, d.idx, start, end, d.g, d.h, d.from, d.to);
    reply = { type: 'done' };
  } catch (e) {
    reply = { type: 'error', message: (e as Error)?.message ?? String(e) };
  }
  parentPort!.postMessage(reply);
});
