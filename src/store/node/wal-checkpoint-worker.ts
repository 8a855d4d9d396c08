// The background WAL checkpointer (wal-checkpoints.ts): its own connection to the store's database
// file; each "checkpoint" message runs a PASSIVE checkpoint (never waits for the writer or readers),
// "close" closes the connection and ends the thread.
//
// It is started as a CommonJS script (`eval`), not a module file through startWorker: its few lines
// need neither the ES module loader nor type stripping, which were 16–29 ms of the 47–66 ms of CPU
// its start cost per large job (measured in one process: start, one checkpoint, close). better-sqlite3
// is required by the path the starting thread resolved (an eval'd script resolves from the cwd).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL'); // as the store's own connection (store.ts)
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  db.pragma('wal_checkpoint(PASSIVE)');
  parentPort.postMessage({ kind: 'done' });
});
`;

let sqlite: string | undefined;

/** Start a checkpointer on the database file `file` (named "wal-checkpoint", as startWorker would). */
export function startCheckpointWorker(file: string): Worker {
  sqlite ??= createRequire(import.meta.url).resolve('better-sqlite3');
  return new Worker(SOURCE, { eval: true, name: 'wal-checkpoint', workerData: { file, sqlite } });
}
