// What a CLI command is. Each command lives in its own module under commands/ and is listed in
// commands/index.ts; main.ts parses global options, finds the command and maps errors to exit codes.
import type { ParseArgsOptionsConfig } from 'node:util';
import { usageError } from '../common/errors.ts';

export interface Output {
  /** human text (suppressed with --json) */
  text(line: string): void;
  /** the machine-readable result (printed only with --json, as one JSON line: stdout is line-delimited JSON throughout) */
  json(value: unknown): void;
  /** a JSON event line (progress) on stdout with --json; ignored otherwise */
  event(value: Record<string, unknown>): void;
  /** warnings and notes: always to stderr */
  warn(line: string): void;
}

export interface CommandContext {
  home: string;
  json: boolean;
  /** stderr is a terminal: progress bars allowed */
  interactive: boolean;
  out: Output;
  /** aborted on Ctrl-C (SIGINT) / SIGTERM */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface CommandSpec {
  /** words after `outpost`, e.g. "score" or "models list" */
  name: string;
  summary: string;
  /** e.g. "outpost score <file> --model <name>[@<version>] [options]" */
  usage: string;
  /** option lines for --help, e.g. ["--out FILE   where to write (default: next to the input)"] */
  help?: string[];
  options?: ParseArgsOptionsConfig;
  positionals?: { min: number; max: number };
  run(ctx: CommandContext, args: ParsedArgs): Promise<number>;
}

/** Read a string option, or undefined. */
export const str = (args: ParsedArgs, name: string): string | undefined => {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
};
export const flag = (args: ParsedArgs, name: string): boolean => args.values[name] === true;

/** A negative number as an option's value (`-5`, `-0.5`, `-.5`, `-1e3`): text, never an option (no option is a digit). */
const NEGATIVE = /^-(?:\d|\.\d)/;

/**
 * The arguments with `--name -5` written `--name=-5` where `--name` takes a value: node's parseArgs
 * calls a value starting with "-" ambiguous and refuses it with a message about dashes, so an
 * out-of-range value never reached the command's own check (which names the value and the range).
 */
export function joinNegativeValues(args: readonly string[], options: ParseArgsOptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { out.push(...args.slice(i)); break; }
    const takesValue = a.startsWith('--') && !a.includes('=') && options[a.slice(2)]?.type === 'string';
    if (takesValue && i + 1 < args.length && NEGATIVE.test(args[i + 1])) out.push(`${a}=${args[++i]}`);
    else out.push(a);
  }
  return out;
}

/**
 * A whole-number option within [min, max] (no max: at least min), or undefined when not given; a
 * usage error naming the value and the range. Decimal digits only: Number() would also take
 * `0x50`, `1e3` or `5.0`.
 */
export function wholeNumber(args: ParsedArgs, name: string, min: number, max = Number.MAX_SAFE_INTEGER, unit = ''): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^[+-]?\d+$/.test(v.trim()) || n < min || n > max) {
    const range = max >= Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw usageError(`--${name} must be a whole number${unit ? ` of ${unit}` : ''} ${range} (got "${v}")`);
  }
  return n;
}
