// The message protocol between Electron's main process and the core in its utility process: calls
// and replies matched by id, job events pushed. Both ends take a minimal port so they run over a
// utilityProcess (parentPort / child) in the app and over a MessageChannel in tests.
import type { ApiEvent } from '../src/api/common/contract.ts';
import { dispatch, toApiError, type CallOutcome } from '../src/api/common/dispatch.ts';
import type { Service } from '../src/api/node/service.ts';
import type { CoreBackend } from './ipc.ts';

export interface PortLike {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}

type ToCore = { id: number; kind: 'call'; method: string; params: unknown } | { id: number; kind: 'reveal'; jobId: string; which: 'output' | 'rejects' };
type FromCore = { id: number; outcome: CallOutcome } | { event: ApiEvent };

/** Core side (utility process): answer calls with the service, forward its events. */
export function serveCore(port: PortLike, service: Service): () => void {
  const off = service.subscribe((event) => port.post({ event } satisfies FromCore));
  port.onMessage(async (raw) => {
    const m = raw as ToCore;
    let outcome: CallOutcome;
    if (m.kind === 'call') outcome = await dispatch(service.handlers, m.method, m.params);
    else {
      try {
        outcome = { ok: true, result: { path: service.fileOf(m.jobId, m.which) } };
      } catch (e) {
        outcome = { ok: false, error: toApiError(e) };
      }
    }
    port.post({ id: m.id, outcome } satisfies FromCore);
  });
  return off;
}

/** Main side: a CoreBackend (for registerIpc) plus the event stream. */
export function coreClient(port: PortLike): CoreBackend & { onEvent(listener: (e: ApiEvent) => void): () => void; failAll(message: string): void } {
  let next = 1;
  const pending = new Map<number, (o: CallOutcome) => void>();
  const listeners = new Set<(e: ApiEvent) => void>();
  port.onMessage((raw) => {
    const m = raw as FromCore;
    if ('event' in m) for (const l of listeners) l(m.event);
    else {
      pending.get(m.id)?.(m.outcome);
      pending.delete(m.id);
    }
  });
  const send = (msg: Omit<ToCore, 'id'>): Promise<CallOutcome> => new Promise((resolve) => {
    const id = next++;
    pending.set(id, resolve);
    port.post({ ...msg, id });
  });
  return {
    call: (method, params) => send({ kind: 'call', method, params } as Omit<ToCore, 'id'>),
    reveal: (jobId, which) => send({ kind: 'reveal', jobId, which } as Omit<ToCore, 'id'>),
    onEvent(l) { listeners.add(l); return () => listeners.delete(l); },
    /** the utility process died: answer everything still waiting instead of hanging the UI */
    failAll(message) {
      for (const [id, resolve] of pending) { resolve({ ok: false, error: { code: 'internal', message } }); pending.delete(id); }
    },
  };
}
