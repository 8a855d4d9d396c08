// The hub's TUF repository: creating it, delegating model names to publishers (offline targets
// key), accepting publishes (publisher-signed targets checked against the delegation), and
// re-signing snapshot/timestamp with the online keys. The hub never signs targets itself, so a
// compromised hub cannot forge a model: devices check the publisher's signature.
import fs from 'node:fs';
import { Metadata, Root, Snapshot, Timestamp } from '@tufjs/models';
import type { Key, Targets } from '@tufjs/models';
import { OutpostError } from '../../common/errors.ts';
import { generateKeyFile, loadPrivateKey, signerFor, type PrivateKeyHandle } from '../../keys/node/keys.ts';
import { parseCard } from '../../package/common/card.ts';
import { ROOT_POLICY_FIELD } from '../common/root-policy.ts';
import { checkPublish, type TargetEntry } from '../common/publish-policy.ts';
import { delegationPathsFor, MODEL_GLOB_RE, parseAliasDocument, parseTargetPath, PUBLISHER_RE, RESERVED_ROLES } from '../common/target-paths.ts';
import { BlobStore } from './blobs.ts';
import { describeDb, parseDbSpec } from './db-spec.ts';
import { DEFAULT_HUB_CONFIG, hubPaths, readHubConfig, writeSecretFile, type HubConfig } from './hub-dir.ts';
import { openSqliteStorage } from './sqlite-storage.ts';
import type { HubStorage, HubWriter, MetadataRow, PublisherRow } from './storage.ts';
import { hashToken, newToken } from './tokens.ts';
import { addSeconds, buildTargets, metaFileFor, parseRoot, parseSnapshot, parseTargets, parseTimestamp, parseUntrustedTargets, serialize, SPEC_VERSION, tufTime, verifiedSigners, type DelegationSpec } from './tuf-metadata.ts';
import path from 'node:path';


export interface Hub {
  dir: string;
  config: HubConfig;
  storage: HubStorage;
  blobs: BlobStore;
  snapshotKey: PrivateKeyHandle;
  timestampKey: PrivateKeyHandle;
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
 * postgres:// URL. `db` defaults to the one in the hub's configuration.
 */
export async function openHubStorage(dir: string, config: HubConfig, db?: string): Promise<HubStorage> {
  const spec = db !== undefined
    ? parseDbSpec(db, dir, { code: 'input', origin: 'hub database' })
    : parseDbSpec(config.db, dir, { code: 'input', origin: 'hub.json "db"', file: hubPaths(dir).config });
  if (spec.kind === 'postgres') {
    const { openPostgresStorage } = await import('./postgres-storage.ts');
    return openPostgresStorage(spec.url);
  }
  return openSqliteStorage(spec.file);
}

export async function openHub(dir: string, opts: OpenHubOptions = {}): Promise<Hub> {
  const abs = path.resolve(dir);
  const config = readHubConfig(abs);
  const p = hubPaths(abs);
  const snapshotKey = loadPrivateKey(p.snapshotKey);
  const timestampKey = loadPrivateKey(p.timestampKey);
  const storage = opts.storage ?? await openHubStorage(abs, config, opts.db);
  return {
    dir: abs, config, storage,
    blobs: new BlobStore(p.blobs),
    snapshotKey,
    timestampKey,
    now: opts.now ?? (() => new Date()),
    close: () => storage.close(),
  };
}

export interface InitResult { dir: string; adminToken: string; rootKeyId: string; offlineKeys: string[]; trustRoot: string; db: string; dbPasswordNotStored: boolean }

/**
 * Create a hub: keys, signed initial metadata, database, blob store, admin token. `config.db` picks
 * the database (SQLite file relative to the hub folder, or a postgres:// URL, which must not hold a
 * hub yet); hub.json records it without any password.
 */
export async function initHub(dir: string, opts: { passphrase?: string; config?: Partial<HubConfig>; now?: Date; storage?: HubStorage } = {}): Promise<InitResult> {
  const abs = path.resolve(dir);
  const p = hubPaths(abs);
  if (fs.existsSync(p.config)) throw new OutpostError('conflict', 'a hub already exists here', { file: p.config });
  const now = opts.now ?? new Date();
  const config: HubConfig = { ...DEFAULT_HUB_CONFIG, ...opts.config, createdAt: now.toISOString() };
  const spec = parseDbSpec(config.db, abs, { code: 'usage', origin: 'hub database' });
  const stored: HubConfig = { ...config, db: spec.kind === 'postgres' ? spec.redacted : config.db };
  const existed = fs.existsSync(abs);
  fs.mkdirSync(abs, { recursive: true });
  let storage: HubStorage;
  try {
    storage = opts.storage ?? await openHubStorage(abs, config);
  } catch (e) {
    if (!existed) fs.rmSync(abs, { recursive: true, force: true });
    throw e;
  }
  const created: string[] = [];
  let result: InitResult;
  try {
    // Refuse before writing any file: the database may be shared (PostgreSQL) and already serve a hub.
    if (await storage.latestMetadata('root')) throw new OutpostError('conflict', `the hub database ${describeDb(spec)} already holds a repository; serve it with the hub folder created with it`);
    const key = (file: string, passphrase?: string) => { created.push(file, `${file}.pub`); return generateKeyFile(file, { passphrase }); };
    const rootKey = key(p.rootKey, opts.passphrase);
    const targetsKey = key(p.targetsKey, opts.passphrase);
    const snapshotKey = key(p.snapshotKey);
    const timestampKey = key(p.timestampKey);

    const root = new Root({
      version: 1, specVersion: SPEC_VERSION, expires: tufTime(addSeconds(now, config.rootExpirySeconds)), consistentSnapshot: true,
      unrecognizedFields: { [ROOT_POLICY_FIELD]: { offlineGraceSeconds: config.offlineGraceSeconds } },
    });
    root.addKey(rootKey.tufKey, 'root');
    root.addKey(targetsKey.tufKey, 'targets');
    root.addKey(snapshotKey.tufKey, 'snapshot');
    root.addKey(timestampKey.tufKey, 'timestamp');
    const rootMd = new Metadata(root);
    rootMd.sign(signerFor(rootKey));
    const targetsMd = new Metadata(buildTargets({ version: 1, expires: addSeconds(now, config.targetsExpirySeconds), targets: {}, delegationKeys: {}, roles: [] }));
    targetsMd.sign(signerFor(targetsKey));

    const adminToken = newToken('adm');
    const rootBody = serialize(rootMd);
    created.push(p.trustRoot, p.adminToken);
    fs.writeFileSync(p.trustRoot, rootBody);
    writeSecretFile(p.adminToken, adminToken + '\n');

    const hub: Hub = { dir: abs, config, storage, blobs: new BlobStore(p.blobs), snapshotKey, timestampKey, now: () => now, close: () => storage.close() };
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
      dir: abs, adminToken, rootKeyId: rootKey.keyId, offlineKeys: [p.rootKey, p.targetsKey], trustRoot: p.trustRoot,
      db: describeDb(spec), dbPasswordNotStored: spec.kind === 'postgres' && spec.hasPassword,
    };
  } catch (e) {
    await storage.close().catch(() => undefined);
    // leave no half-made hub: the folder if this init made it, else the files it wrote
    if (!existed) fs.rmSync(abs, { recursive: true, force: true });
    else for (const f of created) fs.rmSync(f, { force: true });
    throw e;
  }
  await storage.close();
  return result;
}

async function latest(tx: HubWriter | HubStorage, role: string): Promise<MetadataRow> {
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
  snap.sign(signerFor(hub.snapshotKey));
  const snapBody = serialize(snap);
  await tx.putMetadata({ role: 'snapshot', version: snapshotVersion, body: snapBody, createdAt: at });
  const prevTs = await tx.latestMetadata('timestamp');
  const tsVersion = (prevTs?.version ?? 0) + 1;
  const ts = new Metadata(new Timestamp({ version: tsVersion, specVersion: SPEC_VERSION, expires: tufTime(addSeconds(now, hub.config.timestampExpirySeconds)), snapshotMeta: metaFileFor(snapBody, snapshotVersion) }));
  ts.sign(signerFor(hub.timestampKey));
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
      md.sign(signerFor(hub.timestampKey));
      await tx.putMetadata({ role: 'timestamp', version: t.version + 1, body: serialize(md), createdAt: now.toISOString() });
    }
    return true;
  });
}

function requireRoleKey(root: Metadata<Root>, role: string, key: PrivateKeyHandle): void {
  if (!root.signed.roles[role]?.keyIDs.includes(key.keyId)) {
    throw new OutpostError('input', `key ${key.keyId.slice(0, 12)}… is not a ${role} key of this hub`, { file: key.file });
  }
}

export interface AddPublisherOptions { name: string; keys: Key[]; threshold?: number; modelsGlob: string; targetsKey: PrivateKeyHandle }

/** Delegate model names to a publisher's key(s), signed with the offline targets key. Returns its API token. */
export async function addPublisher(hub: Hub, opts: AddPublisherOptions): Promise<{ token: string; targetsVersion: number; paths: string[] }> {
  const { name, keys, modelsGlob } = opts;
  const threshold = opts.threshold ?? 1;
  if (!PUBLISHER_RE.test(name) || RESERVED_ROLES.has(name)) throw new OutpostError('usage', `"${name}" is not a valid publisher name (lower-case letters, digits, "-", not a TUF role name)`);
  if (!MODEL_GLOB_RE.test(modelsGlob)) throw new OutpostError('usage', `"${modelsGlob}" is not a model-name glob (model-name characters plus * and ?)`);
  const ids = [...new Set(keys.map((k) => k.keyID))];
  if (!ids.length) throw new OutpostError('usage', 'at least one publisher key is needed');
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > ids.length) throw new OutpostError('usage', `threshold must be between 1 and the number of keys (${ids.length})`);
  const token = newToken('pub');
  const paths = delegationPathsFor(modelsGlob);
  const targetsVersion = await hub.storage.transaction(async (tx) => {
    requireRoleKey(parseRoot((await latest(tx, 'root')).body), 'targets', opts.targetsKey);
    const top = parseTargets((await latest(tx, 'targets')).body);
    const d = top.signed.delegations;
    const delegationKeys: Record<string, Key> = { ...(d?.keys ?? {}) };
    for (const k of keys) delegationKeys[k.keyID] = k;
    const roles: DelegationSpec[] = Object.values(d?.roles ?? {}).filter((r) => r.name !== name)
      .map((r) => ({ name: r.name, keyIds: r.keyIDs, threshold: r.threshold, paths: r.paths ?? [] }));
    roles.push({ name, keyIds: ids, threshold, paths });
    const version = top.signed.version + 1;
    const md = new Metadata(buildTargets({ version, expires: addSeconds(hub.now(), hub.config.targetsExpirySeconds), targets: top.signed.targets, delegationKeys, roles }));
    md.sign(signerFor(opts.targetsKey));
    await commitRoles(hub, tx, [{ role: 'targets', version, body: serialize(md), createdAt: hub.now().toISOString() }]);
    const prev = await tx.publisher(name);
    await tx.putPublisher({ name, keyIds: ids, threshold, modelsGlob, tokenHash: hashToken(token), createdAt: prev?.createdAt ?? hub.now().toISOString() });
    return version;
  });
  return { token, targetsVersion, paths };
}

export interface PublishResult { publisher: string; roleVersion: number; snapshotVersion: number; versions: { name: string; version: number }[]; aliases: { name: string; alias: string; version: number }[] }

const entryOf = (t: Targets['targets'][string]): TargetEntry => ({ length: t.length, sha256: t.hashes.sha256 ?? '' });

function readBlobText(hub: Hub, sha: string, max = 1024 * 1024): string {
  const file = hub.blobs.path(sha);
  if (fs.statSync(file).size > max) throw new OutpostError('package', `blob ${sha.slice(0, 12)}… is too large for a JSON document`);
  return fs.readFileSync(file, 'utf8');
}

/**
 * Accept a publisher's signed targets metadata: signatures meet the delegation's threshold, every
 * path is inside the delegation, the metadata version grows, published versions stay immutable,
 * model versions only grow, every blob is present with the signed length and hash, cards match
 * their paths and aliases point at published versions. Then snapshot/timestamp are re-signed.
 */
export async function publish(hub: Hub, publisher: PublisherRow, body: unknown): Promise<PublishResult> {
  const md = parseUntrustedTargets(body);
  return hub.storage.transaction(async (tx) => {
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
    if (md.signed.delegations) throw new OutpostError('input', 'nested delegations are not supported');

    const previous = Object.fromEntries(Object.entries(prev?.signed.targets ?? {}).map(([p, t]) => [p, entryOf(t)]));
    const next = Object.fromEntries(Object.entries(md.signed.targets).map(([p, t]) => [p, entryOf(t)]));
    const latestVersions = new Map<string, number | undefined>();
    for (const p of Object.keys(next)) {
      const t = parseTargetPath(p);
      if (t.ok && !latestVersions.has(t.path.name)) latestVersions.set(t.path.name, await tx.latestVersion(t.path.name));
    }
    const { problems, change } = checkPublish({ publisher: publisher.name, previous, next, isDelegated: (p) => role.isDelegatedPath(p), latestVersion: (n) => latestVersions.get(n) });
    if (problems.length) throw new OutpostError('package', `publish refused: ${problems.join('; ')}`, {}, { problems });

    const needBlob = [...change.versions.flatMap((v) => Object.values(v.files)), ...change.aliases.map((a) => a.entry)];
    for (const e of needBlob) {
      const b = await tx.blob(e.sha256);
      if (!b || !hub.blobs.has(e.sha256)) throw new OutpostError('input', `blob ${e.sha256} was not uploaded (upload every file before publishing its metadata)`);
      if (b.length !== e.length) throw new OutpostError('package', `blob ${e.sha256} is ${b.length} bytes but the metadata signs ${e.length}`);
    }
    for (const v of change.versions) {
      const parsed = (() => { try { return parseCard(JSON.parse(readBlobText(hub, v.files['card.json'].sha256))); } catch { return undefined; } })();
      if (!parsed?.ok) throw new OutpostError('package', `${v.name}@${v.version}: card.json is not a valid card`);
      if (parsed.card.name !== v.name || parsed.card.version !== v.version) throw new OutpostError('package', `${v.name}@${v.version}: card.json says ${parsed.card.name}@${parsed.card.version}`);
    }
    const published = new Set(change.versions.map((v) => `${v.name}@${v.version}`));
    const aliasVersions: { name: string; alias: string; version: number }[] = [];
    for (const a of change.aliases) {
      const doc = parseAliasDocument(readBlobText(hub, a.entry.sha256), a);
      if (!doc.ok) throw new OutpostError('package', `${a.path}: ${doc.reason}`);
      const exists = published.has(`${a.name}@${doc.doc.version}`) || (await tx.modelVersions(a.name)).some((v) => v.version === doc.doc.version);
      if (!exists) throw new OutpostError('package', `alias ${a.name}:${a.alias} points at ${a.name}@${doc.doc.version}, which is not published`);
      aliasVersions.push({ name: a.name, alias: a.alias, version: doc.doc.version });
    }

    const signedBy = verifiedSigners(md, top.signed.delegations?.keys ?? {}, role.keyIDs);
    const at = hub.now().toISOString();
    const { snapshotVersion } = await commitRoles(hub, tx, [{ role: publisher.name, version: md.signed.version, body: serialize(md), createdAt: at }]);
    for (const v of change.versions) {
      const custom = md.signed.targets[`${v.name}/${v.version}/card.json`]?.custom as { outpost?: { signedAt?: string } } | undefined;
      await tx.putModelVersion({
        name: v.name, version: v.version, publisher: publisher.name, signedBy, signedAt: custom?.outpost?.signedAt ?? at,
        modelSha256: v.files['model.onnx'].sha256, cardSha256: v.files['card.json'].sha256,
        sizeBytes: v.files['model.onnx'].length + v.files['card.json'].length, publishedAt: at,
      });
    }
    for (const a of aliasVersions) await tx.putAlias({ ...a, publisher: publisher.name, updatedAt: at });
    return { publisher: publisher.name, roleVersion: md.signed.version, snapshotVersion, versions: change.versions.map((v) => ({ name: v.name, version: v.version })), aliases: aliasVersions };
  });
}

/**
 * Rotate the root keys: a new root version listing `newRootKeys`, signed by them AND by enough of
 * the current root keys (`currentRootKeys`), so devices can verify the chain (TUF 5.3.4).
 */
export async function rotateRoot(hub: Hub, opts: { newRootKeys: PrivateKeyHandle[]; currentRootKeys: PrivateKeyHandle[]; threshold?: number }): Promise<number> {
  return hub.storage.transaction(async (tx) => {
    const cur = parseRoot((await latest(tx, 'root')).body);
    const roles = { ...cur.signed.roles };
    const keys = { ...cur.signed.keys };
    for (const id of roles.root.keyIDs) if (!Object.entries(roles).some(([n, r]) => n !== 'root' && r.keyIDs.includes(id))) delete keys[id];
    for (const k of opts.newRootKeys) keys[k.keyId] = k.tufKey;
    const rootJson = cur.signed.toJSON() as Record<string, unknown>;
    const version = cur.signed.version + 1;
    const next = Root.fromJSON({
      ...rootJson, version, expires: tufTime(addSeconds(hub.now(), hub.config.rootExpirySeconds)),
      keys: Object.fromEntries(Object.entries(keys).map(([id, k]) => [id, k.toJSON()])),
      roles: { ...(rootJson.roles as Record<string, unknown>), root: { keyids: opts.newRootKeys.map((k) => k.keyId), threshold: opts.threshold ?? 1 } },
    } as never);
    const md = new Metadata(next);
    for (const k of [...opts.newRootKeys, ...opts.currentRootKeys]) md.sign(signerFor(k));
    try {
      cur.verifyDelegate('root', md);
      md.verifyDelegate('root', md);
    } catch (e) {
      throw new OutpostError('input', `new root refused: ${(e as Error).message} (a rotation is signed by the current root keys and the new ones)`);
    }
    await tx.putMetadata({ role: 'root', version, body: serialize(md), createdAt: hub.now().toISOString() });
    return version;
  });
}
