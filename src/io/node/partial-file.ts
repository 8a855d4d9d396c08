// An output file that becomes visible only when complete: bytes go to a temp file next to the
// target (`.<name>.partial-<random>`, same directory so the final rename is atomic), written at
// explicit positions so a resume can cut it back to a checkpoint and continue exactly there.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';

/** A fresh temp-file name for `target`: `.<name>.partial-<random>` in the same folder (so the rename is atomic). */
export function partialPathFor(target: string): string {
  const abs = path.resolve(target);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.partial-${randomBytes(6).toString('hex')}`);
}

export class PartialFile {
  readonly target: string;
  readonly tempPath: string;
  /** bytes written so far (the next write position) */
  bytes: number;
  private handle: FileHandle | null;

  private constructor(target: string, tempPath: string, handle: FileHandle, bytes: number) {
    this.target = target;
    this.tempPath = tempPath;
    this.handle = handle;
    this.bytes = bytes;
  }

  /** A new, empty temp file for `target`. */
  static async create(target: string): Promise<PartialFile> {
    const dir = path.dirname(path.resolve(target));
    const stat = await fs.stat(dir).catch(() => undefined);
    if (!stat?.isDirectory()) throw new OutpostError('input', `the output directory ${dir} does not exist`, { file: target });
    const existing = await fs.stat(target).catch(() => undefined);
    if (existing?.isDirectory()) throw new OutpostError('input', 'the output path is a directory', { file: target });
    const tempPath = partialPathFor(target);
    try {
      const handle = await fs.open(tempPath, 'wx');
      return new PartialFile(target, tempPath, handle, 0);
    } catch (e) {
      throw new OutpostError('input', `cannot create the output file: ${(e as Error).message}`, { file: target });
    }
  }

  /** Reopen a temp file from a checkpoint, cut back to the `bytes` it had then. */
  static async resume(target: string, tempPath: string, bytes: number): Promise<PartialFile> {
    if (path.dirname(path.resolve(tempPath)) !== path.dirname(path.resolve(target)) || !path.basename(tempPath).startsWith(`.${path.basename(target)}.partial-`)) {
      throw new OutpostError('input', `the checkpoint's partial file ${tempPath} does not belong to this output`, { file: target });
    }
    let handle: FileHandle;
    try {
      handle = await fs.open(tempPath, 'r+');
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it no longer exists' : (e as Error).message;
      throw new OutpostError('input', `cannot resume the output: partial file ${tempPath}: ${reason}`, { file: target });
    }
    const size = (await handle.stat()).size;
    if (size < bytes) {
      await handle.close();
      throw new OutpostError('input', `cannot resume the output: partial file ${tempPath} has ${size} bytes, the checkpoint expects ${bytes}`, { file: target });
    }
    await handle.truncate(bytes); // drop whatever was written after the checkpoint
    return new PartialFile(target, tempPath, handle, bytes);
  }

  private open(): FileHandle {
    if (this.handle === null) throw new Error(`output ${this.target} is already closed`);
    return this.handle;
  }

  async write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const handle = this.open();
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, this.bytes + done);
      done += bytesWritten;
    }
    this.bytes += bytes.length;
  }

  async sync(): Promise<void> {
    await this.open().sync();
  }

  /** fsync, close and rename into place; then fsync the directory so the rename is durable too. */
  async commit(): Promise<void> {
    const handle = this.open();
    await handle.sync();
    await handle.close();
    this.handle = null;
    await fs.rename(this.tempPath, this.target);
    await syncDirectory(path.dirname(path.resolve(this.target)));
  }

  /** Close without committing; the temp file stays for a resume. */
  async close(): Promise<void> {
    if (this.handle === null) return;
    const handle = this.handle;
    this.handle = null;
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // some platforms (Windows) cannot open or fsync a directory; the rename itself is still atomic
  } finally {
    await handle?.close();
  }
}

/**
 * Remove temp files of `target` left by runs that were killed (`.<name>.partial-*` beside it),
 * except those in `keep` (the ones a checkpoint continues: SinkState's tempPath and sideFile).
 * Returns the files removed.
 */
export async function removeStalePartials(target: string, keep: readonly (string | undefined)[] = []): Promise<string[]> {
  const dir = path.dirname(path.resolve(target));
  const prefix = `.${path.basename(target)}.partial-`;
  const kept = new Set(keep.flatMap((k) => (k ? [path.resolve(k)] : [])));
  const removed: string[] = [];
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const file = path.join(dir, name);
    if (!name.startsWith(prefix) || kept.has(file)) continue;
    await fs.rm(file, { force: true });
    removed.push(file);
  }
  return removed;
}
