// App updates with the trust of a model pull: refresh the connected hub's TUF metadata against the
// pinned root, find the newest signed release of this platform (`outpost-app-<os>-<arch>`), download
// release.json and the installer through the verified path (signed length and sha256, resumable)
// into a quarantine folder, check release.json agrees with its signed path, and stage the installer
// in <data folder>/updates/<release>/ with updates/pending.json naming it — installed on restart.
// A release not newer than the running version is refused (rollback) and recorded as a security event.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { appReleaseName, type ReleaseDocument } from '../../hub/common/app-release.ts';
import { openStore, type Store } from '../../store/node/store.ts';
import { recordSecurityEvent } from '../../store/node/models.ts';
import { PullRefused } from './errors.ts';
import { acquirePullLock } from './pull-lock.ts';
import { newestSignedRelease } from './signed-release.ts';
import { connectHub } from './tuf-client.ts';
import { hubBase, isEnrolled, pinRoot } from './trust.ts';

export interface AppUpdateOptions {
  home: string;
  hubUrl: string;
  /** the running app's version (x.y.z) */
  currentVersion: string;
  /** `<os>-<arch>` (default: this machine's) */
  platform?: string;
  rootFile?: string;
  /** only report what is there; download nothing */
  checkOnly?: boolean;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export interface AppUpdateResult {
  state: 'none' | 'current' | 'available' | 'staged';
  hub: string;
  platform: string;
  current: string;
  release?: ReleaseDocument;
  /** the staged installer (state `staged`) */
  installer?: string;
}

/** -1, 0 or 1 for x.y.z[-pre] versions (a pre-release sorts before its release). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => { const [core, pre] = v.split('-', 2); return { n: core.split('.').map(Number), pre }; };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if ((x.n[i] ?? 0) !== (y.n[i] ?? 0)) return (x.n[i] ?? 0) < (y.n[i] ?? 0) ? -1 : 1;
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

export const updatesDir = (home: string): string => path.join(home, 'updates');
export const pendingFile = (home: string): string => path.join(updatesDir(home), 'pending.json');

/**
 * updates/pending.json: a verified, staged release. `sha256`/`length` are the installer's, from the
 * signed TUF metadata it was downloaded against; the installer is hashed again before it is applied.
 */
export interface PendingUpdate extends ReleaseDocument {
  hub: string;
  installer: string;
  sha256: string;
  length: number;
  stagedAt: string;
  /** set from Settings → Updates: the app applies it when it quits */
  installOnRestart?: boolean;
}

export async function checkAppUpdate(opts: AppUpdateOptions): Promise<AppUpdateResult> {
  const base = hubBase(opts.hubUrl);
  const platform = opts.platform ?? `${process.platform}-${process.arch}`;
  if (opts.rootFile) pinRoot(opts.home, base, opts.rootFile);
  if (!isEnrolled(opts.home, base)) throw new OutpostError('usage', `this device does not trust ${base} yet: pass --root <root.json> once`);
  const release = acquirePullLock(opts.home, `app update from ${base}`);
  const store = openStore(opts.home);
  try {
    return await updateWith(store, base, platform, opts);
  } catch (e) {
    if (e instanceof PullRefused) {
      recordSecurityEvent(store, `app-update-refused:${e.stage}`, appReleaseName(platform), `${base}: ${e.message}`);
      throw new PullRefused(e.stage, `app update refused at ${e.stage}: ${e.message}; Outpost ${opts.currentVersion} stays`, { hub: base });
    }
    throw e;
  } finally {
    store.close();
    release();
  }
}

async function updateWith(_store: Store, base: string, platform: string, opts: AppUpdateOptions): Promise<AppUpdateResult> {
  const name = appReleaseName(platform);
  const client = await connectHub(opts.home, base, { signal: opts.signal, fetch: opts.fetch });
  const result: AppUpdateResult = { state: 'none', hub: base, platform, current: opts.currentVersion };
  const updates = updatesDir(opts.home);
  const quarantine = path.join(updates, `.quarantine-${crypto.randomBytes(6).toString('hex')}`);
  fs.mkdirSync(quarantine, { recursive: true, mode: 0o700 });
  try {
    const found = await newestSignedRelease(client, name, { app: 'outpost', platform }, quarantine, opts.signal);
    if (!found) return result;
    const { release: newest, doc } = found;
    result.release = doc;
    const order = compareVersions(doc.version, opts.currentVersion);
    if (order < 0) throw new PullRefused('rollback', `the newest signed release for ${platform} is ${doc.version} (release ${newest}), older than the running ${opts.currentVersion}`);
    if (order === 0) return { ...result, state: 'current' };
    if (opts.checkOnly) return { ...result, state: 'available' };
    // already staged, and its bytes still hash to what is signed now: keep it (and the user's
    // "install on restart" choice) rather than download it again
    const kept = await stillStaged(opts.home, newest, doc.file, found.signed.sha256, found.signed.length);
    if (kept) return { ...result, state: 'staged', installer: kept };
    const got = await found.fetchFile(doc.file, quarantine);
    const installer = got.dest;
    fs.chmodSync(installer, 0o700); // an AppImage runs as it is
    const dir = path.join(updates, String(newest));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(quarantine, dir);
    const staged = path.join(dir, doc.file);
    const pending = pendingFile(opts.home);
    fs.writeFileSync(`${pending}.tmp`, `${JSON.stringify({ ...doc, hub: base, installer: staged, sha256: got.sha256, length: got.length, stagedAt: new Date().toISOString() } satisfies PendingUpdate, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(`${pending}.tmp`, pending);
    return { ...result, state: 'staged', installer: staged };
  } finally {
    fs.rmSync(quarantine, { recursive: true, force: true });
  }
}

export async function sha256File(file: string, onBytes?: (n: number) => void): Promise<{ sha256: string; length: number }> {
  const h = crypto.createHash('sha256');
  let length = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    h.update(chunk);
    length += chunk.length;
    onBytes?.(length);
  }
  return { sha256: h.digest('hex'), length };
}

/** The staged installer's path when pending.json stages exactly this signed file and it still hashes right. */
async function stillStaged(home: string, release: number, file: string, sha256: string, length: number): Promise<string | undefined> {
  let p: Partial<PendingUpdate>;
  try { p = JSON.parse(fs.readFileSync(pendingFile(home), 'utf8')) as Partial<PendingUpdate>; } catch { return undefined; }
  const installer = path.join(updatesDir(home), String(release), file);
  if (p.release !== release || p.file !== file || !sha256 || p.sha256 !== sha256 || p.length !== length || typeof p.installer !== 'string' || path.resolve(p.installer) !== path.resolve(installer)) return undefined;
  try {
    const got = await sha256File(installer);
    return got.sha256 === sha256 && got.length === length ? p.installer : undefined;
  } catch {
    return undefined;
  }
}
