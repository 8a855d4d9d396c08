// tuf-js, configured for an Outpost hub: metadata under the device's trust folder, a fetcher that
// tells "the hub is unreachable" apart from "the hub served something bad", and a listing of the
// signed targets of a model (from metadata tuf-js has just verified and persisted).
import fs from 'node:fs';
import path from 'node:path';
import { Metadata, MetadataKind, type TargetFile, type Targets } from '@tufjs/models';
import { BaseFetcher, Updater } from 'tuf-js';
// tuf-js stops looking for newer roots only on its own HTTP error class (not exported from its index).
import { DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js';
// a document whose signatures the trusted root (or its delegate) does not accept
import { UnsignedMetadataError } from '@tufjs/models/dist/error.js';
import { aliasTargetPath, parseTargetPath } from '../../hub/common/target-paths.ts';
import { yankedVersions } from '../common/pull-policy.ts';
import { binProbePath, blockOf, parseBinPaths } from '../../hub/common/version-bins.ts';
import { PullRefused, PullUnavailable } from './errors.ts';
import { connectionFailure, prepareHubTrust } from './hub-tls.ts';
import { hubBase, trustPaths } from './trust.ts';

class HubFetcher extends BaseFetcher {
  /** why the hub could not be reached (its words: unreachable, or the TLS reason) */
  networkError: string | undefined;
  tls = false;
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
  readonly base: string;
  readonly fetchImpl: typeof fetch;
  constructor(base: string, timeoutMs: number, signal?: AbortSignal, fetchImpl: typeof fetch = fetch) {
    super();
    this.base = base;
    this.fetchImpl = fetchImpl;
    this.timeoutMs = timeoutMs;
    this.signal = signal;
  }
  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    let res: Response;
    try {
      res = await this.fetchImpl(url, { signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), ...(this.signal ? [this.signal] : [])]) });
    } catch (e) {
      const f = connectionFailure(this.base, e);
      this.networkError = f.message;
      this.tls = f.tls;
      throw e;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      // The hub is there but cannot answer now (overloaded, its database down): unavailability, not an attack.
      if (res.status >= 500 || res.status === 429 || res.status === 408) this.networkError = `the hub at ${this.base} is unavailable (it answered ${res.status})`;
      throw new DownloadHTTPError(`the hub answered ${res.status} for ${url}`, res.status);
    }
    return res.body as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
  /**
   * A metadata document, read into memory with tuf-js's length bound. tuf-js's own `downloadBytes`
   * spools every document through a temporary file (mkdtemp, write, close, read back, remove):
   * thread-pool hops that cost ~4 ms per document, most of a pull's TUF refresh. Documents are
   * small and bounded by `maxLength`; what tuf-js does with the bytes is unchanged.
   */
  override async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    const reader = (await this.fetch(url)).getReader();
    const chunks: Uint8Array[] = [];
    let received = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.length;
        if (received > maxLength) {
          await reader.cancel();
          throw new DownloadLengthMismatchError('Max length reached');
        }
        chunks.push(value);
      }
    } finally {
      reader.releaseLock();
    }
    return Buffer.concat(chunks, received);
  }
}

export interface HubClient {
  base: string;
  updater: Updater;
  /** where the bytes come from when not the network (a bundle) */
  fetch?: typeof fetch;
  metadataDir: string;
  /** the URL a target is served at (consistent snapshots: hash-prefixed file name) */
  targetUrl(t: TargetFile): string;
  /** the top-level targets metadata tuf-js verified in this refresh (publisher delegations) */
  topTargets(): Metadata<Targets>;
  /**
   * The signed target paths for `name` in the roles responsible for it: the publisher's own targets
   * (aliases, yanks; every file in a repository from before version bins) and those of the version
   * bins loaded — the bins of `versions` when given, else from the newest block down to the first
   * that holds a version that is not yanked (`all`: every bin). Only those bins are fetched.
   */
  listTargets(name: string, want?: { versions?: number[]; all?: boolean }): Promise<{ paths: string[]; roles: RoleInfo[] }>;
}

/** A role that signs targets of a model: the publisher's own role or one of its version bins (`publisher` names the team either way). */
export interface RoleInfo { role: string; publisher: string; keyIds: string[]; metadata: Metadata<Targets> }

/** The parts of tuf-js's Updater the two adjustments below wrap (not in its typings). */
interface UpdaterInternals {
  loadTargets(role: string, parent: string): Promise<Metadata<Targets> | undefined>;
  trustedSet: { getRole(role: string): Metadata<Targets> | undefined; snapshot?: { signed: { meta: Record<string, unknown> } } };
}

/**
 * A publisher the operator has delegated to but who has signed nothing yet has no targets metadata,
 * so the hub's (signed) snapshot does not list it. tuf-js 6 reads that missing snapshot entry without
 * a check ("Cannot read properties of undefined (reading 'length')") when a walk reaches such a role.
 * Such a role holds no targets: its walk step yields nothing and the walk goes on to the next role —
 * what tuf-js's pre-order walk already does for a role it gets no metadata for. A role the snapshot
 * does list goes through tuf-js unchanged (download, signatures, version, hashes).
 */
function skipUnpublishedRoles(updater: Updater): void {
  const u = updater as unknown as UpdaterInternals;
  const load = u.loadTargets.bind(updater);
  u.loadTargets = async (role, parent) => {
    const snapshot = u.trustedSet.snapshot;
    if (!u.trustedSet.getRole(role) && snapshot && !Object.hasOwn(snapshot.signed.meta, `${role}.json`)) return undefined;
    return load(role, parent);
  };
}

/**
 * tuf-js checks the signatures of a role it already holds again each time a walk passes through it
 * (`loadTargets` of a cached role: `verifyDelegate`). A pull walks the same three roles seven or
 * eight times (the alias, the probe, version bins, each file), 25 signature checks where 8 differ.
 * The trusted set's metadata objects are never changed in place (an update replaces them), so a
 * delegator object that accepted a role object once accepts it again: that pair is checked once.
 * A new version of either, loaded fresh, is a new object and is checked as before.
 */
function verifyEachDelegationOnce(updater: Updater): void {
  const u = updater as unknown as UpdaterInternals;
  const load = u.loadTargets.bind(updater);
  const accepted = new WeakMap<Metadata<Targets>, WeakSet<Metadata<Targets>>>();
  u.loadTargets = async (role, parent) => {
    const delegator = u.trustedSet.getRole(parent);
    const held = u.trustedSet.getRole(role);
    if (delegator && held && accepted.get(delegator)?.has(held)) return held;
    const got = await load(role, parent); // verified under the delegator (or it threw)
    const by = u.trustedSet.getRole(parent);
    if (got && by) {
      const roles = accepted.get(by) ?? new WeakSet();
      roles.add(got);
      accepted.set(by, roles);
    }
    return got;
  };
}

/**
 * tuf-js's reason without its wrappers: "Unable to load snapshot metadata error Error: Expected hash
 * … but got …" reads "snapshot metadata: Expected hash … but got …".
 */
export function tufReason(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .replace(/^Unable to load (\w+) metadata error (?:\w*Error: )?/, '$1 metadata: ')
    .replace(/^Unable to load targets error (?:\w*Error: )?/, '');
}

export async function connectHub(home: string, url: string, opts: { signal?: AbortSignal; timeoutMs?: number; fetch?: typeof fetch } = {}): Promise<HubClient> {
  const base = hubBase(url);
  if (!opts.fetch) prepareHubTrust(home, base); // a bundle (opts.fetch) involves no TLS connection
  const t = trustPaths(home, url);
  const fetcher = new HubFetcher(base, opts.timeoutMs ?? 30_000, opts.signal, opts.fetch);
  const updater = new Updater({ metadataDir: t.metadata, metadataBaseUrl: `${base}/metadata`, targetBaseUrl: `${base}/targets`, fetcher, config: { fetchRetries: 0 } });
  skipUnpublishedRoles(updater);
  verifyEachDelegationOnce(updater);
  try {
    await updater.refresh();
  } catch (e) {
    if (fetcher.networkError) throw new PullUnavailable('metadata', fetcher.networkError, fetcher.tls ? { tls: true } : {});
    // untrustedSignatures: the hub's root chain or timestamp is not signed by keys this device's root names (another hub's root?)
    throw new PullRefused('metadata', `TUF metadata from ${base} refused: ${tufReason(e)}`, e instanceof UnsignedMetadataError ? { untrustedSignatures: true } : {});
  }
  const readRole = (role: string): Metadata<Targets> =>
    Metadata.fromJSON(MetadataKind.Targets, JSON.parse(fs.readFileSync(path.join(t.metadata, `${encodeURIComponent(role)}.json`), 'utf8')) as never);

  return {
    base,
    updater,
    fetch: opts.fetch,
    metadataDir: t.metadata,
    topTargets: () => readRole('targets'),
    targetUrl: (tf) => {
      const { dir, base: file } = path.posix.parse(tf.path);
      return `${base}/targets/${dir}/${tf.hashes.sha256}.${file}`;
    },
    async listTargets(name, want = {}) {
      // Walking to a probe path makes tuf-js fetch and verify every role that could hold `name`;
      // the files it then leaves in the metadata folder are exactly the verified ones. The probe
      // (an alias path) is delegated to the publisher's role and to none of its version bins.
      const walk = async (probe: string) => {
        try {
          await updater.getTargetInfo(probe);
        } catch (e) {
          if (fetcher.networkError) throw new PullUnavailable('metadata', fetcher.networkError, fetcher.tls ? { tls: true } : {});
          throw new PullRefused('metadata', `delegated targets metadata refused: ${tufReason(e)}`);
        }
      };
      const probe = aliasTargetPath(name, 'outpost-probe');
      await walk(probe);
      const top = readRole('targets');
      const roles: RoleInfo[] = [];
      const paths = new Set<string>();
      const collect = (role: string, publisher: string, md: Metadata<Targets>, keyIds: string[], delegated: (p: string) => boolean) => {
        roles.push({ role, publisher, keyIds, metadata: md });
        for (const p of Object.keys(md.signed.targets)) {
          if (!p.startsWith(`${name}/`)) continue;
          // unparseable names are kept so the caller can refuse them; valid ones must be delegated
          if (!parseTargetPath(p).ok || delegated(p)) paths.add(p);
        }
      };
      for (const { role } of top.signed.delegations?.rolesForTarget(probe) ?? []) {
        const d = top.signed.delegations?.roles?.[role];
        if (!d || !fs.existsSync(path.join(t.metadata, `${encodeURIComponent(role)}.json`))) continue;
        const md = readRole(role);
        const ids = d.keyIDs.filter((id) => { try { top.signed.delegations?.keys[id]?.verifySignature(md); return Boolean(top.signed.delegations?.keys[id]); } catch { return false; } });
        collect(role, role, md, ids, (p) => d.isDelegatedPath(p));
        // version bins of this model, newest block first
        const bins = Object.values(md.signed.delegations?.roles ?? {}).flatMap((b) => {
          const at = parseBinPaths(b.paths ?? []);
          return at && at.model === name ? [{ role: b, block: at.block }] : [];
        }).sort((a, b) => b.block - a.block);
        const yanked = yankedVersions([...paths], name);
        const wanted = want.versions ? new Set(want.versions.map(blockOf)) : undefined;
        for (const { role: b, block } of bins) {
          if (wanted && !wanted.has(block)) continue;
          await walk(binProbePath(name, block));
          if (!fs.existsSync(path.join(t.metadata, `${encodeURIComponent(b.name)}.json`))) continue;
          const bin = readRole(b.name);
          const before = paths.size;
          collect(b.name, role, bin, ids, (p) => b.isDelegatedPath(p) && d.isDelegatedPath(p));
          if (wanted || want.all) continue;
          // enough for "the newest version": a block holding a version that is not yanked
          const found = [...paths].slice(before).some((p) => { const x = parseTargetPath(p); return x.ok && x.path.kind === 'file' && !yanked.has(x.path.version); });
          if (found) break;
        }
      }
      return { paths: [...paths].sort(), roles };
    },
  };
}
