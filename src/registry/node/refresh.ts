// Metadata refresh without installing anything: `outpost models check`, and what fleet sync calls on
// every sync. For each hub that installed models came from: a TUF refresh (root rotations, new
// timestamp — which is what keeps installed models servable offline), then for every installed
// version of that hub whether its publisher still signs it, or yanked it (with the reason). A hub
// that cannot be reached is reported as unavailable, not as a security event; metadata that fails
// verification is refused and recorded as one.
import fs from 'node:fs';
import { OutpostError } from '../../common/errors.ts';
import { fileTargetPath } from '../../hub/common/target-paths.ts';
import { listModels, recordSecurityEvent, setHubStatus, type InstalledModel } from '../../store/node/models.ts';
import { openStore, type Store } from '../../store/node/store.ts';
import { yankedVersions } from '../common/pull-policy.ts';
import { PullRefused, PullUnavailable } from './errors.ts';
import { yankReason } from './pull.ts';
import { connectHub } from './tuf-client.ts';
import { hubBase, isEnrolled, readTrustedState, trustPaths } from './trust.ts';

export type ModelHubStatus = 'ok' | 'yanked' | 'revoked';

export interface HubRefresh {
  hub: string;
  /** 'ok': refreshed and verified; 'unavailable': could not be reached (nothing changed); 'refused': metadata failed verification */
  state: 'ok' | 'unavailable' | 'refused';
  message?: string;
  /** the new timestamp's expiry (how long installed models stay servable offline, before the grace period) */
  expires?: string;
  models: { name: string; version: number; status: ModelHubStatus; detail?: string }[];
}

export interface RefreshOptions {
  home: string;
  store?: Store;
  /** refresh only this hub (default: every hub an installed model came from) */
  hubUrl?: string;
  signal?: AbortSignal;
}

async function refreshHub(store: Store, home: string, base: string, models: InstalledModel[], signal?: AbortSignal): Promise<HubRefresh> {
  let client;
  try {
    client = await connectHub(home, base, { signal });
  } catch (e) {
    if (e instanceof PullUnavailable) return { hub: base, state: 'unavailable', message: e.message, models: [] };
    if (e instanceof PullRefused) {
      recordSecurityEvent(store, 'refresh-refused:metadata', null, `${base}: ${e.message}`);
      return { hub: base, state: 'refused', message: e.message, models: [] };
    }
    throw e;
  }
  const out: HubRefresh = { hub: base, state: 'ok', expires: readTrustedState(home, base).timestamp?.signed.expires, models: [] };
  const quarantine = trustPaths(home, base).quarantine;
  fs.mkdirSync(quarantine, { recursive: true });
  const byName = new Map<string, InstalledModel[]>();
  for (const m of models) byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
  for (const [name, versions] of byName) {
    let listed;
    try {
      listed = await client.listTargets(name, { versions: versions.map((m) => m.version) });
    } catch (e) {
      if (e instanceof PullUnavailable) return { ...out, state: 'unavailable', message: e.message };
      if (e instanceof PullRefused) {
        recordSecurityEvent(store, 'refresh-refused:metadata', name, `${base}: ${e.message}`);
        return { ...out, state: 'refused', message: e.message };
      }
      throw e;
    }
    const yanked = yankedVersions(listed.paths, name);
    for (const m of versions) {
      const signed = listed.paths.includes(fileTargetPath(name, m.version, 'model.onnx'));
      if (!signed) {
        const detail = `${base} no longer signs ${name}@${m.version} (its publisher's delegation was revoked or changed)`;
        setHubStatus(store, name, m.version, 'revoked', detail);
        out.models.push({ name, version: m.version, status: 'revoked', detail });
      } else if (yanked.has(m.version)) {
        const reason = await yankReason(client, name, m.version, quarantine, signal);
        setHubStatus(store, name, m.version, 'yanked', reason);
        out.models.push({ name, version: m.version, status: 'yanked', detail: reason });
      } else {
        setHubStatus(store, name, m.version, null, null);
        out.models.push({ name, version: m.version, status: 'ok' });
      }
    }
  }
  return out;
}

/** Refresh the signed metadata of every hub installed models came from (or one hub); installs nothing. */
export async function refreshMetadata(opts: RefreshOptions): Promise<HubRefresh[]> {
  const store = opts.store ?? openStore(opts.home);
  try {
    const hubModels = listModels(store).filter((m) => m.source === 'hub' && m.origin);
    const hubs = new Map<string, InstalledModel[]>();
    if (opts.hubUrl !== undefined) {
      const base = hubBase(opts.hubUrl);
      if (!isEnrolled(opts.home, base)) throw new OutpostError('usage', `this device does not trust ${base} yet: pull from it once with --root <root.json>`);
      hubs.set(base, []);
    }
    for (const m of hubModels) {
      if (opts.hubUrl !== undefined && m.origin !== hubBase(opts.hubUrl)) continue;
      hubs.set(m.origin!, [...(hubs.get(m.origin!) ?? []), m]);
    }
    const out: HubRefresh[] = [];
    for (const [base, models] of hubs) {
      if (!isEnrolled(opts.home, base)) { out.push({ hub: base, state: 'refused', message: `no trusted root for ${base} on this device`, models: [] }); continue; }
      out.push(await refreshHub(store, opts.home, base, models, opts.signal));
    }
    return out;
  } finally {
    if (!opts.store) store.close();
  }
}
