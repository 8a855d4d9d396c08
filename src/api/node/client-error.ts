// A request Node's HTTP parser refused before any handler saw it (headers too large, a bad
// Content-Length, Content-Length with Transfer-Encoding, an unknown method, a request that did not
// arrive in time): answered in the one error shape both servers use, {ok: false, error: {code,
// message}}, and closed. Node's own answer has an empty body. Used by the hub (Fastify's
// clientErrorHandler) and by `outpost serve` (the server's 'clientError' event).
import http from 'node:http';
import type { Duplex } from 'node:stream';

/** Why the parser refused, by Node's error code (anything else: "malformed HTTP request"). */
const REASONS: Record<string, string> = {
  HPE_INVALID_CONTENT_LENGTH: 'malformed HTTP request: the Content-Length header is not a number of bytes',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'malformed HTTP request: Content-Length is given more than once, or with Transfer-Encoding',
  HPE_INVALID_TRANSFER_ENCODING: 'malformed HTTP request: Transfer-Encoding is malformed, or given with Content-Length',
  HPE_INVALID_METHOD: 'malformed HTTP request: unknown method',
};

/** The status, reason phrase and message a parser error is answered with. */
export function clientErrorAnswer(code: string | undefined): { status: number; message: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, message: `the request line and headers are too large (the limit is ${http.maxHeaderSize} bytes)` };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, message: 'the request did not arrive in time' };
  return { status: 400, message: (code !== undefined ? REASONS[code] : undefined) ?? 'malformed HTTP request' };
}

/** Answer `err` on `socket` and close it; a connection already gone is only closed. */
export function answerClientError(err: Error & { code?: string }, socket: Duplex, headers: Record<string, string> = {}): void {
  if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return; }
  const { status, message } = clientErrorAnswer(err.code);
  const body = JSON.stringify({ ok: false, error: { code: 'usage', message } });
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${extra}Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
