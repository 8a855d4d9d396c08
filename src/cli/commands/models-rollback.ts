// `outpost models rollback`: return to the previously active version (an explicit local act, recorded).
import { rollback } from '../../store/node/models.ts';
import { openStore } from '../../store/node/store.ts';
import type { CommandSpec } from '../command.ts';

export const modelsRollbackCommand: CommandSpec = {
  name: 'models rollback',
  summary: 'Make the previously active version of a model active again',
  usage: 'outpost models rollback <name>',
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const m = rollback(store, args.positionals[0]);
      ctx.out.text(`${m.name}@${m.version} is active again`);
      ctx.out.json({ ok: true, name: m.name, version: m.version });
      return 0;
    } finally {
      store.close();
    }
  },
};
