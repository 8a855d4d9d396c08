// `outpost baseline` and the failure paths of `outpost drift`, through the CLI.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseWeatherCsv, seasonOf, WEATHER_CSV } from '../models/build-demo.ts';
import { main } from '../src/cli/main.ts';
import { parseBaseline, referenceStats, type BaselineFeature } from '../src/drift/common/index.ts';
import { modelMonitoring } from '../src/monitor/common/features.ts';
import { parseCard } from '../src/package/common/card.ts';
import { lastJson, REPO, runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
const DEMO = path.join(REPO, 'models/demo/weather');
const committed = JSON.parse(fs.readFileSync(path.join(DEMO, 'card.json'), 'utf8')) as Record<string, unknown>;

/** The CLI in this process (same code path as bin/outpost.js, without a process per call). */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(argv, { stdout, stderr, signal: new AbortController().signal });
  return { code, out, err };
}

/** A copy of the demo package whose card has no baseline (or is changed by `edit`). */
let pkgs = 0;
function packageCopy(edit: (card: Record<string, unknown>) => void = () => {}): string {
  const dir = path.join(root, `pkg-${pkgs++}`);
  fs.cpSync(DEMO, dir, { recursive: true });
  const card = structuredClone(committed);
  delete card.baseline;
  edit(card);
  fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card, null, 2) + '\n');
  return dir;
}

/** The demo's training days (2012–2014) as a reference CSV; `mangle` may change or drop lines. */
function trainingCsv(name: string, mangle: (cells: string[], i: number) => string[] | null = (c) => c): string {
  const rows = parseWeatherCsv(fs.readFileSync(WEATHER_CSV, 'utf8'), WEATHER_CSV).filter((r) => r.date < '2015');
  const header = ['date', 'precipitation', 'temp_max', 'temp_min', 'wind', 'season'];
  const lines = [(mangle(header, -1) ?? header).join(',')]; // the header is line -1
  rows.forEach((r, i) => {
    const cells = mangle([r.date, String(r.precipitation), String(r.temp_max), String(r.temp_min), String(r.wind), seasonOf(r.date)], i);
    if (cells) lines.push(cells.join(','));
  });
  const file = path.join(root, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

let reference = '';
before(() => { reference = trainingCsv('train.csv'); });

describe('outpost baseline', () => {
  test('writes the baseline of the reference rows into the card; inputs exactly as the demo build computes them', async () => {
    const pkg = packageCopy();
    const r = await runCli(['baseline', reference, '--package', pkg, '--json'], { home: path.join(root, 'h-unused') });
    assert.equal(r.code, 0, r.stderr);
    const res = lastJson(r.stdout) as { rowsUsed: number; rowsRejected: number; model: string; features: { name: string; n: number }[] };
    assert.deepEqual([res.model, res.rowsUsed, res.rowsRejected], ['seattle-weather@1', 1096, 0]);
    assert.ok(res.features.every((f) => f.n === 1096));

    const raw = JSON.parse(fs.readFileSync(path.join(pkg, 'card.json'), 'utf8')) as Record<string, unknown>;
    const parsed = parseCard(raw);
    assert.ok(parsed.ok);
    assert.equal(modelMonitoring(parsed.card).status, 'ok');
    const { baseline: written, ...rest } = raw;
    const { baseline: demo, ...demoRest } = committed;
    assert.deepEqual(rest, demoRest, 'the rest of the card is kept as it was');
    const got = parseBaseline(written);
    const want = parseBaseline(demo);
    assert.deepEqual(got.features.slice(0, 5), want.features.slice(0, 5), 'inputs: the same statistics as models/build-demo.ts');
    // outputs: ONNX Runtime (float32) here, the trainer's float64 pass rounded to float32 there
    const stats = (f: BaselineFeature) => referenceStats(f);
    for (let i = 5; i < want.features.length; i++) {
      const g = stats(got.features[i]);
      const w = stats(want.features[i]);
      assert.equal(got.features[i].name, want.features[i].name);
      if (g.kind === 'categorical' && w.kind === 'categorical') {
        Array.from(g.counts).forEach((c, k) => assert.ok(Math.abs(c - w.counts[k]) <= 2, `${got.features[i].name}[${k}]: ${c} vs ${w.counts[k]}`));
      } else if (g.kind === 'numeric' && w.kind === 'numeric') {
        assert.ok(Math.abs(g.mean - w.mean) < 1e-5, `${got.features[i].name}: mean ${g.mean} vs ${w.mean}`);
      }
    }
    assert.deepEqual(fs.readdirSync(pkg).sort(), ['card.json', 'model.onnx'], 'no temp file left');

    const text = await cli(['baseline', reference, '--package', pkg]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /Baseline for seattle-weather@1: 1,096 reference rows used, 0 invalid rows left out/);
    assert.match(text.out, /^ {2}season\s+categorical\s+n\s+1096\s+missing\s+0\s+winter 271 · spring 276 · summer 276 · autumn 273$/m);
    assert.match(text.out, /^ {2}temp_max\s+numeric\s+n\s+1096 .*\(65 bin edges, one per distinct value\)$/m);
  });

  test('leaves out invalid rows (as scoring rejects them) and says which', async () => {
    const pkg = packageCopy();
    const file = trainingCsv('some-bad.csv', (c, i) => (i === 3 ? [...c.slice(0, 5), 'monsoon'] : i === 7 ? [c[0], c[1], '7.50E1', ...c.slice(3)] : c));
    const r = await cli(['baseline', file, '--package', pkg, '--json']);
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out) as { rowsUsed: number; rowsRejected: number; rejects: Record<string, unknown>[] };
    assert.deepEqual([res.rowsUsed, res.rowsRejected], [1094, 2]);
    assert.deepEqual(res.rejects.map((x) => [x.row, x.column]), [[4, 'season'], [8, 'temp_max']]);
    // a number out of range is listed as the file has it (7.50E1, not 75), with no internal mark
    assert.deepEqual(res.rejects[1], { row: 8, column: 'temp_max', reason: '75 is above the maximum 60', value: '7.50E1' });
  });

  test('refuses bad input and leaves the card untouched', async () => {
    const cases: { what: string; pkg: string; file: string; args?: string[]; code: number; err: RegExp }[] = [
      { what: 'an invalid card', pkg: packageCopy((c) => { c.version = 0; }), file: reference, code: 1, err: /card\.json.*invalid card: version/ },
      { what: 'drift settings naming a feature the baseline lacks', pkg: packageCopy((c) => { c.drift = { features: { humidity: { method: 'ks' } } }; }), file: reference, code: 1, err: /drift\.features\.humidity: no such feature/ },
      { what: 'a reference without a required column', pkg: packageCopy(), file: trainingCsv('no-wind.csv', (c) => [...c.slice(0, 4), c[5]]), code: 1, err: /missing required column "wind"/ },
      { what: 'a reference with too many invalid rows', pkg: packageCopy(), file: trainingCsv('many-bad.csv', (c, i) => (i % 3 === 0 ? [...c.slice(0, 5), 'monsoon'] : c)), code: 1, err: /366 of 1096 rows are invalid.*row 1, column "season"/ },
      { what: 'a reference with a header only', pkg: packageCopy(), file: trainingCsv('empty.csv', (c, i) => (i < 0 ? c : null)), code: 1, err: /empty\.csv: the file has a header but no data rows/ },
      { what: 'no valid row, whatever the reject limit', pkg: packageCopy(), file: trainingCsv('all-bad.csv', (c, i) => (i < 0 ? c : [c[0], '-1', ...c.slice(2)])), args: ['--max-reject-rate', '1'], code: 1, err: /no valid rows .*row 1, column "precipitation": -1 is below the minimum 0/ },
      { what: 'a missing reference file', pkg: packageCopy(), file: path.join(root, 'nope.csv'), code: 1, err: /nope\.csv/ },
      { what: 'no --package', pkg: '', file: reference, code: 2, err: /--package is required/ },
    ];
    for (const c of cases) {
      const before = c.pkg ? fs.readFileSync(path.join(c.pkg, 'card.json')) : undefined;
      const r = await cli(['baseline', c.file, ...(c.pkg ? ['--package', c.pkg] : []), ...(c.args ?? [])]);
      assert.equal(r.code, c.code, `${c.what}: exit ${r.code} (${r.err})`);
      assert.match(r.err, c.err, c.what);
      if (before) {
        assert.ok(fs.readFileSync(path.join(c.pkg, 'card.json')).equals(before), `${c.what}: card unchanged`);
        assert.deepEqual(fs.readdirSync(c.pkg).sort(), ['card.json', 'model.onnx'], `${c.what}: no temp file`);
      }
    }
  });
});

describe('outpost drift: failure paths', () => {
  const home = path.join(root, 'drift-home');
  before(async () => {
    assert.equal((await cli(['--home', home, 'models', 'add', DEMO, '--allow-unsigned'])).code, 0);
  });

  test('bad usage exits 2', async () => {
    for (const args of [['--job', 'j1', '--window', 'day'], ['--window', 'week'], ['--since', 'yesterday'], ['--last', '3'], ['--window', 'hour', '--last', '0']]) {
      const r = await cli(['--home', home, 'drift', 'seattle-weather', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    }
    assert.equal((await cli(['--home', home, 'drift'])).code, 2);
  });

  test('an unknown model or job, or no data in scope, exits 1 with the reason', async () => {
    const unknown = await cli(['--home', home, 'drift', 'nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no model "nope" is installed/);
    const none = await cli(['--home', home, 'drift', 'seattle-weather']);
    assert.equal(none.code, 1);
    assert.match(none.err, /no drift statistics for seattle-weather@1 .*nothing scored with this version/);
    const hours = await cli(['--home', home, 'drift', 'seattle-weather', '--window', 'hour', '--json']);
    assert.equal(hours.code, 1);
    assert.equal((JSON.parse(hours.out) as { ok: boolean; error: { code: string } }).error.code, 'not-found');
    const job = await cli(['--home', home, 'drift', 'seattle-weather', '--job', 'j20250101-00000000']);
    assert.equal(job.code, 1);
    assert.match(job.err, /no job "j20250101-00000000"/);
  });
});
