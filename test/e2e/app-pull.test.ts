// The Models screen pulls a signed model from the connected hub, in Chromium against `outpost serve`
// with a loopback hub (through a man-in-the-middle proxy): not connected → a pointer to Settings;
// an alias pulled and installed; a tampered file is refused naming the stage, as `outpost pull`
// refuses it; a stalled download shows the Download stage and its bytes and is cancelled; the same
// version then pulled cleanly (resuming the cancelled download). Screenshots go to test-artifacts/screenshots/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { createEnrollment } from '../../src/hub/node/devices.ts';
import { publishPackage } from '../../src/hub/node/publish-client.ts';
import { listModels } from '../../src/store/node/models.ts';
import { openStore } from '../../src/store/node/store.ts';
import { connect } from '../../src/sync/node/connect.ts';
import { launchChromium, serveInProcess, shot, type Served } from '../helpers/app-browser.ts';
import { makePackage, startTestHub, type TestHub } from '../helpers/hub-fixtures.ts';
import { startProxy, type Proxy } from '../helpers/hub-proxy.ts';
import { tempDir } from '../helpers/packages.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the browser pull tests: ${launched.skip}`);

const MODEL_FILE = /\/targets\/churn\/2\/[0-9a-f]{64}\.model\.onnx$/;

describe('pulling a model from the hub in the app (Chromium)', { skip: 'skip' in launched ? launched.skip : false }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let served: Served;
  let hub: TestHub;
  let proxy: Proxy;
  let home: string;
  let work: string;
  const models = () => `http://127.0.0.1:${served.port}/#/models`;
  const installed = () => {
    const s = openStore(home);
    try { return listModels(s).map((m) => `${m.name}@${m.version}${m.active ? '*' : ''}`).sort(); } finally { s.close(); }
  };

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    work = tempDir('outpost-e2e-pull-work-');
    hub = await startTestHub();
    const team = hub.publishers['churn-team'];
    await publishPackage({ packageDir: makePackage(work, 'churn', 1), hubUrl: hub.url, keys: [team.key], token: team.token, alias: 'production' });
    await publishPackage({ packageDir: makePackage(work, 'churn', 2), hubUrl: hub.url, keys: [team.key], token: team.token });
    proxy = await startProxy(hub.url);
    home = tempDir('outpost-e2e-pull-');
    served = await serveInProcess(home);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(served.url); // trades the access token in the URL for the session cookie
    await page.getByRole('heading', { name: 'Home' }).waitFor();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await served?.stop();
    await proxy?.close();
    await hub?.close();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('not connected: the Models screen says where to connect', async () => {
    await page.goto(models());
    await page.getByTestId('pull-not-connected').waitFor();
    assert.match(await page.getByTestId('pull-not-connected').innerText(), /not connected to a hub\.\s+Connect it in Settings\s+to pull signed models/);
  });

  test('connected: an alias is pulled, verified and installed; the model opens', async () => {
    const store = openStore(home);
    try {
      const { code } = await createEnrollment(hub.hub, { name: 'desk-pull' });
      await connect(store, { hubUrl: proxy.url, rootFile: hub.trustRoot, code });
    } finally {
      store.close();
    }
    // until the connection is known the form is not offered (a Pull could not say from where)
    const held: Route[] = [];
    await page.route('**/api/call/sync.status', (r) => { if (held.length < 1) held.push(r); else void r.continue(); });
    await page.reload();
    while (held.length < 1) await page.waitForTimeout(20);
    assert.equal(await page.getByTestId('pull-ref').count(), 0, 'no pull form before the hub connection is known');
    assert.match(await page.getByTestId('pull-form').innerText(), /Checking the hub connection/);
    await held[0].continue();
    await page.unroute('**/api/call/sync.status');
    await page.getByTestId('pull-ref').waitFor();
    assert.match(await page.getByTestId('pull-form').innerText(), new RegExp(`From ${proxy.url.replace(/[.:/]/g, '\\$&')}`));
    await page.getByTestId('pull-ref').fill('churn:production');
    await page.getByTestId('pull-start').click();
    await page.getByTestId('pull-result').waitFor();
    assert.match(await page.getByTestId('pull-result').innerText(), /Installed churn@1\s+Signed by churn-team \([0-9a-f]{16}\) at .+\. Active\./);
    await page.getByTestId('model-detail').waitFor();
    assert.match(await page.getByTestId('model-detail').innerText(), /churn v1 active/);
    assert.deepEqual(installed(), ['churn@1*']);
    await shot(page, 'pull-01-installed');
  });

  test('a tampered model file is refused naming the stage, like `outpost pull`; churn@1 stays active', async () => {
    proxy.hook = async (p, up) => {
      if (!MODEL_FILE.test(p)) return undefined;
      const body = Buffer.from((await up()).body);
      body[body.length - 1] ^= 1;
      return { kind: 'respond', body };
    };
    await page.getByTestId('pull-ref').fill('churn@2');
    await page.getByTestId('pull-start').click();
    await page.getByRole('alert').filter({ hasText: 'Pull refused' }).waitFor();
    assert.match(await page.getByRole('alert').innerText(), /Pull refused\s+pull of churn@2 refused at verify: .*; churn@1 stays active/);
    assert.deepEqual(installed(), ['churn@1*']);
    await shot(page, 'pull-03-refused');
  });

  test('a stalled download shows its stage and bytes, and is cancelled', async () => {
    proxy.hook = (p) => (MODEL_FILE.test(p) ? { kind: 'drip', chunk: 64, everyMs: 20, stallAfter: 128 } : undefined);
    await page.getByTestId('pull-start').click();
    await page.locator('.pull-stages li.current', { hasText: 'Download' }).waitFor();
    await page.getByText('128 B of').waitFor();
    assert.match(await page.getByTestId('pull-progress').innerText(), /Signed metadata\s+Download .*model\.onnx/);
    await shot(page, 'pull-02-downloading');
    await page.getByTestId('pull-cancel').click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /Pull cancelled\s+pull of churn@2 cancelled: nothing was installed/);
    assert.deepEqual(installed(), ['churn@1*']);
  });

  test('the same version from an honest hub installs and becomes active (v1 kept as last-known-good)', async () => {
    proxy.hook = () => undefined;
    await page.getByTestId('pull-start').click();
    await page.getByTestId('pull-result').waitFor();
    assert.match(await page.getByTestId('pull-result').innerText(), /Installed churn@2[\s\S]*Active \(was v1, kept as last-known-good\)/);
    assert.deepEqual(installed(), ['churn@1', 'churn@2*']);
    await page.getByTestId('model-detail').filter({ hasText: 'churn v2 active' }).waitFor();
    await shot(page, 'pull-04-upgraded');
  });
});
