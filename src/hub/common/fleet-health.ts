// A device's health as the fleet views show it (console, `outpost hub devices list --health`), from
// what the hub knows: revoked, never synced, silent for longer than the stale limit, reporting open
// alerts, or ok. Pure.
import { OutpostError, quote } from '../../common/errors.ts';
import { parseSelector } from './target-paths.ts';

export const HEALTH = ['ok', 'alerts', 'stale', 'never-synced', 'revoked'] as const;
export type Health = (typeof HEALTH)[number];

/** A device that has not synced for this long is "stale" (devices sync at least daily by default). */
export const STALE_AFTER_MS = 24 * 3600_000;

export function deviceHealth(d: { revokedAt: string | null; lastSeenAt: string | null; openAlerts: number }, now: number, staleAfterMs = STALE_AFTER_MS): Health {
  if (d.revokedAt !== null) return 'revoked';
  if (d.lastSeenAt === null) return 'never-synced';
  if (now - Date.parse(d.lastSeenAt) > staleAfterMs) return 'stale';
  return d.openAlerts > 0 ? 'alerts' : 'ok';
}

/** "name" or "name@version" (a device matches when that model, or that version, is active on it). */
export function runsModel(active: readonly { name: string; version: number }[], ref: string): boolean {
  const at = ref.lastIndexOf('@');
  const name = at > 0 ? ref.slice(0, at) : ref;
  const version = at > 0 ? Number(ref.slice(at + 1)) : undefined;
  return active.some((m) => m.name === name && (version === undefined || m.version === version));
}

export interface DeviceFilterShape { group?: string; model?: string; health?: Health; name?: string }

/** A model filter is `name` or `name@version`: a malformed one would match nothing, so it is bad usage (CLI exit 2, API 400). */
export function checkModelFilter(model: string): void {
  const sel = parseSelector(model);
  if (!sel.ok || sel.selector.alias !== undefined) throw new OutpostError('usage', `the model filter ${quote(model.slice(0, 200))} is not <name> or <name>@<version>${sel.ok ? '' : ` (${sel.reason})`}`);
}

/** Whether a device passes the fleet filters (group "" = devices without a group). */
export function deviceMatches(d: { name: string; group: string; health: Health; active: readonly { name: string; version: number }[] }, f: DeviceFilterShape): boolean {
  return (f.group === undefined || d.group === f.group) && (f.name === undefined || d.name === f.name)
    && (f.model === undefined || runsModel(d.active, f.model)) && (f.health === undefined || d.health === f.health);
}

export interface FleetFacets { total: number; groups: { group: string; devices: number }[]; models: { model: string; devices: number }[]; health: Record<Health, number> }

/** What the fleet's filters can choose from, with counts (over the whole fleet). */
export function fleetFacets(devices: readonly { group: string; health: Health; active: readonly { name: string; version: number }[] }[]): FleetFacets {
  const groups = new Map<string, number>();
  const models = new Map<string, number>();
  const health = Object.fromEntries(HEALTH.map((h) => [h, 0])) as Record<Health, number>;
  for (const d of devices) {
    groups.set(d.group, (groups.get(d.group) ?? 0) + 1);
    for (const m of new Set(d.active.flatMap((a) => [a.name, `${a.name}@${a.version}`]))) models.set(m, (models.get(m) ?? 0) + 1);
    health[d.health]++;
  }
  return {
    total: devices.length,
    groups: [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([group, n]) => ({ group, devices: n })),
    models: [...models].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([model, n]) => ({ model, devices: n })),
    health,
  };
}
