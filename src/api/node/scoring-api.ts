// The local scoring API of `outpost serve --api` (the routes under /v1 of the serve server):
//   GET  /v1/models                      installed models and their input schemas
//   GET  /v1/models/{name}[@{version}]   one model
//   POST /v1/models/{name}[@{version}]/predict   one record (a JSON object) or {"records": [ … ]}
//   GET  /v1/openapi.json                its OpenAPI 3.1 description (src/api/common/openapi.ts)
// Authenticated with bearer tokens made by `outpost tokens create` (only their hashes are stored),
// looked up on every request so a revocation takes effect at once in every process; the UI's
// access token and session cookie authorize nothing here. Scoring goes through RecordScorer: the
// same validation, engine and logging as `outpost score`, one engine (ONNX Runtime session) per
// model version shared by every caller, records logged in a session per token and UTC day.
// Every answer is JSON; errors have the shape {ok: false, error: {code, message[, records]}}.
import type http from 'node:http';
import { OutpostError, quote } from '../../common/errors.ts';
import { RecordScorer, type FieldError, type RecordOutcome } from '../../scoring/node/predict.ts';
import { authenticateApiToken, tokenAllows, type ApiToken } from '../../store/node/api-tokens.ts';
import { getModel, listModels, parseModelRef, type InstalledModel } from '../../store/node/models.ts';
import { getSettings, openStore, type Store } from '../../store/node/store.ts';
import { parseJsonBody } from '../common/json-body.ts';
import { parseKeepingNumbers } from '../../io/common/jsonl-decoder.ts';
import { openApiDocument } from '../common/openapi.ts';
import { RateLimiter, type RateLimit } from '../common/rate-limit.ts';
import { methodAllowed, methodNotAllowed, queryProblem, requestErrorCode } from '../common/request-errors.ts';
import { HttpError, limitedBody } from './http.ts';

/** Every answer is JSON for a program, never a page: nothing in it may run, be framed or sniffed. */
const HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'", 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer', 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store',
};

export interface ScoringApiOptions {
  home: string;
  /** request bodies larger than this are answered 413 (default 1 MiB) */
  maxBodyBytes?: number;
  /** records per request (default 10,000) */
  maxRecords?: number;
  /** records per second per token (default 5,000, bursts of 10,000; the burst is at least maxRecords) */
  rate?: RateLimit;
  /** execution provider of the engines (default: the provider setting) */
  ep?: string;
  bodyIdleMs?: number;
  onWarning?: (line: string) => void;
  now?: () => number;
}

export interface ScoringApi {
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams): Promise<void>;
  /** The model versions with an open engine (one ONNX Runtime session each, shared by every caller). */
  engines(): string[];
  /** Commit what the record sessions have pending now (they do within a second anyway). */
  flush(): void;
  /** Commit the record sessions and stop the engines. */
  close(): Promise<void>;
}

export const API_DEFAULTS = { maxBodyBytes: 1024 * 1024, maxRecords: 10_000, rate: { rate: 5_000, burst: 10_000 } } as const;
const DRAIN_MS = 5_000;
const API_VERSION = '1.0.0';

type Code = 'usage' | 'unauthorized' | 'forbidden' | 'not-found' | 'method-not-allowed' | 'too-large' | 'unsupported-media-type' | 'validation' | 'rate-limited' | 'package' | 'provider' | 'internal';

class ApiError extends Error {
  readonly status: number;
  readonly code: Code;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(status: number, code: Code, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
    this.headers = headers;
  }
}


/** What the API says about a model version (no paths, hashes or signatures: a caller needs the schema). */
function describe(m: InstalledModel, versions: number[]) {
  const c = m.card;
  return {
    name: m.name, version: m.version, active: m.active, versions, task: c.task,
    ...(c.description ? { description: c.description } : {}),
    inputs: c.inputs.map((f) => ({
      name: f.name, type: f.type, nullable: f.nullable ?? false,
      ...(f.range?.min !== undefined ? { min: f.range.min } : {}), ...(f.range?.max !== undefined ? { max: f.range.max } : {}),
      ...(f.vocabulary ? { vocabulary: f.vocabulary } : {}), ...(f.unit ? { unit: f.unit } : {}), ...(f.description ? { description: f.description } : {}),
    })),
    outputs: c.outputs.classes ? { classes: c.outputs.classes } : {},
  };
}

const prediction = (o: Extract<RecordOutcome, { ok: true }>) => (o.value !== undefined ? { value: o.value } : { label: o.label, ...(o.probabilities ? { probabilities: o.probabilities } : {}) });

export function createScoringApi(opts: ScoringApiOptions): ScoringApi {
  const store: Store = openStore(opts.home);
  const maxBodyBytes = opts.maxBodyBytes ?? API_DEFAULTS.maxBodyBytes;
  const maxRecords = opts.maxRecords ?? API_DEFAULTS.maxRecords;
  const rate = opts.rate ?? API_DEFAULTS.rate;
  const limiter = new RateLimiter({ rate: rate.rate, burst: Math.max(rate.burst, maxRecords) });
  const now = opts.now ?? Date.now;
  const ep = opts.ep ?? getSettings(store).provider;
  const bodyIdleMs = opts.bodyIdleMs ?? 30_000;
  const doc = JSON.stringify(openApiDocument(API_VERSION, { maxBodyBytes, maxRecords, rate: limiter.limit.rate, burst: limiter.limit.burst }));
  /** one engine per model version, shared by every caller; a failed open is forgotten (tried again next time) */
  const scorers = new Map<string, Promise<RecordScorer>>();
  const opened = new Map<string, RecordScorer>();
  let closing = false;
  const activeVersion = store.db.prepare('SELECT version FROM active_models WHERE name = ?');
  const installed = store.db.prepare('SELECT 1 FROM models WHERE name = ? AND version = ?');

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    res.writeHead(status, { ...HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(text.length), ...headers });
    res.end(text);
  };

  const authenticate = (req: http.IncomingMessage): ApiToken => {
    const auth = req.headers.authorization;
    const m = auth === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    const token = m ? authenticateApiToken(store, m[1], now()) : undefined;
    if (!token) {
      throw new ApiError(401, 'unauthorized', auth === undefined
        ? 'this API needs "Authorization: Bearer <token>" (create a token with `outpost tokens create --name <name>`; the app\'s session does not authorize the API)'
        : 'the bearer token is not valid (unknown or revoked); see `outpost tokens list`', {}, { 'WWW-Authenticate': 'Bearer realm="outpost"' });
    }
    return token;
  };

  /**
   * A model reference to an installed name and version (the active one when none is given), or 404;
   * 403 first when the token is limited to other models (whether this one is installed or not).
   */
  const resolve = (ref: string, token: ApiToken): { name: string; version: number } => {
    const { name, version } = parseModelRef(ref);
    if (!tokenAllows(token, name)) throw new ApiError(403, 'forbidden', `token "${token.name}" may use only ${token.models!.map((m) => `"${m}"`).join(', ')}, not ${quote(name)} (make a token for it: outpost tokens create, or the app's Settings)`);
    const v = version ?? (activeVersion.get(name) as { version: number } | undefined)?.version;
    if (v === undefined || !installed.get(name, v)) getModel(store, ref); // throws not-found with what is installed
    return { name, version: v! };
  };

  const scorerFor = (name: string, version: number): Promise<RecordScorer> => {
    const key = `${name}@${version}`;
    let p = scorers.get(key);
    if (!p) {
      p = RecordScorer.open(store, getModel(store, key), ep, opts.onWarning ? { onWarning: opts.onWarning } : {});
      scorers.set(key, p);
      p.then((s) => opened.set(key, s), () => scorers.delete(key));
    }
    return p;
  };

  const readBody = async (req: http.IncomingMessage): Promise<{ value: unknown; text: string }> => {
    const declared = Number(req.headers['content-length']);
    if (declared > maxBodyBytes) throw new ApiError(413, 'too-large', `the request body is ${declared} bytes; the limit is ${maxBodyBytes} (send fewer records per request)`);
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw new ApiError(415, 'unsupported-media-type', `the request body must be application/json (got ${type ? quote(type) : 'no content type'})`);
    const chunks: Buffer[] = [];
    for await (const c of limitedBody(req, maxBodyBytes, bodyIdleMs, 'the request body')) chunks.push(c);
    if (!chunks.length) throw new ApiError(400, 'usage', 'the request has no body: send one record as a JSON object, or {"records": [ … ]}');
    const body = parseJsonBody(Buffer.concat(chunks));
    if (!body.ok) throw new ApiError(400, 'usage', `the request body ${body.reason}`);
    return body;
  };

  const predict = async (req: http.IncomingMessage, res: http.ServerResponse, token: ApiToken, ref: string) => {
    const { name, version } = resolve(ref, token);
    const { value: body, text } = await readBody(req);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ApiError(400, 'usage', `the body must be a JSON object: one record, or {"records": [ … ]} (got ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body})`);
    }
    const batch = Object.hasOwn(body, 'records');
    let records: unknown[];
    if (batch) {
      const r = (body as { records: unknown }).records;
      if (!Array.isArray(r)) throw new ApiError(400, 'usage', '"records" must be an array of records (JSON objects)');
      if (Object.keys(body).length > 1) throw new ApiError(400, 'usage', `a batch is {"records": [ … ]} and nothing else (also got: ${Object.keys(body).filter((k) => k !== 'records').join(', ')})`);
      if (r.length === 0) throw new ApiError(400, 'usage', '"records" is empty');
      if (r.length > maxRecords) throw new ApiError(413, 'too-large', `${r.length} records in one request; the limit is ${maxRecords}`);
      records = r;
    } else records = [body];
    const admission = limiter.take(token.id, records.length, now());
    if (!admission.ok) {
      throw new ApiError(429, 'rate-limited', `token "${token.name}" is over its rate limit of ${limiter.limit.rate} records per second; retry in ${admission.retryAfterSeconds} s`, {}, { 'Retry-After': String(admission.retryAfterSeconds) });
    }
    const scorer = await scorerFor(name, version);
    // the records' JSON numbers as sent, worked out only when a record is refused (its errors echo them)
    let kept: ReturnType<typeof parseKeepingNumbers> | undefined;
    const numbersOf = (i: number) => {
      kept ??= parseKeepingNumbers(text);
      return kept.numbersIn(batch ? (kept.value as { records: unknown[] }).records[i] : kept.value);
    };
    // JSON bodies are typed: "50" for a number input is refused naming the field (a file's cell rules do not apply)
    const outcomes = await scorer.score(records.map((value, i) => ({ value, numbers: () => numbersOf(i) })), `api:${token.name}`, { atomic: true, strictTypes: true });
    const failed = outcomes.flatMap((o, index) => (!o.ok && o.errors.length ? [{ index, errors: o.errors as FieldError[] }] : []));
    if (failed.length) {
      throw new ApiError(422, 'validation', `${failed.length} of ${records.length} record${records.length === 1 ? '' : 's'} failed validation; nothing was scored`, { records: failed });
    }
    const results = outcomes.map((o) => prediction(o as Extract<RecordOutcome, { ok: true }>));
    send(res, 200, batch ? { model: name, version, predictions: results } : { model: name, version, ...results[0] });
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams) => {
    const method = req.method ?? '';
    // one answer on both servers (request-errors.ts): 405 with Allow; a GET route answers HEAD like
    // GET, without the body; and no route here takes a query parameter
    const only = (allowed: string) => {
      if (!methodAllowed(method, [allowed])) {
        const { allow, error } = methodNotAllowed(method, [allowed]);
        throw new ApiError(405, error.code, error.message, {}, { Allow: allow });
      }
      const problem = queryProblem(query, []);
      if (problem) throw new ApiError(400, 'usage', problem);
    };
    if (path === '/v1/openapi.json') {
      only('GET');
      return send(res, 200, doc);
    }
    const m = /^\/v1\/models(?:\/([^/]+))?(\/predict)?$/.exec(path);
    if (!m || (m[2] && !m[1])) throw new ApiError(404, 'not-found', `no API route ${quote(path)} (see /v1/openapi.json)`);
    const token = authenticate(req);
    if (m[2]) {
      only('POST');
      return predict(req, res, token, m[1]);
    }
    only('GET');
    if (!m[1]) {
      const all = listModels(store).filter((x) => tokenAllows(token, x.name));
      const names = [...new Set(all.map((x) => x.name))];
      return send(res, 200, {
        models: names.flatMap((n) => {
          const versions = all.filter((x) => x.name === n);
          const shown = versions.find((x) => x.active);
          return shown ? [describe(shown, versions.map((x) => x.version))] : [];
        }),
      });
    }
    const { name, version } = resolve(m[1], token);
    const versions = listModels(store).filter((x) => x.name === name).map((x) => x.version);
    return send(res, 200, describe(getModel(store, `${name}@${version}`), versions));
  };

  return {
    async handle(req, res, path, query) {
      try {
        if (closing) throw new ApiError(503, 'internal', 'the server is stopping');
        await route(req, res, path, query);
      } catch (e) {
        if (res.headersSent) return void res.destroy();
        let err: ApiError;
        if (e instanceof ApiError) err = e;
        else if (e instanceof HttpError) err = new ApiError(e.status, requestErrorCode(e.status), e.message);
        else if (e instanceof OutpostError) {
          err = e.code === 'not-found' ? new ApiError(404, 'not-found', e.message)
            : e.code === 'usage' ? new ApiError(400, 'usage', e.message)
              : e.code === 'provider' ? new ApiError(503, 'provider', e.message)
                : e.code === 'package' ? new ApiError(500, 'package', e.message)
                  : new ApiError(500, 'internal', e.message);
        } else {
          opts.onWarning?.(`scoring API: ${req.method} ${path}: ${(e as Error)?.stack ?? String(e)}`);
          err = new ApiError(500, 'internal', 'internal error (see the server\'s log)');
        }
        const headers = { ...err.headers };
        if (err.status === 408) headers.Connection = 'close';
        else if (!req.complete) {
          // discard the rest of a refused body for a few seconds so the client reads the answer, then cut
          const cut = setTimeout(() => { if (!req.complete) req.socket.destroy(); }, DRAIN_MS);
          req.socket.once('close', () => clearTimeout(cut));
        }
        send(res, err.status, { ok: false, error: { code: err.code, message: err.message, ...err.extra } }, headers);
      }
    },
    engines: () => [...opened.keys()],
    flush() {
      for (const s of opened.values()) s.flush();
    },
    async close() {
      closing = true;
      opened.clear();
      const all = await Promise.allSettled(scorers.values());
      scorers.clear();
      try {
        for (const r of all) if (r.status === 'fulfilled') await r.value.close();
      } finally {
        store.close();
      }
    },
  };
}
