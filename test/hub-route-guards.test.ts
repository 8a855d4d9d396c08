// Every JSON write route of the hub refuses a field it does not take (400 naming it) instead of
// dropping it and carrying out the request without it; and every admin or publisher route checks
// who calls before it looks at the request, so a caller without credentials gets 401 whatever it sent.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startTestHub, type TestHub } from './helpers/hub-fixtures.ts';
import { rawRequest } from './helpers/raw-http.ts';
import { runMain } from './helpers/cli.ts';
import { buildHubValidator } from '../src/hub/node/validators.ts';

let t: TestHub;
before(async () => { t = await startTestHub(); });
after(() => t.close());

const RO = 'ro_00000000000000000000';
const enrollments = () => t.hub.storage.fleet.all<{ name: string; grp: string }>('SELECT name, grp FROM fleet_enrollments ORDER BY name');
const UPLOAD = '0'.repeat(32);

async function call(method: string, p: string, body: string | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}${p}`, { method, ...(body !== undefined ? { body } : {}), headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers };
}

test('a misspelt or unknown body field is refused with 400 naming it, on every JSON write route; nothing is done', async () => {
  const admin = { authorization: `Bearer ${t.adminToken}` };
  const publisher = { authorization: `Bearer ${t.publishers['churn-team'].token}` };
  const browser = { origin: t.url };
  const cases: [string, string, unknown, Record<string, string>, string][] = [
    ['POST', '/api/v1/devices', { name: 'ws-1', grup: 'line-2' }, admin, 'grup'],
    ['POST', '/api/v1/devices/ws-1/revoke', { reason: 'stolen' }, admin, 'reason'],
    ['POST', '/api/v1/enrollments/ws-1/cancel', { reason: 'typo' }, admin, 'reason'],
    ['POST', '/api/v1/rollouts', { ref: 'churn:production', group: 'line-2', percnt: 10 }, admin, 'percnt'],
    ['POST', `/api/v1/rollouts/${RO}/halt`, { reason: 'x' }, admin, 'reason'],
    ['POST', `/api/v1/rollouts/${RO}/rollback`, { too: 1 }, admin, 'too'],
    ['POST', '/api/v1/admin/metadata', { format: 'outpost-signed-update/1', forse: true }, admin, 'forse'],
    ['POST', '/api/v1/session', { token: t.adminToken, remember: true }, browser, 'remember'],
    ['DELETE', '/api/v1/session', { everywhere: true }, browser, 'everywhere'],
    ['POST', '/api/v1/enroll', { code: 'ABCD-EFGH', publicKey: 'k', proof: 'p', outpostVersio: '1.0.0' }, {}, 'outpostVersio'],
    ['POST', '/api/v1/uploads', { metadata: {}, bin: [] }, publisher, 'bin'],
    ['POST', '/api/v1/publish', { metadata: {}, bin: [] }, publisher, 'bin'],
    ['POST', `/api/v1/uploads/${UPLOAD}/commit`, { force: true }, publisher, 'force'],
  ];
  for (const [method, p, body, headers, field] of cases) {
    const r = await call(method, p, JSON.stringify(body), headers);
    assert.equal(r.status, 400, `${method} ${p}: ${r.text}`);
    const err = (JSON.parse(r.text) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'usage', `${method} ${p}`);
    assert.ok(err.message.startsWith(`unknown field "${field}" (this request takes `), `${method} ${p}: ${err.message}`);
    assert.equal(r.headers.get('set-cookie'), null, `${method} ${p}: no session is issued or cleared`);
  }
  assert.deepEqual(await enrollments(), [], 'no enrollment was created without its group');
  // the fields a route takes still pass
  const ok = await call('POST', '/api/v1/devices', JSON.stringify({ name: 'ws-1', group: 'line-2' }), admin);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual((await enrollments()).map((e) => ({ ...e })), [{ name: 'ws-1', grp: 'line-2' }]);
  const halt = await call('POST', `/api/v1/rollouts/${RO}/halt`, '{}', admin);
  assert.equal(halt.status, 404, `an empty body is fine; the rollout is unknown: ${halt.text}`);
  // a route that takes no fields refuses a body that is no object at all, and does nothing
  for (const [method, p, headers] of [['POST', '/api/v1/enrollments/ws-1/cancel', admin], ['POST', '/api/v1/devices/ws-1/revoke', admin], ['POST', `/api/v1/rollouts/${RO}/halt`, admin], ['DELETE', '/api/v1/session', browser]] as const) {
    for (const body of ['"x"', '5', '[1,2]', 'true']) {
      const r = await call(method, p, body, headers);
      assert.equal(r.status, 400, `${method} ${p} ${body}: ${r.text}`);
      const err = (JSON.parse(r.text) as { error: { code: string; message: string } }).error;
      assert.equal(err.code, 'usage', `${method} ${p} ${body}`);
      assert.match(err.message, /^this request takes no fields: send \{\} or no body \(got an? (string|number|array|boolean)\)$/, `${method} ${p} ${body}`);
    }
  }
  const cancelled = await t.hub.storage.fleet.all<{ cancelled_at: unknown }>('SELECT cancelled_at FROM fleet_enrollments WHERE name = ?', ['ws-1']);
  assert.deepEqual(cancelled.map((e) => e.cancelled_at), [null], 'the enrollment was not cancelled');
  const nobody = await call('POST', `/api/v1/rollouts/${RO}/halt`, 'null', admin);
  assert.equal(nobody.status, 404, `null is no body: ${nobody.text}`);
});

test('without credentials an admin or publisher route answers 401 before looking at the body or the ids', async () => {
  const truncated = '{"name":"ws-2",';
  const cases: [string, string, string | undefined][] = [
    ['GET', '/api/v1/devices', undefined],
    ['POST', '/api/v1/devices', truncated],
    ['POST', '/api/v1/devices', '{"grup":"x"}'],
    ['POST', '/api/v1/devices/ws-1/revoke', truncated],
    ['GET', '/api/v1/events', undefined],
    ['GET', '/api/v1/enrollments', undefined],
    ['POST', '/api/v1/enrollments/ws-1/cancel', truncated],
    ['GET', '/api/v1/rollouts', undefined],
    ['POST', '/api/v1/rollouts', truncated],
    ['POST', '/api/v1/rollouts', '{}'],
    ['GET', '/api/v1/rollouts/not-an-id', undefined],
    ['POST', '/api/v1/rollouts/not-an-id/halt', '{}'],
    ['POST', `/api/v1/rollouts/${RO}/rollback`, '{"to":0}'],
    ['POST', '/api/v1/admin/metadata', truncated],
    ['GET', '/api/v1/publishers', undefined],
    ['GET', '/api/v1/session', undefined],
    ['GET', '/api/v1/fleet/models', undefined],
    ['GET', '/api/v1/fleet/drift?width=week', undefined],
    ['GET', '/api/v1/devices/..%2f..%2fetc', undefined],
    // publisher routes
    ['POST', '/api/v1/uploads', truncated],
    ['POST', '/api/v1/uploads', '{}'],
    ['POST', '/api/v1/uploads/not-an-id/commit', '{}'],
    ['DELETE', '/api/v1/uploads/not-an-id', undefined],
    ['POST', '/api/v1/publish', truncated],
  ];
  for (const [method, p, body] of cases) {
    for (const headers of [{}, { authorization: 'Bearer opadm_wrong' }] as Record<string, string>[]) {
      const r = await call(method, p, body, headers);
      assert.equal(r.status, 401, `${method} ${p} (${Object.keys(headers).join() || 'no credentials'}): ${r.text}`);
      assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, 'auth');
    }
  }
  // a cookie-borne sign-in or sign-out from another origin is refused (403) before its body is read
  for (const [method, body] of [['POST', truncated], ['DELETE', '{"x":1}']]) {
    const r = await call(method, '/api/v1/session', body, { origin: 'http://evil.example' });
    assert.equal(r.status, 403, `${method} /api/v1/session: ${r.text}`);
  }
});

test('a path that does not decode, and a body that is not JSON, are answered in the hub\'s error shape', async () => {
  for (const p of ['/%ff', '/api/v1/models/%ff', '/metadata/%c3%28.json']) {
    const r = await call('GET', p, undefined);
    assert.equal(r.status, 400, `${p}: ${r.text}`);
    assert.deepEqual(JSON.parse(r.text), { ok: false, error: { code: 'usage', message: 'the URL path has malformed percent-encoding' } }, p);
  }
  const long = await call('GET', `/api/v1/devices/${'b'.repeat(5000)}`, undefined, { authorization: `Bearer ${t.adminToken}` });
  assert.equal(long.status, 414, long.text);
  assert.deepEqual(JSON.parse(long.text), { ok: false, error: { code: 'usage', message: 'a part of the URL path is too long' } });
  const admin = { authorization: `Bearer ${t.adminToken}` };
  for (const [p, headers] of [['/api/v1/devices', admin], ['/api/v1/session', { origin: t.url }], ['/api/v1/rollouts', admin]] as const) {
    const r = await call('POST', p, '{"name":"ws-9","token":"x"}', { ...headers, 'content-type': 'text/plain' });
    assert.equal(r.status, 415, `${p}: ${r.text}`);
    assert.equal((JSON.parse(r.text) as { ok: boolean }).ok, false);
  }
  // JSON bodies must be UTF-8: a bad byte is named, not read as U+FFFD; a charset parameter and a BOM are fine
  const bad = Buffer.concat([Buffer.from('{"name":"ws-'), Buffer.from([0xff]), Buffer.from('9"}')]);
  const notUtf8 = await fetch(`${t.url}/api/v1/devices`, { method: 'POST', body: bad, headers: { ...admin, 'content-type': 'application/json' } });
  const text = await notUtf8.text();
  assert.equal(notUtf8.status, 400, text);
  assert.match(text, /the request body is not UTF-8 \(byte 12 starts an invalid sequence\)/);
  const bom = await call('POST', '/api/v1/devices', '\uFEFF{"name":"ws-10"}', { ...admin, 'content-type': 'application/json; charset=utf-8' });
  assert.equal(bom.status, 200, bom.text);
  const poisoned = await call('POST', '/api/v1/devices', '{"name":"ws-11","__proto__":{"x":1}}', admin);
  assert.equal(poisoned.status, 400, poisoned.text);
  // a key named twice: JSON.parse would enroll into the last group named; refused naming the key
  const twice = await call('POST', '/api/v1/devices', '{"name":"ws-12","group":"line-1","group":"line-2"}', admin);
  assert.equal(twice.status, 400, twice.text);
  assert.deepEqual(JSON.parse(twice.text), { ok: false, error: { code: 'usage', message: 'the request body names the key "group" twice: a JSON object must name each key once (which value was meant cannot be known)' } });
  assert.equal((await enrollments()).filter((e) => e.name === 'ws-9' || e.name === 'ws-11' || e.name === 'ws-12').length, 0, 'nothing was enrolled');
});

test('JSON bodies are type-checked strictly (a string for a number is 400 naming the field); query strings still read "50" as 50', async () => {
  const admin = { authorization: `Bearer ${t.adminToken}` };
  const cases: [string, string, unknown, Record<string, string>, RegExp][] = [
    ['POST', '/api/v1/rollouts', { ref: 'churn:production', group: 'line-2', percent: '50' }, admin, /^body\/percent must be number$/],
    ['POST', '/api/v1/rollouts', { ref: 'churn:production', group: 'line-2', allowEmptyGroup: 'true' }, admin, /^body\/allowEmptyGroup must be boolean$/],
    ['POST', `/api/v1/rollouts/${RO}/rollback`, { to: '2' }, admin, /^body\/to must be integer/],
    ['POST', '/api/v1/devices', { name: 'ws-typed', expiresSeconds: '3600' }, admin, /^body\/expiresSeconds must be integer$/],
    ['POST', '/api/v1/devices', { name: 20 }, admin, /^body\/name must be string$/],
    ['POST', '/api/v1/session', { token: 12345 }, { origin: t.url }, /^body\/token must be string$/],
    ['POST', '/api/v1/enroll', { code: 1234567890, publicKey: 'k', proof: 'p' }, {}, /^body\/code must be string$/],
  ];
  const before = await enrollments();
  for (const [method, p, body, headers, message] of cases) {
    const r = await call(method, p, JSON.stringify(body), headers);
    assert.equal(r.status, 400, `${method} ${p} ${JSON.stringify(body)}: ${r.text}`);
    assert.match((JSON.parse(r.text) as { error: { message: string } }).error.message, message, `${method} ${p}`);
  }
  assert.deepEqual(await enrollments(), before, 'nothing was enrolled');
  // the same fields with their JSON types pass; a query string's number is still text to be read
  const ok = await call('POST', '/api/v1/devices', JSON.stringify({ name: 'ws-typed', expiresSeconds: 3600 }), admin);
  assert.equal(ok.status, 200, ok.text);
  const events = await call('GET', '/api/v1/events?limit=50', undefined, admin);
  assert.equal(events.status, 200, events.text);
  const device = await call('GET', '/api/v1/devices/ws-typed?limit=5', undefined, admin);
  assert.equal(device.status, 404, `not enrolled yet, but the limit was read: ${device.text}`);
  const rollback = await call('POST', `/api/v1/rollouts/${RO}/rollback`, JSON.stringify({ to: 2 }), admin);
  assert.equal(rollback.status, 404, rollback.text);
  // the hub's validator: a numeric query-string or path parameter schema still takes "50", a body does not
  const schema = { type: 'object', properties: { limit: { type: 'integer' } } };
  const compile = buildHubValidator({}, { customOptions: {} });
  for (const [httpPart, coerced] of [['querystring', true], ['params', true], ['body', false]] as const) {
    const data = { limit: '50' };
    assert.equal(compile({ schema, httpPart })(data), coerced, httpPart);
    assert.deepEqual(data, { limit: coerced ? 50 : '50' }, httpPart);
  }
});

test('names in a request are echoed in errors with controls and bidi overrides escaped', async () => {
  const admin = { authorization: `Bearer ${t.adminToken}` };
  const device = await call('POST', '/api/v1/devices', JSON.stringify({ name: 'ws\u202e1\u001b[2J' }), admin);
  assert.equal(device.status, 400, device.text);
  const rollout = await call('POST', '/api/v1/rollouts', JSON.stringify({ ref: 'churn\u2066\r\nforged:production', group: 'line-2' }), admin);
  assert.equal(rollout.status, 400, rollout.text);
  const messages = [device, rollout].map((r) => (JSON.parse(r.text) as { error: { message: string } }).error.message);
  assert.match(messages[0], /device name "ws\\u202e1\\u001b\[2J" must be/);
  assert.match(messages[1], /"churn\\u2066\\u000d\\u000aforged:production" is not <model>:<alias>/);
  for (const m of messages) assert.doesNotMatch(m, /[\u0000-\u001f\u202a-\u202e\u2066-\u2069]/, m);
});

test('an unknown route and a request the HTTP parser refuses are answered in the hub\'s error shape, without echoing the path', async () => {
  const long = `/${'a'.repeat(10_000)}`;
  for (const [method, p] of [['GET', long], ['GET', '/api/v1/nosuch'], ['DELETE', '/nosuch'], ['POST', '/metadata']] as const) {
    const r = await call(method, p, undefined);
    assert.equal(r.status, 404, `${method} ${p.slice(0, 40)}`);
    assert.deepEqual(JSON.parse(r.text), { ok: false, error: { code: 'not-found', message: `the hub has no ${method} route at this path` } });
  }
  const port = Number(new URL(t.url).port);
  const malformed: [string, string][] = [
    [`GET /he\u0000lthz HTTP/1.1\r\nHost: 127.0.0.1:${port}`, 'malformed HTTP request'],
    [`POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked`, 'malformed HTTP request: Transfer-Encoding is malformed, or given with Content-Length'],
    [`POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: -1`, 'malformed HTTP request: the Content-Length header is not a number of bytes'],
  ];
  for (const [head, message] of malformed) {
    const r = await rawRequest(port, head);
    assert.equal(r.status, 400, JSON.stringify(head));
    assert.deepEqual(JSON.parse(r.body), { ok: false, error: { code: 'usage', message } }, JSON.stringify(head));
  }
  const ok = await fetch(`${t.url}/healthz`);
  assert.equal(ok.status, 200, 'still serving');
  await ok.arrayBuffer();
});

test('signing out of the console ends the session on the server: the old cookie is refused (401); other sessions and the token still work', async () => {
  const signIn = async () => {
    const r = await fetch(`${t.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.url }, body: JSON.stringify({ token: t.adminToken }) });
    assert.equal(r.status, 200, await r.clone().text());
    await r.arrayBuffer();
    return r.headers.get('set-cookie')!.split(';')[0];
  };
  const as = async (cookie: string) => {
    const r = await fetch(`${t.url}/api/v1/devices`, { headers: { cookie } });
    return { status: r.status, text: await r.text() };
  };
  const mine = await signIn();
  const other = await signIn(); // another browser
  assert.equal((await as(mine)).status, 200);
  const out = await fetch(`${t.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: mine, origin: t.url } });
  assert.equal(out.status, 200, await out.clone().text());
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/, 'the browser drops its cookie');
  await out.arrayBuffer();
  const reused = await as(mine);
  assert.equal(reused.status, 401, `a copy of the signed-out cookie: ${reused.text}`);
  assert.match(reused.text, /signed out; sign in again/);
  assert.equal((await fetch(`${t.url}/api/v1/session`, { headers: { cookie: mine } })).status, 401);
  assert.equal((await as(other)).status, 200, 'another session is not ended');
  assert.equal((await fetch(`${t.url}/api/v1/devices`, { headers: { authorization: `Bearer ${t.adminToken}` } })).status, 200, 'the admin token still works');
  assert.equal((await as(await signIn())).status, 200, 'signing in again works');
  // a sign-out without a session, or with a forged one, ends nothing and is still answered
  const none = await fetch(`${t.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: 'outpost_hub_session=1.x.y', origin: t.url } });
  assert.equal(none.status, 200);
  await none.arrayBuffer();
});

test('hub admin-token rotate: the old token and a console session signed in with it stop working at once; the new one works', async () => {
  const signIn = await fetch(`${t.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.url }, body: JSON.stringify({ token: t.adminToken }) });
  assert.equal(signIn.status, 200, await signIn.clone().text());
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0];
  await signIn.arrayBuffer();
  const asSession = () => fetch(`${t.url}/api/v1/session`, { headers: { cookie } });
  const asToken = (token: string) => fetch(`${t.url}/api/v1/devices`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await asSession()).status, 200);
  // the rotation ends every session at once (a sign-out ends one)
  const r = await runMain(['hub', 'admin-token', 'rotate', '--dir', t.dir, '--json']);
  assert.equal(r.code, 0, r.err);
  const fresh = fs.readFileSync(path.join(t.dir, 'admin.token'), 'utf8').trim();
  assert.notEqual(fresh, t.adminToken);
  assert.equal(fs.statSync(path.join(t.dir, 'admin.token')).mode & 0o777, 0o600);
  assert.equal((await asSession()).status, 401, 'the session signed in with the old token');
  assert.equal((await asToken(t.adminToken)).status, 401, 'the old token');
  assert.equal((await asToken(fresh)).status, 200, 'the new token');
  t.adminToken = fresh; // later tests in this file use the admin token
});

test('one code per kind of malformed request, as `outpost serve` answers them (src/api/common/request-errors.ts)', async () => {
  const admin = { authorization: `Bearer ${t.adminToken}` };
  const json = { 'content-type': 'application/json' };
  const cases: [string, string, string, string | undefined, Record<string, string>, number, string, RegExp][] = [
    ['a bad query value (schema)', 'GET', `/api/v1/rollouts?model=${'m'.repeat(65)}`, undefined, admin, 400, 'usage', /querystring\/model/],
    ['a bad query value (read by the route)', 'GET', '/api/v1/events?limit=lots', undefined, admin, 400, 'usage', /"limit" must be a whole number/],
    ['a bad path parameter', 'POST', '/api/v1/enrollments/-x-/cancel', '{}', { ...admin, ...json }, 400, 'usage', /params\/name/],
    ['a body field of the wrong type', 'POST', '/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line-2', percent: '50' }), { ...admin, ...json }, 400, 'usage', /body\/percent must be number/],
    ['an unknown body field', 'POST', '/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line-2', percnt: 5 }), { ...admin, ...json }, 400, 'usage', /unknown field "percnt"/],
    ['a body that is not JSON', 'POST', '/api/v1/devices', '{"name":', { ...admin, ...json }, 400, 'usage', /JSON/],
    ['a body over the limit', 'POST', '/api/v1/devices/ws-1/revoke', JSON.stringify({ pad: 'x'.repeat(20_000) }), { ...admin, ...json }, 413, 'too-large', /./],
    ['another content type (JSON route)', 'POST', '/api/v1/devices', '{"name":"ws-20"}', { ...admin, 'content-type': 'text/plain' }, 415, 'unsupported-media-type', /./],
    ['another content type (sync route)', 'POST', '/api/v1/sync/items', '{}', json, 415, 'unsupported-media-type', /send items as application\/x-outpost-items\+gzip/],
  ];
  for (const [what, method, p, body, headers, status, code, message] of cases) {
    const res = await fetch(`${t.url}${p}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    assert.equal(res.status, status, `${what}: ${text}`);
    const err = (JSON.parse(text) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, code, `${what}: ${text}`);
    assert.match(err.message, message, what);
  }
});

test('a method a path does not take is 405 method-not-allowed with Allow, as on `outpost serve`; HEAD answers like GET without the body; a path no method takes is 404', async () => {
  const admin = { authorization: `Bearer ${t.adminToken}` };
  const cases: [string, string, string][] = [
    ['PUT', '/api/v1/devices', 'GET, HEAD, POST'], ['DELETE', '/healthz', 'GET, HEAD'], ['GET', '/api/v1/devices/ws-1/revoke', 'POST'],
    ['PUT', '/api/v1/session', 'GET, HEAD, POST, DELETE'], ['OPTIONS', '/metadata/1.root.json', 'GET, HEAD'], ['POST', '/targets/churn/1/x.onnx', 'GET, HEAD'],
    ['POST', '/', 'GET, HEAD'], ['DELETE', '/api/v1/rollouts/ro_1/halt', 'POST'], ['HEAD', '/api/v1/publish', 'POST'], ['PATCH', '/api/v1/uploads/abc', 'DELETE'],
  ];
  for (const [method, p, allow] of cases) {
    const r = await call(method, p, undefined, admin);
    assert.equal(r.status, 405, `${method} ${p}: ${r.text}`);
    assert.equal(r.headers.get('allow'), allow, `${method} ${p}`);
    if (method === 'HEAD') continue;
    assert.deepEqual(JSON.parse(r.text), { ok: false, error: { code: 'method-not-allowed', message: `${method} is not allowed on this path (it takes ${allow})` } }, `${method} ${p}`);
  }
  for (const [method, p] of [['GET', '/api/v1/nosuch'], ['POST', '/metadata'], ['PUT', '/api/v1/devices/ws-1/revoke/x']] as const) {
    const r = await call(method, p, undefined, admin);
    assert.equal(r.status, 404, `${method} ${p}: ${r.text}`);
  }
  for (const p of ['/healthz', '/api/v1/devices']) {
    const get = await call('GET', p, undefined, admin);
    const head = await call('HEAD', p, undefined, admin);
    assert.equal(head.status, get.status, `HEAD ${p}`);
    assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), `HEAD ${p}`);
    assert.equal(head.text, '', `HEAD ${p}: no body`);
  }
});

test('the API names its request fields, not the CLI\'s options; 413 says the limit, 415 the type expected; a __proto__ key is named', async () => {
  const admin = { authorization: `Bearer ${t.adminToken}` };
  const json = { ...admin, 'content-type': 'application/json' };
  const cases: [string, string, string, Record<string, string>, number, string][] = [
    ['POST', '/api/v1/devices', JSON.stringify({ name: 'ws-30', expiresSeconds: -5 }), json, 400, 'body/expiresSeconds must be a whole number of seconds from 60 to 2592000 (got -5)'],
    ['POST', '/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line-2', percent: 1.125 }), json, 400, 'body/percent must be a number above 0 and at most 100, with at most two decimals (got 1.125)'],
    ['POST', '/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line 2' }), json, 400, 'body/group "line 2" must be 1-64 letters, digits, ".", "_" or "-"'],
    ['POST', '/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line-2', seed: '' }), json, 400, 'body/seed must be 1-200 characters'],
    ['POST', '/api/v1/devices/ws-1/revoke', JSON.stringify({ pad: 'x'.repeat(20_000) }), json, 413, 'the request body is 20010 bytes; the limit is 16384'],
    ['POST', '/api/v1/devices', '{"name":"ws-31"}', { ...admin, 'content-type': 'text/plain' }, 415, 'the request body must be application/json (got "text/plain")'],
    ['POST', '/api/v1/sync/items', 'x', { 'content-type': 'text/plain' }, 415, 'the request body must be application/x-outpost-items+gzip (got "text/plain")'],
    ['POST', '/api/v1/devices', '{"name":"ws-32","__proto__":{"x":1}}', json, 400, 'the request body names the key "__proto__": a key that could change the prototype of objects is refused'],
    ['POST', '/api/v1/rollouts', '{"ref":"churn:production","group":"line-2","seed":"s","x":[{"constructor":{"prototype":{}}}]}', json, 400, 'the request body names the key "constructor" (in x[0]): a key that could change the prototype of objects is refused'],
  ];
  for (const [method, p, body, headers, status, message] of cases) {
    const r = await call(method, p, body, headers);
    assert.equal(r.status, status, `${method} ${p} ${body.slice(0, 60)}: ${r.text}`);
    assert.equal((JSON.parse(r.text) as { error: { message: string } }).error.message, message, `${method} ${p} ${body.slice(0, 60)}`);
  }
  // a group no workstation is in: the API names its fields for the way out too
  const typo = await call('POST', '/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line-77' }), json);
  assert.equal(typo.status, 400, typo.text);
  assert.match(typo.text, /Check body\/group, or pass body\/allowEmptyGroup: true to stage it/);
  assert.equal((await enrollments()).filter((e) => e.name.startsWith('ws-3')).length, 0, 'nothing was enrolled');
});

test('API query strings: checked before any data is read; a repeated parameter has one message; an unknown one is refused; a device name is validated', async () => {
  const admin = { authorization: `Bearer ${t.adminToken}` };
  const cases: [string, number, string][] = [
    // this hub has no drift data: the query was read only once there was some
    ['/api/v1/fleet/drift?width=bogus', 400, '"width" must be day or hour (got "bogus")'],
    ['/api/v1/fleet/drift?last=-3', 400, '"last" must be a whole number from 1 to 366 (got "-3")'],
    ['/api/v1/fleet/drift?width=hour&last=abc', 400, '"last" must be a whole number from 1 to 336 (got "abc")'],
    ['/api/v1/rollouts?model=a&model=b', 400, '"model" is given more than once'],
    ['/api/v1/events?limit=1&limit=2', 400, '"limit" is given more than once'],
    ['/api/v1/devices?group=a&group=b', 400, '"group" is given more than once'],
    ['/api/v1/fleet/drift?width=day&width=hour', 400, '"width" is given more than once'],
    ['/api/v1/devices/ws-1?limit=1&limit=2', 400, '"limit" is given more than once'],
    ['/api/v1/events?limt=5', 400, 'unknown query parameter "limt" (this request takes kind, device, group, model, since, limit)'],
    ['/api/v1/rollouts?modle=churn', 400, 'unknown query parameter "modle" (this request takes model, group)'],
    ['/api/v1/enrollments?all=1', 400, 'unknown query parameter "all" (this request takes no query parameters)'],
    ['/api/v1/fleet/drift?widht=day', 400, 'unknown query parameter "widht" (this request takes model, width, group, feature, last)'],
  ];
  for (const [p, status, message] of cases) {
    const r = await call('GET', p, undefined, admin);
    assert.equal(r.status, status, `${p}: ${r.text}`);
    assert.deepEqual(JSON.parse(r.text), { ok: false, error: { code: 'usage', message } }, p);
  }
  // a list parameter may repeat; the TUF files and health check ignore query strings (a CDN may add one)
  for (const p of ['/api/v1/events?kind=alert&kind=model', '/api/v1/fleet/drift?width=hour&last=24', '/healthz?x=1', '/metadata/1.root.json?cachebust=1']) {
    const r = await call('GET', p, undefined, admin);
    assert.equal(r.status, 200, `${p}: ${r.text}`);
  }
  // a device name is checked as enrollments/:name/cancel checks it
  for (const p of ['/api/v1/devices/..%2fx/revoke', '/api/v1/enrollments/..%2fx/cancel']) {
    const r = await call('POST', p, '{}', { ...admin, 'content-type': 'application/json' });
    assert.equal(r.status, 400, `${p}: ${r.text}`);
    const err = (JSON.parse(r.text) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'usage', p);
    assert.match(err.message, /^params\/name must match pattern/, p);
  }
});

test('a model version the hub cannot hold is bad usage wherever the hub reads one, naming the text as given: fleet drift (API and CLI), events, prediction export, a rollback\'s "to"', async () => {
  const admin = { authorization: `Bearer ${t.adminToken}` };
  const huge = '99999999999999999999';
  for (const [p, message] of [
    [`/api/v1/fleet/drift?model=churn@${huge}`, `the version in "churn@${huge}" must be a whole number from 1 to 999999999 (got "${huge}")`],
    ['/api/v1/fleet/drift?model=churn@0', 'the version in "churn@0" must be a whole number from 1 to 999999999 (got "0")'],
    ['/api/v1/fleet/drift?model=churn@', 'the version in "churn@" must be a whole number from 1 to 999999999 (got "")'],
    [`/api/v1/events?model=churn@${huge}`, `"model": the version in "churn@${huge}" must be a whole number from 1 to 999999999 (got "${huge}")`],
  ] as const) {
    const r = await call('GET', p, undefined, admin);
    assert.equal(r.status, 400, `${p}: ${r.text}`);
    assert.deepEqual(JSON.parse(r.text), { ok: false, error: { code: 'usage', message } }, p);
  }
  const rollback = await call('POST', '/api/v1/rollouts/ro_abcdefgh12/rollback', `{"to":${huge}}`, { ...admin, 'content-type': 'application/json' });
  assert.equal(rollback.status, 400, rollback.text);
  assert.match((JSON.parse(rollback.text) as { error: { message: string } }).error.message, /^body\/to must be <= 999999999/);
  for (const argv of [['hub', 'drift', `churn@${huge}`], ['hub', 'events', '--model', `churn@${huge}`], ['hub', 'export', 'predictions', '--model', `churn@${huge}`, '--out', path.join(t.dir, 'x.parquet')]]) {
    const r = await runMain([...argv, '--dir', t.dir]);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, new RegExp(`the version in "churn@${huge}" must be a whole number from 1 to 999999999`), argv.join(' '));
  }
});
