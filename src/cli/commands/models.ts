import path from 'node:path';
import { cacheDate } from '../../inference/common/providers.ts';
import { PROBE_CACHE_FILE } from '../../inference/node/probe-cache.ts';
import { installPackage, getModel } from '../../store/node/models.ts';
import { getSettings, openStore } from '../../store/node/store.ts';
import { keyStates, summary } from './models-list.ts';
import { flag, type CommandSpec } from '../command.ts';

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

export const modelsShowCommand: CommandSpec = {
  name: 'models show',
  summary: 'Show a model\'s card, input schema and the provider it would run on',
  usage: 'outpost models show <name>[@<version>]',
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const m = getModel(store, args.positionals[0]);
      const { chooseProvider } = await import('../../inference/node/providers.ts');
      const provider = await chooseProvider(getSettings(store).provider, { cacheFile: path.join(ctx.home, PROBE_CACHE_FILE), home: ctx.home });
      ctx.out.json({ ok: true, model: summary(m, (await keyStates(ctx.home, [m])).states.get(m)), card: m.card, provider });
      const c = m.card;
      ctx.out.text(`${m.name}@${m.version}${m.active ? ' (active)' : ''} — ${c.task}${c.description ? `: ${c.description}` : ''}`);
      ctx.out.text(`  source:   ${m.source}${m.signedBy ? `, signed by ${m.signedBy}` : ''}; installed ${m.installedAt}`);
      ctx.out.text(`  provider: ${provider.chosen}${provider.cachedAt ? ` (cached probe from ${cacheDate(provider.cachedAt)})` : ''}${provider.candidates.filter((x) => x.name !== provider.chosen).map((x) => `; ${x.name}: ${x.reason}`).join('')}`);
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

