// Staged rollout on the hub (desired state): which devices of a group should run what a signed
// alias points to, the assignment each device receives when it syncs, and the rollout's progress
// from what the devices report. The CLI (`outpost hub rollout …`) and the admin API
// (/api/v1/rollouts) call these same functions.
//
// The hub only NAMES what to run (model + alias, or model@version after a rollback); the device
// installs it through its own verified pull, so a rollout can never install something TUF does not
// verify. Halting stops the assignment (devices that run the version keep it; pending ones do not
// get it); rolling back moves the assignment to the version each device ran before (or `--to V`).
// Both bump nothing on the device directly: devices follow on their next sync.
import crypto from 'node:crypto';
import { OutpostError, quote } from '../../common/errors.ts';
import { ALIAS_RE, MODEL_NAME_RE } from '../common/target-paths.ts';
import { cliOptions, type NameOf } from '../common/input-names.ts';
import { isRolloutPercent } from '../common/rollout-input.ts';
import { inPercent, type Assignment } from '../../sync/common/assignments.ts';
import { GROUP_RE, type DeviceRow, type DeviceState } from './devices.ts';
import { yankedVersions } from './fleet-models.ts';
import type { Hub } from './repository.ts';

/** The inputs of a rollout as `outpost hub rollout` names them (the admin API passes bodyField). */
const ROLLOUT_OPTIONS = cliOptions({ allowEmptyGroup: '--allow-empty-group' });

export type RolloutState = 'active' | 'halted' | 'rolled-back' | 'superseded';

interface RolloutRow {
  id: string; model: string; alias: string; grp: string; percent: number; seed: string; state: RolloutState; generation: number;
  version_at_create: number | null; rollback_to: number | null; created_at: number; updated_at: number; history: string;
}

interface ReportRow {
  rollout_id: string; device_id: string; generation: number; item_seq: number; outcome: 'installed' | 'failed' | 'available';
  version: number | null; previous_version: number | null; stage: string | null; reason: string | null; at: number;
}

/** A rollout as the CLI and the admin API show it. */
export interface RolloutView {
  id: string;
  model: string;
  alias: string;
  group: string;
  percent: number;
  seed: string;
  state: RolloutState;
  generation: number;
  /** what the alias points to now on this hub (null: the alias is gone) */
  targetVersion: number | null;
  /** what the alias pointed to when the rollout was created */
  versionAtCreate: number | null;
  /** after a rollback: the version every selected device goes to (null: each device's own previous version) */
  rollbackTo: number | null;
  createdAt: string;
  updatedAt: string;
  history: { at: string; action: string; detail: string }[];
  counts: RolloutCounts;
}

export interface RolloutCounts {
  /** devices of the group (not revoked) */
  groupDevices: number;
  /** of them, those the percentage selects */
  devices: number;
  /** the rollout's current generation installed (a rollback: back on the earlier version) */
  running: number;
  failed: number;
  /** policy `ask`: offered, waiting for the workstation's user */
  available: number;
  /** still to move: assigned, not reported yet (not synced since, or the pull is still to come) */
  pending: number;
  /** halted or superseded before it moved this device: it stays on what it runs, and this rollout will not move it */
  stopped: number;
  /** nothing to do for the device in this generation (a rollback of a device that never installed, or had no earlier version) */
  unaffected: number;
}

/**
 * A selected device's state in a rollout: `running` — it runs what the rollout moves it to (its
 * report says it installed it, or its last heartbeat shows that version active); `failed` — its
 * pull refused (stage, reason); `available` — offered, waiting for its user (policy ask); `pending`
 * — assigned, not there yet; `stopped` — the rollout was halted (or superseded) before it moved the
 * device; `unaffected` — a rollback with nothing to undo on it.
 */
export type DeviceRolloutState = 'running' | 'failed' | 'available' | 'pending' | 'stopped' | 'unaffected';

export interface RolloutDeviceRow {
  device: string;
  deviceId: string;
  group: string;
  state: DeviceRolloutState;
  /** what the device is assigned now (null: no assignment in this generation — halted, superseded, or nothing to roll back) */
  assignment: Assignment | null;
  /** from the device's report for the current generation */
  reportedVersion: number | null;
  previousVersion: number | null;
  stage: string | null;
  reason: string | null;
  reportedAt: string | null;
  /** the model's active version in the device's last heartbeat */
  activeVersion: number | null;
  lastSeenAt: string | null;
}

export interface RolloutStatus { rollout: RolloutView; devices: RolloutDeviceRow[] }

const iso = (t: number | null): string | null => (t === null ? null : new Date(Number(t)).toISOString());

/** `model:alias` as typed on the command line (or sent to the API). */
export function parseRolloutRef(ref: string): { model: string; alias: string } {
  const m = /^([^:@\s]+):([^:@\s]+)$/.exec(ref);
  if (!m) throw new OutpostError('usage', `${quote(ref)} is not <model>:<alias> (a rollout follows a signed alias, e.g. churn:production)`);
  if (!MODEL_NAME_RE.test(m[1])) throw new OutpostError('usage', `${quote(m[1])} is not a valid model name`);
  if (!ALIAS_RE.test(m[2])) throw new OutpostError('usage', `${quote(m[2])} is not a valid alias name`);
  return { model: m[1], alias: m[2] };
}

async function aliasVersion(hub: Hub, model: string, alias: string): Promise<number | undefined> {
  return (await hub.storage.aliases(model)).find((a) => a.alias === alias)?.version;
}

async function rolloutRow(hub: Hub, id: string): Promise<RolloutRow> {
  const [r] = await hub.storage.fleet.all<RolloutRow>('SELECT * FROM fleet_rollouts WHERE id = ?', [id]);
  if (!r) throw new OutpostError('not-found', `no rollout ${quote(id)} (see \`outpost hub rollout list\`)`);
  return r;
}

const history = (r: RolloutRow, at: number, action: string, detail: string): string =>
  JSON.stringify([...(JSON.parse(r.history) as RolloutView['history']), { at: new Date(at).toISOString(), action, detail }]);

/**
 * A rollout's group must be one the fleet knows: a workstation (not revoked) is in it, or an
 * outstanding enrollment code (unused, not cancelled, not expired) names it, so a group staged for
 * workstations about to enroll is accepted. Any other group is refused as bad usage, naming the
 * groups there are — a typo would otherwise leave a live rollout that never reaches anyone —
 * unless `allowEmptyGroup` says it is deliberate.
 */
async function checkGroupKnown(hub: Hub, group: string, now: number, n: NameOf): Promise<void> {
  const devices = (await hub.storage.fleet.all<{ grp: string }>("SELECT DISTINCT grp FROM fleet_devices WHERE revoked_at IS NULL AND grp <> ''", [])).map((r) => r.grp);
  if (devices.includes(group)) return;
  const codes = (await hub.storage.fleet.all<{ grp: string }>("SELECT DISTINCT grp FROM fleet_enrollments WHERE used_at IS NULL AND cancelled_at IS NULL AND expires_at > ? AND grp <> ''", [now])).map((r) => r.grp);
  if (codes.includes(group)) return;
  const known = [...new Set([...devices, ...codes])].sort();
  const named = known.length > 20 ? `${known.slice(0, 20).join(', ')}, … (${known.length} in all)` : known.join(', ');
  throw new OutpostError('usage', `no workstation is in group ${quote(group)} and no outstanding enrollment code names it, so the rollout would reach no one `
    + `(${known.length ? `groups: ${named}` : 'no workstation has a group yet'}). Check ${n('group')}, or pass ${n('allowEmptyGroup', 'true')} to stage it for workstations that enroll into the group later`);
}

/**
 * Record a rollout: devices of `group` (or a stable `percent` of them, chosen by `seed`) should run
 * what `model:alias` points to. The alias must be published on this hub and the group known (see
 * checkGroupKnown). An earlier active or halted rollout of the same model to the same group is
 * superseded (one desired state per model and group).
 */
export async function createRollout(hub: Hub, opts: { ref: string; group: string; percent?: number; seed?: string; allowEmptyGroup?: boolean; now?: number }, n: NameOf = ROLLOUT_OPTIONS): Promise<RolloutView> {
  const { model, alias } = parseRolloutRef(opts.ref);
  if (!GROUP_RE.test(opts.group)) throw new OutpostError('usage', `${n('group')} ${quote(opts.group)} must be 1-64 letters, digits, ".", "_" or "-"`);
  const percent = opts.percent ?? 100;
  if (!isRolloutPercent(percent)) {
    throw new OutpostError('usage', `${n('percent')} must be a number above 0 and at most 100, with at most two decimals (got ${String(opts.percent)})`);
  }
  const seed = opts.seed ?? `${model}/${opts.group}`;
  if (seed.length < 1 || seed.length > 200) throw new OutpostError('usage', `${n('seed')} must be 1-200 characters`);
  const now = opts.now ?? Date.now();
  if (!opts.allowEmptyGroup) await checkGroupKnown(hub, opts.group, now, n);
  const versions = await hub.storage.modelVersions(model);
  if (!versions.length) throw new OutpostError('not-found', `model ${quote(model)} is not published on this hub (nothing to roll out)`);
  const version = await aliasVersion(hub, model, alias);
  if (version === undefined) {
    const known = (await hub.storage.aliases(model)).map((a) => a.alias);
    throw new OutpostError('not-found', `alias ${model}:${alias} is not published on this hub${known.length ? ` (its aliases: ${known.join(', ')})` : ' (the model has no aliases: publish with --alias)'}`);
  }
  const id = `ro_${crypto.randomBytes(10).toString('hex')}`;
  await hub.storage.fleetTransaction(undefined, async (sql) => {
    const older = await sql.all<RolloutRow>("SELECT * FROM fleet_rollouts WHERE model = ? AND grp = ? AND state IN ('active', 'halted', 'rolled-back')", [model, opts.group]);
    for (const o of older) {
      await sql.run("UPDATE fleet_rollouts SET state = 'superseded', updated_at = ?, history = ? WHERE id = ?", [now, history(o, now, 'superseded', `by ${id}`), o.id]);
    }
    const h = JSON.stringify([{ at: new Date(now).toISOString(), action: 'created', detail: `${model}:${alias} (→ ${model}@${version}) to group ${opts.group}${percent < 100 ? `, ${percent} %` : ''}${older.length ? `; supersedes ${older.map((o) => o.id).join(', ')}` : ''}` }]);
    await sql.run('INSERT INTO fleet_rollouts (id, model, alias, grp, percent, seed, state, generation, version_at_create, rollback_to, created_at, updated_at, history, seq) '
      + 'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM fleet_rollouts))',
      [id, model, alias, opts.group, percent, seed, 'active', 1, version, null, now, now, h]);
  });
  return (await rolloutStatus(hub, id)).rollout;
}

/** Stop a rollout: devices that have not installed it do not get it; those that did keep it. A rolled-back rollout is not halted (that would stop the rollback). */
export async function haltRollout(hub: Hub, id: string, now = Date.now()): Promise<RolloutView> {
  await hub.storage.fleetTransaction(undefined, async (sql) => {
    const [r] = await sql.all<RolloutRow>('SELECT * FROM fleet_rollouts WHERE id = ?', [id]);
    if (!r) throw new OutpostError('not-found', `no rollout ${quote(id)} (see \`outpost hub rollout list\`)`);
    if (r.state === 'halted') return;
    if (r.state === 'superseded') throw new OutpostError('conflict', `rollout ${id} was superseded by a newer rollout of ${r.model} to group ${r.grp}; halt that one`);
    // a halt would stop the rollback itself: devices not yet back would stay on the version rolled back
    if (r.state === 'rolled-back') throw new OutpostError('conflict', `rollout ${id} was rolled back: its devices are moving back${r.rollback_to !== null ? ` to ${r.model}@${r.rollback_to}` : ' to the versions they ran before'}, and a halt would stop that; nothing to halt`);
    await sql.run("UPDATE fleet_rollouts SET state = 'halted', updated_at = ?, history = ? WHERE id = ?", [now, history(r, now, 'halted', `was ${r.state}`), id]);
  });
  return (await rolloutStatus(hub, id)).rollout;
}

/**
 * Move the assignment back: each selected device that installed the rollout activates the version
 * it ran before (its own report says which), or every selected device goes to `to` when given. The
 * target is pulled and verified like any version (it must still be published and not yanked).
 */
export async function rollbackRollout(hub: Hub, id: string, opts: { to?: number; now?: number } = {}, n: NameOf = ROLLOUT_OPTIONS): Promise<RolloutView> {
  const now = opts.now ?? Date.now();
  const r0 = await rolloutRow(hub, id);
  if (opts.to !== undefined) {
    if (!Number.isInteger(opts.to) || opts.to < 1) throw new OutpostError('usage', `${n('to')} must be a version number (got ${String(opts.to)})`);
    const versions = await hub.storage.modelVersions(r0.model);
    if (!versions.some((v) => Number(v.version) === opts.to)) {
      throw new OutpostError('not-found', `${r0.model}@${opts.to} is not published on this hub`);
    }
    // every device would refuse it at verify: the rollback would only turn the group into failures
    if ((await yankedVersions(hub, versions.map((v) => v.publisher))).has(`${r0.model}@${opts.to}`)) {
      throw new OutpostError('conflict', `${r0.model}@${opts.to} is yanked: devices refuse to install it; roll back to another version (\`outpost hub rollout rollback ${id} --to V\`) or to each device's previous one (no --to)`);
    }
  }
  await hub.storage.fleetTransaction(undefined, async (sql) => {
    const [r] = await sql.all<RolloutRow>('SELECT * FROM fleet_rollouts WHERE id = ?', [id]);
    if (r.state === 'superseded') throw new OutpostError('conflict', `rollout ${id} was superseded by a newer rollout of ${r.model} to group ${r.grp}; roll back that one`);
    if (r.state === 'rolled-back' && r.rollback_to === (opts.to ?? null)) return;
    await sql.run("UPDATE fleet_rollouts SET state = 'rolled-back', generation = ?, rollback_to = ?, updated_at = ?, history = ? WHERE id = ?",
      [Number(r.generation) + 1, opts.to ?? null, now, history(r, now, 'rolled-back', opts.to !== undefined ? `every selected device to ${r.model}@${opts.to}` : 'each device to the version it ran before'), id]);
  });
  return (await rolloutStatus(hub, id)).rollout;
}

/** The version a device goes back to in a rollback, or undefined (nothing to undo for it). */
function rollbackTarget(r: RolloutRow, installs: ReportRow[]): number | undefined {
  if (r.rollback_to !== null) return Number(r.rollback_to);
  // the first generation's install report says what ran before the rollout
  const first = installs.find((x) => Number(x.generation) === 1 && x.outcome === 'installed');
  return first?.previous_version !== null && first?.previous_version !== undefined ? Number(first.previous_version) : undefined;
}

function assignmentOf(r: RolloutRow, device: Pick<DeviceRow, 'id'>, reports: ReportRow[]): Assignment | null {
  if (!inPercent(r.seed, device.id, Number(r.percent))) return null;
  if (r.state === 'active') return { rollout: r.id, generation: Number(r.generation), action: 'install', model: r.model, alias: r.alias };
  if (r.state === 'rolled-back') {
    const to = rollbackTarget(r, reports);
    return to === undefined ? null : { rollout: r.id, generation: Number(r.generation), action: 'activate', model: r.model, version: to };
  }
  return null;
}

/** What a device should do now: one assignment per model, from the live rollouts of its group. */
export async function assignmentsFor(hub: Hub, device: Pick<DeviceRow, 'id' | 'grp'>): Promise<Assignment[]> {
  const rollouts = await hub.storage.fleet.all<RolloutRow>("SELECT * FROM fleet_rollouts WHERE grp = ? AND state IN ('active', 'rolled-back') ORDER BY created_at DESC, seq DESC", [device.grp]);
  const out: Assignment[] = [];
  const models = new Set<string>();
  for (const r of rollouts) {
    if (models.has(r.model)) continue; // superseded ones are marked; this only guards against a race of two creations
    models.add(r.model);
    const reports = r.state === 'rolled-back' && r.rollback_to === null
      ? await hub.storage.fleet.all<ReportRow>('SELECT * FROM fleet_rollout_reports WHERE rollout_id = ? AND device_id = ?', [r.id, device.id])
      : [];
    const a = assignmentOf(r, device, reports);
    if (a) out.push(a);
  }
  return out;
}

function view(r: RolloutRow, rows: RolloutDeviceRow[], groupDevices: number, targetVersion: number | null): RolloutView {
  const count = (s: DeviceRolloutState) => rows.filter((d) => d.state === s).length;
  return {
    id: r.id, model: r.model, alias: r.alias, group: r.grp, percent: Number(r.percent), seed: r.seed, state: r.state, generation: Number(r.generation),
    targetVersion, versionAtCreate: r.version_at_create === null ? null : Number(r.version_at_create),
    rollbackTo: r.rollback_to === null ? null : Number(r.rollback_to), createdAt: iso(r.created_at)!, updatedAt: iso(r.updated_at)!,
    history: JSON.parse(r.history) as RolloutView['history'],
    counts: {
      groupDevices, devices: rows.length, running: count('running'), failed: count('failed'), available: count('available'), pending: count('pending'),
      stopped: count('stopped'), unaffected: count('unaffected'),
    },
  };
}

/** The fleet's devices read once for many rollouts (the list): by group, heartbeats parsed once. */
interface FleetRead { byGroup: Map<string, DeviceRow[]>; heartbeats: Map<string, DeviceState | null> }

async function readFleet(hub: Hub, group?: string): Promise<FleetRead> {
  const devices = await hub.storage.fleet.all<DeviceRow>(`SELECT * FROM fleet_devices WHERE revoked_at IS NULL${group !== undefined ? ' AND grp = ?' : ''} ORDER BY name`, group !== undefined ? [group] : []);
  const byGroup = new Map<string, DeviceRow[]>();
  for (const d of devices) {
    const list = byGroup.get(d.grp);
    if (list) list.push(d); else byGroup.set(d.grp, [d]);
  }
  return { byGroup, heartbeats: new Map() };
}

/** A rollout's reports by device, each device's in generation order (one per device and generation). */
function reportsByDevice(reports: ReportRow[]): Map<string, ReportRow[]> {
  const by = new Map<string, ReportRow[]>();
  for (const x of reports) {
    const list = by.get(x.device_id);
    if (list) list.push(x); else by.set(x.device_id, [x]);
  }
  for (const list of by.values()) list.sort((a, b) => Number(a.generation) - Number(b.generation));
  return by;
}

/**
 * What a device's state is, from its report of the current generation, its assignment now and the
 * version its last heartbeat shows active. A device is never `pending` when nothing will move it
 * (halted, superseded, nothing to roll back), nor when it already runs the version it would be moved
 * to (the heartbeat goes out at the start of a sync, before the pull; a failed report is the
 * device's own word and stays `failed`).
 */
function deviceState(r: RolloutRow, current: ReportRow | undefined, assignment: Assignment | null, targetVersion: number | null, activeVersion: number | null): DeviceRolloutState {
  if (current?.outcome === 'installed') return 'running';
  if (current?.outcome === 'failed') return 'failed';
  // the version this rollout moves the device to now (a superseded one moves it nowhere)
  const goal = r.state === 'rolled-back' ? (assignment?.action === 'activate' ? assignment.version : null)
    : r.state === 'superseded' ? null : targetVersion;
  if (goal !== null && activeVersion !== null && Number(activeVersion) === Number(goal)) return 'running';
  if (!assignment) return r.state === 'rolled-back' ? 'unaffected' : 'stopped';
  return current?.outcome === 'available' ? 'available' : 'pending';
}

function deviceRows(r: RolloutRow, fleet: FleetRead, reports: Map<string, ReportRow[]>, targetVersion: number | null): { rows: RolloutDeviceRow[]; groupDevices: number } {
  const devices = fleet.byGroup.get(r.grp) ?? [];
  const rows: RolloutDeviceRow[] = [];
  for (const d of devices) {
    if (!inPercent(r.seed, d.id, Number(r.percent))) continue;
    const mine = reports.get(d.id) ?? [];
    const current = mine.find((x) => Number(x.generation) === Number(r.generation));
    const assignment = assignmentOf(r, d, mine);
    let hb = fleet.heartbeats.get(d.id);
    if (hb === undefined) { hb = d.state_json ? JSON.parse(d.state_json) as DeviceState : null; fleet.heartbeats.set(d.id, hb); }
    const activeVersion = hb?.models?.find((m) => m.name === r.model && m.active)?.version ?? null;
    rows.push({
      device: d.name, deviceId: d.id, group: d.grp, state: deviceState(r, current, assignment, targetVersion, activeVersion), assignment,
      reportedVersion: current?.version ?? null, previousVersion: current?.previous_version ?? mine[0]?.previous_version ?? null,
      stage: current?.stage ?? null, reason: current?.reason ?? null, reportedAt: iso(current?.at ?? null),
      activeVersion, lastSeenAt: iso(d.last_seen_at),
    });
  }
  return { rows, groupDevices: devices.length };
}

/** A rollout with one row per device it selects: running, failed (stage and reason), available, pending, stopped, unaffected. */
export async function rolloutStatus(hub: Hub, id: string): Promise<RolloutStatus> {
  const r = await rolloutRow(hub, id);
  const reports = await hub.storage.fleet.all<ReportRow>('SELECT * FROM fleet_rollout_reports WHERE rollout_id = ?', [id]);
  const targetVersion = (await aliasVersion(hub, r.model, r.alias)) ?? null;
  const { rows, groupDevices } = deviceRows(r, await readFleet(hub, r.grp), reportsByDevice(reports), targetVersion);
  return { rollout: view(r, rows, groupDevices, targetVersion), devices: rows };
}

/**
 * Every rollout (of a model, of a group), newest first, with its progress counts. A fixed number of
 * queries however many rollouts there are: the rollouts, all their reports, the fleet's devices,
 * and the aliases of each model once (not a reports and an alias query per rollout).
 */
export async function listRollouts(hub: Hub, opts: { model?: string; group?: string } = {}): Promise<RolloutView[]> {
  const cond: string[] = [];
  const args: string[] = [];
  if (opts.model !== undefined) { cond.push('r.model = ?'); args.push(opts.model); }
  if (opts.group !== undefined) { cond.push('r.grp = ?'); args.push(opts.group); }
  const where = cond.length ? ` WHERE ${cond.join(' AND ')}` : '';
  const all = await hub.storage.fleet.all<RolloutRow>(`SELECT r.* FROM fleet_rollouts r${where} ORDER BY r.created_at DESC, r.seq DESC`, args);
  if (!all.length) return [];
  const reports = await hub.storage.fleet.all<ReportRow>(`SELECT x.* FROM fleet_rollout_reports x JOIN fleet_rollouts r ON r.id = x.rollout_id${where}`, args);
  const byRollout = new Map<string, ReportRow[]>();
  for (const x of reports) {
    const list = byRollout.get(x.rollout_id);
    if (list) list.push(x); else byRollout.set(x.rollout_id, [x]);
  }
  const fleet = await readFleet(hub, opts.group);
  const aliases = new Map<string, Map<string, number>>();
  const out: RolloutView[] = [];
  for (const r of all) {
    let of = aliases.get(r.model);
    if (!of) { of = new Map((await hub.storage.aliases(r.model)).map((a) => [a.alias, Number(a.version)])); aliases.set(r.model, of); }
    const targetVersion = of.get(r.alias) ?? null;
    const { rows, groupDevices } = deviceRows(r, fleet, reportsByDevice(byRollout.get(r.id) ?? []), targetVersion);
    out.push(view(r, rows, groupDevices, targetVersion));
  }
  return out;
}
