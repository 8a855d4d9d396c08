// How much disk the data folder takes, by what it holds: the database (with its WAL and shared
// memory files), installed models, uploads, the outputs the app wrote, and anything else there.
import fs from 'node:fs';
import path from 'node:path';
import { DB_FILE } from './store.ts';

export interface DataFolderUsage { database: number; models: number; uploads: number; outputs: number; other: number; total: number }

/** Bytes of the regular files under `p` (links are not followed). */
export function folderBytes(p: string): number {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let n = 0;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(p);
  } catch { /* unreadable: counted as empty */ }
  for (const e of entries) n += folderBytes(path.join(p, e));
  return n;
}

const BUCKETS: Record<string, keyof DataFolderUsage> = { [DB_FILE]: 'database', [`${DB_FILE}-wal`]: 'database', [`${DB_FILE}-shm`]: 'database', models: 'models', uploads: 'uploads', outputs: 'outputs' };

/** One walk of the data folder, each top-level entry counted under what it is. */
export function dataFolderUsage(home: string): DataFolderUsage {
  const u: DataFolderUsage = { database: 0, models: 0, uploads: 0, outputs: 0, other: 0, total: 0 };
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(home);
  } catch { /* no data folder yet */ }
  for (const e of entries) {
    const n = folderBytes(path.join(home, e));
    u[BUCKETS[e] ?? 'other'] += n;
    u.total += n;
  }
  return u;
}
