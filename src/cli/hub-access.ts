// How a command reaches a hub: its TLS trust (`--ca FILE`, else the CA stored for that hub, plus the
// system store) and whether a secret may travel over plain http (`--allow-http`).
import path from 'node:path';
import { prepareHubTrust, setHubCa } from '../registry/node/hub-tls.ts';
import { getHubSetting, openStore } from '../store/node/store.ts';
import { flag, str, type CommandContext, type ParsedArgs } from './command.ts';

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
