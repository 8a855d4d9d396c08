// Which files the app may read by path ("or a path on the appliance", scoring a file in place): only
// under the folders the user configured (`allowedFolders`, default the home folder) and the app's
// own uploads — never a hidden folder (~/.ssh, ~/.aws, …), never the rest of the data folder, and
// symbolic links are followed before the check, so a link cannot lead out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';

export interface ReadablePolicy {
  /** the data folder (only its uploads are readable) */
  home: string;
  uploadsDir: string;
  /** the setting: absolute paths, "~" or "~/…" */
  allowedFolders: readonly string[];
}

const real = (p: string): string => {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return p; // not there (yet): judged by its name
  }
};

export function expandFolder(p: string): string {
  return path.resolve(p === '~' ? os.homedir() : /^~[\\/]/.test(p) ? path.join(os.homedir(), p.slice(2)) : p);
}

/** `file` below `root` with no hidden component on the way, or undefined. */
function within(root: string, file: string): string | undefined {
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).some((c) => c.startsWith('.')) ? undefined : rel;
}

/** The absolute path to read, or an error saying which folders are allowed and how to add one. */
export function checkReadable(file: string, policy: ReadablePolicy): string {
  const abs = path.resolve(file);
  const target = real(abs);
  const uploads = real(policy.uploadsDir);
  const home = real(policy.home);
  const roots = policy.allowedFolders.map((f) => real(expandFolder(f)));
  const ok = (p: string) => within(uploads, p) !== undefined
    || (roots.some((r) => within(r, p) !== undefined) && within(home, p) === undefined && p !== home);
  // Both the name given and where it really leads must be allowed.
  if (ok(abs) && ok(target)) return abs;
  const allowed = [policy.uploadsDir, ...policy.allowedFolders].join(', ');
  throw new OutpostError('usage', `the app may not read ${abs}: files are read only under ${allowed} (not hidden folders, not the data folder); add a folder with \`outpost settings set allowedFolders …\``, { file: abs });
}
