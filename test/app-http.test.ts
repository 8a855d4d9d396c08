// The serve-mode HTTP transport's own guarantees: the token lock on every /api/ route, the cookie
// hand-over from ?token=, Host and Origin checks, CSP and static-file confinement, upload into the
// data folder and download of a job's output.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { JobSummary } from '../src/api/common/contract.ts';
import { safeUploadName } from '../src/api/node/uploads.ts';
import { DEMO_CSV, DEMO_PACKAGE, httpTransport, ok, type HttpTransport } from './helpers/app-harness.ts';
import { tempDir } from './helpers/packages.ts';
import { rawRequest } from './helpers/raw-http.ts';

let t: HttpTransport;
let home: string;
let ui: string;
let base: string;

before(async () => {
  home = tempDir('outpost-app-http-');
  ui = tempDir('outpost-app-ui-');
  fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>ui</title>');
  fs.mkdirSync(path.join(ui, 'assets'));
  fs.writeFileSync(path.join(ui, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(ui, 'assets', 'ort.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  fs.writeFileSync(path.join(ui, 'assets', 'ort.mjs'), 'export {}');
  fs.writeFileSync(path.join(home, 'secret.txt'), 'not for the browser');
  t = await httpTransport(home, ui);
  base = `http://127.0.0.1:${t.server.port}`;
});
after(async () => {
  await t?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(ui, { recursive: true, force: true });
});

test('listens on loopback only and prints a URL carrying the token', () => {
  assert.match(t.server.url, new RegExp(`^http://127\\.0\\.0\\.1:${t.server.port}/\\?token=[A-Za-z0-9_-]{32}$`));
});

test('every /api/ route answers 401 without the token, or with a wrong one', async () => {
  const routes: [string, string][] = [['POST', '/api/call/status'], ['GET', '/api/events'], ['PUT', '/api/uploads?name=x.csv'], ['GET', '/api/files/j1/output'], ['GET', '/api/nothing']];
  for (const [method, route] of routes) {
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Cookie: `outpost_token_${t.server.port}=wrong` }, { Authorization: `Bearer ${t.server.token}x` }]) {
      const r = await fetch(base + route, { method, headers, ...(method === 'PUT' ? { body: 'a,b\n' } : {}) });
      assert.equal(r.status, 401, `${method} ${route} with ${JSON.stringify(headers)}`);
      const body = (await r.json()) as { ok: boolean; error: { code: string } };
      assert.equal(body.error.code, 'unauthorized');
    }
  }
  assert.equal(fs.existsSync(path.join(home, 'uploads')) && fs.readdirSync(path.join(home, 'uploads')).length > 0, false, 'a refused upload writes nothing');
});

test('?token= is traded for an HttpOnly SameSite cookie that then authorizes the API', async () => {
  const r = await fetch(`${base}/?token=${t.server.token}`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/', 'the token leaves the address bar');
  const cookie = r.headers.get('set-cookie') ?? '';
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const status = await fetch(`${base}/api/call/status`, { method: 'POST', headers: { Cookie: cookie.split(';')[0] } });
  assert.equal(status.status, 200);
  const wrong = await fetch(`${base}/?token=nope`, { redirect: 'manual' });
  assert.equal(wrong.headers.get('set-cookie'), null, 'a wrong token sets no cookie');
});

test('a wrong or expired ?token= lands on a page saying so and how to get the right URL, naming no token', async () => {
  const stale = `${t.server.token.slice(0, -1)}${t.server.token.endsWith('A') ? 'B' : 'A'}`; // one character off: an old or mistyped link
  for (const given of ['nope', stale, `${t.server.token}x`, '']) {
    const r = await fetch(`${base}/some/page?token=${encodeURIComponent(given)}`, { redirect: 'manual' });
    assert.equal(r.status, 302, given);
    assert.equal(r.headers.get('location'), '/token-refused', `${given}: the token leaves the address bar, for our own page`);
    assert.equal(r.headers.get('set-cookie'), null, `${given}: no cookie`);
  }
  // followed as a browser would: a 401 page that explains, not the UI failing call by call
  const page = await fetch(`${base}/?token=${stale}`);
  assert.equal(page.status, 401);
  assert.equal(page.url, `${base}/token-refused`);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src/);
  assert.equal(page.headers.get('cache-control'), 'no-store');
  const html = await page.text();
  assert.match(html, /access token is wrong or out of date/);
  assert.match(html, /a new access token every time <code>outpost serve<\/code> starts/);
  assert.match(html, new RegExp(`open the URL that <code>outpost serve</code> printed .*\\n?.*"Outpost is serving its UI at": <code>http://127\\.0\\.0\\.1:${t.server.port}/\\?token=…</code>`));
  assert.ok(!html.includes(t.server.token) && !html.includes(stale), 'neither the right token nor the one given is shown');
  // the page itself authorizes nothing, and the right link still works afterwards
  assert.equal((await fetch(`${base}/api/call/status`, { method: 'POST' })).status, 401);
  const right = await fetch(`${base}/?token=${t.server.token}`, { redirect: 'manual' });
  assert.equal(right.headers.get('location'), '/');
  assert.match(right.headers.get('set-cookie') ?? '', /HttpOnly/);
});

test('requests for another Host (DNS rebinding) and cross-origin writes are refused', async () => {
  const { request } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: t.server.port, path: '/api/call/status', method: 'POST', headers: { Host: `evil.example:${t.server.port}`, Authorization: `Bearer ${t.server.token}` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 421);
  const cross = await fetch(`${base}/api/call/status`, { method: 'POST', headers: { Authorization: `Bearer ${t.server.token}`, Origin: 'http://evil.example' } });
  assert.equal(cross.status, 401);
});

test('the UI is served with a strict CSP and nothing outside its folder is reachable', async () => {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  // WebAssembly compilation for the what-if explorer, and nothing more: no inline script, no eval
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'(;|$)/);
  assert.doesNotMatch(csp.replace("'wasm-unsafe-eval'", ''), /unsafe|https?:|\*/);
  assert.doesNotMatch(csp, /worker-src|child-src/, 'workers fall back to script-src: same-origin only');
  // cross-origin isolated (COOP + COEP): onnxruntime-web may use threads
  assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.equal((await fetch(`${base}/assets/app.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
  // onnxruntime-web's files: compiled by streaming only when served as application/wasm; its glue is a module script
  assert.equal((await fetch(`${base}/assets/ort.wasm`)).headers.get('content-type'), 'application/wasm');
  assert.equal((await fetch(`${base}/assets/ort.mjs`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
  for (const [p, status] of [['/../secret.txt', 404], ['/%2e%2e/secret.txt', 404], ['/..%2fsecret.txt', 400], ['/assets/../../secret.txt', 404]] as const) {
    const r = await fetch(base + p);
    assert.equal(r.status, status, p); // 400: an encoded slash is refused before any route
    assert.doesNotMatch(await r.text(), /not for the browser/);
  }
});

test('upload lands in <home>/uploads under a safe name; the output downloads', async () => {
  assert.equal(safeUploadName('../../etc/passwd'), 'passwd');
  assert.equal(safeUploadName('..'), 'upload');
  assert.equal(safeUploadName('we ird;$name.csv'), 'we ird_name.csv');
  const body = fs.readFileSync(DEMO_CSV);
  const up = await fetch(`${base}/api/uploads?name=${encodeURIComponent('../weather 2015.csv')}`, { method: 'PUT', headers: { Authorization: `Bearer ${t.server.token}` }, body });
  assert.equal(up.status, 200);
  const { result } = (await up.json()) as { result: { path: string; name: string; size: number } };
  assert.equal(path.dirname(path.dirname(result.path)), path.join(home, 'uploads'));
  assert.equal(result.name, 'weather 2015.csv');
  assert.equal(result.size, body.length);
  assert.deepEqual(fs.readFileSync(result.path), body);

  await ok(t, 'models.add', { path: DEMO_PACKAGE, allowUnsigned: true });
  const job = await ok<JobSummary>(t, 'jobs.start', { input: result.path, model: 'seattle-weather' });
  const early = await fetch(`${base}/api/files/${job.id}/output`, { headers: { Authorization: `Bearer ${t.server.token}` } });
  assert.ok(early.status === 404 || early.status === 200, 'no half-written output is ever served');
  await t.waitFor((e) => e.type === 'job-finished' && e.job.id === job.id, 'job-finished');
  const dl = await fetch(`${base}/api/files/${job.id}/output`, { headers: { Authorization: `Bearer ${t.server.token}` } });
  assert.equal(dl.status, 200);
  assert.match(dl.headers.get('content-disposition') ?? '', /attachment; filename="weather_2015\.scored\.csv"/);
  const text = await dl.text();
  assert.equal(text, fs.readFileSync(path.join(path.dirname(result.path), 'weather 2015.scored.csv'), 'utf8'));
  assert.equal(text.trimEnd().split('\n').length, 366);
  const none = await fetch(`${base}/api/files/${job.id}/rejects`, { headers: { Authorization: `Bearer ${t.server.token}` } });
  assert.equal(none.status, 404, 'a job without rejects has no rejects file');
});

test('a malformed call answers the codes the hub answers the same mistakes with; JSON bodies are strictly typed', async () => {
  const auth = { Authorization: `Bearer ${t.server.token}` };
  const json = { ...auth, 'Content-Type': 'application/json' };
  const cases: [string, string, string | Buffer, Record<string, string>, number, string, RegExp][] = [
    // JSON has types: a string for a number or boolean is not read as one (query strings are text: uploads' ?name= is read as given)
    ['a body field of the wrong type', 'jobs.list', JSON.stringify({ limit: '50' }), json, 400, 'usage', /^jobs\.list: limit: .*expected number, received string/],
    ['a boolean sent as text', 'gpu.status', JSON.stringify({ hub: 'false' }), json, 400, 'usage', /^gpu\.status: hub: .*expected boolean, received string/],
    ['a setting of the wrong type', 'settings.update', JSON.stringify({ patch: { logSampleRate: '0.5' } }), json, 400, 'usage', /setting "logSampleRate": expected a number/],
    ['an unknown body field', 'jobs.list', JSON.stringify({ limt: 5 }), json, 400, 'usage', /limt/],
    ['a body that is not JSON', 'jobs.list', '{"limit":', json, 400, 'usage', /not valid JSON/],
    ['a body over the limit', 'jobs.list', Buffer.alloc(1024 * 1024 + 1, 0x20), json, 413, 'too-large', /limit/],
    ['another content type', 'jobs.list', '{}', { ...auth, 'Content-Type': 'text/plain' }, 415, 'unsupported-media-type', /application\/json/],
  ];
  for (const [what, method, body, headers, status, code, message] of cases) {
    const r = await fetch(`${base}/api/call/${method}`, { method: 'POST', headers, body });
    const answer = (await r.json()) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(r.status, status, `${what}: ${JSON.stringify(answer)}`);
    assert.equal(answer.error.code, code, what);
    assert.match(answer.error.message, message, what);
  }
  const typed = await fetch(`${base}/api/call/jobs.list`, { method: 'POST', headers: json, body: JSON.stringify({ limit: 50 }) });
  assert.equal(typed.status, 200, 'the same field with its JSON type passes');
});

test('a request Node\'s HTTP parser refuses is answered in the JSON error shape, not with an empty body', async () => {
  const port = t.server.port;
  const host = `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${t.server.token}`;
  const cases: [string, number, RegExp][] = [
    [`POST /api/call/${'a'.repeat(20_000)} HTTP/1.1\r\n${host}\r\nContent-Length: 0`, 431, /^the request line and headers are too large \(the limit is \d+ bytes\)$/],
    [`GET / HTTP/1.1\r\n${host}\r\nX-Big: ${'b'.repeat(20_000)}`, 431, /too large/],
    [`PUT /api/uploads?name=a.csv HTTP/1.1\r\n${host}\r\nContent-Length: -5`, 400, /^malformed HTTP request: the Content-Length header is not a number of bytes$/],
    [`POST /api/call/status HTTP/1.1\r\n${host}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked`, 400, /^malformed HTTP request: /],
    [`FOO / HTTP/1.1\r\n${host}`, 400, /^malformed HTTP request: unknown method$/],
  ];
  for (const [head, status, message] of cases) {
    const r = await rawRequest(port, head, '', { timeoutMs: 5000 });
    assert.equal(r.status, status, `${head.slice(0, 60)}: ${r.head}`);
    assert.match(r.head, /\r\ncontent-type: application\/json/i, head.slice(0, 60));
    const body = JSON.parse(r.body) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(body.ok, false);
    assert.equal(body.error.code, 'usage');
    assert.match(body.error.message, message, head.slice(0, 60));
  }
  const ok = await fetch(`${base}/api/call/status`, { method: 'POST', headers: { Authorization: `Bearer ${t.server.token}` } });
  assert.equal(ok.status, 200, 'still serving');
  await ok.arrayBuffer();
});

test('an encoded slash (%2F) in the path is refused with 400 usage: it never changes which route runs', async () => {
  const headers = { Authorization: `Bearer ${t.server.token}`, 'Content-Type': 'application/json', Origin: base };
  for (const [method, p] of [['POST', '/api/call%2fjobs.list'], ['POST', '/api%2Fcall/jobs.list'], ['GET', '/assets%2fapp.js'], ['GET', '/api/files/j1%2foutput']] as const) {
    const r = await fetch(`${base}${p}`, { method, headers, ...(method === 'POST' ? { body: '{}' } : {}), signal: AbortSignal.timeout(5000) });
    const answer = (await r.json()) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(r.status, 400, `${method} ${p}: ${JSON.stringify(answer)}`);
    assert.deepEqual(answer, { ok: false, error: { code: 'usage', message: 'the URL path has an encoded slash (%2F): a part of the path cannot contain "/"' } }, p);
  }
  const plain = await fetch(`${base}/api/call/jobs.list`, { method: 'POST', headers, body: '{}' });
  assert.equal(plain.status, 200, 'the same call without the encoded slash');
  await plain.arrayBuffer();
});

test('a call whose body is JSON null is refused like [] or "x" (400 usage); a call with no body still takes its defaults', async () => {
  const json = { Authorization: `Bearer ${t.server.token}`, 'Content-Type': 'application/json' };
  for (const body of ['null', '[]', '"x"', '5']) {
    const r = await fetch(`${base}/api/call/tokens.list`, { method: 'POST', headers: json, body, signal: AbortSignal.timeout(5000) });
    const answer = (await r.json()) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(r.status, 400, `${body}: ${JSON.stringify(answer)}`);
    assert.equal(answer.error.code, 'usage', body);
    assert.match(answer.error.message, /^tokens\.list: .*expected object, received/, body);
  }
  const none = await fetch(`${base}/api/call/tokens.list`, { method: 'POST', headers: { Authorization: `Bearer ${t.server.token}` }, signal: AbortSignal.timeout(5000) });
  assert.equal(none.status, 200, `no body at all: ${await none.clone().text()}`);
  await none.arrayBuffer();
});

test('a method a path does not take is 405 method-not-allowed with Allow (API and pages); HEAD answers like GET without the body; a path no method takes is 404', async () => {
  const headers = { Authorization: `Bearer ${t.server.token}`, Origin: base };
  const cases: [string, string, string][] = [
    ['GET', '/api/call/status', 'POST'], ['HEAD', '/api/call/status', 'POST'], ['PUT', '/api/call/jobs.list', 'POST'],
    ['DELETE', '/api/uploads?name=a.csv', 'POST, PUT'], ['POST', '/api/events', 'GET, HEAD'], ['POST', '/api/files/j1/output', 'GET, HEAD'],
    ['POST', '/', 'GET, HEAD'], ['PUT', '/assets/app.js', 'GET, HEAD'], ['DELETE', '/token-refused', 'GET, HEAD'], ['OPTIONS', '/', 'GET, HEAD'],
  ];
  for (const [method, p, allow] of cases) {
    const r = await fetch(`${base}${p}`, { method, headers, signal: AbortSignal.timeout(5000) });
    const text = await r.text();
    assert.equal(r.status, 405, `${method} ${p}: ${text}`);
    assert.equal(r.headers.get('allow'), allow, `${method} ${p}`);
    if (method === 'HEAD') continue;
    assert.deepEqual(JSON.parse(text), { ok: false, error: { code: 'method-not-allowed', message: `${method} is not allowed on this path (it takes ${allow})` } }, `${method} ${p}`);
  }
  for (const [method, p] of [['POST', '/no-such-page'], ['GET', '/api/nothing'], ['DELETE', '/api/call'], ['GET', '/api/files/j1/elsewhere']] as const) {
    const r = await fetch(`${base}${p}`, { method, headers, signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 404, `${method} ${p}`);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'not-found', `${method} ${p}`);
  }
  // HEAD on a GET route: GET's status and headers, no body (the event stream is not opened)
  for (const p of ['/', '/assets/app.js', '/api/events']) {
    const get = await fetch(`${base}${p}`, { headers, signal: AbortSignal.timeout(5000) });
    await get.body?.cancel();
    const head = await fetch(`${base}${p}`, { method: 'HEAD', headers, signal: AbortSignal.timeout(5000) });
    assert.equal(head.status, get.status, `HEAD ${p}`);
    assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), `HEAD ${p}`);
    assert.equal(await head.text(), '', `HEAD ${p}: no body`);
  }
});

test('API query strings: a repeated upload name is refused (it used the first), an unknown parameter too; pages ignore theirs', async () => {
  const headers = { Authorization: `Bearer ${t.server.token}` };
  const before = fs.existsSync(path.join(home, 'uploads')) ? fs.readdirSync(path.join(home, 'uploads')).length : 0;
  const cases: [string, string, string][] = [
    ['PUT', '/api/uploads?name=a.csv&name=b.csv', '"name" is given more than once'],
    ['PUT', '/api/uploads?name=a.csv&nmae=b.csv', 'unknown query parameter "nmae" (this request takes name)'],
    ['POST', '/api/call/status?verbose=1', 'unknown query parameter "verbose" (this request takes no query parameters)'],
    ['GET', '/api/files/j1/output?x=1', 'unknown query parameter "x" (this request takes no query parameters)'],
  ];
  for (const [method, p, message] of cases) {
    const r = await fetch(`${base}${p}`, { method, headers, ...(method === 'PUT' ? { body: 'a,b\n1,2\n' } : {}), signal: AbortSignal.timeout(5000) });
    const answer = await r.json();
    assert.equal(r.status, 400, `${method} ${p}: ${JSON.stringify(answer)}`);
    assert.deepEqual(answer, { ok: false, error: { code: 'usage', message } }, `${method} ${p}`);
  }
  const after = fs.existsSync(path.join(home, 'uploads')) ? fs.readdirSync(path.join(home, 'uploads')).length : 0;
  assert.equal(after, before, 'a refused upload writes nothing');
  const page = await fetch(`${base}/?utm_source=x`, { signal: AbortSignal.timeout(5000) });
  assert.equal(page.status, 200);
  await page.arrayBuffer();
});
