// The background WAL checkpointer (wal-checkpoints.ts): its own connection to the store's database
// file; each "checkpoint" message runs a PASSIVE checkpoint (never waits for the writer or readers),
// "close" closes the connection and ends the thread.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const port = parentPort!;
const db = new Database((workerData as { file: string }).file, { fileMustExist: true });
db.pragma('synchronous = NORMAL'); // as the store's own connection (store.ts)

port.on('message', (m: 'checkpoint' | 'close') => {
  if (m === 'close') {
    db.close();
    port.close();
    return;
  }
  db.pragma('wal_checkpoint(PASSIVE)');
  port.postMessage({ kind: 'done' });
});
