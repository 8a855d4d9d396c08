// Rollout endpoints (docs/SYNC-PROTOCOL.md "Rollouts"): the signed device request that returns a
// device's assignments, and the admin API over the same functions as `outpost hub rollout`.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { OutpostError } from '../../common/errors.ts';
import type { Hub } from './repository.ts';
import { assignmentsFor, createRollout, haltRollout, listRollouts, rollbackRollout, rolloutStatus } from './rollouts.ts';
import { claimNonce, verifySignedRequest } from './sync-auth.ts';
import { requireAdmin } from './admin-auth.ts';
import { ROLLOUT_ID_RE } from '../common/rollout-input.ts';

export const ASSIGNMENTS_PATH = '/api/v1/sync/assignments';
const ID = { type: 'string', pattern: ROLLOUT_ID_RE.source } as const;

/**
 * Refuse body fields the route does not take. Fastify's validator would drop them silently, and a
 * misspelt field (`"percnt": 10`) must not start a rollout to the whole group: like an unknown
 * option of `outpost hub rollout`, it is bad usage (400).
 */
const onlyFields = (allowed: readonly string[]) => async (req: FastifyRequest): Promise<void> => {
  const b = req.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return; // the schema answers those
  const extra = Object.keys(b).filter((k) => !allowed.includes(k));
  if (extra.length) throw new OutpostError('usage', `unknown field${extra.length > 1 ? 's' : ''} ${extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')} (this request takes ${allowed.join(', ')})`);
};

export const rolloutRoutes: FastifyPluginAsync<{ hub: Hub }> = async (app, { hub }) => {
  // Signed like a sync request (empty body); the nonce is claimed, so a replayed request is refused.
  app.get(ASSIGNMENTS_PATH, async (req) => {
    const v = await verifySignedRequest(hub, { method: req.method, path: req.url, headers: req.headers, body: Buffer.alloc(0) });
    await hub.storage.fleetTransaction(v.device.id, (sql) => claimNonce(sql, v));
    return { ok: true, assignments: await assignmentsFor(hub, v.device) };
  });

  // ---- admin (Bearer admin token, or the console's session) ----
  app.get<{ Querystring: { model?: string; group?: string } }>('/api/v1/rollouts', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { model: { type: 'string', maxLength: 64 }, group: { type: 'string', maxLength: 64 } } } },
  }, async (req, reply) => {
    if (!(await requireAdmin(hub, req, reply))) return reply;
    return { ok: true, rollouts: await listRollouts(hub, { model: req.query.model, group: req.query.group }) };
  });
  app.post<{ Body: { ref: string; group: string; percent?: number; seed?: string } }>('/api/v1/rollouts', {
    bodyLimit: 16 * 1024,
    preValidation: onlyFields(['ref', 'group', 'percent', 'seed']),
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['ref', 'group'],
        properties: { ref: { type: 'string', maxLength: 200 }, group: { type: 'string', maxLength: 64 }, percent: { type: 'number' }, seed: { type: 'string', maxLength: 200 } },
      },
    },
  }, async (req, reply) => {
    if (!(await requireAdmin(hub, req, reply))) return reply;
    return { ok: true, rollout: await createRollout(hub, req.body) };
  });
  app.get<{ Params: { id: string } }>('/api/v1/rollouts/:id', { schema: { params: { type: 'object', properties: { id: ID } } } }, async (req, reply) => {
    if (!(await requireAdmin(hub, req, reply))) return reply;
    return { ok: true, ...(await rolloutStatus(hub, req.params.id)) };
  });
  app.post<{ Params: { id: string } }>('/api/v1/rollouts/:id/halt', { schema: { params: { type: 'object', properties: { id: ID } } } }, async (req, reply) => {
    if (!(await requireAdmin(hub, req, reply))) return reply;
    return { ok: true, rollout: await haltRollout(hub, req.params.id) };
  });
  app.post<{ Params: { id: string }; Body: { to?: number } | undefined }>('/api/v1/rollouts/:id/rollback', {
    bodyLimit: 16 * 1024,
    preValidation: onlyFields(['to']),
    schema: { params: { type: 'object', properties: { id: ID } }, body: { type: ['object', 'null'], additionalProperties: false, properties: { to: { type: 'integer', minimum: 1 } } } },
  }, async (req, reply) => {
    if (!(await requireAdmin(hub, req, reply))) return reply;
    return { ok: true, rollout: await rollbackRollout(hub, req.params.id, { to: req.body?.to ?? undefined }) };
  });
};
