// Installing a staged app update on restart (the other half of app-update.ts). Narrow surface:
//   readPending / stagedState   what is staged, and whether its bytes still hash to the signed sha256
//   installPlan                 what applying it would do here, per installer kind
//   scheduleInstall             Settings → Updates' "install on restart" (a flag in pending.json)
//   applyPending                what the app runs when it quits: hash again, then apply the plan
// AppImage: the running AppImage ($APPIMAGE) is replaced atomically — the verified bytes are copied
// next to it, fsynced and hashed, the old file is kept as `<AppImage>.old` (a hard link, else a
// copy), then one rename swaps them; a failed check after the swap renames the old one back. At every
// instant (a kill included) the AppImage path is a complete old or a complete new file.
// deb: `pkexec apt-get install -y --no-remove ./<file>` in the staged folder (the desktop asks for an
// administrator password). NSIS and dmg: not applied by the app; the staged installer is run by hand.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { appReleaseName, installerKind, parseReleaseDocument, type InstallerKind } from '../../hub/common/app-release.ts';
import { recordSecurityEvent } from '../../store/node/models.ts';
import { openStore } from '../../store/node/store.ts';
import { compareVersions, pendingFile, sha256File, updatesDir, type PendingUpdate } from './app-update.ts';

export { sha256File };

export const LAST_INSTALL_FILE = 'last-install.json';
export const LAST_FAILURE_FILE = 'last-failure.json';
const TEMP_MARK = '.outpost-update-';

/** The staged update, or undefined; a pending.json that cannot be read is an error naming the file. */
export function readPending(home: string): PendingUpdate | undefined {
  const file = pendingFile(home);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let raw: Partial<PendingUpdate>;
  try { raw = JSON.parse(text) as Partial<PendingUpdate>; } catch { throw new OutpostError('input', `${file} is not JSON: check for updates again to stage a fresh copy`, { file }); }
  const doc = parseReleaseDocument(JSON.stringify(raw), { platform: String(raw.platform), release: Number(raw.release) });
  if (!doc.ok) throw new OutpostError('input', `${file}: ${doc.reason}`, { file });
  if (typeof raw.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(raw.sha256) || typeof raw.length !== 'number') {
    throw new OutpostError('input', `${file} names no signed sha256 for its installer (staged by an older Outpost): check for updates again`, { file });
  }
  if (typeof raw.installer !== 'string' || path.resolve(raw.installer) !== path.resolve(updatesDir(home), String(raw.release), doc.doc.file)) {
    throw new OutpostError('input', `${file}: the installer path ${JSON.stringify(raw.installer)} is not updates/${raw.release}/${doc.doc.file}`, { file });
  }
  return { ...doc.doc, hub: String(raw.hub), installer: raw.installer, sha256: raw.sha256, length: raw.length, stagedAt: String(raw.stagedAt), installOnRestart: raw.installOnRestart === true };
}

function writePending(home: string, p: PendingUpdate): void {
  const file = pendingFile(home);
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(p, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

export interface StagedState {
  pending: PendingUpdate;
  /** the installer hashes to the signed sha256 right now */
  verified: boolean;
  /** why not (missing, wrong size, wrong hash) */
  problem?: string;
}

/** Hash the staged installer again against the sha256 it was verified with at download. */
export async function stagedState(pending: PendingUpdate): Promise<StagedState> {
  let got: { sha256: string; length: number };
  try {
    got = await sha256File(pending.installer);
  } catch (e) {
    return { pending, verified: false, problem: `the staged installer ${pending.installer} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  if (got.length !== pending.length || got.sha256 !== pending.sha256) {
    return { pending, verified: false, problem: `the staged installer ${pending.installer} does not match what was signed (sha256 ${got.sha256.slice(0, 16)}…, ${got.length} bytes; signed ${pending.sha256.slice(0, 16)}…, ${pending.length} bytes)` };
  }
  return { pending, verified: true };
}

export type InstallPlan =
  | { kind: 'appimage'; installer: string; target: string; backup: string; summary: string }
  | { kind: 'deb'; installer: string; command: string[]; cwd: string; summary: string }
  | { kind: 'manual'; installer: string; installerKind: InstallerKind; summary: string };

/** What applying the staged installer does on this machine (env: the app's; APPIMAGE is set by the AppImage runtime). */
export function installPlan(pending: PendingUpdate, env: NodeJS.ProcessEnv = process.env): InstallPlan {
  const kind = installerKind(pending.file);
  const installer = pending.installer;
  if (kind === 'appimage') {
    const running = env.APPIMAGE;
    if (!running || !path.isAbsolute(running) || !fs.existsSync(running)) {
      return { kind: 'manual', installer, installerKind: kind, summary: `Outpost is not running from an AppImage here ($APPIMAGE is ${running ? `${running}, which does not exist` : 'not set'}): replace your AppImage with ${installer} by hand` };
    }
    const target = fs.realpathSync(running);
    return { kind: 'appimage', installer, target, backup: `${target}.old`, summary: `replaces ${target} (the current one is kept as ${target}.old)` };
  }
  if (kind === 'deb') {
    const command = ['pkexec', 'apt-get', 'install', '-y', '--no-remove', `./${pending.file}`];
    return { kind: 'deb', installer, command, cwd: path.dirname(installer), summary: `runs ${command.join(' ')} in ${path.dirname(installer)} (asks for an administrator password)` };
  }
  const how = kind === 'nsis' ? 'run it (it replaces the installed Outpost; data folders stay)'
    : kind === 'dmg' ? 'open it and drag Outpost to Applications, replacing the old one'
      : 'install it with your platform\'s tools';
  return { kind: 'manual', installer, installerKind: kind, summary: `the app does not apply ${kind === 'other' ? 'this kind of installer' : `${kind === 'nsis' ? 'Windows (NSIS)' : 'macOS (dmg)'} installers`} itself: ${how} — ${installer}` };
}

/** Settings → Updates' "install on restart": verified first; a staged file that fails its hash is refused. */
export async function scheduleInstall(home: string, enabled: boolean, env: NodeJS.ProcessEnv = process.env): Promise<PendingUpdate> {
  const pending = readPending(home);
  if (!pending) throw new OutpostError('not-found', 'no update is staged: check for updates first');
  if (enabled) {
    const state = await stagedState(pending);
    if (!state.verified) {
      refusal(home, pending, state.problem!);
      throw new OutpostError('package', `not scheduled: ${state.problem}; check for updates again to download it afresh`);
    }
    const plan = installPlan(pending, env);
    if (plan.kind === 'manual') throw new OutpostError('usage', `not scheduled: ${plan.summary}`);
  }
  const next = { ...pending, installOnRestart: enabled };
  writePending(home, next);
  return next;
}

function refusal(home: string, p: PendingUpdate, why: string): void {
  const store = openStore(home);
  try { recordSecurityEvent(store, 'app-update-refused:staged', appReleaseName(p.platform), why); } finally { store.close(); }
}

export interface LastInstall { version: string; release: number; from: string; kind: 'appimage' | 'deb'; target: string; backup?: string; at: string }

export function readLastInstall(home: string): LastInstall | undefined {
  try { return JSON.parse(fs.readFileSync(path.join(updatesDir(home), LAST_INSTALL_FILE), 'utf8')) as LastInstall; } catch { return undefined; }
}

export interface LastFailure { version: string; message: string; at: string }

export function readLastFailure(home: string): LastFailure | undefined {
  try { return JSON.parse(fs.readFileSync(path.join(updatesDir(home), LAST_FAILURE_FILE), 'utf8')) as LastFailure; } catch { return undefined; }
}

/**
 * What the app runs when it quits: apply the staged update if "install on restart" was chosen.
 * Never throws: a failure is written to updates/last-failure.json (Settings → Updates shows it) and
 * returned, and the installed app is left as it was (or put back).
 */
export async function applyOnQuit(opts: ApplyOptions): Promise<ApplyResult | { state: 'failed'; message: string }> {
  let version = '?';
  try {
    version = readPending(opts.home)?.version ?? '?';
    const r = await applyPending(opts);
    if (r.state === 'installed') fs.rmSync(path.join(updatesDir(opts.home), LAST_FAILURE_FILE), { force: true });
    return r;
  } catch (e) {
    const message = (e as Error).message;
    try {
      fs.mkdirSync(updatesDir(opts.home), { recursive: true, mode: 0o700 });
      fs.writeFileSync(path.join(updatesDir(opts.home), LAST_FAILURE_FILE), `${JSON.stringify({ version, message, at: new Date().toISOString() } satisfies LastFailure, null, 2)}\n`, { mode: 0o600 });
    } catch { /* the data folder is not writable: the app log still has the message */ }
    return { state: 'failed', message };
  }
}

export type ApplyStep = 'verify' | 'copy' | 'copied' | 'backup' | 'swap' | 'check' | 'done';

export interface ApplyOptions {
  home: string;
  /** the running app's version: a staged release not newer than it is dropped, not applied */
  currentVersion: string;
  env?: NodeJS.ProcessEnv;
  /** apply even when "install on restart" was not chosen (a command run by hand) */
  force?: boolean;
  /** deb: run the command (default); false returns the plan without running it */
  run?: boolean;
  /** after the swap: throw to roll back (default: the new file hashes right and is executable) */
  check?: (file: string) => Promise<void>;
  onStep?: (step: ApplyStep, detail?: { bytes?: number }) => void;
}

export type ApplyResult =
  | { state: 'nothing'; reason: string }
  | { state: 'installed'; plan: InstallPlan; version: string }
  | { state: 'planned'; plan: InstallPlan };

/**
 * Apply the staged update (when "install on restart" was chosen, or `force`). Throws — having
 * replaced nothing, or having put the old AppImage back — when the staged file fails its hash, the
 * copy fails, or the check after the swap fails.
 */
export async function applyPending(opts: ApplyOptions): Promise<ApplyResult> {
  const env = opts.env ?? process.env;
  const step = opts.onStep ?? (() => {});
  const pending = readPending(opts.home);
  if (!pending) return { state: 'nothing', reason: 'no update is staged' };
  if (compareVersions(pending.version, opts.currentVersion) <= 0) {
    // already running it (the swap happened and the app restarted), or older: nothing to apply
    clearStaged(opts.home, pending);
    return { state: 'nothing', reason: `the staged ${pending.version} is not newer than the running ${opts.currentVersion}` };
  }
  if (!pending.installOnRestart && !opts.force) return { state: 'nothing', reason: `${pending.version} is staged but "install on restart" was not chosen` };
  step('verify');
  const state = await stagedState(pending);
  if (!state.verified) {
    refusal(opts.home, pending, state.problem!);
    writePending(opts.home, { ...pending, installOnRestart: false });
    throw new OutpostError('package', `update to ${pending.version} refused: ${state.problem}; nothing was replaced`);
  }
  const plan = installPlan(pending, env);
  if (plan.kind === 'manual') return { state: 'planned', plan };
  if (plan.kind === 'deb' && opts.run === false) return { state: 'planned', plan };
  try {
    if (plan.kind === 'deb') await runCommand(plan.command, plan.cwd);
    else await replaceAppImage(plan, pending, opts, step);
  } catch (e) {
    // not again at every quit: the user chooses "install on restart" again (Settings shows the failure)
    writePending(opts.home, { ...pending, installOnRestart: false });
    throw e;
  }
  finish(opts, pending, plan.kind === 'deb' ? { kind: 'deb', target: plan.installer } : { kind: 'appimage', target: plan.target, backup: plan.backup });
  step('done');
  return { state: 'installed', plan, version: pending.version };
}

async function replaceAppImage(plan: Extract<InstallPlan, { kind: 'appimage' }>, pending: PendingUpdate, opts: ApplyOptions, step: NonNullable<ApplyOptions['onStep']>): Promise<void> {
  const dir = path.dirname(plan.target);
  const base = path.basename(plan.target);
  // what an interrupted apply left next to the AppImage
  for (const f of fs.readdirSync(dir)) if (f.startsWith(`.${base}${TEMP_MARK}`)) fs.rmSync(path.join(dir, f), { force: true });
  const mode = fs.statSync(plan.target).mode & 0o7777;
  const temp = path.join(dir, `.${base}${TEMP_MARK}${crypto.randomBytes(6).toString('hex')}`);
  try {
    step('copy', { bytes: 0 });
    const h = crypto.createHash('sha256');
    let bytes = 0;
    const out = fs.openSync(temp, 'wx', 0o700);
    try {
      for await (const chunk of fs.createReadStream(plan.installer, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
        fs.writeSync(out, chunk);
        h.update(chunk);
        bytes += chunk.length;
        step('copy', { bytes });
      }
      fs.fsyncSync(out);
    } finally {
      fs.closeSync(out);
    }
    if (bytes !== pending.length || h.digest('hex') !== pending.sha256) throw new OutpostError('package', `update to ${pending.version} refused: the copy next to ${plan.target} does not hash to the signed sha256 (the staged file changed while it was copied); nothing was replaced`);
    fs.chmodSync(temp, mode | 0o500);
    step('copied');
    fs.rmSync(plan.backup, { force: true });
    try {
      fs.linkSync(plan.target, plan.backup);
    } catch {
      fs.copyFileSync(plan.target, plan.backup);
    }
    step('backup');
    fs.renameSync(temp, plan.target);
    syncDir(dir);
    step('swap');
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e instanceof OutpostError ? e : new OutpostError('store', `update to ${pending.version} not applied: ${(e as Error).message}; ${plan.target} was not replaced`);
  }
  step('check');
  try {
    if (opts.check) await opts.check(plan.target);
    else {
      const got = await sha256File(plan.target);
      if (got.sha256 !== pending.sha256) throw new Error(`${plan.target} does not hash to the signed sha256 after the swap`);
      if (!(fs.statSync(plan.target).mode & 0o100)) throw new Error(`${plan.target} is not executable after the swap`);
    }
  } catch (e) {
    fs.renameSync(plan.backup, plan.target);
    syncDir(dir);
    throw new OutpostError('store', `update to ${pending.version} rolled back: ${(e as Error).message}; the previous AppImage is back at ${plan.target}`);
  }
}

function syncDir(dir: string): void {
  try { const fd = fs.openSync(dir, 'r'); try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); } } catch { /* not every platform can fsync a folder */ }
}

function finish(opts: ApplyOptions, pending: PendingUpdate, what: { kind: 'appimage' | 'deb'; target: string; backup?: string }): void {
  const record: LastInstall = { version: pending.version, release: pending.release, from: opts.currentVersion, ...what, at: new Date().toISOString() };
  fs.writeFileSync(path.join(updatesDir(opts.home), LAST_INSTALL_FILE), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  clearStaged(opts.home, pending);
}

function clearStaged(home: string, pending: PendingUpdate): void {
  fs.rmSync(pendingFile(home), { force: true });
  fs.rmSync(path.dirname(pending.installer), { recursive: true, force: true });
}

function runCommand(command: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (d: Buffer) => { tail = (tail + d.toString()).slice(-2000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => reject(new OutpostError('store', `${command[0]} could not start (${e.message}): install ${path.join(cwd, command.at(-1)!)} by hand`)));
    child.on('exit', (code, sig) => (code === 0 ? resolve() : reject(new OutpostError('store', `${command.join(' ')} failed (${sig ?? `exit ${code}`}): ${tail.trim().split('\n').at(-1) ?? ''}`))));
  });
}
