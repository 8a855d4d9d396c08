// Issue 10: a hub served over HTTPS (`hub serve --tls-cert --tls-key`) and every client verifying it
// with the system store or a CA given with --ca (kept with the hub's trust, so later commands need
// no flag). Certificates are made here (test/helpers/x509.ts). Clients run as real CLI processes:
// each has its own TLS trust, as a workstation or a publisher machine would.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createEnrollment } from '../src/hub/node/devices.ts';
import { createService } from '../src/api/node/service.ts';
import { connectionFailure, isSafeTransport, requireSafeTransport, storedCaFile } from '../src/registry/node/hub-tls.ts';
import { openStore } from '../src/store/node/store.ts';
import { lastJson, runCli, runMain } from './helpers/cli.ts';
import { makePackage, startTestHub, tmpDir } from './helpers/hub-fixtures.ts';
import { issue } from './helpers/x509.ts';

const work = tmpDir('outpost-tls-');
const write = (name: string, text: string): string => {
  const f = path.join(work, name);
  fs.writeFileSync(f, text);
  return f;
};
const ca = issue({ cn: 'Outpost Test CA', ca: true });
const otherCa = issue({ cn: 'Some Other CA', ca: true });
const leaf = issue({ cn: 'hub.test', hosts: ['127.0.0.1', 'localhost'], issuer: ca, days: 90 });
const caFile = write('ca.pem', ca.certPem);
const otherCaFile = write('other-ca.pem', otherCa.certPem);

let h: Awaited<ReturnType<typeof startTestHub>>;
let port: number;
const home = path.join(work, 'device');
const publisherHome = path.join(work, 'publisher');

before(async () => {
  h = await startTestHub({ serverOptions: { tls: { cert: Buffer.from(leaf.certPem), key: Buffer.from(leaf.keyPem) } } });
  port = Number(new URL(h.url).port);
});
after(async () => {
  await h?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const events = (dir: string): string[] => {
  const store = openStore(dir);
  try { return (store.db.prepare('SELECT kind FROM security_events').all() as { kind: string }[]).map((e) => e.kind); } finally { store.close(); }
};

test('the hub serves HTTPS; a device refuses it until it trusts the CA, then pulls; later commands need no --ca', async () => {
  assert.match(h.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const team = h.publishers['churn-team'];
  const pkg = makePackage(work, 'churn', 1);

  // the publisher without the CA: refused, naming the hub and the TLS reason; nothing published
  const untrusted = await runCli(['publish', pkg, '--hub', h.url, '--key', team.key.file, '--token', team.token, '--no-smoke'], { home: publisherHome });
  assert.equal(untrusted.code, 1, untrusted.stderr);
  assert.match(untrusted.stderr, new RegExp(`cannot connect securely to the hub at https://127\\.0\\.0\\.1:${port} \\(TLS\\): its certificate is not issued by a CA this machine trusts .*give the hub's CA certificate with --ca FILE`));
  const published = await runCli(['publish', pkg, '--hub', h.url, '--key', team.key.file, '--token', team.token, '--no-smoke', '--ca', caFile, '--json'], { home: publisherHome });
  assert.equal(published.code, 0, published.stderr);
  assert.match(published.stderr, /trusting CN=Outpost Test CA for HTTPS/);

  // a device: no CA, then the wrong CA — refused as a connection failure, not as bad signatures
  const none = await runCli(['pull', 'churn@1', '--hub', h.url, '--root', h.trustRoot], { home });
  assert.equal(none.code, 1, none.stderr);
  assert.match(none.stderr, /cannot connect securely to the hub at https:\/\/127\.0\.0\.1:\d+ \(TLS\): its certificate is not issued by a CA this machine trusts \(unable to verify the first certificate\)/);
  const wrong = await runCli(['pull', 'churn@1', '--hub', h.url, '--ca', otherCaFile], { home });
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /\(TLS\): its certificate is not issued by a CA this machine trusts/);
  assert.doesNotMatch(wrong.stderr, /signature|refused at/);
  assert.deepEqual(events(home), [], 'a TLS failure is not a security event about signed content');

  const ok = await runCli(['pull', 'churn@1', '--hub', h.url, '--ca', caFile, '--json'], { home });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(lastJson(ok.stdout).version, 1);
  assert.equal(fs.readFileSync(path.join(home, 'trust', fs.readdirSync(path.join(home, 'trust'))[0], 'ca.pem'), 'utf8').trim(), ca.certPem.trim());

  // later commands: no --ca
  const check = await runCli(['models', 'check'], { home });
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /metadata refreshed and verified/);
  assert.match(check.stdout, /churn@1: signed/);

  // enroll and sync over HTTPS with the stored CA
  const { code } = await createEnrollment(h.hub, { name: 'desk-tls' });
  const conn = await runCli(['connect', '--hub', h.url, '--code', code], { home });
  assert.equal(conn.code, 0, conn.stderr);
  const sync = await runCli(['sync', '--json'], { home });
  assert.equal(sync.code, 0, sync.stderr);
  assert.equal((lastJson(sync.stdout).metadata as { refreshed: boolean }).refreshed, true);
});

test('plain http to the TLS port and https to a plain-http port fail clearly', async () => {
  const plain = await runCli(['pull', 'churn@1', '--hub', `http://127.0.0.1:${port}`, '--root', h.trustRoot], { home: path.join(work, 'plain') });
  assert.equal(plain.code, 1, plain.stderr);
  assert.match(plain.stderr, new RegExp(`the hub at http://127\\.0\\.0\\.1:${port} is unreachable \\(it closed the connection without answering: .*; if the hub is served over HTTPS, use https://127\\.0\\.0\\.1:${port}\\)`));

  const httpHub = await startTestHub();
  try {
    const httpsToPlain = await runCli(['pull', 'churn@1', '--hub', httpHub.url.replace('http:', 'https:'), '--root', httpHub.trustRoot], { home: path.join(work, 'wrong-scheme') });
    assert.equal(httpsToPlain.code, 1, httpsToPlain.stderr);
    assert.match(httpsToPlain.stderr, /\(TLS\): it does not speak TLS on this port .*is it served over plain http:\/\/\?/);
  } finally {
    await httpHub.close();
  }
});

test('a certificate for another host name, or expired, is refused with that reason', () => {
  const cause = (code: string, message: string, reason?: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code, reason }) });
  assert.match(connectionFailure('https://hub.example:8470', cause('ERR_TLS_CERT_ALTNAME_INVALID', 'x', "Host: hub.example. is not in the cert's altnames: DNS:other")).message,
    /cannot connect securely to the hub at https:\/\/hub\.example:8470 \(TLS\): its certificate is not for this host name \(Host: hub\.example\. is not in the cert's altnames: DNS:other\)/);
  assert.match(connectionFailure('https://hub.example', cause('CERT_HAS_EXPIRED', 'certificate has expired')).message, /\(TLS\): its certificate has expired/);
  assert.equal(connectionFailure('http://hub.example', cause('ECONNREFUSED', 'connect ECONNREFUSED')).tls, false);
});

test('tokens and enrollment codes never go over plain http to another machine without --allow-http', async () => {
  assert.equal(isSafeTransport('https://hub.example'), true);
  assert.equal(isSafeTransport('http://127.0.0.1:8470'), true);
  assert.equal(isSafeTransport('http://localhost:8470'), true);
  assert.equal(isSafeTransport('http://[::1]:8470'), true);
  assert.equal(isSafeTransport('http://hub.example'), false);
  assert.equal(isSafeTransport('http://127.example.com'), false);
  assert.doesNotThrow(() => requireSafeTransport('http://hub.example', 'publisher token', true));

  const team = h.publishers['churn-team'];
  const pkg = makePackage(work, 'churn', 2);
  // 192.0.2.0/24 is TEST-NET-1: nothing answers there, and nothing is even tried
  const pub = await runMain(['--home', publisherHome, 'publish', pkg, '--hub', 'http://192.0.2.7:8470', '--key', team.key.file, '--token', team.token, '--no-smoke']);
  assert.equal(pub.code, 2, pub.err);
  assert.match(pub.err, /refusing to send the publisher token over plain http to http:\/\/192\.0\.2\.7:8470: anyone on the network path could read it.*--allow-http/);
  const meta = write('update.json', '{}');
  const up = await runMain(['--home', publisherHome, 'hub', 'upload-metadata', meta, '--hub', 'http://192.0.2.7:8470', '--token', 'x']);
  assert.equal(up.code, 2, up.err);
  assert.match(up.err, /refusing to send the admin token over plain http/);
  const enroll = await runMain(['--home', path.join(work, 'enroll'), 'connect', '--hub', 'http://192.0.2.7:8470', '--code', 'ABCD-EFGH-JKMN-PQRS', '--root', h.trustRoot]);
  assert.equal(enroll.code, 2, enroll.err);
  assert.match(enroll.err, /refusing to send the enrollment code over plain http/);
});

test('hub serve --tls-cert/--tls-key: HTTPS URL, certificate checked at start, expiry warned 30 days ahead', async () => {
  const dir = tmpDir('outpost-tls-serve-');
  const off = `${dir}.offline-keys`;
  try {
    assert.equal((await runMain(['--home', publisherHome, 'hub', 'init', '--dir', dir, '--offline-keys', off])).code, 0);
    const soon = issue({ cn: 'hub.test', hosts: ['127.0.0.1'], issuer: ca, days: 10 });
    const cert = write('soon.pem', soon.certPem);
    const key = write('soon.key', soon.keyPem);
    const serve = (args: string[]) => {
      const stop = new AbortController();
      return runMain(['--home', publisherHome, 'hub', 'serve', '--dir', dir, '--port', '0', '--json', ...args], { signal: stop.signal, onLine: (l) => { if (l.includes('"listening"')) stop.abort(); } });
    };
    const served = await serve(['--tls-cert', cert, '--tls-key', key]);
    assert.equal(served.code, 0, served.err);
    const listening = served.out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'listening')!;
    assert.match(String(listening.url), /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(listening.tls, true);
    assert.match(served.err, /WARNING: the TLS certificate .*soon\.pem expires .* \(within 30 days\): devices refuse an expired certificate/);

    const mismatch = await runMain(['--home', publisherHome, 'hub', 'serve', '--dir', dir, '--port', '0', '--tls-cert', cert, '--tls-key', write('other.key', leaf.keyPem)]);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.err, /other\.key: the private key does not belong to the certificate .*soon\.pem/);
    const notCert = await runMain(['--home', publisherHome, 'hub', 'serve', '--dir', dir, '--port', '0', '--tls-cert', key, '--tls-key', key]);
    assert.equal(notCert.code, 1);
    assert.match(notCert.err, /soon\.key: not a PEM certificate/);
    const half = await runMain(['--home', publisherHome, 'hub', 'serve', '--dir', dir, '--tls-cert', cert]);
    assert.equal(half.code, 2);
    assert.match(half.err, /--tls-cert and --tls-key go together/);
    const plainFleet = await serve(['--host', '0.0.0.0']);
    assert.equal(plainFleet.code, 0, plainFleet.err);
    assert.match(plainFleet.err, /WARNING: serving plain HTTP on 0\.0\.0\.0: publisher and admin tokens would cross the network in clear/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(off, { recursive: true, force: true });
  }
});

// Last in this file: it makes THIS process trust the test CA (the app's service runs in-process here).
test('the app connects to an HTTPS hub with a CA given once, then pulls through the contract with no further CA', { timeout: 180_000 }, async () => {
  const appHome = path.join(work, 'app');
  const service = createService({ home: appHome });
  try {
    const first = await createEnrollment(h.hub, { name: 'desk-app-tls' });
    // The root and CA are read by path: outside the allowed folders they are refused unread.
    await assert.rejects(service.handlers['sync.connect']({ hubUrl: h.url, code: first.code, caPath: caFile }), /the app may not read .*ca\.pem/);
    await assert.rejects(service.handlers['sync.connect']({ hubUrl: h.url, code: first.code, rootPath: h.trustRoot }), /the app may not read/);
    await service.handlers['settings.update']({ patch: { allowedFolders: [work, path.dirname(h.trustRoot)] } });
    await assert.rejects(service.handlers['sync.connect']({ hubUrl: h.url, code: first.code, rootPath: h.trustRoot }),
      /cannot connect securely to the hub at https:\/\/127\.0\.0\.1:\d+ \(TLS\): its certificate is not issued by a CA this machine trusts/);
    assert.equal((await service.handlers['sync.status']({})).connected, false);
    await assert.rejects(service.handlers['sync.connect']({ hubUrl: h.url, code: first.code, caPath: path.join(work, 'nope.pem') }), /cannot read the CA certificate/);
    const v = await service.handlers['sync.connect']({ hubUrl: h.url, code: first.code, caPath: caFile });
    assert.equal(v.connected, true);
    assert.equal(v.hub?.url, h.url);
    assert.ok(fs.existsSync(storedCaFile(appHome, h.url)), 'the CA is kept with the hub');
    const r = await service.handlers['models.pull']({ ref: 'churn@1' });
    assert.deepEqual([r.name, r.version, r.active, r.hub], ['churn', 1, true, h.url]);
  } finally {
    await service.close();
  }
});
