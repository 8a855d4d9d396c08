// End to end through the real CLI: the demo, exact scores, every kind of bad input with its
// message and exit code, provider choice, and formats.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import ort from 'onnxruntime-node';
import { pagePredictions } from '../src/store/node/predictions.ts';
import { openStore, updateSettings } from '../src/store/node/store.ts';
import { lastJson, REPO, runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
const home = path.join(root, 'home');
const SAMPLE = path.join(REPO, 'models/demo/weather-2015.csv');
const DEMO_PKG = path.join(REPO, 'models/demo/weather');
after(() => fs.rmSync(root, { recursive: true, force: true }));

const jobCount = (h: string) => {
  const db = new Database(path.join(h, 'outpost.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

before(async () => {
  const r = await runCli(['models', 'add', DEMO_PKG, '--allow-unsigned'], { home });
  assert.equal(r.code, 0, r.stderr);
});

test('outpost demo publishes the bundled model signed, pulls it verified and scores the real held-out sample', async () => {
  const h = path.join(root, 'demo-home');
  const r = await runCli(['demo'], { home: h });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pulled seattle-weather@1: TUF metadata, hashes, model safety, card and smoke inference verified/);
  assert.match(r.stdout, /signed by demo/);
  assert.match(r.stdout, /Scored 365 of 365 rows with seattle-weather@1/);
  assert.match(r.stdout, /provider: cpu/);
  assert.match(r.stdout, /rejected: 0 rows/);
  const out = path.join(h, 'demo', 'weather-2015.scored.csv');
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines.length, 366);
  assert.equal(lines[0], 'date,label,p_drizzle,p_fog,p_rain,p_snow,p_sun');
  assert.match(lines[1], /^2015-01-01,(drizzle|fog|rain|snow|sun),/);
  // every folder the demo made in the data folder is owner-only (the trust store, the quarantine, demo/)
  if (process.platform !== 'win32') {
    const open: string[] = [];
    (function walk(dir: string): void {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const p = path.join(dir, e.name);
        if ((fs.statSync(p).mode & 0o777) !== 0o700) open.push(path.relative(h, p));
        walk(p);
      }
    })(h);
    assert.deepEqual(open, [], 'folders of the data folder that are not 0700');
  }
});

test('scores equal a direct onnxruntime-node session.run on the same inputs, exactly', async () => {
  const out = path.join(root, 'exact.csv');
  const r = await runCli(['score', SAMPLE, '--model', 'seattle-weather', '--out', out, '--id', 'date', '--json'], { home });
  assert.equal(r.code, 0, r.stderr);
  const res = lastJson(r.stdout) as { job: { rowsScored: number } };
  assert.equal(res.job.rowsScored, 365);

  const [header, ...rows] = fs.readFileSync(SAMPLE, 'utf8').trim().split('\n').map((l) => l.split(','));
  const col = (name: string) => rows.map((r) => r[header.indexOf(name)]);
  const f32 = (name: string) => new ort.Tensor('float32', Float32Array.from(col(name), Number), [rows.length, 1]);
  const session = await ort.InferenceSession.create(path.join(DEMO_PKG, 'model.onnx'));
  const want = await session.run({ precipitation: f32('precipitation'), temp_max: f32('temp_max'), temp_min: f32('temp_min'), wind: f32('wind'), season: new ort.Tensor('string', col('season'), [rows.length, 1]) });
  const probs = want.probabilities.data as Float32Array;
  const labels = want.label.data as BigInt64Array;
  const classes = ['drizzle', 'fog', 'rain', 'snow', 'sun'];

  const [outHeader, ...outRows] = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => l.split(','));
  assert.deepEqual(outHeader, ['date', 'label', ...classes.map((c) => `p_${c}`)]);
  outRows.forEach((o, i) => {
    assert.equal(o[0], col('date')[i]);
    assert.equal(o[1], classes[Number(labels[i])], `label of row ${i + 1}`);
    for (let c = 0; c < 5; c++) assert.equal(Math.fround(Number(o[2 + c])), probs[i * 5 + c], `row ${i + 1} p_${classes[c]}: ${o[2 + c]}`);
  });
});

/** Runs a command that must fail; returns how many jobs it added to the store (should be none). */
async function expectFailure(args: string[], code: number, pattern: RegExp) {
  const jobsBefore = jobCount(home);
  const r = await runCli(args, { home });
  assert.equal(r.code, code, `exit code for ${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  return { r, newJobs: jobCount(home) - jobsBefore };
}

test('bad input files fail up front with the file and reason, and leave no job in the store', async () => {
  const write = (name: string, content: string | Buffer) => {
    const p = path.join(root, name);
    fs.writeFileSync(p, content);
    return p;
  };
  const missingCols = write('missing.csv', 'date,precipitation,temp_max\n2015-01-01,0,5\n');
  const failures = [
    await expectFailure(['score', missingCols, '--model', 'seattle-weather'], 1, /missing\.csv: missing required columns "temp_min", "wind", "season"/),
    await expectFailure(['score', write('empty.csv', ''), '--model', 'seattle-weather'], 1, /empty\.csv.*empty/i),
    await expectFailure(['score', write('header-only.csv', 'date,precipitation,temp_max,temp_min,wind,season\n'), '--model', 'seattle-weather'], 1, /header-only\.csv.*(no data rows|header only)/i),
    await expectFailure(['score', write('garbage.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0xff, 0xfe, 0, 1, 2, 3, 10, 0, 0])), '--model', 'seattle-weather'], 1, /garbage\.csv/),
  ];
  assert.deepEqual(failures.map((f) => f.newJobs), [0, 0, 0, 0], 'a run that fails up front writes nothing to the store');
  await expectFailure(['score', path.join(root, 'does-not-exist.csv'), '--model', 'seattle-weather'], 1, /does-not-exist\.csv/);
  await expectFailure(['score', write('fake.parquet', 'not parquet at all'), '--model', 'seattle-weather'], 1, /fake\.parquet/);
  await expectFailure(['score', SAMPLE, '--model', 'no-such-model'], 1, /no model "no-such-model" is installed/);
});

test('bad usage exits 2 with the reason', async () => {
  await expectFailure(['score', SAMPLE], 2, /--model is required/);
  await expectFailure(['score', SAMPLE, '--model', 'seattle-weather', '--batch', '0'], 2, /--batch must be a whole number/);
  await expectFailure(['score', SAMPLE, '--model', 'seattle-weather', '--batch', '0x10'], 2, /--batch must be a whole number from 1 to 1048576 \(got "0x10"\)/);
  await expectFailure(['score', SAMPLE, '--model', 'seattle-weather', '--checkpoint-rows', '1e3'], 2, /--checkpoint-rows must be a whole number of rows of at least 1 \(got "1e3"\)/);
  await expectFailure(['jobs', '--limit', '0x10'], 2, /--limit must be a whole number from 1 to 100000 \(got "0x10"\)/);
  await expectFailure(['score', SAMPLE, '--model', 'seattle-weather', '--format', 'xlsx'], 2, /--format must be one of csv, jsonl, parquet/);
  await expectFailure(['score', SAMPLE, '--model', 'seattle-weather', '--bogus'], 2, /Unknown option '--bogus'/);
  await expectFailure(['score', SAMPLE, '--model', 'seattle-weather', '--id', 'nope'], 2, /--id column "nope" is not in the file/);
  await expectFailure(['frobnicate'], 2, /unknown command "frobnicate"/);
  await expectFailure(['models', 'add', DEMO_PKG], 2, /--allow-unsigned/);
});

test('bad rows go to a rejects file with row, column and reason; the good rows are scored', async () => {
  const lines = fs.readFileSync(SAMPLE, 'utf8').trim().split('\n');
  const header = lines[0];
  const body = lines.slice(1, 41);
  body[2] = body[2].replace(/,winter,/, ',monsoon,'); // unseen category (row 3)
  body[4] = body[4].replace(/^([^,]*),[^,]*,/, '$1,lots,'); // unparsable number (row 5)
  body[6] = body[6].split(',').slice(0, 4).join(','); // wrong field count (row 7)
  body[8] = body[8].replace(/^([^,]*),[^,]*,/, '$1,9999,'); // above the declared range (row 9)
  body[10] = body[10].replace(/^([^,]*),([^,]*),([^,]*),/, '$1,$2,,'); // missing non-nullable temp_max (row 11)
  const bad = Buffer.concat([Buffer.from([header, ...body.slice(0, 12)].join('\n') + '\n'), Buffer.from('2015-02-01,0,5,1,2,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n'), Buffer.from(body.slice(12).join('\n') + '\n')]);
  const file = path.join(root, 'bad-rows.csv');
  fs.writeFileSync(file, bad);
  const out = path.join(root, 'bad-rows.scored.csv');
  const r = await runCli(['score', file, '--model', 'seattle-weather', '--out', out, '--id', 'date'], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Scored 35 of 41 rows/);
  assert.match(r.stdout, /rejected: 6 rows/);
  // six kinds of reject: five listed, the sixth counted rather than left out silently
  assert.equal(r.stdout.split('\n').filter((l) => / × /.test(l)).length, 5);
  assert.match(r.stdout, /… and 1 more kind of reject \(1 row\): every row is in the rejects file/);
  const rejects = fs.readFileSync(path.join(root, 'bad-rows.scored.rejects.csv'), 'utf8').trim().split('\n');
  assert.equal(rejects[0], 'row,column,reason,value');
  const byRow = new Map(rejects.slice(1).map((l) => [Number(l.split(',')[0]), l]));
  assert.match(byRow.get(3)!, /season,"""monsoon"" is not in the vocabulary/);
  assert.match(byRow.get(5)!, /precipitation,"cannot parse ""lots"" as a number",lots/);
  assert.match(byRow.get(7)!, /expected 7 fields, found 4/);
  assert.match(byRow.get(9)!, /precipitation,9999 is above the maximum 2000/);
  assert.match(byRow.get(11)!, /temp_max,missing value in a non-nullable column/);
  assert.match(byRow.get(13)!, /UTF-8/i);
  assert.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, 36);
});

test('a mostly-garbage file is stopped by --max-reject-rate and leaves no output', async () => {
  const rows = ['date,precipitation,temp_max,temp_min,wind,season'];
  for (let i = 0; i < 200; i++) rows.push(i % 4 === 0 ? `d${i},1,10,5,3,summer` : `d${i},x,y,z,w,never`);
  const file = path.join(root, 'mostly-bad.csv');
  fs.writeFileSync(file, rows.join('\n') + '\n');
  const out = path.join(root, 'mostly-bad.out.csv');
  const r = await runCli(['score', file, '--model', 'seattle-weather', '--out', out], { home });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /150 of 200 rows rejected \(75\.0%, limit 20\.0%/);
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(root).filter((n) => n.includes('mostly-bad.out')), ['mostly-bad.out.rejects.csv'], 'no temp files left behind; the rejects are kept');
  const ok = await runCli(['score', file, '--model', 'seattle-weather', '--out', out, '--max-reject-rate', '0.9', '--overwrite'], { home });
  assert.equal(ok.code, 0, ok.stderr);
});

test('the prediction log keeps outputs and (per policy) inputs of every scored row', async () => {
  const h = path.join(root, 'log-home');
  assert.equal((await runCli(['models', 'add', DEMO_PKG, '--allow-unsigned'], { home: h })).code, 0);
  const s = openStore(h);
  updateSettings(s, { logInputs: 'all' });
  s.close();
  const out = path.join(root, 'logged.csv');
  const r = await runCli(['score', SAMPLE, '--model', 'seattle-weather', '--out', out, '--id', 'date', '--json'], { home: h });
  assert.equal(r.code, 0, r.stderr);
  const jobId = (lastJson(r.stdout) as { job: { id: string } }).job.id;
  const store = openStore(h);
  try {
    const rows = pagePredictions(store, { jobId, limit: 1000 });
    assert.equal(rows.length, 365);
    const [header, ...lines] = fs.readFileSync(SAMPLE, 'utf8').trim().split('\n').map((l) => l.split(','));
    const outLines = fs.readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    rows.forEach((p, i) => {
      assert.equal(p.row, i + 1);
      assert.equal(p.values.id, lines[i][0]);
      assert.equal(p.values.label, outLines[i][1]);
      assert.equal(p.values['input.temp_max'], Math.fround(Number(lines[i][header.indexOf('temp_max')])), `logged input of row ${i + 1}`);
      assert.equal(p.values['input.season'], lines[i][header.indexOf('season')]);
    });
  } finally {
    store.close();
  }
});

test('an installed model file modified on disk is refused at scoring time and recorded', async () => {
  const h = path.join(root, 'tamper-home');
  assert.equal((await runCli(['models', 'add', DEMO_PKG, '--allow-unsigned'], { home: h })).code, 0);
  const installed = path.join(h, 'models', 'seattle-weather', '1', 'model.onnx');
  const bytes = fs.readFileSync(installed);
  bytes[bytes.length - 5] ^= 1; // same length, one bit flipped in a weight
  fs.writeFileSync(installed, bytes);
  const r = await runCli(['score', SAMPLE, '--model', 'seattle-weather', '--out', path.join(root, 'tampered.csv')], { home: h });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /model\.onnx: the installed model file was modified on disk/);
  assert.equal(fs.existsSync(path.join(root, 'tampered.csv')), false);
  const db = new Database(path.join(h, 'outpost.db'), { readonly: true });
  const ev = db.prepare("SELECT kind FROM security_events").all() as { kind: string }[];
  db.close();
  assert.deepEqual(ev.map((e) => e.kind), ['installed-file-modified']);
  assert.equal(jobCount(h), 0);
});

test('provider: auto picks cpu and says why not cuda/webgpu; an explicit --ep cuda fails with the reason', async () => {
  const r = await runCli(['score', SAMPLE, '--model', 'seattle-weather', '--out', path.join(root, 'p.csv'), '--json'], { home });
  assert.equal(r.code, 0, r.stderr);
  const res = lastJson(r.stdout) as { job: { provider: string; providerSummary: string } };
  assert.equal(res.job.provider, 'cpu');
  assert.match(res.job.providerSummary, /cuda/);
  assert.match(res.job.providerSummary, /webgpu/);
  const f = await runCli(['score', SAMPLE, '--model', 'seattle-weather', '--ep', 'cuda'], { home });
  assert.equal(f.code, 1);
  assert.match(f.stderr, /cuda/i);
});

test('JSONL and Parquet in and out give the same predictions as CSV', async () => {
  const csvOut = path.join(root, 'fmt.csv');
  assert.equal((await runCli(['score', SAMPLE, '--model', 'seattle-weather', '--out', csvOut, '--id', 'date'], { home })).code, 0);
  const [header, ...rows] = fs.readFileSync(SAMPLE, 'utf8').trim().split('\n').map((l) => l.split(','));
  const jsonl = path.join(root, 'sample.jsonl');
  fs.writeFileSync(jsonl, rows.map((r) => JSON.stringify(Object.fromEntries(header.map((h, i) => [h, ['date', 'season', 'weather'].includes(h) ? r[i] : Number(r[i])])))).join('\n') + '\n');
  const jsonlOut = path.join(root, 'fmt.jsonl');
  const j = await runCli(['score', jsonl, '--model', 'seattle-weather', '--out', jsonlOut, '--id', 'date'], { home });
  assert.equal(j.code, 0, j.stderr);
  const csvRows = fs.readFileSync(csvOut, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const jsonRows = fs.readFileSync(jsonlOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(jsonRows.length, csvRows.length);
  jsonRows.forEach((o, i) => {
    assert.equal(o.date, csvRows[i][0]);
    assert.equal(o.label, csvRows[i][1]);
    assert.equal(Math.fround(Number(o.p_sun)), Math.fround(Number(csvRows[i][6])));
  });
  const pq = path.join(root, 'fmt.parquet');
  const p = await runCli(['score', jsonl, '--model', 'seattle-weather', '--out', pq, '--id', 'date'], { home });
  assert.equal(p.code, 0, p.stderr);
  const { openSource } = await import('../src/io/node/open.ts');
  const src = await openSource(pq);
  assert.deepEqual([...src.columns], ['date', 'label', 'p_drizzle', 'p_fog', 'p_rain', 'p_snow', 'p_sun']);
  let n = 0;
  for await (const b of src.batches([{ name: 'p_sun', kind: 'number' }, { name: 'label', kind: 'string' }], { batchRows: 1000 })) {
    for (let i = 0; i < b.length; i++, n++) {
      assert.equal(Math.fround((b.columns[0] as { values: Float64Array }).values[i]), Math.fround(Number(csvRows[n][6])));
      assert.equal((b.columns[1] as { values: string[] }).values[i], csvRows[n][1]);
    }
  }
  await src.close();
  assert.equal(n, 365);
});

test('score, predict and models list end the process as soon as their work is done, output complete; a usage error still waits for the spare worker; other commands exit as Node does', async () => {
  // A 'beforeExit' listener runs only on Node's natural exit: a scoring command that ends at once
  // (the launcher's process.exit once its output is flushed and nothing it started still runs) never
  // reaches it. A usage error returns while the spare inference worker is still loading ONNX
  // Runtime, so that process must go the natural way (ending it there could abort the worker).
  const marker = path.join(root, 'natural-exit.mjs');
  fs.writeFileSync(marker, "process.on('beforeExit', () => process.stderr.write('<natural exit>\\n'));\n");
  const env = { NODE_OPTIONS: `--import=${marker}` };
  const out = path.join(root, 'ends-at-once.csv');
  const score = await runCli(['score', SAMPLE, '--model', 'seattle-weather', '--out', out, '--id', 'date', '--json'], { home, env });
  assert.equal(score.code, 0, score.stderr);
  assert.equal((lastJson(score.stdout) as { job: { rowsScored: number } }).job.rowsScored, 365, 'the last --json line arrived');
  assert.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, 366);
  assert.doesNotMatch(score.stderr, /<natural exit>/, 'score ended at once');
  const record = JSON.stringify({ precipitation: 0, temp_max: 5.6, temp_min: -3.2, wind: 1.2, season: 'winter' });
  const predict = await runCli(['predict', '--model', 'seattle-weather', '--input', record], { home, env });
  assert.equal(predict.code, 0, predict.stderr);
  assert.match(predict.stdout, /^label=\w+ p_drizzle=/);
  assert.doesNotMatch(predict.stderr, /<natural exit>/, 'predict ended at once');
  const usage = await runCli(['score', SAMPLE, '--model', 'seattle-weather', '--format', 'xlsx'], { home, env });
  assert.equal(usage.code, 2, usage.stderr);
  assert.match(usage.stderr, /<natural exit>/, 'a usage error waits for the spare worker');
  const list = await runCli(['models', 'list', '--json'], { home, env });
  assert.equal(list.code, 0, list.stderr);
  assert.equal((lastJson(list.stdout) as { models: { name: string }[] }).models[0].name, 'seattle-weather');
  assert.doesNotMatch(list.stderr, /<natural exit>/, 'models list ended at once');
  const jobs = await runCli(['jobs', 'list'], { home, env });
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.match(jobs.stderr, /<natural exit>/);
});
