// A byte range of a file as the body of an HTTP response, through a few recycled buffers: each is
// read into (positional reads on the thread pool, one at a time, so the body goes out in order) and
// written to the response; it is read into again only once the response's write of it completed. A stream from `fs.createReadStream`
// allocates a fresh buffer per chunk instead, and fresh memory is the larger part of what a model
// download costs the hub (bench/results/README.md, "Session 7: network pull").
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';

/** Buffer size: the socket takes 1 MiB writes well; 64 KiB would cost 16× the calls. */
const CHUNK = 1 << 20;
/** Buffers per response: one being read while the others' writes drain into the socket. */
const RING = 4;

/**
 * Sends bytes `start`..`end` (inclusive) of the open file `fd` as the body of `res` (its head must
 * be written already, with the range's content-length) and ends it. The file is closed when the
 * body is done, the client went away, or a read failed (then the response is destroyed: a client
 * sees a body shorter than its content-length, never other bytes).
 */
export function sendRange(res: ServerResponse, fd: number, start: number, end: number): void {
  const free = Array.from({ length: Math.min(RING, Math.ceil((end - start + 1) / CHUNK)) }, () => Buffer.allocUnsafe(Math.min(CHUNK, end - start + 1)));
  let pos = start;
  let reading = false;
  let writing = 0;
  let stopped = false;
  let closed = false;
  // the descriptor is closed only when no read is in flight (a closed number can be reused at once)
  const closeFile = () => {
    if (closed || reading) return;
    closed = true;
    fs.close(fd, () => undefined);
  };
  const stop = (err?: Error) => {
    if (stopped) return;
    stopped = true;
    if (err) res.destroy(err);
    closeFile();
  };
  res.once('close', () => stop());
  const pump = (): void => {
    // one read at a time, so the writes go out in file order; it overlaps the earlier buffers' writes
    if (!stopped && !reading && free.length && pos <= end) {
      const buf = free.pop()!;
      const at = pos;
      const want = Math.min(buf.length, end - pos + 1);
      pos += want;
      reading = true;
      fs.read(fd, buf, 0, want, at, (err, n) => {
        reading = false;
        if (stopped) { closeFile(); return; }
        if (err) { stop(err); return; }
        if (n !== want) { stop(new Error(`the file ended at byte ${at + n}, inside the range sent`)); return; }
        writing++;
        res.write(buf.subarray(0, n), (werr) => {
          writing--;
          if (werr) { stop(werr); return; }
          free.push(buf);
          pump();
        });
        pump();
      });
    }
    if (!stopped && pos > end && !reading && !writing) {
      stopped = true;
      closeFile();
      res.end();
    }
  };
  pump();
}
