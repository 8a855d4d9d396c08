// `outpost hub devices add|list|revoke|codes`, `hub drift`, `hub events`, `hub export predictions`: the
// fleet as the hub sees it. They open the hub folder (and its database) directly, like
// `hub add-publisher`; the same data is behind the admin API for remote use.
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import { renderWorstFeatures, stringifyDrift } from '../../drift/common/index.ts';
import { renderReport, renderSeries } from '../../monitor/common/render.ts';
import { cancelEnrollment, createEnrollment, listDevices, listEnrollments, revokeDevice } from '../../hub/node/devices.ts';
import { exportPredictions } from '../../hub/node/fleet-export.ts';
import { parseModelVersion } from '../../hub/common/target-paths.ts';
import { checkOutputFile } from '../../io/node/output-file.ts';
import { fleetDrift, listFleetEvents } from '../../hub/node/fleet-query.ts';
import { openHub, type Hub } from '../../hub/node/repository.ts';
import { parseDbSpec } from '../../hub/node/db-spec.ts';
import { HEALTH, type Health } from '../../hub/common/fleet-health.ts';
import { EVENT_KINDS } from '../../hub/node/console.ts';
import { flag, str, wholeNumber, type CommandContext, type CommandSpec, type ParsedArgs } from '../command.ts';

export const HUB_OPTS = { dir: { type: 'string' }, db: { type: 'string' } } as const;
export const HUB_HELP = ['--dir D      the hub folder', '--db DB      database: a SQLite file or a postgres:// URL (default: from hub.json)'];

export async function withHub<T>(ctx: CommandContext, args: ParsedArgs, fn: (hub: Hub) => Promise<T>): Promise<T> {
  const d = str(args, 'dir');
  if (!d) throw usageError('--dir <hub folder> is required');
  const db = str(args, 'db');
  const spec = db === undefined ? undefined : parseDbSpec(db, ctx.cwd, { code: 'usage', origin: '--db' });
  const hub = await openHub(path.resolve(ctx.cwd, d), { ...(spec ? { db: spec.kind === 'sqlite' ? spec.file : spec.url } : {}) });
  try {
    return await fn(hub);
  } finally {
    await hub.close();
  }
}

const iso = (s: string | undefined, name: string): number | undefined => {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  if (!/^\d{4}-\d{2}-\d{2}/.test(s) || Number.isNaN(t)) throw usageError(`${name} must be an ISO time such as 2025-06-01 or 2025-06-01T08:00Z (got "${s}")`);
  return t;
};

export const hubDevicesAddCommand: CommandSpec = {
  name: 'hub devices add',
  summary: 'Create a one-time enrollment code for a new workstation (expires; single use)',
  usage: 'outpost hub devices add --dir <d> --name NAME [--group G] [--expires SECONDS]',
  help: [...HUB_HELP, '--name NAME       the workstation\'s name in the fleet', '--group G         a group (site, line, team) for fleet views', '--expires S        seconds the code stays valid (default 86400)'],
  options: { ...HUB_OPTS, name: { type: 'string' }, group: { type: 'string' }, expires: { type: 'string' } },
  async run(ctx, args) {
    const name = str(args, 'name');
    if (!name) throw usageError('--name is required');
    const ttl = wholeNumber(args, 'expires', 60, 30 * 86_400, 'seconds'); // 1 minute to 30 days (createEnrollment's range)
    const r = await withHub(ctx, args, (hub) => createEnrollment(hub, { name, group: str(args, 'group'), ...(ttl !== undefined ? { ttlSeconds: ttl } : {}) }));
    ctx.out.text(`enrollment code for "${r.name}"${r.group ? ` (group ${r.group})` : ''}: ${r.code}`);
    ctx.out.text(`  valid until ${r.expiresAt}, once. On the workstation: outpost connect --hub <hub URL> --root root.json --code ${r.code}`);
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};

export const hubDevicesListCommand: CommandSpec = {
  name: 'hub devices list',
  summary: 'Every enrolled workstation: group, last seen, version, models, rows scored, backlog, open alerts, health',
  usage: `outpost hub devices list --dir <d> [--group G] [--model NAME[@V]] [--health ${HEALTH.join('|')}]`,
  help: [...HUB_HELP, '--group G       devices of one group ("" = devices without a group)', '--model M       devices on which model M (or version M@V) is active',
    `--health H      ${HEALTH.join(', ')} (stale: no sync for 24 hours)`],
  options: { ...HUB_OPTS, group: { type: 'string' }, model: { type: 'string' }, health: { type: 'string' } },
  async run(ctx, args) {
    const health = str(args, 'health');
    if (health !== undefined && !(HEALTH as readonly string[]).includes(health)) throw usageError(`--health must be one of ${HEALTH.join(', ')} (got "${health}")`);
    const group = str(args, 'group');
    const model = str(args, 'model');
    const devices = await withHub(ctx, args, (hub) => listDevices(hub, { ...(group !== undefined ? { group } : {}), ...(model !== undefined ? { model } : {}), ...(health !== undefined ? { health: health as Health } : {}) }));
    ctx.out.json({ ok: true, devices });
    if (!devices.length) { ctx.out.text(group !== undefined || model !== undefined || health !== undefined ? 'no device matches' : 'no devices enrolled (add one with `outpost hub devices add`)'); return 0; }
    for (const d of devices) {
      const s = d.state;
      const models = d.active.map((m) => `${m.name}@${m.version}`).join(', ') || '—';
      ctx.out.text(`${d.name}${d.group ? ` [${d.group}]` : ''}  ${d.health}${d.revokedAt ? ` ${d.revokedAt}` : ''}`);
      ctx.out.text(`  last seen ${d.lastSeenAt ?? 'never'} · outpost ${d.outpostVersion ?? '?'} · provider ${d.provider ?? '?'} · active ${models} (${s?.models?.length ?? 0} installed)`);
      ctx.out.text(`  rows scored ${d.rowsScored.toLocaleString('en-US')} · items received ${d.items} · backlog ${d.backlog ?? '?'} (waiting on the device at its last heartbeat, less what arrived since) · open alerts ${d.openAlerts}`);
    }
    return 0;
  },
};

export const hubDevicesRevokeCommand: CommandSpec = {
  name: 'hub devices revoke',
  summary: 'Revoke a workstation: its signed requests are refused (403) from now on',
  usage: 'outpost hub devices revoke --dir <d> --name NAME',
  help: [...HUB_HELP, '--name NAME   the workstation'],
  options: { ...HUB_OPTS, name: { type: 'string' } },
  async run(ctx, args) {
    const name = str(args, 'name');
    if (!name) throw usageError('--name is required');
    const r = await withHub(ctx, args, (hub) => revokeDevice(hub, name));
    ctx.out.text(r.alreadyRevoked ? `"${name}" was already revoked` : `revoked "${name}": its requests are refused from now on`);
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};

export const hubDevicesCodesCommand: CommandSpec = {
  name: 'hub devices codes',
  summary: 'Enrollment codes not used yet: device name, group, created, expires, state (the hub keeps only their hash, never the code)',
  usage: 'outpost hub devices codes --dir <d>',
  help: HUB_HELP,
  options: HUB_OPTS,
  async run(ctx, args) {
    const codes = await withHub(ctx, args, (hub) => listEnrollments(hub));
    ctx.out.json({ ok: true, codes });
    if (!codes.length) { ctx.out.text('no unused enrollment codes (make one with `outpost hub devices add`)'); return 0; }
    for (const c of codes) {
      const state = c.state === 'cancelled' ? `cancelled ${c.cancelledAt}` : c.state === 'expired' ? `expired ${c.expiresAt}` : `outstanding, expires ${c.expiresAt}`;
      ctx.out.text(`${c.name}${c.group ? ` [${c.group}]` : ''}  ${state}  (created ${c.createdAt})`);
    }
    return 0;
  },
};

export const hubDevicesCodesCancelCommand: CommandSpec = {
  name: 'hub devices codes cancel',
  summary: 'Cancel a workstation\'s unused enrollment code: `outpost connect --code` with it is refused from now on',
  usage: 'outpost hub devices codes cancel <device-name> --dir <d>',
  help: [...HUB_HELP, '<device-name>  the name the code was made for (`hub devices codes` lists them)'],
  options: HUB_OPTS,
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const name = args.positionals[0];
    const r = await withHub(ctx, args, (hub) => cancelEnrollment(hub, name));
    ctx.out.text(r.alreadyCancelled ? `the enrollment code for "${name}" was already cancelled (${r.cancelledAt})` : `cancelled the enrollment code for "${name}": it can no longer enroll a workstation`);
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};

export const hubDriftCommand: CommandSpec = {
  name: 'hub drift',
  summary: 'Fleet drift of a model version: the exact merge of the workstations\' window statistics',
  usage: 'outpost hub drift <model>[@<version>] --dir <d> [--group G] [--window day|hour [--last N]]',
  help: [...HUB_HELP, '--group G          only workstations of this group', '--window hour|day  the metric over the last N UTC windows (default: everything synced)', '--last N           how many windows (default 24 hours or 30 days)'],
  options: { ...HUB_OPTS, group: { type: 'string' }, window: { type: 'string' }, last: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const window = str(args, 'window');
    if (window !== undefined && window !== 'hour' && window !== 'day') throw usageError(`--window must be hour or day (got "${window}")`);
    const lastText = str(args, 'last');
    if (lastText !== undefined && window === undefined) throw usageError('--last goes with --window');
    const last = wholeNumber(args, 'last', 1, 1000);
    const r = await withHub(ctx, args, (hub) => fleetDrift(hub, args.positionals[0], { group: str(args, 'group'), ...(window ? { window } : {}), ...(last !== undefined ? { last } : {}) }));
    // ±∞ as "Infinity", like `outpost drift --json` (plain JSON would write null: "not computed")
    ctx.out.json(JSON.parse(stringifyDrift({ ok: true, ...r })) as Record<string, unknown>);
    ctx.out.text(`Fleet drift of ${r.model}@${r.version} — ${r.description}: ${r.rows.toLocaleString('en-US')} rows scored vs ${r.referenceRows.toLocaleString('en-US')} reference rows`);
    ctx.out.text(`  devices: ${r.devices.join(', ')}`);
    for (const x of r.excluded) ctx.out.warn(`  not merged: ${x.device} used another card of this version (${x.cardSha256.slice(0, 12)}…)`);
    if (r.windows) {
      ctx.out.text('');
      for (const line of renderSeries(r.windows)) ctx.out.text(`  ${line}`);
    }
    ctx.out.text('');
    for (const line of renderReport(r.report)) ctx.out.text(line);
    ctx.out.text('');
    ctx.out.text('Worst features (severity: score relative to its threshold; ≥ 1× is drift):');
    for (const line of renderWorstFeatures(r.report)) ctx.out.text(`  ${line}`);
    return 0;
  },
};

export const hubEventsCommand: CommandSpec = {
  name: 'hub events',
  summary: 'Alerts, security events, model changes and dropped items across the fleet, newest first',
  usage: 'outpost hub events --dir <d> [--device NAME] [--group G] [--model NAME[@V]] [--kind alert|security|model|sync-dropped|rollout] [--since TIME] [--limit N]',
  help: [...HUB_HELP, '--device NAME   one workstation', '--group G       the devices of one group', '--model M       events about model M (or version M@V)', '--kind K        alert, security, model, sync-dropped or rollout (repeatable)', '--since TIME    events at or after an ISO time', '--limit N       at most N events (default 100)'],
  options: { ...HUB_OPTS, device: { type: 'string' }, group: { type: 'string' }, model: { type: 'string' }, kind: { type: 'string', multiple: true }, since: { type: 'string' }, limit: { type: 'string' } },
  async run(ctx, args) {
    const limit = wholeNumber(args, 'limit', 1, 100_000) ?? 100;
    const kinds = (args.values.kind as string[] | undefined) ?? [];
    const bad = kinds.filter((k) => !(EVENT_KINDS as readonly string[]).includes(k));
    if (bad.length) throw usageError(`--kind must be alert, security, model, sync-dropped or rollout (got ${bad.join(', ')})`);
    const since = iso(str(args, 'since'), '--since');
    const model = str(args, 'model');
    const ref = model === undefined ? undefined : parseModelVersion(model);
    if (ref && !ref.ok) throw usageError(`--model: ${ref.reason}`);
    const events = await withHub(ctx, args, (hub) => listFleetEvents(hub, { limit, kinds, device: str(args, 'device'), group: str(args, 'group'), model, ...(since !== undefined ? { since } : {}) }));
    ctx.out.json({ ok: true, events });
    if (!events.length) ctx.out.text('no events');
    for (const e of events) ctx.out.text(`${e.at}  ${e.device}${e.group ? ` [${e.group}]` : ''}  ${e.kind}  ${e.summary}`);
    return 0;
  },
};

export const hubExportPredictionsCommand: CommandSpec = {
  name: 'hub export predictions',
  summary: 'Write the predictions workstations synced as Parquet (for DuckDB, pandas)',
  usage: 'outpost hub export predictions --dir <d> --model M[@V] [--since TIME] [--device NAME] --out F.parquet [--overwrite]',
  help: [...HUB_HELP, '--model M[@V]   the model (and version)', '--since TIME     predictions logged at or after an ISO time', '--device NAME   one workstation', '--out FILE       the Parquet file (its folder must exist; written to a temp file, renamed at the end)', '--overwrite      replace --out if it exists (without it an existing file is refused)'],
  options: { ...HUB_OPTS, model: { type: 'string' }, since: { type: 'string' }, device: { type: 'string' }, out: { type: 'string' }, overwrite: { type: 'boolean' } },
  async run(ctx, args) {
    const model = str(args, 'model');
    const out = str(args, 'out');
    if (!model || !out) throw usageError('--model and --out are required');
    if (!out.toLowerCase().endsWith('.parquet')) throw usageError('--out must be a .parquet file');
    const ref = parseModelVersion(model);
    if (!ref.ok) throw usageError(ref.reason);
    const since = iso(str(args, 'since'), '--since');
    const file = checkOutputFile(ctx.cwd, out, { option: '--out', overwrite: flag(args, 'overwrite') });
    const r = await withHub(ctx, args, (hub) => exportPredictions(hub, { model: ref.name, ...(ref.version !== undefined ? { version: ref.version } : {}), ...(since !== undefined ? { since } : {}), device: str(args, 'device') }, file));
    ctx.out.text(`wrote ${r.rows.toLocaleString('en-US')} predictions (${r.batches} batches from ${r.devices} device${r.devices === 1 ? '' : 's'}) to ${r.file}`);
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};
