// The cards the hub knows by SHA-256 (a device-sent copy, or a version published on this hub) and the
// monitored features each one declares, for ingest and fleet drift.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { BaselineFeature } from '../../drift/common/index.ts';
import { modelMonitoring } from '../../monitor/common/features.ts';
import { parseCard } from '../../package/common/card.ts';
import type { SqlRunner } from './fleet-schema.ts';
import type { Hub } from './repository.ts';

// Cards are content-addressed: what a sha256 parses to never changes, so it is cached per process.
const cardCache = new Map<string, Map<string, BaselineFeature> | string>();

/** The card a hash names: a device-sent copy (checked against the hash on arrival) or a version published on this hub. */
export async function cardBySha(hub: Hub, sql: SqlRunner, sha: string): Promise<string | undefined> {
  const [row] = await sql.all<{ card: string }>('SELECT card FROM fleet_cards WHERE sha256 = ?', [sha]);
  if (row) return row.card;
  if (!hub.blobs.has(sha)) return undefined;
  const published = (await hub.storage.modelVersions()).find((v) => v.cardSha256 === sha);
  if (!published) return undefined;
  const text = fs.readFileSync(hub.blobs.path(sha), 'utf8');
  if (crypto.createHash('sha256').update(text, 'utf8').digest('hex') !== sha) return undefined;
  return text;
}

/** The monitored features of the card with this hash: undefined when unknown, a string when unusable. */
export async function baselineFeatures(hub: Hub, sql: SqlRunner, sha: string): Promise<Map<string, BaselineFeature> | string | undefined> {
  const cached = cardCache.get(sha);
  if (cached) return cached;
  const text = await cardBySha(hub, sql, sha);
  if (text === undefined) return undefined;
  let out: Map<string, BaselineFeature> | string;
  try {
    const parsed = parseCard(JSON.parse(text));
    if (!parsed.ok) throw new Error('not a valid model card');
    const m = modelMonitoring(parsed.card);
    out = m.status === 'ok' ? new Map(m.features.map((f) => [f.baseline.name, f.baseline])) : `the card of ${parsed.card.name}@${parsed.card.version} has no usable drift baseline`;
  } catch (e) {
    out = `card ${sha.slice(0, 12)}… is unreadable: ${(e as Error).message}`;
  }
  cardCache.set(sha, out);
  return out;
}
