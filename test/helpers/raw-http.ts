// HTTP/1.1 over a bare socket, for tests that send what fetch() would refuse or normalise: malformed
// request targets, bad headers, truncated or stalled bodies.
import net from 'node:net';

export interface RawResponse { status: number | null; head: string; body: string }

/**
 * Send `head` (request line + headers, without the blank line) and `body`, then read until the server
 * closes or answers completely. status null: the connection closed without an HTTP answer.
 */
export function rawRequest(port: number, head: string, body: string | Buffer = '', opts: { endAfterBody?: boolean; timeoutMs?: number; keepAlive?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer within ${opts.timeoutMs ?? 30_000} ms to ${head.split('\r\n')[0].slice(0, 120)}`)); }, opts.timeoutMs ?? 30_000);
    const done = () => {
      clearTimeout(timer);
      const text = data.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : null, head: split >= 0 ? text.slice(0, split) : text, body: split >= 0 ? text.slice(split + 4) : '' });
      socket.destroy();
    };
    socket.on('data', (d) => {
      data = Buffer.concat([data, d]);
      // A complete answer with Content-Length: stop reading (keep-alive would otherwise hold the socket).
      const text = data.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split));
      if (split >= 0 && len && data.length >= split + 4 + Number(len[1])) done();
    });
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', () => { /* reset by the server: judged by what arrived */ });
    // One request per connection (the answer ends when the server closes it), unless the test
    // sends a body the server refuses: a keep-alive client may finish sending and read the answer.
    socket.write(`${head}${opts.keepAlive || /\r\nconnection:/i.test(head) ? '' : '\r\nConnection: close'}\r\n\r\n`);
    if (body.length) socket.write(body);
    if (opts.endAfterBody) socket.end();
  });
}

/** Open a request whose body never completes; returns the socket (destroy it to hang up). */
export function stalledRequest(port: number, head: string, partialBody: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`${head}\r\n\r\n${partialBody}`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}
