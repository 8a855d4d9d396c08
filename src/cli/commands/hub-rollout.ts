// `outpost hub rollout <model>:<alias> --group G [--percent P]` and `hub rollout list|status|halt|
// rollback`: staged rollout as desired state (src/hub/node/rollouts.ts). They open the hub folder
// directly like the other fleet commands; the admin API (/api/v1/rollouts) runs the same functions.
import { groupFromText, percentFromText, rolloutIdFromText, versionFromText } from '../../hub/common/rollout-input.ts';
import { createRollout, haltRollout, listRollouts, parseRolloutRef, rollbackRollout, rolloutStatus, type RolloutDeviceRow, type RolloutView } from '../../hub/node/rollouts.ts';
import { flag, str, type CommandContext, type CommandSpec } from '../command.ts';
import { HUB_HELP, HUB_OPTS, withHub } from './hub-fleet.ts';

function describe(r: RolloutView): string[] {
  const c = r.counts;
  const target = r.state === 'rolled-back'
    ? (r.rollbackTo !== null ? `back to ${r.model}@${r.rollbackTo}` : 'back to each device\'s previous version')
    : `${r.model}:${r.alias} → ${r.targetVersion === null ? '(alias gone)' : `${r.model}@${r.targetVersion}`}`;
  return [
    `${r.id}  ${r.state.toUpperCase()}  ${target}  group ${r.group}${r.percent < 100 ? ` (${r.percent} %)` : ''}  generation ${r.generation}`,
    `  devices ${c.devices}${c.devices !== c.groupDevices ? ` of ${c.groupDevices} in the group` : ''}: running ${c.running} · failed ${c.failed} · available ${c.available} · pending ${c.pending}${c.stopped ? ` · stopped ${c.stopped}` : ''}${c.unaffected ? ` · unaffected ${c.unaffected}` : ''}   (created ${r.createdAt})`,
  ];
}

function deviceLine(d: RolloutDeviceRow): string {
  const why = d.state === 'failed' ? `  refused at ${d.stage}: ${d.reason}` : '';
  const v = d.reportedVersion !== null ? ` v${d.reportedVersion}` : '';
  return `  ${d.device.padEnd(20)} ${d.state.padEnd(11)}${v}  active ${d.activeVersion ?? '—'}  last seen ${d.lastSeenAt ?? 'never'}${why}`;
}

const idArg = (args: { positionals: string[] }): string => rolloutIdFromText(args.positionals[0]);

export const hubRolloutCommand: CommandSpec = {
  name: 'hub rollout',
  summary: 'Roll what a signed alias points to out to a group of workstations (or a stable percentage of it); they follow on their next sync',
  usage: 'outpost hub rollout <model>:<alias> --group G [--percent P] [--seed S] [--allow-empty-group] --dir <d>',
  help: [...HUB_HELP, '--group G    the workstations of this group (`hub devices add --group`); a group no workstation is in, and no outstanding enrollment code names, is refused',
    '--percent P  only a stable P % of the group (default 100)', '--seed S     chooses which devices a percentage takes (default <model>/<group>: a larger P keeps the devices a smaller one chose)',
    '--allow-empty-group  start it even so: staged for workstations that enroll into the group later'],
  options: { ...HUB_OPTS, group: { type: 'string' }, percent: { type: 'string' }, seed: { type: 'string' }, 'allow-empty-group': { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext, args) {
    parseRolloutRef(args.positionals[0]); // what was typed first is checked first
    const group = groupFromText(str(args, 'group'));
    const percent = percentFromText(str(args, 'percent'));
    const r = await withHub(ctx, args, (hub) => createRollout(hub, { ref: args.positionals[0], group, percent, seed: str(args, 'seed'), allowEmptyGroup: flag(args, 'allow-empty-group') }));
    ctx.out.json({ ok: true, rollout: r });
    for (const l of describe(r)) ctx.out.text(l);
    if (r.counts.groupDevices === 0) ctx.out.warn(`no workstation is in group "${group}" yet: devices enrolled into it later follow the rollout`);
    ctx.out.text('  workstations pull and verify it on their next sync (policy auto) or offer it to their user (policy ask)');
    return 0;
  },
};

export const hubRolloutListCommand: CommandSpec = {
  name: 'hub rollout list',
  summary: 'Rollouts, newest first, with their progress (running, failed, available, pending, stopped)',
  usage: 'outpost hub rollout list --dir <d> [--model M] [--group G]',
  help: [...HUB_HELP, '--model M    only this model', '--group G    only this group'],
  options: { ...HUB_OPTS, model: { type: 'string' }, group: { type: 'string' } },
  async run(ctx, args) {
    const rollouts = await withHub(ctx, args, (hub) => listRollouts(hub, { model: str(args, 'model'), group: str(args, 'group') }));
    ctx.out.json({ ok: true, rollouts });
    if (!rollouts.length) ctx.out.text('no rollouts (start one with `outpost hub rollout <model>:<alias> --group G`)');
    for (const r of rollouts) for (const l of describe(r)) ctx.out.text(l);
    return 0;
  },
};

export const hubRolloutStatusCommand: CommandSpec = {
  name: 'hub rollout status',
  summary: 'One rollout, device by device: running, failed (the pull stage that refused and why), available, pending, stopped (halted or superseded before it moved the device), unaffected',
  usage: 'outpost hub rollout status <rollout-id> --dir <d>',
  help: HUB_HELP,
  options: HUB_OPTS,
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const id = idArg(args);
    const s = await withHub(ctx, args, (hub) => rolloutStatus(hub, id));
    ctx.out.json({ ok: true, ...s });
    for (const l of describe(s.rollout)) ctx.out.text(l);
    for (const d of s.devices) ctx.out.text(deviceLine(d));
    return 0;
  },
};

export const hubRolloutHaltCommand: CommandSpec = {
  name: 'hub rollout halt',
  summary: 'Halt a rollout: workstations that have not installed it will not; those that did keep it',
  usage: 'outpost hub rollout halt <rollout-id> --dir <d>',
  help: HUB_HELP,
  options: HUB_OPTS,
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const id = idArg(args);
    const r = await withHub(ctx, args, (hub) => haltRollout(hub, id));
    ctx.out.json({ ok: true, rollout: r });
    for (const l of describe(r)) ctx.out.text(l);
    return 0;
  },
};

export const hubRolloutRollbackCommand: CommandSpec = {
  name: 'hub rollout rollback',
  summary: 'Roll a rollout back: its workstations return to the version each ran before (or --to V) on their next sync',
  usage: 'outpost hub rollout rollback <rollout-id> --dir <d> [--to V]',
  help: [...HUB_HELP, '--to V       every selected workstation goes to version V (default: each to the version it ran before the rollout)'],
  options: { ...HUB_OPTS, to: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const id = idArg(args);
    const to = versionFromText(str(args, 'to'));
    const r = await withHub(ctx, args, (hub) => rollbackRollout(hub, id, { to }));
    ctx.out.json({ ok: true, rollout: r });
    for (const l of describe(r)) ctx.out.text(l);
    return 0;
  },
};
