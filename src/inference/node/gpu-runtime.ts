// The GPU runtime in the data folder (format: ../common/gpu-runtime.ts): where it is, and whether its
// files are still the ones its manifest names. The first check hashes every file (~400 MB with CUDA);
// a file whose identity (device, inode, size, mtime, ctime) is unchanged since it last hashed right is
// not hashed again: the identities are kept in <home>/cache/gpu-runtime-verified.json. A process
// cannot set a file's ctime back, so rewriting a file (even restoring its mtime) is always noticed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sha256FileSync } from '../../package/node/files.ts';
import { MANIFEST_FILE, parseManifest, runtimeFolderName, type RuntimeManifest } from '../common/gpu-runtime.ts';
import { ortPackageVersion } from './libraries.ts';

export const runtimesDir = (home: string): string => path.join(home, 'runtimes');
export const thisPlatform = (): string => `${process.platform}-${process.arch}`;
/** The folder a runtime for this app's ORT on this platform lives in (whether or not it exists). */
export const runtimeDir = (home: string, ortVersion = ortPackageVersion(), platform = thisPlatform()): string => path.join(runtimesDir(home), runtimeFolderName(ortVersion, platform));
const VERIFIED_FILE = path.join('cache', 'gpu-runtime-verified.json');

export type RuntimeCheck =
  | { state: 'absent'; dir: string }
  | { state: 'ok'; dir: string; manifest: RuntimeManifest; hashed: string[] }
  | { state: 'modified'; dir: string; file: string; reason: string };

const identity = (st: fs.Stats): string => `${st.dev} ${st.ino} ${st.size} ${st.mtimeMs} ${st.ctimeMs}`;

function readVerified(home: string, manifestSha: string): Record<string, string> {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(home, VERIFIED_FILE), 'utf8')) as { manifest?: string; files?: Record<string, string> };
    return v.manifest === manifestSha && v.files && typeof v.files === 'object' ? v.files : {};
  } catch {
    return {};
  }
}

function writeVerified(home: string, manifestSha: string, files: Record<string, string>): void {
  const file = path.join(home, VERIFIED_FILE);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${file}.${process.pid}.tmp`, `${JSON.stringify({ manifest: manifestSha, files })}\n`, { mode: 0o600 });
    fs.renameSync(`${file}.${process.pid}.tmp`, file);
  } catch { /* a read-only data folder: hashed again next time */ }
}

/**
 * Whether this platform's runtime for the app's ORT is installed and intact: every file the manifest
 * names is present as a plain file with its size and sha256, and nothing else is in the folder.
 */
export function checkRuntime(home: string, opts: { ortVersion?: string; platform?: string } = {}): RuntimeCheck {
  const ortVersion = opts.ortVersion ?? ortPackageVersion();
  const platform = opts.platform ?? thisPlatform();
  const dir = runtimeDir(home, ortVersion, platform);
  let text: Buffer;
  try {
    text = fs.readFileSync(path.join(dir, MANIFEST_FILE));
  } catch {
    return fs.existsSync(dir) ? { state: 'modified', dir, file: MANIFEST_FILE, reason: `${MANIFEST_FILE} is missing` } : { state: 'absent', dir };
  }
  const parsed = parseManifest(text.toString('utf8'), { ortVersion, platform });
  if (!parsed.ok) return { state: 'modified', dir, file: MANIFEST_FILE, reason: parsed.reason };
  const manifestSha = crypto.createHash('sha256').update(text).digest('hex');
  const known = readVerified(home, manifestSha);
  const now: Record<string, string> = {};
  const hashed: string[] = [];
  for (const f of parsed.manifest.files) {
    const p = path.join(dir, f.name);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return { state: 'modified', dir, file: f.name, reason: `${f.name} is missing` };
    }
    if (!st.isFile()) return { state: 'modified', dir, file: f.name, reason: `${f.name} is not a plain file` };
    if (st.size !== f.size) return { state: 'modified', dir, file: f.name, reason: `${f.name} is ${st.size} bytes, the manifest says ${f.size}` };
    const id = identity(st);
    if (known[f.name] !== id) {
      const sha = sha256FileSync(p);
      if (sha !== f.sha256) return { state: 'modified', dir, file: f.name, reason: `${f.name} has sha256 ${sha.slice(0, 12)}…, the manifest says ${f.sha256.slice(0, 12)}…` };
      hashed.push(f.name);
    }
    now[f.name] = id;
  }
  const extra = fs.readdirSync(dir).filter((n) => n !== MANIFEST_FILE && !parsed.manifest.files.some((f) => f.name === n));
  if (extra.length) return { state: 'modified', dir, file: extra[0], reason: `${extra.join(', ')} ${extra.length === 1 ? 'is' : 'are'} not part of the runtime` };
  if (hashed.length) writeVerified(home, manifestSha, now);
  return { state: 'ok', dir, manifest: parsed.manifest, hashed };
}

/** Runtimes in the data folder that are not for this app's ORT on this platform (left by an older app). */
export function otherRuntimes(home: string): string[] {
  const mine = path.basename(runtimeDir(home));
  try {
    return fs.readdirSync(runtimesDir(home)).filter((n) => n !== mine && !n.startsWith('.')).sort();
  } catch {
    return [];
  }
}
