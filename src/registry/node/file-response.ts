// A fetch `Response` whose body is a byte range of a local file (`pull --bundle`: a bundle entry).
// Any consumer can read it as an ordinary web stream (a large one opened lazily, so a body that is
// never read never opens the file; a small one read at once). `downloadTarget` instead takes the
// range it names (`fileRangeOf`) and reads it with `openRangeFile` — the bytes already read for a
// small range, else the file, synchronously into one reused buffer: no web-stream hops and no
// thread-pool round trips — the bytes still go through the same pass (length bound, hashes, sink,
// positional writes) as a network body.
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
  /** the whole entry this range is the rest of (a resumed download), for messages */
  entry?: { start: number; length: number };
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

const MISSING = Symbol('outpost.missingFromFile');

/** A 404 for a path the file (a bundle) does not hold: `missingFrom` tells a reader which file lacked it. */
export function missingResponse(file: string): Response {
  const res = new Response(`not in ${file}`, { status: 404, statusText: 'not in the bundle' });
  Object.defineProperty(res, MISSING, { value: file });
  return res;
}

/** The file a `missingResponse` says lacks the path (any other response: undefined). */
export function missingFrom(res: Response): string | undefined {
  return (res as unknown as Record<symbol, string | undefined>)[MISSING];
}

/** The file range behind a `fileResponse` (any other response: undefined). */
export function fileRangeOf(res: Response): FileRange | undefined {
  return (res as unknown as Record<symbol, FileRange | undefined>)[RANGE];
}

const endedInside = (range: FileRange, at: number): Error => {
  const { start, length } = range.entry ?? range;
  return new Error(`${range.file} ends at byte ${range.start + at}, inside the entry at ${start}–${start + length} (the file was cut or replaced while it was read)`);
};

/** An open file range, read in order into the caller's buffer. */
export interface RangeFile {
  /** reads the range's bytes from offset `at` into `into` (at least one byte); past its end: 0 */
  read(into: Uint8Array, at: number): number;
  close(): void;
}

/**
 * Opens `range` for synchronous reads into one buffer of the caller's (`downloadTarget` reads a
 * bundle entry, hashes and writes it on its own thread through one cache-warm buffer: see
 * download.ts `copyLocal`). A file that cannot be opened
 * or read throws naming it; one that ends inside the range (cut or replaced while read) throws
 * naming the byte, after delivering what it held.
 */
export function openRangeFile(range: FileRange): RangeFile {
  if (range.bytes) {
    const bytes = range.bytes;
    return {
      read(into, at) {
        if (at >= range.length) return 0;
        if (at >= bytes.length) throw endedInside(range, bytes.length);
        const n = Math.min(into.length, bytes.length - at);
        into.set(bytes.subarray(at, at + n));
        return n;
      },
      close() {},
    };
  }
  let fd: number;
  try {
    fd = fs.openSync(range.file, fs.constants.O_RDONLY);
  } catch (e) {
    throw new Error(`cannot read ${range.file}: ${(e as Error).message}`);
  }
  return {
    read(into, at) {
      const want = Math.min(into.length, range.length - at);
      if (want <= 0) return 0;
      let n: number;
      try {
        n = fs.readSync(fd, into, 0, want, range.start + at);
      } catch (e) {
        throw new Error(`cannot read ${range.file} at byte ${range.start + at}: ${(e as Error).message}`);
      }
      if (n === 0) throw endedInside(range, at);
      return n;
    },
    close() { fs.closeSync(fd); },
  };
}
