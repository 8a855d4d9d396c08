// The hub's model catalog (`GET /api/v1/models`, public) and the console's Models screen (admin): every
// published version with who signed it and when, the aliases now and how they moved (read back from
// the publishers' signed targets metadata, version by version), the card's lineage and task, yanked
// versions, and which devices run which version (their last heartbeats). App releases
// (`outpost-app-<os>-<arch>`, published under the model naming) are not models: both leave them out;
// `outpost app update` finds them through the signed targets metadata, not through this catalog.
import fs from 'node:fs';
import { isReleaseName } from '../common/app-release.ts';
import type { ModelOverview } from '../common/fleet-views.ts';
import { parseAliasDocument, parseTargetPath } from '../common/target-paths.ts';
import { listDevices, type DeviceView } from './devices.ts';
import { cardBySha } from './ingest.ts';
import type { Hub } from './repository.ts';

export type { ModelOverview } from '../common/fleet-views.ts';

export interface CatalogModel {
  name: string;
  latest: number;
  /** `yanked`: its publisher withdrew it (signed); devices refuse to install it */
  versions: { version: number; publisher: string; signedBy: string[]; signedAt: string; publishedAt: string; modelSha256: string; sizeBytes: number; yanked: boolean }[];
  aliases: Record<string, number>;
}

interface TargetsBody { signed: { targets: Record<string, { hashes: Record<string, string> }> } }

/**
 * The versions yanked now (`name@version`): the yank targets in each publisher's latest signed
 * targets metadata (a publisher's role keeps its yanks; bins hold only the package files).
 */
export async function yankedVersions(hub: Hub, publishers: Iterable<string>): Promise<Set<string>> {
  const yanked = new Set<string>();
  for (const role of new Set(publishers)) {
    const latest = await hub.storage.latestMetadata(role);
    if (!latest) continue;
    for (const p of Object.keys((JSON.parse(latest.body) as TargetsBody).signed.targets)) {
      const t = parseTargetPath(p);
      if (t.ok && t.path.kind === 'yank') yanked.add(`${t.path.name}@${t.path.version}`);
    }
  }
  return yanked;
}

export async function catalog(hub: Hub, name?: string): Promise<CatalogModel[]> {
  const versions = (await hub.storage.modelVersions(name)).filter((v) => !isReleaseName(v.name));
  const aliases = await hub.storage.aliases(name);
  const yanked = await yankedVersions(hub, versions.map((v) => v.publisher));
  const byName = new Map<string, CatalogModel>();
  for (const v of versions) {
    let m = byName.get(v.name);
    if (!m) { m = { name: v.name, latest: 0, versions: [], aliases: {} }; byName.set(v.name, m); }
    m.latest = Math.max(m.latest, v.version);
    m.versions.push({ version: v.version, publisher: v.publisher, signedBy: v.signedBy, signedAt: v.signedAt, publishedAt: v.publishedAt, modelSha256: v.modelSha256, sizeBytes: v.sizeBytes, yanked: yanked.has(`${v.name}@${v.version}`) });
  }
  for (const a of aliases) { const m = byName.get(a.name); if (m) m.aliases[a.alias] = a.version; }
  return [...byName.values()];
}

/** Each publisher's alias moves, from its targets metadata versions (oldest first). */
async function aliasHistory(hub: Hub, publishers: Set<string>): Promise<ModelOverview['aliasHistory'][number][]> {
  const moves: ModelOverview['aliasHistory'][number][] = [];
  const docs = new Map<string, number | undefined>();
  for (const role of publishers) {
    const latest = await hub.storage.latestMetadata(role);
    if (!latest) continue;
    const current = new Map<string, number>();
    for (let v = 1; v <= latest.version; v++) {
      const row = v === latest.version ? latest : await hub.storage.metadata(role, v);
      if (!row) continue;
      const targets = (JSON.parse(row.body) as TargetsBody).signed.targets;
      const seen = new Set<string>();
      for (const [p, t] of Object.entries(targets)) {
        const a = parseTargetPath(p);
        if (!a.ok) continue;
        if (a.path.kind !== 'alias') continue;
        const sha = t.hashes.sha256 ?? '';
        if (!docs.has(sha)) {
          const text = hub.blobs.has(sha) ? fs.readFileSync(hub.blobs.path(sha), 'utf8') : undefined;
          const d = text === undefined ? undefined : parseAliasDocument(text, a.path);
          docs.set(sha, d?.ok ? d.doc.version : undefined);
        }
        const version = docs.get(sha);
        const key = `${a.path.name}:${a.path.alias}`;
        seen.add(key);
        if (version === undefined || current.get(key) === version) continue;
        current.set(key, version);
        moves.push({ model: a.path.name, alias: a.path.alias, version, publisher: role, at: row.createdAt, metadataVersion: v });
      }
      for (const key of [...current.keys()].filter((k) => !seen.has(k))) {
        current.delete(key);
        const [model, alias] = key.split(':');
        moves.push({ model, alias, version: null, publisher: role, at: row.createdAt, metadataVersion: v });
      }
    }
  }
  return moves;
}

/** Every published model with its versions, aliases (now and before), lineage and the devices running each version. */
export async function modelsOverview(hub: Hub, opts: { devices?: DeviceView[] } = {}): Promise<ModelOverview[]> {
  const rows = (await hub.storage.modelVersions()).filter((v) => !isReleaseName(v.name));
  const aliases = await hub.storage.aliases();
  const devices = opts.devices ?? await listDevices(hub);
  const running = new Map<string, string[]>();
  const installed = new Map<string, number>();
  for (const d of devices) {
    if (d.revokedAt !== null) continue;
    for (const m of d.active) {
      const k = `${m.name}@${m.version}`;
      running.set(k, [...(running.get(k) ?? []), d.name]);
    }
    for (const m of d.state?.models ?? []) installed.set(`${m.name}@${m.version}`, (installed.get(`${m.name}@${m.version}`) ?? 0) + 1);
  }
  const publishers = new Set(rows.map((r) => r.publisher));
  const moves = await aliasHistory(hub, publishers);
  const yanked = await yankedVersions(hub, publishers);
  const byName = new Map<string, ModelOverview>();
  for (const v of [...rows].sort((a, b) => a.name.localeCompare(b.name) || b.version - a.version)) {
    let m = byName.get(v.name);
    if (!m) {
      m = { name: v.name, latest: v.version, versions: [], aliases: [], aliasHistory: moves.filter((x) => x.model === v.name).reverse(), unpublishedRunning: [] };
      byName.set(v.name, m);
    }
    const text = await cardBySha(hub, hub.storage.fleet, v.cardSha256);
    let card: Record<string, unknown> = {};
    try { card = text ? JSON.parse(text) as Record<string, unknown> : {}; } catch { card = {}; }
    const k = `${v.name}@${v.version}`;
    m.versions.push({
      version: v.version, publisher: v.publisher, signedBy: v.signedBy, signedAt: v.signedAt, publishedAt: v.publishedAt, modelSha256: v.modelSha256, cardSha256: v.cardSha256,
      sizeBytes: v.sizeBytes, task: typeof card.task === 'string' ? card.task : null, description: typeof card.description === 'string' ? card.description : null,
      lineage: card.lineage && typeof card.lineage === 'object' ? card.lineage as Record<string, unknown> : null,
      yanked: yanked.has(k), runningOn: (running.get(k) ?? []).sort(), installedOn: installed.get(k) ?? 0,
    });
  }
  for (const a of aliases) byName.get(a.name)?.aliases.push({ alias: a.alias, version: a.version, publisher: a.publisher, updatedAt: a.updatedAt });
  // versions devices run that this hub never published (local or retrained models, another hub's)
  for (const [k, names] of running) {
    const at = k.lastIndexOf('@');
    const m = byName.get(k.slice(0, at));
    const version = Number(k.slice(at + 1));
    if (m && !m.versions.some((v) => v.version === version)) m.unpublishedRunning.push({ version, runningOn: names.sort() });
  }
  return [...byName.values()];
}
