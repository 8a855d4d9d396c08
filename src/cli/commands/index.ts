// Every CLI command, in the order `outpost --help` lists them. Names stay stable once shipped.
import type { CommandSpec } from '../command.ts';
import { demoCommand } from './demo.ts';
import { modelsAddCommand, modelsListCommand, modelsShowCommand } from './models.ts';
import { scoreCommand } from './score.ts';

export const commands: CommandSpec[] = [
  demoCommand,
  scoreCommand,
  modelsListCommand,
  modelsShowCommand,
  modelsAddCommand,
];
