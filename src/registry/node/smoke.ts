// Smoke inference in a separate process: ONNX Runtime parses untrusted model bytes natively, so a
// crash or hang there must cost a child process, never the CLI or the app.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PullRefused } from './errors.ts';

export const SMOKE_CHILD = fileURLToPath(new URL('./smoke-child.ts', import.meta.url));

/** How a smoke child ended and what it printed. */
export interface SmokeRun { code: number | null; sig: NodeJS.Signals | null; out: string; err: string }
/** Runs the smoke child on a package folder in a separate process. */
export type SmokeRunner = (dir: string, opts: { timeoutMs: number; signal?: AbortSignal }) => Promise<SmokeRun>;

/** The default: a child Node process (`process.execPath`). */
function spawnRunner(script: string): SmokeRunner {
  return (dir, opts) => {
    const child = spawn(process.execPath, [script, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, // unpackaged Electron (npm start); packaged, see setSmokeRunner
      timeout: opts.timeoutMs,
      signal: opts.signal,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    return new Promise((resolve) => {
      child.on('error', () => resolve({ code: null, sig: null, out, err }));
      child.on('close', (code, sig) => resolve({ code, sig, out, err }));
    });
  };
}

let hostRunner: SmokeRunner | undefined;

/**
 * A host whose `process.execPath` cannot run a Node script installs its own runner: the packaged
 * Electron app, whose RunAsNode fuse is off, runs the child as another Electron utility process.
 */
export function setSmokeRunner(runner: SmokeRunner | undefined): void {
  hostRunner = runner;
}

export async function smokeTest(dir: string, opts: { timeoutMs?: number; script?: string; signal?: AbortSignal } = {}): Promise<void> {
  const run = opts.script ? spawnRunner(opts.script) : hostRunner ?? spawnRunner(SMOKE_CHILD);
  const { code, sig, out, err } = await run(dir, { timeoutMs: opts.timeoutMs ?? 60_000, signal: opts.signal });
  if (code === 0 && out.includes('"ok":true')) return;
  const lastLine = err.trim().split('\n').filter((l) => l.trim() && !l.startsWith('    at ')).slice(-2).join(' | ');
  const why = sig ? `the inference process died (${sig})` : `the inference process failed (exit ${code})`;
  throw new PullRefused('smoke', `smoke inference on one row of zeros: ${why}${lastLine ? `: ${lastLine}` : ''}`);
}
