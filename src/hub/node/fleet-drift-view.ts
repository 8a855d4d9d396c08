// The console's Fleet drift: the workstation app's Drift screen data (assembleDriftView, the same
// builder as `drift.report`) over the fleet's merged statistics (fleetDriftParts, the same merge as
// `outpost hub drift`), plus which groups and devices drive it — per group a full report from the
// group rollups, per device the chosen feature's drift from its own windows — and the fleet's
// alerts for the version.
import { assembleDriftView } from '../../api/node/drift-view.ts';
import { OutpostError, quote } from '../../common/errors.ts';
import { driftReport, featureDriftOf, type FeatureStats } from '../../drift/common/index.ts';
import type { WindowWidth } from '../../monitor/common/windows.ts';
import type { FleetDriftView } from '../common/fleet-views.ts';
import { fleetDriftParts } from './fleet-query.ts';
import { mergedOverRange } from './fleet-rollups.ts';
import type { Hub } from './repository.ts';

export type { FleetDriftView } from '../common/fleet-views.ts';

const fin = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const rowsOf = (stats: ReadonlyMap<string, FeatureStats>): number => Math.max(0, ...[...stats.values()].map((s) => s.rows));

export interface FleetDriftViewOptions { group?: string; width?: WindowWidth; last?: number; feature?: string; now?: number }

/** How many windows a view covers when the question does not say: 30 days, or 48 hours. */
export const defaultLast = (width: WindowWidth): number => (width === 'hour' ? 48 : 30);

/**
 * Answers kept per hub for the same question while the fleet's statistics have not changed: every
 * change arrives as ingested items, so the sum of the devices' item counters (and the current
 * window, as time moves on) is the key's generation. The first answer after a sync is computed.
 */
const cache = new WeakMap<Hub, Map<string, { generation: string; value: FleetDriftView }>>();

export async function fleetDriftView(hub: Hub, ref: string, opts: FleetDriftViewOptions = {}): Promise<FleetDriftView> {
  const width = opts.width ?? 'day';
  const [{ n }] = await hub.storage.fleet.all<{ n: number | null }>('SELECT sum(items) AS n FROM fleet_devices');
  const generation = `${Number(n ?? 0)}:${Math.floor((opts.now ?? Date.now()) / (width === 'hour' ? 3_600_000 : 86_400_000))}`;
  const key = JSON.stringify([ref, opts.group ?? null, width, opts.last ?? null, opts.feature ?? null]);
  const mine = cache.get(hub) ?? new Map<string, { generation: string; value: FleetDriftView }>();
  cache.set(hub, mine);
  const hit = mine.get(key);
  if (hit?.generation === generation) return hit.value;
  const value = await computeFleetDriftView(hub, ref, opts);
  if (mine.size > 64) mine.clear();
  mine.set(key, { generation, value });
  return value;
}

/** The same answer computed now, without the cache (the bench's cold request). */
export async function computeFleetDriftView(hub: Hub, ref: string, opts: FleetDriftViewOptions): Promise<FleetDriftView> {
  const width = opts.width ?? 'day';
  const last = opts.last ?? defaultLast(width);
  const parts = await fleetDriftParts(hub, ref, { ...(opts.group !== undefined ? { group: opts.group } : {}), window: width, last, ...(opts.now !== undefined ? { now: opts.now } : {}) });
  const { result: r, monitoring: mon, total } = parts;
  const features = new Map(mon.features.map((f) => [f.baseline.name, f.baseline]));
  const evaluate = (stats: ReadonlyMap<string, FeatureStats>) => driftReport(mon.baseline, Object.fromEntries(stats), mon.config);
  const report = evaluate(total);
  const view = assembleDriftView({
    model: r.model, version: r.version, description: r.description, referenceRows: r.referenceRows, rows: rowsOf(total), report,
    baselines: mon.features.map((f) => f.baseline), current: total, width, windows: r.windows ?? [], alerts: [],
  });
  const feature = opts.feature ?? report.features.filter((f) => f.score !== null).sort((a, b) => Number(b.drifted) - Number(a.drifted) || (b.score ?? 0) / (b.threshold || 1) - (a.score ?? 0) / (a.threshold || 1))[0]?.feature ?? report.features[0]?.feature;
  if (opts.feature !== undefined && !features.has(opts.feature)) throw new OutpostError('usage', `${quote(opts.feature)} is not a monitored feature of ${r.model}@${r.version} (${[...features.keys()].join(', ')})`);
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

  // per device: the chosen feature over its own windows, from the device's dyadic blocks (fleet-rollups.ts)
  const byDevice = new Map<string, FeatureStats>();
  const base = feature === undefined ? undefined : features.get(feature);
  if (base) {
    for (const [device, stats] of await mergedOverRange(fleet, 'device', parts.range, features, [feature!])) {
      const s = stats.get(feature!);
      if (s) byDevice.set(device, s);
    }
  }
  const drift = base ? featureDriftOf(mon.baseline, feature!, mon.config) : undefined;
  const devices = [...byDevice].map(([device, s]) => {
    const f = drift!(s);
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

/**
 * Computes the answer the console's Fleet drift screen opens on (the first model version, day
 * windows, the default range) into the cache, so the first visit after the hub starts does not pay
 * for compiling the drift code and reading the rollups (~300 ms on the 2-core machines).
 */
export async function warmFleetDrift(hub: Hub): Promise<void> {
  const [first] = await fleetDriftChoices(hub);
  if (first) await fleetDriftView(hub, `${first.model}@${first.version}`, { width: 'day', last: defaultLast('day') });
}

/** The model versions the fleet has drift statistics for (the screen's choices), newest first. */
export async function fleetDriftChoices(hub: Hub): Promise<{ model: string; version: number }[]> {
  const rows = await hub.storage.fleet.all<{ model_name: string; model_version: number }>('SELECT DISTINCT model_name, model_version FROM fleet_rollups ORDER BY model_name, model_version DESC');
  return rows.map((x) => ({ model: x.model_name, version: Number(x.model_version) }));
}
