// The data folder is the owner's alone: it holds predictions, uploaded inputs and outputs (possibly
// personal data), so the folder and what Outpost keeps in it are 0700 (folders) / 0600 (files),
// the database's WAL and shared-memory files included. Stores made by earlier versions (0755,
// db 0644) are fixed when opened. POSIX only: on Windows the user profile's ACLs already do this.
import fs from 'node:fs';
import path from 'node:path';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
/** What Outpost keeps directly in the data folder (a folder shared with other things is left alone otherwise). */
const OURS = ['outpost.db', 'outpost.db-wal', 'outpost.db-shm', 'models', 'jobs', 'uploads', 'outputs', 'quarantine', 'trust'];

const posix = process.platform !== 'win32';

function fix(p: string): void {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st || st.isSymbolicLink()) return; // never follow a link out of the folder
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== DIR_MODE) fs.chmodSync(p, DIR_MODE);
    for (const e of fs.readdirSync(p)) fix(path.join(p, e));
  } else if (st.isFile() && (st.mode & 0o077) !== 0) {
    fs.chmodSync(p, st.mode & 0o700);
  }
}

/**
 * Make the data folder owner-only. Cheap when it already is (only the database files are checked);
 * a folder from an earlier version is fixed throughout. A folder someone else owns, or a shared one
 * like /tmp (sticky bit), keeps its own mode: only what Outpost put in it is changed.
 */
export function secureDataFolder(home: string): void {
  if (!posix) return;
  const st = fs.statSync(home);
  const shared = (st.mode & 0o1000) !== 0 || (typeof process.getuid === 'function' && st.uid !== process.getuid());
  const secured = (st.mode & 0o777) === DIR_MODE;
  if (!shared && !secured) fs.chmodSync(home, DIR_MODE);
  for (const e of secured ? OURS.filter((f) => f.startsWith('outpost.db')) : OURS) fix(path.join(home, e));
}

/**
 * Create the database file owner-only before SQLite opens it (SQLite gives its WAL and SHM files the
 * same mode). Only when it does not exist: closing any descriptor of a file drops every POSIX lock
 * this process holds on it, so opening and closing an existing database here — as each worker
 * thread's store did — silently released the locks of the process's open connections, and another
 * process (`outpost score`, `jobs rm`) could then take the database exclusively under them.
 */
export function precreateOwnerOnly(file: string): void {
  if (!posix) return;
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', FILE_MODE); // fails without opening anything when the file exists
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw e;
  }
  fs.closeSync(fd);
}
