// What a CLI command is. Each command lives in its own module under commands/ and is listed in
// commands/index.ts; main.ts parses global options, finds the command and maps errors to exit codes.
import type { ParseArgsOptionsConfig } from 'node:util';

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
