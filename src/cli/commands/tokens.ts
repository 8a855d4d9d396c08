// `outpost tokens create|list|revoke`: bearer tokens for the local scoring API (`outpost serve --api`).
// A token is printed once, when it is created; the store keeps only its SHA-256.
import { usageError } from '../../common/errors.ts';
import { createApiToken, listApiTokens, revokeApiToken, type ApiToken } from '../../store/node/api-tokens.ts';
import { openStore } from '../../store/node/store.ts';
import { str, type CommandSpec } from '../command.ts';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const tokenJson = (t: ApiToken) => ({ id: t.id, name: t.name, models: t.models, createdAt: iso(t.createdAt), lastUsedAt: iso(t.lastUsedAt), revokedAt: iso(t.revokedAt), state: t.revokedAt === null ? 'live' : 'revoked' });
const scopeText = (models: string[] | null): string => (models === null ? 'every model' : `only ${models.join(', ')}`);

export const tokensCreateCommand: CommandSpec = {
  name: 'tokens create',
  summary: 'Create a bearer token for the local scoring API (printed once; only its hash is stored)',
  usage: 'outpost tokens create --name <name> [--model <model> …]',
  help: [
    '--name NAME    what the token is for (e.g. my-script): letters, digits, . _ -; names its record session in the jobs',
    '--model NAME   limit the token to this model (repeat for more); without it: every installed model',
  ],
  options: { name: { type: 'string' }, model: { type: 'string', multiple: true } },
  positionals: { min: 0, max: 0 },
  async run(ctx, args) {
    const name = str(args, 'name');
    if (name === undefined) throw usageError('--name is required (what the token is for, e.g. --name my-script)');
    const store = openStore(ctx.home);
    try {
      const models = args.values.model as string[] | undefined;
      const { token, info } = createApiToken(store, name, Date.now(), models ? { models } : {});
      ctx.out.json({ ok: true, token, ...tokenJson(info) });
      ctx.out.text(`Token "${info.name}" (${info.id}, ${scopeText(info.models)}) — shown only this once, keep it somewhere safe:\n\n    ${token}\n\nUse it as "Authorization: Bearer <token>" with \`outpost serve --api\`; revoke it with \`outpost tokens revoke ${info.name}\`.`);
      return 0;
    } finally {
      store.close();
    }
  },
};

export const tokensListCommand: CommandSpec = {
  name: 'tokens list',
  summary: 'List the local API\'s tokens (names, created, last used, revoked; never the secrets)',
  usage: 'outpost tokens list',
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const store = openStore(ctx.home);
    try {
      const tokens = listApiTokens(store);
      ctx.out.json({ ok: true, tokens: tokens.map(tokenJson) });
      if (!tokens.length) ctx.out.text('No tokens yet. Create one with `outpost tokens create --name <name>`.');
      for (const t of tokens.map(tokenJson)) {
        ctx.out.text(`${t.id}  ${t.state.padEnd(7)}  ${t.name.padEnd(24)}  ${scopeText(t.models).padEnd(20)}  created ${t.createdAt!.slice(0, 19).replace('T', ' ')}  last used ${t.lastUsedAt ? t.lastUsedAt.slice(0, 16).replace('T', ' ') : 'never'}${t.revokedAt ? `  revoked ${t.revokedAt.slice(0, 19).replace('T', ' ')}` : ''}`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};

/** `outpost tokens` alone lists. */
export const tokensCommand: CommandSpec = { ...tokensListCommand, name: 'tokens', usage: 'outpost tokens [create|list|revoke] …  (alone: tokens list)' };

export const tokensRevokeCommand: CommandSpec = {
  name: 'tokens revoke',
  summary: 'Revoke a local API token by name or id (refused from the next request on, by every running server)',
  usage: 'outpost tokens revoke <name|id>',
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const t = revokeApiToken(store, args.positionals[0]);
      ctx.out.json({ ok: true, ...tokenJson(t) });
      ctx.out.text(`Revoked token "${t.name}" (${t.id}): requests with it are answered 401 from now on.`);
      return 0;
    } finally {
      store.close();
    }
  },
};
