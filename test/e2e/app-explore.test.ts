// The what-if explorer in a real browser (Debian's Chromium) against `outpost serve`: the form is
// built from the card; the live output equals what `outpost predict` (onnxruntime-node) prints for
// the same record, and so do validation messages; the sensitivity curve is drawn with the points
// asked for over the baseline; onnxruntime-web (WebAssembly, in the page) gives onnxruntime-node's
// numbers within float32 rounding on the demo model and on scikit-learn exports (ZipMap, `tensors`)
// for a year of records. Screenshots go to test-artifacts/screenshots/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { adaptModel } from '../../src/onnx/common/adapt.ts';
import { RENDERER_DIST } from '../../src/api/node/renderer-build.ts';
import { graphInputs, checkRecord, stackFeeds } from '../../src/scoring/common/record.ts';
import type { Feed } from '../../src/scoring/common/validate.ts';
import type { Card } from '../../src/package/common/card.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore, type Store } from '../../src/store/node/store.ts';
import { DEMO_CSV, DEMO_PACKAGE } from '../helpers/app-harness.ts';
import { launchChromium, serveInProcess, shot, type Served } from '../helpers/app-browser.ts';
import { handCard, HELD_OUT, modelBytes, readCsv, type Fixture } from '../helpers/byo.ts';
import { jsonLines, runCli } from '../helpers/cli.ts';
import { tempDir, writePackage } from '../helpers/packages.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the explorer browser tests: ${launched.skip}`);

const BYO: Fixture[] = ['logreg', 'forest', 'linreg'];

/** An [n, …] tensor as plain JSON for the page, and back. */
type WireFeed = { type: string; data: (number | string)[]; dims: number[] };
const toWire = (f: Feed): WireFeed => ({ type: f.type, data: Array.from(f.data as ArrayLike<number | string | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v)), dims: f.dims });


describe('the what-if explorer in Chromium', { skip: 'skip' in launched ? launched.skip : false }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let served: Served;
  let home: string;
  let pkgs: string;
  let store: Store;
  const base = () => `http://127.0.0.1:${served.port}`;

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    home = tempDir('outpost-explore-e2e-');
    pkgs = tempDir('outpost-explore-pkgs-');
    store = openStore(home);
    installPackage(store, DEMO_PACKAGE, { source: 'local', allowUnsigned: true, origin: DEMO_PACKAGE });
    for (const f of BYO) installPackage(store, writePackage(path.join(pkgs, f), handCard(f), modelBytes(f)), { source: 'local', allowUnsigned: true, origin: f });
    served = await serveInProcess(home);
    context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, colorScheme: 'light' });
    page = await context.newPage();
    // the first model in a window compiles onnxruntime-web's 28 MB WebAssembly: 30–50 s on a busy 2-core machine
    page.setDefaultTimeout(180_000);
    await page.goto(served.url); // the token becomes the session cookie
    await page.getByRole('heading', { name: 'Home' }).waitFor();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    store?.close();
    await served?.stop();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(pkgs, { recursive: true, force: true });
  });

  /** The probabilities / value the page shows, exactly (data-value holds the number it printed). */
  const shown = async (classes: string[] | undefined): Promise<{ label?: string; probabilities?: Record<string, number>; value?: number }> => {
    if (!classes) return { value: Number(await page.getByTestId('explore-value').getAttribute('data-value')) };
    const probabilities: Record<string, number> = {};
    for (const c of classes) probabilities[c] = Number(await page.getByTestId(`explore-p-${c}`).getAttribute('data-value'));
    return { label: await page.getByTestId('explore-label').innerText(), probabilities };
  };
  const recordOnPage = async (): Promise<string> => page.getByTestId('explore-record-json').textContent({ timeout: 5_000 }).then((t) => t ?? '');
  /** The record the form stands for, once the output shown was computed for it (a newer edit always wins). */
  const settle = async (): Promise<string> => {
    for (let i = 0; i < 600; i++) {
      const record = await recordOnPage();
      const result = page.getByTestId('explore-result');
      if ((await result.getAttribute('data-record')) === record && (await result.getAttribute('data-state')) !== 'idle') return record;
      await page.waitForTimeout(100);
    }
    throw new Error('the output never caught up with the form');
  };
  /**
   * The page's answer is the CLI's: the same label, and numbers within float32 rounding (the page
   * runs onnxruntime-web's WebAssembly kernels, the CLI onnxruntime-node's native ones; the last
   * digits of a float32 may differ — see the runtime comparison below).
   */
  const assertSame = (page: { label?: string; probabilities?: Record<string, number>; value?: number }, cli: { label?: string; probabilities?: Record<string, number>; value?: number }, what: string) => {
    const near = (a: number | undefined, b: number | undefined, name: string) => {
      assert.ok(a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what} ${name}: page ${a}, outpost predict ${b}`);
    };
    assert.equal(page.label, cli.label, what);
    if (cli.value !== undefined) near(page.value, cli.value, 'value');
    assert.deepEqual(Object.keys(page.probabilities ?? {}), Object.keys(cli.probabilities ?? {}), what);
    for (const [c, p] of Object.entries(cli.probabilities ?? {})) near(page.probabilities![c], p, `p(${c})`);
  };
  const predict = async (model: string, record: string) => {
    const r = await runCli(['--json', 'predict', '--model', model, '--input', record], { home });
    const [line] = jsonLines(r.stdout);
    return { code: r.code, line: line as { ok: boolean; label?: string; probabilities?: Record<string, number>; value?: number; errors?: { field: string; reason: string }[] } };
  };

  test('Models → a model → Explore: the form is built from the card, and the page says nothing is logged', async () => {
    await page.goto(`${base()}/#/models/seattle-weather`);
    await page.getByTestId('explore-link').click();
    await page.getByTestId('explore-form').waitFor();
    await page.getByTestId('explore-output').waitFor();
    assert.match(await page.getByTestId('explore-not-logged').innerText(), /nothing is logged.*not written to the prediction log/s);
    const card = JSON.parse(fs.readFileSync(path.join(DEMO_PACKAGE, 'card.json'), 'utf8')) as Card;
    for (const f of card.inputs) {
      const field = page.getByTestId(`field-${f.name}`);
      await field.waitFor();
      const help = await field.locator(`#field-${f.name}-help`).innerText();
      if (f.type === 'category') {
        assert.deepEqual(await field.locator('select option').allTextContents(), f.vocabulary, `${f.name}: its categories as choices`);
        assert.match(help, new RegExp(`one of ${f.vocabulary!.join(', ')}`));
      } else {
        assert.equal(await field.locator('input[type=text]').count(), 1, `${f.name}: a number box`);
        assert.match(help, new RegExp(`${f.range!.min} … ${f.range!.max}`), `${f.name}: its range`);
        assert.equal(await field.locator('input[type=range]').count(), 1, `${f.name}: a slider`);
      }
      assert.equal(await field.getByLabel('missing').count(), f.nullable ? 1 : 0, `${f.name}: nullable ${f.nullable}`);
    }
    assert.match(await page.getByTestId('explore-runtime').innerText(), /onnxruntime-web, WebAssembly, \d+ threads?/);
    await shot(page, '20-explore-demo');
  });

  test('the live output equals `outpost predict` for the same record, as the user edits it', async () => {
    const edits: [string, string | null][][] = [
      [],
      [['precipitation', '0'], ['temp_max', '31.4'], ['temp_min', '14.2'], ['wind', '2.1']],
      [['precipitation', '12.7'], ['temp_max', '6.1'], ['temp_min', '-0.5'], ['wind', '6.3'], ['season', 'winter']],
      [['wind', null], ['season', 'autumn'], ['precipitation', '3']],
    ];
    for (const step of edits) {
      for (const [name, v] of step) {
        const field = page.getByTestId(`field-${name}`);
        if (v === null) await field.getByLabel('missing').check();
        else if (name === 'season') await field.locator('select').selectOption(v);
        else await field.locator('input[type=text]').fill(v);
      }
      const record = await settle();
      const result = page.getByTestId('explore-result');
      assert.equal(await result.getAttribute('data-state'), 'ok', `${record}: ${await result.innerText()}`);
      const cli = await predict('seattle-weather', record);
      assert.equal(cli.code, 0, record);
      assertSame(await shown(['drizzle', 'fog', 'rain', 'snow', 'sun']), cli.line, record);
    }
    assert.equal(JSON.parse(await recordOnPage()).wind, null, 'the missing wind went to the model as null');
  });

  test('validation: the same refusals and messages as `outpost predict`, and the model is not run', async () => {
    for (const [name, bad, want] of [['temp_max', 'warm', /cannot parse "warm" as a number/], ['temp_max', '75', /75 is above the maximum 60/], ['precipitation', '-1', /-1 is below the minimum 0/]] as const) {
      await page.getByTestId(`field-${name}`).locator('input[type=text]').fill(bad);
      const record = await settle();
      assert.equal(await page.getByTestId('explore-result').getAttribute('data-state'), 'invalid');
      await page.getByTestId('explore-invalid').waitFor();
      const message = await page.getByTestId(`error-${name}`).innerText();
      assert.match(message, want);
      const cli = await predict('seattle-weather', record);
      assert.equal(cli.code, 1);
      assert.deepEqual(cli.line.errors!.map((e) => `${e.field}: ${e.reason}`), [`${name}: ${message}`], 'the CLI says the same of the same record');
      if (bad === '75') await shot(page, '21-explore-invalid');
      await page.getByTestId(`field-${name}`).locator('input[type=text]').fill(name === 'precipitation' ? '1' : '20');
      await settle();
      assert.equal(await page.getByTestId('explore-result').getAttribute('data-state'), 'ok');
    }
  });

  /** Commands of an SVG path ("M…L…L…"): one per point drawn. */
  const vertices = (d: string | null): number => (d ?? '').split(/[ML]/).filter(Boolean).length;

  test('the sensitivity curve: the points asked for, one line per class, over the baseline; categories one group each', async () => {
    await page.getByTestId('sweep-feature').selectOption('temp_max');
    for (const points of ['200', '1000']) {
      await page.getByTestId('sweep-points').selectOption(points);
      const chart = page.locator(`[data-testid=sweep-chart][data-points="${points}"]`);
      await chart.waitFor();
      assert.match(await chart.locator('figcaption').innerText(), /temp_max goes over the range seen in the baseline; grey: baseline distribution \(1,096 rows\)/);
      for (const c of ['drizzle', 'fog', 'rain', 'snow', 'sun']) assert.equal(vertices(await chart.getByTestId(`sweep-line-${c}`).getAttribute('d')), Number(points), `p(${c}) has ${points} points`);
      assert.ok(await chart.locator('rect.baseline-bar').count() >= 5, 'the baseline distribution is drawn behind the curve');
      await chart.getByTestId('sweep-current').waitFor({ state: 'attached' }); // a zero-width line: never "visible"
      assert.match(await page.getByTestId('sweep-summary').innerText(), new RegExp(`temp_max swept over ${points} points in one batched inference`));
    }
    await page.getByTestId('sweep-points').selectOption('200');
    await page.locator('[data-testid=sweep-chart][data-points="200"]').waitFor();
    await shot(page, '22-explore-sweep-numeric');
    await page.getByTestId('sweep-feature').selectOption('season');
    const cats = page.locator('[data-testid=sweep-chart][data-kind=categories]');
    await cats.waitFor();
    assert.equal(await cats.getAttribute('data-points'), '4');
    assert.equal(await cats.getByTestId('sweep-point').count(), 4);
    assert.equal(await cats.locator('rect.series').count(), 4 * 5, 'a bar per class per season');
    assert.equal(await cats.locator('rect.baseline-bar').count(), 4, "each season's share of the baseline");
    await shot(page, '23-explore-sweep-category');
  });

  test('a scikit-learn regression export (tensors mapping): the value equals `outpost predict`, and its curve is drawn', async () => {
    await page.goto(`${base()}/#/models/byo-linreg/explore`);
    await page.getByTestId('explore-value').waitFor();
    await page.getByTestId('field-temp_min').locator('input[type=text]').fill('17.5');
    await page.getByTestId('field-precipitation').locator('input[type=text]').fill('2.25');
    const record = await settle();
    assert.deepEqual(JSON.parse(record), { precipitation: 2.25, temp_min: 17.5, wind: 0 });
    const cli = await predict('byo-linreg', record);
    assert.equal(cli.code, 0, record);
    assertSame(await shown(undefined), cli.line, record);
    const chart = page.locator('[data-testid=sweep-chart][data-points="200"]');
    await chart.waitFor();
    assert.match(await chart.locator('figcaption').innerText(), /this record's value ± 10 \(no baseline or range in the card\)$/);
    assert.equal(vertices(await chart.getByTestId('sweep-line-value').getAttribute('d')), 200);
    await shot(page, '24-explore-byo-regression');
  });

  test('at 200 % zoom, in the dark theme, the explorer reflows without sideways scrolling', async () => {
    const zoomed = await context.newPage();
    zoomed.setDefaultTimeout(180_000);
    await zoomed.emulateMedia({ colorScheme: 'dark' });
    await zoomed.setViewportSize({ width: 640, height: 450 }); // 1280×900 at 200 %
    await zoomed.goto(`${base()}/#/models/seattle-weather/explore`);
    await zoomed.getByTestId('explore-output').waitFor();
    await zoomed.locator('[data-testid=sweep-chart]').waitFor();
    const overflow = await zoomed.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number;
    assert.ok(overflow <= 0, `the explorer scrolls sideways by ${overflow}px at 200 %`);
    await shot(zoomed, '25-explore-zoom-dark');
    await zoomed.close();
  });

  test('onnxruntime-web in the page gives onnxruntime-node\'s numbers within float32 rounding (365 records; demo and scikit-learn exports)', async () => {
    const runtime = fs.readdirSync(path.join(RENDERER_DIST, 'assets')).find((f) => /^runtime-.*\.js$/.test(f));
    assert.ok(runtime, 'the built explorer runtime chunk');
    const report: string[] = [];
    for (const [model, csv] of [['seattle-weather', DEMO_CSV], ...BYO.map((f) => [`byo-${f}`, HELD_OUT])] as const) {
      const installed = path.join(home, 'models', model, '1');
      const card = JSON.parse(fs.readFileSync(path.join(installed, 'card.json'), 'utf8')) as Card;
      const adapted = adaptModel(fs.readFileSync(path.join(installed, 'model.onnx')));
      const graph = graphInputs(adapted.info.inputs);
      const { header, rows } = readCsv(csv);
      const feeds = stackFeeds(rows.map((r, i) => {
        const rec = Object.fromEntries(card.inputs.map((f) => [f.name, f.type === 'category' ? r[header.indexOf(f.name)] : Number(r[header.indexOf(f.name)])]));
        const c = checkRecord(card, graph, JSON.stringify(rec), i + 1, csv);
        if (!c.ok) throw new Error(`${model} row ${i + 1}: ${JSON.stringify(c.errors)}`);
        return c.feeds;
      }));
      const session = await ort.InferenceSession.create(adapted.bytes);
      const nodeOut = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor(f.type, f.data as never, f.dims)])));
      await session.release();
      // In the page: the bytes through the real route (the session cookie), onnxruntime-web on WebAssembly.
      type WebOut = { backend: string; out: Record<string, { type: string; data: unknown[]; dims: number[] }> };
      const webOut: WebOut = await page.evaluate(async ({ url, model, wire }): Promise<WebOut> => {
        const m = await import(url) as { createRuntime(b: Uint8Array, p: 'wasm'): Promise<{ backend: string; run(f: unknown): Promise<Record<string, { type: string; data: ArrayLike<unknown>; dims: number[] }>>; release(): Promise<void> }> };
        const r = await fetch('/api/call/models.explore', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model }) });
        const body = await r.json() as { result: { model: string } };
        const bin = atob(body.result.model);
        const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
        const rt = await m.createRuntime(bytes, 'wasm');
        const typed: Record<string, unknown> = {};
        for (const [k, f] of Object.entries(wire)) {
          const data = f.type === 'float32' ? Float32Array.from(f.data as number[]) : f.type === 'float64' ? Float64Array.from(f.data as number[]) : f.type === 'int64' ? BigInt64Array.from(f.data as number[], (v) => BigInt(v)) : f.data;
          typed[k] = { type: f.type, data, dims: f.dims };
        }
        const out = await rt.run(typed);
        await rt.release();
        return { backend: rt.backend, out: Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { type: t.type, data: Array.from(t.data, (v) => (typeof v === 'bigint' ? Number(v) : v)), dims: t.dims }])) };
      }, { url: `/assets/${runtime}`, model, wire: Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, toWire(f)])) });
      assert.equal(webOut.backend, 'wasm');
      assert.deepEqual(Object.keys(webOut.out).sort(), Object.keys(nodeOut).sort(), `${model}: the same outputs`);
      for (const [name, t] of Object.entries(nodeOut)) {
        const web = webOut.out[name];
        assert.deepEqual(web.dims, [...t.dims], `${model} ${name}: dims`);
        const want = Array.from(t.data as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? Number(v) : v));
        if (t.type === 'float32' || t.type === 'float64') {
          let worst = 0;
          let worstAbs = 0;
          let exact = 0;
          want.forEach((w, i) => {
            const a = web.data[i] as number;
            const b = w as number;
            // Float32 arithmetic in both runtimes, but not the same kernels (WebAssembly SIMD vs x86 MLAS):
            // a dot product summed in another order or another expf moves an intermediate by an ulp, and
            // exp/normalisation can amplify that — so: within 1e-5 (relative above 1), labels identical.
            const ulps = Math.abs(a - b) / (2 ** -23 * Math.max(Math.abs(b), 2 ** -1));
            worst = Math.max(worst, ulps);
            worstAbs = Math.max(worstAbs, Math.abs(a - b));
            if (a === b) exact++;
            assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${model} ${name}[${i}]: web ${a} vs node ${b} (${ulps.toFixed(1)} ulp)`);
          });
          report.push(`${model} ${name}: ${exact}/${want.length} identical, worst ${worstAbs.toExponential(2)} (${worst.toFixed(1)} ulp)`);
        } else {
          assert.deepEqual(web.data, want, `${model} ${name}: identical`);
          report.push(`${model} ${name}: ${want.length}/${want.length} identical`);
        }
      }
    }
    console.log(`# onnxruntime-web vs onnxruntime-node:\n# ${report.join('\n# ')}`);
  });
});

