// Drives a chunk decoder from a file: reads fixed-size chunks straight into the decoder's window
// (no intermediate copy), so memory stays at one chunk plus the longest row however big the file.

import type { FileHandle } from 'node:fs/promises';
import { OutpostError } from '../../common/errors.ts';
import type { ChunkDecoder } from '../common/byte-window.ts';

export const CHUNK_BYTES = 1024 * 1024;

export function throwIfAborted(signal: AbortSignal | undefined, file: string): void {
  if (signal?.aborted) throw new OutpostError('cancelled', 'reading was cancelled', { file });
}

/** Batches from `handle` starting at byte `position`, until the end of the file. */
export async function* decodeFile<B>(handle: FileHandle, file: string, position: number, decoder: ChunkDecoder<B>, signal: AbortSignal | undefined): AsyncGenerator<B> {
  let batch: B | null;
  for (;;) {
    throwIfAborted(signal, file);
    while ((batch = decoder.next(false)) !== null) {
      yield batch;
      throwIfAborted(signal, file);
    }
    const region = decoder.window.reserve(CHUNK_BYTES);
    const { bytesRead } = await handle.read(region, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) break;
    decoder.window.commit(bytesRead);
    position += bytesRead;
  }
  while ((batch = decoder.next(true)) !== null) {
    yield batch;
    throwIfAborted(signal, file);
  }
}
