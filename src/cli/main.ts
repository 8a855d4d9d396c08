// The `outpost` entry point: global options (--home, --json, --help), command lookup, strict option
// parsing, and the exit-code contract (0 ok, 1 the work failed, 2 bad usage).
import { parseArgs } from 'node:util';
import { OutpostError, quote } from '../common/errors.ts';
import { resolveHome } from '../store/node/home.ts';
import { joinNegativeValues, type CommandContext, type CommandSpec, type Output } from './command.ts';
import { commands, type CommandEntry } from './commands/index.ts';
import { spareStarting } from '../inference/node/spare-worker.ts';

const GLOBAL_HELP = ['--home DIR   data folder (default: $OUTPOST_HOME, else the OS app-data folder)', '--json       machine-readable output on stdout', '--help       show help'];

function makeOutput(json: boolean, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Output {
  return {
    text: (line) => { if (!json) stdout.write(line + '\n'); },
    json: (value) => { if (json) stdout.write(JSON.stringify(value) + '\n'); },
    event: (value) => { if (json) stdout.write(JSON.stringify(value) + '\n'); },
    warn: (line) => { stderr.write(line + '\n'); },
  };
}

function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  let best: { entry: CommandEntry; rest: string[] } | undefined;
  for (const entry of commands) {
    const words = entry.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.entry.name.split(' ').length)) {
      best = { entry, rest: argv.slice(words.length) };
    }
  }
  return best;
}

/** The commands whose names continue `words` ("hub" → hub serve, hub init, …; "hub devices" → hub devices add, …). */
function commandsUnder(words: string[]): CommandEntry[] {
  return commands.filter((c) => { const w = c.name.split(' '); return w.length > words.length && words.every((x, i) => w[i] === x); });
}

function commandList(entries: CommandEntry[]): string[] {
  const width = Math.max(...entries.map((c) => c.name.length));
  return entries.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
}

/**
 * Option lines ("--db DB   what it does") put in one column, whatever spacing each command wrote; an
 * indented line continues the text above it and goes to the same column; other lines as written.
 */
function alignOptions(lines: string[]): string[] {
  const parts = lines.map((l) => /^(-\S.*?)\s{2,}(\S.*)$/.exec(l));
  const width = Math.max(0, ...parts.map((m) => m?.[1].length ?? 0));
  return lines.map((l, i) => {
    const m = parts[i];
    if (m) return `${m[1].padEnd(width)}  ${m[2]}`;
    return /^\s+\S/.test(l) ? `${' '.repeat(width + 2)}${l.trimStart()}` : l;
  });
}

function commandHelp(spec: CommandSpec): string {
  const under = commandsUnder(spec.name.split(' '));
  return [`Usage: ${spec.usage}`, '', spec.summary, '', 'Options:', ...alignOptions([...(spec.help ?? []), ...GLOBAL_HELP]).map((l) => `  ${l}`),
    ...(under.length ? ['', 'Related commands:', ...commandList(under)] : [])].join('\n');
}

/** Help for a word that only groups commands (`outpost hub`, `outpost models`). */
function groupHelp(words: string[], entries: CommandEntry[]): string {
  const group = words.join(' ');
  return [`Usage: outpost ${group} <command> [options]`, '', 'Commands:', ...commandList(entries), '', `Run \`outpost ${group} <command> --help\` for a command's options.`].join('\n');
}

export function overallHelp(): string {
  return ['Usage: outpost <command> [options]', '', 'Commands:', ...commandList(commands), '', 'Global options:', ...GLOBAL_HELP.map((l) => `  ${l}`), '', 'Run `outpost <command> --help` for a command\'s options.'].join('\n');
}

/** Active resources that would not delay a natural exit: the standard streams, and handles already closing. */
const IDLE_RESOURCES = new Set(['PipeWrap', 'TTYWrap', 'CloseReq']);
let ranEndsAtOnce = false;

/**
 * For the launcher, once main() returned: whether the process may end at once (process.exit) rather
 * than through Node's own teardown (~13 ms in a bare process; the native modules' cleanup hooks,
 * and ORT's environment when the main thread made it), which a command whose work is done and whose
 * store is closed does not need. Only when the command asked for it (`endsAtOnce`: score, predict,
 * models list) and nothing else is left that a natural exit would wait for: no spare inference
 * worker still starting (ending the process then could abort it), no timer, request or other handle
 * but the standard streams.
 */
export function mayEndNow(): boolean {
  return ranEndsAtOnce && !spareStarting() && process.getActiveResourcesInfo().every((r) => IDLE_RESOURCES.has(r));
}

export interface MainIO {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export async function main(argv: string[], io: MainIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;

  // Global options may appear anywhere; pull them out first.
  let home: string | undefined;
  let json = false;
  let help = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') help = true;
    else if (a === '--home') {
      home = argv[++i];
      if (home === undefined) { stderr.write('outpost: --home needs a folder\n'); return 2; }
    } else if (a.startsWith('--home=')) home = a.slice('--home='.length);
    else rest.push(a);
  }

  const found = findCommand(rest);
  if (!found) {
    // the longest run of leading words that names a group of commands ("hub", "hub devices"): its list, not all ~90 commands
    let group = rest.length;
    while (group > 0 && !commandsUnder(rest.slice(0, group)).length) group--;
    const words = rest.slice(0, group);
    const helpText = group ? groupHelp(words, commandsUnder(words)) : overallHelp();
    const onlyGroup = group === rest.length; // `outpost`, `outpost hub`: nothing unknown was typed
    if (onlyGroup && help) { stdout.write(helpText + '\n'); return 0; }
    const message = onlyGroup ? `which ${group ? `${words.join(' ')} ` : ''}command?` : `unknown command ${quote(rest.join(' '))}`;
    if (json) {
      stdout.write(JSON.stringify({ ok: false, error: { code: 'usage', message } }) + '\n');
      stderr.write(`outpost: ${message}\n\n${helpText}\n`);
    } else if (onlyGroup) stdout.write(helpText + '\n');
    else stderr.write(`outpost: ${message}\n\n${helpText}\n`);
    return 2;
  }
  ranEndsAtOnce = found.entry.endsAtOnce === true;
  if (!help) found.entry.prestart?.(resolveHome(home, env));
  const spec = await found.entry.load();
  if (help) { stdout.write(commandHelp(spec) + '\n'); return 0; }
  /** bad usage: the reason and the usage line on stderr, and with --json the error as a JSON line too */
  const usage = (message: string): number => {
    if (json) stdout.write(JSON.stringify({ ok: false, error: { code: 'usage', message } }) + '\n');
    stderr.write(`outpost ${spec.name}: ${message}\nUsage: ${spec.usage}\n`);
    return 2;
  };

  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(found.rest, spec.options ?? {}), options: spec.options ?? {}, allowPositionals: true, strict: true });
  } catch (e) {
    return usage(`${(e as Error).message}`);
  }
  const pos = spec.positionals ?? { min: 0, max: 0 };
  if (parsed.positionals.length < pos.min || parsed.positionals.length > pos.max) {
    return usage(`expected ${pos.min === pos.max ? pos.min : `${pos.min} to ${pos.max}`} argument(s), got ${parsed.positionals.length}${parsed.positionals.length > pos.max ? ` (unexpected: ${parsed.positionals.slice(pos.max).join(' ')})` : ''}`);
  }

  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort(io.signal?.reason));
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130); // second Ctrl-C: leave now
    controller.abort(new OutpostError('cancelled', `stopped by ${sig}`));
  };
  const ownsProcess = !io.signal;
  if (ownsProcess) { process.on('SIGINT', onSignal); process.on('SIGTERM', onSignal); }

  const ctx: CommandContext = {
    home: resolveHome(home, env),
    json,
    interactive: !json && Boolean((stderr as NodeJS.WriteStream).isTTY),
    out: makeOutput(json, stdout, stderr),
    signal: controller.signal,
    env,
    cwd: process.cwd(),
  };
  try {
    return await spec.run(ctx, parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] });
  } catch (e) {
    if (e instanceof OutpostError) {
      if (json) stdout.write(JSON.stringify({ ok: false, error: e.toJSON() }) + '\n');
      stderr.write(`outpost ${spec.name}: ${e.describe()}\n`);
      return e.exitCode;
    }
    // a defect, not a refusal: still one JSON error object for a --json caller, the stack on stderr
    if (json) stdout.write(JSON.stringify({ ok: false, error: { code: 'internal', message: `internal error: ${e instanceof Error ? e.message : String(e)}` } }) + '\n');
    stderr.write(`outpost ${spec.name}: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  } finally {
    if (ownsProcess) { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); }
  }
}
