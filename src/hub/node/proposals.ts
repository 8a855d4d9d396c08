// Upstream proposals on the hub (docs/SYNC-PROTOCOL.md, "Proposals"): retrained challengers that
// workstations send for a publisher to look at. The upload is unsigned content in a request signed by
// the device key; the hub checks it as a device checks a pull (hashes, model-file safety, card/graph
// agreement) before storing it, so a publisher is never shown a package a device would refuse.
// Accepting one publishes it through `publishPackage` — the publisher's own key signs the targets on
// the publisher's machine; the device key never signs a model and the offline keys are not involved.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import type { PrivateKeyHandle } from '../../keys/node/keys.ts';
import { parseCard, type Card } from '../../package/common/card.ts';
import { deviceChecks } from '../../registry/node/pull.ts';
import { PullRefused } from '../../registry/node/errors.ts';
import { ProposalUploadSchema, type ProposalComparison, type ProposalReceipt } from '../../sync/common/proposal.ts';
import type { DeviceRow } from './devices.ts';
import type { SqlRunner } from './fleet-schema.ts';
import { publishPackage } from './publish-client.ts';
import type { Hub } from './repository.ts';

export type ProposalStatus = 'proposed' | 'accepted' | 'rejected';

export interface HubProposal {
  id: string;
  device: string;
  deviceId: string;
  group: string;
  model: string;
  localVersion: number;
  modelSha256: string;
  cardSha256: string;
  sizeBytes: number;
  comparison: ProposalComparison | null;
  note: string | null;
  receivedAt: string;
  status: ProposalStatus;
  decidedAt: string | null;
  reason: string | null;
  publishedVersion: number | null;
  publishedBy: string | null;
  card: Card;
}

interface Row {
  id: string; device_id: string; device: string; grp: string; model_name: string; local_version: number; model_sha256: string; card_sha256: string;
  card: string; size_bytes: number; comparison: string | null; note: string | null; received_at: number; status: ProposalStatus;
  decided_at: number | null; reason: string | null; published_version: number | null; published_by: string | null;
}

const COLS = `p.id, p.device_id, d.name AS device, d.grp, p.model_name, p.local_version, p.model_sha256, p.card_sha256, p.card, p.size_bytes,
  p.comparison, p.note, p.received_at, p.status, p.decided_at, p.reason, p.published_version, p.published_by`;

const view = (r: Row): HubProposal => ({
  id: r.id, device: r.device, deviceId: r.device_id, group: r.grp, model: r.model_name, localVersion: Number(r.local_version), modelSha256: r.model_sha256,
  cardSha256: r.card_sha256, sizeBytes: Number(r.size_bytes), comparison: r.comparison ? JSON.parse(r.comparison) as ProposalComparison : null, note: r.note,
  receivedAt: new Date(Number(r.received_at)).toISOString(), status: r.status, decidedAt: r.decided_at === null ? null : new Date(Number(r.decided_at)).toISOString(),
  reason: r.reason, publishedVersion: r.published_version === null ? null : Number(r.published_version), publishedBy: r.published_by, card: JSON.parse(r.card) as Card,
});

const sha256 = (b: Uint8Array | string): string => crypto.createHash('sha256').update(b).digest('hex');

/**
 * Check an uploaded proposal (already authenticated: `device` signed the request) and return what to
 * store. Refusals are OutpostErrors naming what is wrong: 'input' (malformed, or bytes that do not
 * match their hashes — tampered in transit or by the sender), 'package' (the device checks failed).
 */
export async function checkProposalUpload(raw: Buffer): Promise<{ name: string; localVersion: number; card: string; cardSha256: string; model: Buffer; modelSha256: string; comparison: ProposalComparison | null; note: string | null }> {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new OutpostError('input', `the proposal is not JSON: ${(e as Error).message}`);
  }
  const parsed = ProposalUploadSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new OutpostError('input', `the proposal is malformed: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  const u = parsed.data;
  const model = Buffer.from(u.model, 'base64');
  if (model.toString('base64') !== u.model.replace(/\s/g, '')) throw new OutpostError('input', 'the proposal\'s model is not valid base64');
  if (sha256(model) !== u.modelSha256) throw new OutpostError('input', `model.onnx does not match its SHA-256 (${u.modelSha256.slice(0, 16)}…): the upload was altered; nothing was stored`);
  if (sha256(u.card) !== u.cardSha256) throw new OutpostError('input', `card.json does not match its SHA-256 (${u.cardSha256.slice(0, 16)}…): the upload was altered; nothing was stored`);
  let rawCard: unknown;
  try {
    rawCard = JSON.parse(u.card);
  } catch (e) {
    throw new OutpostError('package', `the proposal's card.json is not JSON: ${(e as Error).message}`);
  }
  const pc = parseCard(rawCard);
  if (!pc.ok) throw new OutpostError('package', `the proposal's card is not a valid card: ${pc.problems.map((x) => `${x.path}: ${x.message}`).join('; ')}`);
  const card = pc.card;
  if (card.name !== u.name || card.version !== u.localVersion) throw new OutpostError('input', `the card says ${card.name}@${card.version}, the proposal ${u.name}@${u.localVersion}`);
  // The checks every device runs before installing (without the smoke inference: the publisher's
  // `publish` runs that before signing, and every device again before serving).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-proposal-'));
  try {
    fs.writeFileSync(path.join(dir, 'model.onnx'), model);
    fs.writeFileSync(path.join(dir, 'card.json'), u.card);
    await deviceChecks(dir, { name: card.name, version: card.version }, { smoke: false });
  } catch (e) {
    if (e instanceof PullRefused) throw new OutpostError('package', `the proposed package fails the device checks (${e.stage}): ${e.message}`);
    throw e;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { name: u.name, localVersion: u.localVersion, card: u.card, cardSha256: u.cardSha256, model, modelSha256: u.modelSha256, comparison: u.comparison, note: u.note ?? null };
}

/** Store a checked proposal (inside the request's fleet transaction); the same model from the same device is one proposal. */
export async function storeProposal(sql: SqlRunner, device: DeviceRow, p: Awaited<ReturnType<typeof checkProposalUpload>>, now = Date.now()): Promise<ProposalReceipt> {
  const existing = await sql.all<{ id: string; status: string }>('SELECT id, status FROM fleet_proposals WHERE device_id = ? AND model_sha256 = ?', [device.id, p.modelSha256]);
  if (existing.length) return { ok: true, id: existing[0].id, status: existing[0].status, duplicate: true };
  const id = `prop_${crypto.randomBytes(8).toString('hex')}`;
  await sql.run(`INSERT INTO fleet_proposals (id, device_id, model_name, local_version, model_sha256, card_sha256, card, model, size_bytes, comparison, note, received_at, status)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'proposed')`,
  [id, device.id, p.name, p.localVersion, p.modelSha256, p.cardSha256, p.card, p.model, p.model.length + Buffer.byteLength(p.card), p.comparison ? JSON.stringify(p.comparison) : null, p.note, now]);
  await sql.run('INSERT INTO fleet_events (device_id, seq, kind, at, model, summary, detail) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    device.id, -Number.parseInt(id.slice(5, 13), 16), 'proposal', now, `${p.name}@${p.localVersion}`,
    `${device.name} proposed ${p.name}@${p.localVersion} (local) as proposal ${id}${p.comparison ? `: ${p.comparison.decision}` : ''}`, JSON.stringify({ proposal: id, modelSha256: p.modelSha256 }),
  ]);
  return { ok: true, id, status: 'proposed', duplicate: false };
}

export async function listProposals(hub: Hub, opts: { status?: ProposalStatus; model?: string } = {}): Promise<HubProposal[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.status) { where.push('p.status = ?'); params.push(opts.status); }
  if (opts.model) { where.push('p.model_name = ?'); params.push(opts.model); }
  const rows = await hub.storage.fleet.all<Row>(`SELECT ${COLS} FROM fleet_proposals p JOIN fleet_devices d ON d.id = p.device_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY p.received_at DESC, p.id`, params);
  return rows.map(view);
}

export async function getProposal(hub: Hub, id: string): Promise<HubProposal> {
  const [r] = await hub.storage.fleet.all<Row>(`SELECT ${COLS} FROM fleet_proposals p JOIN fleet_devices d ON d.id = p.device_id WHERE p.id = ?`, [id]);
  if (!r) throw new OutpostError('not-found', `no proposal ${id} on this hub (see \`outpost hub proposals list\`)`);
  return view(r);
}

export async function rejectProposal(hub: Hub, id: string, reason: string, now = Date.now()): Promise<HubProposal> {
  const p = await getProposal(hub, id);
  if (p.status !== 'proposed') throw new OutpostError('conflict', `proposal ${id} was already ${p.status}${p.publishedVersion !== null ? ` (published as ${p.model}@${p.publishedVersion})` : ''}`);
  await hub.storage.fleetTransaction(undefined, async (sql) => {
    const n = await sql.run("UPDATE fleet_proposals SET status = 'rejected', decided_at = ?, reason = ? WHERE id = ? AND status = 'proposed'", [now, reason, id]);
    if (n !== 1) throw new OutpostError('conflict', `proposal ${id} was decided meanwhile`);
  });
  return getProposal(hub, id);
}

export interface AcceptOptions {
  /** the hub's URL (the publish goes through the hub's publish API, as `outpost publish` does) */
  hubUrl: string;
  /** the publisher's key(s): they sign the targets metadata here, as in `outpost publish` */
  keys: PrivateKeyHandle[];
  token: string;
  /** the published version (default: the hub's latest of the name + 1) */
  version?: number;
  alias?: string;
  home?: string;
  allowHttp?: boolean;
  signal?: AbortSignal;
  now?: number;
  onProgress?: (e: { stage: string; detail?: string }) => void;
}

/**
 * Publish a proposal: its model.onnx unchanged (re-hashed against what was checked at upload), its
 * card with the published version number and the proposal in its lineage, signed by the publisher's
 * key through the normal publish path (model-file safety, card, smoke inference before signing).
 */
export async function acceptProposal(hub: Hub, id: string, o: AcceptOptions): Promise<{ proposal: HubProposal; version: number; publisher: string; signedBy: string[] }> {
  const p = await getProposal(hub, id);
  if (p.status !== 'proposed') throw new OutpostError('conflict', `proposal ${id} was already ${p.status}${p.publishedVersion !== null ? ` (published as ${p.model}@${p.publishedVersion})` : ''}`);
  const [row] = await hub.storage.fleet.all<{ model: Buffer }>('SELECT model FROM fleet_proposals WHERE id = ?', [id]);
  const model = Buffer.from(row.model);
  if (sha256(model) !== p.modelSha256) throw new OutpostError('package', `proposal ${id}'s stored model no longer matches the SHA-256 checked at upload; refusing to publish it`);
  const latest = await hub.storage.latestVersion(p.model);
  const version = o.version ?? (latest ?? 0) + 1;
  if (latest !== undefined && version <= latest) throw new OutpostError('conflict', `${p.model}@${latest} is already published: the version must be above it (got ${version})`);
  const card: Card = {
    ...p.card,
    version,
    lineage: { ...p.card.lineage, proposal: { hubProposal: id, device: p.device, localVersion: p.localVersion, receivedAt: p.receivedAt, ...(p.comparison ? { comparison: { metric: p.comparison.metric, champion: p.comparison.championScore, challenger: p.comparison.challengerScore, holdoutRows: p.comparison.holdoutRows } } : {}) } },
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-accept-'));
  try {
    fs.writeFileSync(path.join(dir, 'model.onnx'), model);
    fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card, null, 2) + '\n');
    const r = await publishPackage({
      packageDir: dir, hubUrl: o.hubUrl, keys: o.keys, token: o.token, checks: 'full',
      ...(o.alias ? { alias: o.alias } : {}), ...(o.home ? { home: o.home } : {}), ...(o.allowHttp ? { allowHttp: true } : {}),
      ...(o.signal ? { signal: o.signal } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
    if (!r.versions.some((v) => v.name === p.model && v.version === version)) throw new OutpostError('conflict', `the hub did not publish ${p.model}@${version} (already published?)`);
    await hub.storage.fleetTransaction(undefined, async (sql) => {
      await sql.run("UPDATE fleet_proposals SET status = 'accepted', decided_at = ?, published_version = ?, published_by = ? WHERE id = ?", [o.now ?? Date.now(), version, r.publisher, id]);
    });
    return { proposal: await getProposal(hub, id), version, publisher: r.publisher, signedBy: r.signedBy };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
