// The Performance screen and Proposals under Models in a real browser (Debian's Chromium) against
// `outpost serve` on a store with a trained model, scored data with ids, joined labels and a
// retrained challenger: per-job metrics with intervals, then activating the proposal from the
// Models screen. Screenshots go to test-artifacts/screenshots/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { openStore } from '../../src/store/node/store.ts';
import { launchChromium, serveInProcess, shot, type Served } from '../helpers/app-browser.ts';
import { lastJson, REPO, runMain } from '../helpers/cli.ts';
import { tempDir } from '../helpers/packages.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the browser e2e tests: ${launched.skip}`);

describe('Performance and Proposals in Chromium', { skip: 'skip' in launched ? launched.skip : false }, () => {
  const root = tempDir();
  const home = path.join(root, 'home');
  const cli = (...argv: string[]) => runMain(['--home', home, ...argv]);
  const SAMPLE = path.join(REPO, 'models/demo/weather-2015.csv');
  let browser: Browser;
  let page: Page;
  let served: Served;
  let proposal: { id: string; better: string; championScore: number; challengerScore: number };

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    const pkg = path.join(root, 'wx');
    assert.equal((await cli('train', path.join(REPO, 'node_modules/vega-datasets/data/seattle-weather.csv'), '--target', 'weather', '--name', 'wx', '--time-col', 'date', '--valid-from', '2014-01-01', '--features', 'precipitation,temp_max,temp_min,wind', '--algo', 'logreg', '--out', pkg)).code, 0);
    const cardFile = path.join(pkg, 'card.json');
    const card = JSON.parse(fs.readFileSync(cardFile, 'utf8')) as Record<string, unknown>;
    card.monitoring = { performance: { metric: 'accuracy', min: 0.9, minSamples: 50 } };
    fs.writeFileSync(cardFile, JSON.stringify(card));
    assert.equal((await cli('models', 'add', pkg, '--allow-unsigned')).code, 0);
    assert.equal((await cli('settings', 'set', 'logInputs', 'all')).code, 0);
    assert.equal((await cli('score', SAMPLE, '--model', 'wx', '--id', 'date', '--out', path.join(root, 's.csv'))).code, 0);
    assert.equal((await cli('labels', 'add', SAMPLE, '--model', 'wx', '--id', 'date', '--label', 'weather')).code, 0);
    const r = await cli('--json', 'retrain', 'wx');
    assert.equal(r.code, 0, r.err);
    proposal = (lastJson(r.out) as { proposal: typeof proposal }).proposal;
    served = await serveInProcess(home);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(served.url); // trades the token for the cookie
  });
  after(async () => {
    await page?.close();
    await browser?.close();
    await served?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('per-job metrics with intervals, the bound and the alert', async () => {
    const base = new URL(served.url).origin;
    await page.goto(`${base}/#/performance/wx@1`);
    const table = page.getByTestId('perf-windows');
    await table.waitFor();
    const rows = table.locator('tbody tr');
    assert.equal(await rows.count(), 2, 'one job and "all"');
    const s = openStore(home);
    const correct = (s.db.prepare('SELECT count(*) AS n FROM labels WHERE truth = predicted').get() as { n: number }).n;
    s.close();
    const acc = await rows.first().locator('td').nth(2).getAttribute('data-value');
    assert.equal(Number(acc), correct / 365);
    assert.match(await rows.first().innerText(), /365[\s\S]*\[0\.\d{3}, 0\.\d{3}\][\s\S]*below/);
    assert.match(await page.getByTestId('perf-alerts').innerText(), /accuracy[\s\S]*≥ 0\.9[\s\S]*open/);
    assert.match(await page.getByTestId('perf-labelled').innerText(), /365/);
    await shot(page, 'performance');
    await page.getByTestId('perf-scope').selectOption('day');
    await page.locator('[data-testid="perf-windows"] tbody tr td.mono', { hasText: /^\d{4}-\d{2}-\d{2}$/ }).first().waitFor();
  });

  test('Models lists the proposal with both numbers and activates it as a local version', async () => {
    const base = new URL(served.url).origin;
    await page.goto(`${base}/#/models/wx`);
    const row = page.getByTestId(`proposal-${proposal.id}`);
    await row.waitFor();
    const text = await row.innerText();
    assert.ok(text.includes(proposal.championScore.toFixed(4)) && text.includes(proposal.challengerScore.toFixed(4)), text);
    await shot(page, 'proposals');
    // Retrain now: a second challenger, trained in the core's job worker, appears as a proposal row
    const rows = page.locator('[data-testid="proposals"] tbody tr');
    assert.equal(await rows.count(), 1);
    await page.getByTestId('retrain').click();
    await page.locator('[data-testid="proposals"] tbody tr').nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    assert.match(await rows.first().innerText(), /manual/);
    page.once('dialog', (d) => { void d.accept(); }); // asked only when the champion was better
    await page.getByTestId(`activate-${proposal.id}`).click();
    await page.locator(`[data-testid="proposal-${proposal.id}"]`, { hasText: 'activated as v2' }).waitFor();
    await page.getByTestId('model-detail').locator('h2', { hasText: 'v2 active' }).first().waitFor();
    await shot(page, 'proposals-activated');
  });
});
