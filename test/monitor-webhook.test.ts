// The drift-alert webhook against real loopback HTTP servers: each new alert is POSTed once (as
// JSON, one message per job checkpoint that opens alerts, listing every scope's), scoring never waits for the endpoint (a
// server that never answers does not hold a job up), a dead or failing endpoint is retried with
// backoff under the same delivery id and finally given up with the reason, and the setting
// accepts only http(s) URLs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { BACKOFF_MS, deliverDueWebhooks, listWebhookDeliveries, MAX_ATTEMPTS, type AlertMessage } from '../src/monitor/node/webhook.ts';
import { openStore, updateSettings } from '../src/store/node/store.ts';
import { lastJson, REPO, runMain } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
const servers: http.Server[] = [];
after(async () => {
  for (const s of servers) { s.closeAllConnections(); await new Promise((r) => s.close(r)); }
  fs.rmSync(root, { recursive: true, force: true });
});

interface Received { headers: http.IncomingHttpHeaders; body: AlertMessage }

/** A loopback server answering each POST with `status(n)` (n = 1, 2, …); 'hang' never answers. */
async function server(status: (n: number) => number | 'hang'): Promise<{ url: string; received: Received[]; next: () => Promise<Received>; sockets: Set<Socket> }> {
  const received: Received[] = [];
  const waiting: ((r: Received) => void)[] = [];
  const sockets = new Set<Socket>();
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d; });
    req.on('end', () => {
      const r = { headers: req.headers, body: JSON.parse(body) as AlertMessage };
      received.push(r);
      waiting.shift()?.(r);
      const st = status(received.length);
      if (st === 'hang') return;
      res.writeHead(st).end();
    });
  });
  s.on('connection', (c) => { sockets.add(c); c.on('close', () => sockets.delete(c)); });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  let seen = 0;
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/hooks/drift`,
    received, sockets,
    next: () => (received.length > seen ? Promise.resolve(received[seen++]) : new Promise((r) => waiting.push((x) => { seen++; r(x); }))),
  };
}

const lines = fs.readFileSync(path.join(REPO, 'models/demo/weather-2015.csv'), 'utf8').trimEnd().split('\n');
const summer = path.join(root, 'summer-2015.csv');
fs.writeFileSync(summer, [lines[0], ...lines.slice(1).filter((l) => l >= '2015-06' && l < '2015-09')].join('\n') + '\n');

/**
 * The demo package with KS / chi-square verdicts (its own card follows Evidently's defaults, whose
 * distances give no verdict on the 92 summer days): alerts for the webhook to send.
 */
function demoWithTests(): string {
  const dir = path.join(root, 'pkg-tests');
  if (fs.existsSync(dir)) return dir;
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(REPO, 'models/demo/weather/model.onnx'), path.join(dir, 'model.onnx'));
  const card = JSON.parse(fs.readFileSync(path.join(REPO, 'models/demo/weather/card.json'), 'utf8')) as Record<string, unknown>;
  card.drift = { numeric: { method: 'ks' }, categorical: { method: 'chisquare' } };
  fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card));
  return dir;
}

async function home(name: string, url: string): Promise<string> {
  const h = path.join(root, name);
  assert.equal((await runMain(['--home', h, 'models', 'add', demoWithTests(), '--allow-unsigned'])).code, 0);
  const store = openStore(h);
  try { updateSettings(store, { driftWebhookUrl: url }); } finally { store.close(); }
  return h;
}

async function score(h: string, file: string): Promise<string> {
  const r = await runMain(['--home', h, 'score', file, '--model', 'seattle-weather', '--out', `${file}.${path.basename(h)}.${Math.random().toString(36).slice(2)}.csv`, '--json']);
  assert.equal(r.code, 0, r.err);
  return (lastJson(r.out).job as { id: string }).id;
}

const deliveries = (h: string) => {
  const store = openStore(h);
  try { return listWebhookDeliveries(store); } finally { store.close(); }
};

describe('drift-alert webhook', () => {
  test('one message per job lists the new alerts of every scope (job, hour, day); each new alert is posted once', async () => {
    const srv = await server(() => 204);
    const h = await home('live', srv.url);
    const job = await score(h, summer);
    const features = ['precipitation', 'prediction.label', 'prediction.p_drizzle', 'prediction.p_fog', 'prediction.p_rain', 'prediction.p_snow', 'prediction.p_sun', 'season', 'temp_max', 'temp_min', 'wind'].sort();
    // the job, its hour window and its day window each open the same 11 alerts: one message with all 33
    const msg = await srv.next();
    await waitFor(() => deliveries(h).every((d) => d.deliveredAt !== null));
    assert.equal(srv.received.length, 1, 'one message for the job, not one per scope');
    assert.deepEqual([msg.body.event, msg.body.model, msg.body.version, msg.body.job], ['drift.alerts.opened', 'seattle-weather', 1, job]);
    assert.deepEqual(msg.body.features, features);
    const byScope = (scope: string) => msg.body.alerts.filter((a) => a.scope === scope);
    assert.deepEqual(byScope('job').map((a) => a.feature).sort(), features);
    assert.ok(byScope('job').every((a) => a.scopeKey === job));
    for (const scope of ['hour', 'day']) {
      assert.deepEqual(byScope(scope).map((a) => a.feature).sort(), features, scope);
      assert.equal(new Set(byScope(scope).map((a) => a.scopeKey)).size, 1);
      assert.match(byScope(scope)[0].scopeKey, /^\d{4}-\d\d-\d\dT\d\d:00:00(\.000)?Z$/);
    }
    assert.equal(msg.body.alerts.length, 33);
    assert.deepEqual(msg.body.evaluations.map((e) => e.scope).sort(), ['day', 'hour', 'job']);
    assert.ok(msg.body.evaluations.every((e) => e.dataset.drifted === true));
    const tmax = byScope('job').find((a) => a.feature === 'temp_max')!;
    assert.deepEqual([tmax.method, tmax.nReference, tmax.nCurrent, tmax.threshold], ['ks', 1096, 92, 0.05]);
    assert.equal(msg.headers['content-type'], 'application/json');
    assert.match(String(msg.headers['x-outpost-delivery']), /^\d+$/);
    // the same data again, a new job: its own job alerts are new; the hour and day alerts are already open
    const job2 = await score(h, summer);
    const more = await srv.next();
    assert.equal(more.body.job, job2);
    assert.deepEqual([...new Set(more.body.alerts.map((a) => `${a.scope} ${a.scopeKey}`))], [`job ${job2}`]);
    assert.deepEqual(more.body.evaluations.map((e) => e.scope), ['job']);
    // everything delivered, nothing else sent: every (scope, key, feature) was posted exactly once
    await waitFor(() => deliveries(h).every((d) => d.deliveredAt !== null));
    const posted = srv.received.flatMap((m) => m.body.alerts.map((a) => `${a.scope} ${a.scopeKey} ${a.feature}`));
    assert.equal(posted.length, new Set(posted).size);
    assert.equal(posted.length, 44);
    assert.equal(srv.received.length, 2);
    assert.deepEqual(deliveries(h).map((d) => [d.attempts, d.lastError]), Array(2).fill([1, null]));
  });

  test('a dead endpoint never fails scoring; retried with backoff, then given up with the reason', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/hook`; // nothing listens there
    const h = await home('dead', dead);
    await score(h, summer);
    await waitFor(() => deliveries(h).length === 1 && deliveries(h).every((d) => d.attempts === 1));
    const first = deliveries(h);
    for (const d of first) {
      assert.equal(d.deliveredAt, null);
      assert.match(d.lastError!, /ECONNREFUSED|fetch failed/);
      assert.ok(d.nextAt - d.createdAt >= BACKOFF_MS[0], 'the next attempt waits for the backoff');
    }
    // not due yet: nothing is attempted
    assert.deepEqual(await deliverDueWebhooks(h), { delivered: 0, retrying: 0, failed: 0 });
    // jump past each backoff: retried until MAX_ATTEMPTS, then failed for good
    let t = Date.now();
    for (let i = 1; i < MAX_ATTEMPTS; i++) {
      t += BACKOFF_MS[i - 1] + 1000;
      const r = await deliverDueWebhooks(h, { now: () => t });
      assert.deepEqual(r, i < MAX_ATTEMPTS - 1 ? { delivered: 0, retrying: 1, failed: 0 } : { delivered: 0, retrying: 0, failed: 1 });
    }
    for (const d of deliveries(h)) {
      assert.equal(d.attempts, MAX_ATTEMPTS);
      assert.notEqual(d.failedAt, null);
    }
    assert.deepEqual(await deliverDueWebhooks(h, { now: () => t + 1e9 }), { delivered: 0, retrying: 0, failed: 0 });
  });

  test('a failing endpoint gets the same message again under the same delivery id', async () => {
    const srv = await server((n) => (n === 1 ? 503 : 200));
    const h = await home('flaky', srv.url);
    await score(h, summer);
    await waitFor(() => srv.received.length >= 1 && deliveries(h).every((d) => d.attempts >= 1));
    const failed = deliveries(h).find((d) => d.lastError === 'HTTP 503')!;
    assert.ok(failed, JSON.stringify(deliveries(h)));
    const r = await deliverDueWebhooks(h, { now: () => Date.now() + BACKOFF_MS[0] + 1000 });
    assert.equal(r.delivered, 1);
    const ids = srv.received.map((m) => m.headers['x-outpost-delivery']);
    assert.equal(ids.filter((id) => id === String(failed.id)).length, 2, 'sent twice, same id');
    const again = srv.received.filter((m) => m.headers['x-outpost-delivery'] === String(failed.id)).map((m) => m.body);
    assert.deepEqual(again[1], again[0], 'the same message');
  });

  test('an endpoint that never answers does not hold scoring up; the attempt times out', async () => {
    const srv = await server(() => 'hang');
    const h = await home('hang', srv.url);
    const job = await score(h, summer); // returns while the server still holds the request
    assert.match(job, /^j/);
    await srv.next();
    assert.equal(deliveries(h).filter((d) => d.deliveredAt !== null).length, 0);
    // an explicit attempt with a short timeout reports it
    const r = await deliverDueWebhooks(h, { now: () => Date.now() + 120_000, timeoutMs: 300 });
    assert.ok(r.retrying >= 1, JSON.stringify(r));
    assert.ok(deliveries(h).some((d) => /no answer within 0\.3 s/.test(d.lastError ?? '')), JSON.stringify(deliveries(h)));
    for (const c of srv.sockets) c.destroy();
  });

  test('outpost settings sets and shows it; a bad URL is bad usage', async () => {
    const h = path.join(root, 'settings-cli');
    const set = await runMain(['--home', h, 'settings', 'set', 'driftWebhookUrl', 'http://127.0.0.1:9/hook']);
    assert.equal(set.code, 0, set.err);
    assert.match((await runMain(['--home', h, 'settings', 'get', 'driftWebhookUrl'])).out, /^driftWebhookUrl  http:\/\/127\.0\.0\.1:9\/hook$/m);
    const bad = await runMain(['--home', h, 'settings', 'set', 'driftWebhookUrl', 'file:///etc/passwd']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /driftWebhookUrl.*http:\/\/ or https:\/\//);
    assert.equal((await runMain(['--home', h, 'settings', 'set', 'driftWebhookUrl', ''])).code, 0);
    assert.match((await runMain(['--home', h, 'settings'])).out, /^driftWebhookUrl +\(off\)/m);
  });

  test('the setting takes only http(s) URLs (or empty: off)', () => {
    const store = openStore(path.join(root, 'settings'));
    try {
      for (const bad of ['ftp://example.org/x', 'javascript:alert(1)', 'http//no', 'x'.repeat(3000)]) {
        assert.throws(() => updateSettings(store, { driftWebhookUrl: bad }), /driftWebhookUrl/);
      }
      assert.equal(updateSettings(store, { driftWebhookUrl: 'https://hooks.example.org/drift?k=1' }).driftWebhookUrl, 'https://hooks.example.org/drift?k=1');
      assert.equal(updateSettings(store, { driftWebhookUrl: '' }).driftWebhookUrl, '');
    } finally {
      store.close();
    }
  });
});

/** Wait (polling, no time assertion) until `ok()` holds; a generous cap turns a hang into a failure. */
async function waitFor(ok: () => boolean, capMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > capMs) assert.fail('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
