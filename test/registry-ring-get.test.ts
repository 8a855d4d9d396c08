// A large target from the network (src/registry/node/ring-get.ts via downloadTarget): the socket
// reads the body straight into eight recycled 1 MiB buffers, each handed back once written. Against
// a real server on loopback (raw HTTP, so every hostile answer is exact) and a real TLS server: the
// bytes written and the sink's are the signed ones; a body longer than signed is cut off and refused;
// a connection dropped mid-buffer resumes with Range; a stall ends on the idle timeout; an abort
// stops it; answers it does not read (chunked, redirect) go to fetch; the certificate is checked.
// And end to end: a pull from a real hub (its blobs sent by send-range.ts), cut and resumed.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { TargetFile } from '@tufjs/models';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { encodeModel } from '../src/onnx/common/onnx.ts';
import { CollectSink, downloadTarget } from '../src/registry/node/download.ts';
import { PullRefused, PullUnavailable } from '../src/registry/node/errors.ts';
import { setHubCa } from '../src/registry/node/hub-tls.ts';
import { pull } from '../src/registry/node/pull.ts';
import { logisticGraph, makePackage, startTestHub, tmpDir } from './helpers/hub-fixtures.ts';
import { startProxy } from './helpers/hub-proxy.ts';
import { issue } from './helpers/x509.ts';

const work = tmpDir('outpost-ring-');
const bytes = crypto.randomBytes((12 << 20) + 5); // > the eight buffers: each is reused
const sha = crypto.createHash('sha256').update(bytes).digest('hex');
const target = (length = bytes.length) => new TargetFile({ path: 'm/1/model.onnx', length, hashes: { sha256: sha } });
const dest = (name: string) => path.join(work, name);

interface Seen { path: string; range: string | undefined; agent: string | undefined }
let seen: Seen[] = [];
const cuts = new Map<string, number>(); // path -> requests still to cut

/** Raw HTTP: the answer for each path is written byte for byte. */
function handle(sock: net.Socket) {
  let head = '';
  const onData = (d: Buffer) => {
    head += d.toString('latin1');
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    sock.off('data', onData);
    const lines = head.slice(0, end).split('\r\n');
    const p = lines[0].split(' ')[1];
    const hdr = (n: string) => lines.find((l) => l.toLowerCase().startsWith(`${n}:`))?.slice(n.length + 1).trim();
    seen.push({ path: p, range: hdr('range'), agent: hdr('user-agent') });
    void answer(sock, p, hdr('range')).catch(() => sock.destroy());
  };
  sock.on('data', onData);
  sock.on('error', () => undefined);
}

async function answer(sock: net.Socket, p: string, range: string | undefined) {
  const from = range ? Number(/^bytes=(\d+)-$/.exec(range)![1]) : 0;
  const body = bytes.subarray(from);
  const ok = (extra = '') => (from
    ? `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${bytes.length - 1}/${bytes.length}\r\n${extra}`
    : `HTTP/1.1 200 OK\r\n${extra}`);
  /** the body in pieces of `piece` bytes, yielding between them */
  const pieces = async (b: Uint8Array, piece: number) => {
    for (let i = 0; i < b.length; i += piece) {
      if (!sock.write(b.subarray(i, i + piece))) await new Promise((r) => sock.once('drain', r));
      if (piece < 65536) await new Promise((r) => setImmediate(r));
    }
  };
  switch (p) {
    case '/ok':
      sock.write(`${ok()}content-length: ${body.length}\r\n\r\n`);
      await pieces(body, 300_000);
      return void sock.end();
    case '/slow': // many small reads
      sock.write(`${ok()}content-length: ${body.length}\r\n\r\n`);
      await pieces(body.subarray(0, 2 << 20), 7001);
      await pieces(body.subarray(2 << 20), 1 << 20);
      return void sock.end();
    case '/cut': { // the first answer ends mid-buffer, without closing cleanly
      const cut = (cuts.get(p) ?? 0) > 0;
      cuts.set(p, (cuts.get(p) ?? 0) - 1);
      sock.write(`${ok()}content-length: ${body.length}\r\n\r\n`);
      if (!cut) { await pieces(body, 1 << 20); return void sock.end(); }
      await pieces(body.subarray(0, (3 << 20) + 12_345), 1 << 20);
      return void sock.resetAndDestroy();
    }
    case '/long': // declares and sends more than the signed length
      sock.write(`${ok()}content-length: ${body.length + 4096}\r\n\r\n`);
      await pieces(Buffer.concat([body, Buffer.alloc(4096, 7)]), 1 << 20);
      return void sock.end();
    case '/trailing': // more bytes after the declared body: not part of it
      sock.write(`${ok()}content-length: ${body.length}\r\n\r\n`);
      await pieces(Buffer.concat([body, Buffer.alloc(4096, 7)]), 1 << 20);
      return void sock.end();
    case '/chunked':
      sock.write(`${ok()}transfer-encoding: chunked\r\n\r\n`);
      for (let i = 0; i < body.length; i += 1 << 20) { const c = body.subarray(i, i + (1 << 20)); sock.write(`${c.length.toString(16)}\r\n`); sock.write(c); sock.write('\r\n'); }
      return void sock.end('0\r\n\r\n');
    case '/redirect':
      return void sock.end('HTTP/1.1 302 Found\r\nlocation: /ok\r\ncontent-length: 0\r\n\r\n');
    case '/stall':
      sock.write(`${ok()}content-length: ${body.length}\r\n\r\n`);
      sock.write(body.subarray(0, 1000));
      return; // and nothing more
    case '/bighead':
      return void sock.write(`${ok()}x-padding: ${'a'.repeat(70 << 10)}\r\ncontent-length: ${body.length}\r\n\r\n`);
    case '/gone':
      return void sock.end('HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}');
    default:
      return void sock.end('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n');
  }
}

const ca = issue({ cn: 'Ring Test CA', ca: true });
const leaf = issue({ cn: 'ring.test', hosts: ['127.0.0.1'], issuer: ca, days: 30 });
const stranger = issue({ cn: 'ring.test', hosts: ['127.0.0.1'], issuer: issue({ cn: 'Other CA', ca: true }), days: 30 });
let plain: net.Server;
let secure: tls.Server;
let untrusted: tls.Server;
let base = '';
let secureBase = '';
let untrustedBase = '';
const listen = async (s: net.Server, scheme: string) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `${scheme}://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
};
before(async () => {
  plain = net.createServer(handle);
  secure = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem }, handle);
  untrusted = tls.createServer({ cert: stranger.certPem, key: stranger.keyPem }, handle);
  base = await listen(plain, 'http');
  secureBase = await listen(secure, 'https');
  untrustedBase = await listen(untrusted, 'https');
  fs.writeFileSync(path.join(work, 'ca.pem'), ca.certPem);
  setHubCa(undefined, secureBase, path.join(work, 'ca.pem')); // as `--ca FILE` does
});
after(async () => {
  for (const s of [plain, secure, untrusted]) await new Promise((r) => s.close(r));
  fs.rmSync(work, { recursive: true, force: true });
});

const get = (url: string, name: string, o: Partial<Omit<Parameters<typeof downloadTarget>[0], 'sink'>> = {}) => {
  seen = [];
  return downloadTarget<CollectSink>({ url, target: target(), dest: dest(name), sink: () => new CollectSink(), ...o });
};
const exact = (name: string, r: { sink: CollectSink | undefined }) => {
  assert.ok(fs.readFileSync(dest(name)).equals(bytes), 'the file written is the signed bytes');
  assert.ok(r.sink!.bytes().equals(bytes), 'the sink saw exactly the signed bytes');
};

test('plain HTTP and TLS: the body read into recycled buffers is written and seen exactly; small and large reads alike', async () => {
  for (const [url, name] of [[`${base}/ok`, 'ok'], [`${base}/slow`, 'slow'], [`${base}/trailing`, 'trailing'], [`${secureBase}/ok`, 'tls'], [`${secureBase}/slow`, 'tls-slow']]) {
    const r = await get(url, name);
    exact(name, r);
    assert.deepEqual(seen.map((s) => s.agent), ['outpost'], `${name}: one request, by the ring reader`);
  }
});

test('a body longer than the signed length is cut off and refused; nothing is kept', async () => {
  await assert.rejects(get(`${base}/long`, 'long'),
    (e: unknown) => e instanceof PullRefused && e.stage === 'download' && /sent more than the \d+ bytes the signed metadata allows/.test(e.message));
  assert.equal(fs.existsSync(dest('long.part')), false);
  assert.equal(fs.existsSync(dest('long')), false);
});

test('a connection dropped inside a buffer resumes with Range from what was written; the result is exact', async () => {
  cuts.set('/cut', 1);
  const ranges: (string | undefined)[] = [];
  const r = await get(`${base}/cut`, 'cut', { onRequest: (range) => ranges.push(range) });
  exact('cut', r);
  assert.equal(ranges.length, 2);
  assert.equal(ranges[0], undefined);
  const at = Number(/^bytes=(\d+)-$/.exec(ranges[1]!)![1]);
  assert.ok(at > 0 && at <= (3 << 20) + 12_345, `resumed at ${at}`);
  // and across runs: a cut with no retries left keeps the partial, the next call resumes it
  cuts.set('/cut', 1);
  await assert.rejects(get(`${base}/cut`, 'cut2', { retries: 0 }), (e: unknown) => e instanceof PullUnavailable && /interrupted \(.*\) after \d+ of \d+ bytes/.test(e.message));
  const kept = fs.statSync(dest('cut2.part')).size;
  assert.ok(kept > 0 && kept <= (3 << 20) + 12_345);
  const again = await get(`${base}/cut`, 'cut2');
  exact('cut2', again);
  assert.deepEqual(seen.map((s) => s.range), [`bytes=${kept}-`]);
});

test('answers the reader does not take go to fetch: a chunked body, a redirect', async () => {
  for (const [p, name] of [['/chunked', 'chunked'], ['/redirect', 'redirect']]) {
    const r = await get(`${base}${p}`, name);
    exact(name, r);
    assert.equal(seen[0].agent, 'outpost');
    assert.ok(seen.length >= 2 && seen.slice(1).every((s) => s.agent !== 'outpost'), `${name}: then fetch (${JSON.stringify(seen)})`);
  }
});

test('a stalled body ends on the idle timeout; an oversized head, a 404 and a 500 are told apart', async () => {
  await assert.rejects(get(`${base}/stall`, 'stall', { idleTimeoutMs: 300, retries: 0 }), (e: unknown) => e instanceof PullUnavailable && /no data for 0\.3 s/.test(e.message));
  await assert.rejects(get(`${base}/bighead`, 'bighead', { retries: 0 }), (e: unknown) => e instanceof PullUnavailable && /response head is larger than/.test(e.message));
  await assert.rejects(get(`${base}/gone`, 'gone'), (e: unknown) => e instanceof PullRefused && /the hub answered 404/.test(e.message));
  await assert.rejects(get(`${base}/broken`, 'broken', { retries: 1 }), (e: unknown) => e instanceof PullUnavailable && /hub answered 500/.test(e.message));
  assert.equal(seen.length, 2, 'a 500 is retried');
});

test('an abort stops the transfer with its reason', async () => {
  const ac = new AbortController();
  const reason = new Error('stopped by the user');
  await assert.rejects(get(`${base}/slow`, 'abort', { signal: ac.signal, onProgress: (n) => { if (n >= 1 << 20) ac.abort(reason); } }), (e: unknown) => e === reason);
});

test('TLS: a certificate from a CA this process does not trust is refused before any byte is taken', async () => {
  await assert.rejects(get(`${untrustedBase}/ok`, 'untrusted', { retries: 0 }),
    (e: unknown) => e instanceof PullUnavailable && /self-signed|unable to (get|verify)|certificate/i.test(e.message));
  assert.deepEqual(seen, [], 'no request was sent');
  assert.equal(fs.existsSync(dest('untrusted')), false);
});

test('a real hub: a 1.2 MB model pulled through the reader; a connection cut mid-transfer resumes with Range against the hub', async () => {
  const h = await startTestHub();
  const proxy = await startProxy(h.url);
  try {
    const g = logisticGraph([1, -1]);
    const model = encodeModel({ ...g, initializers: [...g.initializers, { name: 'pad', type: 'float', dims: [300_000], data: new Float32Array(300_000).map((_, i) => i % 251) }] });
    const modelSha = crypto.createHash('sha256').update(model).digest('hex');
    await publishPackage({ packageDir: makePackage(work, 'churn', 1, { model }), hubUrl: h.url, keys: [h.publishers['churn-team'].key], token: h.publishers['churn-team'].token });
    const direct = await pull({ home: path.join(work, 'home-direct'), hubUrl: h.url, ref: 'churn@1', rootFile: h.trustRoot, smoke: false });
    assert.equal(direct.model.modelSha256, modelSha);
    let cut = 0;
    proxy.hook = (p, _up, range) => (/\.model\.onnx$/.test(p) && !range && cut++ === 0 ? { kind: 'cut', after: 700_000 } : undefined);
    const ranges: (string | undefined)[] = [];
    const viaCut = await pull({ home: path.join(work, 'home-cut'), hubUrl: proxy.url, ref: 'churn@1', rootFile: h.trustRoot, smoke: false, onRequest: (f, range) => { if (f === 'model.onnx') ranges.push(range); } });
    assert.equal(viaCut.model.modelSha256, modelSha);
    assert.equal(ranges.length, 2);
    const at = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    assert.ok(at > 0 && at <= 700_000, `resumed at ${ranges[1]}`);
  } finally {
    await proxy.close();
    await h.close();
  }
});
