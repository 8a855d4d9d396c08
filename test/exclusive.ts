// `npm test` runs the whole suite under a machine-wide lock: several checkouts sharing one machine
// (worktrees, agents, a CI runner) then run their suites one after another instead of all at once,
// where contention makes every run slow and process/network waits time out. Portable (a lock
// folder in the OS temp dir holding the owner's pid); a lock left by a dead process is taken over.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const lock = path.join(os.tmpdir(), 'outpost-test-suite.lock');
const owner = path.join(lock, 'pid');

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

function tryTake(): number | undefined {
  try {
    fs.mkdirSync(lock);
    fs.writeFileSync(owner, String(process.pid));
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const pid = Number(fs.readFileSync(owner, { encoding: 'utf8', flag: 'a+' }));
    if (pid > 0 && alive(pid)) return pid;
    // stale (the holder died) or half-made (no pid yet: give its maker a moment first)
    if (!pid && Date.now() - fs.statSync(lock).mtimeMs < 5_000) return -1;
    fs.rmSync(lock, { recursive: true, force: true });
    return tryTake();
  }
}

let said = 0;
for (let holder = tryTake(); holder !== undefined; holder = tryTake()) {
  if (holder > 0 && holder !== said) { process.stderr.write(`test suite: waiting for another run on this machine (pid ${holder}) to finish…\n`); said = holder; }
  await new Promise((r) => setTimeout(r, 2_000));
}
const release = () => { if (fs.readFileSync(owner, { encoding: 'utf8', flag: 'a+' }) === String(process.pid)) fs.rmSync(lock, { recursive: true, force: true }); };

const npm = process.env.npm_execpath;
const [cmd, args] = npm ? [process.execPath, [npm, ...process.argv.slice(2)]] : ['npm', process.argv.slice(2)];
const child = spawn(cmd, args, { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => { release(); process.exitCode = code ?? (signal ? 1 : 0); });
