// What the hub answers about its fleet: events (alerts, security, model changes, dropped items)
// and fleet drift — the devices' window statistics merged exactly with src/drift's merge and
// reported against the card's baseline, like `outpost drift` on one workstation.
export type { DeviceDetail, FleetEvent, FleetJob, SyncRecord } from '../common/fleet-views.ts';
import { OutpostError, quote } from '../../common/errors.ts';
import { LIKE_ESCAPE, likeLiteral } from '../../common/sql-like.ts';
import { driftReport, mergeStats, statsFromJSON, type DriftReport, type FeatureStats } from '../../drift/common/index.ts';
import { modelMonitoring } from '../../monitor/common/features.ts';
import { isoTime, WINDOW_MS, windowStart, type WindowWidth } from '../../monitor/common/windows.ts';
import { parseCard } from '../../package/common/card.ts';
import { cardBySha } from './fleet-cards.ts';
import { mergedOverRange, type RangeQuery } from './fleet-rollups.ts';
import type { DeviceDetail, FleetEvent } from '../common/fleet-views.ts';
import { parseModelVersion } from '../common/target-paths.ts';
import { listDevices } from './devices.ts';
import type { Hub } from './repository.ts';

export interface FleetEventQuery { limit?: number; kinds?: string[]; device?: string; group?: string; model?: string; since?: number }

/** Events across the fleet, newest first (`outpost hub events` and the console's Events screen). */
export async function listFleetEvents(hub: Hub, q: FleetEventQuery = {}): Promise<FleetEvent[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.device !== undefined) { where.push('d.name = ?'); args.push(q.device); }
  if (q.group !== undefined) { where.push('d.grp = ?'); args.push(q.group); }
  if (q.model !== undefined) { where.push(`(e.model = ? OR e.model LIKE ? ${LIKE_ESCAPE})`); args.push(q.model, `${likeLiteral(q.model)}@%`); }
  if (q.since !== undefined) { where.push('e.at >= ?'); args.push(q.since); }
  if (q.kinds?.length) { where.push(`(${q.kinds.map(() => `e.kind LIKE ? ${LIKE_ESCAPE}`).join(' OR ')})`); args.push(...q.kinds.map((k) => `${likeLiteral(k)}%`)); }
  const rows = await hub.storage.fleet.all<{ name: string; grp: string; seq: number; kind: string; at: number; model: string | null; summary: string; detail: string }>(
    `SELECT d.name, d.grp, e.seq, e.kind, e.at, e.model, e.summary, e.detail FROM fleet_events e JOIN fleet_devices d ON d.id = e.device_id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.at DESC, d.name, e.seq DESC LIMIT ?`, [...args, q.limit ?? 100]);
  const events: FleetEvent[] = rows.map((r) => ({ device: r.name, group: r.grp, seq: Number(r.seq), kind: r.kind, at: isoTime(Number(r.at)), model: r.model, summary: r.summary, detail: JSON.parse(r.detail) as unknown }));
  // The hub's own security event: a device it revoked (seq 0: not an item of the device's outbox).
  if (q.model === undefined && (!q.kinds?.length || q.kinds.some((k) => REVOKED_KIND.startsWith(k)))) {
    const dw = where.filter((w) => w.startsWith('d.'));
    const revoked = await hub.storage.fleet.all<{ name: string; grp: string; revoked_at: number }>(
      `SELECT d.name, d.grp, d.revoked_at FROM fleet_devices d WHERE d.revoked_at IS NOT NULL${dw.map((w) => ` AND ${w}`).join('')}${q.since !== undefined ? ' AND d.revoked_at >= ?' : ''}
       ORDER BY d.revoked_at DESC LIMIT ?`, [...args.slice(0, dw.length), ...(q.since !== undefined ? [q.since] : []), q.limit ?? 100]);
    for (const r of revoked) {
      events.push({ device: r.name, group: r.grp, seq: 0, kind: REVOKED_KIND, at: isoTime(Number(r.revoked_at)), model: null, summary: `device revoked on the hub: its requests are refused`, detail: {} });
    }
    events.sort((a, b) => b.at.localeCompare(a.at) || a.device.localeCompare(b.device) || b.seq - a.seq);
    events.length = Math.min(events.length, q.limit ?? 100);
  }
  return events;
}

/** The kind of the event the hub records itself when a device is revoked (a security event). */
export const REVOKED_KIND = 'security-device-revoked';

export interface FleetDriftOptions { group?: string; window?: WindowWidth; last?: number; now?: number }

export interface FleetDriftResult {
  model: string;
  version: number;
  cardSha256: string;
  group: string | null;
  description: string;
  devices: string[];
  /** devices whose statistics were built on another card of this version (not merged, named) */
  excluded: { device: string; cardSha256: string }[];
  referenceRows: number;
  rows: number;
  report: DriftReport;
  windows?: { start: string; rows: number; devices: number; report: DriftReport | null }[];
  /** the merged statistics per feature (JSON of src/drift's structures) */
  stats: Record<string, unknown>;
}

const rowsOf = (stats: ReadonlyMap<string, FeatureStats>): number => Math.max(0, ...[...stats.values()].map((s) => s.rows));

/** What fleetDrift computed on the way (for the console's drift view, which needs the baselines and windows). */
export interface FleetDriftParts {
  result: FleetDriftResult;
  monitoring: Extract<ReturnType<typeof modelMonitoring>, { status: 'ok' }>;
  /** the merged statistics over every window read */
  total: Map<string, FeatureStats>;
  /** the same per group (from the same rollup rows) */
  byGroup: Map<string, Map<string, FeatureStats>>;
  /** the first window start read (MIN_SAFE_INTEGER: everything) and the width */
  first: number;
  width: WindowWidth;
  /** the windows merged: [lo, hi] of this card (hi < lo: none), for more merges over the same range */
  range: RangeQuery;
}

/** `outpost hub drift` and the console's Fleet drift: the exact merge of the devices' windows. */
export async function fleetDrift(hub: Hub, ref: string, opts: FleetDriftOptions = {}): Promise<FleetDriftResult> {
  return (await fleetDriftParts(hub, ref, opts)).result;
}

export async function fleetDriftParts(hub: Hub, ref: string, opts: FleetDriftOptions = {}): Promise<FleetDriftParts> {
  const asked = parseModelVersion(ref);
  if (!asked.ok) throw new OutpostError('usage', asked.reason);
  const name = asked.name;
  const fleet = hub.storage.fleet;
  let version = asked.version;
  if (version === undefined) {
    const [v] = await fleet.all<{ v: number | null }>('SELECT max(model_version) AS v FROM fleet_windows WHERE model_name = ?', [name]);
    if (v?.v === null || v?.v === undefined) throw new OutpostError('not-found', `no device has synced drift statistics for ${quote(name)}`);
    version = Number(v.v);
  }
  const width: WindowWidth = opts.window ?? 'day';
  const groupSql = opts.group !== undefined ? ' AND d.grp = ?' : '';
  const groupArgs = opts.group !== undefined ? [opts.group] : [];
  const now = opts.now ?? Date.now();
  const first = opts.window ? windowStart(width, now) - ((opts.last ?? (width === 'hour' ? 24 : 30)) - 1) * WINDOW_MS[width] : Number.MIN_SAFE_INTEGER;
  // Which devices contributed, and on which card: one row per device and card (fleet-rollups.ts)
  const contributors = await fleet.all<{ name: string; card_sha256: string }>(
    `SELECT d.name, s.card_sha256 FROM fleet_drift_devices s JOIN fleet_devices d ON d.id = s.device_id
     WHERE s.model_name = ? AND s.model_version = ? AND s.width = ? AND s.last_start >= ?${groupSql} ORDER BY d.name, s.card_sha256`,
    [name, version, width, first, ...groupArgs]);
  const id = `${name}@${version}`;
  if (!contributors.length) throw new OutpostError('not-found', `no synced drift statistics for ${id}${opts.group !== undefined ? ` in group ${quote(opts.group)}` : ''}${opts.window ? ` in the last ${opts.last ?? ''} ${width} windows` : ''}`);

  // One baseline: the card published on this hub for the version, else the one most devices used.
  const published = (await hub.storage.modelVersions(name)).find((v) => v.version === version)?.cardSha256;
  const counts = new Map<string, number>();
  for (const r of contributors) counts.set(r.card_sha256, (counts.get(r.card_sha256) ?? 0) + 1);
  const cardSha = published && counts.has(published) ? published : [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
  const text = await cardBySha(hub, fleet, cardSha);
  if (text === undefined) throw new OutpostError('not-found', `the hub does not hold the card ${cardSha.slice(0, 12)}… of ${id}`);
  const parsed = parseCard(JSON.parse(text));
  if (!parsed.ok) throw new OutpostError('package', `the card of ${id} is invalid`);
  const mon = modelMonitoring(parsed.card);
  if (mon.status !== 'ok') throw new OutpostError('package', mon.status === 'none' ? mon.reason : `the drift baseline of ${id} is invalid: ${mon.problems.join('; ')}`);
  const features = new Map(mon.features.map((f) => [f.baseline.name, f.baseline]));
  const devices = new Set(contributors.filter((r) => r.card_sha256 === cardSha).map((r) => r.name));
  const excluded = new Map(contributors.filter((r) => r.card_sha256 !== cardSha).map((r) => [r.name, r.card_sha256]));

  // The windows read: from `first` (or the oldest stored) to the newest stored on this card.
  const [span] = await fleet.all<{ lo: number | null; hi: number | null }>(
    'SELECT min(first_start) AS lo, max(last_start) AS hi FROM fleet_drift_devices WHERE model_name = ? AND model_version = ? AND width = ? AND card_sha256 = ? AND last_start >= ?',
    [name, version, width, cardSha, first]);
  const range = { model: name, version, width, cardSha256: cardSha, lo: Math.max(first, Number(span?.lo ?? first)), hi: Number(span?.hi ?? first - 1), ...(opts.group !== undefined ? { group: opts.group } : {}) };
  // Per group: the merge over the range from the fewest pieces (window rollups and dyadic blocks).
  const pieces = await mergedOverRange(fleet, 'group', range, features);
  const byGroup = new Map([...pieces].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  // Per window (only the windows listed): the whole fleet's window, or the group's.
  const byWindow = new Map<number, { stats: Map<string, FeatureStats>; devices: number }>();
  if (opts.window) {
    const n = opts.last ?? (width === 'hour' ? 24 : 30);
    const lastListed = first + (n - 1) * WINDOW_MS[width];
    const perWindowDevices = new Map((await fleet.all<{ start: number; n: number }>(
      `SELECT start, sum(devices) AS n FROM fleet_drift_counts WHERE model_name = ? AND model_version = ? AND width = ? AND card_sha256 = ? AND start >= ? AND start <= ?${opts.group !== undefined ? ' AND grp = ?' : ''} GROUP BY start`,
      [name, version, width, cardSha, first, lastListed, ...groupArgs])).map((r) => [Number(r.start), Number(r.n)]));
    const rows = opts.group !== undefined
      ? await fleet.all<{ start: number; feature: string; stats: string }>(
        'SELECT start, feature, stats FROM fleet_rollups WHERE model_name = ? AND model_version = ? AND width = ? AND card_sha256 = ? AND grp = ? AND start >= ? AND start <= ?',
        [name, version, width, cardSha, opts.group, first, lastListed])
      : await fleet.all<{ start: number; feature: string; stats: string }>(
        "SELECT start, feature, stats FROM fleet_drift_blocks WHERE model_name = ? AND model_version = ? AND width = ? AND card_sha256 = ? AND scope = 'fleet' AND level = 0 AND start >= ? AND start <= ? AND owner = ''",
        [name, version, width, cardSha, first, lastListed]);
    for (const r of rows.sort((a, b) => Number(a.start) - Number(b.start) || (a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : 0))) {
      const f = features.get(r.feature);
      if (!f) continue;
      const start = Number(r.start);
      const w = byWindow.get(start) ?? { stats: new Map<string, FeatureStats>(), devices: perWindowDevices.get(start) ?? 0 };
      byWindow.set(start, w);
      w.stats.set(r.feature, statsFromJSON(JSON.parse(r.stats) as never, f));
    }
  }
  const total = new Map<string, FeatureStats>();
  for (const g of byGroup.values()) for (const [n, s] of g) total.set(n, total.has(n) ? mergeStats(total.get(n)!, s) : s);
  const evaluate = (stats: ReadonlyMap<string, FeatureStats>) => driftReport(mon.baseline, Object.fromEntries(stats), mon.config);
  let windows: FleetDriftResult['windows'];
  let report: DriftReport;
  if (opts.window) {
    windows = [];
    const n = opts.last ?? (width === 'hour' ? 24 : 30);
    for (let i = 0, start = first; i < n; i++, start += WINDOW_MS[width]) {
      const w = byWindow.get(start);
      const r = w ? rowsOf(w.stats) : 0;
      windows.push({ start: isoTime(start), rows: r, devices: w?.devices ?? 0, report: w && r > 0 ? evaluate(w.stats) : null });
    }
    report = [...windows].reverse().find((w) => w.report)?.report ?? evaluate(total);
  } else {
    report = evaluate(total);
  }
  const result: FleetDriftResult = {
    model: name, version, cardSha256: cardSha, group: opts.group ?? null,
    description: `${opts.window ? `the last ${windows!.length} ${width} windows (UTC)` : 'everything synced for this version'} from ${devices.size} device${devices.size === 1 ? '' : 's'}${opts.group !== undefined ? ` in group "${opts.group}"` : ''}`,
    devices: [...devices].sort(), excluded: [...excluded].map(([device, sha]) => ({ device, cardSha256: sha })),
    referenceRows: mon.baseline.rows, rows: windows ? windows.reduce((n, w) => n + w.rows, 0) : rowsOf(total), report, ...(windows ? { windows } : {}),
    stats: Object.fromEntries([...total].sort(([a], [b]) => a.localeCompare(b)).map(([n, s]) => [n, JSON.parse(JSON.stringify(s)) as unknown])),
  };
  return { result, monitoring: mon, total, byGroup, first, width, range };
}

/** A device's page: its row, recent jobs, events and sync history (newest first, `limit` each). */
export async function deviceDetail(hub: Hub, name: string, opts: { limit?: number; now?: number } = {}): Promise<DeviceDetail> {
  const [device] = await listDevices(hub, { name, ...(opts.now !== undefined ? { now: opts.now } : {}) });
  if (!device) throw new OutpostError('not-found', `no device named ${quote(name)} (see \`outpost hub devices list\`)`);
  const limit = opts.limit ?? 50;
  const fleet = hub.storage.fleet;
  const jobs = (await fleet.all<{ summary: string; item_seq: number }>('SELECT summary, item_seq FROM fleet_jobs WHERE device_id = ? ORDER BY item_seq DESC LIMIT ?', [device.id, limit])).map((r) => {
    const j = JSON.parse(r.summary) as Record<string, unknown>;
    const s = (k: string) => (typeof j[k] === 'string' ? j[k] as string : null);
    return {
      id: String(j.id), model: String(j.model), version: Number(j.version), status: String(j.status), rowsRead: Number(j.rowsRead), rowsScored: Number(j.rowsScored),
      rowsRejected: Number(j.rowsRejected), input: s('input'), provider: s('provider'), error: s('error'), createdAt: s('createdAt'), finishedAt: s('finishedAt'),
    };
  });
  const items = await fleet.all<{ received_at: number; via: string; kind: string; n: number; bytes: number; lo: number; hi: number }>(
    `SELECT received_at, via, kind, count(*) AS n, sum(bytes) AS bytes, min(seq) AS lo, max(seq) AS hi FROM fleet_items
     WHERE device_id = ? AND received_at IN (SELECT DISTINCT received_at FROM fleet_items WHERE device_id = ? ORDER BY received_at DESC LIMIT ?)
     GROUP BY received_at, via, kind ORDER BY received_at DESC, via, kind`, [device.id, device.id, limit]);
  const syncs: DeviceDetail['syncs'] = [];
  for (const r of items) {
    const at = isoTime(Number(r.received_at));
    let s = syncs.at(-1);
    if (!s || s.at !== at || s.via !== r.via) { s = { at, via: r.via, items: 0, bytes: 0, firstSeq: Number(r.lo), lastSeq: Number(r.hi), kinds: {} }; syncs.push(s); }
    s.items += Number(r.n);
    s.bytes += Number(r.bytes);
    s.firstSeq = Math.min(s.firstSeq, Number(r.lo));
    s.lastSeq = Math.max(s.lastSeq, Number(r.hi));
    s.kinds[r.kind] = Number(r.n);
  }
  return { device, jobs, events: await listFleetEvents(hub, { device: name, limit }), syncs };
}
