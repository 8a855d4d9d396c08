// Who may call the hub's admin API: a client presenting the admin token (Authorization: Bearer —
// the CLI, scripts), or a browser signed in to the console, which traded the admin token for an
// HttpOnly SameSite=Strict session cookie (POST /api/v1/session). The cookie is stateless — an
// expiry and a nonce under an HMAC keyed by the stored admin token hash — so every hub process
// sharing the database accepts it and a new admin token (`hub admin-token rotate`) invalidates every
// session. Signing out ends the session on the server too: its nonce is kept (until the session
// would have expired) in the hub's settings, which every process reads, so a copied cookie is
// refused after the sign-out as well. Cookie-borne
// requests are DNS-rebinding and CSRF exposed, so they must carry one of the hub's own Host names
// and, for writes, this origin; bearer requests are not (a foreign page cannot know the token).
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hostAllowed, originAllowed, parseCookies, sameSecret } from '../../api/node/web-security.ts';
import type { Hub } from './repository.ts';
import { tokenMatches } from './tokens.ts';

export const SESSION_COOKIE = 'outpost_hub_session';
export const SESSION_MS = 12 * 3600_000;

/** The Host names the console answers to and whether cookies are Secure; set when the server listens. */
export interface ConsoleSite { hosts: string[]; secure: boolean }
const sites = new WeakMap<Hub, ConsoleSite>();
export const setConsoleSite = (hub: Hub, site: ConsoleSite): void => { sites.set(hub, site); };
export const consoleSite = (hub: Hub): ConsoleSite => sites.get(hub) ?? { hosts: [], secure: false };

const adminHash = (hub: Hub) => hub.storage.setting('admin_token_hash');
const mac = (hash: string, body: string) => crypto.createHmac('sha256', `outpost-console-session\0${hash}`).update(body).digest('base64url');

/** A new session value (expiry.nonce.mac). */
export function issueSession(hash: string, now: number): { value: string; expiresAt: number } {
  const expiresAt = now + SESSION_MS;
  const body = `${expiresAt}.${crypto.randomBytes(16).toString('base64url')}`;
  return { value: `${body}.${mac(hash, body)}`, expiresAt };
}

/** The session's expiry and nonce when the value is genuine and current, else undefined (sign-outs are checked by the caller). */
export function checkSession(value: string | undefined, hash: string, now: number): { expiresAt: number; nonce: string } | undefined {
  const m = /^(\d{1,16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  if (!m) return undefined;
  const expiresAt = Number(m[1]);
  return sameSecret(m[3], mac(hash, `${m[1]}.${m[2]}`)) && expiresAt > now ? { expiresAt, nonce: m[2] } : undefined;
}

/** The hub setting holding the nonces of signed-out sessions, with their expiry: [{n, e}] (JSON). */
const SIGNED_OUT_KEY = 'console_signed_out';
type SignedOut = { n: string; e: number }[];
const signedOutList = (text: string | undefined): SignedOut => {
  try {
    const v = JSON.parse(text ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is SignedOut[number] => typeof x?.n === 'string' && typeof x?.e === 'number') : [];
  } catch { return []; }
};
const isSignedOut = async (hub: Hub, nonce: string): Promise<boolean> => signedOutList(await hub.storage.setting(SIGNED_OUT_KEY)).some((x) => x.n === nonce);

/**
 * Sign out: a genuine, current session cookie is ended on the server (its nonce recorded until it
 * would have expired; expired entries are dropped here). Anything else has nothing to end.
 */
export async function signOut(hub: Hub, cookie: string | undefined, now = Date.now()): Promise<boolean> {
  const stored = await adminHash(hub);
  const s = stored && cookie !== undefined ? checkSession(cookie, stored, now) : undefined;
  if (!s) return false;
  // the repository's write lock: two sign-outs at once (any process) both stay recorded
  await hub.storage.transaction(async (tx) => {
    const list = signedOutList(await tx.setting(SIGNED_OUT_KEY)).filter((x) => x.e > now && x.n !== s.nonce);
    await tx.putSetting(SIGNED_OUT_KEY, JSON.stringify([...list, { n: s.nonce, e: s.expiresAt }]));
  });
  return true;
}

export const sessionCookie = (hub: Hub, value: string, maxAgeSeconds: number): string =>
  `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}${consoleSite(hub).secure ? '; Secure' : ''}`;

/** The console session cookie a request carries, if any. */
export const sessionOf = (req: FastifyRequest): string | undefined => parseCookies(req.headers.cookie).get(SESSION_COOKIE);

export type AdminCaller = { via: 'token' } | { via: 'session'; expiresAt: number };

const deny = async (reply: FastifyReply, status: number, code: string, message: string): Promise<undefined> => {
  await reply.code(status).header('cache-control', 'no-store').send({ ok: false, error: { code, message } });
  return undefined;
};

/** The console's checks on a browser request: one of the hub's own names, and for writes its own origin. */
export async function browserRequestOk(hub: Hub, req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  if (!hostAllowed(req.headers.host, consoleSite(hub).hosts)) { await deny(reply, 421, 'auth', 'wrong Host header: this hub console answers only to its own address'); return false; }
  if (req.method !== 'GET' && req.method !== 'HEAD' && !(req.headers.origin !== undefined && originAllowed(req.headers.origin, req.headers.host, consoleSite(hub).secure ? 'https' : 'http'))) {
    await deny(reply, 403, 'auth', 'cross-origin request refused');
    return false;
  }
  return true;
}

/**
 * The admin caller, or undefined after answering 401 (no or wrong credentials), 421 (a session
 * cookie under a foreign Host) or 403 (a cookie-borne write from another origin).
 */
export async function requireAdmin(hub: Hub, req: FastifyRequest, reply: FastifyReply): Promise<AdminCaller | undefined> {
  const stored = await adminHash(hub);
  const bearer = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '');
  if (bearer) {
    if (stored && tokenMatches(bearer[1], stored)) return { via: 'token' };
    return deny(reply, 401, 'auth', 'the admin API token is required');
  }
  const cookie = sessionOf(req);
  const session = stored && cookie !== undefined ? checkSession(cookie, stored, Date.now()) : undefined;
  if (session === undefined) return deny(reply, 401, 'auth', 'the admin API token is required (or sign in to the hub console)');
  if (await isSignedOut(hub, session.nonce)) return deny(reply, 401, 'auth', 'this console session was signed out; sign in again');
  if (!(await browserRequestOk(hub, req, reply))) return undefined;
  return { via: 'session', expiresAt: session.expiresAt };
}

/** Sign in: the admin token for a session cookie. */
export async function signIn(hub: Hub, token: string, now = Date.now()): Promise<{ value: string; expiresAt: number } | undefined> {
  const stored = await adminHash(hub);
  if (!stored || !tokenMatches(token, stored)) return undefined;
  return issueSession(stored, now);
}

const callers = new WeakMap<FastifyRequest, AdminCaller>();

/**
 * A route's onRequest hook: the admin check before the body is read or anything is validated, so a
 * caller without credentials learns 401 (not why its body or ids are wrong) and sends no body for nothing.
 */
export const adminFirst = (hub: Hub) => async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
  const who = await requireAdmin(hub, req, reply);
  if (!who) return reply;
  callers.set(req, who);
  return undefined;
};

/** The caller adminFirst let through. */
export function adminCaller(req: FastifyRequest): AdminCaller {
  const who = callers.get(req);
  if (!who) throw new Error('adminCaller: the route has no adminFirst hook');
  return who;
}

/** A route's onRequest hook: browserRequestOk before the body is read or validated. */
export const browserFirst = (hub: Hub) => async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> =>
  (await browserRequestOk(hub, req, reply)) ? undefined : reply;
