// `outpost train` end to end as a user runs it: real files in, a package out that `models add` and
// `score` accept; byte-identical model.onnx from the same data and seed; each bad input a clear
// error with exit code 1 (bad usage 2) and nothing written; Ctrl-C stops with nothing written.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { WEATHER_CSV } from '../models/build-demo.ts';
import { lastJson, jsonLines, REPO, runCli, runMain, startCli } from './helpers/cli.ts';
import { syntheticTable, writeCsv } from './helpers/train-data.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-train-cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const home = path.join(tmp, 'home');
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const SAMPLE_2015 = path.join(REPO, 'models', 'demo', 'weather-2015.csv');

describe('outpost train', () => {
  it('trains on Seattle weather (time split), writes a package that models add and score accept', async () => {
    const out = path.join(tmp, 'weather-pkg');
    const r = await runCli(['train', WEATHER_CSV, '--target', 'weather', '--name', 'weather-lr', '--algo', 'logreg', '--time-col', 'date', '--valid-from', '2015-01-01', '--seed', '3', '--out', out, '--json'], { home });
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    assert.ok(lines.some((l) => l.event === 'step' && l.unit === 'epoch'), 'progress events for epochs');
    const res = lastJson(r.stdout);
    assert.equal(res.ok, true);
    assert.equal(res.trainRows, 1096);
    assert.equal(res.validRows, 365);
    const card = JSON.parse(fs.readFileSync(path.join(out, 'card.json'), 'utf8'));
    assert.deepEqual(card.inputs.map((f: { name: string }) => f.name), ['precipitation', 'temp_max', 'temp_min', 'wind']);
    assert.equal(card.lineage.trainingDataHash, sha(WEATHER_CSV));
    assert.equal(card.lineage.recipe.seed, 3);
    assert.equal(card.lineage.recipe.algo, 'logreg');
    assert.equal(card.lineage.recipe.provider, 'cpu');
    assert.ok(card.metrics.validAccuracy > 0.6, `validation accuracy ${card.metrics.validAccuracy}`);
    assert.ok(card.baseline?.features?.length > 0, 'drift baseline');
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.partial-')), [], 'no temporary folder left');

    const add = await runCli(['models', 'add', out, '--allow-unsigned', '--json'], { home });
    assert.equal(add.code, 0, add.stderr);
    const scored = path.join(tmp, 'scored.csv');
    const score = await runCli(['score', SAMPLE_2015, '--model', 'weather-lr', '--id', 'date', '--out', scored, '--json'], { home });
    assert.equal(score.code, 0, score.stderr);
    assert.equal((lastJson(score.stdout).job as { rowsScored: number }).rowsScored, 365);
    assert.match(fs.readFileSync(scored, 'utf8').split('\n')[0], /^date,label,p_drizzle,p_fog,p_rain,p_snow,p_sun$/);
  });

  it('same data and seed → byte-identical model.onnx; another seed → a different one', async () => {
    const data = writeCsv(path.join(tmp, 'syn.csv'), syntheticTable(1500), ['x1', 'x2', 'n3', 'colour', 'y']);
    for (const algo of ['mlp', 'gbdt']) {
      const train = async (seed: string, out: string) => {
        const r = await runMain(['train', data, '--target', 'y', '--name', 'syn', '--algo', algo, '--params', '{"mlp":{"epochs":5},"gbdt":{"maxIter":20}}', '--seed', seed, '--out', out, '--json']);
        assert.equal(r.code, 0, r.err);
        return fs.readFileSync(path.join(out, 'model.onnx'));
      };
      const a = await train('11', path.join(tmp, `rep-${algo}-a`));
      const b = await train('11', path.join(tmp, `rep-${algo}-b`));
      // gbdt draws nothing at random on a table this small (no bin sampling): change the split instead
      const c = await train('12', path.join(tmp, `rep-${algo}-c`));
      assert.ok(a.equals(b), `${algo}: same seed, same bytes`);
      assert.ok(!a.equals(c), `${algo}: another seed (another validation split), another model`);
    }
  });

  const bad = (name: string, rows: string[], args: string[], message: RegExp, code = 1) => it(`${name}: exit ${code}, a clear error, nothing written`, async () => {
    const file = path.join(tmp, `${name.replace(/\W+/g, '-')}.csv`);
    fs.writeFileSync(file, rows.join('\n') + '\n');
    const out = path.join(tmp, `out-${name.replace(/\W+/g, '-')}`);
    const r = await runMain(['train', file, '--name', 'bad', '--out', out, '--algo', 'logreg', ...args]);
    assert.equal(r.code, code, r.err);
    assert.match(r.err, message);
    assert.equal(fs.existsSync(out), false, 'no package folder');
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith(`out-${name.replace(/\W+/g, '-')}.partial`)), []);
  });
  const many = (n: number, row: (i: number) => string) => Array.from({ length: n }, (_, i) => row(i));
  bad('missing target', ['a,b', ...many(40, (i) => `${i},${i % 3}`)], ['--target', 'label'], /no target column "label"/);
  bad('one class', ['a,label', ...many(40, (i) => `${i},same`)], ['--target', 'label'], /one class \("same"\)/);
  bad('constant target', ['a,y', ...many(40, (i) => `${i},5`)], ['--target', 'y'], /target is constant/);
  bad('NaN target', ['a,y', ...many(40, (i) => (i === 6 ? `${i},` : `${i},${i * 0.5}`))], ['--target', 'y'], /row 7, column "y": missing \(or NaN\) target/);
  bad('too few rows', ['a,y', ...many(8, (i) => `${i},${i % 2 ? 'p' : 'q'}`)], ['--target', 'y'], /too few rows: 8/);
  bad('a feature all missing', ['a,b,y', ...many(40, (i) => `${i},,${i % 2 ? 'p' : 'q'}`)], ['--target', 'y'], /column "b": every training value of this feature is missing/);
  bad('bad usage', ['a,y', ...many(40, (i) => `${i},${i % 2}`)], ['--target', 'y', '--valid-frac', '1.5'], /--valid-frac must be a fraction/, 2);
  bad('unknown algorithm', ['a,y', ...many(40, (i) => `${i},${i % 2}`)], ['--target', 'y', '--algo', 'forest'], /--algo must be one of/, 2);

  it('Ctrl-C while fitting stops cleanly: exit 1, "cancelled", nothing written', async () => {
    const data = writeCsv(path.join(tmp, 'big.csv'), syntheticTable(60_000), ['x1', 'x2', 'n3', 'colour', 'y']);
    const out = path.join(tmp, 'cancelled-pkg');
    const child = startCli(['train', data, '--target', 'y', '--name', 'big', '--algo', 'mlp', '--params', '{"mlp":{"epochs":200}}', '--out', out, '--json'], { home });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (!sent && /"event":"step"/.test(stdout)) { sent = true; child.kill('SIGINT'); }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.ok(sent, `the run reached a training step (stderr: ${stderr})`);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /stopped by SIGINT|cancelled/);
    assert.equal(fs.existsSync(out), false);
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('cancelled-pkg')), []);
  });

  it('--algo auto (the default algorithm is gbdt) fits every candidate and keeps the best validation log-loss', async () => {
    const out = path.join(tmp, 'auto-pkg');
    const r = await runMain(['train', WEATHER_CSV, '--target', 'weather', '--name', 'weather-auto', '--algo', 'auto', '--time-col', 'date', '--valid-from', '2015-01-01', '--params', '{"mlp":{"epochs":20}}', '--out', out, '--json']);
    assert.equal(r.code, 0, r.err);
    const res = lastJson(r.out) as { algo: string; candidates: { algo: string; metrics: { logLoss: number } }[] };
    assert.deepEqual(res.candidates.map((c) => c.algo), ['logreg', 'mlp', 'gbdt']);
    const best = res.candidates.reduce((a, b) => (b.metrics.logLoss < a.metrics.logLoss ? b : a));
    assert.equal(res.algo, best.algo);
    const card = JSON.parse(fs.readFileSync(path.join(out, 'card.json'), 'utf8'));
    assert.equal(card.lineage.recipe.algo, best.algo);
    assert.equal(card.lineage.recipe.selection.candidates.length, 3);
    const plain = await runMain(['train', WEATHER_CSV, '--target', 'weather', '--name', 'weather-gbdt', '--features', 'precipitation,temp_max,temp_min,wind', '--valid-frac', '0.3', '--out', path.join(tmp, 'default-pkg'), '--json']);
    assert.equal(plain.code, 0, plain.err);
    assert.equal(lastJson(plain.out).algo, 'gbdt');
  });

  it('an existing --out is refused (conflict, exit 1) unless --force', async () => {
    const out = path.join(tmp, 'exists');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    const r = await runMain(['train', WEATHER_CSV, '--target', 'weather', '--name', 'w', '--algo', 'logreg', '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.err, /already exists/);
    assert.equal(fs.readFileSync(path.join(out, 'keep.txt'), 'utf8'), 'mine');
  });
});
