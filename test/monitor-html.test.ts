// `outpost drift --html F`: one self-contained file (inline CSS and SVG, no script, nothing fetched),
// hostile names from a card escaped, written whole or not at all; opened offline in Chromium it
// makes no request beyond itself and shows the verdicts and one chart per feature.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { computeBaseline, createFeatureStats, driftReport } from '../src/drift/common/index.ts';
import { binsOf } from '../src/monitor/common/bins.ts';
import { renderHtmlReport } from '../src/monitor/common/html.ts';
import { launchChromium, SCREENSHOTS } from './helpers/app-browser.ts';
import { lastJson, REPO, runMain } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
const home = path.join(root, 'home');

/** Nothing in the document may make a browser fetch: no src/href to anything but an in-page anchor, no url(), no script. */
function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|<object|@import|url\(/i);
  for (const m of html.matchAll(/\b(?:src|href)="([^"]*)"/g)) assert.match(m[1], /^#/, `reference ${m[1]}`);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
}

test('names and labels from a card are escaped', () => {
  const evil = '"><img src=x onerror=alert(1)>';
  const base = computeBaseline([{ name: evil, type: 'category', vocabulary: ['<script>alert(1)</script>', 'b&b'] }], { [evil]: ['<script>alert(1)</script>', 'b&b', 'b&b'] });
  const s = createFeatureStats(base.features[0]);
  if (s.kind === 'categorical') s.update(['b&b', 'b&b', '<script>alert(1)</script>']);
  const report = driftReport(base, { [evil]: s });
  const html = renderHtmlReport({
    model: 'm', version: 1, description: 'job <j1>', referenceRows: 3, rows: 3, report, bins: [binsOf(base.features[0], s)], alerts: [], generatedAt: '2026-12-02T00:00:00Z',
  });
  assertSelfContained(html);
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(html.includes('b&amp;b') && html.includes('job &lt;j1&gt;'));
});

describe('outpost drift --html on the demo model', () => {
  let job = '';
  before(async () => {
    assert.equal((await runMain(['--home', home, 'models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'])).code, 0);
    const s = await runMain(['--home', home, 'score', path.join(REPO, 'models/demo/weather-2015.csv'), '--model', 'seattle-weather', '--out', path.join(root, 'out.csv'), '--json']);
    assert.equal(s.code, 0, s.err);
    job = (lastJson(s.out).job as { id: string }).id;
  });

  test('writes one self-contained file; its verdicts are the report\'s', async () => {
    const file = path.join(root, 'report.html');
    const r = await runMain(['--home', home, 'drift', 'seattle-weather', '--job', job, '--html', file, '--json']);
    assert.equal(r.code, 0, r.err);
    const out = lastJson(r.out) as { html: string; report: { features: { feature: string; drifted: boolean | null }[] } };
    assert.equal(out.html, file);
    const html = fs.readFileSync(file, 'utf8');
    assertSelfContained(html);
    assert.equal((html.match(/<svg /g) ?? []).length, out.report.features.length, 'one distribution chart per feature');
    for (const f of out.report.features) assert.ok(html.includes(`>${f.feature}</a>`), f.feature);
    assert.deepEqual(fs.readdirSync(root).filter((n) => n.includes('.tmp')), [], 'no temporary file left');
    // with windows: a severity chart per feature as well
    const w = await runMain(['--home', home, 'drift', 'seattle-weather', '--window', 'hour', '--last', '3', '--html', path.join(root, 'windows.html')]);
    assert.equal(w.code, 0, w.err);
    assert.equal((fs.readFileSync(path.join(root, 'windows.html'), 'utf8').match(/<svg /g) ?? []).length, 2 * out.report.features.length);
  });

  test('bad --html: a folder, an empty name or a missing folder is bad usage, and nothing is left', async () => {
    assert.equal((await runMain(['--home', home, 'drift', 'seattle-weather', '--html', root])).code, 2);
    assert.equal((await runMain(['--home', home, 'drift', 'seattle-weather', '--html', ''])).code, 2);
    // a folder that is not there: bad usage naming it, checked before the report is computed (it exposed the temp file's name)
    const r = await runMain(['--home', home, 'drift', 'seattle-weather', '--html', path.join(root, 'no-such-folder', 'r.html')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /the output folder .*no-such-folder does not exist \(create it, or choose another --html\)/);
    assert.doesNotMatch(r.err, /\.tmp|partial/);
    assert.ok(!fs.existsSync(path.join(root, 'no-such-folder')));
  });

  test('Chromium opens it offline: no request beyond the file, verdicts and charts visible', async (t) => {
    const launched = await launchChromium();
    if ('skip' in launched) { t.skip(launched.skip); return; }
    const file = path.join(root, 'report.html');
    const context = await launched.browser.newContext({ offline: true, viewport: { width: 1200, height: 900 } });
    try {
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (q) => requests.push(q.url()));
      await page.goto(`file://${file}`);
      assert.deepEqual(requests, [`file://${file}`]);
      assert.equal(await page.title(), 'Drift of seattle-weather@1');
      assert.match(await page.locator('.cards').innerText(), /Input drift[\s\S]*Prediction drift/);
      const box = await page.locator('svg').first().boundingBox();
      assert.ok(box && box.width > 300 && box.height > 100, `chart box ${JSON.stringify(box)}`);
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, 'drift-html-report.png'), fullPage: true });
    } finally {
      await context.close();
      await launched.browser.close();
    }
  });
});
