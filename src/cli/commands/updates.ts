// `outpost updates` and `outpost updates install <rollout>`: model versions the hub rolls out to
// this workstation (src/sync/node/rollout.ts). Under the `ask` rollout policy a sync only offers
// them; installing goes through the same verified pull as `outpost pull`.
import { usageError } from '../../common/errors.ts';
import { openStore } from '../../store/node/store.ts';
import { prepareHubTrust } from '../../registry/node/hub-tls.ts';
import { installOffered, listAssignments } from '../../sync/node/rollout.ts';
import { requireConnection } from '../../sync/node/sync.ts';
import type { CommandSpec } from '../command.ts';

export const updatesCommand: CommandSpec = {
  name: 'updates',
  summary: 'Model versions the hub rolled out to this workstation: offered (policy ask), installed, failed and why',
  usage: 'outpost updates',
  async run(ctx) {
    const store = openStore(ctx.home);
    try {
      const all = listAssignments(store);
      ctx.out.json({ ok: true, updates: all });
      if (!all.length) { ctx.out.text('no rollouts assigned to this workstation (they arrive with `outpost sync`)'); return 0; }
      for (const a of all) {
        const what = a.state === 'available' ? `UPDATE AVAILABLE: ${a.ref} — install with \`outpost updates install ${a.rollout}\``
          : a.state === 'installed' ? `installed ${a.model}@${a.version}${a.previousVersion !== null ? ` (was ${a.previousVersion})` : ''}`
            : a.state === 'failed' ? `refused ${a.ref} at ${a.stage}: ${a.reason}`
              : a.state === 'withdrawn' ? `withdrawn by the hub operator (${a.ref})` : `pending: ${a.ref}`;
        ctx.out.text(`${a.rollout}  ${a.updatedAt}  ${what}`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};

export const updatesInstallCommand: CommandSpec = {
  name: 'updates install',
  summary: 'Install an update the hub offered (policy ask): verified pull, then active; reported at the next sync',
  usage: 'outpost updates install <rollout-id>',
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const id = args.positionals[0];
    if (!/^ro_[a-z0-9]{8,40}$/.test(id)) throw usageError(`"${id}" is not a rollout id (ro_…; see \`outpost updates\`)`);
    const store = openStore(ctx.home);
    try {
      const conn = requireConnection(store);
      prepareHubTrust(store.home, conn.url);
      const r = await installOffered(store, conn, id, { signal: ctx.signal, onProgress: (e) => ctx.out.event({ event: 'progress', ...e }) });
      ctx.out.json({ ok: r.state === 'installed', update: r });
      if (r.state === 'installed') {
        ctx.out.text(`installed ${r.model}@${r.version} (verified) and made it active; the hub learns it at the next sync`);
        return 0;
      }
      ctx.out.warn(`refused ${r.ref} at ${r.stage}: ${r.reason}`);
      return 1;
    } finally {
      store.close();
    }
  },
};
