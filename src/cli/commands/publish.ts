// `outpost publish`: sign a model package's targets locally with the publisher key, upload it.
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import { publishPackage, resignPublisher, yankVersion } from '../../hub/node/publish-client.ts';
import { parseSelector } from '../../hub/common/target-paths.ts';
import { pinRoot } from '../../registry/node/trust.ts';
import { loadPrivateKey } from '../../keys/node/keys.ts';
import { flag, str, type CommandSpec } from '../command.ts';
import { allowHttp, ALLOW_HTTP_HELP, ALLOW_HTTP_OPTION, CA_HELP, CA_OPTION, hubTrust } from '../hub-access.ts';
import { passphraseFromEnv } from './keys.ts';

export const publishCommand: CommandSpec = {
  name: 'publish',
  summary: 'Sign a model package with a publisher key and publish it to a hub',
  usage: 'outpost publish <package-dir> --hub <url> --key <private key> --token <token> [--alias production]\n       outpost publish --resign --hub <url> --key <private key> --token <token>',
  help: [
    '--hub URL             the hub (or $OUTPOST_HUB)',
    '--key FILE            publisher private key (repeat when the delegation needs several signatures)',
    '--token T             publisher API token (or $OUTPOST_PUBLISH_TOKEN, which keeps it out of `ps`)',
    '--alias NAME          also point this alias (e.g. production, staging) at the new version',
    '--passphrase-env VAR  passphrase of the key(s)',
    '--no-smoke            skip the smoke inference of the checks run before signing (model-file safety and',
    '                      card checks always run; devices run the smoke inference anyway)',
    '--resign              publish nothing new: sign the team\'s current metadata again with --key (after a key',
    '                      rotation, so the old key can be dropped; or to renew it before it expires)',
    '--root FILE           the hub\'s root.json, pinned once in this data folder: lets a new key sign on top of',
    '                      metadata the old key signed, verified against the delegation',
    ...CA_HELP,
    ALLOW_HTTP_HELP,
  ],
  options: { hub: { type: 'string' }, key: { type: 'string', multiple: true }, token: { type: 'string' }, alias: { type: 'string' }, 'passphrase-env': { type: 'string' }, resign: { type: 'boolean' }, root: { type: 'string' }, 'no-smoke': { type: 'boolean' }, ...CA_OPTION, ...ALLOW_HTTP_OPTION },
  positionals: { min: 0, max: 1 },
  async run(ctx, args) {
    const hubUrl = str(args, 'hub') ?? ctx.env.OUTPOST_HUB;
    const token = str(args, 'token') ?? ctx.env.OUTPOST_PUBLISH_TOKEN;
    const keyFiles = (args.values.key as string[] | undefined) ?? [];
    if (!hubUrl) throw usageError('--hub <url> is required');
    if (!token) throw usageError('--token (or $OUTPOST_PUBLISH_TOKEN) is required');
    if (!keyFiles.length) throw usageError('--key <publisher private key> is required');
    const pass = passphraseFromEnv(ctx.env, str(args, 'passphrase-env'));
    const keys = keyFiles.map((f) => loadPrivateKey(path.resolve(ctx.cwd, f), pass));
    hubTrust(ctx, args, hubUrl);
    const root = str(args, 'root');
    if (root) pinRoot(ctx.home, hubUrl, path.resolve(ctx.cwd, root));
    if (flag(args, 'resign')) {
      if (args.positionals.length) throw usageError('--resign publishes no package: leave out <package-dir>');
      const r = await resignPublisher({ hubUrl, keys, token, signal: ctx.signal, home: ctx.home, allowHttp: allowHttp(args) });
      ctx.out.text(`re-signed ${r.publisher} metadata v${r.roleVersion} with ${r.signedBy.map((k) => k.slice(0, 16)).join(', ')}`);
      ctx.out.json({ ok: true, ...r });
      return 0;
    }
    if (!args.positionals.length) throw usageError('<package-dir> is required (or --resign)');
    const r = await publishPackage({
      packageDir: path.resolve(ctx.cwd, args.positionals[0]), hubUrl, keys, token, alias: str(args, 'alias'), signal: ctx.signal, home: ctx.home, allowHttp: allowHttp(args),
      checks: flag(args, 'no-smoke') ? 'static' : 'full',
      onProgress: (e) => ctx.out.event({ event: 'progress', ...e }),
    });
    for (const v of r.versions) ctx.out.text(`published ${v.name}@${v.version} as ${r.publisher} (metadata v${r.roleVersion}, signed by ${r.signedBy.map((k) => k.slice(0, 16)).join(', ')})`);
    for (const a of r.aliases) ctx.out.text(`alias ${a.name}:${a.alias} → ${a.version}`);
    if (!r.versions.length) ctx.out.text('nothing new to publish (this version was already published)');
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};

export const hubYankCommand: CommandSpec = {
  name: 'hub yank',
  summary: 'Yank a published version (signed by its publisher): devices refuse new installs and flag installed copies',
  usage: 'outpost hub yank <name>@<version> --reason <text> --hub <url> --key <private key> --token <token>',
  help: [
    '--reason TEXT         why (1 to 1000 characters; devices show it on installed copies)',
    '--hub URL             the hub (or $OUTPOST_HUB)',
    '--key FILE            publisher private key (repeat when the delegation needs several signatures)',
    '--token T             publisher API token (or $OUTPOST_PUBLISH_TOKEN)',
    '--passphrase-env VAR  passphrase of the key(s)',
    ...CA_HELP,
    ALLOW_HTTP_HELP,
  ],
  options: { hub: { type: 'string' }, key: { type: 'string', multiple: true }, token: { type: 'string' }, reason: { type: 'string' }, 'passphrase-env': { type: 'string' }, ...CA_OPTION, ...ALLOW_HTTP_OPTION },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const sel = parseSelector(args.positionals[0]);
    if (!sel.ok || sel.selector.version === undefined) throw usageError(`"${args.positionals[0]}" is not <name>@<version>`);
    const hubUrl = str(args, 'hub') ?? ctx.env.OUTPOST_HUB;
    const token = str(args, 'token') ?? ctx.env.OUTPOST_PUBLISH_TOKEN;
    const keyFiles = (args.values.key as string[] | undefined) ?? [];
    const reason = str(args, 'reason');
    if (!hubUrl || !token || !keyFiles.length || !reason) throw usageError('--hub, --token, --key and --reason are required');
    const pass = passphraseFromEnv(ctx.env, str(args, 'passphrase-env'));
    const keys = keyFiles.map((f) => loadPrivateKey(path.resolve(ctx.cwd, f), pass));
    hubTrust(ctx, args, hubUrl);
    const r = await yankVersion({ hubUrl, keys, token, name: sel.selector.name, version: sel.selector.version, reason, signal: ctx.signal, home: ctx.home, allowHttp: allowHttp(args) });
    ctx.out.text(`yanked ${sel.selector.name}@${sel.selector.version} (${r.publisher} metadata v${r.roleVersion}): ${reason}`);
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};
