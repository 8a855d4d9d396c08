// Signed releases on a hub: app releases (`outpost-app-<os>-<arch>/<release>/<file>`) and GPU runtimes
// (`outpost-runtime-<os>-<arch>-<flavor>-ort<x.y.z>/<release>/<file>`: ONNX Runtime's provider
// libraries for one ORT version, see src/inference/common/gpu-runtime.ts), published under the model
// naming so the operator delegates them like any team (a publisher with the glob `outpost-app-*` or
// `outpost-runtime-*`), and a device verifies them with the same TUF client as a model. A release is
// `release.json` plus exactly the one file it names. Pure.
import { FILE_NAME_RE } from './target-paths.ts';

export const APP_RELEASE_PREFIX = 'outpost-app-';
export const APP_PLATFORM_RE = /^(linux|win32|darwin)-(x64|arm64)$/;
export const RELEASE_FILE = 'release.json';
const SEMVER_RE = /^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z.-]{1,40})?$/;

export const RUNTIME_RELEASE_PREFIX = 'outpost-runtime-';
const RUNTIME_NAME_RE = /^outpost-runtime-((?:linux|win32|darwin)-(?:x64|arm64))-(cuda12)-ort(\d{1,6}\.\d{1,6}\.\d{1,6})$/;

export const appReleaseName = (platform: string): string => `${APP_RELEASE_PREFIX}${platform}`;
export const isAppReleaseName = (name: string): boolean => name.startsWith(APP_RELEASE_PREFIX) && APP_PLATFORM_RE.test(name.slice(APP_RELEASE_PREFIX.length));
/** The release name of a GPU runtime: one per platform, flavor and ONNX Runtime version. */
export const runtimeReleaseName = (platform: string, flavor: string, ortVersion: string): string => `${RUNTIME_RELEASE_PREFIX}${platform}-${flavor}-ort${ortVersion}`;

/** What a release name's release.json must say: the product (`app`), the platform and, for a runtime, the version. */
export interface ReleaseExpectation { app: string; platform: string; version?: string }

/** What the name of a signed release promises, or undefined when the name is a model's. */
export function releaseExpectation(name: string): ReleaseExpectation | undefined {
  if (isAppReleaseName(name)) return { app: 'outpost', platform: name.slice(APP_RELEASE_PREFIX.length) };
  const m = RUNTIME_NAME_RE.exec(name);
  return m ? { app: `onnxruntime-${m[2]}`, platform: m[1], version: m[3] } : undefined;
}
export const isReleaseName = (name: string): boolean => releaseExpectation(name) !== undefined;

/** `app`: 'outpost' for an app release, `onnxruntime-<flavor>` for a GPU runtime (whose version is ONNX Runtime's). */
export interface ReleaseDocument { app: string; platform: string; release: number; version: string; file: string }

export function releaseDocumentBytes(doc: ReleaseDocument): string {
  return JSON.stringify({ app: doc.app, platform: doc.platform, release: doc.release, version: doc.version, file: doc.file });
}

/** Parse `release.json` and check it says what its signed path says (platform, release number). */
export function parseReleaseDocument(text: string, expect: { platform: string; release: number; app?: string; version?: string }): { ok: true; doc: ReleaseDocument } | { ok: false; reason: string } {
  const app = expect.app ?? 'outpost';
  let d: Partial<ReleaseDocument>;
  try {
    d = JSON.parse(text) as Partial<ReleaseDocument>;
  } catch {
    return { ok: false, reason: 'release.json is not JSON' };
  }
  if (typeof d !== 'object' || d === null || d.app !== app) return { ok: false, reason: `release.json does not say {"app":"${app}",…}` };
  if (d.platform !== expect.platform) return { ok: false, reason: `release.json is for platform ${JSON.stringify(d.platform)}, published as ${expect.platform}` };
  if (d.release !== expect.release) return { ok: false, reason: `release.json says release ${JSON.stringify(d.release)}, published as release ${expect.release}` };
  if (typeof d.version !== 'string' || !SEMVER_RE.test(d.version)) return { ok: false, reason: `release.json version ${JSON.stringify(d.version)} is not x.y.z` };
  if (expect.version !== undefined && d.version !== expect.version) return { ok: false, reason: `release.json says version ${d.version}, published as ${expect.version}` };
  if (typeof d.file !== 'string' || !FILE_NAME_RE.test(d.file) || d.file === RELEASE_FILE) return { ok: false, reason: `release.json file ${JSON.stringify(d.file)} is not an installer file name` };
  return { ok: true, doc: { app, platform: d.platform, release: d.release, version: d.version, file: d.file } };
}

/** Why a new release's set of files is wrong (empty when it is release.json plus one installer). */
export function releaseFileProblems(id: string, files: string[]): string[] {
  if (!files.includes(RELEASE_FILE)) return [`${id}: a release is missing ${RELEASE_FILE}`];
  const installers = files.filter((f) => f !== RELEASE_FILE);
  if (installers.length !== 1) return [`${id}: a release holds ${RELEASE_FILE} and exactly one ${id.startsWith(RUNTIME_RELEASE_PREFIX) ? 'package' : 'installer'} (it has ${installers.length})`];
  return [];
}

/** What a device does with the newest signed release, given the release it runs. */
export function updateDecision(current: number, newest: number | undefined): 'none' | 'newer' | 'same' {
  if (newest === undefined) return 'none';
  return newest > current ? 'newer' : 'same';
}

export type InstallerKind = 'appimage' | 'deb' | 'nsis' | 'dmg' | 'other';

/** The kind of an installer, from its file name (electron-builder's artifact names). */
export function installerKind(file: string): InstallerKind {
  const f = file.toLowerCase();
  if (f.endsWith('.appimage')) return 'appimage';
  if (f.endsWith('.deb')) return 'deb';
  if (f.endsWith('.exe')) return 'nsis';
  if (f.endsWith('.dmg')) return 'dmg';
  return 'other';
}
