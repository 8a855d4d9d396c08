// The hub console end to end: `outpost hub serve` (in-process, loopback) with three workstations
// enrolled through the real path that scored the demo file and synced; Chromium signs in with the
// admin token and every screen's numbers are compared with the hub's database (through the same
// queries the `outpost hub …` commands use, and with plain SQL). Without the session every console
// API route answers 401; a foreign Host is refused; malformed URLs and cookies get a 4xx and the
// hub keeps serving. Screenshots go to test-artifacts/screenshots/hub-console-*.png.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { listDevices } from '../../src/hub/node/devices.ts';
import { modelsOverview } from '../../src/hub/node/fleet-models.ts';
import { listFleetEvents } from '../../src/hub/node/fleet-query.ts';
import { publishPackage } from '../../src/hub/node/publish-client.ts';
import { createRollout, rolloutStatus } from '../../src/hub/node/rollouts.ts';
import { outboxSummary } from '../../src/store/node/outbox.ts';
import { runSync } from '../../src/sync/node/sync.ts';
import { hubServeInProcess, launchChromium, shot, type Served } from '../helpers/app-browser.ts';
import { startTestHub, tmpDir, type TestHub } from '../helpers/hub-fixtures.ts';
import { jsonLines, runMain } from '../helpers/cli.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { DEMO_PACKAGE, enrollWorkstation, SAMPLE, score, splitCsv, type Workstation } from '../helpers/sync-fleet.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the hub console browser tests: ${launched.skip}`);

/** Every admin route the console's screens read (each must refuse a caller without the session). */
const CONSOLE_ROUTES = ['/api/v1/session', '/api/v1/devices', '/api/v1/devices?group=line-1', '/api/v1/devices/ws-a', '/api/v1/events', '/api/v1/events?kind=alert',
  '/api/v1/fleet/models', '/api/v1/fleet/drift', '/api/v1/fleet/drift?model=seattle-weather%401&group=line-1&width=hour', '/api/v1/rollouts', '/api/v1/publishers'];

describe('hub console (Chromium, real hub on loopback)', () => {
  let t: TestHub;
  let served: Served;
  let dir: string;
  const fleet: Workstation[] = [];
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  const base = () => `http://127.0.0.1:${served.port}`;
  const hubAlive = async () => {
    const r = await fetch(`${base()}/healthz`);
    assert.equal(r.status, 200, 'the hub still serves');
    await r.arrayBuffer();
  };
  const signedInCookie = async (): Promise<string> => {
    const r = await fetch(`${base()}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base() }, body: JSON.stringify({ token: t.adminToken }) });
    assert.equal(r.status, 200, await r.clone().text());
    const c = r.headers.get('set-cookie') ?? '';
    assert.match(c, /HttpOnly/);
    assert.match(c, /SameSite=Strict/);
    return c.split(';')[0];
  };

  before(async () => {
    t = await startTestHub({ publishers: [{ name: 'weather-team', glob: 'seattle*' }] });
    await t.stop(); // the fixture's server goes; `outpost hub serve` serves the same hub folder
    served = await hubServeInProcess(t.dir);
    dir = tmpDir('outpost-console-e2e-');
    // the demo model published as v1 (production), then a v2 the alias moves to
    const pub = t.publishers['weather-team'];
    const v2 = path.join(dir, 'weather-v2');
    fs.cpSync(DEMO_PACKAGE, v2, { recursive: true });
    const card = JSON.parse(fs.readFileSync(path.join(v2, 'card.json'), 'utf8')) as { version: number };
    card.version = 2;
    fs.writeFileSync(path.join(v2, 'card.json'), JSON.stringify(card, null, 2));
    for (const packageDir of [DEMO_PACKAGE, v2]) await publishPackage({ packageDir, hubUrl: served.url, keys: [pub.key], token: pub.token, alias: 'production', checks: 'none' });
    const parts = splitCsv(SAMPLE, 3, dir);
    for (const [i, [name, group]] of ([['ws-a', 'line-1'], ['ws-b', 'line-1'], ['ws-c', 'line-2']] as const).entries()) {
      const ws = await enrollWorkstation(t.hub, served.url, t.trustRoot, dir, name, group);
      fleet.push(ws);
      await score(ws, parts[i], { batchRows: 100 });
      const r = await runSync(ws.store, { refreshMetadata: false });
      assert.deepEqual(r.rejected, []);
    }
    if (!('skip' in launched)) {
      browser = launched.browser;
      context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
      page = await context.newPage();
      page.setDefaultTimeout(30_000);
    }
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    for (const w of fleet) w.store.close();
    await served?.stop();
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('hub serve says where the console is and serves it under the strict CSP', async () => {
    const r = await fetch(`${base()}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.match(await r.text(), /<title>Outpost hub<\/title>/);
  });

  test('every console API route answers 401 without the session, with a wrong token, or a forged, expired or malformed cookie', async () => {
    const cookie = await signedInCookie();
    const [, value] = cookie.split('=');
    const [exp, nonce] = value.split('.');
    const forged = [
      undefined, 'outpost_hub_session=', 'outpost_hub_session=%ff%fe', `outpost_hub_session=${exp}.${nonce}.${'A'.repeat(43)}`,
      `outpost_hub_session=${Number(exp) + 1}.${value.split('.').slice(1).join('.')}`, // a longer life is not signed
      `outpost_hub_session=1.${value.split('.').slice(1).join('.')}`, 'outpost_hub_session=' + 'x'.repeat(3000),
    ];
    for (const route of CONSOLE_ROUTES) {
      for (const c of forged) {
        const r = await fetch(`${base()}${route}`, { headers: c === undefined ? {} : { cookie: c } });
        assert.equal(r.status, 401, `${route} with cookie ${c?.slice(0, 60)}`);
        await r.arrayBuffer();
      }
      const r = await fetch(`${base()}${route}`, { headers: { authorization: 'Bearer opadm_wrong' } });
      assert.equal(r.status, 401, `${route} with a wrong bearer token`);
      await r.arrayBuffer();
      const ok = await fetch(`${base()}${route}`, { headers: { cookie } });
      assert.equal(ok.status, 200, `${route} with the session`);
      await ok.arrayBuffer();
    }
    const wrong = await fetch(`${base()}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base() }, body: JSON.stringify({ token: 'opadm_not-it' }) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null, 'no cookie for a wrong token');
    await hubAlive();
  });

  test('a foreign Host is refused (DNS rebinding); a cross-origin sign-in or sign-out is refused', async () => {
    const cookie = await signedInCookie();
    for (const [target, extra] of [['/', ''], ['/api/v1/devices', `\r\nCookie: ${cookie}`], ['/api/v1/session', `\r\nCookie: ${cookie}`]] as const) {
      const r = await rawRequest(served.port, `GET ${target} HTTP/1.1\r\nHost: evil.example:${served.port}${extra}`);
      assert.equal(r.status, 421, `${target} under a foreign Host: ${r.body.slice(0, 200)}`);
    }
    const body = JSON.stringify({ token: t.adminToken });
    const r = await rawRequest(served.port, `POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\nOrigin: http://evil.example\r\nContent-Type: application/json\r\nContent-Length: ${body.length}`, body);
    assert.equal(r.status, 403);
    assert.doesNotMatch(r.head, /set-cookie/i);
    const noOrigin = await rawRequest(served.port, `POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}`, body);
    assert.equal(noOrigin.status, 403, 'a cookie-setting write must say where it comes from');
    // the admin token itself (the CLI's way) works under any Host: a foreign page cannot know it
    const bearer = await rawRequest(served.port, `GET /api/v1/devices HTTP/1.1\r\nHost: hub.internal:8470\r\nAuthorization: Bearer ${t.adminToken}`);
    assert.equal(bearer.status, 200);
    await hubAlive();
  });

  test('malformed and hostile URLs get a 4xx and the hub keeps serving', async () => {
    const cookie = await signedInCookie();
    const targets = ['/%ff', '/%', '/assets/%ff', '/assets/..%2f..%2fhub.json', '/assets/%2e%2e%2f%2e%2e%2fadmin.token', `/${'a'.repeat(5000)}`, `/api/v1/devices/${'b'.repeat(5000)}`,
      '/api/v1/devices/%ff', '/api/v1/devices/..%2f..%2fetc', '/api/v1/devices/%00', '/api/v1/devices?health=%ff', '/api/v1/devices?health=exploded', '/api/v1/events?since=yesterday', '/api/v1/events?limit=-1',
      '/api/v1/events?kind=alert&kind=%ff', '/api/v1/events?limit=1&limit=2', '/api/v1/fleet/drift?width=week', '/api/v1/fleet/drift?model=%ff', '/api/v1/fleet/drift?model=seattle-weather%401&feature=nope',
      '/api/v1/fleet/drift?model=nothing%409', '/api/v1/fleet/drift?last=100000'];
    for (const target of targets) {
      const r = await rawRequest(served.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\nCookie: ${cookie}`);
      assert.ok(r.status !== null && r.status >= 400 && r.status < 500, `${target.slice(0, 80)}: expected a 4xx, got ${r.status} ${r.body.slice(0, 200)}`);
      assert.doesNotMatch(r.body, /opadm_|BEGIN PRIVATE KEY/, 'nothing secret leaks');
      await hubAlive();
    }
    const unknown = await fetch(`${base()}/api/v1/devices/nobody`, { headers: { cookie } });
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /no device named "nobody"/);
  });

  test('the console\'s API and the CLI answer from one query: same devices and events for the same filters', async () => {
    const cookie = await signedInCookie();
    for (const [query, argv] of [['group=line-1', ['--group', 'line-1']], ['model=seattle-weather%401&health=ok', ['--model', 'seattle-weather@1', '--health', 'ok']], ['health=stale', ['--health', 'stale']]] as const) {
      const api = (await (await fetch(`${base()}/api/v1/devices?${query}`, { headers: { cookie } })).json()) as { devices: { name: string }[] };
      const cli = await runMain(['hub', 'devices', 'list', '--dir', t.dir, '--json', ...argv]);
      assert.equal(cli.code, 0, cli.err);
      const listed = (jsonLines(cli.out).find((l) => Array.isArray(l.devices))!.devices as { name: string }[]).map((d) => d.name);
      assert.deepEqual(api.devices.map((d) => d.name), listed, query);
    }
    const bad = await runMain(['hub', 'devices', 'list', '--dir', t.dir, '--health', 'great']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--health must be one of ok, alerts, stale, never-synced, revoked/);
    const api = (await (await fetch(`${base()}/api/v1/events?group=line-2&kind=model`, { headers: { cookie } })).json()) as { events: { device: string; seq: number }[] };
    const cli = await runMain(['hub', 'events', '--dir', t.dir, '--json', '--group', 'line-2', '--kind', 'model']);
    assert.equal(cli.code, 0, cli.err);
    assert.ok(api.events.length > 0 && api.events.every((e) => e.device === 'ws-c'));
    assert.deepEqual(api.events, jsonLines(cli.out).find((l) => Array.isArray(l.events))!.events);
  });

  describe('in Chromium', { skip: 'skip' in launched ? launched.skip : false }, () => {
    test('sign-in: a wrong token is refused, the admin token signs in; the cookie is out of scripts\' reach', async () => {
      await page.goto(`${base()}/`);
      await page.getByTestId('sign-in').waitFor();
      await shot(page, 'hub-console-01-sign-in');
      await page.getByTestId('admin-token').fill('opadm_not-the-token');
      await page.getByTestId('sign-in-submit').click();
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /Not signed in[\s\S]*not this hub's admin token/);
      await page.getByTestId('admin-token').fill(t.adminToken);
      await page.getByTestId('sign-in-submit').click();
      await page.getByRole('heading', { name: 'Fleet' }).waitFor();
      assert.equal(await page.evaluate('document.cookie'), '', 'the session cookie is HttpOnly');
      const [c] = await context.cookies();
      assert.equal(c.name, 'outpost_hub_session');
      assert.equal(c.httpOnly, true);
      assert.equal(c.sameSite, 'Strict');
    });

    test('Fleet: every device with the numbers the hub\'s database holds', async () => {
      await page.getByTestId('fleet-table').waitFor();
      await shot(page, 'hub-console-02-fleet');
      const devices = await listDevices(t.hub);
      assert.equal(devices.length, 3);
      assert.equal(await page.getByTestId('fleet-total').innerText(), '3');
      const [{ n }] = await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_devices');
      assert.equal(Number(n), 3);
      for (const d of devices) {
        const row = page.getByTestId(`device-row-${d.name}`);
        assert.equal(await row.getByTestId('group').innerText(), d.group);
        assert.equal(await row.getByTestId('last-seen').getAttribute('data-value'), d.lastSeenAt);
        assert.equal(await row.getByTestId('active').innerText(), 'seattle-weather@1');
        assert.equal(await row.getByTestId('backlog').innerText(), String(d.backlog));
        // each device synced everything: its outbox is empty, and the hub counts what its heartbeat listed as delivered
        assert.equal(outboxSummary(fleet.find((w) => w.name === d.name)!.store).waiting, 0);
        assert.equal(d.backlog, 0, `${d.name}: nothing is waiting`);
        assert.equal(await row.getByTestId('open-alerts').innerText(), String(d.openAlerts));
        assert.equal(await row.getByTestId('health').innerText(), d.openAlerts > 0 ? 'open alerts' : 'ok');
        const [a] = await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_alerts a JOIN fleet_devices d ON d.id = a.device_id WHERE d.name = ? AND a.cleared_at IS NULL', [d.name]);
        assert.equal(d.openAlerts, Number(a.n));
      }
    });

    test('Fleet filters: group, model and health are applied by the hub', async () => {
      await page.getByTestId('filter-group').selectOption('line-1');
      await page.getByTestId('fleet-shown').filter({ hasText: '2 shown' }).waitFor();
      const shown = await page.locator('[data-testid^="device-row-"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-testid')));
      assert.deepEqual(shown, (await listDevices(t.hub, { group: 'line-1' })).map((d) => `device-row-${d.name}`));
      await shot(page, 'hub-console-03-fleet-group');
      await page.getByTestId('filter-group').selectOption('*');
      await page.getByTestId('filter-model').selectOption('seattle-weather@1');
      await page.getByTestId('fleet-shown').filter({ hasText: '3 shown' }).waitFor();
      await page.getByTestId('filter-health').selectOption('revoked');
      await page.getByTestId('fleet-empty').waitFor();
      assert.match(await page.getByTestId('fleet-empty').innerText(), /No device matches/);
      await page.getByTestId('filter-health').selectOption('*');
      await page.getByTestId('filter-model').selectOption('*');
      await page.getByTestId('fleet-shown').filter({ hasText: '3 shown' }).waitFor();
    });

    test('a device\'s page: recent jobs, events and sync history equal the hub\'s ledger', async () => {
      await page.getByRole('link', { name: 'ws-b' }).click();
      await page.getByRole('heading', { name: 'Device ws-b' }).waitFor();
      await page.getByTestId('device-syncs').waitFor();
      await shot(page, 'hub-console-04-device');
      const sql = t.hub.storage.fleet;
      const [dev] = await sql.all<{ id: string }>('SELECT id FROM fleet_devices WHERE name = ?', ['ws-b']);
      const jobs = await sql.all<{ rows_scored: number }>('SELECT rows_scored FROM fleet_jobs WHERE device_id = ?', [dev.id]);
      const shownScored = await page.getByTestId('device-jobs').getByTestId('job-scored').allInnerTexts();
      assert.deepEqual(shownScored.map((s) => Number(s.replace(/,/g, ''))).sort(), jobs.map((j) => Number(j.rows_scored)).sort());
      const [{ n }] = await sql.all<{ n: number }>('SELECT count(*) AS n FROM fleet_items WHERE device_id = ?', [dev.id]);
      const items = (await page.getByTestId('device-syncs').getByTestId('sync-items').allInnerTexts()).reduce((s, x) => s + Number(x.replace(/,/g, '')), 0);
      assert.equal(items, Number(n), 'the sync history accounts for every item in the ledger');
      assert.equal(await page.getByTestId('device-group').innerText(), 'line-1');
    });

    test('Models: versions, signers, aliases and their history, lineage, and which devices run which version', async () => {
      await page.getByRole('link', { name: 'Models' }).click();
      await page.getByTestId('model-seattle-weather').waitFor();
      await shot(page, 'hub-console-05-models');
      const [m] = await modelsOverview(t.hub);
      const versions = await t.hub.storage.modelVersions('seattle-weather');
      assert.deepEqual(m.versions.map((v) => v.version), [2, 1]);
      const card = page.getByTestId('model-seattle-weather');
      for (const v of versions) {
        const row = card.getByTestId(`version-${v.version}`);
        assert.match(await row.innerText(), new RegExp(`v${v.version}\\s+weather-team\\s+${v.signedBy[0].slice(0, 12)}`));
        const running = (await listDevices(t.hub, { model: `seattle-weather@${v.version}` })).length;
        assert.equal(Number(await row.getByTestId('running-on').getAttribute('data-count')), running, `v${v.version} runs on ${running} devices`);
      }
      assert.equal(Number(await card.getByTestId('version-1').getByTestId('running-on').getAttribute('data-count')), 3);
      assert.equal(await card.getByTestId('alias').innerText(), 'production → v2');
      assert.match(await card.getByTestId('version-1').getByTestId('lineage').innerText(), /training rows/);
      await card.locator('summary').click();
      const history = await card.getByTestId('alias-history').locator('tbody tr').allInnerTexts();
      assert.equal(history.length, 2);
      assert.match(history[0], /production\s+v2\s+weather-team/);
      assert.match(history[1], /production\s+v1\s+weather-team/);
    });

    test('Fleet drift: the app\'s Drift report over the merged fleet statistics equals `outpost hub drift`; groups and devices add up to the database', async () => {
      await page.getByRole('navigation').getByRole('link', { name: 'Fleet drift' }).click();
      await page.getByTestId('drift-features').waitFor();
      await page.getByTestId('fleet-drift-devices').waitFor();
      await shot(page, 'hub-console-06-fleet-drift');
      const cli = await runMain(['hub', 'drift', 'seattle-weather@1', '--dir', t.dir, '--json', '--window', 'day', '--last', '30']);
      assert.equal(cli.code, 0, cli.err);
      const all = await runMain(['hub', 'drift', 'seattle-weather@1', '--dir', t.dir, '--json']);
      const total = jsonLines(all.out).find((l) => l.report) as { rows: number; report: { features: { feature: string; score: number | null; nCurrent: number }[] } };
      assert.equal(Number((await page.getByTestId('drift-rows').innerText()).replace(/,/g, '')), total.rows, 'rows compared = hub drift (everything synced is in today\'s window)');
      const [{ scored }] = await t.hub.storage.fleet.all<{ scored: number }>('SELECT sum(rows_scored) AS scored FROM fleet_jobs');
      assert.equal(total.rows, Number(scored), 'every row the three devices scored');
      for (const f of total.report.features) {
        const row = page.getByTestId(`drift-row-${f.feature}`);
        const shown = await row.getByTestId('drift-score').getAttribute('data-value');
        assert.equal(shown === '' ? null : Number(shown), f.score, `${f.feature}: score`);
        assert.equal(Number((await row.getByTestId('drift-ncur').innerText()).replace(/,/g, '')), f.nCurrent, `${f.feature}: n`);
      }
      // per device (the breakdown feature) and per group: the database's window rows
      const sql = t.hub.storage.fleet;
      const feature = (await page.locator('#fleet-drift-devices-head').innerText()).replace(/^By device: | \(highest score first\)$/g, '');
      for (const ws of fleet) {
        const [{ n }] = await sql.all<{ n: number }>(`SELECT sum(w.rows) AS n FROM fleet_windows w JOIN fleet_devices d ON d.id = w.device_id WHERE d.name = ? AND w.width = 'day' AND w.feature = ?`, [ws.name, feature]);
        assert.equal(Number((await page.getByTestId(`drift-device-${ws.name}`).getByTestId('device-rows').innerText()).replace(/,/g, '')), Number(n), `${ws.name} rows of ${feature}`);
      }
      const g1 = jsonLines((await runMain(['hub', 'drift', 'seattle-weather@1', '--dir', t.dir, '--json', '--group', 'line-1'])).out).find((l) => l.report) as { rows: number };
      assert.equal(Number((await page.getByTestId('drift-group-line-1').getByTestId('group-rows').innerText()).replace(/,/g, '')), g1.rows);
      // one group: the report is that group's
      await page.getByTestId('fleet-drift-group').selectOption('line-1');
      await page.getByTestId('drift-rows').filter({ hasText: String(g1.rows) }).waitFor();
      assert.match(await page.getByTestId('fleet-drift-scope').innerText(), /2 devices in group "line-1"/);
      await shot(page, 'hub-console-07-fleet-drift-group');
    });

    test('Events: the fleet\'s events with filters; a revoked device shows as a security event', async () => {
      const revoke = await runMain(['hub', 'devices', 'revoke', '--dir', t.dir, '--name', 'ws-c']);
      assert.equal(revoke.code, 0, revoke.err);
      await page.getByRole('link', { name: 'Events' }).click();
      await page.getByTestId('events-table').waitFor();
      const events = await listFleetEvents(t.hub, { limit: 500 });
      await page.getByTestId('events-shown').filter({ hasText: `${events.length} shown` }).waitFor();
      const [{ n }] = await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_events');
      assert.equal(events.length, Number(n) + 1, 'every event the devices sent, and the revocation');
      await page.getByTestId('events-kind').selectOption('security');
      await page.getByTestId('events-shown').filter({ hasText: '1 shown' }).waitFor();
      const row = page.getByTestId('event-row');
      assert.equal(await row.getAttribute('data-kind'), 'security-device-revoked');
      assert.equal(await row.getAttribute('data-device'), 'ws-c');
      await shot(page, 'hub-console-08-events-security');
      await page.getByTestId('events-kind').selectOption('model');
      await page.getByTestId('events-group').selectOption('line-1');
      const model = await listFleetEvents(t.hub, { kinds: ['model'], group: 'line-1', limit: 500 });
      await page.getByTestId('events-shown').filter({ hasText: `${model.length} shown` }).waitFor();
      assert.ok(model.length > 0);
      assert.deepEqual([...new Set(await page.getByTestId('event-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device'))))].sort(), ['ws-a', 'ws-b']);
      await page.getByRole('link', { name: 'Fleet', exact: true }).click();
      await page.getByTestId('device-row-ws-c').getByTestId('health').filter({ hasText: 'revoked' }).waitFor();
      assert.equal(await page.getByTestId('fleet-revoked').innerText(), '1');
    });

    test('Rollouts: the rollout list and a rollout\'s devices equal `hub rollout status`', async () => {
      const r = await createRollout(t.hub, { ref: 'seattle-weather:production', group: 'line-1' });
      await page.getByRole('link', { name: 'Rollouts' }).click();
      await page.getByTestId(`rollout-${r.id}`).waitFor();
      const status = await rolloutStatus(t.hub, r.id);
      const row = page.getByTestId(`rollout-${r.id}`);
      assert.equal(Number(await row.getByTestId('pending').innerText()), status.rollout.counts.pending);
      assert.equal(Number(await row.getByTestId('running').innerText()), status.rollout.counts.running);
      await row.getByRole('button', { name: r.id }).click();
      await page.getByTestId('rollout-devices').waitFor();
      assert.deepEqual(await page.getByTestId('rollout-device').evaluateAll((rows) => rows.map((x) => x.getAttribute('data-state'))), status.devices.map((d) => d.state));
      await shot(page, 'hub-console-09-rollouts');
    });

    test('sign out: the console asks for the token again and the cookie no longer opens the API', async () => {
      await page.getByTestId('sign-out').click();
      await page.getByTestId('sign-in').waitFor();
      assert.deepEqual(await context.cookies(), [], 'the browser dropped the session');
      await page.reload();
      await page.getByTestId('sign-in').waitFor();
    });
  });
});
