// The local scoring API (`outpost serve --api`, src/api/node/scoring-api.ts) on a real loopback
// server with the demo model and ONNX Runtime: answers equal `outpost score` bit for bit and are
// logged like a scoring job; bearer tokens made and revoked with the real CLI (the UI's token and
// cookie authorize nothing); oversize, malformed and invalid bodies, unknown models, rate limits,
// hostile URLs and headers each get their JSON error and the server keeps serving.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createScoringApi, type ScoringApi } from '../src/api/node/scoring-api.ts';
import { startHttp, type HttpServer } from '../src/api/node/http.ts';
import { createService, type Service } from '../src/api/node/service.ts';
import { pagePredictions } from '../src/store/node/predictions.ts';
import { openStore } from '../src/store/node/store.ts';
import { lastJson, REPO, runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
const home = path.join(root, 'home');
const SAMPLE = path.join(REPO, 'models/demo/weather-2015.csv');
const DEMO_PKG = path.join(REPO, 'models/demo/weather');

const [header, ...rows] = fs.readFileSync(SAMPLE, 'utf8').trim().split('\n').map((l) => l.split(','));
const FIELDS = ['precipitation', 'temp_max', 'temp_min', 'wind', 'season'];
/** A sample row as a record: numbers as JSON numbers read from the CSV's text. */
const record = (row: string[]): Record<string, number | string> => Object.fromEntries(FIELDS.map((f) => {
  const cell = row[header.indexOf(f)];
  return [f, f === 'season' ? cell : Number(cell)];
}));
const SOME = rows.filter((_, i) => i % 5 === 0); // 73 rows across the year

let service: Service;
let api: ScoringApi;
let server: HttpServer;
let base: string;
let token: string;
/** what `outpost score` wrote per row: "label=… p_…=…" */
let scored: string[];

interface Answer { status: number; headers: Headers; body: Record<string, unknown> }

async function call(method: string, p: string, opts: { token?: string | null; body?: unknown; raw?: string | Uint8Array; type?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  const t = opts.token === undefined ? token : opts.token;
  if (t !== null) headers.Authorization = `Bearer ${t}`;
  const payload = opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined);
  if (payload !== undefined) headers['Content-Type'] = opts.type ?? 'application/json';
  const r = await fetch(`${base}${p}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await r.text();
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `${method} ${p}: JSON answer (${r.status}: ${text.slice(0, 200)})`);
  return { status: r.status, headers: r.headers, body: JSON.parse(text) as Record<string, unknown> };
}

/** The error of an answer, checked for the stable shape {ok: false, error: {code, message}}. */
function errorOf(a: Answer, status: number, code: string): { code: string; message: string; records?: { index: number; errors: { field: string; reason: string; value: string }[] }[] } {
  assert.equal(a.status, status, JSON.stringify(a.body));
  assert.equal(a.body.ok, false);
  const e = a.body.error as { code: string; message: string };
  assert.equal(e.code, code);
  assert.equal(typeof e.message, 'string');
  return e;
}

/** A raw HTTP/1.1 exchange (for what fetch will not send); resolves with the status line's code, or 0 when the connection closed without one. */
function raw(request: string | Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(server.port, '127.0.0.1');
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d) => (text += d));
    s.on('error', () => { /* a reset after the answer is fine */ });
    s.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    s.setTimeout(20_000, () => { s.destroy(); reject(new Error('raw request timed out')); });
    s.end(request);
  });
}

const printed = (p: Record<string, unknown>) => [`label=${p.label}`, ...Object.entries(p.probabilities as Record<string, number>).map(([c, v]) => `p_${c}=${v}`)].join(' ');

before(async () => {
  assert.equal((await runCli(['models', 'add', DEMO_PKG, '--allow-unsigned'], { home })).code, 0);
  assert.equal((await runCli(['settings', 'set', 'logInputs', 'all'], { home })).code, 0);
  const csv = path.join(root, 'some.csv');
  fs.writeFileSync(csv, [header, ...SOME].map((r) => r.join(',')).join('\n') + '\n');
  const s = await runCli(['score', csv, '--model', 'seattle-weather', '--out', path.join(root, 'some.scored.csv')], { home });
  assert.equal(s.code, 0, s.stderr);
  const [h, ...lines] = fs.readFileSync(path.join(root, 'some.scored.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  scored = lines.map((l) => [`label=${l[1]}`, ...h.slice(2).map((name, i) => `${name}=${l[i + 2]}`)].join(' '));
  const created = await runCli(['tokens', 'create', '--name', 'my-script', '--json'], { home });
  assert.equal(created.code, 0, created.stderr);
  token = lastJson(created.stdout).token as string;
  service = createService({ home });
  api = createScoringApi({ home, maxBodyBytes: 64 * 1024, maxRecords: 500 });
  server = await startHttp({ service, staticDir: null, v1: (req, res, p, q) => api.handle(req, res, p, q) });
  base = `http://127.0.0.1:${server.port}`;
});

after(async () => {
  await server?.close();
  await api?.close();
  await service?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

test('tokens: printed once, stored only as a hash, listed without the secret', async () => {
  assert.match(token, /^outpost_[A-Za-z0-9_-]{43}$/);
  const list = await runCli(['tokens', 'list', '--json'], { home });
  assert.equal(list.code, 0);
  const tokens = lastJson(list.stdout).tokens as { name: string; state: string }[];
  assert.deepEqual(tokens.map((t) => [t.name, t.state]), [['my-script', 'live']]);
  assert.ok(!list.stdout.includes(token.slice(8)), 'tokens list never shows a secret');
  const again = await runCli(['tokens', 'create', '--name', 'my-script'], { home });
  assert.equal(again.code, 1, 'a live name is not reused');
  assert.match(again.stderr, /already exists/);
  const bad = await runCli(['tokens', 'create', '--name', '../x'], { home });
  assert.equal(bad.code, 2);
  const s = openStore(home);
  try {
    const dump = s.db.prepare('SELECT * FROM api_tokens').all();
    assert.ok(!JSON.stringify(dump).includes(token.slice(8)), 'the store holds no secret');
  } finally {
    s.close();
  }
});

test('predict: one record and a batch equal outpost score on the same rows, bit for bit', async () => {
  const one = await call('POST', '/v1/models/seattle-weather/predict', { body: record(SOME[0]) });
  assert.equal(one.status, 200, JSON.stringify(one.body));
  assert.equal(one.body.model, 'seattle-weather');
  assert.equal(one.body.version, 1);
  assert.equal(printed(one.body), scored[0]);

  const batch = await call('POST', '/v1/models/seattle-weather@1/predict', { body: { records: SOME.map(record) } });
  assert.equal(batch.status, 200, JSON.stringify(batch.body));
  const predictions = batch.body.predictions as Record<string, unknown>[];
  assert.equal(predictions.length, SOME.length);
  predictions.forEach((p, i) => assert.equal(printed(p), scored[i], `row ${i}`));
  assert.ok(new Set(predictions.map((p) => p.label)).size >= 2, 'more than one label compared');
});

test('concurrent callers share one engine and each get their own answer', async () => {
  const answers = await Promise.all(SOME.slice(0, 64).map((r) => call('POST', '/v1/models/seattle-weather/predict', { body: record(r) })));
  answers.forEach((a, i) => {
    assert.equal(a.status, 200);
    assert.equal(printed(a.body), scored[i], `caller ${i}`);
  });
  assert.deepEqual(api.engines(), ['seattle-weather@1'], 'one ONNX Runtime session for every caller');
});

test('models: list and one model with its input schema; unknown model or version 404', async () => {
  const list = await call('GET', '/v1/models');
  assert.equal(list.status, 200);
  const models = list.body.models as { name: string; version: number; versions: number[]; task: string; inputs: { name: string; type: string }[]; outputs: { classes: string[] } }[];
  assert.deepEqual(models.map((m) => [m.name, m.version, m.versions, m.task]), [['seattle-weather', 1, [1], 'multiclass']]);
  assert.deepEqual(models[0].inputs.map((f) => f.name), FIELDS);
  const season = models[0].inputs.find((f) => f.name === 'season') as { vocabulary?: string[] };
  assert.deepEqual(season.vocabulary, ['winter', 'spring', 'summer', 'autumn']);
  const one = await call('GET', '/v1/models/seattle-weather@1');
  assert.equal(one.status, 200);
  assert.deepEqual(one.body, models[0]);

  assert.match(errorOf(await call('GET', '/v1/models/no-such-model'), 404, 'not-found').message, /no model "no-such-model" is installed \(installed: seattle-weather\)/);
  assert.match(errorOf(await call('GET', '/v1/models/seattle-weather@7'), 404, 'not-found').message, /installed versions: 1/);
  errorOf(await call('POST', '/v1/models/no-such-model/predict', { body: record(SOME[0]) }), 404, 'not-found');
  errorOf(await call('GET', '/v1/nothing-here'), 404, 'not-found');
  // a version that is no whole number from 1 to 2^53-1 is bad usage, named as given (it was 404 echoing …000)
  for (const v of ['0', '00', '99999999999999999999', '9007199254740992']) {
    for (const [method, p] of [['GET', `/v1/models/seattle-weather@${v}`], ['POST', `/v1/models/seattle-weather@${v}/predict`]] as const) {
      const e = errorOf(await call(method, p, method === 'POST' ? { body: record(SOME[0]) } : {}), 400, 'usage');
      assert.equal(e.message, `the version in "seattle-weather@${v}" must be a whole number from 1 to 9007199254740991 (got "${v}")`, `${method} ${p}`);
    }
  }
  assert.equal((await call('GET', '/v1/models/seattle-weather@9007199254740991')).status, 404, 'the largest version is read as itself');
  // no route here takes a query parameter: one is refused naming it, not ignored
  assert.equal(errorOf(await call('GET', '/v1/models?limit=5'), 400, 'usage').message, 'unknown query parameter "limit" (this request takes no query parameters)');
  assert.equal(errorOf(await call('POST', '/v1/models/seattle-weather/predict?dry=1', { body: record(SOME[0]) }), 400, 'usage').message, 'unknown query parameter "dry" (this request takes no query parameters)');
  // an encoded slash is refused, never decoded into another route (it answered 405 for GET …/predict)
  const slash = errorOf(await call('GET', '/v1/models/seattle-weather%2fpredict'), 400, 'usage');
  assert.match(slash.message, /encoded slash \(%2F\)/);
  const wrongMethod = await call('GET', '/v1/models/seattle-weather/predict');
  errorOf(wrongMethod, 405, 'method-not-allowed');
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
  // one answer for a wrong method on both servers: 405 with Allow; HEAD on a GET route is GET without the body
  for (const [method, p, allow] of [['PUT', '/v1/models', 'GET, HEAD'], ['DELETE', '/v1/models/seattle-weather', 'GET, HEAD'], ['POST', '/v1/openapi.json', 'GET, HEAD'], ['HEAD', '/v1/models/seattle-weather/predict', 'POST']] as const) {
    const r = await fetch(`${base}${p}`, { method, headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    const text = await r.text();
    assert.equal(r.status, 405, `${method} ${p}: ${text}`);
    assert.equal(r.headers.get('allow'), allow, `${method} ${p}`);
    if (method !== 'HEAD') assert.equal(JSON.parse(text).error.message, `${method} is not allowed on this path (it takes ${allow})`);
  }
  for (const p of ['/v1/models', '/v1/models/seattle-weather', '/v1/openapi.json']) {
    const r = await fetch(`${base}${p}`, { method: 'HEAD', headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200, `HEAD ${p}`);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(await r.text(), '', `HEAD ${p}: no body`);
  }
});

test('authentication: no token, a wrong one, the UI\'s token or cookie, a revoked one: 401', async () => {
  const none = await call('GET', '/v1/models', { token: null });
  errorOf(none, 401, 'unauthorized');
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="outpost"');
  errorOf(await call('GET', '/v1/models', { token: 'outpost_' + 'A'.repeat(43) }), 401, 'unauthorized');
  errorOf(await call('POST', '/v1/models/seattle-weather/predict', { token: 'nonsense', body: record(SOME[0]) }), 401, 'unauthorized');
  errorOf(await call('GET', '/v1/models', { token: server.token }), 401, 'unauthorized');
  // the UI's session cookie, obtained the way a browser does
  const opened = await fetch(`${base}/?token=${server.token}`, { redirect: 'manual' });
  const cookie = opened.headers.get('set-cookie')!.split(';')[0];
  assert.match(cookie, /^outpost_token_\d+=/);
  assert.equal((await fetch(`${base}/api/call/status`, { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: '{}' })).status, 200, 'the cookie works for the UI');
  errorOf(await call('GET', '/v1/models', { token: null, headers: { Cookie: cookie } }), 401, 'unauthorized');

  const other = lastJson((await runCli(['tokens', 'create', '--name', 'short-lived', '--json'], { home })).stdout).token as string;
  assert.equal((await call('GET', '/v1/models', { token: other })).status, 200);
  const revoked = await runCli(['tokens', 'revoke', 'short-lived'], { home });
  assert.equal(revoked.code, 0, revoked.stderr);
  errorOf(await call('GET', '/v1/models', { token: other }), 401, 'unauthorized');
  errorOf(await call('POST', '/v1/models/seattle-weather/predict', { token: other, body: record(SOME[0]) }), 401, 'unauthorized');
  assert.equal((await runCli(['tokens', 'revoke', 'short-lived'], { home })).code, 1, 'already revoked');
  assert.equal((await call('GET', '/v1/models')).status, 200, 'the other token still works');
});

test('a token limited to models lists and scores only those; other models are 403 (installed or not)', async () => {
  const make = async (name: string, ...models: string[]) => {
    const r = await runCli(['tokens', 'create', '--name', name, ...models.flatMap((m) => ['--model', m]), '--json'], { home });
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    return { secret: j.token as string, models: j.models };
  };
  const weather = await make('only-weather', 'seattle-weather', 'churn', 'churn');
  assert.deepEqual(weather.models, ['churn', 'seattle-weather'], 'sorted, once each');
  const list = await call('GET', '/v1/models', { token: weather.secret });
  assert.deepEqual((list.body.models as { name: string }[]).map((m) => m.name), ['seattle-weather']);
  const one = await call('POST', '/v1/models/seattle-weather@1/predict', { token: weather.secret, body: record(SOME[0]) });
  assert.equal(one.status, 200, JSON.stringify(one.body));

  const other = await make('only-churn', 'churn');
  assert.deepEqual((await call('GET', '/v1/models', { token: other.secret })).body.models, [], 'churn is not installed: an empty list');
  const refused = errorOf(await call('POST', '/v1/models/seattle-weather/predict', { token: other.secret, body: record(SOME[0]) }), 403, 'forbidden');
  assert.match(refused.message, /token "only-churn" may use only "churn", not "seattle-weather"/);
  errorOf(await call('GET', '/v1/models/seattle-weather@1', { token: other.secret }), 403, 'forbidden');
  errorOf(await call('GET', '/v1/models/nope', { token: other.secret }), 403, 'forbidden');
  errorOf(await call('GET', '/v1/models/churn', { token: other.secret }), 404, 'not-found');
  errorOf(await call('GET', '/v1/models/seattle-weather', { token: 'outpost_wrong' }), 401, 'unauthorized');

  const listed = lastJson((await runCli(['tokens', 'list', '--json'], { home })).stdout).tokens as { name: string; models: string[] | null }[];
  assert.deepEqual(listed.filter((t) => t.name.startsWith('only-') || t.name === 'my-script').map((t) => [t.name, t.models]),
    [['only-churn', ['churn']], ['only-weather', ['churn', 'seattle-weather']], ['my-script', null]]);
  const text = await runCli(['tokens', 'list'], { home });
  assert.match(text.stdout, /only-churn\s+only churn/);
  assert.match(text.stdout, /my-script\s+every model/);
  for (const bad of ['seattle-weather@1', '../x', 'Upper']) {
    const r = await runCli(['tokens', 'create', '--name', 'bad-scope', '--model', bad], { home });
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, /is not a model name/);
  }
  for (const name of ['only-weather', 'only-churn']) assert.equal((await runCli(['tokens', 'revoke', name], { home })).code, 0);
});

test('validation errors: 422 naming each record, field and reason; nothing of the request is scored', async () => {
  const good = record(SOME[0]);
  const rowsBefore = await sessionRows();
  const bad = await call('POST', '/v1/models/seattle-weather/predict', {
    body: { records: [good, { ...good, temp_max: 99 }, { ...good, season: 'monsoon', extra: 1 }, 'text', { ...good, temp_min: null }] },
  });
  const e = errorOf(bad, 422, 'validation');
  assert.match(e.message, /4 of 5 records failed validation; nothing was scored/);
  assert.deepEqual(e.records!.map((r) => [r.index, r.errors.map((x) => [x.field, x.reason])]), [
    [1, [['temp_max', '99 is above the maximum 60']]],
    [2, [['extra', 'unknown field (the model\'s inputs: precipitation, temp_max, temp_min, wind, season)'], ['season', '"monsoon" is not in the vocabulary ("winter", "spring", "summer", "autumn")']]],
    [3, [['', 'not a JSON object (found string)']]],
    [4, [['temp_min', 'missing value in a non-nullable column']]],
  ]);
  const single = errorOf(await call('POST', '/v1/models/seattle-weather/predict', { body: { ...good, wind: 'calm' } }), 422, 'validation');
  assert.deepEqual(single.records, [{ index: 0, errors: [{ field: 'wind', reason: 'expected a JSON number (the input is float), got a string', value: '"calm"' }] }]);
  // JSON bodies are typed: a number input takes a JSON number, not "50" (nor true); a category a string, not 5.
  // A file's cell rules (numeric strings, true/false as 1/0) are not applied to them.
  const typed = errorOf(await call('POST', '/v1/models/seattle-weather/predict', {
    body: { records: [{ ...good, temp_max: '50' }, { ...good, precipitation: true, season: 5 }, { ...good, wind: [2] }, good] },
  }), 422, 'validation');
  assert.match(typed.message, /3 of 4 records failed validation; nothing was scored/);
  assert.deepEqual(typed.records!.map((r) => [r.index, r.errors]), [
    [0, [{ field: 'temp_max', reason: 'expected a JSON number (the input is float), got a string', value: '"50"' }]],
    [1, [{ field: 'precipitation', reason: 'expected a JSON number (the input is float), got a boolean', value: 'true' }, { field: 'season', reason: 'expected a JSON string (the input is category), got a number', value: '5' }]],
    [2, [{ field: 'wind', reason: 'expected a JSON number (the input is float), got an array', value: '[2]' }]],
  ]);
  assert.equal(await sessionRows(), rowsBefore, 'refused requests are not logged');
});

test('validation errors echo each value as sent: a JSON number\'s digits (not the double read from it), control characters escaped', async () => {
  const p = '/v1/models/seattle-weather/predict';
  const one = JSON.stringify(record(SOME[0]));
  // 99.50 reads as 99.5; an unknown key's 9223372036854775808 as 9223372036854776000; a C1 control (CSI) in a season
  const raw = `{"records": [${one.replace(/"temp_max":[^,]+/, '"temp_max": 99.50')}, ${one.replace('{', '{"extra": 9223372036854775808, ')}, ${one.replace(/"season":"[^"]*"/, '"season": "x\u009b2J"')}]}`;
  const e = errorOf(await call('POST', p, { raw }), 422, 'validation');
  assert.deepEqual(e.records!.map((r) => [r.index, r.errors.map((x) => [x.field, x.value])]), [
    [0, [['temp_max', '99.50']]],
    [1, [['extra', '9223372036854775808']]],
    [2, [['season', 'x\\u009b2J']]],
  ]);
  assert.match(e.records![2].errors[0].reason, /^"x\\u009b2J" is not in the vocabulary/);
  // a single record (the body is the record)
  const single = errorOf(await call('POST', p, { raw: one.replace(/"wind":[^,}]+/, '"wind": 1E+39') }), 422, 'validation');
  assert.deepEqual(single.records!.map((r) => r.errors.map((x) => [x.field, x.value])), [[['wind', '1E+39']]]);
});

test('bodies: malformed JSON 400, not a record 400, wrong content type 415, oversize 413 (declared, sent, too many records)', async () => {
  const p = '/v1/models/seattle-weather/predict';
  assert.match(errorOf(await call('POST', p, { raw: '{"precipitation": 1,' }), 400, 'usage').message, /not valid JSON/);
  assert.match(errorOf(await call('POST', p, { raw: '[1, 2]' }), 400, 'usage').message, /must be a JSON object/);
  errorOf(await call('POST', p, { body: { records: 'all of them' } }), 400, 'usage');
  errorOf(await call('POST', p, { body: { records: [] } }), 400, 'usage');
  errorOf(await call('POST', p, { body: { records: [record(SOME[0])], more: 1 } }), 400, 'usage');
  errorOf(await call('POST', p, { raw: '' }), 400, 'usage');
  errorOf(await call('POST', p, { raw: JSON.stringify(record(SOME[0])), type: 'text/plain' }), 415, 'unsupported-media-type');
  errorOf(await call('POST', p, { raw: 'a=1', type: 'application/x-www-form-urlencoded' }), 415, 'unsupported-media-type');
  const big = JSON.stringify({ records: Array.from({ length: 400 }, () => ({ ...record(SOME[0]), season: 'x'.repeat(200) })) });
  assert.ok(big.length > 64 * 1024);
  assert.match(errorOf(await call('POST', p, { raw: big }), 413, 'too-large').message, /limit is 65536/);
  assert.match(errorOf(await call('POST', p, { body: { records: Array.from({ length: 501 }, () => record(SOME[0])) } }), 413, 'too-large').message, /501 records in one request; the limit is 500/);
  // a body larger than it said (chunked, no length): cut at the limit
  const chunked = await raw(`POST ${p} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`);
  assert.equal(chunked.status, 413);
  assert.match(chunked.text, /"code":"too-large"/);
  assert.equal((await call('POST', p, { body: record(SOME[0]) })).status, 200, 'still serving');
  // JSON is UTF-8: a byte that is not is refused naming where (not scored as U+FFFD); a legitimate U+FFFD before it is fine
  const head = Buffer.from('{"id": "\uFFFD", "season": "wint');
  const bad = Buffer.concat([head, Buffer.from([0xff]), Buffer.from('er"}')]);
  assert.match(errorOf(await call('POST', p, { raw: bad }), 400, 'usage').message, new RegExp(`^the request body is not UTF-8 \\(byte ${head.length} starts an invalid sequence\\)`));
  const cut = Buffer.from(JSON.stringify(record(SOME[0])).replace('winter', 'wint\u00e9')).subarray(0, -3); // a 2-byte character cut in half, then EOF
  assert.match(errorOf(await call('POST', p, { raw: cut }), 400, 'usage').message, /not UTF-8/);
  // a byte order mark (PowerShell writes one) is ignored
  const bom = await call('POST', p, { raw: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(record(SOME[0])))]) });
  assert.equal(bom.status, 200, JSON.stringify(bom.body));
});

test('a record that names a key twice is refused with 400 naming the key and where; nothing is scored', async () => {
  const p = '/v1/models/seattle-weather/predict';
  const before = await sessionRows();
  const one = JSON.stringify(record(SOME[0]));
  // JSON.parse would keep the second temp_max (31) although the sender may have meant the first
  const twice = one.replace('{', '{"temp_max": 31, ');
  assert.equal(errorOf(await call('POST', p, { raw: twice }), 400, 'usage').message,
    'the request body names the key "temp_max" twice: a JSON object must name each key once (which value was meant cannot be known)');
  const batch = `{"records": [${one}, ${one.replace('"wind"', '"wind": 1, "wind"')}]}`;
  assert.match(errorOf(await call('POST', p, { raw: batch }), 400, 'usage').message, /^the request body names the key "wind" twice in records\[1\]:/);
  assert.match(errorOf(await call('POST', p, { raw: `{"records": [${one}], "records": []}` }), 400, 'usage').message, /names the key "records" twice:/);
  assert.equal(await sessionRows(), before, 'nothing of a refused request was scored or logged');
  assert.equal((await call('POST', p, { raw: `{"records": [${one}, ${one}]}` })).status, 200, 'the same keys in two records are fine');
});

test('a value nested past 64 levels is refused with 400 naming the limit (deep ones were a 500: JSON.stringify overflowed the stack)', async () => {
  const p = '/v1/models/seattle-weather/predict';
  const one = JSON.stringify(record(SOME[0]));
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  for (const raw of [one.replace('"winter"', deep(30_000)), one.replace('{', `{"extra": ${deep(30_000)}, `), `{"records": [${one.replace('"winter"', `${'{"a":'.repeat(9_000)}1${'}'.repeat(9_000)}`)}]}`, one.replace('"winter"', deep(64))]) {
    assert.equal(errorOf(await call('POST', p, { raw }), 400, 'usage').message, 'the request body is nested more than 64 levels deep (a record is an object of values)');
  }
  assert.equal((await call('POST', p, { raw: one.replace('"winter"', deep(3)) })).status, 422, 'a shallow array is judged as a value (not a season)');
  assert.equal((await call('POST', p, { raw: one })).status, 200, 'still serving');
});

test('hostile URLs and headers are answered and the server keeps serving', async () => {
  const host = `Host: 127.0.0.1:${server.port}\r\n`;
  const auth = `Authorization: Bearer ${token}\r\n`;
  const cases: [string, number][] = [
    [`GET /v1/%ff HTTP/1.1\r\n${host}${auth}Connection: close\r\n\r\n`, 400],
    [`GET /v1/models/%E0%A4%A HTTP/1.1\r\n${host}${auth}Connection: close\r\n\r\n`, 400],
    [`GET /v1/models/a%00b HTTP/1.1\r\n${host}${auth}Connection: close\r\n\r\n`, 400],
    [`GET /v1/models/${'a'.repeat(5000)} HTTP/1.1\r\n${host}${auth}Connection: close\r\n\r\n`, 414],
    [`GET /v1/models HTTP/1.1\r\nHost: evil.example\r\n${auth}Connection: close\r\n\r\n`, 421],
    [`GET /v1/models HTTP/1.1\r\n${host}X-Huge: ${'h'.repeat(70_000)}\r\n${auth}Connection: close\r\n\r\n`, 431],
    [`GET /v1/models HTTP/1.1\r\n${host}Authorization: Bearer ${'x'.repeat(5000)}\r\nConnection: close\r\n\r\n`, 401],
    [`GET /v1/models HTTP/1.1\r\n${host}Authorization: Basic dXNlcjpwYXNz\r\nConnection: close\r\n\r\n`, 401],
    [`POST /v1/models/seattle-weather/predict HTTP/1.1\r\n${host}${auth}Content-Type: application/json\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n{}`, 413],
    [`POST /v1/models/seattle-weather/predict HTTP/1.1\r\n${host}${auth}Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 6\r\nConnection: close\r\n\r\n{}`, 400],
    [`GET /v1/models/seattle-weather HTTP/1.1\r\n${host}${auth}Content-Type: \u00ff\u00fe\r\nConnection: close\r\n\r\n`, 200],
  ];
  for (const [request, status] of cases) {
    const r = await raw(Buffer.from(request, 'latin1'));
    assert.equal(r.status, status, `${request.slice(0, 80)}…: ${r.text.slice(0, 300)}`);
    assert.match(r.text, status === 200 ? /\r\n\r\n\{/ : /\r\ncontent-type: application\/json[^]*\r\n\r\n\{"ok":false/i, 'a JSON body (the parser\'s 431 and 400 too)');
    assert.equal((await call('GET', '/v1/models')).status, 200, 'the next request is served');
  }
});

test('the OpenAPI 3.1 description: its routes, and real answers carry the fields its schemas require', async () => {
  const doc = await call('GET', '/v1/openapi.json', { token: null });
  assert.equal(doc.status, 200);
  assert.equal(doc.body.openapi, '3.1.0');
  assert.deepEqual(Object.keys(doc.body.paths as object), ['/v1/models', '/v1/models/{model}', '/v1/models/{model}/predict', '/v1/openapi.json']);
  const schemas = (doc.body.components as { schemas: Record<string, { required?: string[]; allOf?: { $ref?: string; required?: string[] }[]; properties?: Record<string, unknown> }> }).schemas;
  /** every field the schema (and what it is allOf) requires is in `value` */
  const conforms = (name: string, value: Record<string, unknown>) => {
    const s = schemas[name];
    const required = [...(s.required ?? []), ...(s.allOf ?? []).flatMap((x) => (x.$ref ? schemas[x.$ref.split('/').pop()!].required ?? [] : x.required ?? []))];
    for (const k of required) assert.ok(k in value, `${name} requires "${k}": ${JSON.stringify(value).slice(0, 200)}`);
    if (s.properties) for (const k of Object.keys(value)) assert.ok(k in s.properties || s.allOf, `${name} has no field "${k}"`);
  };
  const single = await call('POST', '/v1/models/seattle-weather/predict', { body: record(SOME[0]) });
  conforms('SingleResult', single.body);
  const batch = await call('POST', '/v1/models/seattle-weather/predict', { body: { records: [record(SOME[0])] } });
  conforms('BatchResult', batch.body);
  (batch.body.predictions as Record<string, unknown>[]).forEach((p) => conforms('Prediction', p));
  const model = await call('GET', '/v1/models/seattle-weather');
  conforms('Model', model.body);
  for (const a of [await call('GET', '/v1/models', { token: null }), await call('POST', '/v1/models/seattle-weather/predict', { body: { ...record(SOME[0]), wind: 'calm' } })]) {
    conforms('Error', a.body);
    const codes = ((schemas.Error.properties!.error as { properties: { code: { enum: string[] } } }).properties.code.enum);
    assert.ok(codes.includes((a.body.error as { code: string }).code));
  }
});

test('rate limit per token: 429 with Retry-After, other tokens unaffected, admitted again later', async () => {
  let clock = 1_000_000;
  const limited = createScoringApi({ home, maxRecords: 10, rate: { rate: 2, burst: 10 }, now: () => clock });
  const srv = await startHttp({ service, staticDir: null, v1: (req, res, p, q) => limited.handle(req, res, p, q) });
  const other = lastJson((await runCli(['tokens', 'create', '--name', 'other-script', '--json'], { home })).stdout).token as string;
  try {
    const post = (t: string, n: number) => fetch(`http://127.0.0.1:${srv.port}/v1/models/seattle-weather/predict`, {
      method: 'POST', headers: { Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ records: SOME.slice(0, n).map(record) }),
    });
    assert.equal((await post(token, 10)).status, 200, 'the burst');
    const refused = await post(token, 4);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '2', '4 records at 2 per second');
    const body = await refused.json() as { ok: boolean; error: { code: string } };
    assert.deepEqual([body.ok, body.error.code], [false, 'rate-limited']);
    assert.equal((await post(other, 4)).status, 200, 'another token has its own bucket');
    clock += 2000;
    assert.equal((await post(token, 4)).status, 200, 'admitted after Retry-After');
  } finally {
    await srv.close();
    await limited.close();
  }
});

test('API records are logged like a scoring job: session records:api:<token name>, same log rows as score', async () => {
  api.flush();
  const s = openStore(home);
  try {
    const jobs = s.db.prepare("SELECT id, input_path, rows_read, rows_scored, rows_rejected, status FROM jobs WHERE input_format = 'records'").all() as { id: string; input_path: string; rows_read: number; rows_scored: number; rows_rejected: number; status: string }[];
    const mine = jobs.find((j) => j.input_path === 'records:api:my-script')!;
    assert.ok(mine, JSON.stringify(jobs));
    assert.equal(mine.status, 'completed');
    assert.equal(mine.rows_rejected, 0, 'refused requests are not counted');
    assert.equal(mine.rows_read, mine.rows_scored);
    const scoreJob = (s.db.prepare("SELECT id FROM jobs WHERE input_format = 'csv'").get() as { id: string }).id;
    const byScore = pagePredictions(s, { jobId: scoreJob, limit: 1000 }).map((r) => r.values);
    const logged = pagePredictions(s, { jobId: mine.id, limit: 10_000 });
    // the batch request (rows 2..74 of the session) equals the score job's log, inputs included
    assert.deepEqual(logged.slice(1, 1 + SOME.length).map((r) => r.values), byScore);
    assert.deepEqual(logged.map((r) => r.row), logged.map((_, i) => i + 1));
  } finally {
    s.close();
  }
});

async function sessionRows(): Promise<number> {
  api.flush();
  const s = openStore(home);
  try {
    return (s.db.prepare("SELECT coalesce(sum(rows_read), 0) AS n FROM jobs WHERE input_format = 'records'").get() as { n: number }).n;
  } finally {
    s.close();
  }
}

test('serve: API options without --api, or not a whole number, are usage errors (exit 2)', async () => {
  for (const [args, message] of [
    [['serve', '--api-rate', '5'], /need --api/],
    [['serve', '--api', '--api-rate', '0'], /--api-rate must be a whole number of at least 1/],
    [['serve', '--api', '--api-max-body', '1MB'], /--api-max-body must be a whole number/],
    // decimal digits only: Number() would read these as 80, 1000 and 5 (each case also lacks --api,
    // so a command that took the number stops at that instead of serving)
    [['serve', '--port', '0x50', '--api-rate', '5'], /^outpost serve: --port must be a whole number from 0 to 65535 \(got "0x50"\)$/m],
    [['serve', '--api-rate', '1e3'], /--api-rate must be a whole number of at least 1 \(got "1e3"\)/],
    [['serve', '--api-max-records', '5.0'], /--api-max-records must be a whole number of at least 1 \(got "5.0"\)/],
    [['tokens', 'create'], /--name is required/],
    [['tokens', 'revoke'], /./],
  ] as const) {
    const r = await runCli([...args], { home });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('names from the request are echoed with controls and bidi overrides escaped, not verbatim', async () => {
  const cases: [string, number, string, RegExp][] = [
    ['/v1/models/%E2%80%AE', 404, 'not-found', /^no model "\\u202e" is installed \(installed: seattle-weather\)$/],
    ['/v1/models/x%1B%5B2J%1B%5D0%3Bowned%07', 404, 'not-found', /^no model "x\\u001b\[2J\\u001b\]0;owned\\u0007" is installed/],
    ['/v1/models/a%E2%81%A6b%C2%9B', 404, 'not-found', /^no model "a\\u2066b\\u009b" is installed/],
    ['/v1/nope%0D%0Aforged%20log%20line', 404, 'not-found', /^no API route "\/v1\/nope\\u000d\\u000aforged log line" \(see/],
  ];
  for (const [p, status, code, message] of cases) {
    const e = errorOf(await call('GET', p), status, code);
    assert.match(e.message, message, p);
    assert.doesNotMatch(e.message, /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/, `${p}: nothing unsafe verbatim`);
  }
  const predict = errorOf(await call('POST', '/v1/models/%E2%80%AEtxt.exe/predict', { body: record(SOME[0]) }), 404, 'not-found');
  assert.match(predict.message, /^no model "\\u202etxt\.exe" is installed/);
});
