// Runs the UI contract over each transport for tests: HTTP (real server on 127.0.0.1, token auth,
// SSE) and the Electron IPC bridge (registerIpc with a fake ipcMain, the core behind a
// MessageChannel exactly as behind a utility process). Plus input files for scoring tests.
import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { ApiEvent } from '../../src/api/common/contract.ts';
import { IPC } from '../../src/api/common/contract.ts';
import type { CallOutcome } from '../../src/api/common/dispatch.ts';
import { startHttp, type HttpServer } from '../../src/api/node/http.ts';
import { createService, type Service } from '../../src/api/node/service.ts';
import { coreClient, serveCore } from '../../electron/core-channel.ts';
import { registerIpc, type IpcMainLike, type InvokeEventLike } from '../../electron/ipc.ts';
import type { FrameLike } from '../../electron/policy.ts';

export const DEMO_DIR = path.resolve(import.meta.dirname, '../../models/demo');
export const DEMO_PACKAGE = path.join(DEMO_DIR, 'weather');
export const DEMO_CSV = path.join(DEMO_DIR, 'weather-2015.csv');

export interface Transport {
  name: string;
  service: Service;
  call(method: string, params?: unknown): Promise<CallOutcome>;
  /** resolves with the first event matching `pred` (events since the harness started are kept) */
  waitFor(pred: (e: ApiEvent) => boolean, what: string): Promise<ApiEvent>;
  close(): Promise<void>;
}

function eventLog() {
  const seen: ApiEvent[] = [];
  const waiters: { pred: (e: ApiEvent) => boolean; resolve: (e: ApiEvent) => void }[] = [];
  return {
    push(e: ApiEvent) {
      seen.push(e);
      for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
    },
    waitFor(pred: (e: ApiEvent) => boolean, what: string): Promise<ApiEvent> {
      const hit = seen.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        // a safety net so a broken event stream fails the test instead of hanging CI
        const t = setTimeout(() => reject(new Error(`no ${what} event within 60 s`)), 60_000);
        waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
      });
    },
  };
}

export interface HttpTransport extends Transport { server: HttpServer }

export async function httpTransport(home: string, staticDir: string | null = null): Promise<HttpTransport> {
  const service = createService({ home });
  const server = await startHttp({ service, staticDir });
  const base = `http://127.0.0.1:${server.port}`;
  const log = eventLog();
  // SSE over fetch: parse "data:" lines of the stream.
  const ac = new AbortController();
  const res = await fetch(`${base}/api/events`, { headers: { Authorization: `Bearer ${server.token}` }, signal: ac.signal });
  if (res.status !== 200 || !res.body) throw new Error(`events stream: HTTP ${res.status}`);
  const reading = (async () => {
    let buf = '';
    const dec = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          for (const line of block.split('\n')) if (line.startsWith('data: ')) log.push(JSON.parse(line.slice(6)) as ApiEvent);
        }
      }
    } catch { /* aborted at close */ }
  })();
  return {
    name: 'http', service, server,
    async call(method, params = {}) {
      const r = await fetch(`${base}/api/call/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(params) });
      const body = (await r.json()) as CallOutcome;
      if (body.ok !== (r.status === 200)) throw new Error(`HTTP status ${r.status} disagrees with ok=${body.ok}`);
      return body;
    },
    waitFor: log.waitFor,
    async close() {
      ac.abort();
      await reading;
      await server.close();
      await service.close();
    },
  };
}

export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void { this.handlers.delete(channel); }
  /** what ipcRenderer.invoke does, from a given sender frame */
  invoke(channel: string, frame: FrameLike | null, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`no handler for ${channel}`);
    // Electron structured-clones arguments and results; so does this.
    return h({ senderFrame: frame }, ...structuredClone(args)).then((r) => structuredClone(r));
  }
}

export const APP_FRAME: FrameLike = { url: 'app://outpost/index.html#/score', parent: null };

export interface IpcTransport extends Transport { ipc: FakeIpcMain; revealed: string[] }

export async function ipcTransport(home: string): Promise<IpcTransport> {
  const service = createService({ home });
  const { port1, port2 } = new MessageChannel();
  serveCore({ post: (m) => port2.postMessage(m), onMessage: (l) => port2.on('message', l) }, service);
  const core = coreClient({ post: (m) => port1.postMessage(m), onMessage: (l) => port1.on('message', l) });
  const ipc = new FakeIpcMain();
  const revealed: string[] = [];
  const unregister = registerIpc(ipc, core, { showItem: (f) => revealed.push(f) });
  const log = eventLog();
  core.onEvent((e) => log.push(e));
  return {
    name: 'ipc', service, ipc, revealed,
    call: (method, params = {}) => ipc.invoke(IPC.call, APP_FRAME, method, params) as Promise<CallOutcome>,
    waitFor: log.waitFor,
    async close() {
      unregister();
      await service.close();
      port1.close();
      port2.close();
    },
  };
}

/** Unwrap a call that must succeed. */
export async function ok<T = unknown>(t: Transport, method: string, params: unknown = {}): Promise<T> {
  const r = await t.call(method, params);
  if (!r.ok) throw new Error(`${t.name} ${method} failed: ${r.error.code}: ${r.error.message}`);
  return r.result as T;
}

/** Demo rows repeated to `rows` data rows (dates kept; only the count matters). */
export function bigCsv(file: string, rows: number): string {
  const lines = fs.readFileSync(DEMO_CSV, 'utf8').trimEnd().split('\n');
  const header = lines[0];
  const body = lines.slice(1);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, header + '\n');
    let chunk: string[] = [];
    for (let i = 0; i < rows; i++) {
      chunk.push(body[i % body.length]);
      if (chunk.length === 10_000) { fs.writeSync(fd, chunk.join('\n') + '\n'); chunk = []; }
    }
    if (chunk.length) fs.writeSync(fd, chunk.join('\n') + '\n');
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** The demo file with known bad rows: returns the file and what each bad row is wrong about. */
export function badCsv(file: string): { file: string; rows: number; bad: Map<number, string> } {
  const lines = fs.readFileSync(DEMO_CSV, 'utf8').trimEnd().split('\n');
  const bad = new Map<number, string>();
  // data row numbers are 1-based (the header is not a data row)
  const breakRow = (row: number, column: number, value: string, field: string) => {
    const cells = lines[row].split(',');
    cells[column] = value;
    lines[row] = cells.join(',');
    bad.set(row, field);
  };
  breakRow(3, 1, 'lots', 'precipitation');   // unparsable number
  breakRow(10, 5, 'monsoon', 'season');       // not in the vocabulary
  breakRow(20, 2, '75.5', 'temp_max');        // above the range
  breakRow(30, 3, '', 'temp_min');            // missing, not nullable
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return { file, rows: lines.length - 1, bad };
}
