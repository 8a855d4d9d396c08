// A model package's two files and the hash every check uses: kept apart from ./load.ts (the card
// schema, zod, the graph inspection) so that scoring, which only re-hashes an installed model, does
// not load those.
import crypto from 'node:crypto';
import fs from 'node:fs';

export const MODEL_FILE = 'model.onnx';
export const CARD_FILE = 'card.json';

export const sha256 = (b: Uint8Array | string): string => crypto.createHash('sha256').update(b).digest('hex');

/** sha256 (hex) of a file, read through one reused buffer of `chunkBytes` (never the whole file in memory). */
export function sha256FileSync(file: string, chunkBytes = 4 << 20): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
