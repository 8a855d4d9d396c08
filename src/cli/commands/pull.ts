// `outpost pull`: download, verify and install a signed model version from a hub.
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import { pull } from '../../registry/node/pull.ts';
import { openStore } from '../../store/node/store.ts';
import { hubConnection } from '../../store/node/sync-state.ts';
import { str, type CommandSpec } from '../command.ts';

/** The hub `outpost connect` recorded, if any. */
function connectedHub(home: string): string | undefined {
  const store = openStore(home);
  try {
    return hubConnection(store)?.url;
  } finally {
    store.close();
  }
}

export const pullCommand: CommandSpec = {
  name: 'pull',
  summary: 'Download, verify (TUF) and install a model version from a hub',
  usage: 'outpost pull <name>[@<version>|:<alias>] [--hub <url>] [--root <root.json>]',
  help: [
    '--hub URL       the hub (or $OUTPOST_HUB; default: the hub this workstation is connected to)',
    '--root FILE     the hub\'s root.json to trust (first time only; later roots arrive cross-signed)',
  ],
  options: { hub: { type: 'string' }, root: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const hubUrl = str(args, 'hub') ?? ctx.env.OUTPOST_HUB ?? connectedHub(ctx.home);
    if (!hubUrl) throw usageError('--hub <url> is required (or connect this workstation to a hub with `outpost connect`)');
    const root = str(args, 'root');
    let lastStage = '';
    const r = await pull({
      home: ctx.home, hubUrl, ref: args.positionals[0], rootFile: root ? path.resolve(ctx.cwd, root) : undefined, signal: ctx.signal,
      onProgress: (e) => {
        ctx.out.event({ event: 'progress', ...e });
        if (ctx.interactive && e.stage !== lastStage) ctx.out.warn(`… ${e.stage}${e.file ? ` ${e.file}` : ''}`);
        lastStage = e.stage;
      },
    });
    const m = r.model;
    ctx.out.text(r.alreadyInstalled ? `${m.name}@${m.version} is already installed (files re-verified)` : `installed ${m.name}@${m.version} from ${r.hub}`);
    ctx.out.text(`  signed by ${r.signedBy}${r.signedAt ? ` at ${r.signedAt}` : ''}`);
    ctx.out.text(m.active ? `  active${r.previousActive !== undefined && r.previousActive !== m.version ? ` (was ${m.name}@${r.previousActive}, kept as last-known-good)` : ''}` : `  not active (active: ${m.name}@${r.previousActive})`);
    ctx.out.json({ ok: true, name: m.name, version: m.version, active: m.active, previousActive: r.previousActive ?? null, alreadyInstalled: r.alreadyInstalled, signedBy: r.signedBy, signedAt: r.signedAt, hub: r.hub, modelSha256: m.modelSha256 });
    return 0;
  },
};
