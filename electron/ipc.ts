// The main-process end of the IPC bridge: every handler checks that the call comes from the app's
// own top-level frame and validates its arguments with the contract's schemas before anything is
// passed on to the core (which runs in a utility process). No electron import at run time, so the
// layer is tested with a fake ipcMain.
import { IPC, RevealParamsSchema, isMethodName, type ApiErrorShape } from '../src/api/common/contract.ts';
import { parseParams, toApiError, type CallOutcome } from '../src/api/common/dispatch.ts';
import { isTrustedSender, type FrameLike } from './policy.ts';

export interface InvokeEventLike { senderFrame: FrameLike | null }
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface CoreBackend {
  call(method: string, params: unknown): Promise<CallOutcome>;
  /** the job's output or rejects path (the main process shows it in the file manager) */
  reveal(jobId: string, which: 'output' | 'rejects'): Promise<CallOutcome>;
}

const refuse = (message: string): CallOutcome => ({ ok: false, error: { code: 'unauthorized', message } satisfies ApiErrorShape });

export function registerIpc(ipcMain: IpcMainLike, core: CoreBackend, opts: { trusted?: (f: FrameLike | null) => boolean; showItem?: (file: string) => void } = {}): () => void {
  const trusted = opts.trusted ?? isTrustedSender;

  ipcMain.handle(IPC.call, async (event, method, params) => {
    if (!trusted(event.senderFrame)) return refuse('IPC refused: the sender is not the Outpost app window');
    try {
      if (typeof method !== 'string' || !isMethodName(method)) return { ok: false, error: { code: 'usage', message: `unknown method ${JSON.stringify(method)}` } };
      const checked = parseParams(method, params); // validated here and again in the core: both ends of the boundary
      return await core.call(method, checked);
    } catch (e) {
      return { ok: false, error: toApiError(e) };
    }
  });

  ipcMain.handle(IPC.reveal, async (event, raw) => {
    if (!trusted(event.senderFrame)) return refuse('IPC refused: the sender is not the Outpost app window');
    const p = RevealParamsSchema.safeParse(raw);
    if (!p.success) return { ok: false, error: { code: 'usage', message: `reveal: ${p.error.issues[0].message}` } };
    const out = await core.reveal(p.data.jobId, p.data.which);
    if (out.ok) opts.showItem?.((out.result as { path: string }).path);
    return out;
  });

  return () => { ipcMain.removeHandler(IPC.call); ipcMain.removeHandler(IPC.reveal); };
}
