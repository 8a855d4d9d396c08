// Opening an input file with the checks every format shares: it exists, it is a regular file and
// it is not empty. Each failure is an OutpostError('input') that names the file.

import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { OutpostError } from '../../common/errors.ts';

export interface InputFile { handle: FileHandle; size: number }

/** Why opening a file to read failed, in words ("file not found", …) rather than the errno text. */
export function openFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied: cannot read the file';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot open the file: ${(e as Error).message}`;
}

export async function openInputFile(file: string): Promise<InputFile> {
  let handle: FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    throw new OutpostError('input', openFailure(e), { file });
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new OutpostError('input', 'is a directory, not a file', { file });
    if (!stat.isFile()) throw new OutpostError('input', 'is not a regular file', { file });
    if (stat.size === 0) throw new OutpostError('input', 'the file is empty (0 bytes)', { file });
    return { handle, size: stat.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Read up to `length` bytes at `position` (fewer only at the end of the file). */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(out, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? out : out.subarray(0, filled);
}
