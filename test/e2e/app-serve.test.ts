// End to end in a real browser (Debian's Chromium) against `outpost serve`: the whole "score a
// file" flow through the UI on the real demo file with the real demo model, numbers checked against
// the store; a file with bad rows and its rejects; the schema check; cancel mid-run and resume;
// the token lock; the other screens, keyboard use, dark theme and 200 % zoom. Screenshots of each
// main screen go to test-artifacts/screenshots/. (page.evaluate takes strings where the code
// touches the DOM: the root tsconfig has no DOM types.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { driftForModel } from '../../src/monitor/node/index.ts';
import { getJob, listJobs } from '../../src/store/node/jobs.ts';
import { countPredictions, pagePredictions } from '../../src/store/node/predictions.ts';
import { getSettings, openStore, updateSettings, type Store } from '../../src/store/node/store.ts';
import { badCsv, bigCsv, DEMO_CSV, DEMO_PACKAGE } from '../helpers/app-harness.ts';
import { launchChromium, openRoute, serveInProcess, shot, type Served } from '../helpers/app-browser.ts';
import { tempDir } from '../helpers/packages.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the browser e2e tests: ${launched.skip}`);

describe('outpost serve in Chromium', { skip: 'skip' in launched ? launched.skip : false }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let served: Served;
  let home: string;
  let files: string;
  let store: Store;
  const base = () => `http://127.0.0.1:${served.port}`;
  const open = async (hash: string) => {
    await openRoute(page, base(), hash);
    await page.locator('main h1').first().waitFor();
  };
  const num = async (testId: string) => Number((await page.getByTestId(testId).first().innerText()).replace(/[^\d.-]/g, ''));

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    home = tempDir('outpost-e2e-home-');
    files = tempDir('outpost-e2e-files-');
    served = await serveInProcess(home);
    store = openStore(home); // a second connection (WAL) to check what the UI shows
    updateSettings(store, { allowedFolders: [files] }); // "a path on the appliance" reads only configured folders
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light', acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    store?.close();
    await served?.stop();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(files, { recursive: true, force: true });
  });

  test('serve prints a loopback URL with a token, and refuses the API without it', async () => {
    assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
    assert.ok(served.lines.some((l) => l.includes(served.url)), 'the URL is printed');
    const r = await fetch(`${base()}/api/call/status`, { method: 'POST' });
    assert.equal(r.status, 401);
    // The page itself loads, but without the token it shows how to get in and no data.
    await page.goto(`${base()}/`);
    await page.getByTestId('locked').waitFor();
    await shot(page, '00-no-token');
    const inPage = await page.evaluate(async () => (await fetch('/api/call/status', { method: 'POST' })).status);
    assert.equal(inPage, 401);
  });

  test('opening the printed URL lets the browser in (token traded for a cookie)', async () => {
    await page.goto(served.url);
    assert.equal(new URL(page.url()).search, '', 'the token is gone from the address bar');
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await page.getByTestId('attention-none').waitFor();
  });

  test('Models: add the demo package through the UI and read its card', async () => {
    await open('models');
    await page.getByLabel('Package folder on the appliance').fill(DEMO_PACKAGE);
    const add = page.getByRole('button', { name: 'Add package' });
    assert.equal(await add.isDisabled(), true, 'an unsigned package needs an explicit yes');
    await page.getByLabel('I trust this package although it is not signed').check();
    await add.click();
    const detail = page.getByTestId('model-detail');
    await detail.getByRole('heading', { name: /seattle-weather/ }).waitFor();
    for (const input of ['precipitation', 'temp_max', 'temp_min', 'wind', 'season']) await detail.getByRole('cell', { name: input, exact: true }).waitFor();
    await detail.getByText('heldOutAccuracy').waitFor();
    await shot(page, '04-models');
  });

  test('Score a file: upload, schema check, score, and the numbers match the store', async () => {
    const input = path.join(files, 'weather-2015.csv');
    fs.copyFileSync(DEMO_CSV, input);
    await open('score');
    await page.getByTestId('file-input').setInputFiles(input);
    await page.getByTestId('chosen-file').getByText('weather-2015.csv').waitFor();
    await page.getByTestId('schema-ok').waitFor();
    await page.getByLabel('Row id column').selectOption('date');
    await shot(page, '01-score-check');
    await page.getByTestId('start').click();
    await page.locator('[data-testid=job-view][data-status=completed]').waitFor();

    const [job] = listJobs(store, 1);
    assert.equal(job.status, 'completed');
    assert.equal(path.dirname(path.dirname(job.inputPath)), path.join(home, 'uploads'), 'the browser uploaded the file into the data folder');
    assert.equal(await num('stat-read'), 365);
    assert.equal(await num('stat-scored'), getJob(store, job.id).rowsScored);
    assert.equal(await num('stat-rejected'), 0);
    await page.getByTestId('no-rejects').waitFor();
    await page.getByTestId('output-path').getByText(job.outputPath).waitFor();

    // Distribution: class counts as logged in the store.
    const logged = pagePredictions(store, { jobId: job.id, limit: 1000 });
    const counts = new Map<string, number>();
    for (const r of logged) counts.set(String(r.values.label), (counts.get(String(r.values.label)) ?? 0) + 1);
    for (const [label, n] of counts) {
      const text = await page.getByTestId(`dist-${label}`).innerText();
      assert.match(text, new RegExp(`^${label}\\s+${n}\\b`), `${label}: ${text}`);
    }

    // Preview table: every logged row is there; sorting by p_sun puts the store's maximum first.
    await page.getByTestId('pred-total').getByText('365').waitFor();
    assert.equal(countPredictions(store, { jobId: job.id }), 365);
    const table = page.getByRole('table', { name: `Predictions of job ${job.id}` });
    await table.getByRole('row').nth(1).getByText('2015-01-01').waitFor();
    await table.getByRole('button', { name: 'p_sun' }).click();
    const best = Math.max(...logged.map((r) => Number(r.values.p_sun)));
    await table.locator('[aria-sort=descending]').waitFor();
    await table.getByRole('row').nth(1).getByRole('cell', { name: best.toFixed(4) }).waitFor();
    await shot(page, '02-score-result');

    // Download: the file the browser gets is the output on disk.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download output' }).click()]);
    const saved = path.join(files, 'downloaded.csv');
    await download.saveAs(saved);
    assert.equal(download.suggestedFilename(), 'weather-2015.scored.csv');
    assert.deepEqual(fs.readFileSync(saved), fs.readFileSync(job.outputPath));
  });

  test('Drift: the demo run against its baseline, numbers as driftForModel reports them', async () => {
    const want = driftForModel(store, 'seattle-weather', { kind: 'all' });
    assert.ok(want.report.features.some((f) => f.statistic !== null && Number.isFinite(f.statistic)), 'some statistic to compare');
    await open('drift');
    const table = page.getByTestId('drift-features');
    await table.waitFor();
    for (const f of want.report.features) {
      const row = page.getByTestId(`drift-row-${f.feature}`);
      await row.getByTestId('drift-verdict').getByText(f.drifted === null ? 'skipped' : f.drifted ? 'drifted' : 'no drift', { exact: true }).waitFor();
      assert.equal(Number((await row.getByTestId('drift-ncur').innerText()).replace(/[^\d]/g, '')), f.nCurrent, f.feature);
      const stat = await row.getByTestId('drift-statistic').getAttribute('data-value');
      assert.equal(stat === '' ? null : Number(stat), f.statistic !== null && Number.isFinite(f.statistic) ? f.statistic : null, `${f.feature}: statistic`);
    }
    await page.getByTestId('drift-bins').waitFor();
    await page.getByTestId('drift-timeline').waitFor();
    await shot(page, '14-drift');
  });

  test('the schema check names missing columns and keeps Start disabled', async () => {
    const lacking = path.join(files, 'lacking.csv');
    fs.writeFileSync(lacking, 'date,precipitation,temp_max,temp_min\n2015-01-01,0,5,1\n');
    await open('score');
    await page.getByTestId('file-input').setInputFiles(lacking);
    const alert = page.getByTestId('schema-missing');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Missing columns: wind, season/);
    assert.equal(await page.getByTestId('start').isDisabled(), true);
    await shot(page, '03-score-missing-columns');
  });

  test('a file with bad rows shows its rejects with row, column and reason', async () => {
    const { file, rows, bad } = badCsv(path.join(files, 'bad-rows.csv'));
    await open('score');
    await page.getByTestId('file-input').setInputFiles(file);
    await page.getByTestId('schema-ok').waitFor();
    await page.getByTestId('start').click();
    await page.locator('[data-testid=job-view][data-status=completed]').waitFor();
    assert.equal(await num('stat-read'), rows);
    assert.equal(await num('stat-rejected'), bad.size);
    const rejects = page.getByTestId('rejects-table');
    await rejects.locator('tbody tr').nth(bad.size - 1).waitFor();
    assert.equal(await rejects.locator('tbody tr').count(), bad.size);
    for (const [row, column] of bad) await rejects.locator('tbody tr', { hasText: column }).filter({ has: page.getByRole('cell', { name: String(row), exact: true }) }).waitFor();
    await rejects.getByText(/"monsoon" is not in the vocabulary/).waitFor();
    assert.match(await page.getByTestId('reject-reasons').innerText(), /season/);
    await page.getByTestId('reject-reasons').scrollIntoViewIfNeeded();
    await shot(page, '05-rejects');
  });

  test('cancel a running job from the UI, then resume it to the end', async () => {
    // Long enough that the job is still running when the click lands: 500,000 rows finished in
    // ~0.5 s on a faster machine, before the Cancel button could be clicked (it was gone, and the
    // click waited out the test's 30 s).
    const rows = 2_000_000;
    const big = bigCsv(path.join(files, 'big.csv'), rows);
    await open('score');
    await page.getByTestId('path-input').fill(big);
    await page.getByRole('button', { name: 'Use this path' }).click();
    await page.getByTestId('schema-ok').waitFor();
    await page.getByTestId('start').click();
    await page.getByTestId('progress').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-testid=job-view][data-status=cancelled]').waitFor();
    const [job] = listJobs(store, 1);
    assert.equal(job.status, 'cancelled');
    assert.ok(job.rowsRead < rows, `stopped before the end (${job.rowsRead} of ${rows})`);
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    await shot(page, '06-cancelled');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('[data-testid=job-view][data-status=completed]').waitFor({ timeout: 120_000 });
    assert.equal(getJob(store, job.id).rowsRead, rows);
    assert.equal(await num('stat-read'), rows);
    assert.equal(countPredictions(store, { jobId: job.id }), rows);
  });

  test('Jobs lists every run with its numbers and re-opens one', async () => {
    await open('jobs');
    const table = page.getByTestId('jobs-table');
    const jobs = listJobs(store, 50);
    // The table fills after its fetch answers: wait for the last row before counting.
    await table.locator(`tr[data-job="${jobs[0].id}"]`).waitFor();
    await table.locator('tbody tr').nth(jobs.length - 1).waitFor();
    assert.equal(await table.locator('tbody tr').count(), jobs.length);
    const first = jobs[jobs.length - 1];
    const row = table.locator(`tr[data-job="${first.id}"]`);
    assert.match(await row.innerText(), /weather-2015\.csv[\s\S]*seattle-weather@1[\s\S]*completed[\s\S]*365/);
    await shot(page, '07-jobs');
    await row.getByRole('link').click();
    await page.locator('[data-testid=job-view][data-status=completed]').waitFor();
    assert.equal(await num('stat-read'), 365);
  });

  test('Predictions pages through the log, filtered by job', async () => {
    await open('predictions');
    const all = countPredictions(store, {});
    await page.getByTestId('pred-total').getByText(all.toLocaleString('en-US')).waitFor();
    const first = listJobs(store, 50).at(-1)!;
    await page.getByLabel('Job').selectOption(first.id);
    await page.getByTestId('pred-total').getByText('365', { exact: true }).waitFor();
    await shot(page, '08-predictions');
  });

  test('Settings: change retention and provider; the store has them', async () => {
    await open('settings');
    await page.getByTestId('home').getByText(home).waitFor();
    await page.getByTestId('retention-days').fill('45');
    await page.getByTestId('provider-select').selectOption('cpu');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByTestId('saved').getByText('Settings saved.').waitFor();
    const s = getSettings(store);
    assert.equal(s.retentionMaxAgeDays, 45);
    assert.equal(s.provider, 'cpu');
    await shot(page, '09-settings');
  });

  test('Home shows models, provider and why, store size and recent jobs; dark theme', async () => {
    await open('home');
    await page.getByTestId('home-models').getByRole('cell', { name: 'seattle-weather' }).waitFor();
    await page.getByTestId('provider').getByText('cpu').waitFor();
    await shot(page, '10-home');
    await page.getByRole('button', { name: /Switch to dark theme/ }).click();
    assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
    const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    assert.equal(bg, 'rgb(17, 21, 27)');
    await shot(page, '11-home-dark');
    await page.getByRole('button', { name: /Switch to light theme/ }).click();
  });

  test('keyboard: skip link, then the navigation works from the keyboard', async () => {
    await open('home');
    await page.reload();
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
    await page.keyboard.press('Tab'); // Home
    await page.keyboard.press('Tab'); // Score a file
    await page.keyboard.press('Tab'); // Jobs
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Jobs');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
  });

  test('at 200 % zoom every screen reflows without sideways scrolling', async () => {
    const zoomed = await context.newPage();
    await zoomed.setViewportSize({ width: 640, height: 450 }); // 1280×900 at 200 %
    for (const screen of ['home', 'score', 'jobs', 'predictions', 'models/seattle-weather', 'settings']) {
      await zoomed.goto(`${base()}/#/${screen}`);
      await zoomed.locator('main h1').first().waitFor();
      await zoomed.waitForLoadState('networkidle');
      const overflow = await zoomed.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number;
      assert.ok(overflow <= 0, `${screen} scrolls sideways by ${overflow}px at 200 %`);
    }
    await shot(zoomed, '12-zoom-200-models');
    await zoomed.close();
  });
});
