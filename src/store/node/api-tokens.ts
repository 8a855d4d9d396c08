// Bearer tokens of the local scoring API (`outpost serve --api`). A token is shown once, when it is
// created; the store keeps only its SHA-256 (a token is 256 random bits, so a plain hash is enough:
// nothing to brute-force, and the lookup by hash needs no comparison in constant time). Revoking
// keeps the row, so `tokens list` still shows what existed and when it was last used.
import crypto from 'node:crypto';
import { OutpostError } from '../../common/errors.ts';
import type { Store } from './store.ts';

export interface ApiToken {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  /** the models it may list and score with (names, sorted); null: every installed model */
  models: string[] | null;
}

interface Row { id: string; name: string; created_at: number; last_used_at: number | null; revoked_at: number | null; models: string | null }
const toToken = (r: Row): ApiToken => ({ id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at, models: r.models === null ? null : JSON.parse(r.models) as string[] });

/** Model names as cards have them (src/package/common/card.ts). */
const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** At most this many models in one token's scope. */
export const MAX_TOKEN_MODELS = 100;

/** A scope's model names, checked and sorted (duplicates dropped); the models need not be installed yet. */
export function checkTokenModels(models: readonly string[]): string[] {
  if (models.length === 0) throw new OutpostError('usage', 'a token limited to models needs at least one model name (leave the limit out for every model)');
  for (const m of models) {
    if (!MODEL_NAME.test(m)) throw new OutpostError('usage', `${JSON.stringify(m)} is not a model name (lower-case letters, digits, ".", "_" or "-", starting with a letter or digit, at most 64; no @version: a token's scope is whole models)`);
  }
  const unique = [...new Set(models)].sort();
  if (unique.length > MAX_TOKEN_MODELS) throw new OutpostError('usage', `a token may be limited to at most ${MAX_TOKEN_MODELS} models (got ${unique.length})`);
  return unique;
}

/** Whether a token may use this model. */
export const tokenAllows = (t: Pick<ApiToken, 'models'>, model: string): boolean => t.models === null || t.models.includes(model);

/** Every token starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'outpost_';
/** Names: what a script is called; they also name the token's record session (`records:api:<name>`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** last_used_at is written at most this often per token (not one write per request). */
const TOUCH_MS = 60_000;

const hashOf = (token: string): string => crypto.createHash('sha256').update(token, 'utf8').digest('hex');

export function checkTokenName(name: string): string {
  if (!NAME.test(name)) throw new OutpostError('usage', `a token name is 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit (got ${JSON.stringify(name)})`);
  return name;
}

/**
 * A new token: the secret is returned once and never stored. `models` limits it to those models
 * (listing and scoring); without it the token may use every installed model.
 */
export function createApiToken(store: Store, name: string, now = Date.now(), opts: { models?: readonly string[] } = {}): { token: string; info: ApiToken } {
  checkTokenName(name);
  const models = opts.models === undefined ? null : checkTokenModels(opts.models);
  const id = `t${crypto.randomBytes(4).toString('hex')}`;
  const token = `${TOKEN_PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
  try {
    store.db.prepare('INSERT INTO api_tokens (id, name, token_sha256, created_at, models) VALUES (?, ?, ?, ?, ?)').run(id, name, hashOf(token), now, models === null ? null : JSON.stringify(models));
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new OutpostError('conflict', `a token named "${name}" already exists; revoke it first (outpost tokens revoke ${name}) or choose another name`);
    throw e;
  }
  return { token, info: getApiToken(store, id) };
}

function getApiToken(store: Store, id: string): ApiToken {
  return toToken(store.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as Row);
}

/** Every token, newest first (revoked ones included). */
export function listApiTokens(store: Store): ApiToken[] {
  return (store.db.prepare('SELECT * FROM api_tokens ORDER BY created_at DESC, rowid DESC').all() as Row[]).map(toToken);
}

/** Revoke the live token with this name (or id). Takes effect on the next request, in every process. */
export function revokeApiToken(store: Store, nameOrId: string, now = Date.now()): ApiToken {
  const r = store.db.prepare('SELECT * FROM api_tokens WHERE revoked_at IS NULL AND (name = ? OR id = ?)').get(nameOrId, nameOrId) as Row | undefined;
  if (!r) {
    const live = listApiTokens(store).filter((t) => t.revokedAt === null).map((t) => t.name);
    throw new OutpostError('not-found', `no live token named "${nameOrId}" (live tokens: ${live.length ? live.join(', ') : 'none'})`);
  }
  store.db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ?').run(now, r.id);
  return getApiToken(store, r.id);
}

/** The live token a bearer secret belongs to, or undefined (unknown or revoked). Records its use. */
export function authenticateApiToken(store: Store, secret: string, now = Date.now()): ApiToken | undefined {
  if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return undefined;
  const r = store.db.prepare('SELECT * FROM api_tokens WHERE token_sha256 = ?').get(hashOf(secret)) as Row | undefined;
  if (!r || r.revoked_at !== null) return undefined;
  if (r.last_used_at === null || now - r.last_used_at >= TOUCH_MS) {
    store.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, r.id);
    r.last_used_at = now;
  }
  return toToken(r);
}
