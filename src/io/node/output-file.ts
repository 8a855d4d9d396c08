// A user-named output file (`--out F`, `--receipt R`): checked before a command does any work, so an
// unusable destination is refused at once (exit 2) instead of after an import, a pull or a queued
// item; and written whole or not at all (a temp file beside it, renamed; removed on failure).

import fs from 'node:fs';
import path from 'node:path';
import { OutpostError, usageError } from '../../common/errors.ts';
import { partialPathFor } from './partial-file.ts';

export interface OutputCheck {
  /** the option that named the file, for messages (`--out`, `--receipt`) */
  option: string;
  /** replace a file already there (`--overwrite`); without it an existing file is refused */
  overwrite?: boolean;
}

/**
 * The absolute path `arg` names (relative to `cwd`), once it is usable as an output file: its folder
 * exists and is a folder, it is not itself a folder, and it does not exist unless `overwrite`.
 * A missing folder, a folder as the file and `-` (this CLI never writes a file to stdout) are bad
 * usage (exit 2); an existing file is a conflict (exit 1), as `score` and `predictions export` say.
 */
export function checkOutputFile(cwd: string, arg: string, opts: OutputCheck): string {
  if (arg === '-') throw usageError(`${opts.option} -: this command writes a file, not standard output; name the file to write`);
  const file = path.resolve(cwd, arg);
  const dir = path.dirname(file);
  const parent = fs.statSync(dir, { throwIfNoEntry: false });
  if (!parent) throw new OutpostError('usage', `the output folder ${dir} does not exist (create it, or choose another ${opts.option})`, { file });
  if (!parent.isDirectory()) throw new OutpostError('usage', `the output folder ${dir} is not a folder`, { file });
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new OutpostError('usage', `cannot write in the output folder ${dir} (permission denied)`, { file });
  }
  const existing = fs.statSync(file, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw new OutpostError('usage', `is a directory, not a file (${opts.option} names the file to write)`, { file });
  if (existing && !existing.isFile()) throw new OutpostError('usage', `is not a regular file (${opts.option} names the file to write)`, { file });
  if (existing && !opts.overwrite) throw new OutpostError('conflict', `already exists; pass --overwrite to replace it, or choose another ${opts.option}`, { file });
  return file;
}

/**
 * Write a file through a temp file beside it (`.<name>.partial-<random>`), fsynced and renamed into
 * place; `write` gets the open descriptor. On any failure the temp file is removed and the target
 * is untouched.
 */
export function writeFileAtomic(file: string, write: (fd: number) => void, mode = 0o644): void {
  const tmp = partialPathFor(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', mode);
    write(fd);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) try { fs.closeSync(fd); } catch { /* already closed */ }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
