// Entry of the Electron utility process: the core (store, scoring, inference workers) runs here,
// off the main process, so long work never stalls window management or IPC.
import { createService } from '../src/api/node/service.ts';
import { setSmokeRunner, type SmokeRun } from '../src/registry/node/smoke.ts';
import { resolveHome } from '../src/store/node/home.ts';
import { serveCore } from './core-channel.ts';
import { isSmokeDone, type SmokeCancel, type SmokeRequest } from './smoke-host.ts';

interface ParentPort { postMessage(m: unknown): void; on(event: 'message', l: (e: { data: unknown }) => void): void }
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('core-host runs only as an Electron utility process');

// The smoke inference of a pull runs in a utility process of its own, started by the main process:
// the packaged app's RunAsNode fuse is off, so this process cannot spawn its binary as Node.
const smokes = new Map<number, (run: SmokeRun) => void>();
let nextSmoke = 1;
setSmokeRunner((dir, { timeoutMs, signal }) => new Promise((resolve) => {
  const id = nextSmoke++;
  smokes.set(id, resolve);
  parentPort.postMessage({ smoke: { id, dir, timeoutMs } } satisfies SmokeRequest);
  signal?.addEventListener('abort', () => parentPort.postMessage({ smokeCancel: id } satisfies SmokeCancel), { once: true });
}));

const service = createService({ home: resolveHome(undefined) });
const listeners: ((m: unknown) => void)[] = [];
parentPort.on('message', (e) => {
  if (isSmokeDone(e.data)) {
    smokes.get(e.data.smokeDone.id)?.(e.data.smokeDone.run);
    smokes.delete(e.data.smokeDone.id);
    return;
  }
  for (const l of listeners) l(e.data);
});
serveCore({ post: (m) => parentPort.postMessage(m), onMessage: (l) => listeners.push(l) }, service);
process.on('SIGTERM', () => { void service.close().then(() => process.exit(0)); });
