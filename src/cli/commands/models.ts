import path from 'node:path';
import { chooseProvider } from '../../inference/node/providers.ts';
import { installPackage, getModel, listModels, type InstalledModel } from '../../store/node/models.ts';
import { getSettings, openStore } from '../../store/node/store.ts';
import type { TeamKeyState } from '../../registry/node/team-keys.ts';

/** Team key states of hub models (loads the TUF models only when a hub model is installed: `models list` stays quick). */
async function keyStates(home: string, models: InstalledModel[]) {
  if (!models.some((m) => m.source === 'hub')) return { states: new Map<InstalledModel, TeamKeyState>(), describe: () => undefined };
  const { teamKeyStates, describeTeamKeys } = await import('../../registry/node/team-keys.ts');
  return { states: teamKeyStates(home, models), describe: describeTeamKeys };
}
import { flag, type CommandSpec } from '../command.ts';

const summary = (m: InstalledModel, keys?: TeamKeyState) => ({
  name: m.name, version: m.version, task: m.card.task, active: m.active, source: m.source, signedBy: m.signedBy, signedAt: m.signedAt,
  installedAt: m.installedAt, sizeBytes: m.sizeBytes, modelSha256: m.modelSha256, hub: m.source === 'hub' ? m.origin : null,
  hubStatus: m.hubStatus, hubStatusDetail: m.hubStatusDetail, ...(keys ? { teamKeys: keys } : {}),
});

export const modelsAddCommand: CommandSpec = {
  name: 'models add',
  summary: 'Install a local model package folder (unsigned: needs --allow-unsigned)',
  usage: 'outpost models add <package-dir> --allow-unsigned',
  help: ['--allow-unsigned    install a package that no trusted publisher signed (local development)'],
  options: { 'allow-unsigned': { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const m = installPackage(store, path.resolve(ctx.cwd, args.positionals[0]), { source: 'local', allowUnsigned: flag(args, 'allow-unsigned') });
      ctx.out.json({ ok: true, model: summary(m) });
      ctx.out.text(`Installed ${m.name}@${m.version} (${m.card.task}, ${m.card.inputs.length} inputs)${m.active ? ', now active' : ''}; unsigned local package`);
      return 0;
    } finally {
      store.close();
    }
  },
};

export const modelsListCommand: CommandSpec = {
  name: 'models list',
  summary: 'List installed models and versions',
  usage: 'outpost models list',
  async run(ctx) {
    const store = openStore(ctx.home);
    try {
      const models = listModels(store);
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

export const modelsShowCommand: CommandSpec = {
  name: 'models show',
  summary: 'Show a model\'s card, input schema and the provider it would run on',
  usage: 'outpost models show <name>[@<version>]',
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const m = getModel(store, args.positionals[0]);
      const provider = await chooseProvider(getSettings(store).provider);
      ctx.out.json({ ok: true, model: summary(m, (await keyStates(ctx.home, [m])).states.get(m)), card: m.card, provider });
      const c = m.card;
      ctx.out.text(`${m.name}@${m.version}${m.active ? ' (active)' : ''} — ${c.task}${c.description ? `: ${c.description}` : ''}`);
      ctx.out.text(`  source:   ${m.source}${m.signedBy ? `, signed by ${m.signedBy}` : ''}; installed ${m.installedAt}`);
      ctx.out.text(`  provider: ${provider.chosen}${provider.candidates.filter((x) => x.name !== provider.chosen).map((x) => `; ${x.name}: ${x.reason}`).join('')}`);
      ctx.out.text('  inputs:');
      for (const f of c.inputs) {
        const range = f.range ? ` range [${f.range.min ?? '-∞'}, ${f.range.max ?? '∞'}]` : '';
        const vocab = f.vocabulary ? ` one of ${f.vocabulary.join(', ')}` : '';
        ctx.out.text(`    ${f.name.padEnd(20)} ${f.type}${f.nullable ? ' (nullable)' : ''}${f.unit ? ` [${f.unit}]` : ''}${range}${vocab}`);
      }
      ctx.out.text(`  outputs:  ${c.task === 'regression' ? 'value' : `label, probabilities for ${c.outputs.classes!.join(', ')}`}`);
      if (c.metrics) ctx.out.text(`  metrics:  ${Object.entries(c.metrics).map(([k, v]) => `${k} ${Number(v.toFixed(4))}`).join(', ')}`);
      if (c.lineage) ctx.out.text(`  lineage:  ${c.lineage.trainingRows ?? '?'} training rows, data sha256 ${String(c.lineage.trainingDataHash ?? '?').slice(0, 16)}…, code ${c.lineage.codeVersion ?? '?'}`);
      return 0;
    } finally {
      store.close();
    }
  },
};

