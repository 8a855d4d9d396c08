// `outpost pull`: download, verify and install a signed model version from a hub.
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import { parseSelector } from '../../hub/common/target-paths.ts';
import { bundleFetch, bundleMismatch, openBundle } from '../../registry/node/bundle.ts';
import { pull } from '../../registry/node/pull.ts';
import { hubBase } from '../../registry/node/trust.ts';
import { flag, str, type CommandSpec } from '../command.ts';
import { stageReporter } from '../progress.ts';
import { CA_HELP, CA_OPTION, connectedHub, hubTrust } from '../hub-access.ts';

export const pullCommand: CommandSpec = {
  name: 'pull',
  summary: 'Download, verify (TUF) and install a model version from a hub',
  usage: 'outpost pull <name>[@<version>|:<alias>] [--hub <url>] [--root <root.json>] [--ca <ca.pem>] [--repair] [--switch-hub]\n       outpost pull --bundle <file.outpost> [<name>[@<version>|:<alias>]] [--hub <url>] [--root <root.json>]',
  help: [
    '--bundle F      install from a bundle (`outpost hub bundle`) instead of the network: the same TUF',
    '                verification against the root this device trusts for the hub (default selector: the',
    '                one the bundle was made for; default hub: --hub, else the URL recorded in the bundle)',
    '--hub URL       the hub (default: $OUTPOST_HUB, else this workstation\'s connected hub)',
    '--root FILE     the hub\'s root.json to trust (first time only; later roots arrive cross-signed)',
    '--repair        the version is installed but its files were modified: replace them with verified copies',
    '--switch-hub    the name is installed from another hub (or a local folder): let this hub win for it',
    ...CA_HELP,
  ],
  options: { bundle: { type: 'string' }, hub: { type: 'string' }, root: { type: 'string' }, repair: { type: 'boolean' }, 'switch-hub': { type: 'boolean' }, ...CA_OPTION },
  positionals: { min: 0, max: 1 },
  async run(ctx, args) {
    const bundleFile = str(args, 'bundle');
    if (args.values.bundle !== undefined && !bundleFile) throw usageError('--bundle needs a file (the .outpost file `outpost hub bundle` wrote)');
    const bundle = bundleFile ? openBundle(path.resolve(ctx.cwd, bundleFile)) : undefined;
    if (!bundle && args.positionals.length === 0) throw usageError('name the model to pull: outpost pull <name>[@<version>|:<alias>] (or --bundle <file>)');
    const hubUrl = str(args, 'hub') ?? bundle?.manifest.hub ?? ctx.env.OUTPOST_HUB ?? connectedHub(ctx.home);
    if (!hubUrl) throw usageError(bundle ? `${bundle.file} does not name its hub: pass --hub <url> (the hub URL this workstation trusts)` : '--hub <url> is required (this workstation has no connected hub)');
    if (bundle && str(args, 'ca') !== undefined) throw usageError('--ca is for network pulls; a bundle is read from a file');
    if (!bundle) hubTrust(ctx, args, hubUrl);
    const m0 = bundle?.manifest;
    const ref = args.positionals[0] ?? (m0!.ref.includes(':') ? m0!.ref : `${m0!.name}@${m0!.version}`);
    const sel = bundle ? parseSelector(ref) : undefined;
    const mismatch = bundle && sel?.ok ? bundleMismatch(bundle, sel.selector) : undefined;
    if (mismatch) throw usageError(mismatch);
    const root = str(args, 'root');
    const r = await pull({
      home: ctx.home, hubUrl, ref, fetch: bundle ? bundleFetch(bundle, hubBase(hubUrl)) : undefined, rootFile: root ? path.resolve(ctx.cwd, root) : undefined, signal: ctx.signal,
      repair: flag(args, 'repair'), switchHub: flag(args, 'switch-hub'),
      onProgress: stageReporter(ctx, (e) => e.file),
    });
    const m = r.model;
    ctx.out.text(r.repaired ? `${m.name}@${m.version} repaired: its modified files were replaced with verified copies from ${r.hub}` : r.alreadyInstalled ? `${m.name}@${m.version} is already installed (files re-verified)` : `installed ${m.name}@${m.version} from ${r.hub}${bundle ? ` (bundle ${bundle.file})` : ''}`);
    ctx.out.text(`  signed by ${r.signedBy}${r.signedAt ? ` at ${r.signedAt}` : ''}`);
    ctx.out.text(m.active ? `  active${r.previousActive !== undefined && r.previousActive !== m.version ? ` (was ${m.name}@${r.previousActive}, kept as last-known-good)` : ''}` : `  not active (active: ${m.name}@${r.previousActive})`);
    ctx.out.json({ ok: true, name: m.name, version: m.version, active: m.active, previousActive: r.previousActive ?? null, alreadyInstalled: r.alreadyInstalled, repaired: r.repaired ?? false, signedBy: r.signedBy, signedAt: r.signedAt, hub: r.hub, bundle: bundle?.file ?? null, modelSha256: m.modelSha256 });
    return 0;
  },
};
