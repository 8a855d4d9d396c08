// The one client interface the renderer talks to. Two implementations: HTTP (fetch + EventSource,
// in renderer/src/client/http.ts) and Electron IPC (window.outpost from the preload, wrapped in
// renderer/src/client/ipc.ts). Types only.
import type { ApiErrorShape, ApiEvent, MethodName, Params, Result, UploadResult } from './contract.ts';

export interface OutpostClient {
  /** which host runs the UI: decides "Download" vs "Show in folder" */
  readonly host: 'browser' | 'electron';
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  /** all job events; returns the unsubscribe function */
  subscribe(listener: (e: ApiEvent) => void): () => void;
  /**
   * Make a file the user picked or dropped available to the core as a path: uploaded into
   * <home>/uploads in serve mode, its own path in Electron.
   */
  provideFile(file: File, onProgress?: (fraction: number) => void): Promise<UploadResult>;
  /** download (browser) or show in the folder (Electron) a job's output or rejects file */
  openOutput(jobId: string, which: 'output' | 'rejects'): Promise<void>;
}

/** What the Electron preload exposes as window.outpost (only structured-clonable values cross). */
export interface PreloadBridge {
  call(method: string, params: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: ApiErrorShape }>;
  onEvent(listener: (e: ApiEvent) => void): () => void;
  pathForFile(file: File): string;
  reveal(jobId: string, which: 'output' | 'rejects'): Promise<{ ok: true; result: unknown } | { ok: false; error: ApiErrorShape }>;
}
