// Files the browser uploads in serve mode: each into a fresh folder under <home>/uploads (the user's
// file name kept, since outputs are named after it), written as `<name>.part` and renamed when
// complete, within the `uploadMaxBytes` setting and the free disk space. Uploads are the app's
// copies, so the app also removes them: with their job, after the retention age, and when abandoned.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { OutpostError } from '../../common/errors.ts';
import type { UploadResult } from '../common/contract.ts';

export const UPLOADS_DIR = 'uploads';
const PART = '.part';
/** An upload nothing was scored from, or a partial one, is abandoned after this long. */
export const ABANDONED_UPLOAD_MS = 24 * 3_600_000;
const ABANDONED_PART_MS = 3_600_000;

/** A file name safe to put in the uploads folder: no separators, no leading dots, bounded length. */
export function safeUploadName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^\w.\- ]+/g, '_').replace(/^[.\s]+/, '').slice(-120);
  return clean || 'upload';
}

/** Store `body` as a new upload; a failed or refused upload leaves nothing behind. */
export async function receiveUpload(uploadsDir: string, name: string, body: AsyncIterable<Buffer>, declaredBytes?: number): Promise<UploadResult> {
  const clean = safeUploadName(name);
  fs.mkdirSync(uploadsDir, { recursive: true, mode: 0o700 });
  if (declaredBytes !== undefined) {
    const { bavail, bsize } = fs.statfsSync(uploadsDir);
    if (declaredBytes > bavail * bsize) throw new OutpostError('input', `not enough disk space for ${clean} (${declaredBytes} bytes; ${bavail * bsize} free in the data folder)`);
  }
  const dir = fs.mkdtempSync(path.join(uploadsDir, 'u-'));
  const final = path.join(dir, clean);
  const tmp = final + PART;
  try {
    await pipeline(body, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    fs.renameSync(tmp, final);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { path: final, name: clean, size: fs.statSync(final).size };
}

/** The upload folder a job's input lives in, or undefined when its input is not an upload. */
export function uploadFolderOf(uploadsDir: string, inputPath: string): string | undefined {
  const rel = path.relative(uploadsDir, inputPath);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const first = rel.split(path.sep)[0];
  return first.startsWith('u-') ? path.join(uploadsDir, first) : undefined;
}

export interface UploadUse {
  /** upload folder → the newest time (ms) a job read from it, or Infinity while a job still needs it */
  lastUse: Map<string, number>;
}

/**
 * Remove uploads nobody needs any more: those whose jobs all finished longer ago than the retention
 * age, those no job ever read (abandoned) and partial ones left by a dropped connection or a crash.
 * Returns the folders removed.
 */
export function sweepUploads(uploadsDir: string, use: UploadUse, retentionMs: number, now = Date.now()): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(uploadsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !e.name.startsWith('u-')) continue;
    const dir = path.join(uploadsDir, e.name);
    const files = fs.readdirSync(dir);
    const newest = Math.max(fs.statSync(dir).mtimeMs, ...files.map((f) => fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.mtimeMs ?? 0));
    const used = use.lastUse.get(dir);
    const partial = files.length === 0 || files.every((f) => f.endsWith(PART));
    const stale = used === undefined
      ? now - newest > (partial ? ABANDONED_PART_MS : ABANDONED_UPLOAD_MS)
      : now - used > retentionMs;
    if (stale) {
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}
