// One histogram thread of the gbdt pool (gbdt-pool.ts): woken with a build's generation, it claims
// features of that build until none is left, summing each into the shared histogram. A build that
// has moved on (or was finished by the other threads) leaves it nothing to claim.
import { parentPort, workerData } from 'node:worker_threads';
import { gatherGradients } from '../common/gbdt.ts';
import { claimFeature, sumFeature, type PoolReply, type PoolWorkerData } from './gbdt-pool.ts';

const d = workerData as PoolWorkerData;
const nf = d.bins.length;

parentPort!.on('message', (gen: number) => {
  try {
    let gathered: { gn: Float64Array; hn: Float64Array } | undefined;
    let rows: [number, number] | undefined;
    for (let c = claimFeature(d.ctrl, gen, nf); c; c = claimFeature(d.ctrl, gen, nf)) {
      if (!gathered || rows![0] !== c.start || rows![1] !== c.end) { gathered = gatherGradients(d.idx, c.start, c.end, d.g, d.h); rows = [c.start, c.end]; }
      sumFeature(d, c.f, c.start, gathered.gn, gathered.hn, true);
    }
  } catch (e) {
    const reply: PoolReply = { type: 'error', message: (e as Error)?.message ?? String(e) };
    parentPort!.postMessage(reply);
  }
});
