// `outpost jobs` and `outpost settings` through the real CLI entry point (in process): listing,
// showing and removing jobs (record, logged predictions, files), a killed job shown as stopped and
// resumable, settings validated by the one schema with exit 2 on bad keys and values.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { countPredictions } from '../src/store/node/predictions.ts';
import { getJob } from '../src/store/node/jobs.ts';
import { getSettings, openStore } from '../src/store/node/store.ts';
import { DEMO_CSV, DEMO_PACKAGE } from './helpers/app-harness.ts';
import { jsonLines, lastJson, onEvents, runMain as cli, startCli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir('outpost-cli-jobs-');
const home = path.join(root, 'home');
after(() => fs.rmSync(root, { recursive: true, force: true }));

before(async () => {
  const r = await cli(['--home', home, 'models', 'add', DEMO_PACKAGE, '--allow-unsigned']);
  assert.equal(r.code, 0, r.err);
});

async function score(out: string, extra: string[] = []) {
  const r = await cli(['--home', home, 'score', DEMO_CSV, '--model', 'seattle-weather', '--out', out, ...extra]);
  assert.equal(r.code, 0, r.err);
  return r;
}

test('plain-mode score prints the job id when the job starts, with a resume command that exists', async () => {
  const r = await score(path.join(root, 'plain.csv'));
  const m = /^Job (j\d{8}-[0-9a-f]{8}): .*weather-2015\.csv with seattle-weather@1 → .*plain\.csv$/m.exec(r.out);
  assert.ok(m, r.out);
  assert.ok(r.out.indexOf(m[0]) < r.out.indexOf('Scored 365'), 'the id comes first');
  assert.match(r.out, new RegExp(`outpost score --resume ${m[1]}; see outpost jobs show ${m[1]}`));
  const shown = await cli(['--home', home, 'jobs', 'show', m[1]]);
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.out, /completed/);
});

test('jobs list / show: status, counters, model, input and output; filters; unknown id is not-found', async () => {
  const out = path.join(root, 'listed.csv');
  const r = await score(out, ['--json']);
  const id = (lastJson(r.out) as { job: { id: string } }).job.id;
  const list = await cli(['--home', home, 'jobs', '--json']);
  assert.equal(list.code, 0, list.err);
  const jobs = (lastJson(list.out) as { jobs: { id: string; state: string; rowsRead: number; rowsScored: number; modelName: string; inputPath: string; outputPath: string }[] }).jobs;
  const j = jobs.find((x) => x.id === id)!;
  assert.equal(j.state, 'completed');
  assert.equal(j.rowsRead, 365);
  assert.equal(j.rowsScored, 365);
  assert.equal(j.modelName, 'seattle-weather');
  assert.equal(j.inputPath, DEMO_CSV);
  assert.equal(j.outputPath, out);
  assert.equal(jobs[0].id, id, 'newest first');

  const plain = await cli(['--home', home, 'jobs', 'list']);
  assert.match(plain.out, new RegExp(`${id}  completed  seattle-weather@1 .* read 365, scored 365, rejected 0`));
  assert.ok(plain.out.includes(`${DEMO_CSV} → ${out}`));
  assert.equal((lastJson((await cli(['--home', home, 'jobs', '--status', 'failed', '--json'])).out) as { jobs: unknown[] }).jobs.length, 0);
  assert.equal((lastJson((await cli(['--home', home, 'jobs', '--model', 'other', '--json'])).out) as { jobs: unknown[] }).jobs.length, 0);
  const bad = await cli(['--home', home, 'jobs', '--status', 'weird']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--status must be one of/);

  const show = await cli(['--home', home, 'jobs', 'show', id, '--json']);
  assert.equal(jsonLines(show.out).length, 1);
  assert.equal((lastJson(show.out) as { job: { outputExists: boolean } }).job.outputExists, true);
  const missing = await cli(['--home', home, 'jobs', 'show', 'j20200101-00000000']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no job "j20200101-00000000" in this store \(see `outpost jobs`\)/);
});

test('jobs rm needs --yes; then removes the record, its logged predictions, output and rejects files', async () => {
  const dir = path.join(root, 'rm');
  fs.mkdirSync(dir);
  const input = path.join(dir, 'in.csv');
  fs.writeFileSync(input, fs.readFileSync(DEMO_CSV, 'utf8') + '2015-13-01,x,1,1,1,winter,sun\n');
  const out = path.join(dir, 'out.csv');
  const r = await cli(['--home', home, 'score', input, '--model', 'seattle-weather', '--out', out, '--json']);
  assert.equal(r.code, 0, r.err);
  const id = (lastJson(r.out) as { job: { id: string } }).job.id;
  const rejects = path.join(dir, 'out.rejects.csv');
  assert.ok(fs.existsSync(out) && fs.existsSync(rejects));

  const dry = await cli(['--home', home, 'jobs', 'rm', id]);
  assert.equal(dry.code, 2);
  assert.match(dry.err, new RegExp(`would remove job ${id}, its 365 logged predictions and .*out\\.csv, .*out\\.rejects\\.csv`));
  assert.match(dry.err, /add --yes/);
  assert.ok(fs.existsSync(out), 'nothing removed without --yes');

  const rm = await cli(['--home', home, 'jobs', 'rm', id, '--yes', '--json']);
  assert.equal(rm.code, 0, rm.err);
  assert.deepEqual((lastJson(rm.out) as { removed: { predictions: number }[] }).removed.map((x) => x.predictions), [365]);
  assert.deepEqual(fs.readdirSync(dir), ['in.csv']);
  const store = openStore(home);
  try {
    assert.throws(() => getJob(store, id), /no job/);
    assert.equal(countPredictions(store, { jobId: id }), 0);
  } finally {
    store.close();
  }
  assert.equal((await cli(['--home', home, 'jobs', 'rm', id, '--yes'])).code, 1);

  // an input the app uploaded (into <home>/uploads/u-…) goes with its only job; a shared one stays
  const upload = path.join(home, 'uploads', 'u-test1');
  fs.mkdirSync(upload, { recursive: true });
  fs.copyFileSync(DEMO_CSV, path.join(upload, 'in.csv'));
  const ids: string[] = [];
  for (const n of [1, 2]) {
    const s = await cli(['--home', home, 'score', path.join(upload, 'in.csv'), '--model', 'seattle-weather', '--out', path.join(dir, `up${n}.csv`), '--json']);
    assert.equal(s.code, 0, s.err);
    ids.push((lastJson(s.out) as { job: { id: string } }).job.id);
  }
  assert.equal((await cli(['--home', home, 'jobs', 'rm', ids[0], '--yes'])).code, 0);
  assert.ok(fs.existsSync(upload), 'still the input of the other job');
  assert.equal((await cli(['--home', home, 'jobs', 'rm', ids[1], '--yes'])).code, 0);
  assert.equal(fs.existsSync(upload), false, 'removed with its last job');
});

test('jobs rm: `_` and `%` in an upload folder name are literal, not wildcards matching another folder', async () => {
  const dir = path.join(root, 'rm-like');
  fs.mkdirSync(dir);
  const ids = new Map<string, string>();
  // `u-a_%b/` as a LIKE pattern also matches `u-aXYb/…`: that job does not share the `u-a_%b` upload
  for (const name of ['u-a_%b', 'u-aXYb']) {
    const upload = path.join(home, 'uploads', name);
    fs.mkdirSync(upload, { recursive: true });
    fs.copyFileSync(DEMO_CSV, path.join(upload, 'in.csv'));
    const s = await cli(['--home', home, 'score', path.join(upload, 'in.csv'), '--model', 'seattle-weather', '--out', path.join(dir, `${name}.csv`), '--json']);
    assert.equal(s.code, 0, s.err);
    ids.set(name, (lastJson(s.out) as { job: { id: string } }).job.id);
  }
  const rm = await cli(['--home', home, 'jobs', 'rm', ids.get('u-a_%b')!, '--yes', '--json']);
  assert.equal(rm.code, 0, rm.err);
  assert.ok((lastJson(rm.out) as { removed: { files: string[] }[] }).removed[0].files.includes(path.join(home, 'uploads', 'u-a_%b')));
  assert.equal(fs.existsSync(path.join(home, 'uploads', 'u-a_%b')), false, 'its only job is gone, so the upload goes');
  assert.ok(fs.existsSync(path.join(home, 'uploads', 'u-aXYb')), 'the other job\'s upload stays');
});

test('a job killed mid-run is listed as stopped (resumable), with the resume command; rm refuses a live one', async () => {
  const input = path.join(root, 'big.csv');
  const body = fs.readFileSync(DEMO_CSV, 'utf8').split('\n').slice(1).filter(Boolean).join('\n') + '\n';
  fs.writeFileSync(input, 'date,precipitation,temp_max,temp_min,wind,season,weather\n' + body.repeat(400));
  const child = startCli(['score', input, '--model', 'seattle-weather', '--out', path.join(root, 'big.out.csv'), '--json', '--batch', '1024'], { home });
  const exited = new Promise((r) => child.on('close', r));
  // killed as soon as it says it started: long before 146,000 rows are through
  const id = await new Promise<string>((resolve) => onEvents(child, (ev) => { if (ev.event === 'started') { child.kill('SIGKILL'); resolve(ev.jobId); } }));
  await exited;
  const show = await cli(['--home', home, 'jobs', 'show', id]);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, new RegExp(`^${id}  stopped`));
  assert.match(show.out, new RegExp(`resume with: outpost score --resume ${id}`));
  const stopped = await cli(['--home', home, 'jobs', '--status', 'stopped', '--json']);
  assert.ok((lastJson(stopped.out) as { jobs: { id: string }[] }).jobs.some((j) => j.id === id));
  assert.ok(!(lastJson((await cli(['--home', home, 'jobs', '--status', 'running', '--json'])).out) as { jobs: { id: string }[] }).jobs.some((j) => j.id === id));

  // a live process holding the job's lock (this one): shown as running, and rm refuses
  const lock = path.join(home, 'jobs', `${id}.lock`);
  fs.writeFileSync(lock, String(process.pid));
  assert.match((await cli(['--home', home, 'jobs', 'show', id])).out, new RegExp(`^${id}  running \\(process ${process.pid}\\)`));
  const live = await cli(['--home', home, 'jobs', 'rm', id, '--yes']);
  assert.equal(live.code, 1);
  assert.match(live.err, new RegExp(`job ${id} is running \\(process ${process.pid}\\); stop it first`));
  fs.rmSync(lock);

  const rm = await cli(['--home', home, 'jobs', 'rm', id, '--yes']);
  assert.equal(rm.code, 0, rm.err);
  assert.deepEqual(fs.readdirSync(root).filter((n) => n.includes('big.out')), [], 'partial files removed too');
});

test('settings: get all / one, set with units, reset; unknown keys and bad values exit 2 naming what is allowed', async () => {
  const h = path.join(root, 'settings-home');
  const all = await cli(['--home', h, 'settings', '--json']);
  assert.equal(all.code, 0, all.err);
  assert.equal((lastJson(all.out) as { settings: { logInputs: string } }).settings.logInputs, 'sampled');
  const plain = await cli(['--home', h, 'settings']);
  assert.match(plain.out, /^logInputs +sampled +\(default\)$/m);
  assert.match(plain.out, /^retentionMaxBytes +2GiB +\(default\)$/m);

  const set = await cli(['--home', h, 'settings', 'set', 'retentionMaxBytes', '512MiB']);
  assert.equal(set.code, 0, set.err);
  assert.match(set.out, /retentionMaxBytes = 512MiB/);
  assert.equal((await cli(['--home', h, 'settings', 'set', 'logInputs', 'none'])).code, 0);
  assert.equal((await cli(['--home', h, 'settings', 'set', 'provider', 'cpu'])).code, 0);
  assert.equal((await cli(['--home', h, 'settings', 'set', 'csvSafe', 'true'])).code, 0);
  const one = await cli(['--home', h, 'settings', 'get', 'logInputs']);
  assert.match(one.out, /^logInputs  none$/m);
  assert.match(one.out, /allowed: all, sampled, none/);
  const store = openStore(h);
  try {
    const s = getSettings(store);
    assert.equal(s.retentionMaxBytes, 512 * 1024 * 1024);
    assert.equal(s.logInputs, 'none');
    assert.equal(s.provider, 'cpu');
    assert.equal(s.csvSafe, true);
  } finally {
    store.close();
  }

  for (const [args, message] of [
    [['set', 'nope', '1'], /unknown setting "nope" \(settings: logInputs, /],
    [['get', 'nope'], /unknown setting "nope"/],
    [['set', 'logInputs', 'some'], /setting "logInputs": .*allowed: all, sampled, none/],
    [['set', 'retentionMaxBytes', '10'], /setting "retentionMaxBytes": .*at least 1MiB/],
    [['set', 'retentionMaxAgeDays', 'soon'], /"soon" is not a number/],
    [['set', 'csvSafe', 'yes'], /setting "csvSafe": .*true or false/],
    [['set', 'allowedFolders', 'relative/dir'], /absolute folder path/],
  ] as const) {
    const r = await cli(['--home', h, 'settings', ...args, '--json']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, message);
    assert.equal((lastJson(r.out) as { error: { code: string } }).error.code, 'usage');
  }
  // a provider is checked like the app's Settings does: one that cannot work here is not saved (exit 1) unless --force
  const { chooseProvider } = await import('../src/inference/node/providers.ts');
  const works = await chooseProvider('cuda').then(() => true, () => false);
  const cuda = await cli(['--home', h, 'settings', 'set', 'provider', 'cuda']);
  if (works) assert.equal(cuda.code, 0, cuda.err);
  else {
    assert.equal(cuda.code, 1);
    assert.match(cuda.err, /not saved: .*pass --force to save it anyway/);
    const store2 = openStore(h);
    try { assert.equal(getSettings(store2).provider, 'cpu'); } finally { store2.close(); }
    const forced = await cli(['--home', h, 'settings', 'set', 'provider', 'cuda', '--force']);
    assert.equal(forced.code, 0, forced.err);
    assert.match(forced.err, /saved anyway \(--force\)/);
  }
  const reset = await cli(['--home', h, 'settings', 'reset', 'logInputs']);
  assert.match(reset.out, /logInputs = sampled {2}\(default\)/);
});
