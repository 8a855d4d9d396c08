// `outpost models verify`: re-hash installed model files against what was verified at install.
import { verifyModels } from '../../registry/node/verify.ts';
import { openStore } from '../../store/node/store.ts';
import type { CommandSpec } from '../command.ts';

export const modelsVerifyCommand: CommandSpec = {
  name: 'models verify',
  summary: 'Re-hash installed model files (all, or one model\'s versions)',
  usage: 'outpost models verify [<name>]',
  positionals: { min: 0, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const reports = verifyModels(store, args.positionals[0]);
      for (const r of reports) {
        ctx.out.text(`${r.model.name}@${r.model.version}: ${r.problems.length ? `MODIFIED\n  ${r.problems.join('\n  ')}` : 'ok'}`);
      }
      if (!reports.length) ctx.out.text(args.positionals[0] ? `no installed versions of "${args.positionals[0]}"` : 'no models installed');
      const bad = reports.filter((r) => r.problems.length);
      ctx.out.json({ ok: bad.length === 0, models: reports.map((r) => ({ name: r.model.name, version: r.model.version, ok: !r.problems.length, problems: r.problems })) });
      if (bad.length) ctx.out.warn(`${bad.length} installed version(s) modified on disk; recorded as security events. Re-pull them or roll back.`);
      return bad.length ? 1 : 0;
    } finally {
      store.close();
    }
  },
};
