// `outpost models rollback | activate | remove`: which installed version is active, and removing one.
// Each is an explicit local act, recorded as a model event (and synced).
import { activate, removeModel, rollback } from '../../store/node/models.ts';
import { openStore } from '../../store/node/store.ts';
import { flag, type CommandSpec } from '../command.ts';

export const modelsRollbackCommand: CommandSpec = {
  name: 'models rollback',
  summary: 'Make the previously active version of a model active again',
  usage: 'outpost models rollback <name>',
  help: ['goes to the version active before the current one in the recorded history; again: one step further back'],
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const from = store.db.prepare('SELECT version FROM active_models WHERE name = ?').get(args.positionals[0]) as { version: number } | undefined;
      const m = rollback(store, args.positionals[0]);
      ctx.out.text(`${m.name}@${m.version} is active again (was ${m.name}@${from?.version})`);
      ctx.out.json({ ok: true, name: m.name, version: m.version, previous: from?.version ?? null });
      return 0;
    } finally {
      store.close();
    }
  },
};

export const modelsActivateCommand: CommandSpec = {
  name: 'models activate',
  summary: 'Make an installed version the active one (any installed version; recorded)',
  usage: 'outpost models activate <name>@<version> [--force]',
  help: ['--force    activate a version its hub yanked or whose publisher was revoked'],
  options: { force: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const { model: m, previous } = activate(store, args.positionals[0], { force: flag(args, 'force') });
      ctx.out.text(previous === m.version ? `${m.name}@${m.version} was already active` : `${m.name}@${m.version} is active${previous !== null ? ` (was ${m.name}@${previous}; \`outpost models rollback ${m.name}\` goes back)` : ''}`);
      ctx.out.json({ ok: true, name: m.name, version: m.version, previous });
      return 0;
    } finally {
      store.close();
    }
  },
};

export const modelsRemoveCommand: CommandSpec = {
  name: 'models remove',
  summary: 'Remove an installed version: its files and records (prediction logs stay); not the active one unless --force',
  usage: 'outpost models remove <name>@<version> [--force]',
  help: ['--force    remove the active version too: the version before it in the recorded history becomes active (or none)'],
  options: { force: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const r = removeModel(store, args.positionals[0], { force: flag(args, 'force') });
      ctx.out.json({ ok: true, ...r });
      ctx.out.text(`Removed ${r.name}@${r.version}${r.wasActive ? (r.nowActive !== null ? `; ${r.name}@${r.nowActive} is active now` : `; no version of ${r.name} is active now`) : ''}`);
      if (r.predictionsKept) ctx.out.text(`  kept: ${r.predictionsKept.toLocaleString('en-US')} logged predictions and ${r.jobs.length} job record${r.jobs.length === 1 ? '' : 's'} (remove jobs with \`outpost jobs rm\`)`);
      return 0;
    } finally {
      store.close();
    }
  },
};
