// The hub's TUF repository: creating it, accepting offline-signed root/targets updates (publisher
// delegations, renewals, key rotations — see signing.ts), accepting publishes (publisher-signed targets checked against the delegation), and
// re-signing snapshot/timestamp with the online keys. The hub never signs targets itself, so a
// compromised hub cannot forge a model: devices check the publisher's signature.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Metadata, MetadataKind, Root, Snapshot, Timestamp } from '@tufjs/models';
import type { Key, Targets } from '@tufjs/models';
import { OutpostError } from '../../common/errors.ts';
import { generateKeyFile, signerFor, type PrivateKeyHandle } from '../../keys/node/keys.ts';
import { parseCard } from '../../package/common/card.ts';
import { delegationChanges, delegationProblems, globOfPaths } from '../common/delegations.ts';
import { ROOT_POLICY_FIELD } from '../common/root-policy.ts';
import { isReleaseName, parseReleaseDocument, RELEASE_FILE, releaseExpectation } from '../common/app-release.ts';
import { checkPublish, type TargetEntry } from '../common/publish-policy.ts';
import { delegationPathsFor, parseAliasDocument, parseTargetPath, parseYankDocument } from '../common/target-paths.ts';
import type { Readable } from 'node:stream';
import { BlobStore, UPLOAD_ID_RE } from './blobs.ts';
import { binDelegationProblems, binsOf } from './bins.ts';
import { describeDb, parseDbSpec } from './db-spec.ts';
import { DEFAULT_HUB_CONFIG, hubPaths, readHubConfig, writeSecretFile, type HubConfig } from './hub-dir.ts';
import { checkOutsideHub, createOfflineKeys, defaultOfflineKeysDir, offlineKeyPaths } from './offline-keys.ts';
import { ONLINE_ROLES, OnlineKeys, type OnlineRole } from './online-keys.ts';
import { delegatePublisher, delegationsOf, nextRoot, SIGNED_UPDATE_FORMAT, strandedPublishers, type RepoState, type SignedUpdate } from './signing.ts';
import { ensureFleetRollups } from './fleet-rollups.ts';
import { openSqliteStorage } from './sqlite-storage.ts';
import type { HubReader, HubStorage, HubWriter, MetadataRow, PublisherRow } from './storage.ts';
import { hashToken, newToken } from './tokens.ts';
import { addSeconds, buildTargets, metaFileFor, parseRoot, parseSnapshot, parseTargets, parseTimestamp, parseUntrustedTargets, serialize, SPEC_VERSION, tufTime, verifiedSigners } from './tuf-metadata.ts';

export interface Hub {
  dir: string;
  config: HubConfig;
  storage: HubStorage;
  blobs: BlobStore;
  /** the online snapshot/timestamp keys; the one that signs is the one the current root names */
  keys: OnlineKeys;
  now(): Date;
  close(): Promise<void>;
}

export interface OpenHubOptions {
  /** clock override (tests: sign metadata as if at another time) */
  now?: () => Date;
  /** storage override; default: opened from `db` */
  storage?: HubStorage;
  /** database (SQLite file, relative to the hub folder, or postgres:// URL); default: hub.json's */
  db?: string;
}

/**
 * Open the database a hub setting names: a SQLite file (relative to the hub folder) or a
 * postgres:// URL. `db` defaults to the one in the hub's configuration. A SQLite file must exist
 * unless `create` (only `hub init` creates one: a mistyped `--db` path would otherwise be a new,
 * empty hub database).
 */
export async function openHubStorage(dir: string, config: HubConfig, db?: string, create = false): Promise<HubStorage> {
  const spec = db !== undefined
    ? parseDbSpec(db, dir, { code: 'input', origin: 'hub database' })
    : parseDbSpec(config.db, dir, { code: 'input', origin: 'hub.json "db"', file: hubPaths(dir).config });
  if (spec.kind === 'postgres') {
    const { openPostgresStorage } = await import('./postgres-storage.ts');
    return openPostgresStorage(spec.url);
  }
  return openSqliteStorage(spec.file, { create });
}

/**
 * A new admin token for `hub`: the old one stops working at once, for every hub process sharing the
 * database, and with it every console session signed in with it (their cookies are keyed by its
 * hash: admin-auth.ts) — the way to end a leaked token or session. Written to <hub>/admin.token.
 */
export async function rotateAdminToken(hub: Hub): Promise<{ file: string }> {
  const file = hubPaths(hub.dir).adminToken;
  const token = newToken('adm');
  const pending = `${file}.next-${process.pid}`;
  fs.writeFileSync(pending, token + '\n', { mode: 0o600 }); // ready before the old token stops working, so it cannot be lost
  try {
    await hub.storage.transaction(async (tx) => { await tx.putSetting('admin_token_hash', hashToken(token)); });
  } catch (e) {
    fs.rmSync(pending, { force: true });
    throw e;
  }
  fs.renameSync(pending, file);
  return { file };
}

export async function openHub(dir: string, opts: OpenHubOptions = {}): Promise<Hub> {
  const abs = path.resolve(dir);
  const config = readHubConfig(abs);
  const p = hubPaths(abs);
  const keys = new OnlineKeys(p.onlineKeys);
  const storage = opts.storage ?? await openHubStorage(abs, config, opts.db);
  const hub: Hub = {
    dir: abs, config, storage,
    blobs: new BlobStore(p.blobs),
    keys,
    now: opts.now ?? (() => new Date()),
    close: () => storage.close(),
  };
  try {
    await ensureFleetRollups(hub); // the fleet drift rollups' one-time back-fill after their migration
  } catch (e) {
    if (!opts.storage) await storage.close();
    throw e;
  }
  return hub;
}

export interface InitResult { dir: string; adminToken: string; rootKeyId: string; offlineKeysDir: string; offlineKeys: string[]; trustRoot: string; db: string; dbPasswordNotStored: boolean }

/**
 * Create a hub: offline root and targets keys in `offlineKeysDir` (outside the hub folder), online
 * keys, signed initial metadata, database, blob store, admin token. `config.db` picks the database
 * (SQLite file relative to the hub folder, or a postgres:// URL, which must not hold a hub yet);
 * hub.json records it without any password.
 */
export async function initHub(dir: string, opts: { offlineKeysDir?: string; passphrase?: string; config?: Partial<HubConfig>; now?: Date; storage?: HubStorage } = {}): Promise<InitResult> {
  const abs = path.resolve(dir);
  const p = hubPaths(abs);
  const offlineDir = path.resolve(opts.offlineKeysDir ?? defaultOfflineKeysDir(abs));
  checkOutsideHub(abs, offlineDir);
  if (fs.existsSync(p.config)) throw new OutpostError('conflict', 'a hub already exists here', { file: p.config });
  const now = opts.now ?? new Date();
  const config: HubConfig = { ...DEFAULT_HUB_CONFIG, ...opts.config, createdAt: now.toISOString() };
  const spec = parseDbSpec(config.db, abs, { code: 'usage', origin: 'hub database' });
  const stored: HubConfig = { ...config, db: spec.kind === 'postgres' ? spec.redacted : config.db };
  const existed = fs.existsSync(abs);
  const offlineExisted = fs.existsSync(offlineDir);
  const off = offlineKeyPaths(offlineDir);
  for (const f of [off.root, off.targets]) if (fs.existsSync(f)) throw new OutpostError('conflict', 'offline keys already exist in that folder (of another hub?); give a new --offline-keys folder', { file: f });
  fs.mkdirSync(abs, { recursive: true });
  let storage: HubStorage;
  try {
    storage = opts.storage ?? await openHubStorage(abs, config, undefined, true);
  } catch (e) {
    if (!existed) fs.rmSync(abs, { recursive: true, force: true });
    throw e;
  }
  const created: string[] = [];
  let result: InitResult;
  try {
    // Refuse before writing any file: the database may be shared (PostgreSQL) and already serve a hub.
    if (await storage.latestMetadata('root')) throw new OutpostError('conflict', `the hub database ${describeDb(spec)} already holds a repository; serve it with the hub folder created with it`);
    const offline = createOfflineKeys(offlineDir, opts.passphrase);
    created.push(off.root, `${off.root}.pub`, off.targets, `${off.targets}.pub`);
    const keys = new OnlineKeys(p.onlineKeys);
    const onlineKey = (role: OnlineRole) => { const k = generateKeyFile(path.join(p.onlineKeys, `${role}.key`)); created.push(k.file, `${k.file}.pub`); return k; };
    const snapshotKey = onlineKey('snapshot');
    const timestampKey = onlineKey('timestamp');
    keys.reload();

    const root = new Root({
      version: 1, specVersion: SPEC_VERSION, expires: tufTime(addSeconds(now, config.rootExpirySeconds)), consistentSnapshot: true,
      unrecognizedFields: { [ROOT_POLICY_FIELD]: { offlineGraceSeconds: config.offlineGraceSeconds } },
    });
    root.addKey(offline.root.tufKey, 'root');
    root.addKey(offline.targets.tufKey, 'targets');
    root.addKey(snapshotKey.tufKey, 'snapshot');
    root.addKey(timestampKey.tufKey, 'timestamp');
    const rootMd = new Metadata(root);
    rootMd.sign(signerFor(offline.root));
    const targetsMd = new Metadata(buildTargets({ version: 1, expires: addSeconds(now, config.targetsExpirySeconds), targets: {}, delegationKeys: {}, roles: [] }));
    targetsMd.sign(signerFor(offline.targets));

    const adminToken = newToken('adm');
    const rootBody = serialize(rootMd);
    created.push(p.trustRoot, p.adminToken);
    fs.writeFileSync(p.trustRoot, rootBody);
    writeSecretFile(p.adminToken, adminToken + '\n');

    const hub: Hub = { dir: abs, config, storage, blobs: new BlobStore(p.blobs), keys, now: () => now, close: () => storage.close() };
    await storage.transaction(async (tx) => {
      if (await tx.latestMetadata('root')) throw new OutpostError('conflict', `the hub database ${describeDb(spec)} already holds a repository`);
      await tx.putSetting('admin_token_hash', hashToken(adminToken));
      const at = now.toISOString();
      await tx.putMetadata({ role: 'root', version: 1, body: rootBody, createdAt: at });
      await commitRoles(hub, tx, [{ role: 'targets', version: 1, body: serialize(targetsMd), createdAt: at }]);
    });
    // hub.json last: a folder without it is not a hub, so a failed init can simply be retried
    fs.writeFileSync(p.config, JSON.stringify(stored, null, 2) + '\n');
    result = {
      dir: abs, adminToken, rootKeyId: offline.root.keyId, offlineKeysDir: offlineDir, offlineKeys: [off.root, off.targets], trustRoot: p.trustRoot,
      db: describeDb(spec), dbPasswordNotStored: spec.kind === 'postgres' && spec.hasPassword,
    };
  } catch (e) {
    await storage.close().catch(() => undefined);
    // leave no half-made hub: the folders if this init made them, else the files it wrote
    if (!existed) fs.rmSync(abs, { recursive: true, force: true });
    if (!offlineExisted) fs.rmSync(offlineDir, { recursive: true, force: true });
    for (const f of created) fs.rmSync(f, { force: true });
    throw e;
  }
  await storage.close();
  return result;
}

async function latest(tx: HubReader, role: string): Promise<MetadataRow> {
  const r = await tx.latestMetadata(role);
  if (!r) throw new OutpostError('store', `the hub has no ${role} metadata (was it initialised?)`);
  return r;
}

/**
 * Store new targets-role metadata and sign a new snapshot and timestamp over it. Runs inside the
 * caller's transaction; performs no policy checks (callers do). Exported for repository tooling.
 */
export async function commitRoles(hub: Hub, tx: HubWriter, rows: MetadataRow[]): Promise<{ snapshotVersion: number; timestampVersion: number }> {
  for (const r of rows) await tx.putMetadata(r);
  const prevSnap = await tx.latestMetadata('snapshot');
  const meta = prevSnap ? { ...parseSnapshot(prevSnap.body).signed.meta } : {};
  for (const r of rows) meta[`${r.role}.json`] = metaFileFor(r.body, r.version);
  return signSnapshotAndTimestamp(hub, tx, meta, (prevSnap?.version ?? 0) + 1);
}

async function signSnapshotAndTimestamp(hub: Hub, tx: HubWriter, meta: Snapshot['meta'], snapshotVersion: number): Promise<{ snapshotVersion: number; timestampVersion: number }> {
  const now = hub.now();
  const at = now.toISOString();
  const snap = new Metadata(new Snapshot({ version: snapshotVersion, specVersion: SPEC_VERSION, expires: tufTime(addSeconds(now, hub.config.snapshotExpirySeconds)), meta }));
  const root = parseRoot((await latest(tx, 'root')).body);
  snap.sign(signerFor(hub.keys.for(root, 'snapshot')));
  const snapBody = serialize(snap);
  await tx.putMetadata({ role: 'snapshot', version: snapshotVersion, body: snapBody, createdAt: at });
  const prevTs = await tx.latestMetadata('timestamp');
  const tsVersion = (prevTs?.version ?? 0) + 1;
  const ts = new Metadata(new Timestamp({ version: tsVersion, specVersion: SPEC_VERSION, expires: tufTime(addSeconds(now, hub.config.timestampExpirySeconds)), snapshotMeta: metaFileFor(snapBody, snapshotVersion) }));
  ts.sign(signerFor(hub.keys.for(root, 'timestamp')));
  await tx.putMetadata({ role: 'timestamp', version: tsVersion, body: serialize(ts), createdAt: at });
  return { snapshotVersion, timestampVersion: tsVersion };
}

/** Re-sign snapshot/timestamp when less than half their lifetime is left (devices treat expiry as a freeze attack). */
export async function ensureFreshMetadata(hub: Hub): Promise<boolean> {
  const stale = (body: string, life: number, parse: (b: string) => Metadata<Snapshot | Timestamp>) =>
    new Date(parse(body).signed.expires).getTime() - hub.now().getTime() < (life * 1000) / 2;
  const ts = await latest(hub.storage, 'timestamp');
  const snap = await latest(hub.storage, 'snapshot');
  if (!stale(ts.body, hub.config.timestampExpirySeconds, parseTimestamp) && !stale(snap.body, hub.config.snapshotExpirySeconds, parseSnapshot)) return false;
  return hub.storage.transaction(async (tx) => {
    const s = await latest(tx, 'snapshot');
    const t = await latest(tx, 'timestamp');
    const snapStale = stale(s.body, hub.config.snapshotExpirySeconds, parseSnapshot);
    if (!snapStale && !stale(t.body, hub.config.timestampExpirySeconds, parseTimestamp)) return false; // another process did it
    if (snapStale) {
      await signSnapshotAndTimestamp(hub, tx, parseSnapshot(s.body).signed.meta, s.version + 1);
    } else {
      const now = hub.now();
      const old = parseTimestamp(t.body);
      const md = new Metadata(new Timestamp({ version: t.version + 1, specVersion: SPEC_VERSION, expires: tufTime(addSeconds(now, hub.config.timestampExpirySeconds)), snapshotMeta: old.signed.snapshotMeta }));
      md.sign(signerFor(hub.keys.for(parseRoot((await latest(tx, 'root')).body), 'timestamp')));
      await tx.putMetadata({ role: 'timestamp', version: t.version + 1, body: serialize(md), createdAt: now.toISOString() });
    }
    return true;
  });
}

/** The hub's current metadata, as offline signing starts from it. */
export async function repoState(reader: HubReader): Promise<RepoState> {
  const root = parseRoot((await latest(reader, 'root')).body);
  const targets = parseTargets((await latest(reader, 'targets')).body);
  const roles = new Map<string, Metadata<Targets>>();
  for (const d of delegationsOf(targets.signed)) {
    const row = await reader.latestMetadata(d.name);
    if (row) roles.set(d.name, parseTargets(row.body));
  }
  return { root, targets, roleMetadata: (name) => roles.get(name) };
}

export interface AppliedUpdate {
  changes: string[];
  rootVersion?: number;
  targetsVersion?: number;
  /** API tokens of newly delegated publishers (shown once) */
  tokens: { name: string; token: string }[];
  revoked: string[];
  /** online keys now in use, when the update rotated them */
  onlineKeysRotated: boolean;
}

/**
 * Accept offline-signed metadata (from `--dir` or `hub upload-metadata`): a new root must be the
 * next version, signed by the current root's threshold AND its own (TUF 5.3), and name online keys
 * this hub holds; new targets must be the next version, signed under the (new) root, with valid,
 * non-overlapping delegations that leave no publisher stranded unless forced. Then publishers'
 * API tokens follow the delegations, and snapshot/timestamp are re-signed (with the new online keys
 * when the root rotated them).
 */
export async function applySignedUpdate(hub: Hub, body: unknown): Promise<AppliedUpdate> {
  const u = body as Partial<SignedUpdate> | null;
  if (typeof u !== 'object' || u === null || u.format !== SIGNED_UPDATE_FORMAT) throw new OutpostError('input', `not signed hub metadata (expected {"format":"${SIGNED_UPDATE_FORMAT}", …}, as \`outpost hub add-publisher|revoke-publisher|targets renew|root renew|root rotate --out\` write it)`);
  if (u.root === undefined && u.targets === undefined) throw new OutpostError('input', 'the update holds neither root nor targets metadata');
  const result = await hub.storage.transaction(async (tx) => {
    const state = await repoState(tx);
    const now = hub.now();
    const at = now.toISOString();
    let root = state.root;
    const out: AppliedUpdate = { changes: [], tokens: [], revoked: [], onlineKeysRotated: false };
    if (u.root !== undefined) {
      let next: Metadata<Root>;
      try {
        next = Metadata.fromJSON(MetadataKind.Root, u.root as never);
        state.root.verifyDelegate('root', next);
        next.verifyDelegate('root', next);
      } catch (e) {
        throw new OutpostError('package', `new root refused: ${(e as Error).message} (a new root is signed by the current root keys and by its own)`);
      }
      if (next.signed.version !== state.root.signed.version + 1) throw new OutpostError('conflict', `new root is version ${next.signed.version}, but this hub is at version ${state.root.signed.version} (sign the update again from the hub's current metadata)`);
      if (next.signed.isExpired(now)) throw new OutpostError('input', `new root already expired (${next.signed.expires})`);
      for (const role of ONLINE_ROLES) {
        const missing = next.signed.roles[role].keyIDs.filter((id) => !hub.keys.has(id));
        if (missing.length === next.signed.roles[role].keyIDs.length) throw new OutpostError('conflict', `new root names ${role} key ${missing.map((k) => k.slice(0, 12)).join(', ')}, which this hub does not hold (make it with \`outpost hub online-keys --dir\` on the hub first)`);
      }
      out.onlineKeysRotated = ONLINE_ROLES.some((r) => next.signed.roles[r].keyIDs.join() !== state.root.signed.roles[r].keyIDs.join());
      await tx.putMetadata({ role: 'root', version: next.signed.version, body: serialize(next), createdAt: at });
      root = next;
      out.rootVersion = next.signed.version;
    }
    let targetsRow: MetadataRow | undefined;
    if (u.targets !== undefined) {
      let next: Metadata<Targets>;
      try {
        next = Metadata.fromJSON(MetadataKind.Targets, u.targets as never);
        root.verifyDelegate('targets', next);
      } catch (e) {
        throw new OutpostError('package', `new targets metadata refused: ${(e as Error).message} (it is signed with the offline targets key)`);
      }
      if (next.signed.version !== state.targets.signed.version + 1) throw new OutpostError('conflict', `new targets metadata is version ${next.signed.version}, but this hub is at version ${state.targets.signed.version} (sign the update again from the hub's current metadata)`);
      if (next.signed.isExpired(now)) throw new OutpostError('input', `new targets metadata already expired (${next.signed.expires})`);
      if (Object.keys(next.signed.targets).length) throw new OutpostError('input', 'the top-level targets sign no files; models are signed by their publishers');
      const roles = delegationsOf(next.signed);
      const problems = delegationProblems(roles, new Set(Object.keys(next.signed.delegations?.keys ?? {})));
      if (problems.length) throw new OutpostError('package', `new targets metadata refused: ${problems.join('; ')}`);
      const stranded = strandedPublishers(state, next);
      if (stranded.length && !u.force) throw new OutpostError('conflict', `new targets metadata refused: ${stranded.join('; ')}`);
      out.changes.push(...delegationChanges(delegationsOf(state.targets.signed), roles));
      targetsRow = { role: 'targets', version: next.signed.version, body: serialize(next), createdAt: at };
      out.targetsVersion = next.signed.version;
      for (const d of roles) {
        const prev = await tx.publisher(d.name);
        const token = prev ? undefined : newToken('pub');
        if (token) out.tokens.push({ name: d.name, token });
        await tx.putPublisher({ name: d.name, keyIds: d.keyIds, threshold: d.threshold, modelsGlob: globOfPaths(d.paths)!, tokenHash: token ? hashToken(token) : prev!.tokenHash, createdAt: prev?.createdAt ?? at });
      }
      for (const p of await tx.publishers()) {
        if (!roles.some((d) => d.name === p.name)) { await tx.deletePublisher(p.name); out.revoked.push(p.name); }
      }
    } else if (u.root !== undefined) {
      try {
        root.verifyDelegate('targets', state.targets);
      } catch {
        throw new OutpostError('conflict', 'the new root replaces the targets key, but the update carries no targets metadata signed with the new key');
      }
    }
    if (out.onlineKeysRotated) hub.keys.reload();
    await commitRoles(hub, tx, targetsRow ? [targetsRow] : []);
    return out;
  });
  if (result.onlineKeysRotated) hub.keys.promote(parseRoot((await latest(hub.storage, 'root')).body));
  if (Array.isArray(u.changes)) result.changes = [...u.changes.filter((c): c is string => typeof c === 'string' && !result.changes.includes(c)), ...result.changes];
  return result;
}

export interface AddPublisherOptions { name: string; keys: Key[]; threshold?: number; modelsGlob: string; targetsKey: PrivateKeyHandle; force?: boolean }

/** Delegate model names to a publisher's key(s), signed here with the offline targets key (on the hub machine). */
export async function addPublisher(hub: Hub, opts: AddPublisherOptions): Promise<{ token: string | undefined; targetsVersion: number; paths: string[]; changes: string[] }> {
  const update = delegatePublisher(await repoState(hub.storage), opts.targetsKey, {
    name: opts.name, keys: opts.keys, threshold: opts.threshold, modelsGlob: opts.modelsGlob, force: opts.force,
    now: hub.now(), expires: addSeconds(hub.now(), hub.config.targetsExpirySeconds),
  });
  const r = await applySignedUpdate(hub, update);
  return { token: r.tokens.find((t) => t.name === opts.name)?.token, targetsVersion: r.targetsVersion!, paths: delegationPathsFor(opts.modelsGlob), changes: r.changes };
}

export interface PublishResult {
  publisher: string;
  roleVersion: number;
  snapshotVersion: number;
  versions: { name: string; version: number }[];
  aliases: { name: string; alias: string; version: number }[];
  yanks: { name: string; version: number; reason: string }[];
}

const entryOf = (t: Targets['targets'][string]): TargetEntry => ({ length: t.length, sha256: t.hashes.sha256 ?? '' });

/** How long an upload session waits for its next blob before its files are deleted. */
export const UPLOAD_IDLE_SECONDS = 3600;

function readBlobText(hub: Hub, uploadId: string | undefined, sha: string, max = 1024 * 1024): string {
  const file = hub.blobs.locate(uploadId, sha);
  if (!file) throw new OutpostError('input', `blob ${sha} was not uploaded`);
  if (fs.statSync(file).size > max) throw new OutpostError('package', `blob ${sha.slice(0, 12)}… is too large for a JSON document`);
  return fs.readFileSync(file, 'utf8');
}

/** Bins submitted with a publisher's metadata (see bins.ts): role name → signed metadata (JSON). */
export type SubmittedBins = { name: string; metadata: unknown }[];

/** A publish request after every check that needs no blob bytes. */
interface CheckedRequest {
  md: Metadata<Targets>;
  /** the bins it re-signs */
  bins: { name: string; md: Metadata<Targets> }[];
  /** every target of the publisher after this request that the request signs (its role and its bins) */
  targets: Targets['targets'];
  signedBy: string[];
  change: ReturnType<typeof checkPublish>['change'];
  /** sha256 → length of every blob the change refers to */
  blobs: Map<string, number>;
}

/**
 * The checks a publish passes before any blob is accepted for it: signatures meet the delegation's
 * threshold, every path is inside the delegation, the metadata version grows, published versions
 * and yanks stay immutable, model versions only grow, packages are exactly their files.
 */
async function checkRequest(hub: Hub, tx: HubReader, publisher: PublisherRow, md: Metadata<Targets>, submitted: SubmittedBins = []): Promise<CheckedRequest> {
  const top = parseTargets((await latest(tx, 'targets')).body);
  const role = top.signed.delegations?.roles?.[publisher.name];
  if (!role) throw new OutpostError('package', `publisher "${publisher.name}" has no delegation in this hub's targets metadata`);
  try {
    top.verifyDelegate(publisher.name, md);
  } catch (e) {
    throw new OutpostError('package', `targets metadata refused: ${(e as Error).message} (needs ${role.threshold} signature(s) by publisher "${publisher.name}"'s delegated keys)`);
  }
  const prevRow = await tx.latestMetadata(publisher.name);
  const prev = prevRow ? parseTargets(prevRow.body) : undefined;
  if (md.signed.version <= (prevRow?.version ?? 0)) {
    throw new OutpostError('conflict', `targets metadata version ${md.signed.version} does not grow (the hub has version ${prevRow?.version ?? 0} of "${publisher.name}"); fetch the current one and sign the next version`);
  }
  if (md.signed.isExpired(hub.now())) throw new OutpostError('input', `targets metadata already expired (${md.signed.expires})`);
  // Version bins (bins.ts): the only delegations a publisher may make, to its own keys.
  const binProblems = binDelegationProblems(publisher.name, md, { keyIds: role.keyIDs, threshold: role.threshold, keys: top.signed.delegations?.keys ?? {}, isDelegatedPath: (p) => role.isDelegatedPath(p) });
  const prevBins = new Map(binsOf(prev).map((b) => [b.name, b]));
  const nextBins = new Map(binsOf(md).map((b) => [b.name, b]));
  for (const name of prevBins.keys()) if (!nextBins.has(name)) throw new OutpostError('package', `publish refused: the metadata drops version bin ${name} (${prevBins.get(name)!.model} block ${prevBins.get(name)!.block}): published versions cannot be removed`);
  const bins: CheckedRequest['bins'] = [];
  let binConflict: string | undefined;
  const previousTargets: Targets['targets'] = { ...(prev?.signed.targets ?? {}) };
  const nextTargets: Targets['targets'] = { ...md.signed.targets };
  for (const s of submitted) {
    const d = md.signed.delegations?.roles?.[s.name];
    if (!d || !nextBins.has(s.name) || bins.some((b) => b.name === s.name)) throw new OutpostError('package', `publish refused: bin ${s.name} is not delegated by this metadata (or given twice)`);
    const binMd = parseUntrustedTargets(s.metadata);
    try {
      md.verifyDelegate(s.name, binMd);
    } catch (e) {
      throw new OutpostError('package', `bin ${s.name} refused: ${(e as Error).message} (needs ${d.threshold} signature(s) by the keys its delegation names)`);
    }
    const stored = await tx.latestMetadata(s.name);
    // (reported after the content checks: a request that would remove or change published files says so first)
    if (binMd.signed.version !== (stored?.version ?? 0) + 1) binConflict ??= `bin ${s.name} version ${binMd.signed.version} does not grow by one (the hub has version ${stored?.version ?? 0}); fetch the current one and sign the next version`;
    if (binMd.signed.isExpired(hub.now())) throw new OutpostError('input', `bin ${s.name} already expired (${binMd.signed.expires})`);
    if (binMd.signed.delegations) throw new OutpostError('input', `bin ${s.name}: a bin delegates nothing`);
    for (const p of Object.keys(binMd.signed.targets)) if (!d.isDelegatedPath(p)) throw new OutpostError('package', `publish refused: ${p} is not a path of bin ${s.name} (${(d.paths ?? []).join(', ')})`);
    if (stored) Object.assign(previousTargets, parseTargets(stored.body).signed.targets);
    for (const [p, t] of Object.entries(binMd.signed.targets)) {
      if (md.signed.targets[p]) throw new OutpostError('package', `publish refused: ${p} is signed twice (in the publisher's role and in bin ${s.name})`);
      nextTargets[p] = t;
    }
    bins.push({ name: s.name, md: binMd });
  }
  for (const [name, b] of nextBins) {
    if (bins.some((x) => x.name === name)) continue;
    const was = prevBins.get(name);
    if (!was || was.threshold !== b.threshold || was.keyIds.join() !== b.keyIds.join()) throw new OutpostError('package', `publish refused: bin ${name} is new or its keys changed, so it must be signed and sent with this metadata`);
    if (!(await tx.latestMetadata(name))) throw new OutpostError('package', `publish refused: bin ${name} is delegated but the hub holds no metadata for it`);
  }

  const previous = Object.fromEntries(Object.entries(previousTargets).map(([p, t]) => [p, entryOf(t)]));
  const next = Object.fromEntries(Object.entries(nextTargets).map(([p, t]) => [p, entryOf(t)]));
  const latestVersions = new Map<string, number | undefined>();
  for (const p of Object.keys(next)) {
    const t = parseTargetPath(p);
    if (t.ok && !latestVersions.has(t.path.name)) latestVersions.set(t.path.name, await tx.latestVersion(t.path.name));
  }
  const { problems, change } = checkPublish({ publisher: publisher.name, previous, next, isDelegated: (p) => role.isDelegatedPath(p), latestVersion: (n) => latestVersions.get(n) });
  if (problems.length) throw new OutpostError('package', `publish refused: ${problems.join('; ')}`, {}, { problems });
  if (binProblems.length) throw new OutpostError('package', `targets metadata refused: ${binProblems.join('; ')}`);
  if (binConflict) throw new OutpostError('conflict', binConflict);
  const blobs = new Map<string, number>();
  for (const e of [...change.versions.flatMap((v) => Object.values(v.files)), ...change.aliases.map((a) => a.entry), ...change.yanks.map((y) => y.entry)]) {
    if (e.length > hub.config.maxBlobBytes) throw new OutpostError('package', `a file of ${e.length} bytes is larger than this hub accepts (${hub.config.maxBlobBytes})`);
    blobs.set(e.sha256, e.length);
  }
  return { md, bins, targets: nextTargets, signedBy: verifiedSigners(md, top.signed.delegations?.keys ?? {}, role.keyIDs), change, blobs };
}

/** Blobs of a checked request the store does not hold yet (sha256 → length). */
async function missingBlobs(hub: Hub, tx: HubReader, c: CheckedRequest): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [sha, length] of c.blobs) {
    const b = await tx.blob(sha);
    if (!b || !hub.blobs.has(sha)) out[sha] = length;
    else if (b.length !== length) throw new OutpostError('package', `blob ${sha} is ${b.length} bytes but the metadata signs ${length}`);
  }
  return out;
}

/**
 * Finish a checked publish inside its transaction: every blob present (in the store or in the upload
 * session) with the signed length, cards matching their paths, aliases pointing at published versions
 * that are not yanked, yanks naming published versions with a reason. Then the session's blobs enter
 * the store and snapshot/timestamp are re-signed.
 */
async function commitRequest(hub: Hub, tx: HubWriter, publisher: PublisherRow, c: CheckedRequest, uploadId: string | undefined, moved: string[]): Promise<PublishResult> {
  const { md, change } = c;
  for (const [sha, length] of c.blobs) {
    const file = hub.blobs.locate(uploadId, sha);
    if (!file) throw new OutpostError('input', `blob ${sha} was not uploaded (publish through an upload session: POST /api/v1/uploads, as \`outpost publish\` does)`);
    const size = fs.statSync(file).size;
    if (size !== length) throw new OutpostError('package', `blob ${sha} is ${size} bytes but the metadata signs ${length}`);
  }
  for (const v of change.versions) {
    const expect = releaseExpectation(v.name);
    if (expect) {
      const doc = parseReleaseDocument(readBlobText(hub, uploadId, v.files[RELEASE_FILE].sha256), { ...expect, release: v.version });
      if (!doc.ok) throw new OutpostError('package', `${v.name}@${v.version}: ${doc.reason}`);
      if (!v.files[doc.doc.file]) throw new OutpostError('package', `${v.name}@${v.version}: release.json names ${doc.doc.file}, which is not the file published with it`);
      continue;
    }
    const parsed = (() => { try { return parseCard(JSON.parse(readBlobText(hub, uploadId, v.files['card.json'].sha256))); } catch { return undefined; } })();
    if (!parsed?.ok) throw new OutpostError('package', `${v.name}@${v.version}: card.json is not a valid card`);
    if (parsed.card.name !== v.name || parsed.card.version !== v.version) throw new OutpostError('package', `${v.name}@${v.version}: card.json says ${parsed.card.name}@${parsed.card.version}`);
  }
  const published = async (name: string, version: number) => change.versions.some((v) => v.name === name && v.version === version) || (await tx.modelVersions(name)).some((v) => v.version === version);
  const yanks: PublishResult['yanks'] = [];
  for (const y of change.yanks) {
    const doc = parseYankDocument(readBlobText(hub, uploadId, y.entry.sha256), y);
    if (!doc.ok) throw new OutpostError('package', `${y.path}: ${doc.reason}`);
    if (!(await published(y.name, y.version))) throw new OutpostError('package', `cannot yank ${y.name}@${y.version}: it is not published`);
    yanks.push({ name: y.name, version: y.version, reason: doc.doc.reason });
  }
  // every alias in the resulting metadata (changed or not) must point at a published, unyanked version
  const yanked = new Set(Object.keys(md.signed.targets).flatMap((p) => { const t = parseTargetPath(p); return t.ok && t.path.kind === 'yank' ? [`${t.path.name}@${t.path.version}`] : []; }));
  const aliasVersions: { name: string; alias: string; version: number }[] = [];
  for (const [p, t] of Object.entries(md.signed.targets)) {
    const a = parseTargetPath(p);
    if (!a.ok || a.path.kind !== 'alias') continue;
    const doc = parseAliasDocument(readBlobText(hub, uploadId, t.hashes.sha256 ?? ''), a.path);
    if (!doc.ok) throw new OutpostError('package', `${p}: ${doc.reason}`);
    const { name, alias } = a.path;
    const { version } = doc.doc;
    const changed = change.aliases.some((x) => x.path === p);
    if (changed && !(await published(name, version))) throw new OutpostError('package', `alias ${name}:${alias} points at ${name}@${version}, which is not published`);
    if (yanked.has(`${name}@${version}`)) throw new OutpostError('package', `alias ${name}:${alias} points at ${name}@${version}, which is yanked: move the alias to another version first`);
    if (changed) aliasVersions.push({ name, alias, version });
  }

  const at = hub.now().toISOString();
  if (uploadId !== undefined) for (const sha of c.blobs.keys()) if (hub.blobs.adopt(uploadId, sha)) moved.push(sha);
  for (const [sha, length] of c.blobs) await tx.putBlob(sha, length);
  const { snapshotVersion } = await commitRoles(hub, tx, [
    { role: publisher.name, version: md.signed.version, body: serialize(md), createdAt: at },
    ...c.bins.map((b) => ({ role: b.name, version: b.md.signed.version, body: serialize(b.md), createdAt: at })),
  ]);
  for (const v of change.versions) {
    if (isReleaseName(v.name)) {
      // A release (app or GPU runtime) is kept as a version of its name: the installer where a model's file goes,
      // release.json where its card goes (the target route serves each by that sha256).
      const installer = Object.entries(v.files).find(([f]) => f !== RELEASE_FILE)![1];
      const custom = c.targets[`${v.name}/${v.version}/${RELEASE_FILE}`]?.custom as { outpost?: { signedAt?: string } } | undefined;
      await tx.putModelVersion({
        name: v.name, version: v.version, publisher: publisher.name, signedBy: c.signedBy, signedAt: custom?.outpost?.signedAt ?? at,
        modelSha256: installer.sha256, cardSha256: v.files[RELEASE_FILE].sha256, sizeBytes: installer.length + v.files[RELEASE_FILE].length, publishedAt: at,
      });
      continue;
    }
    const custom = c.targets[`${v.name}/${v.version}/card.json`]?.custom as { outpost?: { signedAt?: string } } | undefined;
    await tx.putModelVersion({
      name: v.name, version: v.version, publisher: publisher.name, signedBy: c.signedBy, signedAt: custom?.outpost?.signedAt ?? at,
      modelSha256: v.files['model.onnx'].sha256, cardSha256: v.files['card.json'].sha256,
      sizeBytes: v.files['model.onnx'].length + v.files['card.json'].length, publishedAt: at,
    });
  }
  for (const a of aliasVersions) await tx.putAlias({ ...a, publisher: publisher.name, updatedAt: at });
  return { publisher: publisher.name, roleVersion: md.signed.version, snapshotVersion, versions: change.versions.map((v) => ({ name: v.name, version: v.version })), aliases: aliasVersions, yanks };
}

/** Run a commit; files it moved into the store are taken out again when the transaction fails. */
async function committing<T>(hub: Hub, fn: (moved: string[]) => Promise<T>): Promise<T> {
  const moved: string[] = [];
  try {
    return await fn(moved);
  } catch (e) {
    for (const sha of moved) if (!(await hub.storage.blob(sha).catch(() => undefined))) hub.blobs.discard(sha);
    throw e;
  }
}

/**
 * Accept a publisher's signed targets metadata whose blobs the hub already holds (a re-sign, an
 * alias moved to an existing version). New files come through an upload session instead.
 */
export async function publish(hub: Hub, publisher: PublisherRow, body: unknown, bins: SubmittedBins = []): Promise<PublishResult> {
  const md = parseUntrustedTargets(body);
  return committing(hub, (moved) => hub.storage.transaction(async (tx) => {
    const c = await checkRequest(hub, tx, publisher, md, bins);
    const missing = Object.keys(await missingBlobs(hub, tx, c));
    if (missing.length) throw new OutpostError('input', `blob ${missing[0]} was not uploaded (new files are uploaded for a publish request: POST /api/v1/uploads, as \`outpost publish\` does)`);
    return commitRequest(hub, tx, publisher, c, undefined, moved);
  }));
}

/** An upload session's stored request when it carries bins (a plain one is the metadata alone). */
const UPLOAD_REQUEST_FORMAT = 'outpost.publish-request/v2';

export interface UploadSession { id: string; needed: { sha256: string; length: number }[]; expiresAt: string }

/** Start a publish: check the signed metadata now, and accept exactly the blobs it still needs. */
export async function beginUpload(hub: Hub, publisher: PublisherRow, body: unknown, bins: SubmittedBins = []): Promise<UploadSession> {
  await sweepUploads(hub);
  const md = parseUntrustedTargets(body);
  if (!Array.isArray(bins) || bins.some((b) => typeof b?.name !== 'string')) throw new OutpostError('input', 'bins must be a list of {name, metadata}');
  // One transaction, so the checks read one state of the repository: read apart, a publish landing
  // between the publisher role and its version bin made a stale request look like one that removes
  // published files (refused) instead of one that lost the version race (retried on top).
  const { c, needed } = await hub.storage.transaction(async (tx) => {
    const checked = await checkRequest(hub, tx, publisher, md, bins);
    return { c: checked, needed: await missingBlobs(hub, tx, checked) };
  });
  const id = crypto.randomBytes(16).toString('hex');
  const now = hub.now();
  const expiresAt = addSeconds(now, UPLOAD_IDLE_SECONDS).toISOString();
  // the session keeps the request as sent: the publisher's metadata and its bins
  const request = c.bins.length ? JSON.stringify({ format: UPLOAD_REQUEST_FORMAT, metadata: md.toJSON(), bins: c.bins.map((b) => ({ name: b.name, metadata: b.md.toJSON() })) }) : serialize(md);
  await hub.storage.transaction((tx) => tx.putUpload({ id, publisher: publisher.name, metadata: request, needed, createdAt: now.toISOString(), expiresAt }));
  return { id, needed: Object.entries(needed).map(([sha256, length]) => ({ sha256, length })), expiresAt };
}

async function sessionOf(hub: Hub, publisher: PublisherRow, id: string) {
  const u = UPLOAD_ID_RE.test(id) ? await hub.storage.upload(id) : undefined;
  if (!u || u.publisher !== publisher.name) throw new OutpostError('not-found', `no upload session ${id} of publisher "${publisher.name}" (it may have expired after ${UPLOAD_IDLE_SECONDS / 60} idle minutes: publish again)`);
  return u;
}

/** One blob of an upload session: only one the session needs, exactly its declared size and hash. */
export async function receiveBlob(hub: Hub, publisher: PublisherRow, id: string, sha256: string, body: Readable, contentLength?: number): Promise<void> {
  const u = await sessionOf(hub, publisher, id);
  const length = u.needed[sha256];
  if (length === undefined) throw new OutpostError('input', `blob ${sha256} is not a file of this publish request (it needs: ${Object.keys(u.needed).map((s) => s.slice(0, 12)).join(', ') || 'nothing'})`);
  if (contentLength !== undefined && Number.isFinite(contentLength) && contentLength !== length) throw new OutpostError('input', `blob ${sha256.slice(0, 12)}… is announced as ${contentLength} bytes, but its signed metadata declares ${length}`);
  await hub.blobs.receive(id, sha256, length, body);
  await hub.storage.transaction((tx) => tx.touchUpload(id, addSeconds(hub.now(), UPLOAD_IDLE_SECONDS).toISOString()));
}

/** Commit an upload session. Whatever the outcome, the session and its leftover files are gone after. */
export async function commitUpload(hub: Hub, publisher: PublisherRow, id: string): Promise<PublishResult> {
  const u = await sessionOf(hub, publisher, id);
  try {
    const request = JSON.parse(u.metadata) as { format?: string; metadata?: unknown; bins?: SubmittedBins };
    const binned = request.format === UPLOAD_REQUEST_FORMAT;
    const md = parseUntrustedTargets(binned ? request.metadata : request);
    return await committing(hub, (moved) => hub.storage.transaction(async (tx) => {
      const c = await checkRequest(hub, tx, publisher, md, binned ? request.bins ?? [] : []);
      const r = await commitRequest(hub, tx, publisher, c, id, moved);
      await tx.deleteUpload(id);
      return r;
    }));
  } finally {
    await dropUpload(hub, id);
  }
}

export async function dropUpload(hub: Hub, id: string): Promise<void> {
  hub.blobs.dropUpload(id);
  await hub.storage.transaction((tx) => tx.deleteUpload(id)).catch(() => undefined);
}

/** Delete upload sessions idle past their expiry, with their files. */
export async function sweepUploads(hub: Hub): Promise<number> {
  const ids = await hub.storage.expiredUploads(hub.now().toISOString());
  for (const id of ids) await dropUpload(hub, id);
  return ids.length;
}

/**
 * Rotate the root keys on the hub machine: a new root version listing `newRootKey`, signed by it AND
 * by the current root keys (`currentRootKeys`), so devices can verify the chain (TUF 5.3.4).
 */
export async function rotateRoot(hub: Hub, opts: { newRootKey: PrivateKeyHandle; currentRootKeys: PrivateKeyHandle[] }): Promise<number> {
  const state = await repoState(hub.storage);
  const update = nextRoot(state, { rootKeys: [], now: hub.now(), expires: addSeconds(hub.now(), hub.config.rootExpirySeconds), newRootKey: opts.newRootKey });
  // sign with the given current keys without requiring them to be right: the hub is what refuses
  const md = Metadata.fromJSON(MetadataKind.Root, update.root as never);
  for (const k of opts.currentRootKeys) md.sign(signerFor(k));
  return (await applySignedUpdate(hub, { ...update, root: md.toJSON() })).rootVersion!;
}

export interface ExpiringRole { role: string; version: number; expires: string; expired: boolean; fix: string }

/**
 * Roles whose signed metadata expires within `withinSeconds` (or has expired): what `hub serve` warns
 * about. Snapshot and timestamp live days, not months: the hub re-signs them itself when they are
 * half-way through their lifetime, so they are reported only when it cannot — when it holds no
 * online key the current root names for them.
 */
export async function expiringRoles(hub: Hub, withinSeconds = 30 * 86_400): Promise<ExpiringRole[]> {
  const now = hub.now().getTime();
  const out: ExpiringRole[] = [];
  const check = (role: string, md: Metadata<Root | Targets | Snapshot | Timestamp>, fix: string, within = withinSeconds) => {
    const t = new Date(md.signed.expires).getTime();
    if (t - now < within * 1000) out.push({ role, version: md.signed.version, expires: md.signed.expires, expired: t <= now, fix });
  };
  const state = await repoState(hub.storage);
  check('root', state.root, 'outpost hub root renew --offline-keys <dir> …');
  check('targets', state.targets, 'outpost hub targets renew --offline-keys <dir> …');
  for (const d of delegationsOf(state.targets.signed)) {
    const md = state.roleMetadata(d.name);
    if (md) check(d.name, md, `the team re-signs: outpost publish --resign --hub … --key <${d.name} key>`);
  }
  for (const role of ONLINE_ROLES) {
    try {
      hub.keys.for(state.root, role);
    } catch {
      const row = await latest(hub.storage, role);
      const md = role === 'snapshot' ? parseSnapshot(row.body) : parseTimestamp(row.body);
      check(role, md, `this hub holds no ${role} key that root v${state.root.signed.version} names, so it cannot re-sign ${role} metadata: restore ${hub.keys.file(role)} from a backup, or rotate the online keys (outpost hub online-keys, then hub root rotate --new-online-keys)`, Infinity);
    }
  }
  return out;
}
