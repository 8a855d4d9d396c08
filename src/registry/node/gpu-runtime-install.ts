// `outpost gpu install|remove|status`: the GPU runtime (../../inference/common/gpu-runtime.ts) from
// the connected hub, with the trust of a model pull. The newest signed release of
// `outpost-runtime-<os>-<arch>-cuda12-ort<version>` is found with TUF; its release.json and package
// (the NuGet .nupkg `npm run setup:cuda` downloads) come through the verified path (signed length
// and sha256) into a quarantine folder; the provider libraries are taken out of the package and the
// app's own binding and libonnxruntime copied beside them; manifest.json names every file with its
// sha256; the folder is renamed into place and checked once more. A refusal names its stage and is
// recorded as a security event; the installed runtime (if any) stays as it was.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { releaseExpectation, runtimeReleaseName } from '../../hub/common/app-release.ts';
import { APP_ORT_FILES, MANIFEST_FILE, PROVIDER_MEMBERS, RUNTIME_FLAVOR, runtimePlatforms, type RuntimeFile, type RuntimeManifest } from '../../inference/common/gpu-runtime.ts';
import { checkRuntime, otherRuntimes, runtimeDir, runtimesDir, thisPlatform } from '../../inference/node/gpu-runtime.ts';
import { linuxGpuFacts, ortBinDir, ortPackageVersion } from '../../inference/node/libraries.ts';
import { PROBE_CACHE_FILE } from '../../inference/node/probe-cache.ts';
import { sha256FileSync } from '../../package/node/files.ts';
import { recordSecurityEvent } from '../../store/node/models.ts';
import { openStore } from '../../store/node/store.ts';
import { PullRefused } from './errors.ts';
import { acquirePullLock } from './pull-lock.ts';
import { newestSignedRelease } from './signed-release.ts';
import { connectHub } from './tuf-client.ts';
import { hubBase, isEnrolled, pinRoot } from './trust.ts';
import { extractZipEntry, isZipError, listZip } from './zip.ts';

export interface GpuRuntimeOptions {
  home: string;
  hubUrl: string;
  rootFile?: string;
  /** report what the hub offers; install nothing */
  checkOnly?: boolean;
  signal?: AbortSignal;
  onProgress?: (e: { stage: string; detail?: string; received?: number; total?: number }) => void;
  /** tests: another ORT version or platform than this app's */
  ortVersion?: string;
  platform?: string;
}

export interface GpuRuntimeOffer { hub: string; name: string; release?: number; file?: string; length?: number }
export interface GpuInstallResult extends GpuRuntimeOffer { state: 'none' | 'available' | 'current' | 'installed'; dir: string }

/** The release name this app's runtime is published under on a hub. */
export const runtimeNameHere = (ortVersion = ortPackageVersion(), platform = thisPlatform()): string => runtimeReleaseName(platform, RUNTIME_FLAVOR, ortVersion);

function requireSupported(platform: string): void {
  if (!PROVIDER_MEMBERS[platform]) throw new OutpostError('usage', `there is no GPU runtime for ${platform}: ONNX Runtime's CUDA provider libraries are an opt-in download on ${runtimePlatforms().join(', ')} only (elsewhere the providers onnxruntime-node ships are used as they are)`);
}

/** The provider probe's cached answers were for the other ORT files: ask again on the next run. */
const forgetProbeCache = (home: string): void => fs.rmSync(path.join(home, PROBE_CACHE_FILE), { force: true });

export async function installGpuRuntime(opts: GpuRuntimeOptions): Promise<GpuInstallResult> {
  const base = hubBase(opts.hubUrl);
  const platform = opts.platform ?? thisPlatform();
  const ortVersion = opts.ortVersion ?? ortPackageVersion();
  requireSupported(platform);
  if (opts.rootFile) pinRoot(opts.home, base, opts.rootFile);
  if (!isEnrolled(opts.home, base)) throw new OutpostError('usage', `this device does not trust ${base} yet: pass --root <root.json> once (or \`outpost connect\`)`);
  const name = runtimeNameHere(ortVersion, platform);
  const release = acquirePullLock(opts.home, `GPU runtime from ${base}`);
  const quarantine = path.join(runtimesDir(opts.home), `.quarantine-${crypto.randomBytes(6).toString('hex')}`);
  try {
    fs.mkdirSync(quarantine, { recursive: true, mode: 0o700 });
    return await installWith(base, name, quarantine, { ...opts, platform, ortVersion });
  } catch (e) {
    if (!(e instanceof PullRefused)) throw e;
    const store = openStore(opts.home);
    try { recordSecurityEvent(store, `gpu-runtime-refused:${e.stage}`, name, `${base}: ${e.message}`); } finally { store.close(); }
    throw new PullRefused(e.stage, `GPU runtime refused at ${e.stage}: ${e.message}; nothing was installed`, { hub: base });
  } finally {
    fs.rmSync(quarantine, { recursive: true, force: true });
    release();
  }
}

async function installWith(base: string, name: string, quarantine: string, opts: GpuRuntimeOptions & { platform: string; ortVersion: string }): Promise<GpuInstallResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const dir = runtimeDir(opts.home, opts.ortVersion, opts.platform);
  progress({ stage: 'metadata', detail: base });
  const client = await connectHub(opts.home, base, { signal: opts.signal });
  const found = await newestSignedRelease(client, name, releaseExpectation(name)!, quarantine, opts.signal);
  if (!found) return { state: 'none', hub: base, name, dir };
  const offer = { hub: base, name, release: found.release, file: found.doc.file, length: found.signed.length, dir };
  const installed = checkRuntime(opts.home, { ortVersion: opts.ortVersion, platform: opts.platform });
  if (installed.state === 'ok' && installed.manifest.source.name === name) {
    const had = installed.manifest.source.release;
    if (had > found.release) throw new PullRefused('rollback', `the newest signed ${name} is release ${found.release}, older than the installed release ${had}`);
    if (had === found.release && installed.manifest.source.sha256 === found.signed.sha256) return { ...offer, state: 'current' };
  }
  if (opts.checkOnly) return { ...offer, state: 'available' };

  progress({ stage: 'download', detail: found.doc.file, received: 0, total: found.signed.length });
  const pkg = await found.fetchFile(found.doc.file, quarantine, (received, total) => progress({ stage: 'download', detail: found.doc.file, received, total }));
  const staged = path.join(quarantine, 'runtime');
  fs.mkdirSync(staged, { mode: 0o700 });
  progress({ stage: 'extract', detail: found.doc.file });
  const files = [...await extractProviders(pkg.dest, opts.platform, staged), ...copyAppOrt(opts.platform, staged)];
  const manifest: RuntimeManifest = {
    format: 'outpost.gpu-runtime/v1', ortVersion: opts.ortVersion, platform: opts.platform, flavor: RUNTIME_FLAVOR, files,
    source: { hub: base, name, release: found.release, file: found.doc.file, sha256: pkg.sha256 }, installedAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(staged, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  progress({ stage: 'install', detail: dir });
  swapInto(staged, dir);
  forgetProbeCache(opts.home);
  const check = checkRuntime(opts.home, { ortVersion: opts.ortVersion, platform: opts.platform });
  if (check.state !== 'ok') throw new OutpostError('store', `the GPU runtime installed in ${dir} does not check: ${check.state === 'modified' ? check.reason : 'missing'}`);
  return { ...offer, state: 'installed' };
}

/** Take the platform's provider libraries out of the package (a NuGet .nupkg: a ZIP archive). */
async function extractProviders(pkg: string, platform: string, into: string): Promise<RuntimeFile[]> {
  const file = path.basename(pkg);
  try {
    const entries = listZip(pkg);
    const out: RuntimeFile[] = [];
    for (const [name, member] of Object.entries(PROVIDER_MEMBERS[platform])) {
      const e = entries.get(member);
      if (!e) throw new PullRefused('package-files', `${file} has no ${member} (is it ONNX Runtime's GPU package for ${platform}?)`);
      const got = await extractZipEntry(pkg, e, path.join(into, name));
      out.push({ name, size: got.size, sha256: got.sha256, from: 'package' });
    }
    return out;
  } catch (e) {
    if (isZipError(e)) throw new PullRefused('package-files', `${file}: ${e.message}`);
    throw e;
  }
}

/** Copy the app's own binding and libonnxruntime (the runtime loads them from its own folder). */
function copyAppOrt(platform: string, into: string): RuntimeFile[] {
  const from = ortBinDir();
  return APP_ORT_FILES[platform].map((name) => {
    const src = path.join(from, name);
    if (!fs.existsSync(src)) throw new OutpostError('store', `this app's ONNX Runtime has no ${name} in ${from}`);
    fs.copyFileSync(src, path.join(into, name));
    fs.chmodSync(path.join(into, name), 0o700);
    return { name, size: fs.statSync(path.join(into, name)).size, sha256: sha256FileSync(path.join(into, name)), from: 'app' as const };
  });
}

/** Put the staged folder where the runtime lives; one already there is moved aside first and removed after. */
function swapInto(staged: string, dir: string): void {
  const old = `${path.join(path.dirname(dir), '.old-')}${crypto.randomBytes(6).toString('hex')}`;
  const had = fs.existsSync(dir);
  if (had) fs.renameSync(dir, old);
  try {
    fs.renameSync(staged, dir);
  } catch (e) {
    if (had) fs.renameSync(old, dir);
    throw e;
  }
  if (had) fs.rmSync(old, { recursive: true, force: true });
}

/** Remove the GPU runtime(s) from the data folder; ORT then loads from the app again. */
export function removeGpuRuntimes(home: string): string[] {
  const root = runtimesDir(home);
  let names: string[];
  try { names = fs.readdirSync(root); } catch { return []; }
  for (const n of names) fs.rmSync(path.join(root, n), { recursive: true, force: true });
  forgetProbeCache(home);
  return names.filter((n) => !n.startsWith('.')).sort();
}


export interface GpuStatus {
  ortVersion: string;
  platform: string;
  /** whether this platform's CUDA provider is an opt-in download (a GPU runtime) */
  supported: boolean;
  runtime: { state: 'absent' | 'ok' | 'modified'; dir: string; problem?: string; file?: string; source?: RuntimeManifest['source']; installedAt?: string; bytes?: number };
  /** runtimes in the data folder for another ORT version or platform (left by an earlier app) */
  others: string[];
  /** Linux: the NVIDIA driver and the CUDA 12 / cuDNN 9 libraries the CUDA provider needs */
  machine?: { nvidiaDevices: string[]; libcuda: string | null; cudaLibsMissing: string[] };
  /** what the hub offers (when one is known) */
  hub?: { url: string; state?: GpuInstallResult['state']; release?: number; file?: string; length?: number; error?: string };
}

/** Everything `outpost gpu status` and Settings → GPU show. Asks the hub only when `hubUrl` is given. */
export async function gpuStatus(opts: { home: string; hubUrl?: string; signal?: AbortSignal }): Promise<GpuStatus> {
  const platform = thisPlatform();
  const ortVersion = ortPackageVersion();
  const check = checkRuntime(opts.home);
  const runtime: GpuStatus['runtime'] = { state: check.state, dir: check.dir };
  if (check.state === 'modified') Object.assign(runtime, { problem: check.reason, file: check.file });
  if (check.state === 'ok') Object.assign(runtime, { source: check.manifest.source, installedAt: check.manifest.installedAt, bytes: check.manifest.files.reduce((n, f) => n + f.size, 0) });
  const status: GpuStatus = { ortVersion, platform, supported: Boolean(PROVIDER_MEMBERS[platform]), runtime, others: otherRuntimes(opts.home) };
  if (process.platform === 'linux') {
    const facts = linuxGpuFacts(check.state === 'ok' ? check.dir : ortBinDir());
    status.machine = { nvidiaDevices: facts.nvidiaDevices, libcuda: facts.libcuda ?? null, cudaLibsMissing: facts.cudaRuntimeLibsMissing };
  }
  if (opts.hubUrl && status.supported) {
    try {
      const r = await installGpuRuntime({ home: opts.home, hubUrl: opts.hubUrl, checkOnly: true, signal: opts.signal });
      status.hub = { url: r.hub, state: r.state, release: r.release, file: r.file, length: r.length };
    } catch (e) {
      status.hub = { url: hubBase(opts.hubUrl), error: (e as Error).message };
    }
  }
  return status;
}
