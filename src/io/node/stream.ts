// Drives a chunk decoder from a file. The next chunk is read (on libuv's thread pool) while the
// current one is decoded, so parsing rarely waits for I/O; memory stays at two chunks plus the
// decoder's window (one chunk plus the longest row), however big the file.

import type { FileHandle } from 'node:fs/promises';
import { OutpostError } from '../../common/errors.ts';
import type { ChunkDecoder } from '../common/byte-window.ts';

export const CHUNK_BYTES = 1024 * 1024;

export function throwIfAborted(signal: AbortSignal | undefined, file: string): void {
  if (signal?.aborted) throw new OutpostError('cancelled', 'reading was cancelled', { file });
}

/** Batches from `handle` starting at byte `position`, until the end of the file. */
export async function* decodeFile<B>(handle: FileHandle, file: string, position: number, decoder: ChunkDecoder<B>, signal: AbortSignal | undefined): AsyncGenerator<B> {
  const buffers = [new Uint8Array(CHUNK_BYTES), new Uint8Array(CHUNK_BYTES)];
  let which = 0;
  let pending = handle.read(buffers[which], 0, CHUNK_BYTES, position);
  try {
    for (;;) {
      throwIfAborted(signal, file);
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const chunk = buffers[which];
      position += bytesRead;
      which ^= 1;
      pending = handle.read(buffers[which], 0, CHUNK_BYTES, position); // read ahead
      decoder.window.push(chunk.subarray(0, bytesRead));
      for (let batch = decoder.next(false); batch !== null; batch = decoder.next(false)) {
        yield batch;
        throwIfAborted(signal, file);
      }
    }
    for (let batch = decoder.next(true); batch !== null; batch = decoder.next(true)) {
      yield batch;
      throwIfAborted(signal, file);
    }
  } finally {
    // an early stop (the consumer broke out, or an error) must not leave a read in flight
    await pending.catch(() => undefined);
  }
}
