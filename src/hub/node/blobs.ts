// The blob store: content-addressed files under <hub>/blobs/sha256/<hash>. Bytes arrive only for an
// upload session (a publish request whose signed metadata the hub has already checked): they are
// written to uploads/<session>/ while being hashed, must be exactly the declared length and hash, and
// enter sha256/ only when the publish commits; a failed or abandoned publish's files are deleted.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OutpostError } from '../../common/errors.ts';

export const SHA256_RE = /^[0-9a-f]{64}$/;
export const UPLOAD_ID_RE = /^[0-9a-f]{32}$/;

export class BlobStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
    fs.mkdirSync(path.join(root, 'sha256'), { recursive: true });
    fs.mkdirSync(path.join(root, 'uploads'), { recursive: true });
  }

  path(sha256: string): string {
    if (!SHA256_RE.test(sha256)) throw new OutpostError('input', `"${sha256}" is not a sha256 hex digest`);
    return path.join(this.root, 'sha256', sha256);
  }

  has(sha256: string): boolean {
    return fs.existsSync(this.path(sha256));
  }

  uploadDir(id: string): string {
    if (!UPLOAD_ID_RE.test(id)) throw new OutpostError('input', `"${id}" is not an upload id`);
    return path.join(this.root, 'uploads', id);
  }

  pendingPath(id: string, sha256: string): string {
    if (!SHA256_RE.test(sha256)) throw new OutpostError('input', `"${sha256}" is not a sha256 hex digest`);
    return path.join(this.uploadDir(id), sha256);
  }

  /** Where a blob's bytes are for a commit in progress: pending in the session, or already stored. */
  locate(id: string | undefined, sha256: string): string | undefined {
    if (id !== undefined && fs.existsSync(this.pendingPath(id, sha256))) return this.pendingPath(id, sha256);
    return this.has(sha256) ? this.path(sha256) : undefined;
  }

  /**
   * Receive a blob of an upload session: exactly `length` bytes whose sha256 is `expected`. A body
   * longer than declared is cut off and refused as soon as it passes the length.
   */
  async receive(id: string, expected: string, length: number, body: Readable): Promise<void> {
    const final = this.pendingPath(id, expected);
    fs.mkdirSync(path.dirname(final), { recursive: true });
    const tmp = `${final}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.part`;
    const hash = crypto.createHash('sha256');
    let got = 0;
    try {
      // pipeline owns both streams' errors: a client that hangs up mid-upload fails this call,
      // never the process (an unhandled write-stream error used to end the hub).
      await pipeline(body, async function* (chunks: AsyncIterable<Buffer>) {
        for await (const b of chunks) {
          got += b.length;
          if (got > length) throw new OutpostError('input', `blob ${expected.slice(0, 12)}… is larger than the ${length} bytes its signed metadata declares`);
          hash.update(b);
          yield b;
        }
      }, fs.createWriteStream(tmp, { mode: 0o644 }));
      if (got !== length) throw new OutpostError('input', `blob ${expected.slice(0, 12)}… has ${got} bytes, not the ${length} its signed metadata declares`);
      const digest = hash.digest('hex');
      if (digest !== expected) throw new OutpostError('input', `uploaded blob has sha256 ${digest}, not the announced ${expected}`);
      fs.renameSync(tmp, final);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  /** Move a session's blob into the store (a no-op when the store has it). Returns true when it moved. */
  adopt(id: string, sha256: string): boolean {
    const from = this.pendingPath(id, sha256);
    if (!fs.existsSync(from)) return false;
    if (this.has(sha256)) { fs.rmSync(from, { force: true }); return false; }
    fs.renameSync(from, this.path(sha256));
    return true;
  }

  /** Forget a blob that a failed commit had moved in (the database never recorded it). */
  discard(sha256: string): void {
    fs.rmSync(this.path(sha256), { force: true });
  }

  dropUpload(id: string): void {
    fs.rmSync(this.uploadDir(id), { recursive: true, force: true });
  }
}
