// How a command reaches a hub: its TLS trust (`--ca FILE`, else the CA stored for that hub, plus the
// system store) and whether a secret may travel over plain http (`--allow-http`).
import path from 'node:path';
import { usageError } from '../common/errors.ts';
import { loadPrivateKey, type PrivateKeyHandle } from '../keys/node/keys.ts';
import { prepareHubTrust, setHubCa } from '../registry/node/hub-tls.ts';
import { pinRoot } from '../registry/node/trust.ts';
import { getHubSetting, openStore } from '../store/node/store.ts';
import { flag, str, type CommandContext, type ParsedArgs } from './command.ts';
import { passphraseFromEnv } from './commands/keys.ts';

export const CA_OPTION = { ca: { type: 'string' } } as const;
export const ALLOW_HTTP_OPTION = { 'allow-http': { type: 'boolean' } } as const;

export const CA_HELP = [
  '--ca FILE             the CA certificate (PEM) that issued the hub\'s HTTPS certificate, when it is not in',
  '                      the system store; kept with this hub in the data folder (later commands need no --ca)',
];
export const ALLOW_HTTP_HELP = '--allow-http          allow sending the token over plain http to another machine (trusted networks only)';

/** Set up TLS trust for `hubUrl` before a command contacts it. */
export function hubTrust(ctx: CommandContext, args: ParsedArgs, hubUrl: string): void {
  const ca = str(args, 'ca') ?? ctx.env.OUTPOST_HUB_CA;
  if (ca === undefined) return prepareHubTrust(ctx.home, hubUrl);
  const r = setHubCa(ctx.home, hubUrl, path.resolve(ctx.cwd, ca));
  ctx.out.warn(`trusting ${r.subjects.join('; ')} for HTTPS to ${hubUrl}${r.stored ? ` (kept in ${r.stored})` : ''}`);
  prepareHubTrust(ctx.home, hubUrl);
}

export const allowHttp = (args: ParsedArgs): boolean => flag(args, 'allow-http');

/** The hub this workstation is connected to (`outpost connect`), if any. */
export function connectedHub(home: string): string | undefined {
  const store = openStore(home);
  try { return getHubSetting(store)?.url; } finally { store.close(); }
}

/**
 * The hub a device command talks to (`--hub`, $OUTPOST_HUB, else the connected hub; none is bad
 * usage), with its TLS trust set up, and `--root` resolved against the working folder.
 */
export function deviceHub(ctx: CommandContext, args: ParsedArgs): { hubUrl: string; rootFile: string | undefined } {
  const hubUrl = str(args, 'hub') ?? ctx.env.OUTPOST_HUB ?? connectedHub(ctx.home);
  if (!hubUrl) throw usageError('--hub <url> is required (this workstation has no connected hub)');
  hubTrust(ctx, args, hubUrl);
  const root = str(args, 'root');
  return { hubUrl, rootFile: root ? path.resolve(ctx.cwd, root) : undefined };
}

/** The help lines of those options; `glob` is the release names the publisher is delegated (`outpost-app-*`). */
export const releasePublishHelp = (glob: string): string[] => [
  '--hub URL             the hub (or $OUTPOST_HUB)',
  `--key FILE            the key of the publisher delegated \`${glob}\` (repeat for a threshold)`,
  '--token T             that publisher\'s API token (or $OUTPOST_PUBLISH_TOKEN)',
  '--passphrase-env VAR  passphrase of the key(s)',
  '--root FILE           the hub\'s root.json, pinned once in this data folder',
  ...CA_HELP,
  ALLOW_HTTP_HELP,
];

/** The options every release publish (`hub app publish`, `hub runtime publish`) takes besides its own. */
export const RELEASE_PUBLISH_OPTIONS = {
  release: { type: 'string' }, hub: { type: 'string' }, key: { type: 'string', multiple: true }, token: { type: 'string' }, 'passphrase-env': { type: 'string' }, root: { type: 'string' }, ...CA_OPTION, ...ALLOW_HTTP_OPTION,
} as const;

/**
 * The hub, token, keys and release number of a release publish, checked (bad usage: exit 2), with the
 * hub's TLS trust set up and its root pinned when `--root` is given. `required` names the command's own required options.
 */
export function releasePublisher(ctx: CommandContext, args: ParsedArgs, required: string[]): { hubUrl: string; token: string; keys: PrivateKeyHandle[]; release: number } {
  const hubUrl = str(args, 'hub') ?? ctx.env.OUTPOST_HUB;
  const token = str(args, 'token') ?? ctx.env.OUTPOST_PUBLISH_TOKEN;
  const keyFiles = (args.values.key as string[] | undefined) ?? [];
  const release = str(args, 'release');
  if (!hubUrl) throw usageError('--hub <url> is required');
  if (!token) throw usageError('--token (or $OUTPOST_PUBLISH_TOKEN) is required');
  if (!keyFiles.length) throw usageError('--key <publisher private key> is required');
  if (!release || required.some((o) => !str(args, o))) throw usageError(`${[...required, 'release'].map((o) => `--${o}`).join(', ').replace(/, ([^,]*)$/, ' and $1')} are required`);
  if (!/^[1-9][0-9]{0,8}$/.test(release)) throw usageError(`--release must be a whole number from 1, not "${release}"`);
  const pass = passphraseFromEnv(ctx.env, str(args, 'passphrase-env'));
  const keys = keyFiles.map((f) => loadPrivateKey(path.resolve(ctx.cwd, f), pass));
  hubTrust(ctx, args, hubUrl);
  const root = str(args, 'root');
  if (root) pinRoot(ctx.home, hubUrl, path.resolve(ctx.cwd, root));
  return { hubUrl, token, keys, release: Number(release) };
}
