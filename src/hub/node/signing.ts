// Offline signing: new top-level targets (publisher delegations, renewal) and new root versions
// (renewal, root/targets/online key rotation), made from the hub's current metadata with the
// offline keys, wherever those keys are. The result is a SignedUpdate: plain JSON that the hub
// accepts only after verifying it against its current root (`applySignedUpdate`), whether it comes
// from `--dir` on the hub machine or from `outpost hub upload-metadata`.
import { Metadata, Root, type Key, type Targets } from '@tufjs/models';
import { OutpostError } from '../../common/errors.ts';
import { signerFor, type PrivateKeyHandle } from '../../keys/node/keys.ts';
import { delegationChanges, delegationProblems, type DelegationInfo } from '../common/delegations.ts';
import { delegationPathsFor, MODEL_GLOB_RE, PUBLISHER_RE, RESERVED_ROLES } from '../common/target-paths.ts';
import { buildTargets, tufTime, type DelegationSpec } from './tuf-metadata.ts';

export const SIGNED_UPDATE_FORMAT = 'outpost.signed-metadata/v1';

export interface SignedUpdate {
  format: typeof SIGNED_UPDATE_FORMAT;
  createdAt: string;
  /** what the update changes, in words (shown again when it is applied) */
  changes: string[];
  /** apply even though a publisher's current metadata stops verifying (its models are refused until it re-signs) */
  force?: boolean;
  root?: unknown;
  targets?: unknown;
}

/** What an offline operation starts from: the hub's current root, targets and publisher metadata. */
export interface RepoState {
  root: Metadata<Root>;
  targets: Metadata<Targets>;
  roleMetadata(name: string): Metadata<Targets> | undefined;
}

export const delegationsOf = (t: Targets): DelegationInfo[] =>
  Object.values(t.delegations?.roles ?? {}).map((r) => ({ name: r.name, keyIds: r.keyIDs, threshold: r.threshold, paths: r.paths ?? [] }));

function requireKey(root: Metadata<Root>, role: string, key: PrivateKeyHandle): void {
  if (!root.signed.roles[role]?.keyIDs.includes(key.keyId)) {
    throw new OutpostError('usage', `key ${key.keyId.slice(0, 12)}… (${key.file}) is not a ${role} key of this hub (root v${root.signed.version} names ${root.signed.roles[role]?.keyIDs.map((k) => k.slice(0, 12)).join(', ')}): wrong --offline-keys folder?`);
  }
}

/**
 * Publishers whose CURRENT metadata would stop verifying under `next` (their key removed or their
 * threshold raised): every device would refuse all their models until they re-sign.
 */
export function strandedPublishers(state: RepoState, next: Metadata<Targets>): string[] {
  const out: string[] = [];
  for (const d of delegationsOf(next.signed)) {
    const md = state.roleMetadata(d.name);
    if (!md) continue;
    try {
      next.verifyDelegate(d.name, md);
    } catch {
      out.push(`publisher "${d.name}": its current metadata (v${md.signed.version}) is not signed by ${d.threshold} of the keys this update delegates to it, so every device would refuse all of its models until it re-signs. Keep the old key during a transition (--key old.pub --key new.pub), let the team re-sign (\`outpost publish --resign\`), then drop the old key — or pass --force (e.g. after a key compromise)`);
    }
  }
  return out;
}

function signTargets(state: RepoState, targetsKey: PrivateKeyHandle, roles: DelegationSpec[], keys: Record<string, Key>, expires: Date, root = state.root): Metadata<Targets> {
  requireKey(root, 'targets', targetsKey);
  const used = new Set(roles.flatMap((r) => r.keyIds));
  const delegationKeys = Object.fromEntries(Object.entries(keys).filter(([id]) => used.has(id)));
  const problems = delegationProblems(roles.map((r) => ({ ...r })), new Set(Object.keys(delegationKeys)));
  if (problems.length) throw new OutpostError('usage', problems.join('; '));
  const md = new Metadata(buildTargets({ version: state.targets.signed.version + 1, expires, targets: {}, delegationKeys, roles }));
  md.sign(signerFor(targetsKey));
  return md;
}

const specsOf = (t: Targets): DelegationSpec[] => delegationsOf(t).map((d) => ({ name: d.name, keyIds: d.keyIds, threshold: d.threshold, paths: d.paths }));

function targetsUpdate(state: RepoState, md: Metadata<Targets>, opts: { force?: boolean; now: Date; extra?: string[] }): SignedUpdate {
  const changes = [...(opts.extra ?? []), ...delegationChanges(delegationsOf(state.targets.signed), delegationsOf(md.signed))];
  const stranded = strandedPublishers(state, md);
  if (stranded.length && !opts.force) throw new OutpostError('conflict', `refusing to sign: ${stranded.join('; ')}`);
  return { format: SIGNED_UPDATE_FORMAT, createdAt: opts.now.toISOString(), changes: [...changes, ...stranded.map((s) => `FORCED: ${s}`)], ...(opts.force ? { force: true } : {}), targets: md.toJSON() };
}

export interface DelegateOptions { name: string; keys: Key[]; threshold?: number; modelsGlob: string; expires: Date; now: Date; force?: boolean }

/** Delegate a model-name glob to a publisher's key(s), or change an existing publisher's keys, threshold or glob. */
export function delegatePublisher(state: RepoState, targetsKey: PrivateKeyHandle, opts: DelegateOptions): SignedUpdate {
  const threshold = opts.threshold ?? 1;
  if (!PUBLISHER_RE.test(opts.name) || RESERVED_ROLES.has(opts.name)) throw new OutpostError('usage', `"${opts.name}" is not a valid publisher name (lower-case letters, digits, "-", not a TUF role name)`);
  if (!MODEL_GLOB_RE.test(opts.modelsGlob)) throw new OutpostError('usage', `"${opts.modelsGlob}" is not a model-name glob (model-name characters plus * and ?)`);
  const ids = [...new Set(opts.keys.map((k) => k.keyID))];
  if (!ids.length) throw new OutpostError('usage', 'at least one publisher key is needed');
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > ids.length) throw new OutpostError('usage', `threshold must be between 1 and the number of keys (${ids.length})`);
  const cur = state.targets.signed;
  const keys: Record<string, Key> = { ...(cur.delegations?.keys ?? {}) };
  for (const k of opts.keys) keys[k.keyID] = k;
  const roles = specsOf(cur).filter((r) => r.name !== opts.name);
  const existed = roles.length !== specsOf(cur).length;
  roles.push({ name: opts.name, keyIds: ids, threshold, paths: delegationPathsFor(opts.modelsGlob) });
  const md = signTargets(state, targetsKey, roles, keys, opts.expires);
  return targetsUpdate(state, md, { force: opts.force, now: opts.now, extra: existed ? [`RE-DELEGATION of existing publisher "${opts.name}"`] : [] });
}

export function revokePublisher(state: RepoState, targetsKey: PrivateKeyHandle, opts: { name: string; expires: Date; now: Date }): SignedUpdate {
  const cur = state.targets.signed;
  if (!cur.delegations?.roles?.[opts.name]) throw new OutpostError('not-found', `no publisher "${opts.name}" is delegated (publishers: ${delegationsOf(cur).map((d) => d.name).join(', ') || 'none'})`);
  const md = signTargets(state, targetsKey, specsOf(cur).filter((r) => r.name !== opts.name), { ...(cur.delegations?.keys ?? {}) }, opts.expires);
  return targetsUpdate(state, md, { now: opts.now });
}

/** The same delegations, signed again with a later expiry. */
export function renewTargets(state: RepoState, targetsKey: PrivateKeyHandle, opts: { expires: Date; now: Date }): SignedUpdate {
  const cur = state.targets.signed;
  const md = signTargets(state, targetsKey, specsOf(cur), { ...(cur.delegations?.keys ?? {}) }, opts.expires);
  return targetsUpdate(state, md, { now: opts.now, extra: [`targets metadata v${md.signed.version} renewed: expires ${md.signed.expires} (was ${cur.expires})`] });
}

export interface RootChange {
  expires: Date;
  now: Date;
  /** the current root key(s): they sign the new root, so devices can follow the chain */
  rootKeys: PrivateKeyHandle[];
  /** a new root key replacing the current ones (it signs too: the new root must verify by itself) */
  newRootKey?: PrivateKeyHandle;
  /** a new targets key: the top-level targets are re-signed with it in the same update */
  targetsKey?: { current: PrivateKeyHandle; fresh: PrivateKeyHandle; expires: Date };
  /** new online keys (public halves; the hub holds the private ones as <role>.next.key) */
  online?: { snapshot: Key; timestamp: Key };
}

/** The next root version: renewed, and with whichever keys the change replaces (TUF 5.3: cross-signed). */
export function nextRoot(state: RepoState, change: RootChange): SignedUpdate {
  const cur = state.root.signed;
  for (const k of change.rootKeys) requireKey(state.root, 'root', k);
  const json = cur.toJSON() as Record<string, unknown> & { roles: Record<string, { keyids: string[]; threshold: number }>; keys: Record<string, unknown> };
  const roles = structuredClone(json.roles);
  const keys: Record<string, unknown> = { ...json.keys };
  const changes: string[] = [];
  const replace = (role: string, key: { keyID: string; toJSON(): unknown }) => {
    changes.push(`${role} key ${roles[role].keyids.map((k) => k.slice(0, 16)).join(', ')} → ${key.keyID.slice(0, 16)}`);
    roles[role] = { keyids: [key.keyID], threshold: 1 };
    keys[key.keyID] = key.toJSON();
  };
  if (change.newRootKey) replace('root', change.newRootKey.tufKey);
  if (change.targetsKey) { requireKey(state.root, 'targets', change.targetsKey.current); replace('targets', change.targetsKey.fresh.tufKey); }
  if (change.online) { replace('snapshot', change.online.snapshot); replace('timestamp', change.online.timestamp); }
  const used = new Set(Object.values(roles).flatMap((r) => r.keyids));
  for (const id of Object.keys(keys)) if (!used.has(id)) delete keys[id];
  const version = cur.version + 1;
  const md = new Metadata(Root.fromJSON({ ...json, version, expires: tufTime(change.expires), roles, keys } as never));
  const signers = [...change.rootKeys, ...(change.newRootKey ? [change.newRootKey] : [])];
  for (const k of signers) md.sign(signerFor(k));
  changes.unshift(`root v${version}: expires ${md.signed.expires} (was ${cur.expires})`);
  const update: SignedUpdate = { format: SIGNED_UPDATE_FORMAT, createdAt: change.now.toISOString(), changes, root: md.toJSON() };
  if (change.targetsKey) {
    const t = signTargets(state, change.targetsKey.fresh, specsOf(state.targets.signed), { ...(state.targets.signed.delegations?.keys ?? {}) }, change.targetsKey.expires, md);
    update.targets = t.toJSON();
    changes.push(`targets metadata v${t.signed.version} re-signed with the new targets key`);
  }
  return update;
}
