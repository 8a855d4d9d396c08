// A fetch `Response` whose body is a byte range of a local file (`pull --bundle`: a bundle entry).
// Any consumer can read it as an ordinary web stream (a large one opened lazily, so a body that is
// never read never opens the file; a small one read at once). `downloadTarget` instead takes the
// range it names (`fileRangeOf`) and reads it with `readFileRange` — the bytes already read for a
// small range, else the file into a few recycled buffers: no web-stream hops, no copy per chunk and
// no fresh 1 MiB buffer per chunk for the collector — the bytes still go through the same pass
// (length bound, hashes, sink, positional writes) as a network body.
//
// The file is untrusted transport, like a connection: a range that ends early (the file was cut
// or replaced while it was read) is reported as an interruption naming the file and the byte,
// and whatever it does deliver is verified against the signed length and hashes as any body is.
import fs from 'node:fs';
import { Readable } from 'node:stream';

export interface FileRange {
  file: string;
  start: number;
  length: number;
  /** the range's bytes, when already read (a small range; fewer than `length`: the file ended early) */
  bytes?: Uint8Array;
}

const RANGE = Symbol('outpost.fileRange');

// Metadata, aliases and cards (a few KiB) are read at once: a web stream over a file stream costs
// thread-pool hops (open, read, close) per document. A range the file no longer holds in full is
// delivered short, and the reader's signed length check refuses it as it would a cut connection.
const SMALL = 64 * 1024;

function readSmall(range: FileRange): Uint8Array {
  const fd = fs.openSync(range.file, 'r');
  try {
    const b = Buffer.allocUnsafe(range.length);
    let got = 0;
    while (got < range.length) {
      const n = fs.readSync(fd, b, got, range.length - got, range.start + got);
      if (n === 0) break;
      got += n;
    }
    return b.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/** A response with `range`'s bytes as its body. */
export function fileResponse(range: FileRange, init: ResponseInit): Response {
  let body: ReadableStream<Uint8Array> | Uint8Array | null = null;
  let bytes: Uint8Array | undefined;
  if (range.length > 0 && range.length <= SMALL) {
    body = bytes = readSmall(range);
  } else if (range.length > 0) {
    let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
    const open = () => (inner ??= (Readable.toWeb(fs.createReadStream(range.file, { start: range.start, end: range.start + range.length - 1, highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>).getReader());
    body = new ReadableStream<Uint8Array>({
      async pull(c) {
        const r = await open().read();
        if (r.done) c.close();
        else c.enqueue(r.value);
      },
      async cancel(why) { await inner?.cancel(why); },
    }, { highWaterMark: 0 });
  }
  const res = new Response(body, init);
  Object.defineProperty(res, RANGE, { value: { ...range, ...(bytes ? { bytes } : {}) } });
  return res;
}

/** The file range behind a `fileResponse` (any other response: undefined). */
export function fileRangeOf(res: Response): FileRange | undefined {
  return (res as unknown as Record<symbol, FileRange | undefined>)[RANGE];
}

/** Chunks lent by `readFileRange`: give each back (`release`) once nothing uses it any more. */
export interface RangeReader {
  /** the next chunk in order; null after the range's last byte */
  next(): Promise<Uint8Array | null>;
  release(chunk: Uint8Array): void;
  close(): void;
}

const readAt = (fd: number, buf: Uint8Array, length: number, at: number) =>
  new Promise<number>((resolve, reject) => fs.read(fd, buf, 0, length, at, (e, n) => (e ? reject(e) : resolve(n))));

const endedInside = (range: FileRange, at: number): Error =>
  new Error(`${range.file} ends at byte ${range.start + at}, inside the entry at ${range.start}–${range.start + range.length} (the file was cut or replaced while it was read)`);

/** A reader over bytes already read: one chunk, then the range's end or where the file ended. */
function prefetched(range: FileRange, bytes: Uint8Array): RangeReader {
  let done = false;
  return {
    async next() {
      if (!done) {
        done = true;
        if (bytes.length > 0) return bytes;
      }
      if (bytes.length < range.length) throw endedInside(range, bytes.length);
      return null;
    },
    release() {},
    close() {},
  };
}

/**
 * Read `range` in chunks of up to `chunkBytes` into at most `buffers` recycled buffers, keeping
 * `ahead` reads in flight on the thread pool (so reading overlaps the caller's hashing). `next()`
 * waits for a free buffer when all are lent: the caller's releases are the back-pressure. A file
 * that ends inside the range: what it held is delivered, then `next()` rejects with an error naming
 * the file and the byte; a file that cannot be opened or read throws naming it.
 */
export function readFileRange(range: FileRange, opts: { chunkBytes?: number; buffers?: number; ahead?: number } = {}): RangeReader {
  if (range.bytes) return prefetched(range, range.bytes);
  const chunk = Math.max(1, Math.min(opts.chunkBytes ?? 1 << 20, range.length || 1));
  const cap = Math.max(2, opts.buffers ?? 16);
  const ahead = Math.max(1, Math.min(opts.ahead ?? 3, cap - 1));
  let fd: number;
  try {
    fd = fs.openSync(range.file, fs.constants.O_RDONLY);
  } catch (e) {
    throw new Error(`cannot read ${range.file}: ${(e as Error).message}`);
  }
  const free: Uint8Array[] = [];
  const waiting: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  const owner = new WeakMap<ArrayBuffer, Uint8Array>();
  let made = 0;
  let issued = 0; // bytes of the range asked for so far
  let closed = false;
  let ended: Error | undefined;
  const queue: Promise<{ b: Uint8Array; got: number }>[] = [];
  let delivered = 0;
  const take = (): Promise<Uint8Array> => {
    const b = free.pop();
    if (b) return Promise.resolve(b);
    if (made < cap) {
      made++;
      const nb = new Uint8Array(chunk);
      owner.set(nb.buffer, nb);
      return Promise.resolve(nb);
    }
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
  const give = (b: Uint8Array) => {
    const w = waiting.shift();
    if (w) w.resolve(b);
    else free.push(b);
  };
  const issue = () => {
    if (issued >= range.length || closed) return;
    const at = issued;
    const want = Math.min(chunk, range.length - at);
    issued += want;
    const p = take().then(async (b) => {
      let got = 0;
      // a read may return less than asked (a network file system): read on until the chunk is full or the file ends
      while (got < want) {
        let n: number;
        try {
          n = await readAt(fd, b.subarray(got), want - got, range.start + at + got);
        } catch (e) {
          throw new Error(`cannot read ${range.file} at byte ${range.start + at + got}: ${(e as Error).message}`);
        }
        if (n === 0) break;
        got += n;
      }
      return { b, got };
    });
    p.catch(() => undefined); // observed by next(); a read after close is not an error
    queue.push(p);
  };
  return {
    async next() {
      if (ended !== undefined) throw ended;
      while (queue.length < ahead && issued < range.length) issue();
      const p = queue.shift();
      if (!p) return null;
      const { b, got } = await p;
      const want = Math.min(chunk, range.length - delivered);
      if (got < want) {
        // the file ends inside the range (cut or replaced while read): what it held is delivered, then the end reported
        ended = endedInside(range, delivered + got);
        if (got === 0) { give(b); throw ended; }
      } else {
        issue();
      }
      delivered += got;
      return b.subarray(0, got);
    },
    release(c) {
      const b = owner.get(c.buffer as ArrayBuffer);
      if (b) give(b);
    },
    close() {
      if (closed) return;
      closed = true;
      for (const w of waiting.splice(0)) w.reject(new Error('closed'));
      // reads still in flight hold the fd: close it once they are settled
      void Promise.allSettled(queue).then(() => fs.closeSync(fd));
    },
  };
}
