// One histogram thread of the gbdt pool (gbdt-pool.ts): woken with a build's generation, it claims
// features of that build until none is left, sums each (from the gradients the calling thread
// gathered into shared memory) into its own scratch histogram and marks it
// done (generation and helper number in one word). A build that has moved on leaves it nothing to claim.
import { parentPort, workerData } from 'node:worker_threads';
import { addFeatureHistogram } from '../common/gbdt.ts';
import { claimFeature, featureRange, type PoolReply, type PoolWorkerData } from './gbdt-pool.ts';

const d = workerData as PoolWorkerData;
const nf = d.bins.length;
const mine = d.scratch.subarray((d.helper - 1) * d.totalBins * 3, d.helper * d.totalBins * 3);

parentPort!.on('message', (gen: number) => {
  try {
    for (let c = claimFeature(d.ctrl, gen, nf); c; c = claimFeature(d.ctrl, gen, nf)) {
      const [lo, hi] = featureRange(d.offsets, d.totalBins, c.f);
      mine.fill(0, lo, hi);
      addFeatureHistogram(mine, d.bins, d.offsets, d.idx, c.start, c.end, d.gn, d.hn, c.f);
      Atomics.store(d.done, c.f, (gen << 8) | d.helper);
      Atomics.notify(d.done, c.f);
    }
  } catch (e) {
    const reply: PoolReply = { type: 'error', message: (e as Error)?.message ?? String(e) };
    parentPort!.postMessage(reply);
  }
});
