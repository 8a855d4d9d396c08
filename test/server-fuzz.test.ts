// Both HTTP servers (serve mode and the hub) under hostile requests: malformed URLs, bad headers,
// bad bodies. Each must get a 4xx answer (or, where HTTP says to ignore a bad header, a normal one),
// the server must answer a good request right after, and the process must still be alive at the
// end — one bad URL used to kill `outpost serve` and every job it was running.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { rawRequest, stalledRequest, type RawResponse } from './helpers/raw-http.ts';
import { REPO } from './helpers/cli.ts';

interface Servers { target: string; serve: string; token: string; home: string; hub: string; publisherToken: string; adminToken: string }

let child: ChildProcess;
let s: Servers;
let childErr = '';
const portOf = (url: string) => Number(new URL(url).port);

before(async () => {
  child = spawn(process.execPath, [path.join(REPO, 'test/helpers/servers-child.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d) => { childErr += d; });
  s = await new Promise<Servers>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as Servers);
    });
    child.once('exit', (code) => reject(new Error(`servers child exited (${code}): ${childErr}`)));
  });
});
after(async () => {
  if (process.env.FUZZ_DEBUG) console.log("CHILD STDERR", childErr, child.exitCode);
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});

const alive = () => assert.equal(child.exitCode, null, `the server process died: ${childErr.slice(0, 2000)}`);

/** A request that must still work after each attack. */
async function serveStillServes(): Promise<void> {
  alive();
  const r = await fetch(`${s.serve}/api/call/settings.get`, { method: 'POST', headers: { Authorization: `Bearer ${s.token}` } });
  assert.equal(r.status, 200);
  await r.arrayBuffer();
}
async function hubStillServes(): Promise<void> {
  alive();
  const r = await fetch(`${s.hub}/healthz`);
  assert.equal(r.status, 200);
  await r.arrayBuffer();
}

const is4xx = (r: RawResponse, what: string) => assert.ok(r.status !== null && r.status >= 400 && r.status < 500, `${what}: expected a 4xx answer, got ${r.status ?? 'no answer'} ${r.body.slice(0, 200)}`);

const MALFORMED_TARGETS = [
  '/%ff', '/%', '/%zz', '/api/%ff', '/api/call/%E0%A4%A', '/api/call/%ff', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd', '/%00', '/a%00b',
  '/api/files/%ff/output', '/api/files/..%2f..%2foutpost.db/output', `/${'a'.repeat(10_000)}`, `/api/call/${'x'.repeat(5000)}`, '/\\..\\..\\windows\\win.ini',
  '/metadata/%ff', '/metadata/..%2f..%2fhub.json', '/metadata/1.root.json%00', '/targets/%ff', '/targets/../../hub.json', `/targets/${'b'.repeat(10_000)}`,
  '/api/v1/models/%E0%A4%A', '/api/v1/blobs/%ff', 'http://evil.example/', '*',
];

test('serve: malformed request targets get 4xx and the server keeps serving', async () => {
  const port = portOf(s.serve);
  for (const target of MALFORMED_TARGETS) {
    for (const method of ['GET', 'POST']) {
      const r = await rawRequest(port, `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${s.token}\r\nContent-Length: 0`);
      is4xx(r, `${method} ${target.slice(0, 60)}`);
      assert.doesNotMatch(r.body, /root:|\[fonts\]|SQLite format/, 'nothing outside the UI folder leaks');
    }
    await serveStillServes();
  }
  alive();
});

test('hub: malformed request targets get 4xx and the hub keeps serving', async () => {
  const port = portOf(s.hub);
  for (const target of MALFORMED_TARGETS) {
    for (const method of ['GET', 'PUT', 'POST']) {
      const r = await rawRequest(port, `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${s.publisherToken}\r\nContent-Length: 0`);
      is4xx(r, `${method} ${target.slice(0, 60)}`);
      assert.doesNotMatch(r.body, /"publishers"|root_key|BEGIN/, 'nothing private leaks');
    }
    await hubStillServes();
  }
  alive();
});

test('both: bad headers (Host, cookies, Authorization, Range, framing) get 4xx or are ignored as HTTP says', async () => {
  const sp = portOf(s.serve);
  const hp = portOf(s.hub);
  const hugeCookie = `Cookie: ${Array.from({ length: 400 }, (_, i) => `c${i}=${'%ff'.repeat(20)}`).join('; ')}`;
  const serveCases: [string, string, (r: RawResponse) => void][] = [
    ['Host %ff', `GET / HTTP/1.1\r\nHost: %ff`, (r) => is4xx(r, 'Host %ff')],
    ['no Host', `GET / HTTP/1.1`, (r) => is4xx(r, 'no Host')],
    ['huge cookie', `GET / HTTP/1.1\r\nHost: 127.0.0.1:${sp}\r\n${hugeCookie}`, (r) => is4xx(r, 'huge cookie')],
    ['malformed token cookie', `POST /api/call/status HTTP/1.1\r\nHost: 127.0.0.1:${sp}\r\nCookie: outpost_token_${sp}=%ff%; x=%E0%A4%A\r\nContent-Length: 0`, (r) => assert.equal(r.status, 401)],
    ['Authorization: Bearer (empty)', `POST /api/call/status HTTP/1.1\r\nHost: 127.0.0.1:${sp}\r\nAuthorization: Bearer\r\nContent-Length: 0`, (r) => assert.equal(r.status, 401)],
    ['Authorization: Basic', `POST /api/call/status HTTP/1.1\r\nHost: 127.0.0.1:${sp}\r\nAuthorization: Basic Zm9vOmJhcg==\r\nContent-Length: 0`, (r) => assert.equal(r.status, 401)],
    ['Authorization: long', `POST /api/call/status HTTP/1.1\r\nHost: 127.0.0.1:${sp}\r\nAuthorization: Bearer ${'%ff'.repeat(2000)}\r\nContent-Length: 0`, (r) => assert.equal(r.status, 401)],
    ['bad Content-Length', `POST /api/call/status HTTP/1.1\r\nHost: 127.0.0.1:${sp}\r\nAuthorization: Bearer ${s.token}\r\nContent-Length: abc`, (r) => is4xx(r, 'bad Content-Length')],
    ['Content-Length + chunked', `POST /api/call/status HTTP/1.1\r\nHost: 127.0.0.1:${sp}\r\nAuthorization: Bearer ${s.token}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked`, (r) => is4xx(r, 'CL + TE')],
    // RFC 9110 §14.2: a server may ignore Range; serve does, on pages and downloads.
    ['bad Range', `GET / HTTP/1.1\r\nHost: 127.0.0.1:${sp}\r\nRange: bytes=abc`, (r) => assert.equal(r.status, 200)],
    ['huge Range', `GET / HTTP/1.1\r\nHost: 127.0.0.1:${sp}\r\nRange: bytes=99999999999999999999999-`, (r) => assert.equal(r.status, 200)],
  ];
  for (const [what, head, check] of serveCases) {
    check(await rawRequest(sp, head));
    await serveStillServes();
    void what;
  }
  const target = s.target;
  const hubCases: [string, string, (r: RawResponse) => void][] = [
    ['Host %ff', `GET /api/v1/nothing HTTP/1.1\r\nHost: %ff`, (r) => is4xx(r, 'Host %ff')],
    ['huge cookie', `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${hp}\r\n${hugeCookie}`, (r) => is4xx(r, 'huge cookie')],
    ['Authorization: Bearer %ff', `GET /api/v1/publishers HTTP/1.1\r\nHost: 127.0.0.1:${hp}\r\nAuthorization: Bearer %ff`, (r) => assert.equal(r.status, 401)],
    ['Authorization: long', `GET /api/v1/publishers/me HTTP/1.1\r\nHost: 127.0.0.1:${hp}\r\nAuthorization: Bearer ${'x'.repeat(6000)}`, (r) => assert.equal(r.status, 401)],
    ['Authorization: Basic', `GET /api/v1/publishers/me HTTP/1.1\r\nHost: 127.0.0.1:${hp}\r\nAuthorization: Basic Zm9vOmJhcg==`, (r) => assert.equal(r.status, 401)],
    ['bad Range (ignored)', `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${hp}\r\nRange: bytes=abc`, (r) => assert.equal(r.status, 200)],
    ['unsatisfiable Range', `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${hp}\r\nRange: bytes=99999999999-`, (r) => assert.equal(r.status, 416)],
    ['huge Range', `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${hp}\r\nRange: bytes=99999999999999999999999-1`, (r) => assert.ok(r.status === 200 || r.status === 416, String(r.status))],
    ['bad Content-Length', `POST /api/v1/publish HTTP/1.1\r\nHost: 127.0.0.1:${hp}\r\nAuthorization: Bearer ${s.publisherToken}\r\nContent-Length: abc`, (r) => is4xx(r, 'bad Content-Length')],
  ];
  for (const [, head, check] of hubCases) {
    check(await rawRequest(hp, head));
    await hubStillServes();
  }
  alive();
});

test('serve: bad bodies — truncated JSON, wrong type, oversize, over the upload cap, stalled, cut off', async () => {
  const port = portOf(s.serve);
  const h = (method: string, target: string, extra = '') => `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${s.token}${extra}`;
  const truncated = await rawRequest(port, h('POST', '/api/call/settings.get', '\r\nContent-Type: application/json\r\nContent-Length: 5'), '{"a":');
  assert.equal(truncated.status, 400);
  assert.match(truncated.body, /not valid JSON/);
  const notUtf8 = await rawRequest(port, h('POST', '/api/call/settings.get', '\r\nContent-Type: application/json\r\nContent-Length: 8'), Buffer.from([0x7b, 0x22, 0x61, 0xc3, 0x28, 0x22, 0x3a, 0x7d]));
  assert.equal(notUtf8.status, 400);
  assert.match(notUtf8.body, /not UTF-8 \(byte 3 starts an invalid sequence\)/);
  const wrongType = await rawRequest(port, h('POST', '/api/call/settings.get', '\r\nContent-Type: text/plain\r\nContent-Length: 2'), '{}');
  assert.equal(wrongType.status, 415);
  const wrongShape = await rawRequest(port, h('POST', '/api/call/jobs.list', '\r\nContent-Type: application/json\r\nContent-Length: 15'), '{"limit":"all"}');
  assert.equal(wrongShape.status, 400);
  const twice = await rawRequest(port, h('POST', '/api/call/jobs.list', '\r\nContent-Type: application/json\r\nContent-Length: 24'), '{"limit": 1, "limit": 2}');
  assert.equal(twice.status, 400);
  assert.match(twice.body, /the request body names the key \\"limit\\" twice/);
  for (const m of ['__proto__', 'constructor', 'toString', 'status%2f..']) {
    is4xx(await rawRequest(port, h('POST', `/api/call/${m}`, '\r\nContent-Length: 0')), m);
  }
  const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
  const oversize = await rawRequest(port, h('POST', '/api/call/settings.get', `\r\nContent-Type: application/json\r\nContent-Length: ${big.length}`), big, { keepAlive: true });
  assert.equal(oversize.status, 413);
  await serveStillServes();

  // Upload cap: the setting, checked on the declared length and on the bytes that arrive.
  const set = await fetch(`${s.serve}/api/call/settings.update`, { method: 'POST', headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ patch: { uploadMaxBytes: 1024 * 1024 } }) });
  assert.equal(set.status, 200);
  const declared = await rawRequest(port, h('PUT', '/api/uploads?name=big.csv', `\r\nContent-Length: ${10 * 1024 ** 3}`));
  assert.equal(declared.status, 413);
  assert.match(declared.body, /limit is 1048576/);
  const chunked = await rawRequest(port, h('PUT', '/api/uploads?name=big.csv', '\r\nTransfer-Encoding: chunked'), `${(1.5 * 1024 * 1024).toString(16)}\r\n${'x'.repeat(1.5 * 1024 * 1024)}\r\n0\r\n\r\n`, { keepAlive: true });
  assert.equal(chunked.status, 413);
  const uploads = path.join(s.home, 'uploads');
  assert.deepEqual(fs.existsSync(uploads) ? fs.readdirSync(uploads) : [], [], 'a refused upload leaves nothing behind');

  // A body that stops arriving: 408 after the idle timeout, while other requests are served.
  const stalled = rawRequest(port, h('POST', '/api/call/settings.get', '\r\nContent-Type: application/json\r\nContent-Length: 100'), '{"a"');
  await serveStillServes();
  assert.equal((await stalled).status, 408);
  const stalledUpload = rawRequest(port, h('PUT', '/api/uploads?name=slow.csv', '\r\nContent-Length: 1000'), 'a,b\n1,2\n');
  assert.equal((await stalledUpload).status, 408);
  assert.deepEqual(fs.readdirSync(uploads), [], 'a stalled upload is removed');

  // A client that hangs up mid-body.
  const socket = await stalledRequest(port, h('PUT', '/api/uploads?name=cut.csv', '\r\nContent-Length: 100000'), 'a,b\n');
  await serveStillServes();
  socket.destroy();
  await new Promise((r) => setTimeout(r, 200));
  await serveStillServes();
  alive();
});

test('hub: bad bodies — truncated JSON, wrong type, oversize, unauthenticated uploads are not read, stalled, cut off', async () => {
  const port = portOf(s.hub);
  const h = (method: string, target: string, extra = '', token = s.publisherToken) => `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}${extra}`;
  is4xx(await rawRequest(port, h('POST', '/api/v1/publish', '\r\nContent-Type: application/json\r\nContent-Length: 5'), '{"a":'), 'truncated JSON');
  is4xx(await rawRequest(port, h('POST', '/api/v1/publish', '\r\nContent-Type: text/plain\r\nContent-Length: 2'), '{}'), 'wrong content type');
  is4xx(await rawRequest(port, h('POST', '/api/v1/publish', '\r\nContent-Type: application/json\r\nContent-Length: 16'), '{"metadata":"x"}'), 'wrong shape');
  // proposals: unsigned, wrong type, truncated (each a 4xx before anything is stored)
  is4xx(await rawRequest(port, h('POST', '/api/v1/proposals', '\r\nContent-Type: application/x-outpost-proposal+json\r\nContent-Length: 5'), '{"a":'), 'unsigned truncated proposal');
  is4xx(await rawRequest(port, h('POST', '/api/v1/proposals', '\r\nContent-Type: text/plain\r\nContent-Length: 2'), '{}'), 'proposal of the wrong type');
  const sha = 'a'.repeat(64);
  is4xx(await rawRequest(port, h('PUT', `/api/v1/uploads/${'0'.repeat(32)}/${sha}`, '\r\nContent-Type: application/json\r\nContent-Length: 2'), '{}'), 'blob as JSON');
  is4xx(await rawRequest(port, h('PUT', `/api/v1/uploads/${'0'.repeat(32)}/${sha}`, '\r\nContent-Type: application/octet-stream\r\nContent-Length: 5'), 'hello'), 'blob with the wrong hash');
  const oversize = await rawRequest(port, h('POST', '/api/v1/publish', `\r\nContent-Type: application/json\r\nContent-Length: ${17 * 1024 * 1024}`));
  assert.equal(oversize.status, 413);
  const hugeBlob = await rawRequest(port, h('PUT', `/api/v1/uploads/${'0'.repeat(32)}/${sha}`, `\r\nContent-Type: application/octet-stream\r\nContent-Length: ${64 * 1024 ** 4}`));
  assert.equal(hugeBlob.status, 413);
  // Without a token the body is never read: the answer comes before a byte of it is sent.
  const anon = await rawRequest(port, h('PUT', `/api/v1/uploads/${'0'.repeat(32)}/${sha}`, `\r\nContent-Type: application/octet-stream\r\nContent-Length: ${1024 ** 3}`, 'nope'));
  assert.equal(anon.status, 401);
  await hubStillServes();

  // A stalled body: the hub keeps serving others, and closes the idle connection itself.
  const socket = await stalledRequest(port, h('POST', '/api/v1/publish', '\r\nContent-Type: application/json\r\nContent-Length: 1000'), '{"metadata":');
  const closed = new Promise((r) => socket.once('close', r));
  socket.on('error', () => {});
  await hubStillServes();
  await closed;
  const cut = await stalledRequest(port, h('PUT', `/api/v1/uploads/${'0'.repeat(32)}/${sha}`, '\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000'), 'partial');
  cut.destroy();
  await new Promise((r) => setTimeout(r, 200));
  await hubStillServes();
  alive();
});
