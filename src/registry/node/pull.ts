// `outpost pull`: TUF refresh → resolve the selector → download into quarantine (resumable,
// bounded, hash-checked) → model-file safety checks → card/graph agreement → smoke inference in a
// separate process → atomic install; the previous active version stays as last-known-good. Any
// refusal leaves the running version untouched, records a security event and names what failed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isAppReleaseName, isReleaseName } from '../../hub/common/app-release.ts';
import { OutpostError } from '../../common/errors.ts';
import { aliasTargetPath, fileTargetPath, parseAliasDocument, parseSelector, parseTargetPath, parseYankDocument, yankTargetPath, type ModelSelector } from '../../hub/common/target-paths.ts';
import { inspectModel, type ModelInfo } from '../../onnx/common/onnx.ts';
import { modelSkeletonReader, type SkeletonReader } from '../../onnx/common/skeleton.ts';
import { checkPackage, checkPackageParts, type CheckedPackage } from '../../package/node/load.ts';
import type { TargetFile } from '@tufjs/models';
import { openStore, type Store } from '../../store/node/store.ts';
import { getModel, installPackage, listModels, recordSecurityEvent, repairFiles, setActive, setHubStatus, verifyInstalled, type InstalledModel } from '../../store/node/models.ts';
import { checkModelSafety, DEFAULT_SAFETY_CAPS, type SafetyCaps } from '../common/model-safety.ts';
import { aliasRollbackProblem, chooseVersion, freshness, packageFileProblems, publishedVersions, yankedVersions, type Freshness } from '../common/pull-policy.ts';
import { CollectSink, downloadTarget } from './download.ts';
import { PullRefused, PullUnavailable } from './errors.ts';
import { acquirePullLock } from './pull-lock.ts';
import { smokeTest } from './smoke.ts';
import { connectHub, type HubClient } from './tuf-client.ts';
import { hubBase, isEnrolled, pinRoot, readTrustedState, trustPaths, unpinRoot } from './trust.ts';

export interface PullOptions {
  home: string;
  hubUrl: string;
  /** `name`, `name@3` or `name:production` */
  ref: string;
  /** root.json to pin at first configuration */
  rootFile?: string;
  /** an open store to use (default: opened and closed here) */
  store?: Store;
  signal?: AbortSignal;
  /** largest model file accepted, in bytes (default 4 GiB) */
  maxFileBytes?: number;
  caps?: SafetyCaps;
  /** the name is installed from another hub (or a local folder): let this hub win for it */
  switchHub?: boolean;
  /** the version is installed but its files were modified: replace them with verified copies */
  repair?: boolean;
  /** give up on a download connection after this long without data (default 60 s) */
  idleTimeoutMs?: number;
  /** skip the smoke inference (tests of earlier stages only) */
  smoke?: boolean;
  smokeScript?: string;
  now?: () => Date;
  onProgress?: (e: { stage: string; file?: string; received?: number; total?: number }) => void;
  /** test hook: observe download requests (Range headers) */
  onRequest?: (file: string, range: string | undefined) => void;
  /** where metadata and targets come from (default: the network; `pull --bundle`: the bundle's entries) */
  fetch?: typeof fetch;
}

export interface PullResult {
  model: InstalledModel;
  /** true when that version was installed already (files re-verified) */
  alreadyInstalled: boolean;
  /** its modified files were replaced with verified copies (`repair`) */
  repaired?: boolean;
  active: boolean;
  previousActive?: number;
  signedBy: string;
  signedAt: string | null;
  hub: string;
}

const DEFAULT_MAX_FILE = 4 * 1024 ** 3;

function activeVersion(store: Store, name: string): number | undefined {
  return listModels(store).find((m) => m.name === name && m.active)?.version;
}

/** Pull, verify and install a model version from a hub. */
export async function pull(opts: PullOptions): Promise<PullResult> {
  const parsed = parseSelector(opts.ref);
  if (!parsed.ok) throw new OutpostError('usage', parsed.reason);
  const sel = parsed.selector;
  // app releases are published under the model naming but are not models (no card, no model.onnx)
  if (isAppReleaseName(sel.name)) throw new OutpostError('usage', `"${sel.name}" is an Outpost app release, not a model: use \`outpost app update\``);
  if (isReleaseName(sel.name)) throw new OutpostError('usage', `"${sel.name}" is a GPU runtime, not a model: use \`outpost gpu install\``);
  const base = hubBase(opts.hubUrl);
  const pinnedNow = opts.rootFile ? !pinRoot(opts.home, base, opts.rootFile).alreadyPinned : false;
  if (!isEnrolled(opts.home, base)) {
    throw new OutpostError('usage', `this device does not trust ${base} yet: pass --root <root.json> once (the hub operator's root.json, or the one shipped with the installer)`);
  }
  const release = acquirePullLock(opts.home, `pull ${opts.ref} from ${base}`);
  const store = opts.store ?? openStore(opts.home);
  try {
    return await pullWith(store, base, sel, opts);
  } catch (e) {
    const active = activeVersion(store, sel.name);
    let unpinned = '';
    if (pinnedNow && e instanceof PullRefused && e.details.untrustedSignatures) {
      unpinRoot(opts.home, base);
      unpinned = `; the root given with --root was not kept (${base}'s metadata is not signed by its keys): check that it is this hub's root.json`;
    }
    const keep = (active !== undefined ? `${sel.name}@${active} stays active` : 'nothing was installed') + unpinned;
    if (e instanceof PullRefused) {
      recordSecurityEvent(store, `pull-refused:${e.stage}`, opts.ref, `${base}: ${e.message}`);
      throw new PullRefused(e.stage, `pull of ${opts.ref} refused at ${e.stage}: ${e.message}; ${keep}`, { hub: base, activeVersion: active ?? null });
    }
    if (e instanceof PullUnavailable) {
      const f = trustFreshness(opts.home, base, opts.now?.() ?? new Date());
      const note = active === undefined ? '' : f?.state === 'expired'
        ? `; ${sel.name}@${active} is installed but its signed metadata expired ${f.expires.toISOString()} and the offline grace period ended ${f.graceUntil.toISOString()}`
        : f?.state === 'grace' ? `; ${sel.name}@${active} stays active (metadata expired ${f.expires.toISOString()}, offline grace until ${f.graceUntil.toISOString()})` : `; ${keep}`;
      throw new PullUnavailable(e.stage, `${e.message}${note}`, { hub: base, activeVersion: active ?? null, freshness: f?.state ?? null });
    }
    throw e;
  } finally {
    removeIfEmpty(trustPaths(opts.home, base).quarantine); // a partial download kept for a resume keeps it
    if (!opts.store) store.close();
    release();
  }
}

function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch { /* absent, or holds a partial download */ }
}

const originOf = (m: InstalledModel): string => (m.source === 'hub' ? (m.origin ? `hub ${m.origin}` : 'a hub that is gone') : `local folder ${m.origin ?? '?'} (unsigned)`);

/** Download a small signed JSON document (alias or yank) through the verified path. */
async function signedDocument(client: HubClient, targetPath: string, quarantine: string, signal?: AbortSignal): Promise<string | undefined> {
  const info = await client.updater.getTargetInfo(targetPath);
  if (!info) return undefined;
  if (info.length > 64 * 1024) throw new PullRefused('alias', `${targetPath} is ${info.length} bytes (a signed document is at most 64 KiB)`);
  const file = path.join(quarantine, `doc-${crypto.randomBytes(6).toString('hex')}.json`);
  try {
    const { sink } = await downloadTarget({ url: client.targetUrl(info), target: info, dest: file, signal, fetch: client.fetch, sink: () => new CollectSink() });
    return sink!.bytes().toString('utf8');
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** The publisher's reason for yanking name@version (it is in `paths`). */
export async function yankReason(client: HubClient, name: string, version: number, quarantine: string, signal?: AbortSignal): Promise<string> {
  const text = await signedDocument(client, yankTargetPath(name, version), quarantine, signal);
  const doc = text === undefined ? undefined : parseYankDocument(text, { name, version });
  return doc?.ok ? doc.doc.reason : '(the yank document could not be read)';
}

async function resolve(client: HubClient, store: Store, sel: ModelSelector, quarantine: string, opts: PullOptions): Promise<{ version: number; viaAlias: boolean; paths: string[]; roles: Awaited<ReturnType<HubClient['listTargets']>>['roles']; yanked: Set<number> }> {
  // Only the version bins needed are fetched: the named version's, else the newest ones.
  let { paths, roles } = await client.listTargets(sel.name, sel.version !== undefined ? { versions: [sel.version] } : {});
  const yanked = yankedVersions(paths, sel.name);
  if (sel.alias === undefined) {
    const r = chooseVersion(sel, publishedVersions(paths, sel.name), yanked);
    if (!r.ok) throw new OutpostError('not-found', r.reason);
    return { version: r.version, viaAlias: false, paths, roles, yanked };
  }
  const text = await signedDocument(client, aliasTargetPath(sel.name, sel.alias), quarantine, opts.signal);
  if (text === undefined && !publishedVersions(paths, sel.name).length) throw new OutpostError('not-found', `no versions of "${sel.name}" are published on ${client.base}`);
  if (text === undefined) throw new OutpostError('not-found', `alias ${sel.name}:${sel.alias} is not published on ${client.base}`);
  const doc = parseAliasDocument(text, { name: sel.name, alias: sel.alias });
  if (!doc.ok) throw new PullRefused('alias', doc.reason);
  if (yanked.has(doc.doc.version)) throw new PullRefused('alias', `alias ${sel.name}:${sel.alias} points at ${sel.name}@${doc.doc.version}, which its publisher yanked (an alias may never point at a yanked version)`);
  const installed = listModels(store).filter((m) => m.name === sel.name && m.source === 'hub' && m.origin === client.base).map((m) => m.version);
  const rollback = aliasRollbackProblem(sel.alias, doc.doc.version, installed);
  if (rollback) throw new PullRefused('alias', rollback);
  ({ paths, roles } = await client.listTargets(sel.name, { versions: [doc.doc.version] }));
  return { version: doc.doc.version, viaAlias: true, paths, roles, yanked };
}

async function pullWith(store: Store, base: string, sel: ModelSelector, opts: PullOptions): Promise<PullResult> {
  const progress = opts.onProgress ?? (() => undefined);
  progress({ stage: 'metadata' });
  const client = await connectHub(opts.home, base, { signal: opts.signal, fetch: opts.fetch });
  const t = trustPaths(opts.home, base);
  fs.mkdirSync(t.quarantine, { recursive: true, mode: 0o700 });
  const { version, viaAlias, paths, roles, yanked } = await resolve(client, store, sel, t.quarantine, opts);
  const { name } = sel;
  // One name, one source: versions of "churn" from two hubs (or a hub and a local folder) are
  // different models; mixing them would let one move the other's active version.
  const foreign = listModels(store).filter((m) => m.name === name && (m.source !== 'hub' || m.origin !== base));
  if (foreign.length && !opts.switchHub) {
    throw new OutpostError('conflict', `"${name}" is installed from ${originOf(foreign[0])} (version${foreign.length > 1 ? 's' : ''} ${foreign.map((m) => m.version).join(', ')}); ${base} is another source for that name. Pass --switch-hub to let ${base} win for "${name}" (its version becomes active; the others stay installed for rollback)`, {}, { otherSource: foreign[0].origin });
  }
  const installedCopy = listModels(store).find((m) => m.name === name && m.version === version);
  if (yanked.has(version)) {
    const reason = await yankReason(client, name, version, t.quarantine, opts.signal);
    if (installedCopy) setHubStatus(store, name, version, 'yanked', reason);
    throw new OutpostError('conflict', `${name}@${version} was yanked by its publisher: ${reason}. It is not installed${installedCopy ? ' again (the installed copy is now marked yanked)' : ''}; pick another version`, {}, { yanked: true, reason });
  }

  // A signed path under this model's name that the naming rules reject (traversal, encodings):
  // the publisher's metadata is not trustworthy as a whole, so nothing from it is installed.
  const unsafePaths = paths.flatMap((p) => { const r = parseTargetPath(p); return r.ok ? [] : [r.reason]; });
  if (unsafePaths.length) throw new PullRefused('package-files', `signed metadata for "${name}" holds unsafe target paths: ${unsafePaths.join('; ')}`);
  const fileProblems = packageFileProblems(paths, name, version);
  if (fileProblems.length) throw new PullRefused('package-files', fileProblems.join('; '));
  const modelInfo = await client.updater.getTargetInfo(fileTargetPath(name, version, 'model.onnx'));
  const cardInfo = await client.updater.getTargetInfo(fileTargetPath(name, version, 'card.json'));
  if (!modelInfo || !cardInfo) throw new PullRefused('package-files', `${name}@${version}: package files are not signed by a role trusted for "${name}"`);
  const role = roles.find((r) => r.metadata.signed.targets[modelInfo.path]);
  const signerKeyIds = role ? client.topTargets().signed.delegations?.roles?.[role.publisher]?.keyIDs : undefined;
  const signedBy = role ? `${role.publisher} (${role.keyIds.map((k) => k.slice(0, 16)).join(', ')})` : 'unknown';
  const signedAt = (cardInfo.custom as { outpost?: { signedAt?: string } }).outpost?.signedAt ?? null;
  const previousActive = activeVersion(store, name);
  const activate = viaAlias || undefined;

  // Already here? Re-verify the installed files instead of downloading again.
  const existing = installedCopy;
  if (existing) {
    const sameBytes = existing.modelSha256 === modelInfo.hashes.sha256 && existing.cardSha256 === cardInfo.hashes.sha256;
    if (!sameBytes && foreign.some((m) => m.version === version)) {
      throw new OutpostError('conflict', `${name}@${version} is already installed from ${originOf(existing)} with other contents; remove that version first (\`outpost models remove ${name}@${version}\`) to take ${base}'s`);
    }
    if (!sameBytes) {
      throw new PullRefused('install', `${name}@${version} is installed with contents other than the hub now signs`);
    }
    const problems = verifyInstalled(store, existing);
    if (problems.length && !opts.repair) throw new PullRefused('install', `installed ${name}@${version} was modified on disk: ${problems.join('; ')} (${opts.fetch ? 'the same pull with --repair' : `\`outpost pull ${name}@${version} --repair\``} replaces it with a verified copy)`);
    if (problems.length) return repair(store, client, existing, { modelInfo, cardInfo, quarantine: t.quarantine, signedBy, signedAt, previousActive, base }, opts);
    if (activate) {
      setActive(store, name, version, `pull ${sel.alias ? `alias ${sel.alias}` : ''}`.trim());
    }
    const m = getModel(store, `${name}@${version}`);
    return { model: m, alreadyInstalled: true, active: m.active, previousActive, signedBy, signedAt, hub: base };
  }

  const model = await inQuarantine(client, { modelInfo, cardInfo, quarantine: t.quarantine, name, version }, opts, (pkg) =>
    installPackage(store, pkg, { source: 'hub', signedBy, signedAt: signedAt ?? undefined, signerRole: role?.publisher, signerKeyIds, origin: base, activate: activate ?? (opts.switchHub && foreign.length ? true : undefined), move: true }));
  return { model, alreadyInstalled: false, active: model.active, previousActive, signedBy, signedAt, hub: base };
}

interface Signed { modelInfo: TargetFile; cardInfo: TargetFile; quarantine: string; name: string; version: number }

/**
 * Download a version's signed files into quarantine (resumable, bounded, hash-checked), run the
 * checks a device runs on them, and hand the checked package to `take`. Partial downloads are kept
 * for a resume only when the transfer was interrupted, never when content was refused.
 */
async function inQuarantine<T>(client: HubClient, s: Signed, opts: PullOptions, take: (pkg: CheckedPackage) => T): Promise<T> {
  const progress = opts.onProgress ?? (() => undefined);
  const maxFile = opts.maxFileBytes ?? DEFAULT_MAX_FILE;
  for (const info of [s.modelInfo, s.cardInfo]) {
    if (info.length > maxFile) throw new PullRefused('size', `${info.path} is ${info.length} bytes, above this device's limit of ${maxFile}`);
    if (!info.hashes.sha256) throw new PullRefused('verify', `${info.path} has no sha256 in its signed metadata`);
  }
  const qdir = path.join(s.quarantine, `${s.name}-${s.version}`);
  fs.mkdirSync(qdir, { recursive: true, mode: 0o700 });
  let done = false;
  try {
    // One pass over each file: hashed, written and (model) inspected as it arrives; the checks
    // below use what that pass gathered, only once the hashes matched the signed ones.
    const fetchFile = <S extends CollectSink | SkeletonReader>(file: string, info: TargetFile, sink: () => S) => {
      progress({ stage: 'download', file, received: 0, total: info.length });
      return downloadTarget({
        url: client.targetUrl(info), target: info, dest: path.join(qdir, file), signal: opts.signal, idleTimeoutMs: opts.idleTimeoutMs, fetch: opts.fetch, sink,
        onProgress: (received, total) => progress({ stage: 'download', file, received, total }),
        onRequest: (range) => opts.onRequest?.(file, range),
      });
    };
    const card = await fetchFile('card.json', s.cardInfo, () => new CollectSink());
    const model = await fetchFile('model.onnx', s.modelInfo, () => modelSkeletonReader(s.modelInfo.length));
    const pkg = await deviceChecks(qdir, s, opts, {
      card: { bytes: card.sink!.bytes(), sha256: card.hashes.sha256 },
      model: { size: s.modelInfo.length, sha256: model.hashes.sha256, skeleton: model.sink!.finish() },
    });
    progress({ stage: 'install' });
    const out = take(pkg);
    done = true;
    return out;
  } finally {
    const keepPartials = !done && fs.readdirSync(qdir).some((f) => f.endsWith('.part'));
    if (!keepPartials) fs.rmSync(qdir, { recursive: true, force: true });
    else for (const f of fs.readdirSync(qdir)) if (!f.endsWith('.part')) fs.rmSync(path.join(qdir, f), { force: true });
  }
}

/** `pull --repair`: a modified installed version gets verified copies of its files, in place. */
async function repair(store: Store, client: HubClient, existing: InstalledModel, s: Omit<Signed, 'name' | 'version'> & { signedBy: string; signedAt: string | null; previousActive: number | undefined; base: string }, opts: PullOptions): Promise<PullResult> {
  const { name, version } = existing;
  recordSecurityEvent(store, 'installed-modified', `${name}@${version}`, `repaired from ${s.base}: ${verifyInstalled(store, existing).join('; ')}`);
  await inQuarantine(client, { ...s, name, version }, opts, (pkg) => repairFiles(store, existing, pkg.dir, { model: pkg.modelSha256, card: pkg.cardSha256 }));
  const problems = verifyInstalled(store, existing);
  if (problems.length) throw new OutpostError('store', `${name}@${version} is still not intact after the repair: ${problems.join('; ')}`);
  const m = getModel(store, `${name}@${version}`);
  return { model: m, alreadyInstalled: true, repaired: true, active: m.active, previousActive: s.previousActive, signedBy: s.signedBy, signedAt: s.signedAt, hub: s.base };
}

/** What the download pass gathered of a package's verified files (nothing read back from disk). */
export interface VerifiedRead {
  card: { bytes: Uint8Array; sha256: string };
  model: { size: number; sha256: string; skeleton: ReturnType<SkeletonReader['finish']> };
}

/**
 * The checks a device runs on a package before installing it: model-file safety, card/graph
 * agreement, smoke inference in a child process. A pull passes what its download pass gathered
 * (`read`: the card's bytes, the model's skeleton and the verified hashes), so the model file is
 * not read again; without it (publishers' checks of a package folder) the files are read once.
 * Publishers run the same checks before signing (`outpost publish`), so a package every device
 * would refuse is never signed.
 */
export async function deviceChecks(qdir: string, expect: { name: string; version: number }, opts: Pick<PullOptions, 'onProgress' | 'caps' | 'smoke' | 'smokeScript' | 'signal'> = {}, read?: VerifiedRead): Promise<CheckedPackage> {
  const { name, version } = expect;
  const progress = opts.onProgress ?? (() => undefined);
  progress({ stage: 'model-safety' });
  const bytes = read ? undefined : fs.readFileSync(path.join(qdir, 'model.onnx'));
  const size = read ? read.model.size : bytes!.length;
  let graph: ModelInfo;
  try {
    if (read && !read.model.skeleton.ok) throw new Error(read.model.skeleton.error);
    graph = inspectModel(read?.model.skeleton.ok ? read.model.skeleton.skeleton : bytes!);
  } catch (e) {
    throw new PullRefused('model-safety', `model.onnx is not a readable ONNX model: ${(e as Error).message}`);
  }
  const unsafe = checkModelSafety(graph, size, {}, opts.caps ?? DEFAULT_SAFETY_CAPS);
  if (unsafe.length) throw new PullRefused('model-safety', unsafe.join('; '));

  progress({ stage: 'card' });
  let pkg: CheckedPackage;
  try {
    // The graph inspected above: no second read or parse of a large model.
    pkg = read
      ? checkPackageParts(qdir, read.card.bytes, graph, { size, sha256: read.model.sha256 }, read.card.sha256)
      : checkPackage(qdir, fs.readFileSync(path.join(qdir, 'card.json')), bytes!, graph);
  } catch (e) {
    throw new PullRefused('card', e instanceof OutpostError ? e.message : String(e));
  }
  if (pkg.card.name !== name || pkg.card.version !== version) throw new PullRefused('card', `card.json says ${pkg.card.name}@${pkg.card.version}, but it was signed as ${name}@${version}`);

  if (opts.smoke !== false) {
    progress({ stage: 'smoke' });
    await smokeTest(qdir, { signal: opts.signal, script: opts.smokeScript });
  }
  return pkg;
}

/** How fresh the device's trusted metadata for a hub is, offline (undefined when never refreshed). */
export function trustFreshness(home: string, url: string, now = new Date()): Freshness | undefined {
  let state;
  try {
    state = readTrustedState(home, url);
  } catch {
    return undefined;
  }
  if (!state.timestamp) return undefined;
  return freshness(now, new Date(state.timestamp.signed.expires), state.policy.offlineGraceSeconds);
}

/**
 * May this installed model be served? Hub models whose signed metadata expired longer ago than the
 * grace period (declared in the signed root) are refused; within it the caller gets a warning.
 */
export function checkServable(home: string, model: InstalledModel, now = new Date()): { ok: true; warning?: string } {
  if (model.source !== 'hub' || !model.origin) return { ok: true };
  const f = trustFreshness(home, model.origin, now);
  // No verified timestamp (deleted, unreadable, or signed by a key the root no longer names): refuse.
  if (!f) throw new OutpostError('package', `${model.name}@${model.version}: this device holds no verified timestamp from ${model.origin}, so the freshness of its signed metadata cannot be shown; refusing to serve it until metadata is refreshed (\`outpost models check\` or \`outpost pull ${model.name} --hub ${model.origin}\`)`);
  if (f.state === 'fresh') return { ok: true };
  if (f.state === 'grace') {
    return { ok: true, warning: `${model.name}@${model.version}: signed metadata from ${model.origin} expired ${f.expires.toISOString()}; serving the last-known-good version offline until ${f.graceUntil.toISOString()} (run \`outpost pull ${model.name} --hub ${model.origin}\` when online)` };
  }
  throw new OutpostError('package', `${model.name}@${model.version}: signed metadata from ${model.origin} expired ${f.expires.toISOString()} and the offline grace period ended ${f.graceUntil.toISOString()}; refusing to serve it until the device reaches the hub again (\`outpost pull ${model.name} --hub ${model.origin}\`)`);
}
