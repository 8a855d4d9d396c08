// A man-in-the-middle between device and hub for adversarial tests: forwards by default, lets a
// test replace a response, stream an endless body, or cut the connection after N bytes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream { status: number; headers: Record<string, string>; body: Buffer }
export type Action =
  | { kind: 'respond'; status?: number; body: Buffer; headers?: Record<string, string> }
  | { kind: 'endless' }
  | { kind: 'cut'; after: number }
  /** the upstream body in `chunk`-byte pieces every `everyMs`; with `stallAfter`, silence after that many bytes */
  | { kind: 'drip'; chunk: number; everyMs: number; stallAfter?: number };

export interface Proxy {
  url: string;
  requests: { path: string; range?: string }[];
  /** return an action to tamper, undefined to forward */
  hook: (path: string, upstream: () => Promise<Upstream>, range: string | undefined) => Promise<Action | undefined> | Action | undefined;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<Proxy> {
  // requests other than GET (enrollment, sync) are forwarded with their body and headers
  const upstreamFor = (path: string, range: string | undefined, req?: { method: string; headers: Record<string, string>; body: Buffer }) => async (): Promise<Upstream> => {
    const res = await fetch(new URL(path, target), req && req.method !== 'GET'
      ? { method: req.method, headers: req.headers, body: new Uint8Array(req.body) }
      : { headers: range ? { range } : {} });
    const headers: Record<string, string> = {};
    for (const k of ['content-type', 'content-range', 'accept-ranges']) { const v = res.headers.get(k); if (v) headers[k] = v; }
    return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
  };
  const proxy: Proxy = { url: '', requests: [], hook: () => undefined, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const range = req.headers.range;
    proxy.requests.push({ path, ...(range ? { range } : {}) });
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)) headers[k] = v;
      const up = upstreamFor(path, range, { method: req.method ?? 'GET', headers, body: Buffer.concat(chunks) });
      const action = await proxy.hook(path, up, range);
      if (!action) {
        const u = await up();
        res.writeHead(u.status, { ...u.headers, 'content-length': u.body.length });
        res.end(u.body);
      } else if (action.kind === 'respond') {
        res.writeHead(action.status ?? 200, { 'content-type': 'application/octet-stream', ...action.headers, 'content-length': action.body.length });
        res.end(action.body);
      } else if (action.kind === 'endless') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 7);
        const pump = () => { while (!res.destroyed && res.write(chunk)); if (!res.destroyed) res.once('drain', pump); };
        res.on('close', () => undefined);
        pump();
      } else if (action.kind === 'drip') {
        const u = await up();
        res.writeHead(u.status, { ...u.headers, 'content-length': u.body.length });
        let sent = 0;
        const tick = setInterval(() => {
          if (res.destroyed || sent >= u.body.length) { clearInterval(tick); if (!res.destroyed) res.end(); return; }
          if (action.stallAfter !== undefined && sent >= action.stallAfter) return; // silence, connection open
          const end = Math.min(u.body.length, sent + action.chunk, action.stallAfter ?? Infinity);
          res.write(u.body.subarray(sent, end));
          sent = end;
        }, action.everyMs);
        res.on('close', () => clearInterval(tick));
      } else {
        const u = await up();
        // Announce the full length, send part of it, then drop the connection: a hub dying mid-transfer.
        res.writeHead(u.status, { ...u.headers, 'content-length': u.body.length });
        res.write(u.body.subarray(0, action.after), () => res.socket?.destroy());
      }
    })().catch(() => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return proxy;
}
