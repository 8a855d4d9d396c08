// Settings → Updates in Chromium against `outpost serve`, with a real hub on loopback (through a
// man-in-the-middle proxy): not connected → says so; a newer signed release is checked, downloaded,
// verified and staged (version, signed sha256 checked again, what installing does: replace the
// running AppImage); "Install on restart" is chosen and then applied as the app does when it quits
// (applyOnQuit) to a stand-in AppImage, which then runs the new version; a release whose signed
// metadata was altered on the way is refused (signature); the hub gone → "Hub unreachable".
// Screenshots go to test-artifacts/screenshots/updates-*.png.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createEnrollment } from '../../src/hub/node/devices.ts';
import { applyOnQuit, readPending } from '../../src/registry/node/app-install.ts';
import { openStore } from '../../src/store/node/store.ts';
import { connect } from '../../src/sync/node/connect.ts';
import { OUTPOST_VERSION } from '../../src/sync/node/device.ts';
import { launchChromium, serveInProcess, settingsSection, type Served } from '../helpers/app-browser.ts';
import { runMain } from '../helpers/cli.ts';
import { startTestHub, type TestHub } from '../helpers/hub-fixtures.ts';
import { startProxy, type Proxy } from '../helpers/hub-proxy.ts';
import { tempDir } from '../helpers/packages.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the browser app-update tests: ${launched.skip}`);

const PLATFORM = `${process.platform}-${process.arch}`;
const appImageBytes = (version: string) => Buffer.concat([Buffer.from(`#!/bin/sh\necho "outpost ${version}"\nexit 0\n`), crypto.randomBytes(512 * 1024)]);

describe('Settings → Updates (Chromium, serve mode, hub on loopback)', { skip: 'skip' in launched ? launched.skip : false }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let served: Served;
  let hub: TestHub;
  let proxy: Proxy;
  let home: string;
  let work: string;
  let appImage: string;
  const savedAppImage = process.env.APPIMAGE;
  const publish = async (version: string, release: number) => {
    const file = path.join(work, `Outpost-${version}-linux-x86_64.AppImage`);
    const bytes = appImageBytes(version);
    fs.writeFileSync(file, bytes);
    const pub = hub.publishers['outpost-app'];
    const r = await runMain(['hub', 'app', 'publish', file, '--platform', PLATFORM, '--release', String(release), '--app-version', version, '--hub', hub.url, '--key', pub.key.file, '--home', path.join(work, 'publisher'), '--json'],
      { env: { OUTPOST_PUBLISH_TOKEN: pub.token } });
    assert.equal(r.code, 0, r.err);
    return bytes;
  };
  const ui = settingsSection(() => page, () => served.port, 'set-updates', 'update-current');
  const settings = () => ui.open();
  const section = () => ui.section();
  const shot = (name: string) => ui.shot(name);

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    work = tempDir('outpost-e2e-upd-work-');
    hub = await startTestHub({ publishers: [{ name: 'outpost-app', glob: 'outpost-app-*' }] });
    proxy = await startProxy(hub.url);
    home = tempDir('outpost-e2e-upd-');
    // the app as an AppImage: the AppImage runtime sets APPIMAGE to the file it runs from
    appImage = path.join(work, 'Applications', 'Outpost.AppImage');
    fs.mkdirSync(path.dirname(appImage), { recursive: true });
    fs.writeFileSync(appImage, appImageBytes(OUTPOST_VERSION), { mode: 0o755 });
    process.env.APPIMAGE = appImage;
    served = await serveInProcess(home);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(served.url);
    await page.getByRole('heading', { name: 'Home' }).waitFor();
  });
  after(async () => {
    if (savedAppImage === undefined) delete process.env.APPIMAGE; else process.env.APPIMAGE = savedAppImage;
    await context?.close();
    await browser?.close();
    await served?.stop();
    await proxy?.close().catch(() => undefined);
    await hub?.close();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('not connected: the running version shows, and Check now says to connect a hub', async () => {
    await settings();
    assert.equal(await page.getByTestId('update-current').innerText(), `Outpost ${OUTPOST_VERSION} (${PLATFORM})`);
    await page.getByTestId('update-check').click();
    const alert = section().getByRole('alert');
    await alert.waitFor();
    await shot('updates-00-not-connected');
    assert.match(await alert.innerText(), /Cannot check for updates\s+this workstation is not connected to a hub: connect it under "Hub and sync", then check for updates/);
  });

  test('a newer signed release is checked, downloaded, verified and staged; "Install on restart" replaces the AppImage at quit', async () => {
    const bytes = await publish('9.2.0', 1);
    const store = openStore(home);
    try {
      const { code } = await createEnrollment(hub.hub, { name: 'desk-upd' });
      await connect(store, { hubUrl: proxy.url, rootFile: hub.trustRoot, code });
    } finally {
      store.close();
    }
    await settings();
    await page.getByTestId('update-check').click();
    await page.getByTestId('update-staged').waitFor();
    const staged = await page.getByTestId('update-staged').innerText();
    assert.match(staged, /Outpost 9\.2\.0 is ready to install/);
    assert.match(staged, new RegExp(`Release\\s+1 from ${proxy.url.replace(/[.:/]/g, '\\$&')}`));
    assert.equal(await page.getByTestId('update-sha256').innerText(), crypto.createHash('sha256').update(bytes).digest('hex'));
    assert.match(await page.getByTestId('update-verified').innerText(), /the staged file matches \(checked now\)/);
    assert.equal(await page.getByTestId('update-plan').innerText(), `AppImage: replaces ${appImage} (the current one is kept as ${appImage}.old)`);
    assert.match(await page.getByTestId('update-checked').innerText(), /Outpost 9\.2\.0 \(release 1\) was downloaded, verified and staged/);
    await shot('updates-01-staged');

    await page.getByTestId('update-schedule').click();
    await page.getByTestId('update-scheduled').waitFor();
    assert.equal(readPending(home)!.installOnRestart, true);
    await shot('updates-02-scheduled');

    // what electron/main.ts runs at will-quit (the Electron binary is not available here)
    const r = await applyOnQuit({ home, currentVersion: OUTPOST_VERSION, env: { APPIMAGE: appImage } });
    assert.equal(r.state, 'installed');
    assert.equal(execFileSync(appImage, { encoding: 'utf8' }).trim(), 'outpost 9.2.0');
    assert.equal(execFileSync(`${appImage}.old`, { encoding: 'utf8' }).trim(), `outpost ${OUTPOST_VERSION}`);
    await settings();
    assert.match(await page.getByTestId('update-last').innerText(), new RegExp(`Outpost 9\\.2\\.0 \\(from ${OUTPOST_VERSION.replaceAll('.', '\\.')}\\) .* the previous version is kept at ${appImage.replace(/[.]/g, '\\.')}\\.old`));
    assert.equal(await page.getByTestId('update-staged').count(), 0);
    await shot('updates-03-installed');
  });

  test('signature refused: signed metadata altered on the way (its signature no longer verifies) is refused; nothing is staged', async () => {
    await publish('9.3.0', 2);
    let tampered = 0;
    proxy.hook = async (p, up) => {
      if (p !== '/metadata/timestamp.json') return undefined;
      const u = await up();
      const doc = JSON.parse(u.body.toString()) as { signed: { expires: string } };
      doc.signed.expires = '2099-01-01T00:00:00Z'; // signed bytes changed: the signature no longer verifies
      tampered++;
      return { kind: 'respond', body: Buffer.from(JSON.stringify(doc)) };
    };
    await settings();
    await page.getByTestId('update-check').click();
    const alert = section().getByRole('alert');
    await alert.waitFor();
    const text = await alert.innerText();
    assert.ok(tampered > 0, `the timestamp metadata was fetched through the proxy: ${proxy.requests.map((r) => r.path).slice(-8).join(', ')}`);
    assert.match(text, /^Update refused\s+app update refused at \w+: .*signed by 0\/1.*; Outpost \d+\.\d+\.\d+ stays/is);
    assert.equal(readPending(home), undefined, 'nothing staged');
    await shot('updates-04-signature-refused');
    const s = openStore(home);
    try { assert.ok((s.db.prepare("SELECT kind FROM security_events WHERE kind LIKE 'app-update-refused:%'").all() as unknown[]).length > 0); } finally { s.close(); }
    proxy.hook = () => undefined;
  });

  test('hub unreachable: Check now says so; nothing changes', async () => {
    await proxy.close();
    await settings();
    await page.getByTestId('update-check').click();
    const alert = section().getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /^Hub unreachable\s+could not check for updates: the hub at http:\/\/127\.0\.0\.1:\d+ is unreachable .*Nothing changed; try again when the hub is reachable/s);
    await shot('updates-05-unreachable');
  });
});
