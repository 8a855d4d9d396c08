// The hub's HTTP server (Fastify): the TUF repository as static-style files (/metadata, /targets;
// any static host or CDN can mirror them), blobs with Range, the publish API (publisher tokens) and
// the catalog API. One plugin per concern; each gets the hub through its options.
import fs from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { OutpostError, quote } from '../../common/errors.ts';
import { isReleaseName, RELEASE_FILE } from '../common/app-release.ts';
import { parseRange } from '../common/range.ts';
import { sendRange } from './send-range.ts';
import { delegationPathsFor, parseTargetPath } from '../common/target-paths.ts';
import { decodeUtf8Body, duplicateReason, prototypeKeyReason } from '../../api/common/json-body.ts';
import { methodNotAllowed, RequestRefusal, requestErrorCode } from '../../api/common/request-errors.ts';
import { duplicateJsonKey } from '../../common/json-duplicates.ts';
import { answerClientError } from '../../api/node/client-error.ts';
import { defaultHosts } from '../../api/node/web-security.ts';
import { adminFirst, setConsoleSite } from './admin-auth.ts';
import { consoleRoutes } from './console.ts';
import { catalog } from './fleet-models.ts';
import { warmFleetDrift } from './fleet-drift-view.ts';

export { catalog, type CatalogModel } from './fleet-models.ts';
import { applySignedUpdate, beginUpload, commitUpload, dropUpload, ensureFreshMetadata, publish, receiveBlob, type Hub } from './repository.ts';
import type { PublisherRow } from './storage.ts';
import { proposalRoutes } from './proposal-routes.ts';
import { fleetErrorReply, syncRoutes } from './sync-routes.ts';
import { rolloutRoutes } from './rollout-routes.ts';
import { hashToken } from './tokens.ts';
import { onlyFields, type BodySchema } from './route-body.ts';
import { buildHubValidator } from './validators.ts';
import { trackRouteMethods } from './route-methods.ts';
import { checkApiQueries } from './route-query.ts';

interface HubPluginOptions { hub: Hub }

const STATUS: Record<string, number> = { usage: 400, input: 400, package: 422, 'not-found': 404, conflict: 409, store: 500 };

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/.exec(h) : null;
  return m?.[1];
}

async function requirePublisher(hub: Hub, req: FastifyRequest, reply: FastifyReply): Promise<PublisherRow | undefined> {
  const t = bearer(req);
  const p = t ? await hub.storage.publisherByTokenHash(hashToken(t)) : undefined;
  // The body (maybe gigabytes) is not read for a refused request: the connection closes after the answer.
  if (!p) { await reply.code(401).header('connection', 'close').send({ ok: false, error: { code: 'auth', message: 'a publisher API token is required (Authorization: Bearer <token>)' } }); return undefined; }
  return p;
}

/**
 * Authenticate a publisher request before its body is read or anything is validated (onRequest runs
 * ahead of body parsing): a caller without the token learns 401, not what is wrong with its request.
 */
const publisherOf = new WeakMap<FastifyRequest, PublisherRow>();
const authenticateFirst = (hub: Hub) => async (req: FastifyRequest, reply: FastifyReply) => {
  const p = await requirePublisher(hub, req, reply);
  if (!p) return reply;
  publisherOf.set(req, p);
};


/** /metadata/<version>.<role>.json, /metadata/timestamp.json (and unversioned latest files for mirrors). */
const metadataRoutes: FastifyPluginAsync<HubPluginOptions> = async (app, { hub }) => {
  app.get<{ Params: { file: string } }>('/metadata/:file', {
    schema: { params: { type: 'object', properties: { file: { type: 'string', pattern: '^(?:[1-9][0-9]{0,9}\\.)?[a-z][a-z0-9-]{0,63}\\.json$' } }, required: ['file'] } },
  }, async (req, reply) => {
    const m = /^(?:(\d+)\.)?([a-z][a-z0-9-]*)\.json$/.exec(req.params.file);
    if (!m) return reply.code(404).send();
    const [, v, role] = m;
    if (role === 'timestamp' && v === undefined) await ensureFreshMetadata(hub);
    const row = v === undefined ? await hub.storage.latestMetadata(role) : await hub.storage.metadata(role, Number(v));
    if (!row) return reply.code(404).send({ ok: false, error: { code: 'not-found', message: `no ${req.params.file}` } });
    // Versioned files never change; the timestamp (and unversioned names) must not be cached long.
    reply.header('cache-control', v === undefined ? 'no-cache' : 'public, max-age=31536000, immutable');
    return reply.type('application/json').send(row.body);
  });
};

/**
 * A blob with Range. The body goes out through recycled buffers (send-range.ts): the reply is taken
 * over from Fastify once the status and headers are decided.
 */
function sendFile(req: FastifyRequest, reply: FastifyReply, file: string): FastifyReply {
  const fd = fs.openSync(file, 'r');
  let size: number;
  try {
    size = fs.fstatSync(fd).size;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  reply.header('accept-ranges', 'bytes').type('application/octet-stream');
  const r = parseRange(req.headers.range, size);
  let start = 0;
  let end = size - 1;
  if (r.kind === 'unsatisfiable') {
    fs.closeSync(fd);
    return reply.code(416).header('content-range', `bytes */${size}`).send();
  }
  if (r.kind === 'partial') {
    ({ start, end } = r);
    reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
  }
  reply.header('content-length', end - start + 1);
  reply.hijack();
  reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  if (req.method === 'HEAD' || end < start) {
    fs.closeSync(fd);
    reply.raw.end();
  } else sendRange(reply.raw, fd, start, end);
  return reply;
}

/**
 * /targets/<model>/<version>/<sha256>.<file> (and alias/yank documents): content-addressed (consistent
 * snapshots), with Range. Only blobs of committed publishes are served, model files only at the path
 * their version was published under.
 */
const targetRoutes: FastifyPluginAsync<HubPluginOptions> = async (app, { hub }) => {
  app.get<{ Params: { '*': string } }>('/targets/*', async (req, reply) => {
    const notFound = () => reply.code(404).send({ ok: false, error: { code: 'not-found', message: 'no such target' } });
    const parts = req.params['*'].split('/');
    const m = /^([0-9a-f]{64})\.(.+)$/.exec(parts.pop() ?? '');
    if (!m) return notFound();
    const [, sha, file] = m;
    const t = parseTargetPath([...parts, file].join('/'));
    if (!t.ok || !(await hub.storage.blob(sha)) || !hub.blobs.has(sha)) return notFound();
    if (t.path.kind === 'file') {
      const { name, version, file: f } = t.path;
      const v = (await hub.storage.modelVersions(name)).find((x) => x.version === version);
      const expected = isReleaseName(name) ? (f === RELEASE_FILE ? v?.cardSha256 : v?.modelSha256) : f === 'model.onnx' ? v?.modelSha256 : f === 'card.json' ? v?.cardSha256 : '';
      if (!v || expected !== sha) return notFound();
    }
    return sendFile(req, reply, hub.blobs.path(sha));
  });
};

const publishRoutes: FastifyPluginAsync<HubPluginOptions> = async (app, { hub }) => {
  // Blobs are streamed to disk while hashed, never buffered whole.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  app.get('/api/v1/publishers/me', async (req, reply) => {
    const p = await requirePublisher(hub, req, reply);
    if (!p) return reply;
    const row = await hub.storage.latestMetadata(p.name);
    return { name: p.name, modelsGlob: p.modelsGlob, paths: delegationPathsFor(p.modelsGlob), keyIds: p.keyIds, threshold: p.threshold, metadata: row ? JSON.parse(row.body) as unknown : null };
  });

  app.get<{ Params: { sha256: string } }>('/api/v1/blobs/:sha256', {
    schema: { params: { type: 'object', properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['sha256'] } },
  }, async (req, reply) => {
    const b = await hub.storage.blob(req.params.sha256);
    if (!b || !hub.blobs.has(req.params.sha256)) return reply.code(404).send({ ok: false, error: { code: 'not-found', message: 'no such blob' } });
    return { sha256: req.params.sha256, length: b.length };
  });

  // A publish request: the signed metadata is checked first; then only its missing files are accepted.
  // `bins`: the version bins the publisher re-signed with this metadata (src/hub/node/bins.ts)
  type SubmittedBins = { name: string; metadata: unknown }[];
  const binsSchema = { type: 'array', maxItems: 100_000, items: { type: 'object', properties: { name: { type: 'string', maxLength: 64 }, metadata: { type: 'object' } }, required: ['name', 'metadata'] } } as const;
  const PUBLISH_BODY: BodySchema = { type: 'object', properties: { metadata: { type: 'object' }, bins: binsSchema }, required: ['metadata'] };
  app.post<{ Body: { metadata: unknown; bins?: SubmittedBins } }>('/api/v1/uploads', {
    onRequest: authenticateFirst(hub),
    bodyLimit: 16 * 1024 * 1024,
    preValidation: onlyFields(PUBLISH_BODY),
    schema: { body: PUBLISH_BODY },
  }, async (req, reply) => reply.code(201).send(await beginUpload(hub, publisherOf.get(req)!, req.body.metadata, req.body.bins ?? [])));

  const uploadParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['id'] } as const;
  app.put<{ Params: { id: string; sha256: string } }>('/api/v1/uploads/:id/:sha256', {
    onRequest: authenticateFirst(hub),
    config: { bodyType: 'application/octet-stream' },
    schema: { params: { ...uploadParams, required: ['id', 'sha256'] } },
  }, async (req, reply) => {
    const body = req.body as Readable | undefined;
    const p = publisherOf.get(req)!;
    if (typeof body?.pipe !== 'function') throw new RequestRefusal(415, 'PUT a blob as application/octet-stream');
    if (Number(req.headers['content-length']) > hub.config.maxBlobBytes) {
      return reply.code(413).header('connection', 'close').send({ ok: false, error: { code: 'too-large', message: `blob is larger than this hub accepts (${hub.config.maxBlobBytes} bytes)` } });
    }
    await receiveBlob(hub, p, req.params.id, req.params.sha256, body, Number(req.headers['content-length']));
    return reply.code(201).send({ sha256: req.params.sha256 });
  });

  app.post<{ Params: { id: string } }>('/api/v1/uploads/:id/commit', {
    onRequest: authenticateFirst(hub), bodyLimit: 16 * 1024, preValidation: onlyFields(null), schema: { params: uploadParams },
  }, async (req) => ({ ok: true, ...(await commitUpload(hub, publisherOf.get(req)!, req.params.id)) }));

  app.delete<{ Params: { id: string } }>('/api/v1/uploads/:id', { onRequest: authenticateFirst(hub), schema: { params: uploadParams } }, async (req, reply) => {
    const p = publisherOf.get(req)!;
    const u = await hub.storage.upload(req.params.id);
    if (u?.publisher === p.name) await dropUpload(hub, req.params.id);
    return reply.code(204).send();
  });

  app.post<{ Body: { metadata: unknown; bins?: SubmittedBins } }>('/api/v1/publish', {
    onRequest: authenticateFirst(hub),
    bodyLimit: 16 * 1024 * 1024,
    preValidation: onlyFields(PUBLISH_BODY),
    schema: { body: PUBLISH_BODY },
  }, async (req) => {
    const r = await publish(hub, publisherOf.get(req)!, req.body.metadata, req.body.bins ?? []);
    return { ok: true, ...r };
  });
};

const catalogRoutes: FastifyPluginAsync<HubPluginOptions> = async (app, { hub }) => {
  app.get('/api/v1/models', async () => ({ models: await catalog(hub) }));
  app.get<{ Params: { name: string } }>('/api/v1/models/:name', {
    schema: { params: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } }, required: ['name'] } },
  }, async (req, reply) => {
    const [m] = await catalog(hub, req.params.name);
    if (!m) return reply.code(404).send({ ok: false, error: { code: 'not-found', message: `no model ${quote(req.params.name)} is published` } });
    return m;
  });
  // a SignedUpdate (signing.ts), checked field by field by applySignedUpdate; here only: no others
  const SIGNED_UPDATE: BodySchema = { type: 'object', properties: { format: {}, createdAt: {}, changes: {}, force: {}, root: {}, targets: {} } };
  app.post('/api/v1/admin/metadata', { onRequest: adminFirst(hub), bodyLimit: 16 * 1024 * 1024, preValidation: onlyFields(SIGNED_UPDATE) }, async (req) => ({ ok: true, ...(await applySignedUpdate(hub, req.body)) }));
  app.get('/api/v1/publishers', { onRequest: adminFirst(hub) }, async () => {
    return { publishers: (await hub.storage.publishers()).map((p) => ({ name: p.name, modelsGlob: p.modelsGlob, keyIds: p.keyIds, threshold: p.threshold, createdAt: p.createdAt })) };
  });
  // for load balancers: healthy when the storage answers (a hub without its database serves nothing)
  app.get('/healthz', async () => {
    await hub.storage.latestMetadata('timestamp');
    return { ok: true, storage: hub.storage.kind };
  });
};

export interface HubServerOptions {
  logger?: boolean;
  /** a connection that sends nothing for this long is closed (a stalled, slowloris-style request; default 60 s) */
  idleTimeoutMs?: number;
  /** told about the hub's own failures (storage unavailable, bugs), with the details clients do not get */
  onError?: (err: unknown) => void;
  /** serve HTTPS with this certificate (chain) and private key, PEM (`hub serve --tls-cert --tls-key`) */
  tls?: { cert: Buffer; key: Buffer };
  /** the hub console at `/`: the built UI (null or absent: no pages, the admin API still answers) */
  console?: { staticDir: string | null };
  /** further Host names (host or host:port) the console answers to, e.g. a reverse proxy's public name */
  consoleHosts?: string[];
  /** compute the console's opening Fleet drift answer once listening (`hub serve`), so its first visit is quick */
  warmConsole?: boolean;
}

/** Fastify's parser refuses `__proto__` as "not valid JSON": when the text is JSON, the key is the reason, named. */
function prototypeKeyError(text: string): OutpostError | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const reason = prototypeKeyReason(value);
  return reason ? new OutpostError('usage', `the request body ${reason}`) : undefined;
}

/** What a route reads its body as (a route's `config.bodyType`; JSON unless it says otherwise), for a 415's message. */
const bodyTypeOf = (req: FastifyRequest): string => (req.routeOptions.config as { bodyType?: string } | undefined)?.bodyType ?? 'application/json';

/** Fastify's 413 and 415 say neither the limit nor the type expected: the hub's messages say both. */
function requestRefusalMessage(req: FastifyRequest, e: { code?: string; message: string }): string {
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = req.routeOptions.bodyLimit;
    const declared = Number(req.headers['content-length']);
    return Number.isFinite(declared) && declared > limit ? `the request body is ${declared} bytes; the limit is ${limit}` : `the request body is larger than the limit of ${limit} bytes`;
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    const got = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    return `the request body must be ${bodyTypeOf(req)} (got ${got ? quote(got) : 'no content type'})`;
  }
  return e.message;
}

export function buildHubServer(hub: Hub, opts: HubServerOptions = {}): FastifyInstance {
  // Headers must arrive within Node's 60 s; after that only idleness ends a connection, so a large
  // blob upload is never cut off for taking long.
  // HTTPS is the same Fastify app on Node's https server: every route, limit and timeout is shared.
  const app = Fastify({
    logger: opts.logger ?? false, connectionTimeout: opts.idleTimeoutMs ?? 60_000,
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' as const } } : {}),
    // errors before routing (a path that does not percent-decode, an over-long path segment) in the
    // hub's one error shape, without echoing the path
    clientErrorHandler: answerClientError,
    // JSON bodies are type-checked strictly; query strings and path parameters are coerced (validators.ts)
    schemaController: { compilersFactory: { buildValidator: buildHubValidator } },
    frameworkErrors: (err, _req, reply) => {
      const status = err.statusCode !== undefined && err.statusCode < 500 ? err.statusCode : 500;
      const message = err.code === 'FST_ERR_BAD_URL' ? 'the URL path has malformed percent-encoding'
        : err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a part of the URL path is too long' : status < 500 ? 'bad request' : 'internal error';
      void (reply as FastifyReply).code(status).send({ ok: false, error: { code: status < 500 ? requestErrorCode(status) : 'internal', message } });
    },
  }) as unknown as FastifyInstance;
  // Bodies are JSON (or the sync, proposal and blob types): a text/plain post is 415, not a string
  // handed to the schema ("body must be object") — and not a CORS-simple way in for a foreign page.
  app.removeContentTypeParser('text/plain');
  // JSON bodies must be UTF-8 (bytes that are not are refused naming where, not read as U+FFFD);
  // then Fastify's own parser, with its refusal of __proto__ / constructor poisoning; then an object
  // that names a key twice is refused naming it (JSON.parse would keep the last value silently)
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const d = decodeUtf8Body(body as Buffer);
    if (!d.ok) { done(new OutpostError('usage', `the request body ${d.reason}`), undefined); return; }
    void json(req, d.text, (err: Error | null, value?: unknown) => {
      if (err) { done(prototypeKeyError(d.text) ?? err, undefined); return; }
      const dup = duplicateJsonKey(d.text, value);
      if (dup) { done(new OutpostError('usage', `the request body ${duplicateReason(dup)}`), undefined); return; }
      done(null, value);
    });
  });
  app.setErrorHandler((err, req, reply) => {
    const fleet = fleetErrorReply(err);
    if (fleet) return reply.code(fleet.status).headers(fleet.headers ?? {}).send(fleet.body);
    if (err instanceof OutpostError && err.code === 'store') {
      // e.g. PostgreSQL unreachable: say so without naming the database server to the client
      opts.onError?.(err);
      app.log.error(err);
      return reply.code(503).header('retry-after', '5').send({ ok: false, error: { code: 'store', message: 'the hub\'s storage is unavailable; try again later' } });
    }
    if (err instanceof OutpostError) return reply.code(STATUS[err.code] ?? 400).send({ ok: false, error: err.toJSON() });
    const e = err as { validation?: unknown; statusCode?: number; code?: string; message: string };
    // a malformed request (a query, path or body field of the wrong type or form, malformed JSON, too
    // large, another content type): the codes `outpost serve` answers the same mistakes with
    if (e.validation || (e.statusCode && e.statusCode < 500)) {
      const status = e.statusCode ?? 400;
      return reply.code(status).send({ ok: false, error: { code: requestErrorCode(status), message: requestRefusalMessage(req, e) } });
    }
    opts.onError?.(err);
    app.log.error(err);
    return reply.code(500).send({ ok: false, error: { code: 'internal', message: 'internal error' } });
  });
  // an unknown route in the same shape, without echoing the path (Fastify's default sent a 10 kB path back whole);
  // a path some other method takes is 405 with Allow, as on `outpost serve` (request-errors.ts)
  const methodsAt = trackRouteMethods(app);
  checkApiQueries(app);
  app.setNotFoundHandler((req, reply) => {
    const raw = req.raw.url ?? '';
    const methods = methodsAt(raw.slice(0, raw.includes('?') ? raw.indexOf('?') : raw.length));
    if (methods.length) {
      const { allow, error } = methodNotAllowed(req.method, methods);
      return reply.code(405).header('allow', allow).send({ ok: false, error });
    }
    return reply.code(404).send({ ok: false, error: { code: 'not-found', message: `the hub has no ${req.method} route at this path` } });
  });
  for (const plugin of [metadataRoutes, targetRoutes, publishRoutes, catalogRoutes, syncRoutes, rolloutRoutes, proposalRoutes]) void app.register(plugin, { hub });
  void app.register(consoleRoutes, { hub, staticDir: opts.console?.staticDir ?? null });
  return app;
}

export interface RunningHub {
  url: string;
  app: FastifyInstance;
  /** settles when the console's warm-up is done (at once without `warmConsole`); a failure went to `onError` */
  warmed: Promise<void>;
  /** stops listening once the warm-up has settled (it reads the storage the caller closes next) */
  close(): Promise<void>;
}

/** Why the hub cannot listen, in the operator's words (a usage error: another --port or --host fixes it); anything else as it is. */
function listenFailure(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new OutpostError('usage', `port ${port} on ${host} is already in use (another hub or program): pick another with --port`);
  if (code === 'EADDRNOTAVAIL') return new OutpostError('usage', `--host ${host} is not an address of this machine: give one of its addresses, or 0.0.0.0 for all`);
  if (code === 'EACCES') return new OutpostError('usage', `port ${port} needs privileges this user does not have: pick one above 1023 with --port`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new OutpostError('usage', `--host ${host} does not resolve to an address of this machine`);
  return e;
}

/** Listen on host:port (port 0: any free port) and return the base URL. */
export async function startHubServer(hub: Hub, opts: HubServerOptions & { host?: string; port?: number } = {}): Promise<RunningHub> {
  const app = buildHubServer(hub, opts);
  const listenHost = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  try {
    await app.listen({ host: listenHost, port });
  } catch (e) {
    await app.close();
    throw listenFailure(e, listenHost, port);
  }
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  setConsoleSite(hub, { hosts: [...defaultHosts(listenHost, addr.port), ...(opts.consoleHosts ?? [])], secure: opts.tls !== undefined });
  const warmed = opts.warmConsole ? warmFleetDrift(hub).catch((e: unknown) => opts.onError?.(e)) : Promise.resolve();
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${addr.port}`, app, warmed,
    close: async () => {
      await warmed;
      await app.close();
    },
  };
}
