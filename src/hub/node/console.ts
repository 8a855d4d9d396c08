// The hub console: the web UI `outpost hub serve` serves at `/` (the renderer's second entry,
// hub.html, built with the workstation app's React stack), the sign-in that trades the admin token
// for a session cookie (admin-auth.ts), and the admin read routes its screens use. Those routes are
// thin: each parses its query and calls the same function as the `outpost hub …` CLI command.
import fs from 'node:fs';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { parseRequestTarget } from '../../api/common/request-target.ts';
import { SECURITY_HEADERS, staticFile } from '../../api/node/web-security.ts';
import { OutpostError } from '../../common/errors.ts';
import { checkModelFilter, HEALTH, type Health } from '../common/fleet-health.ts';
import { parseModelVersion } from '../common/target-paths.ts';
import { adminCaller, adminFirst, browserFirst, browserRequestOk, sessionCookie, sessionOf, signIn, signOut, SESSION_MS } from './admin-auth.ts';
import { onlyFields, type BodySchema } from './route-body.ts';
import type { DeviceFilter } from './devices.ts';
import { defaultLast, fleetDriftChoices, fleetDriftView } from './fleet-drift-view.ts';
import { modelsOverview } from './fleet-models.ts';
import { deviceDetail, type FleetEventQuery } from './fleet-query.ts';
import type { Hub } from './repository.ts';

export interface ConsoleOptions {
  hub: Hub;
  /** the built renderer (hub.html + assets); null: the console's pages answer 404 with the reason */
  staticDir: string | null;
}

type Query = Record<string, string | string[] | undefined>;
const one = (q: Query, k: string): string | undefined => {
  const v = q[k];
  if (Array.isArray(v)) throw new OutpostError('usage', `"${k}" is given more than once`);
  return v === undefined || v === '' ? undefined : v;
};
const intIn = (q: Query, k: string, lo: number, hi: number, dflt: number): number => {
  const s = one(q, k);
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!/^\d{1,9}$/.test(s) || n < lo || n > hi) throw new OutpostError('usage', `"${k}" must be a whole number from ${lo} to ${hi} (got "${s.slice(0, 40)}")`);
  return n;
};

/** The query parameters deviceFilterOf reads (a route's `config.query`: any other is refused, route-query.ts). */
export const DEVICE_FILTER_QUERY = { query: ['group', 'model', 'health'] } as const;

/** ?group=&model=&health= — the filters of `outpost hub devices list`. */
export function deviceFilterOf(q: Query): DeviceFilter {
  const health = one(q, 'health');
  if (health !== undefined && !(HEALTH as readonly string[]).includes(health)) throw new OutpostError('usage', `"health" must be one of ${HEALTH.join(', ')} (got "${health.slice(0, 40)}")`);
  const group = q.group === '' ? '' : one(q, 'group');
  const model = one(q, 'model');
  if (model !== undefined) checkModelFilter(model);
  return { ...(group !== undefined ? { group } : {}), ...(model !== undefined ? { model } : {}), ...(health !== undefined ? { health: health as Health } : {}) };
}

export const EVENT_KINDS = ['alert', 'security', 'model', 'sync-dropped', 'rollout'] as const;

/** The query parameters eventQueryOf reads; `kind` may repeat. */
export const EVENT_QUERY = { query: ['kind', 'device', 'group', 'model', 'since', 'limit'], lists: ['kind'] } as const;

/** ?kind=(repeatable)&device=&group=&model=&since=&limit= — the filters of `outpost hub events`. */
export function eventQueryOf(q: Query): FleetEventQuery {
  const kinds = q.kind === undefined ? [] : Array.isArray(q.kind) ? q.kind : [q.kind];
  const bad = kinds.filter((k) => !(EVENT_KINDS as readonly string[]).includes(k));
  if (bad.length) throw new OutpostError('usage', `"kind" must be ${EVENT_KINDS.join(', ')} (got "${bad.join(', ').slice(0, 80)}")`);
  const since = one(q, 'since');
  const t = since === undefined ? undefined : Date.parse(since);
  if (since !== undefined && (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(t))) throw new OutpostError('usage', `"since" must be an ISO time such as 2025-06-01 (got "${since.slice(0, 40)}")`);
  const group = q.group === '' ? '' : one(q, 'group');
  const device = one(q, 'device');
  const model = one(q, 'model');
  const ref = model === undefined ? undefined : parseModelVersion(model);
  if (ref && !ref.ok) throw new OutpostError('usage', `"model": ${ref.reason}`);
  return {
    limit: intIn(q, 'limit', 1, 1000, 100), kinds,
    ...(device !== undefined ? { device } : {}), ...(group !== undefined ? { group } : {}), ...(model !== undefined ? { model } : {}), ...(t !== undefined ? { since: t } : {}),
  };
}

/** Browser-facing answers carry the strict CSP and the other security headers; API answers are never cached. */
const secure = (reply: FastifyReply, cache = 'no-store'): FastifyReply => reply.headers({ ...SECURITY_HEADERS, 'cache-control': cache });

export const consoleRoutes: FastifyPluginAsync<ConsoleOptions> = async (app, { hub, staticDir }) => {
  // Everything this plugin serves is read by browsers: the request target is read defensively
  // (Fastify's router already refuses malformed escapes; this also caps the length at 4 KiB).
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const t = parseRequestTarget(req.raw.url);
    if (!t.ok) return secure(reply).code(t.status).send({ ok: false, error: { code: 'usage', message: t.message } });
  });

  const page = async (req: FastifyRequest, reply: FastifyReply, rel: string) => {
    if (!(await browserRequestOk(hub, req, reply))) return reply;
    const notFound = (message: string) => secure(reply).code(404).send({ ok: false, error: { code: 'not-found', message } });
    if (!staticDir) return notFound('this hub serves no console (started without the built UI)');
    const f = staticFile(staticDir, rel);
    if (!f) return notFound('no such page');
    secure(reply, f.cache).type(f.type);
    return reply.send(fs.createReadStream(f.file));
  };
  app.get('/', (req, reply) => page(req, reply, 'hub.html'));
  app.get<{ Params: { file: string } }>('/assets/:file', {
    schema: { params: { type: 'object', properties: { file: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,200}$' } }, required: ['file'] } },
  }, (req, reply) => page(req, reply, `assets/${req.params.file}`));

  // ---- session ----
  const SIGN_IN: BodySchema = { type: 'object', additionalProperties: false, required: ['token'], properties: { token: { type: 'string', maxLength: 200 } } };
  app.post<{ Body: { token: string } }>('/api/v1/session', {
    bodyLimit: 4096,
    onRequest: browserFirst(hub),
    preValidation: onlyFields(SIGN_IN),
    schema: { body: SIGN_IN },
  }, async (req, reply) => {
    const s = await signIn(hub, req.body.token.trim());
    if (!s) return secure(reply).code(401).send({ ok: false, error: { code: 'auth', message: 'that is not this hub\'s admin token (it is in <hub folder>/admin.token)' } });
    return secure(reply).header('set-cookie', sessionCookie(hub, s.value, SESSION_MS / 1000)).send({ ok: true, expiresAt: new Date(s.expiresAt).toISOString() });
  });
  app.get('/api/v1/session', { onRequest: adminFirst(hub) }, async (req, reply) => {
    const who = adminCaller(req);
    return secure(reply).send({ ok: true, via: who.via, ...(who.via === 'session' ? { expiresAt: new Date(who.expiresAt).toISOString() } : {}) });
  });
  // sign out: the session ends on the server (a copy of the cookie is refused from now on) and the browser's cookie is dropped
  app.delete('/api/v1/session', { onRequest: browserFirst(hub), bodyLimit: 4096, preValidation: onlyFields(null) }, async (req, reply) => {
    await signOut(hub, sessionOf(req));
    return secure(reply).header('set-cookie', sessionCookie(hub, '', 0)).send({ ok: true });
  });

  // ---- fleet views ----
  app.get('/api/v1/fleet/models', { onRequest: adminFirst(hub) }, async (_req, reply) => {
    return secure(reply).send({ models: await modelsOverview(hub) });
  });
  app.get<{ Querystring: Query }>('/api/v1/fleet/drift', { onRequest: adminFirst(hub), config: { query: ['model', 'width', 'group', 'feature', 'last'] } }, async (req, reply) => {
    // the query is checked whole before any data is read: a bad one is 400 on a hub with no drift data too
    const q = req.query;
    const asked = one(q, 'model');
    const ref = asked === undefined ? undefined : parseModelVersion(asked);
    if (ref && !ref.ok) throw new OutpostError('usage', ref.reason);
    const width = one(q, 'width') ?? 'day';
    if (width !== 'day' && width !== 'hour') throw new OutpostError('usage', `"width" must be day or hour (got "${width.slice(0, 20)}")`);
    const last = intIn(q, 'last', 1, width === 'hour' ? 24 * 14 : 366, defaultLast(width));
    const group = q.group === '' ? '' : one(q, 'group');
    const feature = one(q, 'feature');
    const choices = await fleetDriftChoices(hub);
    const model = asked ?? (choices[0] ? `${choices[0].model}@${choices[0].version}` : undefined);
    if (model === undefined) return secure(reply).send({ choices, drift: null });
    const drift = await fleetDriftView(hub, model, { width, last, ...(group !== undefined ? { group } : {}), ...(feature !== undefined ? { feature } : {}) });
    return secure(reply).send({ choices, drift });
  });
  app.get<{ Params: { name: string }; Querystring: Query }>('/api/v1/devices/:name', {
    onRequest: adminFirst(hub), config: { query: ['limit'] },
    schema: { params: { type: 'object', properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } }, required: ['name'] } },
  }, async (req, reply) => {
    return secure(reply).send(await deviceDetail(hub, req.params.name, { limit: intIn(req.query, 'limit', 1, 500, 50) }));
  });
};
