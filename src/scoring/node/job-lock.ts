// One process per job: a lock file holding the owner's pid. A lock whose process is gone (killed,
// power loss) is stale and taken over, which is exactly the resume case.
import fs from 'node:fs';
import { OutpostError } from '../../common/errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireJobLock(file: string, jobId: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(file, 'utf8'));
      if (owner && owner !== process.pid && alive(owner)) throw new OutpostError('conflict', `job ${jobId} is being run by process ${owner}`);
      fs.rmSync(file, { force: true });
    }
  }
  throw new OutpostError('conflict', `cannot lock job ${jobId}`);
}

/** The live process that holds a job's lock, or undefined (no lock, or its owner is gone). */
export function jobLockOwner(file: string): number | undefined {
  let owner: number;
  try {
    owner = Number(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  return owner && alive(owner) ? owner : undefined;
}
