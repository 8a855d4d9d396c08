// One GET of a large target over HTTP/1.1 (plain or TLS), its body read by the socket straight into
// eight recycled 1 MiB buffers (`onread` of net/tls): no fresh buffer per socket read and no web
// stream in between. On this VM fresh memory is the expensive part of a download — `fetch` costs
// the device ~3× the CPU of the hash itself for 200 MB, mostly allocating a new 64 KiB buffer per
// read (bench/results/README.md, "Session 7: network pull").
//
// Deliberately narrow: only an answer with a plain `content-length` body (200 or 206, no transfer
// or content coding) is read here; a redirect, a chunked or encoded body, or a configured proxy
// gets `undefined`, and the caller asks `fetch` instead. Other statuses are returned without their
// body. Trust is Node's default TLS trust (hub-tls.ts adds the hub's CA to it), the same `fetch`
// uses; the certificate is checked for the URL's host name.
import net from 'node:net';
import tls from 'node:tls';

/** A response body lent in chunks: each chunk is a view of a recycled buffer, the reader's until `release`d. */
export interface LentBody {
  /** the next bytes of the body (at most content-length in all); null: the body is complete */
  next(): Promise<Uint8Array | null>;
  /** the chunk is no longer used: its buffer can be read into again */
  release(chunk: Uint8Array): void;
  /** stop reading (the connection is closed) */
  cancel(): void;
}

export interface RingAnswer {
  status: number;
  /** a response header (lower-case name), repeated ones joined with ", " */
  header(name: string): string | undefined;
  /** 200/206: the body; other statuses: none (the connection is closed) */
  body: LentBody | undefined;
}

const SLOT = 1 << 20;
const SLOTS = 8;
/** a response head larger than this is refused (it must fit in the first buffer) */
const HEAD_MAX = 64 << 10;

const PROXY_ENV = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NODE_USE_ENV_PROXY'];

/** Whether this client would take the URL at all (plain or TLS HTTP, no proxy configured). */
export function ringGetApplies(url: string): boolean {
  const u = new URL(url);
  return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && !PROXY_ENV.some((k) => process.env[k]);
}

interface Slot { buf: Buffer; lent: number }

function parseHead(head: string): { status: number; headers: Map<string, string> } {
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]);
  if (!m) throw new Error(`not an HTTP/1.1 response (${JSON.stringify(lines[0].slice(0, 40))})`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) throw new Error('a malformed response header line');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
  }
  return { status: Number(m[1]), headers };
}

/**
 * GET `url` with `headers`. Resolves once the response head arrived: the answer, or undefined when
 * the answer is not one this reader takes (ask `fetch`). Rejects when the connection fails, the head
 * is malformed, or `signal` aborts (with its reason; an abort later fails `next()` with it).
 */
export function ringGet(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<RingAnswer | undefined> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(u.port || (secure ? 443 : 80));
  const slots: Slot[] = [];
  const free: Slot[] = [];
  const byBuffer = new Map<ArrayBufferLike, Slot>();
  const newSlot = (): Slot | undefined => {
    const s = free.pop();
    if (s) return s;
    if (slots.length >= SLOTS) return undefined;
    const made = { buf: Buffer.allocUnsafeSlow(SLOT), lent: 0 };
    slots.push(made);
    byBuffer.set(made.buf.buffer, made);
    return made;
  };
  let cur = newSlot()!;
  let filled = 0; // bytes of `cur` the socket wrote
  let from = 0; // `cur`'s bytes from here on are not yet lent
  let headDone = false;
  let length = 0; // content-length
  let taken = 0; // body bytes accepted (≤ length)
  const ready: Uint8Array[] = []; // body chunks not yet handed to `next()`, in order
  let waiting = false; // the socket is paused until a buffer is released
  let failure: { error: unknown } | undefined;
  let complete = false;
  let wake: (() => void) | undefined;
  let answered: ((a: RingAnswer | undefined) => void) | undefined;
  let refused: ((e: unknown) => void) | undefined;

  const fail = (error: unknown) => {
    if (failure || complete) return;
    failure = { error };
    sock.destroy();
    refused?.(error);
    wake?.();
  };
  const lend = (start: number, end: number) => {
    if (end > start) { cur.lent++; ready.push(cur.buf.subarray(start, end)); }
  };
  /** body bytes [from, filled) of `cur`, bounded by content-length, become lendable */
  const takeBody = () => {
    const n = Math.min(filled - from, length - taken);
    lend(from, from + n);
    taken += n;
    from = filled;
    if (taken === length) { complete = true; sock.destroy(); }
    wake?.();
  };
  // The socket asks for its next buffer right after each read, also when it is then paused, and
  // keeps it until it reads again: so it always gets one with room (`cur` is never left full), and
  // is paused as soon as no further buffer would be free for the next move.
  const spare = () => free.length > 0 || slots.length < SLOTS;
  /** `cur` is full: move on to a free buffer (`spare()` said there is one) */
  const advance = () => {
    if (cur.lent === 0) free.push(cur);
    cur = newSlot()!;
    filled = from = 0;
  };
  const onHead = (): boolean => {
    const end = cur.buf.subarray(0, filled).indexOf('\r\n\r\n');
    if (end < 0 ? filled >= HEAD_MAX : end > HEAD_MAX) {
      fail(new Error(`the response head is larger than ${HEAD_MAX} bytes`));
      return false;
    }
    if (end < 0) return true;
    headDone = true;
    let head;
    try {
      head = parseHead(cur.buf.subarray(0, end).toString('latin1'));
    } catch (e) {
      fail(e);
      return false;
    }
    const h = head.headers;
    const header = (name: string) => h.get(name);
    if (head.status !== 200 && head.status !== 206) {
      complete = true;
      sock.destroy();
      const ok = head.status >= 400 || head.status === 304 || head.status === 204;
      answered?.(ok ? { status: head.status, header, body: undefined } : undefined);
      return false;
    }
    const cl = h.get('content-length');
    const coding = h.get('content-encoding');
    if (cl === undefined || !/^\d{1,15}$/.test(cl) || h.has('transfer-encoding') || (coding !== undefined && coding.toLowerCase() !== 'identity')) {
      complete = true;
      sock.destroy();
      answered?.(undefined);
      return false;
    }
    length = Number(cl);
    from = end + 4;
    takeBody();
    answered?.({ status: head.status, header, body });
    return true;
  };

  const body: LentBody = {
    next: async () => {
      for (;;) {
        const c = ready.shift();
        if (c) return c;
        if (failure) throw failure.error;
        if (complete) return null;
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = undefined;
      }
    },
    release: (chunk) => {
      const s = byBuffer.get(chunk.buffer);
      if (!s || s.lent <= 0) return;
      s.lent--;
      if (s.lent === 0 && s !== cur) {
        free.push(s);
        if (waiting && !failure && !complete) {
          waiting = false;
          sock.resume();
        }
      }
    },
    cancel: () => {
      if (!complete && !failure) { complete = true; ready.length = 0; sock.destroy(); wake?.(); }
    },
  };

  const onread = {
    buffer: () => cur.buf.subarray(filled),
    callback: (n: number): boolean => {
      filled += n;
      if (!headDone) {
        if (!onHead()) return false;
      } else takeBody();
      if (complete || failure) return false;
      if (filled === SLOT) advance();
      if (spare()) return true;
      waiting = true;
      return false;
    },
  };
  const opts = { host, port, onread };
  const sock: net.Socket = secure
    ? tls.connect({ ...opts, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
    : net.connect(opts);
  const onAbort = () => fail(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  sock.on('error', (e) => fail(e));
  sock.on('close', () => {
    signal.removeEventListener('abort', onAbort);
    if (!complete) fail(new Error(headDone ? `the connection closed after ${taken} of ${length} body bytes` : 'the connection closed before a response'));
  });
  sock.once(secure ? 'secureConnect' : 'connect', () => {
    const lines = [`GET ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'User-Agent: outpost', 'Accept-Encoding: identity', 'Connection: close'];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    sock.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
  if (signal.aborted) onAbort();
  return new Promise<RingAnswer | undefined>((resolve, reject) => {
    if (failure) { reject(failure.error); return; }
    answered = (a) => { answered = refused = undefined; resolve(a); };
    refused = (e) => { answered = refused = undefined; reject(e); };
  });
}
