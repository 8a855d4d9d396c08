// The publisher's side of `outpost publish`: the package is checked locally, its files become
// TUF target entries (length + sha256), the publisher's delegated targets metadata is extended and
// signed HERE with the publisher's key(s), then blobs and metadata are uploaded. The hub only checks
// and countersigns snapshot/timestamp; it never holds a publisher key.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Metadata, TargetFile, type Targets } from '@tufjs/models';
import { OutpostError } from '../../common/errors.ts';
import { signerFor, type PrivateKeyHandle } from '../../keys/node/keys.ts';
import { loadPackage } from '../../package/node/load.ts';
import { APP_PLATFORM_RE, appReleaseName, parseReleaseDocument, RELEASE_FILE, releaseDocumentBytes, releaseExpectation, runtimeReleaseName } from '../common/app-release.ts';
import { PROVIDER_MEMBERS, RUNTIME_FLAVOR } from '../../inference/common/gpu-runtime.ts';
import { listZip } from '../../registry/node/zip.ts';
import { aliasDocumentBytes, aliasTargetPath, ALIAS_RE, fileTargetPath, PACKAGE_FILES, VERSION_RE, yankDocumentBytes, yankTargetPath } from '../common/target-paths.ts';
import type { PublishResult } from './repository.ts';
import { PullRefused } from '../../registry/node/errors.ts';
import { deviceChecks } from '../../registry/node/pull.ts';
import { sha256File as sha256Streamed } from '../../registry/node/app-update.ts';
import { connectionFailure, prepareHubTrust, requireSafeTransport } from '../../registry/node/hub-tls.ts';
import { connectHub } from '../../registry/node/tuf-client.ts';
import { isEnrolled } from '../../registry/node/trust.ts';
import { addSeconds, buildTargets, parseUntrustedTargets } from './tuf-metadata.ts';
import { binsToResign, signBinned, type BinnedSignOptions } from './bins.ts';

export interface PublishOptions {
  packageDir: string;
  hubUrl: string;
  keys: PrivateKeyHandle[];
  token: string;
  alias?: string;
  /** how long the signed targets metadata stays valid (default 365 days) */
  expiresSeconds?: number;
  now?: () => Date;
  signal?: AbortSignal;
  /** send the token over plain http to another machine (a trusted network only; https or loopback need nothing) */
  allowHttp?: boolean;
  onProgress?: (event: { stage: string; detail?: string }) => void;
  /** this machine's data folder: where a pinned root of the hub lets a rotated key's publish verify the delegation */
  home?: string;
  /**
   * The checks every device runs, before signing: 'full' (model-file safety, card/graph agreement and
   * a smoke inference in a child process; what `outpost publish` runs), 'static' (without the smoke
   * inference; the default here), 'none' (tests that play a publisher who skips them).
   */
  checks?: 'full' | 'static' | 'none';
}

interface Me { name: string; keyIds: string[]; threshold: number; paths: string[]; metadata: unknown }

async function call<T>(hubUrl: string, token: string, method: string, p: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; json: T }> {
  let res: Response;
  try {
    res = await fetch(new URL(p, hubUrl), {
      method, signal,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new OutpostError('input', connectionFailure(hubUrl, e).message);
  }
  const text = await res.text();
  let json: unknown;
  try { json = text ? JSON.parse(text) : {}; } catch { json = { raw: text }; }
  return { status: res.status, json: json as T };
}

function hubError(status: number, json: unknown, what: string): OutpostError {
  const err = (json as { error?: { code?: string; message?: string } }).error;
  const msg = `${what}: the hub answered ${status}: ${err?.message ?? JSON.stringify(json)}`;
  if (status === 401 || status === 403) return new OutpostError('usage', `${msg} (check --token)`);
  return new OutpostError(status === 409 ? 'conflict' : status === 404 ? 'not-found' : 'package', msg);
}

const sha256File = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The package's files, refusing anything that is not a plain file inside the folder (symlinks included). */
export function packageFiles(dir: string): { file: string; abs: string; length: number; sha256: string }[] {
  const abs = path.resolve(dir);
  return PACKAGE_FILES.map((file) => {
    const p = path.join(abs, file);
    let st: fs.Stats;
    try { st = fs.lstatSync(p); } catch { throw new OutpostError('package', `${file} is missing`, { file: p }); }
    if (st.isSymbolicLink()) throw new OutpostError('package', `${file} is a symbolic link; a package holds plain files only`, { file: p });
    if (!st.isFile()) throw new OutpostError('package', `${file} is not a plain file`, { file: p });
    return { file, abs: p, length: st.size, sha256: sha256File(p) };
  });
}

/**
 * Extend the publisher's own targets metadata with new entries (kept as they are: no version bins)
 * and sign it with every given key; its bin delegations are kept. How Outpost signed before version
 * bins (`signBinned` in bins.ts is what `publish` uses); tests and tools that play an older publisher use it.
 */
export function signPublisherTargets(prev: Metadata<Targets> | undefined, add: TargetFile[], keys: PrivateKeyHandle[], expires: Date): Metadata<Targets> {
  const targets: Targets['targets'] = { ...(prev?.signed.targets ?? {}) };
  for (const t of add) targets[t.path] = t;
  const d = prev?.signed.delegations;
  const delegations = d?.roles ? { delegationKeys: d.keys, roles: Object.values(d.roles).map((r) => ({ name: r.name, keyIds: r.keyIDs, threshold: r.threshold, paths: r.paths ?? [] })) } : {};
  const md = new Metadata(buildTargets({ version: (prev?.signed.version ?? 0) + 1, expires, targets, ...delegations }));
  for (const k of keys) md.sign(signerFor(k));
  return md;
}

/** A file to upload: on disk, or small bytes in memory (alias and yank documents). */
export interface UploadFile { sha256: string; label: string; abs?: string; bytes?: Uint8Array }

class Conflict extends Error {}

/**
 * Submit signed metadata: the hub checks it and says which of its files it lacks; exactly those are
 * uploaded (to the request's upload session), then the request is committed.
 */
export async function submitSigned(hubUrl: string, token: string, md: Metadata<Targets>, files: UploadFile[], opts: { signal?: AbortSignal; onUpload?: (label: string) => void; bins?: { name: string; metadata: Metadata<Targets> }[] } = {}): Promise<PublishResult> {
  const bins = opts.bins?.length ? { bins: opts.bins.map((b) => ({ name: b.name, metadata: b.metadata.toJSON() })) } : {};
  const begin = await call<{ id: string; needed: { sha256: string; length: number }[] }>(hubUrl, token, 'POST', '/api/v1/uploads', { metadata: md.toJSON(), ...bins }, opts.signal);
  if (begin.status === 409 && /does not grow/.test(JSON.stringify(begin.json))) throw new Conflict();
  if (begin.status !== 201) throw hubError(begin.status, begin.json, 'publish request');
  const { id, needed } = begin.json;
  try {
    for (const n of needed) {
      const f = files.find((x) => x.sha256 === n.sha256);
      if (!f) throw new OutpostError('package', `the hub asks for a blob ${n.sha256.slice(0, 12)}… this publish does not have`);
      opts.onUpload?.(f.label);
      let res: Response;
      try {
        res = await fetch(new URL(`/api/v1/uploads/${id}/${n.sha256}`, hubUrl), {
          method: 'PUT', signal: opts.signal,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(n.length) },
          body: (f.bytes ?? fs.createReadStream(f.abs!)) as unknown as RequestInit['body'],
          duplex: 'half',
        } as RequestInit);
      } catch (e) {
        throw new OutpostError('input', `cannot upload ${f.label}: ${connectionFailure(hubUrl, e).message}`);
      }
      if (res.status !== 201) throw hubError(res.status, await res.json().catch(() => ({})), `uploading ${f.label}`);
    }
    const res = await call<PublishResult & { ok: boolean }>(hubUrl, token, 'POST', `/api/v1/uploads/${id}/commit`, undefined, opts.signal);
    if (res.status === 409 && /does not grow/.test(JSON.stringify(res.json))) throw new Conflict();
    if (res.status !== 200) throw hubError(res.status, res.json, 'publishing');
    return res.json;
  } catch (e) {
    // a failed publish leaves nothing on the hub
    await call(hubUrl, token, 'DELETE', `/api/v1/uploads/${id}`, undefined).catch(() => undefined);
    throw e;
  }
}

/** Sign on top of the current metadata and submit; redone (twice at most) when a concurrent publish by the same team won. */
async function signAndSubmit(opts: Pick<PublishOptions, 'hubUrl' | 'token' | 'keys' | 'signal' | 'home' | 'expiresSeconds' | 'now' | 'allowHttp'>, build: (me: Me) => { add: TargetFile[]; files: UploadFile[] }, onUpload?: (label: string) => void, resignAll = false): Promise<PublishResult & { targets: string[]; signedBy: string[] }> {
  requireSafeTransport(opts.hubUrl, 'publisher token', opts.allowHttp ?? false);
  prepareHubTrust(opts.home, opts.hubUrl);
  const now = opts.now ?? (() => new Date());
  for (let attempt = 1; ; attempt++) {
    const { me, mine, prev } = await currentMetadata(opts);
    const { add, files } = build(me);
    const plan: BinnedSignOptions = { publisher: me.name, prev, add, keys: mine, threshold: me.threshold, expires: addSeconds(now(), opts.expiresSeconds ?? 365 * 86_400), resignAll };
    const current = await currentBins(opts, prev, binsToResign(plan));
    const signed = signBinned({ ...plan, prevBin: (name) => current.get(name) });
    try {
      const r = await submitSigned(opts.hubUrl, opts.token, signed.publisher, files, { signal: opts.signal, onUpload, bins: signed.bins });
      return { ...r, targets: add.map((t) => t.path), signedBy: mine.map((k) => k.keyId) };
    } catch (e) {
      if (e instanceof Conflict && attempt < 3) continue;
      if (e instanceof Conflict) throw new OutpostError('conflict', 'the hub kept receiving other publishes by this team; try again');
      throw e;
    }
  }
}

/**
 * The publisher's current metadata from the hub, checked before anything is signed on top of it:
 * it must carry a valid signature of one of OUR keys, or — after a key rotation — verify against the
 * delegation in the top-level targets as this machine's TUF client verifies it (needs the hub's root
 * pinned in `home`, e.g. by `outpost pull --root` once). A compromised hub therefore cannot slip
 * targets into our next signature.
 */
async function currentMetadata(opts: Pick<PublishOptions, 'hubUrl' | 'token' | 'keys' | 'signal' | 'home'>): Promise<{ me: Me; mine: PrivateKeyHandle[]; prev: Metadata<Targets> | undefined }> {
  const me = await call<Me>(opts.hubUrl, opts.token, 'GET', '/api/v1/publishers/me', undefined, opts.signal);
  if (me.status !== 200) throw hubError(me.status, me.json, 'asking the hub for this publisher');
  const mine = opts.keys.filter((k) => me.json.keyIds.includes(k.keyId));
  if (!mine.length) throw new OutpostError('usage', `none of the given keys is delegated to publisher "${me.json.name}" (its keys: ${me.json.keyIds.map((k) => k.slice(0, 12)).join(', ')})`);
  const prev = me.json.metadata ? parseUntrustedTargets(me.json.metadata) : undefined;
  if (!prev) return { me: me.json, mine, prev };
  const ours = opts.keys.some((k) => { try { k.tufKey.verifySignature(prev); return true; } catch { return false; } });
  if (ours) return { me: me.json, mine, prev };
  if (opts.home && isEnrolled(opts.home, opts.hubUrl)) {
    const client = await connectHub(opts.home, opts.hubUrl, { signal: opts.signal });
    const top = client.topTargets();
    try {
      top.verifyDelegate(me.json.name, prev);
      return { me: me.json, mine, prev };
    } catch (e) {
      throw new OutpostError('package', `the hub's current "${me.json.name}" metadata (version ${prev.signed.version}) does not verify against the delegation this machine trusts (${(e as Error).message}); refusing to sign on top of it`);
    }
  }
  throw new OutpostError('package', `the hub's current "${me.json.name}" metadata (version ${prev.signed.version}) is not signed by the given key; refusing to sign on top of it. After a key rotation, pass the hub's root once (--root <root.json>) so the delegation can be verified, or sign with the old key too`);
}

/**
 * The current metadata of the version bins a publish re-signs, from the hub's public metadata. Each
 * must verify under the delegation in the publisher's current metadata (checked above as ours), so
 * a hub cannot slip targets into a bin we sign on top of.
 */
async function currentBins(opts: Pick<PublishOptions, 'hubUrl' | 'signal'>, prev: Metadata<Targets> | undefined, names: string[]): Promise<Map<string, Metadata<Targets>>> {
  const out = new Map<string, Metadata<Targets>>();
  for (const name of names) {
    let res: Response;
    try {
      res = await fetch(new URL(`/metadata/${name}.json`, opts.hubUrl), { signal: opts.signal });
    } catch (e) {
      throw new OutpostError('input', connectionFailure(opts.hubUrl, e).message);
    }
    if (res.status === 404) { await res.body?.cancel(); continue; }
    if (!res.ok) throw hubError(res.status, await res.json().catch(() => ({})), `fetching version bin ${name}`);
    const md = parseUntrustedTargets(await res.json());
    try {
      prev!.verifyDelegate(name, md);
    } catch (e) {
      throw new OutpostError('package', `the hub's version bin ${name} (version ${md.signed.version}) does not verify under this publisher's current metadata (${(e as Error).message}); refusing to sign on top of it`);
    }
    out.set(name, md);
  }
  return out;
}

/** Sign the publisher's current metadata again, unchanged, with the given key(s): after a key rotation, or to renew it before it expires. */
export async function resignPublisher(opts: Omit<PublishOptions, 'packageDir' | 'alias'>): Promise<PublishResult & { signedBy: string[] }> {
  return signAndSubmit(opts, () => ({ add: [], files: [] }), undefined, true);
}

/** Yank a published version (signed by the publisher): devices refuse new installs and flag installed copies with the reason. */
export async function yankVersion(opts: Omit<PublishOptions, 'packageDir' | 'alias'> & { name: string; version: number; reason: string }): Promise<PublishResult & { signedBy: string[] }> {
  if (!opts.reason.trim() || opts.reason.length > 1000) throw new OutpostError('usage', '--reason must say why, in 1 to 1000 characters (devices show it)');
  const doc = Buffer.from(yankDocumentBytes({ name: opts.name, version: opts.version, reason: opts.reason }));
  const sha = crypto.createHash('sha256').update(doc).digest('hex');
  return signAndSubmit(opts, (me) => ({
    add: [new TargetFile({ path: yankTargetPath(opts.name, opts.version), length: doc.length, hashes: { sha256: sha }, unrecognizedFields: { custom: { outpost: { publisher: me.name, signedAt: (opts.now ?? (() => new Date()))().toISOString() } } } })],
    files: [{ sha256: sha, label: `yank of ${opts.name}@${opts.version}`, bytes: doc }],
  }));
}

export async function publishPackage(opts: PublishOptions): Promise<PublishResult & { targets: string[]; signedBy: string[] }> {
  const now = opts.now ?? (() => new Date());
  const progress = opts.onProgress ?? (() => undefined);
  if (!opts.keys.length) throw new OutpostError('usage', 'a publisher key is needed (--key)');
  requireSafeTransport(opts.hubUrl, 'publisher token', opts.allowHttp ?? false);
  if (opts.alias !== undefined && !ALIAS_RE.test(opts.alias)) throw new OutpostError('usage', `"${opts.alias}" is not a valid alias name (lower-case letters, digits, "-")`);
  const files = packageFiles(opts.packageDir);
  const pkg = loadPackage(opts.packageDir); // card valid and agreeing with the graph: never publish a broken package
  const { name, version } = pkg.card;
  const checks = opts.checks ?? 'static';
  if (checks !== 'none') {
    try {
      await deviceChecks(path.resolve(opts.packageDir), { name, version }, { smoke: checks === 'full', signal: opts.signal, onProgress: (e) => progress({ stage: `check:${e.stage}` }) });
    } catch (e) {
      if (!(e instanceof PullRefused)) throw e;
      throw new OutpostError('package', `not signed: every device would refuse this package at its ${e.stage} check: ${e.message}`, { file: path.resolve(opts.packageDir) }, { stage: e.stage });
    }
  }
  progress({ stage: 'delegation' });
  return signAndSubmit(opts, (me) => {
    const custom = { custom: { outpost: { publisher: me.name, signedAt: now().toISOString() } } };
    const add: TargetFile[] = files.map((f) => new TargetFile({ path: fileTargetPath(name, version, f.file), length: f.length, hashes: { sha256: f.sha256 }, unrecognizedFields: custom }));
    const uploads: UploadFile[] = files.map((f) => ({ sha256: f.sha256, label: f.file, abs: f.abs }));
    if (opts.alias) {
      const doc = Buffer.from(aliasDocumentBytes({ name, alias: opts.alias, version }));
      const sha = crypto.createHash('sha256').update(doc).digest('hex');
      uploads.push({ sha256: sha, label: `alias ${opts.alias}`, bytes: doc });
      add.push(new TargetFile({ path: aliasTargetPath(name, opts.alias), length: doc.length, hashes: { sha256: sha }, unrecognizedFields: custom }));
    }
    return { add, files: uploads };
  }, (label) => progress({ stage: 'upload', detail: label }));
}

/**
 * Publish an app release (`outpost hub app publish`): release.json plus the installer, signed by the
 * publisher delegated `outpost-app-*`, through the same checked sign-and-submit as a model.
 */
export async function publishAppRelease(opts: Omit<PublishOptions, 'packageDir' | 'alias' | 'checks'> & { installer: string; platform: string; release: number; version: string }): Promise<PublishResult & { targets: string[]; signedBy: string[] }> {
  if (!APP_PLATFORM_RE.test(opts.platform)) throw new OutpostError('usage', `--platform ${JSON.stringify(opts.platform)} is not <linux|win32|darwin>-<x64|arm64>`);
  return publishRelease({ ...opts, file: opts.installer, name: appReleaseName(opts.platform), app: 'outpost' });
}

/**
 * Publish a GPU runtime (`outpost hub runtime publish`): release.json plus ONNX Runtime's GPU package
 * (the NuGet .nupkg `npm run setup:cuda` downloads), signed by the publisher delegated
 * `outpost-runtime-*`. The package must hold the platform's provider libraries, or nothing is signed.
 */
export async function publishRuntimeRelease(opts: Omit<PublishOptions, 'packageDir' | 'alias' | 'checks'> & { file: string; platform: string; release: number; ortVersion: string }): Promise<PublishResult & { targets: string[]; signedBy: string[] }> {
  const members = PROVIDER_MEMBERS[opts.platform];
  if (!members) throw new OutpostError('usage', `--platform ${JSON.stringify(opts.platform)}: GPU runtimes are published for ${Object.keys(PROVIDER_MEMBERS).join(', ')}`);
  if (!/^\d{1,6}\.\d{1,6}\.\d{1,6}$/.test(opts.ortVersion)) throw new OutpostError('usage', `--ort ${JSON.stringify(opts.ortVersion)} is not an ONNX Runtime version x.y.z`);
  let entries: Map<string, unknown>;
  try {
    entries = listZip(opts.file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new OutpostError('usage', `${opts.file} not found`, { file: opts.file });
    throw new OutpostError('usage', `${opts.file} is not ONNX Runtime's GPU package (.nupkg): ${code === 'EISDIR' ? 'it is a folder' : (e as Error).message}`, { file: opts.file });
  }
  const missing = Object.values(members).filter((m) => !entries.has(m));
  if (missing.length) throw new OutpostError('usage', `${opts.file} is not ONNX Runtime's GPU package for ${opts.platform}: it has no ${missing.join(', ')}`, { file: opts.file });
  const name = runtimeReleaseName(opts.platform, RUNTIME_FLAVOR, opts.ortVersion);
  return publishRelease({ ...opts, name, app: releaseExpectation(name)!.app, version: opts.ortVersion });
}

/** release.json plus one file as release `release` of the release name `name`. */
async function publishRelease(opts: Omit<PublishOptions, 'packageDir' | 'alias' | 'checks'> & { file: string; name: string; app: string; platform: string; release: number; version: string }): Promise<PublishResult & { targets: string[]; signedBy: string[] }> {
  const now = opts.now ?? (() => new Date());
  if (!opts.keys.length) throw new OutpostError('usage', 'a publisher key is needed (--key)');
  if (!Number.isSafeInteger(opts.release) || opts.release < 1 || !VERSION_RE.test(String(opts.release))) throw new OutpostError('usage', `--release must be a whole number from 1 (it only grows), not ${opts.release}`);
  const file = path.basename(opts.file);
  const { name } = opts;
  const docBytes = Buffer.from(releaseDocumentBytes({ app: opts.app, platform: opts.platform, release: opts.release, version: opts.version, file }));
  const checked = parseReleaseDocument(docBytes.toString(), { platform: opts.platform, release: opts.release, app: opts.app });
  if (!checked.ok) throw new OutpostError('usage', checked.reason);
  let st: fs.Stats;
  try {
    st = fs.statSync(opts.file);
  } catch {
    throw new OutpostError('not-found', `${opts.file} not found`, { file: opts.file });
  }
  if (!st.isFile()) throw new OutpostError('usage', `${opts.file} is not a file`, { file: opts.file });
  const fileSha = (await sha256Streamed(opts.file)).sha256;
  const docSha = crypto.createHash('sha256').update(docBytes).digest('hex');
  return signAndSubmit(opts, (me) => {
    const custom = { custom: { outpost: { publisher: me.name, signedAt: now().toISOString() } } };
    return {
      add: [
        new TargetFile({ path: fileTargetPath(name, opts.release, RELEASE_FILE), length: docBytes.length, hashes: { sha256: docSha }, unrecognizedFields: custom }),
        new TargetFile({ path: fileTargetPath(name, opts.release, file), length: st.size, hashes: { sha256: fileSha }, unrecognizedFields: custom }),
      ],
      files: [{ sha256: docSha, label: RELEASE_FILE, bytes: docBytes }, { sha256: fileSha, label: file, abs: path.resolve(opts.file) }],
    };
  }, (label) => opts.onProgress?.({ stage: 'upload', detail: label }));
}
