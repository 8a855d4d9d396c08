// Defects of the app found in first real use (issue 12 §3), in a real browser (Debian's Chromium)
// against the real server, store and models: the provider card on a fresh server, live counters of
// a running job, the input fingerprint, which model Score and Drift open on, rollback confirmation,
// a provider that cannot work refused in Settings. Screenshots go to test-artifacts/screenshots/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ApiEvent } from '../../src/api/common/contract.ts';
import { startHttp, type HttpServer } from '../../src/api/node/http.ts';
import { ensureRenderer } from '../../src/api/node/renderer-build.ts';
import { createService, type Service } from '../../src/api/node/service.ts';
import { getModel, installPackage } from '../../src/store/node/models.ts';
import { getSettings, openStore, updateSettings, type Store } from '../../src/store/node/store.ts';
import { bigCsv, DEMO_CSV, DEMO_PACKAGE } from '../helpers/app-harness.ts';
import { launchChromium, shot } from '../helpers/app-browser.ts';
import { tempDir, tinyCard, writePackage } from '../helpers/packages.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the browser e2e tests: ${launched.skip}`);

/** A provider that can never work on this platform (known without a probe). */
const IMPOSSIBLE = process.platform === 'darwin' ? 'dml' : 'coreml';

describe('app fixes in Chromium', { skip: 'skip' in launched ? launched.skip : false }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let service: Service;
  let server: HttpServer;
  let home: string;
  let files: string;
  let store: Store;
  const base = () => `http://127.0.0.1:${server.port}`;
  const open = async (hash: string) => {
    await page.goto(`${base()}/#/${hash}`);
    await page.locator('main h1, main h2').first().waitFor();
  };
  /** the model the Score screen's picker settles on */
  const pickerSettlesOn = async (want: string) => {
    const select = page.getByTestId('model-select');
    await select.waitFor();
    let v = '';
    for (let i = 0; i < 200 && v !== want; i++) {
      v = await select.inputValue();
      if (v !== want) await page.waitForTimeout(50);
    }
    assert.equal(v, want);
  };
  /** run a job through the service and wait for its end */
  const score = async (input: string, model: string) => {
    let done!: (e: ApiEvent) => void;
    const finished = new Promise<ApiEvent>((r) => { done = r; });
    let id = '';
    const off = service.subscribe((e) => { if (e.type === 'job-finished' && e.job.id === id) done(e); });
    id = (await service.handlers['jobs.start']({ input, model })).id;
    const e = await finished;
    off();
    assert.ok(e.type === 'job-finished' && e.job.status === 'completed', JSON.stringify(e));
    return id;
  };

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    home = tempDir('outpost-e2e-fixes-');
    files = tempDir('outpost-e2e-fixes-files-');
    store = openStore(home);
    updateSettings(store, { allowedFolders: [files] });
    // seattle-weather 1 and 2 (2 active), tiny 1 and 2 (2 active)
    installPackage(store, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
    const v2 = path.join(files, 'weather-v2');
    fs.cpSync(DEMO_PACKAGE, v2, { recursive: true });
    const card = JSON.parse(fs.readFileSync(path.join(v2, 'card.json'), 'utf8')) as { version: number };
    fs.writeFileSync(path.join(v2, 'card.json'), JSON.stringify({ ...card, version: 2 }, null, 2));
    installPackage(store, v2, { source: 'local', allowUnsigned: true });
    installPackage(store, writePackage(path.join(files, 'tiny1'), tinyCard({ version: 1 })), { source: 'local', allowUnsigned: true });
    installPackage(store, writePackage(path.join(files, 'tiny2'), tinyCard({ version: 2 })), { source: 'local', allowUnsigned: true });
    // status answers "checking" at once on this fresh server: the page has to ask again
    service = createService({ home, providerWaitMs: 0 });
    server = await startHttp({ service, staticDir: await ensureRenderer() });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Home' }).waitFor();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    store?.close();
    await server?.close();
    await service?.close();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(files, { recursive: true, force: true });
  });

  test('Home on a fresh server: the provider card shows "checking…", then the provider it found', async () => {
    const card = page.getByTestId('provider');
    await card.getByText(/^(cpu|cuda|webgpu|dml|coreml)$/).waitFor();
    await shot(page, 'fix-01-home-provider');
  });

  test('a running job: the counter cards follow the live progress', async () => {
    const file = bigCsv(path.join(files, 'big.csv'), 300_000);
    const job = await service.handlers['jobs.start']({ input: file, model: 'seattle-weather' });
    await open(`jobs/${job.id}`);
    let sample: { read: string; progress: string } | null = null;
    for (let i = 0; i < 300 && !sample; i++) {
      // both cards read in one go from the same render
      sample = await page.evaluate(`(() => {
        const p = document.querySelector('[data-testid=progress-rows]');
        const s = document.querySelector('[data-testid=stat-read]');
        return p && s && p.textContent !== '0' ? { read: s.textContent, progress: p.textContent } : null;
      })()`) as { read: string; progress: string } | null;
      if (!sample) await page.waitForTimeout(50);
    }
    assert.ok(sample, 'the progress panel showed rows while the job ran');
    assert.equal(sample.read, sample.progress, 'Rows read card = progress panel');
    await shot(page, 'fix-02-job-running');
    await page.locator('[data-testid=job-view][data-status=completed]').waitFor({ timeout: 120_000 });
  });

  test('Jobs and a job say what the input fingerprint is, and show its digest', async () => {
    await open('jobs');
    await page.getByRole('columnheader', { name: 'Input fingerprint' }).waitFor();
    const cells = await page.getByTestId('fingerprint').allInnerTexts();
    assert.ok(cells.length > 0);
    for (const c of cells) assert.match(c, /^[0-9a-f]{12}$/, `a digest, not "${c}"`);
    await shot(page, 'fix-03-jobs-fingerprint');
    await page.getByTestId('jobs-table').getByRole('link').first().click();
    const fp = page.getByTestId('fingerprint');
    await fp.waitFor();
    assert.match(await fp.innerText(), /^[0-9a-f]{64} — SHA-256 of the file size, its first MiB and its last MiB/);
  });

  test('Score opens on the active version of the model used last; Drift on the version that job scored', async () => {
    // tiny was used last → Score offers tiny@2 (not the first model by name)
    const tinyCsv = path.join(files, 'tiny.csv');
    fs.writeFileSync(tinyCsv, 'a,b,colour\n1,2,red\n3,,green\n');
    await score(tinyCsv, 'tiny@2');
    await open('score');
    await pickerSettlesOn('tiny@2');
    // seattle-weather@1 scored last → Drift shows @1 (where its statistics are), not the active @2
    const weather = path.join(files, 'weather-2015.csv');
    fs.copyFileSync(DEMO_CSV, weather);
    await score(weather, 'seattle-weather@1');
    await open('home'); // a fresh Score screen
    await open('score');
    await pickerSettlesOn('seattle-weather@2');
    await shot(page, 'fix-04-score-default');
    await open('drift');
    await page.getByTestId('drift-features').waitFor();
    assert.equal(await page.getByTestId('drift-model').inputValue(), 'seattle-weather@1');
    assert.match(await page.getByTestId('drift-rows').innerText(), /365/);
    await shot(page, 'fix-05-drift-default');
  });

  test('rollback asks first, names both versions, and does nothing until confirmed', async () => {
    await open('models/tiny');
    await page.getByRole('button', { name: 'Roll back to version 1…' }).click();
    const ask = page.getByTestId('rollback-confirm');
    await ask.getByText('Roll tiny back from version 2 to version 1?').waitFor();
    assert.equal(getModel(store, 'tiny').version, 2, 'nothing changed by asking');
    await shot(page, 'fix-06-rollback-confirm');
    await ask.getByRole('button', { name: 'Keep version 2' }).click();
    await ask.waitFor({ state: 'detached' });
    assert.equal(getModel(store, 'tiny').version, 2, 'nothing changed by declining');
    await page.getByRole('button', { name: 'Roll back to version 1…' }).click();
    await page.getByRole('button', { name: 'Roll back to version 1', exact: true }).click();
    await page.getByTestId('model-detail').getByRole('heading', { name: /v1 active/ }).waitFor();
    assert.equal(getModel(store, 'tiny').version, 1);
  });

  test('Settings: a provider that cannot work here is refused on save, with the reason', async () => {
    await open('settings');
    await page.getByTestId('provider-select').selectOption(IMPOSSIBLE);
    await page.getByRole('button', { name: 'Save settings' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Could not save the settings' });
    await alert.getByText(new RegExp(`not saved: execution provider ${IMPOSSIBLE} cannot be used: .+`)).waitFor();
    assert.equal(getSettings(store).provider, 'auto', 'not saved');
    await alert.scrollIntoViewIfNeeded();
    await shot(page, 'fix-07-settings-provider');
  });
});
