// The Train screen in a real browser (Debian's Chromium) against `outpost serve`: upload Seattle
// weather, choose target/features/time split/algorithm/seed, watch it train, compare the validation
// metrics and the model bytes with `outpost train --json` on the same data and seed, cancel a longer
// run (nothing written), install the model as the next local version. Screenshots go to
// test-artifacts/screenshots/ (train-*.png).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { getModel, listModels } from '../../src/store/node/models.ts';
import { openStore, updateSettings, type Store } from '../../src/store/node/store.ts';
import { atFirstSight, launchChromium, serveInProcess, shot, type Served } from '../helpers/app-browser.ts';
import { lastJson, REPO, runMain } from '../helpers/cli.ts';
import { tempDir } from '../helpers/packages.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the browser e2e tests: ${launched.skip}`);

const SEATTLE = path.join(REPO, 'node_modules/vega-datasets/data/seattle-weather.csv');

describe('the Train screen in Chromium', { skip: 'skip' in launched ? launched.skip : false }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let served: Served;
  let home: string;
  let files: string;
  let store: Store;
  let cli: { metrics: Record<string, number>; modelSha256: string; trainRows: number; validRows: number };
  let firstRun = '';
  const base = () => `http://127.0.0.1:${served.port}`;
  /** the training form's choices as the page shows them (a probe for atFirstSight) */
  const FORM_STATE = `({
    target: document.querySelector('[data-testid=train-target]')?.value ?? null,
    split: document.querySelector('[data-testid=train-split]')?.value ?? null,
    timeCol: document.querySelector('[data-testid=train-time-col]')?.value ?? null,
    features: [...document.querySelectorAll('input[data-testid^="feature-"]')].filter((x) => x.checked).map((x) => x.dataset.testid.slice('feature-'.length)),
  })`;
  const modelFiles = () => fs.readdirSync(path.join(home, 'models'), { recursive: true }).map(String).sort();

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    home = tempDir('outpost-e2e-train-home-');
    files = tempDir('outpost-e2e-train-files-');
    fs.copyFileSync(SEATTLE, path.join(files, 'seattle-weather.csv'));
    served = await serveInProcess(home);
    store = openStore(home);
    updateSettings(store, { allowedFolders: [files] });
    const r = await runMain(['--home', home, '--json', 'train', SEATTLE, '--target', 'weather', '--name', 'wx', '--features', 'precipitation,temp_max,temp_min,wind', '--algo', 'logreg', '--time-col', 'date', '--valid-from', '2014-01-01', '--seed', '7', '--out', path.join(files, 'cli-wx')]);
    assert.equal(r.code, 0, r.err);
    cli = lastJson(r.out) as typeof cli;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(served.url); // trades the token for the cookie
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    store?.close();
    await served?.stop();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(files, { recursive: true, force: true });
  });

  test('upload, choose, train: the metrics and model.onnx equal `outpost train --json` for the same data and seed', async () => {
    await page.goto(`${base()}/#/train`);
    await page.getByRole('heading', { name: 'Train a model' }).waitFor();
    const firstFrame = await atFirstSight(page, '[data-testid=train-chosen-file]', FORM_STATE);
    await page.getByTestId('train-file-input').setInputFiles(SEATTLE);
    await page.getByTestId('train-chosen-file').waitFor();
    // the form comes with its defaults: in the very render that shows the file, not one later (a
    // click or a test reading the form right after "Selected:" must not see it half filled)
    assert.deepEqual(await firstFrame(), { target: 'weather', split: 'time', timeCol: 'date', features: ['precipitation', 'temp_max', 'temp_min', 'wind'] });
    // defaults from the columns: the text column is the target, the ISO date column splits by time
    assert.equal(await page.getByTestId('train-target').inputValue(), 'weather');
    assert.equal(await page.getByTestId('train-split').inputValue(), 'time');
    assert.equal(await page.getByTestId('train-time-col').inputValue(), 'date');
    for (const f of ['precipitation', 'temp_max', 'temp_min', 'wind']) assert.ok(await page.getByTestId(`feature-${f}`).isChecked(), f);
    assert.equal(await page.getByTestId('feature-date').count(), 0, 'the time column is not offered as a feature');
    // the form says what is missing before it can start
    assert.ok(await page.getByTestId('train-start').isDisabled());
    assert.match(await page.getByTestId('train-problems').innerText(), /first validation time/);
    await page.getByTestId('train-valid-from').fill('2014-01-01');
    await page.getByTestId('train-algo').selectOption('logreg');
    await page.getByTestId('train-seed').fill('7');
    await page.getByTestId('train-name').fill('wx');
    await shot(page, 'train-form');
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-install').waitFor();
    firstRun = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
    for (const [k, v] of Object.entries(cli.metrics)) assert.equal(await page.getByTestId(`metric-${k}`).innerText(), v.toFixed(4), k);
    assert.match(await page.getByTestId('train-model-sha').locator('..').innerText(), new RegExp(cli.modelSha256.slice(0, 12)));
    await page.getByTestId('train-card-inputs').waitFor();
    assert.equal(await page.getByTestId('train-card-inputs').locator('tbody tr').count(), 4);
    await page.getByTestId('loss-logreg').waitFor();
    await shot(page, 'train-result');
    assert.deepEqual(listModels(store), [], 'nothing installed yet');
  });

  test('cancel a running training: the run says so and nothing is written', async () => {
    const big = path.join(files, 'weather-x40.csv');
    const lines = fs.readFileSync(SEATTLE, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(big, [lines[0], ...Array.from({ length: 40 }, () => lines.slice(1)).flat()].join('\n') + '\n');
    const before = modelFiles();
    await page.goto(`${base()}/#/train`);
    await page.getByTestId('train-path-input').fill(big); // a path on the appliance, under allowedFolders
    await page.getByRole('button', { name: 'Use this path' }).click();
    await page.getByTestId('train-chosen-file').waitFor();
    await page.getByTestId('train-split').selectOption('fraction');
    await page.getByTestId('train-algo').selectOption('auto');
    await page.getByTestId('train-name').fill('wx-big');
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid="train-step"]', { hasText: /\d+ \/ \d+/ }).waitFor();
    await shot(page, 'train-progress');
    await page.getByTestId('train-cancel').click();
    await page.getByTestId('train-cancelled').waitFor();
    assert.match(await page.getByTestId('train-cancelled').innerText(), /nothing was written/);
    assert.equal(await page.getByTestId('train-install').count(), 0, 'no install for a cancelled run');
    await shot(page, 'train-cancelled');
    assert.deepEqual(modelFiles(), before);
    assert.deepEqual(listModels(store), []);
  });

  test('install the trained model as the next local version', async () => {
    await page.goto(`${base()}/#/train/${encodeURIComponent(firstRun)}`);
    await page.getByTestId('train-install').click();
    await page.locator('[data-testid="train-installed"]', { hasText: 'Installed as wx@1' }).waitFor();
    const m = getModel(store, 'wx@1');
    assert.equal(m.source, 'local-unsigned');
    assert.equal(m.modelSha256, cli.modelSha256, 'the installed model.onnx is byte-identical to the CLI\'s');
    await shot(page, 'train-installed');
    await page.getByTestId('train-installed').click();
    await page.getByTestId('model-detail').waitFor();
    // the runs of the session are listed on the form
    await page.goto(`${base()}/#/train`);
    const runs = page.getByTestId('train-runs');
    await runs.waitFor();
    assert.match(await runs.innerText(), /wx@1/);
    assert.match(await runs.innerText(), /cancelled/);
  });
});
