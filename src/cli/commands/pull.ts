// `outpost pull`: download, verify and install a signed model version from a hub.
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import { pull } from '../../registry/node/pull.ts';
import { getHubSetting, openStore } from '../../store/node/store.ts';
import { flag, str, type CommandSpec } from '../command.ts';
import { CA_HELP, CA_OPTION, hubTrust } from '../hub-access.ts';

/** The workstation's connected hub (store setting `hub`), if any. */
function connectedHub(home: string): string | undefined {
  const store = openStore(home);
  try { return getHubSetting(store)?.url; } finally { store.close(); }
}

export const pullCommand: CommandSpec = {
  name: 'pull',
  summary: 'Download, verify (TUF) and install a model version from a hub',
  usage: 'outpost pull <name>[@<version>|:<alias>] [--hub <url>] [--root <root.json>] [--ca <ca.pem>] [--repair] [--switch-hub]',
  help: [
    '--hub URL       the hub (default: $OUTPOST_HUB, else this workstation\'s connected hub)',
    '--root FILE     the hub\'s root.json to trust (first time only; later roots arrive cross-signed)',
    '--repair        the version is installed but its files were modified: replace them with verified copies',
    '--switch-hub    the name is installed from another hub (or a local folder): let this hub win for it',
    ...CA_HELP,
  ],
  options: { hub: { type: 'string' }, root: { type: 'string' }, repair: { type: 'boolean' }, 'switch-hub': { type: 'boolean' }, ...CA_OPTION },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const hubUrl = str(args, 'hub') ?? ctx.env.OUTPOST_HUB ?? connectedHub(ctx.home);
    if (!hubUrl) throw usageError('--hub <url> is required (this workstation has no connected hub)');
    hubTrust(ctx, args, hubUrl);
    const root = str(args, 'root');
    let lastStage = '';
    const r = await pull({
      home: ctx.home, hubUrl, ref: args.positionals[0], rootFile: root ? path.resolve(ctx.cwd, root) : undefined, signal: ctx.signal,
      repair: flag(args, 'repair'), switchHub: flag(args, 'switch-hub'),
      onProgress: (e) => {
        ctx.out.event({ event: 'progress', ...e });
        if (ctx.interactive && e.stage !== lastStage) ctx.out.warn(`… ${e.stage}${e.file ? ` ${e.file}` : ''}`);
        lastStage = e.stage;
      },
    });
    const m = r.model;
    ctx.out.text(r.repaired ? `${m.name}@${m.version} repaired: its modified files were replaced with verified copies from ${r.hub}` : r.alreadyInstalled ? `${m.name}@${m.version} is already installed (files re-verified)` : `installed ${m.name}@${m.version} from ${r.hub}`);
    ctx.out.text(`  signed by ${r.signedBy}${r.signedAt ? ` at ${r.signedAt}` : ''}`);
    ctx.out.text(m.active ? `  active${r.previousActive !== undefined && r.previousActive !== m.version ? ` (was ${m.name}@${r.previousActive}, kept as last-known-good)` : ''}` : `  not active (active: ${m.name}@${r.previousActive})`);
    ctx.out.json({ ok: true, name: m.name, version: m.version, active: m.active, previousActive: r.previousActive ?? null, alreadyInstalled: r.alreadyInstalled, repaired: r.repaired ?? false, signedBy: r.signedBy, signedAt: r.signedAt, hub: r.hub, modelSha256: m.modelSha256 });
    return 0;
  },
};
