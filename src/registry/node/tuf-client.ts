// tuf-js, configured for an Outpost hub: metadata under the device's trust folder, a fetcher that
// tells "the hub is unreachable" apart from "the hub served something bad", and a listing of the
// signed targets of a model (from metadata tuf-js has just verified and persisted).
import fs from 'node:fs';
import path from 'node:path';
import { Metadata, MetadataKind, type TargetFile, type Targets } from '@tufjs/models';
import { BaseFetcher, Updater } from 'tuf-js';
// tuf-js stops looking for newer roots only on its own HTTP error class (not exported from its index).
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { fileTargetPath, parseTargetPath } from '../../hub/common/target-paths.ts';
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
  constructor(base: string, timeoutMs: number, signal?: AbortSignal) {
    super();
    this.base = base;
    this.timeoutMs = timeoutMs;
    this.signal = signal;
  }
  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), ...(this.signal ? [this.signal] : [])]) });
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
}

export interface HubClient {
  base: string;
  updater: Updater;
  metadataDir: string;
  /** the URL a target is served at (consistent snapshots: hash-prefixed file name) */
  targetUrl(t: TargetFile): string;
  /** the top-level targets metadata tuf-js verified in this refresh (publisher delegations) */
  topTargets(): Metadata<Targets>;
  /** every signed target path in the delegated role(s) responsible for `name` */
  listTargets(name: string): Promise<{ paths: string[]; roles: RoleInfo[] }>;
}

export interface RoleInfo { role: string; keyIds: string[]; metadata: Metadata<Targets> }

export async function connectHub(home: string, url: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<HubClient> {
  const base = hubBase(url);
  prepareHubTrust(home, base);
  const t = trustPaths(home, url);
  const fetcher = new HubFetcher(base, opts.timeoutMs ?? 30_000, opts.signal);
  const updater = new Updater({ metadataDir: t.metadata, metadataBaseUrl: `${base}/metadata`, targetBaseUrl: `${base}/targets`, fetcher, config: { fetchRetries: 0 } });
  try {
    await updater.refresh();
  } catch (e) {
    if (fetcher.networkError) throw new PullUnavailable('metadata', fetcher.networkError, fetcher.tls ? { tls: true } : {});
    throw new PullRefused('metadata', `TUF metadata from ${base} refused: ${(e as Error).message}`);
  }
  const readRole = (role: string): Metadata<Targets> =>
    Metadata.fromJSON(MetadataKind.Targets, JSON.parse(fs.readFileSync(path.join(t.metadata, `${encodeURIComponent(role)}.json`), 'utf8')) as never);

  return {
    base,
    updater,
    metadataDir: t.metadata,
    topTargets: () => readRole('targets'),
    targetUrl: (tf) => {
      const { dir, base: file } = path.posix.parse(tf.path);
      return `${base}/targets/${dir}/${tf.hashes.sha256}.${file}`;
    },
    async listTargets(name) {
      // Walking to a probe path makes tuf-js fetch and verify every role that could hold `name`;
      // the files it then leaves in the metadata folder are exactly the verified ones.
      const probe = fileTargetPath(name, 1, 'card.json');
      try {
        await updater.getTargetInfo(probe);
      } catch (e) {
        if (fetcher.networkError) throw new PullUnavailable('metadata', fetcher.networkError, fetcher.tls ? { tls: true } : {});
        throw new PullRefused('metadata', `delegated targets metadata refused: ${(e as Error).message}`);
      }
      const top = readRole('targets');
      const roles: RoleInfo[] = [];
      const paths = new Set<string>();
      for (const { role } of top.signed.delegations?.rolesForTarget(probe) ?? []) {
        const d = top.signed.delegations?.roles?.[role];
        if (!d || !fs.existsSync(path.join(t.metadata, `${encodeURIComponent(role)}.json`))) continue;
        const md = readRole(role);
        const ids = d.keyIDs.filter((id) => { try { top.signed.delegations?.keys[id]?.verifySignature(md); return Boolean(top.signed.delegations?.keys[id]); } catch { return false; } });
        roles.push({ role, keyIds: ids, metadata: md });
        for (const p of Object.keys(md.signed.targets)) {
          if (!p.startsWith(`${name}/`)) continue;
          // unparseable names are kept so the caller can refuse them; valid ones must be delegated
          if (!parseTargetPath(p).ok || d.isDelegatedPath(p)) paths.add(p);
        }
      }
      return { paths: [...paths].sort(), roles };
    },
  };
}
