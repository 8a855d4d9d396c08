// The hub's fleet API (docs/SYNC-PROTOCOL.md): enrollment with a one-time code, signed sync
// requests carrying outbox items, and the admin endpoints for devices and fleet events.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { FastifyPluginAsync } from 'fastify';
import { OutpostError } from '../../common/errors.ts';
import { RequestRefusal } from '../../api/common/request-errors.ts';
import { decodeFrames, FrameError } from '../../sync/common/protocol.ts';
import { enrollProofText } from '../../sync/node/device.ts';
import { AuthError, cancelEnrollment, createEnrollment, DEVICE_NAME_RE, listDevices, listEnrollments, parseDevicePublicKey, redeemEnrollment, revokeDevice } from './devices.ts';
import { listFleetEvents } from './fleet-query.ts';
import { ingestItems, QuotaError } from './ingest.ts';
import { deviceMatches, fleetFacets } from '../common/fleet-health.ts';
import { adminFirst } from './admin-auth.ts';
import { bodyField } from '../common/input-names.ts';
import { onlyFields, type BodySchema } from './route-body.ts';
import { DEVICE_FILTER_QUERY, deviceFilterOf, EVENT_QUERY, eventQueryOf } from './console.ts';
import type { Hub } from './repository.ts';
import { claimNonce, verifySignedRequest } from './sync-auth.ts';

export const SYNC_CONTENT_TYPE = 'application/x-outpost-items+gzip';
/** A decompressed body may be at most this many times its compressed size (and 256 MiB): no zip bombs. */
const MAX_INFLATE = 256 * 1024 ** 2;
const ENROLL_BODY: BodySchema = {
  type: 'object', additionalProperties: false, required: ['code', 'publicKey', 'proof'],
  properties: { code: { type: 'string', maxLength: 64 }, publicKey: { type: 'string', maxLength: 1000 }, proof: { type: 'string', maxLength: 200 }, outpostVersion: { type: 'string', maxLength: 40 } },
};
const ENROLLMENT_BODY: BodySchema = { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', maxLength: 64 }, group: { type: 'string', maxLength: 64 }, expiresSeconds: { type: 'integer' } } };

export const syncRoutes: FastifyPluginAsync<{ hub: Hub }> = async (app, { hub }) => {
  app.addContentTypeParser(SYNC_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: hub.config.syncMaxBodyBytes }, (_req, body, done) => done(null, body));

  app.post<{ Body: { code: string; publicKey: string; proof: string; outpostVersion?: string } }>('/api/v1/enroll', {
    bodyLimit: 64 * 1024,
    preValidation: onlyFields(ENROLL_BODY),
    schema: { body: ENROLL_BODY },
  }, async (req) => {
    const key = parseDevicePublicKey(req.body.publicKey);
    const pem = key.export({ format: 'pem', type: 'spki' }) as string;
    let proven = false;
    try {
      proven = crypto.verify(null, Buffer.from(enrollProofText(req.body.code, pem)), key, Buffer.from(req.body.proof, 'base64'));
    } catch { proven = false; }
    if (!proven) throw new AuthError(401, 'bad-signature', 'the enrollment proof does not verify with the public key sent');
    const d = await redeemEnrollment(hub, { code: req.body.code, publicKey: key, outpostVersion: req.body.outpostVersion });
    return { ok: true, ...d };
  });

  app.post('/api/v1/sync/items', { config: { bodyType: SYNC_CONTENT_TYPE } }, async (req, reply) => {
    const body = req.body;
    if (!Buffer.isBuffer(body)) throw new RequestRefusal(415, `send items as ${SYNC_CONTENT_TYPE}`);
    const v = await verifySignedRequest(hub, { method: req.method, path: req.url, headers: req.headers, body });
    let raw: Buffer;
    try {
      raw = zlib.gunzipSync(body, { maxOutputLength: Math.min(MAX_INFLATE, Math.max(1024 * 1024, body.length * 200)) });
    } catch (e) {
      throw new OutpostError('input', `the body is not a gzip stream within the size limit: ${(e as Error).message}`);
    }
    const items = decodeFrames(raw);
    const now = Date.now();
    const res = await hub.storage.fleetTransaction(v.device.id, async (sql) => {
      await claimNonce(sql, v, now);
      return ingestItems(hub, sql, v.device, items, body.length, { maxBytesPerDay: hub.config.syncDeviceBytesPerDay }, now);
    });
    return reply.send(res);
  });

  // ---- admin ----
  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/api/v1/devices', { onRequest: adminFirst(hub), config: DEVICE_FILTER_QUERY }, async (req, reply) => {
    // the whole fleet once: the filtered list, and the filters' choices with counts (a malformed filter is refused first)
    const filter = deviceFilterOf(req.query);
    const all = await listDevices(hub);
    return reply.header('cache-control', 'no-store').send({ devices: all.filter((d) => deviceMatches(d, filter)), facets: fleetFacets(all) });
  });
  app.post<{ Body: { name: string; group?: string; expiresSeconds?: number } }>('/api/v1/devices', {
    bodyLimit: 16 * 1024,
    onRequest: adminFirst(hub),
    preValidation: onlyFields(ENROLLMENT_BODY),
    schema: { body: ENROLLMENT_BODY },
  }, async (req) => {
    return { ok: true, ...(await createEnrollment(hub, { name: req.body.name, group: req.body.group, ttlSeconds: req.body.expiresSeconds }, bodyField)) };
  });
  // the unused enrollment codes (`outpost hub devices codes`; never the code: the hub keeps its hash) and cancelling one
  app.get('/api/v1/enrollments', { onRequest: adminFirst(hub) }, async (_req, reply) => {
    return reply.header('cache-control', 'no-store').send({ ok: true, codes: await listEnrollments(hub) });
  });
  app.post<{ Params: { name: string } }>('/api/v1/enrollments/:name/cancel', {
    onRequest: adminFirst(hub), bodyLimit: 16 * 1024, preValidation: onlyFields(null),
    schema: { params: { type: 'object', properties: { name: { type: 'string', pattern: DEVICE_NAME_RE.source } }, required: ['name'] } },
  }, async (req) => {
    return { ok: true, ...(await cancelEnrollment(hub, req.params.name)) };
  });
  app.post<{ Params: { name: string } }>('/api/v1/devices/:name/revoke', {
    onRequest: adminFirst(hub), bodyLimit: 16 * 1024, preValidation: onlyFields(null),
    schema: { params: { type: 'object', properties: { name: { type: 'string', pattern: DEVICE_NAME_RE.source } }, required: ['name'] } },
  }, async (req) => {
    return { ok: true, ...(await revokeDevice(hub, req.params.name)) };
  });
  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/api/v1/events', { onRequest: adminFirst(hub), config: EVENT_QUERY }, async (req, reply) => {
    return reply.header('cache-control', 'no-store').send({ events: await listFleetEvents(hub, eventQueryOf(req.query)) });
  });
};

/** How the hub's error handler answers fleet errors (undefined: not one of ours). */
export function fleetErrorReply(err: unknown): { status: number; headers?: Record<string, string>; body: unknown } | undefined {
  if (err instanceof AuthError) return { status: err.status, body: { ok: false, error: { code: err.reason, message: err.message } } };
  if (err instanceof QuotaError) {
    return { status: 429, headers: { 'retry-after': String(Math.max(1, Math.ceil((err.retryAt - Date.now()) / 1000))) }, body: { ok: false, error: { code: 'quota', message: err.message } } };
  }
  if (err instanceof FrameError) return { status: 400, body: { ok: false, error: { code: 'input', message: err.message } } };
  return undefined;
}
