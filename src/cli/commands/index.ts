// Every CLI command, in the order `outpost --help` lists them. Names stay stable once shipped.
import type { CommandSpec } from '../command.ts';

export const commands: CommandSpec[] = [];
