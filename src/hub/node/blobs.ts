// The blob store: content-addressed files under <hub>/blobs/sha256/<hash>. A blob is written to a
// temp file while being hashed and renamed into place only when the hash is the one announced, so
// a half-uploaded or wrong blob is never visible.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OutpostError } from '../../common/errors.ts';

export const SHA256_RE = /^[0-9a-f]{64}$/;

export class BlobStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
    fs.mkdirSync(path.join(root, 'sha256'), { recursive: true });
    fs.mkdirSync(path.join(root, 'tmp'), { recursive: true });
  }

  path(sha256: string): string {
    if (!SHA256_RE.test(sha256)) throw new OutpostError('input', `"${sha256}" is not a sha256 hex digest`);
    return path.join(this.root, 'sha256', sha256);
  }

  has(sha256: string): boolean {
    return fs.existsSync(this.path(sha256));
  }

  /** Store a stream whose sha256 must be `expected`; refuses beyond maxBytes. Returns its length. */
  async put(expected: string, body: Readable, maxBytes: number): Promise<number> {
    const final = this.path(expected);
    const tmp = path.join(this.root, 'tmp', `${expected}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`);
    const hash = crypto.createHash('sha256');
    let length = 0;
    try {
      // pipeline owns both streams' errors: a client that hangs up mid-upload fails this call,
      // never the process (an unhandled write-stream error used to end the hub).
      await pipeline(body, async function* (chunks: AsyncIterable<Buffer>) {
        for await (const b of chunks) {
          length += b.length;
          if (length > maxBytes) throw new OutpostError('input', `blob is larger than this hub accepts (${maxBytes} bytes)`);
          hash.update(b);
          yield b;
        }
      }, fs.createWriteStream(tmp, { mode: 0o644 }));
      const got = hash.digest('hex');
      if (got !== expected) throw new OutpostError('input', `uploaded blob has sha256 ${got}, not the announced ${expected}`);
      fs.renameSync(tmp, final);
      return length;
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }
}
