// Rollout endpoints (docs/SYNC-PROTOCOL.md "Rollouts"): the signed device request that returns a
// device's assignments, and the admin API over the same functions as `outpost hub rollout`.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Hub } from './repository.ts';
import { assignmentsFor, createRollout, haltRollout, listRollouts, rollbackRollout, rolloutStatus } from './rollouts.ts';
import { claimNonce, verifySignedRequest } from './sync-auth.ts';
import { adminCaller, adminFirst } from './admin-auth.ts';
import { bodyField, type NameOf } from '../common/input-names.ts';
import { onlyFields, type BodySchema } from './route-body.ts';
import { ROLLOUT_ID_RE } from '../common/rollout-input.ts';
import { MAX_VERSION } from '../common/target-paths.ts';

export const ASSIGNMENTS_PATH = '/api/v1/sync/assignments';
const ID = { type: 'string', pattern: ROLLOUT_ID_RE.source } as const;
const START_BODY: BodySchema = {
  type: 'object', additionalProperties: false, required: ['ref', 'group'],
  properties: { ref: { type: 'string', maxLength: 200 }, group: { type: 'string', maxLength: 64 }, percent: { type: 'number' }, seed: { type: 'string', maxLength: 200 }, allowEmptyGroup: { type: 'boolean' } },
};
const ROLLBACK_BODY: BodySchema = { type: ['object', 'null'], additionalProperties: false, properties: { to: { type: 'integer', minimum: 1, maximum: MAX_VERSION } } };

/**
 * How a refusal names the request's inputs: the console's form mirrors `outpost hub rollout` (it
 * checks the percentage with the CLI's own function and shows the CLI's messages), so a console
 * session gets the CLI's names (undefined: the default); an API client gets its body's fields.
 */
const inputNames = (req: FastifyRequest): NameOf | undefined => (adminCaller(req).via === 'session' ? undefined : bodyField);

export const rolloutRoutes: FastifyPluginAsync<{ hub: Hub }> = async (app, { hub }) => {
  // Signed like a sync request (empty body); the nonce is claimed, so a replayed request is refused.
  app.get(ASSIGNMENTS_PATH, async (req) => {
    const v = await verifySignedRequest(hub, { method: req.method, path: req.url, headers: req.headers, body: Buffer.alloc(0) });
    await hub.storage.fleetTransaction(v.device.id, (sql) => claimNonce(sql, v));
    return { ok: true, assignments: await assignmentsFor(hub, v.device) };
  });

  // ---- admin (Bearer admin token, or the console's session) ----
  app.get<{ Querystring: { model?: string; group?: string } }>('/api/v1/rollouts', {
    onRequest: adminFirst(hub),
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { model: { type: 'string', maxLength: 64 }, group: { type: 'string', maxLength: 64 } } } },
  }, async (req) => {
    return { ok: true, rollouts: await listRollouts(hub, { model: req.query.model, group: req.query.group }) };
  });
  app.post<{ Body: { ref: string; group: string; percent?: number; seed?: string; allowEmptyGroup?: boolean } }>('/api/v1/rollouts', {
    bodyLimit: 16 * 1024,
    onRequest: adminFirst(hub),
    preValidation: onlyFields(START_BODY),
    schema: { body: START_BODY },
  }, async (req) => {
    return { ok: true, rollout: await createRollout(hub, req.body, inputNames(req)) };
  });
  app.get<{ Params: { id: string } }>('/api/v1/rollouts/:id', { onRequest: adminFirst(hub), schema: { params: { type: 'object', properties: { id: ID } } } }, async (req) => {
    return { ok: true, ...(await rolloutStatus(hub, req.params.id)) };
  });
  app.post<{ Params: { id: string } }>('/api/v1/rollouts/:id/halt', {
    onRequest: adminFirst(hub), bodyLimit: 16 * 1024, preValidation: onlyFields(null), schema: { params: { type: 'object', properties: { id: ID } } },
  }, async (req) => {
    return { ok: true, rollout: await haltRollout(hub, req.params.id) };
  });
  app.post<{ Params: { id: string }; Body: { to?: number } | undefined }>('/api/v1/rollouts/:id/rollback', {
    bodyLimit: 16 * 1024,
    onRequest: adminFirst(hub),
    preValidation: onlyFields(ROLLBACK_BODY),
    schema: { params: { type: 'object', properties: { id: ID } }, body: ROLLBACK_BODY },
  }, async (req) => {
    return { ok: true, rollout: await rollbackRollout(hub, req.params.id, { to: req.body?.to ?? undefined }, inputNames(req)) };
  });
};
