// Entry of the Electron utility process: the core (store, scoring, inference workers) runs here,
// off the main process, so long work never stalls window management or IPC.
import { createService } from '../src/api/node/service.ts';
import { resolveHome } from '../src/store/node/home.ts';
import { serveCore } from './core-channel.ts';

interface ParentPort { postMessage(m: unknown): void; on(event: 'message', l: (e: { data: unknown }) => void): void }
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('core-host runs only as an Electron utility process');

const service = createService({ home: resolveHome(undefined) });
serveCore({ post: (m) => parentPort.postMessage(m), onMessage: (l) => parentPort.on('message', (e) => l(e.data)) }, service);
process.on('SIGTERM', () => { void service.close().then(() => process.exit(0)); });
