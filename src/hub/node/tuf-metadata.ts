// Small helpers over @tufjs/models: parse stored bodies, build delegations (not exported by the
// library as classes, so built from their JSON form), TUF timestamps, MetaFile entries over bytes.
import crypto from 'node:crypto';
import { Metadata, MetadataKind, MetaFile, Targets } from '@tufjs/models';
import type { Root, Snapshot, Timestamp } from '@tufjs/models';
import type { Key } from '@tufjs/models';
import { OutpostError } from '../../common/errors.ts';

export const SPEC_VERSION = '1.0.31';

/** TUF expiry strings have no fractional seconds. */
export const tufTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
export const addSeconds = (d: Date, s: number): Date => new Date(d.getTime() + s * 1000);

type Json = Record<string, unknown>;

export const serialize = (md: Metadata<Root | Targets | Snapshot | Timestamp>): string => JSON.stringify(md.toJSON());

export function parseRoot(body: string): Metadata<Root> { return Metadata.fromJSON(MetadataKind.Root, JSON.parse(body) as never); }
export function parseTargets(body: string): Metadata<Targets> { return Metadata.fromJSON(MetadataKind.Targets, JSON.parse(body) as never); }
export function parseSnapshot(body: string): Metadata<Snapshot> { return Metadata.fromJSON(MetadataKind.Snapshot, JSON.parse(body) as never); }
export function parseTimestamp(body: string): Metadata<Timestamp> { return Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(body) as never); }

/** Parse untrusted targets metadata (a publisher's upload) with a clear error. */
export function parseUntrustedTargets(body: unknown): Metadata<Targets> {
  try {
    return Metadata.fromJSON(MetadataKind.Targets, body as never);
  } catch (e) {
    throw new OutpostError('input', `not TUF targets metadata: ${(e as Error).message}`);
  }
}

export const metaFileFor = (body: string, version: number): MetaFile =>
  new MetaFile({ version, length: Buffer.byteLength(body), hashes: { sha256: crypto.createHash('sha256').update(body).digest('hex') } });

export interface DelegationSpec { name: string; keyIds: string[]; threshold: number; paths: string[] }

/** A Targets object with the given targets and delegations (built from JSON: the classes are internal). */
export function buildTargets(opts: { version: number; expires: Date; targets: Targets['targets']; delegationKeys?: Record<string, Key>; roles?: DelegationSpec[] }): Targets {
  const json: Json = {
    _type: 'targets',
    spec_version: SPEC_VERSION,
    version: opts.version,
    expires: tufTime(opts.expires),
    targets: Object.fromEntries(Object.entries(opts.targets).map(([p, t]) => [p, t.toJSON()])),
  };
  if (opts.roles) {
    json.delegations = {
      keys: Object.fromEntries(Object.entries(opts.delegationKeys ?? {}).map(([id, k]) => [id, k.toJSON()])),
      // terminating: a path a publisher's glob matches is looked up in that publisher's role only
      roles: opts.roles.map((r) => ({ name: r.name, keyids: r.keyIds, threshold: r.threshold, terminating: true, paths: r.paths })),
    };
  }
  return Targets.fromJSON(json as never);
}

/** Key ids among `keyIds` whose signature over `md` verifies. */
export function verifiedSigners(md: Metadata<Root | Targets | Snapshot | Timestamp>, keys: Record<string, Key>, keyIds: string[]): string[] {
  return keyIds.filter((id) => {
    const k = keys[id];
    if (!k) return false;
    try {
      k.verifySignature(md);
      return true;
    } catch {
      return false;
    }
  });
}
