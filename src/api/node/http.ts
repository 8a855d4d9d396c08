// The HTTP transport of the UI contract for `outpost serve`: loopback only, every /api/ request
// authenticated with the access token (Bearer header, or the cookie set when the page is opened
// with ?token=), calls as POST /api/call/<method>, job events as server-sent events, file upload
// and download, and the built UI as static files under a strict CSP.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HTTP, type ApiErrorShape, type UploadResult } from '../common/contract.ts';
import { dispatch, httpStatusOf, toApiError } from '../common/dispatch.ts';
import type { Service } from './service.ts';

export interface HttpOptions {
  service: Service;
  /** the built renderer (index.html + assets); null serves the API only */
  staticDir: string | null;
  /** 0 = any free port */
  port?: number;
  /** random when not given */
  token?: string;
}

export interface HttpServer {
  readonly port: number;
  readonly token: string;
  /** the URL to open: carries the token once; the page then keeps it in an HttpOnly cookie */
  readonly url: string;
  close(): Promise<void>;
}

/** Loopback only: the token is the only lock, so the door is never opened to the network. */
export const HOST = '127.0.0.1';
const MAX_CALL_BYTES = 1024 * 1024;

export const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'", "connect-src 'self'",
  "manifest-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.json': 'application/json', '.webmanifest': 'application/manifest+json',
};

export const newToken = (): string => crypto.randomBytes(24).toString('base64url');

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function cookies(req: http.IncomingMessage): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) m.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return m;
}

/** A file name safe to put in the uploads folder: no separators, no leading dots, bounded length. */
export function safeUploadName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^\w.\- ]+/g, '_').replace(/^[.\s]+/, '').slice(-120);
  return clean || 'upload';
}

export async function startHttp(opts: HttpOptions): Promise<HttpServer> {
  const { service } = opts;
  const token = opts.token ?? newToken();
  const sse = new Set<http.ServerResponse>();
  let port = 0;
  // Cookies are not port-scoped: name them by port so two servers on one machine do not clash.
  const cookieName = () => `${HTTP.tokenCookie}_${port}`;

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
    res.end(text);
  };
  const fail = (res: http.ServerResponse, error: ApiErrorShape) => send(res, httpStatusOf(error.code), { ok: false, error });

  const authorized = (req: http.IncomingMessage): boolean => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && sameSecret(auth.slice(7).trim(), token)) return true;
    const c = cookies(req).get(cookieName());
    return c !== undefined && sameSecret(c, token);
  };

  // DNS rebinding: a page on evil.example resolving to 127.0.0.1 would send its own Host header.
  const hostOk = (req: http.IncomingMessage): boolean => {
    const h = req.headers.host ?? '';
    return h === `${HOST}:${port}` || h === `localhost:${port}`;
  };
  // Cross-site writes: browsers send Origin on POST/PUT; it must be this server.
  const originOk = (req: http.IncomingMessage): boolean => {
    const o = req.headers.origin;
    return o === undefined || o === `http://${req.headers.host}`;
  };

  const readJson = async (req: http.IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > MAX_CALL_BYTES) throw Object.assign(new Error('request body too large'), { code: 'usage' });
      chunks.push(c);
    }
    if (!n) return {};
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw Object.assign(new Error('request body is not JSON'), { code: 'usage' });
    }
  };

  const upload = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const name = safeUploadName(url.searchParams.get('name') ?? 'upload');
    fs.mkdirSync(service.uploadsDir, { recursive: true });
    // A fresh folder per upload keeps the user's file name (outputs are named after it) without clashes.
    const dir = fs.mkdtempSync(path.join(service.uploadsDir, 'u-'));
    const final = path.join(dir, name);
    const tmp = `${final}.part`;
    try {
      await pipeline(req, fs.createWriteStream(tmp, { flags: 'wx' }));
      fs.renameSync(tmp, final);
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const result: UploadResult = { path: final, name, size: fs.statSync(final).size };
    send(res, 200, { ok: true, result });
  };

  const download = (res: http.ServerResponse, jobId: string, which: 'output' | 'rejects') => {
    const file = service.fileOf(jobId, which);
    const st = fs.statSync(file);
    res.writeHead(200, {
      ...SECURITY_HEADERS, 'Content-Type': 'application/octet-stream', 'Content-Length': String(st.size), 'Cache-Control': 'no-store',
      'Content-Disposition': `attachment; filename="${path.basename(file).replace(/[^\w.-]/g, '_')}"`,
    });
    fs.createReadStream(file).pipe(res);
  };

  const events = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    sse.add(res);
    const off = service.subscribe((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => { off(); clearInterval(beat); sse.delete(res); });
  };

  const api = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    if (!authorized(req)) return fail(res, { code: 'unauthorized', message: 'missing or wrong access token: open the URL `outpost serve` printed' });
    if (req.method !== 'GET' && !originOk(req)) return fail(res, { code: 'unauthorized', message: 'cross-origin request refused' });
    const p = url.pathname;
    if (p.startsWith(HTTP.call) && req.method === 'POST') {
      const out = await dispatch(service.handlers, decodeURIComponent(p.slice(HTTP.call.length)), await readJson(req));
      return out.ok ? send(res, 200, out) : fail(res, out.error);
    }
    if (p === HTTP.events && req.method === 'GET') return events(req, res);
    if (p === HTTP.uploads && (req.method === 'PUT' || req.method === 'POST')) return upload(req, res, url);
    const m = /^\/api\/files\/([A-Za-z0-9_-]{1,64})\/(output|rejects)$/.exec(p);
    if (m && req.method === 'GET') return download(res, m[1], m[2] as 'output' | 'rejects');
    return fail(res, { code: 'not-found', message: `no API route ${req.method} ${p}` });
  };

  const page = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { ok: false, error: { code: 'usage', message: 'method not allowed' } });
    const given = url.searchParams.get('token');
    if (given !== null) {
      // Trade the URL token for an HttpOnly cookie and drop it from the address bar (and history).
      const headers: Record<string, string> = { ...SECURITY_HEADERS, Location: url.pathname, 'Cache-Control': 'no-store' };
      if (sameSecret(given, token)) headers['Set-Cookie'] = `${cookieName()}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
      res.writeHead(302, headers);
      return res.end();
    }
    if (!opts.staticDir) return send(res, 404, { ok: false, error: { code: 'not-found', message: 'this server has no UI' } });
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const file = path.resolve(opts.staticDir, rel);
    if (!file.startsWith(path.resolve(opts.staticDir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      return send(res, 404, { ok: false, error: { code: 'not-found', message: `no such page ${url.pathname}` } });
    }
    const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    // Hashed assets never change; the page itself always revalidates so a new build is picked up.
    const cache = rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': cache, 'Content-Length': String(fs.statSync(file).size) });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file).pipe(res);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    if (!hostOk(req)) return send(res, 421, { ok: false, error: { code: 'unauthorized', message: 'wrong Host header' } });
    const handle = url.pathname === '/api' || url.pathname.startsWith('/api/') ? api(req, res, url) : Promise.resolve(page(req, res, url));
    handle.catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      fail(res, toApiError(e));
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => resolve());
  });
  port = (server.address() as { port: number }).port;
  return {
    port,
    token,
    url: `http://${HOST}:${port}/?token=${token}`,
    close: () => new Promise<void>((resolve) => {
      for (const r of sse) r.end();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
