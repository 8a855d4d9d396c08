// A workstation syncing in its own process (for SIGKILL tests): prints "start", then one line per
// acknowledged batch, then "done". argv: <home> [max items per request].
import { openStore } from '../../src/store/node/store.ts';
import { runSync } from '../../src/sync/node/sync.ts';

const store = openStore(process.argv[2]);
process.stdout.write('start\n');
await runSync(store, { maxBatchItems: Number(process.argv[3] ?? 2), refreshMetadata: false, attempts: 50, onProgress: (p) => process.stdout.write(`sent ${p.sent}\n`) });
store.close();
process.stdout.write('done\n');
