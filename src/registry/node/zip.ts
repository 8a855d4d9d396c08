// Just enough of ZIP to take named files out of a NuGet package (.nupkg, a ZIP archive): the
// central directory (ZIP64 sizes and offsets included), stored and deflated members, each checked
// against its CRC-32 and size while it streams to disk and is hashed. Nothing else is extracted.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';

export interface ZipEntry { name: string; method: number; crc32: number; compressedSize: number; size: number; localOffset: number }

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

class ZipError extends Error {}

function readAt(fd: number, pos: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const n = fs.readSync(fd, b, 0, length, pos);
  return b.subarray(0, n);
}

/** The archive's members by name. Throws (with the reason) when `file` is not a readable ZIP archive. */
export function listZip(file: string): Map<string, ZipEntry> {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = readAt(fd, size - tailLen, tailLen);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === EOCD) { at = i; break; }
    if (at < 0) throw new ZipError('not a ZIP archive (no end-of-central-directory record)');
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdOffset = tail.readUInt32LE(at + 16);
    if ((count === 0xffff || cdOffset === 0xffffffff) && at >= 20 && tail.readUInt32LE(at - 20) === EOCD64_LOCATOR) {
      const eocd64 = readAt(fd, Number(tail.readBigUInt64LE(at - 12)), 56);
      count = Number(eocd64.readBigUInt64LE(32));
      cdSize = Number(eocd64.readBigUInt64LE(40));
      cdOffset = Number(eocd64.readBigUInt64LE(48));
    }
    if (cdOffset + cdSize > size) throw new ZipError('the central directory lies outside the file (truncated?)');
    const cd = readAt(fd, cdOffset, cdSize);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw new ZipError(`central directory entry ${i + 1} is damaged`);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const e: ZipEntry = {
        name: cd.toString('utf8', p + 46, p + 46 + nameLen), method: cd.readUInt16LE(p + 10), crc32: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20), size: cd.readUInt32LE(p + 24), localOffset: cd.readUInt32LE(p + 42),
      };
      // ZIP64 extra field: the 64-bit values of the fields set to 0xffffffff, in this order
      for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {
        const id = cd.readUInt16LE(x);
        const len = cd.readUInt16LE(x + 2);
        if (id === 0x0001) {
          let q = x + 4;
          const next = (): number => { const v = Number(cd.readBigUInt64LE(q)); q += 8; return v; };
          if (e.size === 0xffffffff) e.size = next();
          if (e.compressedSize === 0xffffffff) e.compressedSize = next();
          if (e.localOffset === 0xffffffff) e.localOffset = next();
        }
        x += 4 + len;
      }
      entries.set(e.name, e);
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  } finally {
    fs.closeSync(fd);
  }
}

/** Write one member to `dest` (a new file), checking its CRC-32 and size; returns its sha256 and size. */
export async function extractZipEntry(file: string, e: ZipEntry, dest: string): Promise<{ sha256: string; size: number }> {
  const fd = fs.openSync(file, 'r');
  let start: number;
  try {
    const local = readAt(fd, e.localOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw new ZipError(`${e.name}: its local header is damaged`);
    start = e.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    fs.closeSync(fd);
  }
  if (e.method !== 0 && e.method !== 8) throw new ZipError(`${e.name}: compression method ${e.method} is not supported (stored or deflated only)`);
  const hash = crypto.createHash('sha256');
  let crc = 0;
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > e.size) return done(new ZipError(`${e.name}: more than the ${e.size} bytes its directory entry says`));
      crc = zlib.crc32(chunk, crc);
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const source = e.compressedSize === 0 ? Readable.from([]) : fs.createReadStream(file, { start, end: start + e.compressedSize - 1 });
  const out = fs.createWriteStream(dest, { flags: 'wx', mode: 0o600 });
  if (e.method === 8) await pipeline(source, zlib.createInflateRaw(), check, out);
  else await pipeline(source, check, out);
  if (size !== e.size) throw new ZipError(`${e.name}: ${size} bytes extracted, its directory entry says ${e.size}`);
  if ((crc >>> 0) !== e.crc32) throw new ZipError(`${e.name}: CRC-32 mismatch (damaged archive)`);
  return { sha256: hash.digest('hex'), size };
}

export const isZipError = (e: unknown): e is Error => e instanceof ZipError;
