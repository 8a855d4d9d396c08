// Settings → Scoring API tokens in a real browser (Debian's Chromium) against `outpost serve --api`:
// a token made in the page is shown once and works for the real /v1 API at once; bad and duplicate
// names are refused with the reason; revoking asks first and the API answers 401 from the next
// request on. Screenshots go to test-artifacts/screenshots/ (app-tokens-*.png).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { listApiTokens } from '../../src/store/node/api-tokens.ts';
import { listJobs } from '../../src/store/node/jobs.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore, type Store } from '../../src/store/node/store.ts';
import { DEMO_PACKAGE } from '../helpers/app-harness.ts';
import { launchChromium, serveInProcess, shot, type Served } from '../helpers/app-browser.ts';
import { tempDir } from '../helpers/packages.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the browser e2e tests: ${launched.skip}`);

describe('Settings → Scoring API tokens in Chromium (serve --api)', { skip: 'skip' in launched ? launched.skip : false }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let served: Served;
  let home: string;
  let store: Store;
  let secret = '';
  const base = () => `http://127.0.0.1:${served.port}`;
  const api = (method: string, p: string, token: string, body?: unknown) => fetch(`${base()}${p}`, {
    method, headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const section = () => page.getByRole('region', { name: 'Scoring API tokens' });

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    home = tempDir('outpost-e2e-tokens-');
    store = openStore(home);
    installPackage(store, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
    served = await serveInProcess(home, { api: true });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(served.url);
    await page.getByRole('heading', { name: 'Home' }).waitFor();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    store?.close();
    await served?.stop();
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('none yet; create one: the secret is shown once and works for the scoring API at once', async () => {
    await page.goto(`${base()}/#/settings`);
    await section().getByTestId('tokens-empty').waitFor();
    await section().scrollIntoViewIfNeeded();
    await shot(page, 'app-tokens-01-none');
    await section().getByLabel(/^Name/).fill('my-script');
    await section().getByRole('button', { name: 'Create token' }).click();
    const box = section().getByTestId('token-secret-box');
    await box.getByText(/shown only this once/).waitFor();
    secret = await box.getByTestId('token-secret').inputValue();
    assert.match(secret, /^outpost_[A-Za-z0-9_-]{43}$/);
    await section().getByTestId('tokens-table').getByRole('cell', { name: 'my-script', exact: true }).waitFor();
    await box.scrollIntoViewIfNeeded();
    await shot(page, 'app-tokens-02-created');

    const models = await api('GET', '/v1/models', secret);
    assert.equal(models.status, 200);
    assert.deepEqual(((await models.json()) as { models: { name: string }[] }).models.map((m) => m.name), ['seattle-weather']);
    const predicted = await api('POST', '/v1/models/seattle-weather/predict', secret, { precipitation: 0, temp_max: 5.6, temp_min: -3.2, wind: 1.2, season: 'winter' });
    assert.equal(predicted.status, 200, await predicted.clone().text());

    // Done: the secret is gone from the page and does not come back
    await box.getByRole('button', { name: 'Done' }).click();
    await box.waitFor({ state: 'detached' });
    await page.reload();
    await section().getByTestId('tokens-table').waitFor();
    assert.ok(!(await page.content()).includes(secret.slice(8)), 'the secret is not in the page after Done');
    const row = section().getByTestId('tokens-table').getByRole('row').filter({ hasText: 'my-script' });
    assert.match(await row.innerText(), /live/);
    assert.doesNotMatch(await row.innerText(), /never/, 'its use shows as last used');
  });

  test('a bad name and a second live "my-script" are refused with the reason; nothing is made', async () => {
    await section().getByLabel(/^Name/).fill('../etc');
    await section().getByRole('button', { name: 'Create token' }).click();
    const alert = section().getByRole('alert').filter({ hasText: 'Could not create the token' });
    await alert.getByText(/a token name is 1 to 64 letters, digits/).waitFor();
    await section().getByLabel(/^Name/).fill('my-script');
    await section().getByRole('button', { name: 'Create token' }).click();
    await alert.getByText(/a token named "my-script" already exists/).waitFor();
    await alert.scrollIntoViewIfNeeded();
    await shot(page, 'app-tokens-03-refused');
    assert.deepEqual(listApiTokens(store).map((t) => t.name), ['my-script']);
  });

  test('revoke asks first; once confirmed the API refuses the token (401) and the list says revoked', async () => {
    const id = listApiTokens(store)[0].id;
    await section().getByRole('button', { name: 'Revoke my-script' }).click();
    const ask = section().getByRole('alertdialog');
    await ask.getByText(`Revoke token “my-script” (${id})?`).waitFor();
    await ask.scrollIntoViewIfNeeded();
    await shot(page, 'app-tokens-04-confirm');
    // "Keep it" changes nothing
    await ask.getByRole('button', { name: 'Keep it' }).click();
    await ask.waitFor({ state: 'detached' });
    assert.equal((await api('GET', '/v1/models', secret)).status, 200);

    await section().getByRole('button', { name: 'Revoke my-script' }).click();
    await section().getByRole('alertdialog').getByRole('button', { name: 'Revoke “my-script”' }).click();
    await section().getByRole('alertdialog').waitFor({ state: 'detached' });
    const row = section().getByTestId(`token-${id}`);
    await row.getByText('revoked', { exact: true }).waitFor();
    assert.equal(await row.getByRole('button').count(), 0, 'nothing left to revoke');
    const refused = await api('GET', '/v1/models', secret);
    assert.equal(refused.status, 401);
    assert.equal(listApiTokens(store)[0].revokedAt !== null, true);
    // its prediction was logged as the token's record session (committed within a second of scoring)
    const session = () => listJobs(store, 10).find((j) => j.inputFormat === 'records' && j.inputPath === 'records:api:my-script');
    for (let i = 0; i < 100 && !session()?.rowsScored; i++) await page.waitForTimeout(100);
    assert.equal(session()?.rowsScored, 1);
    await section().scrollIntoViewIfNeeded();
    await shot(page, 'app-tokens-05-revoked');
  });
});
