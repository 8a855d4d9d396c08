// The app's hub connection in Chromium against `outpost serve`: connect from Settings with a
// one-time code (a wrong code first: a clear error, nothing changes), Home shows the hub and the
// sync status, "Sync now" sends what is waiting and the hub has it; the interval setting
// schedules the next background sync. Screenshots go to test-artifacts/screenshots/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { createEnrollment, listDevices } from '../../src/hub/node/devices.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore, updateSettings } from '../../src/store/node/store.ts';
import { DEMO_PACKAGE } from '../helpers/app-harness.ts';
import { launchChromium, serveInProcess, shot, type Served } from '../helpers/app-browser.ts';
import { startTestHub, type TestHub } from '../helpers/hub-fixtures.ts';
import { tempDir } from '../helpers/packages.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the browser sync tests: ${launched.skip}`);

describe('hub connection and sync in the app (Chromium)', { skip: 'skip' in launched ? launched.skip : false }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let served: Served;
  let hub: TestHub;
  let home: string;
  const base = () => `http://127.0.0.1:${served.port}`;

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    hub = await startTestHub();
    home = tempDir('outpost-e2e-sync-');
    const s = openStore(home);
    installPackage(s, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
    updateSettings(s, { allowedFolders: [path.dirname(hub.trustRoot)] }); // the trust root is read by path
    s.close();
    served = await serveInProcess(home);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(served.url);
    await page.getByRole('heading', { name: 'Home' }).waitFor();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await served?.stop();
    await hub?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('Home says the workstation is not connected (and offers no action before it knows)', async () => {
    // the connection held back: the Hub card offers neither "Connect" nor "Sync now" meanwhile
    const held: Route[] = [];
    await page.route('**/api/call/sync.status', (r) => { if (held.length < 2) held.push(r); else void r.continue(); });
    await page.reload();
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    while (held.length < 2) await page.waitForTimeout(20); // the Hub and the updates cards both asked
    const card = page.getByRole('region', { name: 'Hub' });
    assert.equal(await card.getByRole('link', { name: 'Connect' }).count(), 0, 'no "Connect" before the connection is known');
    assert.equal(await page.getByTestId('sync-now').count(), 0);
    await card.getByText('Checking the hub connection…').waitFor();
    await shot(page, 'sync-00-home-checking');
    for (const r of held) await r.continue();
    await page.unroute('**/api/call/sync.status');
    await card.getByRole('link', { name: 'Connect' }).waitFor();
    await page.getByTestId('hub-status').waitFor();
    assert.match(await page.getByTestId('hub-status').innerText(), /Not connected to a hub/);
  });

  test('Settings: a wrong code is refused with the hub\'s reason; the right one connects', async () => {
    await page.goto(`${base()}/#/settings`);
    await page.getByTestId('connect-form').waitFor();
    await page.getByTestId('hub-url').fill(hub.url);
    await page.getByTestId('hub-code').fill('ABCD-EFGH-JKMN-PQRS');
    await page.getByTestId('hub-root').fill(hub.trustRoot);
    await page.getByTestId('hub-connect').click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /Could not connect[\s\S]*enrollment code is unknown/);
    await shot(page, 'sync-01-settings-wrong-code');
    assert.equal((await listDevices(hub.hub)).length, 0, 'nothing registered');

    const { code } = await createEnrollment(hub.hub, { name: 'desk-07', group: 'plant-a' });
    await page.getByTestId('hub-code').fill(code);
    await page.getByTestId('hub-connect').click();
    await page.getByTestId('hub-connected').waitFor();
    assert.match(await page.getByTestId('hub-connected').innerText(), /desk-07 \(group plant-a\)/);
    await shot(page, 'sync-02-settings-connected');
    const devices = await listDevices(hub.hub);
    assert.deepEqual(devices.map((d) => d.name), ['desk-07']);
    assert.ok(devices[0].items > 0, 'connecting also synced the installed models and a heartbeat');
  });

  test('Home shows the hub and the sync status; Sync now sends what is waiting', async () => {
    await page.goto(`${base()}/#/`);
    await page.getByTestId('sync-last').waitFor();
    assert.match(await page.getByTestId('hub-status').innerText(), new RegExp(`${hub.url.replace(/[.:/]/g, '\\$&')} as desk-07`));
    const before = (await listDevices(hub.hub))[0].items;
    await page.getByTestId('sync-now').click();
    // this sync sends just the new heartbeat (connecting sent the models and the first one)
    await page.getByTestId('sync-last').filter({ hasText: '(1 item sent)' }).waitFor();
    assert.match(await page.getByTestId('sync-waiting').innerText(), /nothing waiting/);
    assert.ok((await listDevices(hub.hub))[0].items > before, 'the hub received the new heartbeat');
    await shot(page, 'sync-03-home-hub');
  });

  test('Settings: the background interval schedules the next sync', async () => {
    await page.goto(`${base()}/#/settings`);
    await page.getByTestId('sync-interval').fill('2');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByTestId('saved').filter({ hasText: 'Settings saved.' }).waitFor();
    await page.goto(`${base()}/#/`);
    await page.getByTestId('hub-status').waitFor();
    assert.match(await page.getByTestId('hub-status').innerText(), /automatically at .* \(every 120 s\)/);
  });

  test('a hub that stops answering shows as the last error on Home, and the outbox keeps the items', async () => {
    await hub.stop();
    await page.getByTestId('sync-now').click();
    await page.getByTestId('sync-error').waitFor();
    assert.match(await page.getByTestId('sync-error').innerText(), /unreachable/);
    assert.match(await page.getByTestId('sync-waiting').innerText(), /items waiting/);
    await shot(page, 'sync-04-home-hub-down');
  });
});
