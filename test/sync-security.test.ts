// The hub's fleet API against hostile and broken requests, on SQLite and on PostgreSQL: unsigned,
// wrongly signed, tampered, replayed, stale, impersonating, revoked, oversized and over-quota
// requests; wrong, expired and reused enrollment codes (nothing registered); admin endpoints
// without the admin token. Every refusal leaves the hub's ledger unchanged.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { createEnrollment, revokeDevice } from '../src/hub/node/devices.ts';
import { listFleetEvents } from '../src/hub/node/fleet-query.ts';
import { REVOKED_REQUEST_KIND, type RevokedRequestDetail } from '../src/hub/node/revoked-requests.ts';
import { verifySignedRequest } from '../src/hub/node/sync-auth.ts';
import { generateKeyFile } from '../src/keys/node/keys.ts';
import { enqueue } from '../src/store/node/outbox.ts';
import { openStore } from '../src/store/node/store.ts';
import { hubConnection } from '../src/store/node/sync-state.ts';
import { encodeFrames, type WireItem } from '../src/sync/common/protocol.ts';
import { deviceKey, enrollProofText, publicKeyPem, signRequest } from '../src/sync/node/device.ts';
import { SyncError } from '../src/sync/node/http.ts';
import { runSync, SYNC_PATH } from '../src/sync/node/sync.ts';
import { lastJson, runMain } from './helpers/cli.ts';
import { hubBackends } from './helpers/hub-backends.ts';
import { startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { stopPostgres } from './helpers/postgres.ts';
import { enrollWorkstation, type Workstation } from './helpers/sync-fleet.ts';

const work = tmpDir('outpost-sync-sec-');
after(async () => { await stopPostgres(); fs.rmSync(work, { recursive: true, force: true }); });

const CT = 'application/x-outpost-items+gzip';
const security = (seq: number): WireItem => ({ seq, kind: 'security', createdAt: Date.now(), payload: { kind: 'test', model: null, detail: `probe ${seq}`, at: new Date().toISOString() }, blobs: [] });
const bodyOf = (items: WireItem[]): Buffer => zlib.gzipSync(encodeFrames(items));

for (const backend of hubBackends()) {
  describe(`fleet API security on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestHub;
    let ws: Workstation;
    let other: Workstation;
    before(async () => {
      t = await startTestHub({ db: await backend.db(), config: { syncMaxBodyBytes: 64 * 1024, syncDeviceBytesPerDay: 256 * 1024 } });
      ws = await enrollWorkstation(t.hub, t.url, t.trustRoot, fs.mkdtempSync(path.join(work, backend.name)), 'ws-1');
      other = await enrollWorkstation(t.hub, t.url, t.trustRoot, fs.mkdtempSync(path.join(work, backend.name)), 'ws-2');
    });
    after(async () => { ws.store.close(); other.store.close(); await t.close(); });

    const ledger = async (): Promise<number> => Number((await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_items'))[0].n);
    const devices = async (): Promise<number> => Number((await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_devices'))[0].n);
    const post = (body: Buffer, headers: Record<string, string>) => fetch(`${t.url}${SYNC_PATH}`, { method: 'POST', body, headers: { 'content-type': CT, ...headers } });
    const signed = (w: Workstation, body: Buffer, over: { now?: number; device?: string } = {}) =>
      signRequest({ deviceId: over.device ?? hubConnection(w.store)!.deviceId }, deviceKey(w.home, false), 'POST', SYNC_PATH, body, over.now);
    const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

    test('a correctly signed request is ingested; the same request again is a replay and changes nothing', async () => {
      const body = bodyOf([security(1_000_001)]);
      const headers = signed(ws, body);
      const first = await post(body, headers);
      assert.equal(first.status, 200);
      assert.deepEqual((await first.json() as { acked: number[] }).acked, [1_000_001]);
      const n = await ledger();
      const again = await post(body, headers);
      assert.equal(again.status, 401);
      assert.equal((await errorOf(again)).code, 'replay');
      assert.equal(await ledger(), n);
      // a fresh signature over the same item: acknowledged again, stored once
      const dup = await post(body, signed(ws, body));
      assert.equal(dup.status, 200);
      assert.deepEqual((await dup.json() as { acked: number[] }).acked, [1_000_001]);
      assert.equal(await ledger(), n);
    });

    test('unsigned, wrongly signed, tampered, stale and impersonating requests are refused', async () => {
      const n = await ledger();
      const body = bodyOf([security(1_000_002)]);
      const cases: [string, Record<string, string>, Buffer, number, string][] = [];
      cases.push(['unsigned', {}, body, 401, 'unsigned']);
      const stranger = generateKeyFile(path.join(work, `${backend.name}-stranger.key`));
      cases.push(['signed by a key the hub does not know', signRequest({ deviceId: hubConnection(ws.store)!.deviceId }, stranger, 'POST', SYNC_PATH, body), body, 401, 'bad-signature']);
      cases.push(['body changed after signing', signed(ws, body), bodyOf([security(1_000_003)]), 401, 'bad-digest']);
      cases.push(['time 10 minutes old', signed(ws, body, { now: Date.now() - 600_000 }), body, 401, 'stale']);
      cases.push(['time 10 minutes ahead', signed(ws, body, { now: Date.now() + 600_000 }), body, 401, 'stale']);
      cases.push(['ws-1 writing as ws-2', signed(ws, body, { device: hubConnection(other.store)!.deviceId }), body, 401, 'bad-signature']);
      cases.push(['unknown device id', signed(ws, body, { device: 'dev_aaaaaaaaaaaaaaaaaaaa' }), body, 401, 'unknown-device']);
      const h = signed(ws, body);
      cases.push(['signature of another request (other path)', { ...h, 'x-outpost-signature': crypto.sign(null, Buffer.from('x'), deviceKey(ws.home, false).privateKey).toString('base64') }, body, 401, 'bad-signature']);
      for (const [what, headers, b, status, code] of cases) {
        const res = await post(b, headers);
        assert.equal(res.status, status, what);
        assert.equal((await errorOf(res)).code, code, what);
      }
      assert.equal(await ledger(), n, 'nothing stored');
    });

    test('malformed bodies: not gzip, not frames, bad item headers — 400, nothing stored', async () => {
      const n = await ledger();
      for (const b of [Buffer.from('hello'), zlib.gzipSync(Buffer.from('not frames')), zlib.gzipSync(Buffer.concat([Buffer.from('OPS1'), Buffer.from([255, 255, 0, 0])]))]) {
        const res = await post(b, signed(ws, b));
        assert.equal(res.status, 400);
      }
      assert.equal(await ledger(), n);
    });

    test('items of unknown kinds or invalid payloads are rejected one by one; the rest of the request is taken', async () => {
      const items: WireItem[] = [
        { seq: 1_000_010, kind: 'from-the-future', createdAt: Date.now(), payload: {}, blobs: [] },
        { seq: 1_000_011, kind: 'alert', createdAt: Date.now(), payload: { state: 'exploded' }, blobs: [] },
        { seq: 1_000_012, kind: 'predictions', createdAt: Date.now(), payload: { jobId: 'j1', model: 'm', version: 1, batches: [{ seq: 0, firstRow: 1, rowCount: 5, loggedAt: 1, inputs: false }] }, blobs: [Buffer.from('garbage!')] },
        { seq: 1_000_013, kind: 'drift', createdAt: Date.now(), payload: { model: 'm', version: 1, cardSha256: 'a'.repeat(64), hours: [{ start: 3_600_000, features: {} }] }, blobs: [] },
        security(1_000_014),
      ];
      const body = bodyOf(items);
      const res = await post(body, signed(ws, body));
      assert.equal(res.status, 200);
      const r = await res.json() as { acked: number[]; rejected: { seq: number; reason: string }[]; deferred: { seq: number; reason: string }[] };
      assert.deepEqual(r.acked, [1_000_014]);
      assert.deepEqual(r.rejected.map((x) => x.seq), [1_000_010, 1_000_011, 1_000_012]);
      assert.match(r.rejected[0].reason, /does not know item kind/);
      assert.match(r.rejected[2].reason, /batch 0/);
      assert.deepEqual(r.deferred.map((x) => x.seq), [1_000_013], 'drift of a card the hub has not seen waits');
    });

    test('oversized bodies get 413 and over-quota devices 429, nothing stored', async () => {
      const n = await ledger();
      const big = Buffer.from(crypto.randomBytes(80 * 1024)); // incompressible, over the 64 KiB body limit
      const res = await post(big, signed(ws, big));
      assert.equal(res.status, 413);
      // the daily quota (256 KiB): ~35 KiB bodies of random-text items until it refuses
      let status = 200;
      let sent = 0;
      for (let i = 0; i < 12 && status === 200; i++) {
        const b = bodyOf([0, 1, 2].map((k) => ({ ...security(1_000_100 + 3 * i + k), payload: { kind: 'x', model: null, detail: crypto.randomBytes(11 * 1024).toString('base64'), at: 'now' } })));
        const r = await post(b, signed(other, b));
        status = r.status;
        if (status === 200) { assert.equal((await r.json() as { acked: number[] }).acked.length, 3); sent += 3; }
        else {
          assert.equal(status, 429);
          assert.ok(Number(r.headers.get('retry-after')) > 0);
          assert.match((await errorOf(r)).message, /upload quota/);
        }
      }
      assert.equal(status, 429, 'the quota was reached');
      assert.ok(sent >= 9 && sent < 36);
      assert.equal(await ledger(), n + sent);
    });

    test('enrollment: wrong, malformed, expired and reused codes and a missing key proof register nothing', async () => {
      const n = await devices();
      const key = generateKeyFile(path.join(work, `${backend.name}-new.key`));
      const pem = publicKeyPem(key);
      const enroll = (code: string, proofKey = key) => fetch(`${t.url}/api/v1/enroll`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code, publicKey: pem, proof: crypto.sign(null, Buffer.from(enrollProofText(code, pem)), proofKey.privateKey).toString('base64') }),
      });
      const unknown = await enroll('ABCD-EFGH-JKMN-PQRS');
      assert.equal(unknown.status, 403);
      assert.match((await errorOf(unknown)).message, /unknown/);
      assert.equal((await enroll('short')).status, 403);
      const expired = await createEnrollment(t.hub, { name: 'late', ttlSeconds: 60, now: Date.now() - 120_000 });
      const e = await enroll(expired.code);
      assert.equal(e.status, 403);
      assert.match((await errorOf(e)).message, /expired/);
      const ok = await createEnrollment(t.hub, { name: 'fresh' });
      const stranger = generateKeyFile(path.join(work, `${backend.name}-other.key`));
      assert.equal((await enroll(ok.code, stranger)).status, 401, 'proof signed by another key');
      assert.equal(await devices(), n, 'nothing registered so far');
      assert.equal((await enroll(ok.code)).status, 200);
      const reused = await enroll(ok.code);
      assert.equal(reused.status, 403);
      assert.match((await errorOf(reused)).message, /already used/);
      assert.equal(await devices(), n + 1);
      // and through the CLI: a clear message, exit 1, and no device key kept
      const cliHome = path.join(work, `${backend.name}-cli`);
      const cli = await runMain(['--home', cliHome, 'connect', '--hub', t.url, '--root', t.trustRoot, '--code', ok.code]);
      assert.equal(cli.code, 1);
      assert.match(cli.err, /already used/);
      const left = fs.existsSync(cliHome) ? fs.readdirSync(cliHome, { recursive: true }).map(String).filter((f) => /device\.key/.test(f)) : [];
      assert.deepEqual(left, [], 'a refused enrollment leaves no device key');
      if (fs.existsSync(path.join(cliHome, 'device'))) assert.equal(fs.statSync(path.join(cliHome, 'device')).mode & 0o777, 0o700, 'the device folder is owner-only');
      // the next attempt with a good code then works from the same folder
      const good = await createEnrollment(t.hub, { name: `after-refusal-${backend.name}` });
      const again = await runMain(['--home', cliHome, 'connect', '--hub', t.url, '--root', t.trustRoot, '--code', good.code]);
      assert.equal(again.code, 0, again.err);
    });

    test('enrollment codes: listed without the code itself, and a cancelled one is refused at once', async () => {
      const made = await createEnrollment(t.hub, { name: 'desk-cancel', group: 'line-9' });
      const codes = async () => {
        const r = await runMain(['--json', 'hub', 'devices', 'codes', '--dir', t.dir]);
        assert.equal(r.code, 0, r.err);
        assert.ok(!r.out.includes(made.code) && !r.out.includes(made.code.replace(/-/g, '')), 'the code is never shown (the hub keeps its hash)');
        return new Map((lastJson(r.out) as { codes: { name: string; group: string; state: string; expiresAt: string; createdAt: string }[] }).codes.map((c) => [c.name, c]));
      };
      let listed = await codes();
      assert.deepEqual([listed.get('desk-cancel')?.group, listed.get('desk-cancel')?.state, listed.get('desk-cancel')?.expiresAt], ['line-9', 'outstanding', made.expiresAt]);
      assert.equal(listed.get('late')?.state, 'expired', 'the expired code of the test above');
      assert.equal(listed.has('fresh'), false, 'a used code is not listed');
      const text = await runMain(['hub', 'devices', 'codes', '--dir', t.dir]);
      assert.match(text.out, /desk-cancel \[line-9\]  outstanding, expires /);

      const cancelled = await runMain(['hub', 'devices', 'codes', 'cancel', 'desk-cancel', '--dir', t.dir]);
      assert.equal(cancelled.code, 0, cancelled.err);
      assert.match(cancelled.out, /cancelled the enrollment code for "desk-cancel"/);
      listed = await codes();
      assert.equal(listed.get('desk-cancel')?.state, 'cancelled');
      const n = await devices();
      const home = path.join(work, `${backend.name}-cancelled`);
      const refused = await runMain(['--home', home, 'connect', '--hub', t.url, '--root', t.trustRoot, '--code', made.code]);
      assert.equal(refused.code, 1);
      assert.match(refused.err, /the enrollment code was cancelled by the hub operator at .*; ask the hub operator for a new one/);
      assert.equal(await devices(), n, 'nothing registered');
      // the admin API lists the same (and cancels the same way)
      const api = await fetch(`${t.url}/api/v1/enrollments`, { headers: { authorization: `Bearer ${t.adminToken}` } });
      const apiText = await api.text();
      assert.equal(api.status, 200, apiText);
      assert.ok(!apiText.includes(made.code) && !apiText.includes(made.code.replace(/-/g, '')));
      assert.deepEqual((JSON.parse(apiText) as { codes: unknown[] }).codes, [...listed.values()]);
      const again = await runMain(['hub', 'devices', 'codes', 'cancel', 'desk-cancel', '--dir', t.dir]);
      assert.equal(again.code, 0);
      assert.match(again.out, /was already cancelled/);
      const used = await runMain(['hub', 'devices', 'codes', 'cancel', 'fresh', '--dir', t.dir]);
      assert.equal(used.code, 1);
      assert.match(used.err, /the enrollment code for "fresh" was already used: the device is enrolled/);
      const none = await runMain(['hub', 'devices', 'codes', 'cancel', 'nobody', '--dir', t.dir]);
      assert.equal(none.code, 1);
      assert.match(none.err, /no enrollment code for "nobody"/);
      const viaApi = (name: string) => fetch(`${t.url}/api/v1/enrollments/${name}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}` } });
      assert.equal((await viaApi('nobody')).status, 404);
      await createEnrollment(t.hub, { name: 'desk-api' });
      const byApi = await viaApi('desk-api');
      assert.equal(byApi.status, 200);
      assert.deepEqual([(await byApi.json() as { state: string }).state, (await codes()).get('desk-api')?.state], ['cancelled', 'cancelled']);
      assert.equal((await runMain(['hub', 'devices', 'codes', 'cancel', '--dir', t.dir])).code, 2, 'the name is required');
      // a new code for the same name replaces the cancelled one and enrolls
      const fresh = await createEnrollment(t.hub, { name: 'desk-cancel', group: 'line-9' });
      const ok = await runMain(['--home', home, 'connect', '--hub', t.url, '--root', t.trustRoot, '--code', fresh.code]);
      assert.equal(ok.code, 0, ok.err);
      assert.equal((await codes()).has('desk-cancel'), false);
    });

    test('admin endpoints need the admin token', async () => {
      for (const [method, p] of [['GET', '/api/v1/devices'], ['POST', '/api/v1/devices/ws-1/revoke'], ['GET', '/api/v1/events']] as const) {
        assert.equal((await fetch(`${t.url}${p}`, { method })).status, 401, `${method} ${p}`);
        assert.equal((await fetch(`${t.url}${p}`, { method, headers: { authorization: 'Bearer opadm_wrong' } })).status, 401);
      }
      const res = await fetch(`${t.url}/api/v1/devices`, { headers: { authorization: `Bearer ${t.adminToken}` } });
      assert.equal(res.status, 200);
      assert.ok((await res.json() as { devices: { name: string }[] }).devices.some((d) => d.name === 'ws-1'));
    });

    test('a revoked workstation gets 403 and says so; nothing it sends is stored', async () => {
      await revokeDevice(t.hub, 'ws-1');
      const n = await ledger();
      ws.store.db.transaction(() => enqueue(ws.store, 'security', { kind: 'after-revoke', model: null, detail: 'x', at: 'now' }))();
      await assert.rejects(runSync(ws.store, { refreshMetadata: false }), (e: unknown) => e instanceof SyncError && e.status === 403 && /revoked/.test(e.message));
      assert.equal(await ledger(), n);
      const cli = await runMain(['--home', ws.home, 'sync', '--json']);
      assert.equal(cli.code, 1);
      assert.match(cli.err, /revoked by the hub operator/);
      const st = await runMain(['--home', ws.home, 'sync', 'status', '--json']);
      assert.match(String((lastJson(st.out) as { lastError: { message: string } }).lastError.message), /revoked/);
      // each refused request is a security event on the hub: one row per device and hour, the repeats counted on it
      const revokedEvents = async () => (await listFleetEvents(t.hub, { kinds: ['security'], device: 'ws-1' })).filter((e) => e.kind === REVOKED_REQUEST_KIND);
      let events = await revokedEvents();
      assert.equal(events.length, 1);
      const attempts = (events[0].detail as RevokedRequestDetail).attempts;
      assert.ok(attempts >= 2, `runSync's and the CLI's sync, each refused (${attempts})`);
      assert.match(events[0].summary, new RegExp(`^refused ${attempts} signed requests from revoked device ws-1 \\(last: POST /api/v1/sync/items\\) since `));
      const shown = await runMain(['hub', 'events', '--kind', 'security', '--device', 'ws-1', '--dir', t.dir]);
      assert.match(shown.out, /ws-1  security-revoked-device-request  refused \d+ signed requests from revoked device ws-1/);
      // a revoked device that keeps retrying does not flood the table
      const body = bodyOf([security(2_000_001)]);
      for (let i = 0; i < 25; i++) assert.equal((await post(body, signed(ws, body))).status, 403);
      events = await revokedEvents();
      assert.equal(events.length, 1);
      assert.equal((events[0].detail as RevokedRequestDetail).attempts, attempts + 25);
      // the next hour starts a row of its own; another device's requests are not counted on it
      const later = Date.now() + 3_600_000;
      await assert.rejects(verifySignedRequest(t.hub, { method: 'POST', path: SYNC_PATH, headers: signed(ws, body, { now: later }), body }, later), /was revoked by the hub operator/);
      assert.equal((await revokedEvents()).length, 2);
      assert.equal((await post(body, signed(other, body))).status, 200);
      assert.equal((await listFleetEvents(t.hub, { kinds: ['security'], device: 'ws-2' })).filter((e) => e.kind === REVOKED_REQUEST_KIND).length, 0);
      // what the message says to do works: enrolled again under a new name, connected with --replace
      assert.match(cli.err, /outpost connect --replace --code/);
      const oldKey = fs.readFileSync(path.join(ws.home, 'device', 'device.key'), 'utf8');
      const back = await createEnrollment(t.hub, { name: 'ws-1b' });
      const plain = await runMain(['--home', ws.home, 'connect', '--hub', t.url, '--code', back.code]);
      assert.equal(plain.code, 1);
      assert.match(plain.err, /already connected .* give a new code with --replace/);
      const replaced = await runMain(['--home', ws.home, 'connect', '--hub', t.url, '--code', back.code, '--replace', '--json']);
      assert.equal(replaced.code, 0, replaced.err);
      assert.equal((lastJson(replaced.out) as { name: string }).name, 'ws-1b');
      assert.notEqual(fs.readFileSync(path.join(ws.home, 'device', 'device.key'), 'utf8'), oldKey, 'a new device key');
      assert.equal(fs.statSync(path.join(ws.home, 'device', 'device.key')).mode & 0o777, 0o600);
      assert.deepEqual(fs.readdirSync(path.join(ws.home, 'device')).sort(), ['device.key', 'device.key.pub'], 'no pending key left');
      ws.store.close();
      ws.store = openStore(ws.home);
      const synced = await runMain(['--home', ws.home, 'sync', '--json']);
      assert.equal(synced.code, 0, synced.err);
      assert.ok(await ledger() > n, 'the workstation syncs again as ws-1b');
    });
  });
}
