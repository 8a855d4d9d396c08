// `outpost models list`: its own module so that listing loads only the store (no card schema,
// ONNX Runtime, package checks, or TUF unless a hub model is installed).
import type { TeamKeyState } from '../../registry/node/team-keys.ts';
import { listInstalled, type InstalledModel } from '../../store/node/model-list.ts';
import { openStore } from '../../store/node/store.ts';
import type { CommandSpec } from '../command.ts';

/** Team key states of hub models (loads the TUF models only when a hub model is installed: `models list` stays quick). */
export async function keyStates(home: string, models: InstalledModel[]) {
  if (!models.some((m) => m.source === 'hub')) return { states: new Map<InstalledModel, TeamKeyState>(), describe: () => undefined };
  const { teamKeyStates, describeTeamKeys } = await import('../../registry/node/team-keys.ts');
  return { states: teamKeyStates(home, models), describe: describeTeamKeys };
}

export const summary = (m: InstalledModel, keys?: TeamKeyState) => ({
  name: m.name, version: m.version, task: m.card.task, active: m.active, source: m.source, signedBy: m.signedBy, signedAt: m.signedAt,
  installedAt: m.installedAt, sizeBytes: m.sizeBytes, modelSha256: m.modelSha256, hub: m.source === 'hub' ? m.origin : null,
  hubStatus: m.hubStatus, hubStatusDetail: m.hubStatusDetail, ...(keys ? { teamKeys: keys } : {}),
});

export const modelsListCommand: CommandSpec = {
  name: 'models list',
  summary: 'List installed models and versions',
  usage: 'outpost models list',
  async run(ctx) {
    const store = openStore(ctx.home);
    try {
      const models = listInstalled(store);
      const keys = await keyStates(ctx.home, models);
      ctx.out.json({ ok: true, models: models.map((m) => summary(m, keys.states.get(m))) });
      if (!models.length) ctx.out.text('No models installed. Add one with `outpost models add <dir> --allow-unsigned` or `outpost pull`.');
      for (const m of models) {
        const signer = m.signedBy ? `signed by ${m.signedBy}${m.signedAt ? ` at ${m.signedAt}` : ''}` : 'unsigned (local)';
        ctx.out.text(`${m.active ? '*' : ' '} ${`${m.name}@${m.version}`.padEnd(28)} ${m.card.task.padEnd(11)} ${signer}${m.source === 'hub' && m.origin ? ` from ${m.origin}` : ''}`);
        if (m.hubStatus === 'yanked') ctx.out.text(`    YANKED by its publisher: ${m.hubStatusDetail ?? '(no reason given)'}`);
        else if (m.hubStatus) ctx.out.text(`    ${m.hubStatus.toUpperCase()}: ${m.hubStatusDetail ?? ''}`);
        const state = keys.states.get(m);
        const k = state && keys.describe(m, state);
        if (k) ctx.out.text(`    KEY CHANGE: ${k}`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
