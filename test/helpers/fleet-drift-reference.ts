// The fleet drift answers computed the way the hub did before the ingest-time rollups
// (fleet-rollups.ts): contributors and per-window device counts by scanning every device window,
// per-window merges of the group rollups, and the per-device breakdown from every device window.
// Kept verbatim (renamed) as the reference the rollups must equal, byte for byte.
import { assembleDriftView } from '../../src/api/node/drift-view.ts';
import { OutpostError } from '../../src/common/errors.ts';
import { driftReport, mergeStats, statsFromJSON, type DriftReport, type FeatureStats } from '../../src/drift/common/index.ts';
import { cardBySha } from '../../src/hub/node/fleet-cards.ts';
import type { FleetDriftOptions, FleetDriftResult } from '../../src/hub/node/fleet-query.ts';
import type { FleetDriftView } from '../../src/hub/common/fleet-views.ts';
import type { FleetDriftViewOptions } from '../../src/hub/node/fleet-drift-view.ts';
import type { Hub } from '../../src/hub/node/repository.ts';
import { modelMonitoring } from '../../src/monitor/common/features.ts';
import { isoTime, WINDOW_MS, windowStart, type WindowWidth } from '../../src/monitor/common/windows.ts';
import { parseCard } from '../../src/package/common/card.ts';

const fin = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const rowsOf = (stats: ReadonlyMap<string, FeatureStats>): number => Math.max(0, ...[...stats.values()].map((s) => s.rows));

/** What fleetDrift computed on the way (for the console's drift view, which needs the baselines and windows). */
interface ReferenceParts {
  result: FleetDriftResult;
  monitoring: Extract<ReturnType<typeof modelMonitoring>, { status: 'ok' }>;
  /** the merged statistics over every window read */
  total: Map<string, FeatureStats>;
  /** the same per group (from the same rollup rows) */
  byGroup: Map<string, Map<string, FeatureStats>>;
  /** the first window start read (MIN_SAFE_INTEGER: everything) and the width */
  first: number;
  width: WindowWidth;
}

/** `outpost hub drift` and the console's Fleet drift: the exact merge of the devices' windows. */
export async function referenceFleetDrift(hub: Hub, ref: string, opts: FleetDriftOptions = {}): Promise<FleetDriftResult> {
  return (await referenceFleetDriftParts(hub, ref, opts)).result;
}

export async function referenceFleetDriftParts(hub: Hub, ref: string, opts: FleetDriftOptions = {}): Promise<ReferenceParts> {
  const m = /^([^@\s]+)(?:@(\d+))?$/.exec(ref);
  if (!m) throw new OutpostError('usage', `"${ref}" is not a model reference (expected <name> or <name>@<version>)`);
  const name = m[1];
  const fleet = hub.storage.fleet;
  let version = m[2] !== undefined ? Number(m[2]) : undefined;
  if (version === undefined) {
    const [v] = await fleet.all<{ v: number | null }>('SELECT max(model_version) AS v FROM fleet_windows WHERE model_name = ?', [name]);
    if (v?.v === null || v?.v === undefined) throw new OutpostError('not-found', `no device has synced drift statistics for "${name}"`);
    version = Number(v.v);
  }
  const width: WindowWidth = opts.window ?? 'day';
  const groupSql = opts.group !== undefined ? ' AND d.grp = ?' : '';
  const now = opts.now ?? Date.now();
  const first = opts.window ? windowStart(width, now) - ((opts.last ?? (width === 'hour' ? 24 : 30)) - 1) * WINDOW_MS[width] : Number.MIN_SAFE_INTEGER;
  // Which devices contributed, and on which card (cheap: no statistics read).
  const contributors = await fleet.all<{ name: string; card_sha256: string }>(
    `SELECT DISTINCT d.name, w.card_sha256 FROM fleet_windows w JOIN fleet_devices d ON d.id = w.device_id
     WHERE w.model_name = ? AND w.model_version = ? AND w.width = ? AND w.start >= ?${groupSql} ORDER BY d.name`,
    [name, version, width, first, ...(opts.group !== undefined ? [opts.group] : [])]);
  const id = `${name}@${version}`;
  if (!contributors.length) throw new OutpostError('not-found', `no synced drift statistics for ${id}${opts.group !== undefined ? ` in group "${opts.group}"` : ''}${opts.window ? ` in the last ${opts.last ?? ''} ${width} windows` : ''}`);

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

  // The groups' rollups (merged at ingest), merged per window: one row per group, window and feature.
  const rows = await fleet.all<{ start: number; grp: string; feature: string; stats: string }>(
    `SELECT start, grp, feature, stats FROM fleet_rollups WHERE model_name = ? AND model_version = ? AND width = ? AND start >= ? AND card_sha256 = ?${opts.group !== undefined ? ' AND grp = ?' : ''}
     ORDER BY start, grp, feature`, [name, version, width, first, cardSha, ...(opts.group !== undefined ? [opts.group] : [])]);
  const perWindowDevices = new Map((await fleet.all<{ start: number; n: number }>(
    `SELECT w.start, count(DISTINCT w.device_id) AS n FROM fleet_windows w JOIN fleet_devices d ON d.id = w.device_id
     WHERE w.model_name = ? AND w.model_version = ? AND w.width = ? AND w.start >= ? AND w.card_sha256 = ?${groupSql} GROUP BY w.start`,
    [name, version, width, first, cardSha, ...(opts.group !== undefined ? [opts.group] : [])])).map((r) => [Number(r.start), Number(r.n)]));
  const byWindow = new Map<number, { stats: Map<string, FeatureStats>; devices: number }>();
  const byGroup = new Map<string, Map<string, FeatureStats>>();
  for (const r of rows) {
    const f = features.get(r.feature);
    if (!f) continue;
    const start = Number(r.start);
    const w = byWindow.get(start) ?? { stats: new Map<string, FeatureStats>(), devices: perWindowDevices.get(start) ?? 0 };
    byWindow.set(start, w);
    const s = statsFromJSON(JSON.parse(r.stats) as never, f);
    const prev = w.stats.get(r.feature);
    w.stats.set(r.feature, prev ? mergeStats(prev, s) : s);
    const g = byGroup.get(r.grp) ?? new Map<string, FeatureStats>();
    byGroup.set(r.grp, g);
    const gp = g.get(r.feature);
    g.set(r.feature, gp ? mergeStats(gp, s) : s);
  }
  const total = new Map<string, FeatureStats>();
  for (const w of byWindow.values()) for (const [n, s] of w.stats) total.set(n, total.has(n) ? mergeStats(total.get(n)!, s) : s);
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
  return { result, monitoring: mon, total, byGroup, first, width };
}


export async function referenceFleetDriftView(hub: Hub, ref: string, opts: FleetDriftViewOptions): Promise<FleetDriftView> {
  const width = opts.width ?? 'day';
  const last = opts.last ?? (width === 'hour' ? 48 : 30);
  const parts = await referenceFleetDriftParts(hub, ref, { ...(opts.group !== undefined ? { group: opts.group } : {}), window: width, last, ...(opts.now !== undefined ? { now: opts.now } : {}) });
  const { result: r, monitoring: mon, total, first } = parts;
  const features = new Map(mon.features.map((f) => [f.baseline.name, f.baseline]));
  const evaluate = (stats: ReadonlyMap<string, FeatureStats>) => driftReport(mon.baseline, Object.fromEntries(stats), mon.config);
  const report = evaluate(total);
  const view = assembleDriftView({
    model: r.model, version: r.version, description: r.description, referenceRows: r.referenceRows, rows: rowsOf(total), report,
    baselines: mon.features.map((f) => f.baseline), current: total, width, windows: r.windows ?? [], alerts: [],
  });
  const feature = opts.feature ?? report.features.filter((f) => f.score !== null).sort((a, b) => Number(b.drifted) - Number(a.drifted) || (b.score ?? 0) / (b.threshold || 1) - (a.score ?? 0) / (a.threshold || 1))[0]?.feature ?? report.features[0]?.feature;
  if (opts.feature !== undefined && !features.has(opts.feature)) throw new OutpostError('usage', `"${opts.feature}" is not a monitored feature of ${r.model}@${r.version} (${[...features.keys()].join(', ')})`);
  const fleet = hub.storage.fleet;
  const groupArgs = opts.group !== undefined ? [opts.group] : [];

  const byGroup = parts.byGroup;
  const groupOf = new Map((await fleet.all<{ name: string; grp: string }>('SELECT name, grp FROM fleet_devices')).map((d) => [d.name, d.grp]));
  const devicesIn = (g: string) => r.devices.filter((d) => groupOf.get(d) === g).length;
  const groups = [...byGroup].map(([group, stats]) => {
    const gr = evaluate(stats);
    const f = gr.features.find((x) => x.feature === feature);
    return {
      group, devices: devicesIn(group), rows: rowsOf(stats), drifted: gr.dataset.drifted, driftedFeatures: gr.dataset.driftedFeatures, evaluatedFeatures: gr.dataset.evaluatedFeatures,
      feature: f ? { score: fin(f.score), drifted: f.drifted, nCurrent: f.nCurrent } : null,
    };
  }).sort((a, b) => (b.feature?.score ?? -1) - (a.feature?.score ?? -1) || a.group.localeCompare(b.group));

  // per device: the chosen feature over its own windows
  const byDevice = new Map<string, FeatureStats>();
  const base = feature === undefined ? undefined : features.get(feature);
  if (base) {
    for (const row of await fleet.all<{ name: string; stats: string }>(
      `SELECT d.name, w.stats FROM fleet_windows w JOIN fleet_devices d ON d.id = w.device_id
       WHERE w.model_name = ? AND w.model_version = ? AND w.width = ? AND w.start >= ? AND w.card_sha256 = ? AND w.feature = ?${opts.group !== undefined ? ' AND d.grp = ?' : ''}`,
      [r.model, r.version, width, first, r.cardSha256, feature, ...groupArgs])) {
      const s = statsFromJSON(JSON.parse(row.stats) as never, base);
      const prev = byDevice.get(row.name);
      byDevice.set(row.name, prev ? mergeStats(prev, s) : s);
    }
  }
  const devices = [...byDevice].map(([device, s]) => {
    const f = driftReport(mon.baseline, { [feature!]: s }, mon.config).features[0];
    return { device, group: groupOf.get(device) ?? '', rows: s.rows, statistic: fin(f?.statistic), score: fin(f?.score), drifted: f?.drifted ?? null, ...(f?.reason !== undefined ? { reason: f.reason } : {}) };
  }).sort((a, b) => (b.score ?? -1) - (a.score ?? -1) || a.device.localeCompare(b.device));

  const alerts = (await fleet.all<{ name: string; grp: string; feature: string; scope: string; scope_key: string; opened_at: number; cleared_at: number | null; detail: string }>(
    `SELECT d.name, d.grp, a.feature, a.scope, a.scope_key, a.opened_at, a.cleared_at, a.detail FROM fleet_alerts a JOIN fleet_devices d ON d.id = a.device_id
     WHERE a.model_name = ? AND a.model_version = ?${opts.group !== undefined ? ' AND d.grp = ?' : ''} ORDER BY a.opened_at DESC LIMIT 500`, [r.model, r.version, ...groupArgs]))
    .map((a) => {
      const d = JSON.parse(a.detail) as { method?: string; score?: number | null; threshold?: number };
      return {
        device: a.name, group: a.grp, feature: a.feature, scope: a.scope, scopeKey: a.scope_key, method: d.method ?? '', score: fin(d.score), threshold: fin(d.threshold),
        openedAt: new Date(Number(a.opened_at)).toISOString(), clearedAt: a.cleared_at === null ? null : new Date(Number(a.cleared_at)).toISOString(),
      };
    });
  return { view, cardSha256: r.cardSha256, group: r.group, devices: r.devices, excluded: r.excluded, feature: feature ?? null, groups, byDevice: devices, alerts };
}

