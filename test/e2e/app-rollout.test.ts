// A rollout under the `ask` policy in the app (Chromium against `outpost serve`): the workstation
// syncs, Home shows "Update available" and nothing is installed; Install runs the verified pull —
// a tampered blob is refused with the stage named, and the hub's status shows it; after the file is
// fixed, a new rollout installs and the hub counts the device as running it.
// Screenshots go to test-artifacts/screenshots/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { publishPackage } from '../../src/hub/node/publish-client.ts';
import { createRollout, rolloutStatus } from '../../src/hub/node/rollouts.ts';
import { listModels } from '../../src/store/node/models.ts';
import { openStore, updateSettings } from '../../src/store/node/store.ts';
import { launchChromium, serveInProcess, shot, type Served } from '../helpers/app-browser.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from '../helpers/hub-fixtures.ts';
import { enrollWorkstation } from '../helpers/sync-fleet.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the browser rollout tests: ${launched.skip}`);

describe('a rollout offered in the app (policy ask, Chromium)', { skip: 'skip' in launched ? launched.skip : false }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let served: Served;
  let t: TestHub;
  let dir: string;
  let home: string;
  let blob: string;
  let good: Buffer;

  const churn = () => {
    const s = openStore(home);
    try {
      return listModels(s).filter((m) => m.name === 'churn').map((m) => `${m.version}${m.active ? '*' : ''}`).join(',');
    } finally {
      s.close();
    }
  };

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    t = await startTestHub();
    dir = tmpDir('outpost-e2e-rollout-');
    const p = t.publishers['churn-team'];
    await publishPackage({ packageDir: makePackage(dir, 'churn', 1), hubUrl: t.url, keys: [p.key], token: p.token, alias: 'production', checks: 'none' });
    const ws = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'desk-07', 'plant-a');
    updateSettings(ws.store, { rolloutPolicy: 'ask' });
    ws.store.close();
    home = ws.home;
    served = await serveInProcess(home);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(served.url);
    await page.getByRole('heading', { name: 'Home' }).waitFor();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await served?.stop();
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a tampered file: Home offers the update, Install is refused at verify, the hub shows the stage', async () => {
    const v1 = (await t.hub.storage.modelVersions('churn'))[0];
    blob = t.hub.blobs.path(v1.modelSha256);
    good = fs.readFileSync(blob);
    const bad = Buffer.from(good);
    bad[bad.length - 3] ^= 0xff;
    fs.chmodSync(blob, 0o600);
    fs.writeFileSync(blob, bad);
    const ro = await createRollout(t.hub, { ref: 'churn:production', group: 'plant-a' });

    await page.getByTestId('sync-now').click();
    const item = page.getByTestId(`update-${ro.id}`);
    await item.and(page.locator('[data-state="available"]')).waitFor();
    assert.match(await page.locator('#home-updates').innerText(), /Update available \(1\)/);
    assert.match(await item.innerText(), /churn:production\s*— the hub operator rolled it out to this workstation/);
    assert.equal(churn(), '', 'offered, not installed');
    await shot(page, 'rollout-01-home-update-available');

    await item.getByTestId('update-install').click();
    await item.and(page.locator('[data-state="failed"]')).waitFor();
    assert.match(await item.getByRole('alert').innerText(), /churn:production not installed \(refused at verify\)[\s\S]*not the ones the publisher signed/);
    assert.equal(await page.getByRole('alert').count(), 1, 'said once');
    assert.equal(churn(), '', 'nothing installed');
    await shot(page, 'rollout-02-home-install-refused');
    const st = await rolloutStatus(t.hub, ro.id);
    assert.deepEqual(st.devices.map((d) => [d.device, d.state, d.stage]), [['desk-07', 'failed', 'verify']]);
  });

  test('after the file is fixed, a new rollout installs from Home and the hub counts the device as running it', async () => {
    fs.writeFileSync(blob, good);
    const ro = await createRollout(t.hub, { ref: 'churn:production', group: 'plant-a' });
    await page.getByTestId('sync-now').click();
    const item = page.getByTestId(`update-${ro.id}`);
    await item.and(page.locator('[data-state="available"]')).waitFor();
    await item.getByTestId('update-install').click();
    await item.and(page.locator('[data-state="installed"]')).waitFor();
    assert.match(await item.innerText(), /churn@1 installed and active/);
    assert.equal(churn(), '1*');
    await shot(page, 'rollout-03-home-installed');
    const st = await rolloutStatus(t.hub, ro.id);
    assert.deepEqual(st.devices.map((d) => [d.device, d.state, d.reportedVersion]), [['desk-07', 'running', 1]]);
  });
});
