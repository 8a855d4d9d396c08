// Smoke inference in a separate process: ONNX Runtime parses untrusted model bytes natively, so a
// crash or hang there must cost a child process, never the CLI or the app.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PullRefused } from './errors.ts';

const CHILD = fileURLToPath(new URL('./smoke-child.ts', import.meta.url));

export async function smokeTest(dir: string, opts: { timeoutMs?: number; script?: string; signal?: AbortSignal } = {}): Promise<void> {
  const child = spawn(process.execPath, [opts.script ?? CHILD, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, // under Electron, execPath is the app binary
    timeout: opts.timeoutMs ?? 60_000,
    signal: opts.signal,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  const { code, sig } = await new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => {
    child.on('error', () => resolve({ code: null, sig: null }));
    child.on('close', (c, s) => resolve({ code: c, sig: s }));
  });
  if (code === 0 && out.includes('"ok":true')) return;
  const lastLine = err.trim().split('\n').filter((l) => l.trim() && !l.startsWith('    at ')).slice(-2).join(' | ');
  const why = sig ? `the inference process died (${sig})` : `the inference process failed (exit ${code})`;
  throw new PullRefused('smoke', `smoke inference on one row of zeros: ${why}${lastLine ? `: ${lastLine}` : ''}`);
}
