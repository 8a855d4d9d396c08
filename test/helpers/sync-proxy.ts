// A misbehaving network between workstation and hub for sync fault tests. Per request, `plan`
// picks what happens: forward it; answer 500 without forwarding; cut the request mid-body (the hub
// sees a connection drop before the body ends); cut the response mid-body (the hub committed, the
// workstation never hears it); send it twice; hold a copy and deliver it again after a later
// request (reordering); or slow it down. The upstream can be switched (a restarted hub).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'forward' | 'fail500' | 'cut-request' | 'cut-response' | 'duplicate' | 'reorder' | 'slow';

export interface SyncProxy {
  url: string;
  /** the hub's base URL (may be changed while running) */
  target: string;
  plan: (n: number, path: string) => Fault;
  /** what happened, in order */
  log: { n: number; path: string; fault: Fault; status: number | string }[];
  close(): Promise<void>;
}

interface Captured { method: string; path: string; headers: http.OutgoingHttpHeaders; body: Buffer }

function upstream(target: string, c: Captured, cutAfter?: number): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(c.path, target);
    const req = http.request(u, { method: c.method, headers: { ...c.headers, host: u.host, 'content-length': c.body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (cutAfter === undefined) req.end(c.body);
    else req.write(c.body.subarray(0, cutAfter), () => { setTimeout(() => { req.destroy(); reject(new Error('cut')); }, 20); });
  });
}

export async function startSyncProxy(target: string, delayMs = (n: number) => 20 + (n % 5) * 10): Promise<SyncProxy> {
  let n = 0;
  let held: Captured | undefined;
  const proxy: SyncProxy = { url: '', target, plan: () => 'forward', log: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      void (async () => {
        const c: Captured = { method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers }, body: Buffer.concat(chunks) };
        delete c.headers.host;
        delete c.headers['content-length'];
        delete c.headers.connection;
        const i = ++n;
        const fault = proxy.plan(i, c.path);
        const note = (status: number | string) => proxy.log.push({ n: i, path: c.path, fault, status });
        const reply = (u: { status: number; headers: http.IncomingHttpHeaders; body: Buffer }) => {
          res.writeHead(u.status, { 'content-type': String(u.headers['content-type'] ?? 'application/json'), 'content-length': u.body.length });
          res.end(u.body);
        };
        try {
          if (fault === 'fail500') { note(500); res.writeHead(500, { 'content-type': 'application/json' }); res.end('{"ok":false,"error":{"code":"internal","message":"injected"}}'); return; }
          if (fault === 'cut-request') {
            await upstream(proxy.target, c, Math.floor(c.body.length / 2)).catch(() => undefined);
            note('cut-request');
            res.socket?.destroy();
            return;
          }
          if (fault === 'slow') await new Promise((r) => setTimeout(r, delayMs(i)));
          const u = await upstream(proxy.target, c);
          if (fault === 'duplicate') await upstream(proxy.target, c).catch(() => undefined);
          if (held) { const h = held; held = undefined; await upstream(proxy.target, h).catch(() => undefined); } // the older request arrives late
          if (fault === 'reorder') held = c;
          note(u.status);
          if (fault === 'cut-response') {
            res.writeHead(u.status, { 'content-type': 'application/json', 'content-length': u.body.length });
            res.write(u.body.subarray(0, Math.floor(u.body.length / 2)), () => res.socket?.destroy());
            return;
          }
          reply(u);
        } catch (e) {
          note(`error: ${(e as Error).message}`);
          res.socket?.destroy();
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return proxy;
}
