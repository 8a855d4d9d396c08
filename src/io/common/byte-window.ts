// A growable window over a byte stream for the incremental decoders: bytes are appended at the
// end, consumed from the start, and the window tracks the absolute stream offset of its first
// byte so that decoders can report exact resume offsets. Callers may fill it in place
// (reserve + commit) so a file reader needs no intermediate copy.

export class ByteWindow {
  buf: Uint8Array;
  /** first byte not yet consumed */
  start = 0;
  /** end of the valid bytes */
  end = 0;
  /** absolute stream offset of buf[0] */
  base: number;

  constructor(offset: number, initialBytes = 64 * 1024) {
    this.base = offset;
    this.buf = new Uint8Array(initialBytes);
  }

  /** A writable view of at least `min` free bytes after the pending ones; then commit(n). */
  reserve(min: number): Uint8Array {
    if (this.buf.length - this.end < min && this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    if (this.buf.length - this.end < min) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.end + min));
      grown.set(this.buf.subarray(0, this.end));
      this.buf = grown;
    }
    return this.buf.subarray(this.end);
  }

  commit(bytes: number): void {
    this.end += bytes;
  }

  push(chunk: Uint8Array): void {
    this.reserve(chunk.length).set(chunk);
    this.commit(chunk.length);
  }

  /** Absolute stream offset of the first unconsumed byte. */
  get offset(): number {
    return this.base + this.start;
  }

  get pending(): number {
    return this.end - this.start;
  }
}

/** What the file readers drive: bytes in, batches out. */
export interface ChunkDecoder<B> {
  readonly window: ByteWindow;
  /** A batch when one is full (or, with eof, the rest); null when more bytes are needed / done. */
  next(eof: boolean): B | null;
}
