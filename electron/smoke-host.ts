// The main process's side of a pull's smoke inference (see core-host.ts): a utility process per
// request running the smoke child, with the request's time limit, killed on cancel. The script is
// fixed here; the core sends only the package folder.
import type { SmokeRun } from '../src/registry/node/smoke.ts';

export interface SmokeRequest { smoke: { id: number; dir: string; timeoutMs: number } }
export interface SmokeCancel { smokeCancel: number }
export interface SmokeDone { smokeDone: { id: number; run: SmokeRun } }

export function isSmokeRequest(m: unknown): m is SmokeRequest {
  const s = (m as SmokeRequest | null)?.smoke;
  return typeof s === 'object' && s !== null && typeof s.id === 'number' && typeof s.dir === 'string' && typeof s.timeoutMs === 'number';
}
export function isSmokeCancel(m: unknown): m is SmokeCancel {
  return typeof (m as SmokeCancel | null)?.smokeCancel === 'number';
}
export function isSmokeDone(m: unknown): m is SmokeDone {
  const d = (m as SmokeDone | null)?.smokeDone;
  return typeof d === 'object' && d !== null && typeof d.id === 'number' && typeof d.run === 'object';
}

/** What the main process needs of a utility process (Electron's UtilityProcess has these). */
export interface ChildLike {
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  kill(): boolean;
  on(event: 'exit', l: (code: number) => void): unknown;
}
export type ForkLike = (script: string, args: string[], env: NodeJS.ProcessEnv) => ChildLike;

/** Serves smoke requests: runs each in a fresh child, answers with its exit code and output. */
export function smokeHost(fork: ForkLike, script: string, post: (m: SmokeDone) => void): (m: unknown) => boolean {
  const running = new Map<number, ChildLike>();
  return (m) => {
    if (isSmokeCancel(m)) { running.get(m.smokeCancel)?.kill(); return true; }
    if (!isSmokeRequest(m)) return false;
    const { id, dir, timeoutMs } = m.smoke;
    const child = fork(script, [dir], { ...process.env, OUTPOST_SMOKE_DIR: dir });
    running.set(id, child);
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    const timer = setTimeout(() => { timedOut = true; child.kill(); }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      running.delete(id);
      post({ smokeDone: { id, run: { code: timedOut ? null : code, sig: timedOut ? 'SIGTERM' : null, out, err } } });
    });
    return true;
  };
}
