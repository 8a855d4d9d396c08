// Version bins on the node side (names, the publisher's signing, the hub's checks); the layout is in
// src/hub/common/version-bins.ts. A publisher's role keeps its aliases and yanks and delegates each
// (model, block of 100 versions) to a bin role signed with the same team keys. Repositories made
// before bins (every file target in the publisher's role) keep working: devices read the
// publisher's own targets as before, and the publisher's next publish moves them into bins
// (`signBinned`: flat → bins, the same entries, checked by the hub as unchanged).
import crypto from 'node:crypto';
import { Metadata, type Key, type TargetFile, type Targets } from '@tufjs/models';
import { signerFor, type PrivateKeyHandle } from '../../keys/node/keys.ts';
import { parseTargetPath } from '../common/target-paths.ts';
import { binPaths, blockOf, parseBinPaths } from '../common/version-bins.ts';
import { buildTargets, type DelegationSpec } from './tuf-metadata.ts';

/**
 * The role name of a publisher's bin: `<publisher>-<hex>`, 64 characters (publisher names have at
 * most 32, so a bin never shares a name with a publisher; the metadata route allows 64).
 */
export function binRoleName(publisher: string, model: string, block: number): string {
  const hex = crypto.createHash('sha256').update(`${model}/${block}`).digest('hex');
  return `${publisher}-${hex.slice(0, 63 - publisher.length)}`;
}

export interface BinInfo { name: string; model: string; block: number; keyIds: string[]; threshold: number }

/** The bins a publisher's role delegates (only well-formed ones; the hub refuses any other delegation). */
export function binsOf(publisherMd: Metadata<Targets> | undefined): BinInfo[] {
  const out: BinInfo[] = [];
  for (const r of Object.values(publisherMd?.signed.delegations?.roles ?? {})) {
    const b = parseBinPaths(r.paths ?? []);
    if (b) out.push({ name: r.name, ...b, keyIds: r.keyIDs, threshold: r.threshold });
  }
  return out;
}

export interface BinnedUpdate {
  /** the publisher's role: its aliases and yanks, and the bin delegations */
  publisher: Metadata<Targets>;
  /** the bins this update re-signs (new entries, moved legacy entries, or new keys) */
  bins: { name: string; metadata: Metadata<Targets> }[];
}

export interface BinnedSignOptions {
  publisher: string; prev: Metadata<Targets> | undefined; add: TargetFile[]; keys: PrivateKeyHandle[]; threshold: number; expires: Date; resignAll?: boolean;
  /** the publisher role's version (default: the previous one + 1) */
  version?: number;
}

interface Plan { own: Targets['targets']; keyIds: string[]; bins: Map<string, { model: string; block: number; changed: boolean; add: TargetFile[] }> }

function plan(o: BinnedSignOptions): Plan {
  const keyIds = o.keys.map((k) => k.keyId).sort();
  const own: Targets['targets'] = {};
  const bins: Plan['bins'] = new Map();
  for (const b of binsOf(o.prev)) {
    const sameKeys = b.threshold === o.threshold && b.keyIds.length === keyIds.length && [...b.keyIds].sort().every((k, i) => k === keyIds[i]);
    bins.set(b.name, { model: b.model, block: b.block, changed: !sameKeys || o.resignAll === true, add: [] });
  }
  const place = (t: TargetFile): void => {
    const p = parseTargetPath(t.path);
    if (!p.ok || p.path.kind !== 'file') { own[t.path] = t; return; }
    const block = blockOf(p.path.version);
    const name = binRoleName(o.publisher, p.path.name, block);
    const bin = bins.get(name) ?? { model: p.path.name, block, changed: true, add: [] };
    bin.changed = true;
    bin.add.push(t);
    bins.set(name, bin);
  };
  for (const t of Object.values(o.prev?.signed.targets ?? {})) place(t);
  for (const t of o.add) place(t);
  return { own, keyIds, bins };
}

/** The existing bins (delegated by `prev`) that `signBinned` with these options re-signs: their current metadata is needed. */
export function binsToResign(o: BinnedSignOptions): string[] {
  const existing = new Set(binsOf(o.prev).map((b) => b.name));
  return [...plan(o).bins].filter(([name, b]) => b.changed && existing.has(name)).map(([name]) => name);
}

/**
 * Sign the next version of a publisher's metadata with `add` (files go to their version's bin,
 * aliases and yanks stay in the publisher's role). File targets still in the publisher's role
 * (a repository from before bins) move into bins; every bin whose delegation keys change (a key
 * rotation, `--resign`) is re-signed. `prevBin` gives a bin's current metadata, which the caller has
 * verified under `prev`'s delegation.
 */
export function signBinned(o: BinnedSignOptions & { prevBin: (name: string) => Metadata<Targets> | undefined }): BinnedUpdate {
  const { own, keyIds, bins } = plan(o);
  const keys: Record<string, Key> = Object.fromEntries(o.keys.map((k) => [k.keyId, k.tufKey]));
  const out: BinnedUpdate['bins'] = [];
  for (const [name, b] of bins) {
    if (!b.changed) continue;
    const prevBin = o.prevBin(name);
    const targets: Targets['targets'] = { ...(prevBin?.signed.targets ?? {}) };
    for (const t of b.add) targets[t.path] = t;
    const md = new Metadata(buildTargets({ version: (prevBin?.signed.version ?? 0) + 1, expires: o.expires, targets }));
    for (const k of o.keys) md.sign(signerFor(k));
    out.push({ name, metadata: md });
  }
  const roles: DelegationSpec[] = [...bins].sort(([, a], [, b]) => (a.model < b.model ? -1 : a.model > b.model ? 1 : a.block - b.block))
    .map(([name, b]) => ({ name, keyIds, threshold: o.threshold, paths: binPaths(b.model, b.block) }));
  const md = new Metadata(buildTargets({ version: o.version ?? (o.prev?.signed.version ?? 0) + 1, expires: o.expires, targets: own, ...(roles.length ? { delegationKeys: keys, roles } : {}) }));
  for (const k of o.keys) md.sign(signerFor(k));
  return { publisher: md, bins: out };
}

/**
 * Why a publisher's role's delegations are not the bins the hub accepts: each a well-formed bin of a
 * model the publisher may publish, named after it, terminating, trusting only keys of the team's own
 * delegation (with the same public keys) at no lower threshold.
 */
export function binDelegationProblems(publisher: string, md: Metadata<Targets>, team: { keyIds: string[]; threshold: number; keys: Record<string, Key>; isDelegatedPath(p: string): boolean }): string[] {
  const d = md.signed.delegations;
  if (!d) return [];
  if (d.succinctRoles || !d.roles) return ['only version bins may be delegated (no hash-prefix or succinct roles)'];
  const problems: string[] = [];
  for (const r of Object.values(d.roles)) {
    const b = parseBinPaths(r.paths ?? []);
    if (!b || r.pathHashPrefixes) { problems.push(`delegated role "${r.name}" is not a version bin (paths ${JSON.stringify(r.paths ?? r.pathHashPrefixes)})`); continue; }
    if (r.name !== binRoleName(publisher, b.model, b.block)) problems.push(`delegated role "${r.name}" should be named ${binRoleName(publisher, b.model, b.block)} for ${b.model} block ${b.block}`);
    if (!team.isDelegatedPath(`${b.model}/1/card.json`)) problems.push(`bin "${r.name}" is for model "${b.model}", which publisher "${publisher}" may not publish`);
    if (!r.terminating) problems.push(`bin "${r.name}" must be terminating`);
    if (!r.keyIDs.length || r.keyIDs.some((k) => !team.keyIds.includes(k))) problems.push(`bin "${r.name}" trusts keys that are not publisher "${publisher}"'s`);
    for (const k of r.keyIDs) {
      const mine = team.keys[k];
      const given = d.keys[k];
      if (!mine || !given || JSON.stringify(mine.toJSON()) !== JSON.stringify(given.toJSON())) problems.push(`bin "${r.name}": key ${k.slice(0, 12)}… is not the team's key`);
    }
    if (r.threshold < team.threshold || r.threshold > r.keyIDs.length) problems.push(`bin "${r.name}" has threshold ${r.threshold}; the team's is ${team.threshold}`);
  }
  return problems;
}
