// The real inference worker plus one fault: a run whose first value of f0 is 999 throws outside
// any handler, which kills the thread the way a native crash or a bug would.
import { parentPort } from 'node:worker_threads';
import '../../src/inference/node/worker.ts';
import type { ToWorker } from '../../src/inference/common/protocol.ts';

parentPort?.on('message', (m: ToWorker) => {
  if (m.kind === 'run' && m.feeds.f0?.data[0] === 999) throw new Error('simulated worker crash');
});
