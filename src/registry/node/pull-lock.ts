// One pull at a time per device (data folder): two pulls installing into one store at once would
// race on the quarantine folder, the partial downloads and the active pointer. The lock is a file
// created exclusively; one left by a process that died is taken over.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';

interface LockBody { pid: number; since: string; token: string; what: string }

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Take the device's pull lock; returns its release. Refuses (conflict) while another pull holds it. */
export function acquirePullLock(home: string, what: string): () => void {
  const file = path.join(home, 'pull.lock');
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const body: LockBody = { pid: process.pid, since: new Date().toISOString(), token: crypto.randomBytes(8).toString('hex'), what };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(body), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if ((JSON.parse(fs.readFileSync(file, 'utf8')) as LockBody).token === body.token) fs.rmSync(file, { force: true });
        } catch { /* already gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new OutpostError('store', `cannot take the pull lock: ${(e as Error).message}`, { file });
    }
    let held: LockBody | undefined;
    try { held = JSON.parse(fs.readFileSync(file, 'utf8')) as LockBody; } catch { held = undefined; }
    if (held && alive(held.pid)) {
      throw new OutpostError('conflict', `another pull is running on this device (${held.what}, process ${held.pid}, since ${held.since}); wait for it to finish`, { file }, { busy: true });
    }
    fs.rmSync(file, { force: true }); // left by a process that is gone (or unreadable): take it over
  }
  throw new OutpostError('conflict', 'another pull took the pull lock at the same moment; try again', { file }, { busy: true });
}
