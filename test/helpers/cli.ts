// Run the real CLI (bin/outpost.js) as a child process on the project's Node 24.
// OUTPOST_CLI=<built tree>/bin/outpost.js (from `npm run build`) points these helpers at the built
// JavaScript instead of the sources: child processes run it with type stripping switched off, and
// runMain runs the built main() in this process. test/build-cli.test.ts runs CLI test files so.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { main as sourceMain } from '../../src/cli/main.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = process.env.OUTPOST_CLI ? path.resolve(process.env.OUTPOST_CLI) : undefined;
export const BIN = BUILT ?? path.join(REPO, 'bin', 'outpost.js');
/** Node flags for a CLI child: the built CLI must run without type stripping. */
export const CLI_NODE_FLAGS = BUILT ? ['--no-experimental-strip-types'] : [];
const main: typeof sourceMain = BUILT
  ? (await import(pathToFileURL(path.join(path.dirname(BUILT), '..', 'src', 'cli', 'main.js')).href) as { main: typeof sourceMain }).main
  : sourceMain;

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** `stdin`: written to the CLI's standard input, which is then closed (otherwise it has none). */
export function startCli(args: string[], opts: { home: string; cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string | Buffer }): ChildProcess {
  const child = spawn(process.execPath, [...CLI_NODE_FLAGS, BIN, '--home', opts.home, ...args], { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  return child;
}

export function runCli(args: string[], opts: { home: string; cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string | Buffer }): Promise<CliResult> {
  const child = startCli(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Every line a --json run printed on stdout, parsed: it is line-delimited JSON from first line to last (throws otherwise). */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l !== '').map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new Error(`--json output line ${i + 1} is not JSON: ${l.slice(0, 200)}`);
    }
  });
}

/** The result a --json run printed: its last line (events come first, one per line). */
export function lastJson(stdout: string): Record<string, unknown> {
  const lines = jsonLines(stdout);
  if (!lines.length) throw new Error('the --json run printed nothing on stdout');
  return lines[lines.length - 1];
}

/** Run the CLI's main() in this process, with its own output streams; returns exit code and output. */
export async function runMain(argv: string[], opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; onLine?: (line: string) => void } = {}): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => {
    out += d;
    for (const l of d.toString().split('\n')) if (l) opts.onLine?.(l);
  });
  stderr.on('data', (d: Buffer) => { err += d; });
  const code = await main(argv, { stdout, stderr, env: opts.env ?? {}, signal: opts.signal ?? new AbortController().signal });
  return { code, out, err };
}

export interface CliEvent { event: string; jobId: string; rowsRead?: number }

/** Calls `onEvent` for each `--json` event line (`{"event": …}`) a running CLI prints on stdout. */
export function onEvents(child: ChildProcess, onEvent: (ev: CliEvent) => void): void {
  let buffer = '';
  child.stdout!.on('data', (d) => {
    buffer += d;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith('{"event"')) onEvent(JSON.parse(line) as CliEvent);
    }
  });
}
