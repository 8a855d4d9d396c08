// The device's trust in a hub: a root pinned at enrollment (or shipped with the installer) under
// <home>/trust/<hub-id>/metadata/root.json; tuf-js keeps the rest of the trusted metadata next to
// it. Everything read back from here is re-verified, never taken on faith.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Metadata, MetadataKind, type Root, type Timestamp } from '@tufjs/models';
import { OutpostError } from '../../common/errors.ts';
import { rootPolicyFrom, type RootPolicy } from '../../hub/common/root-policy.ts';

/** Normalised hub base URL (no trailing slash). */
export function hubBase(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OutpostError('usage', `"${url}" is not a hub URL (expected http(s)://host[:port])`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new OutpostError('usage', `hub URL must be http or https, got ${u.protocol}`);
  if (u.username || u.password || u.search || u.hash) throw new OutpostError('usage', 'hub URL must not carry credentials, a query or a fragment');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** A stable folder name per hub: readable host part plus a hash of the full base URL. */
export function hubId(url: string): string {
  const base = hubBase(url);
  const host = new URL(base).host.replace(/[^a-zA-Z0-9.-]/g, '_');
  return `${host}-${crypto.createHash('sha256').update(base).digest('hex').slice(0, 12)}`;
}

export const trustPaths = (home: string, url: string) => {
  const dir = path.join(home, 'trust', hubId(url));
  return { dir, metadata: path.join(dir, 'metadata'), hubFile: path.join(dir, 'hub.json'), quarantine: path.join(home, 'quarantine', hubId(url)) };
};

function parseRootBytes(bytes: Buffer, file: string): Metadata<Root> {
  let md: Metadata<Root>;
  try {
    md = Metadata.fromJSON(MetadataKind.Root, JSON.parse(bytes.toString('utf8')) as never);
    md.verifyDelegate('root', md); // a root must at least be signed by its own root keys
  } catch (e) {
    throw new OutpostError('input', `not a valid signed TUF root: ${(e as Error).message}`, { file });
  }
  return md;
}

export const isEnrolled = (home: string, url: string): boolean => fs.existsSync(path.join(trustPaths(home, url).metadata, 'root.json'));

/** Pin a hub's root (first configuration). Re-pinning the same root is a no-op; a different one is refused. */
export function pinRoot(home: string, url: string, rootFile: string): { hubId: string; rootVersion: number; rootKeyIds: string[]; alreadyPinned: boolean } {
  const t = trustPaths(home, url);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(rootFile);
  } catch (e) {
    throw new OutpostError('input', `cannot read the root: ${(e as Error).message}`, { file: rootFile });
  }
  const root = parseRootBytes(bytes, rootFile);
  const info = { hubId: hubId(url), rootVersion: root.signed.version, rootKeyIds: root.signed.roles.root.keyIDs };
  if (isEnrolled(home, url)) {
    const pinned = JSON.parse(fs.readFileSync(t.hubFile, 'utf8')) as { pinnedRootSha256: string };
    const sha = crypto.createHash('sha256').update(bytes).digest('hex');
    if (pinned.pinnedRootSha256 === sha) return { ...info, alreadyPinned: true };
    throw new OutpostError('conflict', `this device already trusts a root for ${hubBase(url)}; root changes arrive from the hub as cross-signed rotations (to start over, remove ${t.dir})`, { file: rootFile });
  }
  fs.mkdirSync(t.metadata, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(t.metadata, 'root.json'), bytes, { mode: 0o600 });
  fs.writeFileSync(t.hubFile, JSON.stringify({ url: hubBase(url), pinnedAt: new Date().toISOString(), pinnedRootSha256: crypto.createHash('sha256').update(bytes).digest('hex'), pinnedRootVersion: root.signed.version }, null, 2) + '\n', { mode: 0o600 });
  return { ...info, alreadyPinned: false };
}

/**
 * Undo the pin of a root this pull made when the hub's metadata turned out not to be signed by keys
 * it names (the wrong hub's root.json): the operator can then pass the right one. The hub's TLS
 * trust kept beside it (`ca.pem`) stays.
 */
export function unpinRoot(home: string, url: string): void {
  const t = trustPaths(home, url);
  fs.rmSync(t.metadata, { recursive: true, force: true });
  fs.rmSync(t.hubFile, { force: true });
}

export interface TrustedState { root: Metadata<Root>; timestamp?: Metadata<Timestamp>; policy: RootPolicy }

/** The locally trusted root and timestamp, re-verified (offline: no network). */
export function readTrustedState(home: string, url: string): TrustedState {
  const t = trustPaths(home, url);
  const rootFile = path.join(t.metadata, 'root.json');
  if (!fs.existsSync(rootFile)) throw new OutpostError('not-found', `this device has no trusted root for ${hubBase(url)}`);
  const root = parseRootBytes(fs.readFileSync(rootFile), rootFile);
  let timestamp: Metadata<Timestamp> | undefined;
  const tsFile = path.join(t.metadata, 'timestamp.json');
  if (fs.existsSync(tsFile)) {
    try {
      const md = Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(fs.readFileSync(tsFile, 'utf8')) as never);
      root.verifyDelegate('timestamp', md);
      timestamp = md;
    } catch {
      timestamp = undefined; // unverifiable local copy: as if never refreshed
    }
  }
  return { root, timestamp, policy: rootPolicyFrom(root.signed.unrecognizedFields) };
}
