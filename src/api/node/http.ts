// The HTTP transport of the UI contract for `outpost serve`: loopback only, every /api/ request
// authenticated with the access token (Bearer header, or the cookie set when the page is opened
// with ?token=), calls as POST /api/call/<method>, job events as server-sent events, file upload
// and download, and the built UI as static files under a strict CSP. Hostile requests (malformed
// URLs, headers or bodies) get a 4xx answer; nothing a client sends can throw out of a handler.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { quote } from '../../common/errors.ts';
import { HTTP, type ApiErrorShape } from '../common/contract.ts';
import { dispatch, httpStatusOf, toApiError } from '../common/dispatch.ts';
import { parseJsonBody } from '../common/json-body.ts';
import { methodAllowed, methodNotAllowed, queryProblem, requestErrorCode } from '../common/request-errors.ts';
import { parseRequestTarget } from '../common/request-target.ts';
import { answerClientError } from './client-error.ts';
import type { Service } from './service.ts';
import { defaultHosts, hostAllowed, originAllowed, parseCookies, sameSecret, SERVE_SECURITY_HEADERS as SECURITY_HEADERS, staticFile } from './web-security.ts';

export { SERVE_CSP as CSP } from './web-security.ts';

export interface HttpOptions {
  service: Service;
  /** the built renderer (index.html + assets); null serves the API only */
  staticDir: string | null;
  /** 0 = any free port */
  port?: number;
  /** random when not given */
  token?: string;
  /** a request body that sends nothing for this long is answered 408 (default 30 s) */
  bodyIdleMs?: number;
  /**
   * The local scoring API (`serve --api`, src/api/node/scoring-api.ts): requests under /v1 go to
   * it after the Host and URL checks; it authenticates with its own bearer tokens, never the UI's.
   */
  v1?: (req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams) => Promise<void>;
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
const BODY_IDLE_MS = 30_000;
const DRAIN_MS = 5_000;

/** A request we refuse with a 4xx status (the message is shown to the client); the code by default as the hub's (request-errors.ts). */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ApiErrorShape['code'];
  constructor(status: number, message: string, code: ApiErrorShape['code'] = requestErrorCode(status)) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const newToken = (): string => crypto.randomBytes(24).toString('base64url');

const cookies = (req: http.IncomingMessage): Map<string, string> => parseCookies(req.headers.cookie);

/**
 * The body of a request as a stream of chunks, refused with 413 beyond `maxBytes` (declared or
 * sent) and with 408 when the client stops sending for `idleMs` (a slowloris-style body).
 */
export async function* limitedBody(req: http.IncomingMessage, maxBytes: number, idleMs: number, what: string): AsyncGenerator<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) throw new HttpError(413, `${what} is ${declared} bytes; the limit is ${maxBytes}`);
  const chunks = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let n = 0;
  for (;;) {
    // Race each read against the idle timer; the socket stays open so the 408 can still be sent.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HttpError(408, `the request body stalled (nothing received for ${idleMs / 1000} s)`)), idleMs);
    });
    let next: IteratorResult<Buffer>;
    try {
      next = await Promise.race([chunks.next(), stalled]);
    } catch (e) {
      throw e instanceof HttpError ? e : new HttpError(400, `the request body was cut off (${(e as Error).message})`);
    } finally {
      clearTimeout(timer);
    }
    if (next.done) return;
    n += next.value.length;
    if (n > maxBytes) throw new HttpError(413, `${what} is larger than the limit of ${maxBytes} bytes`);
    yield next.value;
  }
}

/** Where a wrong or out-of-date `?token=` lands: a page saying so, with the token out of the address bar. */
export const TOKEN_REFUSED_PAGE = '/token-refused';

/** That page: what went wrong and how to get the right URL; it names no token, right or wrong. */
function tokenRefusedHtml(port: number): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outpost: wrong or expired access link</title></head>
<body>
<h1>This link's access token is wrong or out of date</h1>
<p>Outpost makes a new access token every time <code>outpost serve</code> starts, so a link from an earlier run, or one
copied incompletely, does not open it. Nothing was opened or changed.</p>
<p>To get in, open the URL that <code>outpost serve</code> printed in the terminal where it is running, under
"Outpost is serving its UI at": <code>http://127.0.0.1:${port}/?token=…</code> (the whole line, token included).
If that terminal is gone, stop the server and run <code>outpost serve</code> again: it prints a new URL.</p>
</body></html>
`;
}

export async function startHttp(opts: HttpOptions): Promise<HttpServer> {
  const { service } = opts;
  const bodyIdleMs = opts.bodyIdleMs ?? BODY_IDLE_MS;
  const token = opts.token ?? newToken();
  const sse = new Set<http.ServerResponse>();
  let port = 0;
  // Cookies are not port-scoped: name them by port so two servers on one machine do not clash.
  const cookieName = () => `${HTTP.tokenCookie}_${port}`;

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(text.length), 'Cache-Control': 'no-store', ...headers });
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
  const hostOk = (req: http.IncomingMessage): boolean => hostAllowed(req.headers.host, defaultHosts(HOST, port).slice(0, 2));
  // Cross-site writes: browsers send Origin on POST/PUT; it must be this server.
  const originOk = (req: http.IncomingMessage): boolean => originAllowed(req.headers.origin, req.headers.host);

  const readJson = async (req: http.IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const c of limitedBody(req, MAX_CALL_BYTES, bodyIdleMs, 'the call')) chunks.push(c);
    if (!chunks.length) return {};
    // Only JSON is read as a call: a form post from another page (a "simple" request) is not one.
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw new HttpError(415, `a call's body must be application/json (got "${type || 'no content type'}")`);
    const body = parseJsonBody(Buffer.concat(chunks));
    if (!body.ok) throw new HttpError(400, `the request body ${body.reason}`);
    return body.value;
  };

  const upload = async (req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams) => {
    const maxBytes = service.uploadLimit();
    const body = limitedBody(req, maxBytes, bodyIdleMs, 'the upload');
    const result = await service.receiveUpload(query.get('name') ?? 'upload', body, Number(req.headers['content-length']) || undefined);
    send(res, 200, { ok: true, result });
  };

  /** Stream a file; a read error after the headers went out can only cut the connection. */
  const sendFile = async (res: http.ServerResponse, file: string, headers: Record<string, string>, head = false) => {
    const handle = await fs.promises.open(file, 'r'); // throws ENOENT before any header is sent
    try {
      const st = await handle.stat();
      res.writeHead(200, { ...SECURITY_HEADERS, ...headers, 'Content-Length': String(st.size) });
      if (head) return void res.end();
      await pipeline(handle.createReadStream({ autoClose: false }), res);
    } finally {
      await handle.close();
    }
  };

  const download = (res: http.ServerResponse, jobId: string, which: 'output' | 'rejects', head: boolean) => {
    const file = service.fileOf(jobId, which);
    return sendFile(res, file, {
      'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store',
      'Content-Disposition': `attachment; filename="${path.basename(file).replace(/[^\w.-]/g, '_')}"`,
    }, head);
  };

  const events = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    if (req.method === 'HEAD') return void res.end(); // the headers of the stream, without opening it
    res.write('retry: 2000\n\n');
    sse.add(res);
    const off = service.subscribe((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => { off(); clearInterval(beat); sse.delete(res); });
  };

  /** 405 with Allow for a method the path does not take (request-errors.ts: one answer on both servers). */
  const wrongMethod = (req: http.IncomingMessage, res: http.ServerResponse, methods: readonly string[]) => {
    const { allow, error } = methodNotAllowed(req.method, methods);
    return send(res, 405, { ok: false, error }, { Allow: allow });
  };

  const api = async (req: http.IncomingMessage, res: http.ServerResponse, p: string, query: URLSearchParams) => {
    if (!authorized(req)) return fail(res, { code: 'unauthorized', message: 'missing or wrong access token: open the URL `outpost serve` printed' });
    const file = /^\/api\/files\/([A-Za-z0-9_-]{1,64})\/(output|rejects)$/.exec(p);
    const methods = p.startsWith(HTTP.call) ? ['POST'] : p === HTTP.events || file ? ['GET'] : p === HTTP.uploads ? ['PUT', 'POST'] : undefined;
    if (!methods) return fail(res, { code: 'not-found', message: `no API route ${req.method} ${quote(p)}` });
    if (!methodAllowed(req.method, methods)) return wrongMethod(req, res, methods);
    const problem = queryProblem(query, p === HTTP.uploads ? ['name'] : []);
    if (problem) throw new HttpError(400, problem);
    if (req.method !== 'GET' && req.method !== 'HEAD' && !originOk(req)) return fail(res, { code: 'unauthorized', message: 'cross-origin request refused' });
    if (p.startsWith(HTTP.call)) {
      const out = await dispatch(service.handlers, p.slice(HTTP.call.length), await readJson(req));
      return out.ok ? send(res, 200, out) : fail(res, out.error);
    }
    if (p === HTTP.events) return events(req, res);
    if (p === HTTP.uploads) return upload(req, res, query);
    return download(res, file![1], file![2] as 'output' | 'rejects', req.method === 'HEAD');
  };

  const page = async (req: http.IncomingMessage, res: http.ServerResponse, p: string, query: URLSearchParams) => {
    // a page that does not exist is 404 whatever the method; one that does takes GET (and HEAD)
    const f = p === TOKEN_REFUSED_PAGE || !opts.staticDir ? undefined : staticFile(opts.staticDir, p === '/' ? 'index.html' : p);
    const exists = p === TOKEN_REFUSED_PAGE || f !== undefined;
    if (exists && !methodAllowed(req.method, ['GET'])) return wrongMethod(req, res, ['GET']);
    const given = req.method === 'GET' || req.method === 'HEAD' ? query.get('token') : null;
    if (given !== null) {
      // Trade the URL token for an HttpOnly cookie and drop it from the address bar (and history).
      // The Location is always our own root: a decoded path could hold "//host" (an open redirect).
      // A wrong one goes to a page that says so (not the UI, whose every call would then be a bare 401).
      const right = sameSecret(given, token);
      const headers: Record<string, string> = { ...SECURITY_HEADERS, Location: right ? '/' : TOKEN_REFUSED_PAGE, 'Cache-Control': 'no-store' };
      if (right) headers['Set-Cookie'] = `${cookieName()}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
      res.writeHead(302, headers);
      return res.end();
    }
    if (p === TOKEN_REFUSED_PAGE) {
      const html = Buffer.from(tokenRefusedHtml(port));
      res.writeHead(401, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(html.length), 'Cache-Control': 'no-store' });
      return void res.end(req.method === 'HEAD' ? undefined : html);
    }
    if (!f) return send(res, 404, { ok: false, error: { code: 'not-found', message: 'no such page' } });
    return sendFile(res, f.file, { 'Content-Type': f.type, 'Cache-Control': f.cache }, req.method === 'HEAD');
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!hostOk(req)) return send(res, 421, { ok: false, error: { code: 'unauthorized', message: 'wrong Host header' } });
    const target = parseRequestTarget(req.url, { refuseEncodedSlash: true });
    if (!target.ok) throw new HttpError(target.status, target.message);
    const { path: p, query } = target;
    if (opts.v1 && (p === '/v1' || p.startsWith('/v1/'))) return opts.v1(req, res, p, query);
    return p === '/api' || p.startsWith('/api/') ? api(req, res, p, query) : page(req, res, p, query);
  };

  const server = http.createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof HttpError) {
        // A stalled body cannot be skipped: close after the answer. Otherwise Node discards the
        // rest of a refused body (so the client reads the answer rather than meeting a reset) —
        // for a few seconds at most, then the connection is cut.
        if (e.status === 408) res.setHeader('Connection', 'close');
        else if (!req.complete) {
          const cut = setTimeout(() => { if (!req.complete) req.socket.destroy(); }, DRAIN_MS);
          req.socket.once('close', () => clearTimeout(cut));
        }
        return send(res, e.status, { ok: false, error: { code: e.code, message: e.message } });
      }
      const error = toApiError(e);
      if ((e as NodeJS.ErrnoException)?.code === 'ENOENT') return fail(res, { code: 'not-found', message: 'the file is gone' });
      fail(res, error);
    });
  });
  // a request Node's parser refuses (headers too large, a bad Content-Length …): the JSON error
  // shape every other answer has, not Node's empty-bodied one
  server.on('clientError', (err: Error & { code?: string }, socket) => answerClientError(err, socket, SECURITY_HEADERS));
  server.keepAliveTimeout = 5_000;
  // Slow clients: headers must arrive within 60 s (Node's default); bodies are guarded by an idle
  // timeout instead of a total one, so a large upload is never cut off for taking long.
  server.requestTimeout = 0;

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
