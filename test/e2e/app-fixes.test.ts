// Defects of the app found in first real use (issue 12 §3), in a real browser (Debian's Chromium)
// against the real server, store and models: the provider card on a fresh server, live counters of
// a running job, the input fingerprint, which model Score and Drift open on, rollback confirmation,
// a provider that cannot work refused in Settings. Screenshots go to test-artifacts/screenshots/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import type { ApiEvent } from '../../src/api/common/contract.ts';
import { startHttp, type HttpServer } from '../../src/api/node/http.ts';
import { ensureRenderer } from '../../src/api/node/renderer-build.ts';
import { createService, type Service } from '../../src/api/node/service.ts';
import { getModel, installPackage } from '../../src/store/node/models.ts';
import { countPredictions, insertPredictionBatch, pagePredictions } from '../../src/store/node/predictions.ts';
import { getSettings, openStore, updateSettings, type Store } from '../../src/store/node/store.ts';
import { bigCsv, DEMO_CSV, DEMO_PACKAGE } from '../helpers/app-harness.ts';
import { atFirstSight, launchChromium, openRoute, shot } from '../helpers/app-browser.ts';
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
  let bigJob = '';
  let weatherJob = '';
  const base = () => `http://127.0.0.1:${server.port}`;
  const open = async (hash: string) => {
    await openRoute(page, base(), hash);
    await page.locator('main h1, main h2').first().waitFor();
  };
  /** open Score: its model picker shows `want` from the first frame it is on the page (no later switch) */
  const scoreOpensOn = async (want: string) => {
    const first = await atFirstSight(page, '[data-testid=model-select]', `document.querySelector('[data-testid=model-select]').value`);
    await open('score');
    await page.getByTestId('model-select').waitFor();
    assert.equal(await first(), want, 'the picker as it first appears');
    assert.equal(await page.getByTestId('model-select').inputValue(), want);
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
    bigJob = job.id;
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
    // the job's own fingerprint: until the route changes, the list's short ones are still on the page
    const fp = page.getByTestId('job-view').getByTestId('fingerprint');
    await fp.waitFor();
    assert.match(await fp.innerText(), /^[0-9a-f]{64} — SHA-256 of the file size, its first MiB and its last MiB/);
  });

  test('Score opens on the active version of the model used last; Drift on the version that job scored', async () => {
    // tiny was used last → Score offers tiny@2 (not the first model by name)
    const tinyCsv = path.join(files, 'tiny.csv');
    fs.writeFileSync(tinyCsv, 'a,b,colour\n1,2,red\n3,,green\n');
    await score(tinyCsv, 'tiny@2');
    await scoreOpensOn('tiny@2');
    // seattle-weather@1 scored last → Drift shows @1 (where its statistics are), not the active @2
    const weather = path.join(files, 'weather-2015.csv');
    fs.copyFileSync(DEMO_CSV, weather);
    weatherJob = await score(weather, 'seattle-weather@1');
    await open('home'); // a fresh Score screen
    await scoreOpensOn('seattle-weather@2');
    await shot(page, 'fix-04-score-default');
    const firstDrift = await atFirstSight(page, '[data-testid=drift-model]', `document.querySelector('[data-testid=drift-model]').value`);
    await open('drift');
    await page.getByTestId('drift-features').waitFor();
    assert.equal(await firstDrift(), 'seattle-weather@1', 'the version picker as it first appears');
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

  // ---- the prediction grid ----

  const grid = () => page.getByRole('table', { name: 'Prediction log' });
  /** the texts of the cells of the rendered body row whose row-number cell reads `row` */
  const rowCells = async (row: string) => grid().locator('.grid-body [role=row]').filter({ has: page.getByRole('cell', { name: row, exact: true }) }).first().getByRole('cell').allInnerTexts();

  test('Predictions: every row of a 2,000,000-row log is reachable (past the browser\'s element-height limit)', async () => {
    // The 300,000 rows the big job logged, plus 1,700,000 more logged for it through the store's own writer.
    const classes = getModel(store, 'seattle-weather@2').card.outputs.classes!;
    // logged at the job's own last time, so later jobs stay later in the log
    const { s: lastSeq, at } = store.db.prepare('SELECT max(seq) AS s, max(logged_at) AS at FROM prediction_batches WHERE job_id = ?').get(bigJob) as { s: number; at: number };
    let seq = lastSeq;
    for (let first = 300_001; first <= 2_000_000; first += 65_536) {
      const n = Math.min(65_536, 2_000_001 - first);
      const codes = new Int32Array(n).map((_, i) => (first + i) % classes.length);
      const probs = classes.map((_, c) => ({ name: `p_${classes[c]}`, type: 'f32' as const, values: new Float32Array(n).map((_, i) => ((first + i) % classes.length === c ? 0.6 : 0.1)) }));
      insertPredictionBatch(store, { jobId: bigJob, seq: ++seq, modelName: 'seattle-weather', modelVersion: 2, outputs: [{ name: 'label', type: 'dict', codes, dictionary: classes }, ...probs], rowCount: n, firstRow: first, loggedAt: at });
    }
    assert.equal(countPredictions(store, { jobId: bigJob }), 2_000_000);
    await open(`predictions/${bigJob}`);
    await page.getByTestId('pred-total').getByText('2,000,000', { exact: true }).waitFor();
    const height = await page.evaluate(`document.querySelector('[aria-label="Prediction log"]').scrollHeight`) as number;
    assert.ok(height < 33_554_432, `the scrolled element (${height} px) stays under Chromium's limit`);
    await grid().focus();
    await page.keyboard.press('End');
    await grid().getByRole('cell', { name: '2,000,000', exact: true }).waitFor();
    const last = await rowCells('2,000,000');
    assert.equal(last[0], '2,000,000');
    await page.keyboard.press('ArrowUp');
    await grid().getByRole('cell', { name: '1,999,990', exact: true }).waitFor();
    await shot(page, 'fix-08-predictions-2m-end');
    // the middle of the scrollbar is the middle of the log, and rows there are whole
    await page.evaluate(`(() => { const g = document.querySelector('[aria-label="Prediction log"]'); g.scrollTop = (g.scrollHeight - g.clientHeight) / 2; })()`);
    await grid().getByRole('cell', { name: /^(99\d|1,00\d),\d{3}$/ }).first().waitFor();
    await page.keyboard.press('Home');
    await grid().getByRole('cell', { name: '1', exact: true }).waitFor();
  });

  test('Predictions under "All jobs": a job column tells rows of different jobs apart; no cell is clipped', async () => {
    await open('predictions');
    const total = countPredictions(store, {});
    await page.getByTestId('pred-total').getByText(total.toLocaleString('en-US'), { exact: true }).waitFor();
    await grid().getByRole('columnheader', { name: 'job' }).waitFor();
    const oldest = pagePredictions(store, { limit: 1 })[0];
    const newest = pagePredictions(store, { offset: total - 1, limit: 1 })[0];
    assert.notEqual(oldest.jobId, newest.jobId, 'the log holds more than one job');
    const headers = await grid().getByRole('columnheader').allInnerTexts();
    const jobAt = headers.findIndex((h) => h.trim() === 'job');
    await grid().getByRole('cell', { name: '1', exact: true }).waitFor();
    const firstRow = await rowCells('1');
    assert.equal(firstRow[jobAt], oldest.jobId);
    await grid().focus();
    await page.keyboard.press('End');
    await grid().getByRole('cell', { name: newest.jobId, exact: true }).first().waitFor();
    const lastRow = await rowCells(newest.row.toLocaleString('en-US'));
    assert.equal(lastRow[jobAt], newest.jobId);
    await shot(page, 'fix-09-predictions-all-jobs');
    // header and cells line up, every cell shows its whole text, and the last column can be scrolled fully into view
    const layout = await page.evaluate(`(() => {
      const g = document.querySelector('[aria-label="Prediction log"]');
      g.scrollLeft = g.scrollWidth;
      const heads = [...g.querySelectorAll('[role=columnheader]')];
      const row = [...g.querySelectorAll('.grid-body [role=row]')].at(-1);
      const cells = [...row.querySelectorAll('[role=cell]')];
      const gr = g.getBoundingClientRect();
      return {
        misaligned: heads.map((h, i) => Math.abs(h.getBoundingClientRect().left - cells[i].getBoundingClientRect().left)).filter((d) => d > 1).length,
        clipped: cells.filter((c) => c.scrollWidth > c.clientWidth).map((c) => c.textContent),
        lastRight: cells.at(-1).getBoundingClientRect().right, gridRight: gr.left + g.clientWidth,
        headRight: heads.at(-1).getBoundingClientRect().right,
      };
    })()`) as { misaligned: number; clipped: string[]; lastRight: number; gridRight: number; headRight: number };
    assert.equal(layout.misaligned, 0, 'header and cells line up');
    assert.deepEqual(layout.clipped, [], 'no cell text is cut off');
    assert.ok(layout.lastRight <= layout.gridRight + 1 && layout.headRight <= layout.gridRight + 1, `the last column fits in view (${layout.lastRight}, ${layout.headRight} vs ${layout.gridRight})`);
    await shot(page, 'fix-09b-predictions-scrolled-right');
  });

  test('Predictions: sorting shows a busy state at once, without the old rows, and drops answers to an earlier sort', async () => {
    await open(`predictions/${weatherJob}`);
    await page.getByTestId('pred-total').getByText('365', { exact: true }).waitFor();
    const held: Route[] = [];
    await page.route('**/api/call/predictions.page', async (route) => {
      if ((route.request().postData() ?? '').includes('"sort"')) held.push(route);
      else await route.continue();
    });
    const status = page.getByTestId('pred-status');
    const bodyRows = grid().locator('.grid-body [role=row]');
    await grid().getByRole('button', { name: 'p_sun' }).click(); // descending
    await page.locator('[data-testid=pred-status][data-busy=true]').waitFor();
    await status.getByText('Sorting 365 predictions by p_sun…').waitFor();
    assert.equal(await bodyRows.count(), 0, 'the old (unsorted) rows are not shown as if sorted');
    assert.equal(await grid().getAttribute('aria-busy'), 'true');
    await shot(page, 'fix-10-predictions-sorting');
    while (held.length < 1) await page.waitForTimeout(20);
    await grid().getByRole('button', { name: 'p_sun' }).click(); // ascending, before the first answer came
    while (held.length < 2) await page.waitForTimeout(20);
    // the answer to the first sort arrives late: it must not be shown
    const [stale, fresh] = held;
    const staleDone = page.waitForResponse((r) => r.request() === stale.request());
    await stale.fulfill({ response: await stale.fetch() });
    await staleDone;
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))');
    assert.equal(await bodyRows.count(), 0, 'the descending answer is dropped');
    assert.equal(await status.getAttribute('data-busy'), 'true');
    await fresh.fulfill({ response: await fresh.fetch() });
    await page.locator('[data-testid=pred-status][data-busy=false]').waitFor();
    await page.unroute('**/api/call/predictions.page');
    await grid().locator('[aria-sort=ascending]').waitFor();
    const logged = pagePredictions(store, { jobId: weatherJob, limit: 1000 });
    const least = Math.min(...logged.map((r) => Number(r.values.p_sun)));
    const headers = await grid().getByRole('columnheader').allInnerTexts();
    const at = headers.findIndex((h) => h.trim().startsWith('p_sun'));
    const first = await bodyRows.first().getByRole('cell').allInnerTexts();
    assert.equal(first[at], least.toFixed(4), 'ascending: the smallest p_sun first');
  });

  test('Predictions: the filter bar stays put while its lists load and filters change', async () => {
    // hold the job and model lists so the bar is measured before and after they arrive
    const held: Route[] = [];
    await page.route(/\/api\/call\/(jobs|models)\.list$/, async (route) => { if (held.length < 2) held.push(route); else await route.continue(); });
    await open('home');
    await page.goto(`${base()}/#/predictions`);
    await page.getByRole('heading', { name: 'Predictions' }).waitFor();
    while (held.length < 2) await page.waitForTimeout(20);
    const boxes = async () => {
      const labels = page.getByTestId('pred-filters').locator('label');
      const out = [];
      for (let i = 0; i < await labels.count(); i++) out.push(await labels.nth(i).boundingBox());
      return out;
    };
    const before = await boxes();
    for (const r of held) await r.continue();
    await page.unroute(/\/api\/call\/(jobs|models)\.list$/);
    await page.getByLabel('Job').locator('option').nth(1).waitFor({ state: 'attached' });
    await page.getByLabel('Model').locator('option').nth(1).waitFor({ state: 'attached' });
    assert.deepEqual(await boxes(), before, 'the job and model lists arriving move nothing');
    await page.getByLabel('Job').selectOption(bigJob);
    await page.getByTestId('pred-total').getByText('2,000,000', { exact: true }).waitFor();
    assert.deepEqual(await boxes(), before, 'choosing a job moves nothing');
    await page.getByLabel('Model').selectOption('seattle-weather');
    await page.getByLabel('Version').selectOption('2');
    await page.getByTestId('pred-total').getByText('2,000,000', { exact: true }).waitFor();
    assert.deepEqual(await boxes(), before, 'choosing a model and version moves nothing');
    await shot(page, 'fix-11-predictions-filters');
  });
});
