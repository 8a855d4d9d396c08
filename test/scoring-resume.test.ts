// SIGKILL a scoring run mid-file, resume it, and compare with an uninterrupted run: the output must
// be byte-identical and the prediction log must hold every row exactly once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { getJob } from '../src/store/node/jobs.ts';
import { countPredictions, pagePredictions } from '../src/store/node/predictions.ts';
import { openStore } from '../src/store/node/store.ts';
import { lastJson, onEvents, REPO, runCli, startCli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

const ROWS = 600_000;

function bigInput(): string {
  const [header, ...rows] = fs.readFileSync(path.join(REPO, 'models/demo/weather-2015.csv'), 'utf8').trim().split('\n');
  const file = path.join(root, 'big.csv');
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, `id,${header}\n`);
  let chunk = '';
  for (let i = 0; i < ROWS; i++) {
    chunk += `r${i},${rows[i % rows.length]}\n`;
    if (chunk.length > 1 << 20) { fs.writeSync(fd, chunk); chunk = ''; }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  return file;
}

let sharedInput: string | undefined;
const input = () => (sharedInput ??= bigInput());

/** Start `score … --json` and SIGKILL it past at least one checkpoint and well before the end; the job's id and where it was killed. */
async function killMidRun(args: string[], home: string): Promise<{ jobId: string; rowsAtKill: number }> {
  const child = startCli(args, { home });
  let jobId = '';
  let rowsAtKill = 0;
  await new Promise<void>((resolve, reject) => {
    onEvents(child, (ev) => {
      if (ev.event === 'started') jobId = ev.jobId;
      if (ev.event === 'progress' && ev.rowsRead! > 100_000 && !rowsAtKill) {
        rowsAtKill = ev.rowsRead!;
        child.kill('SIGKILL');
      }
    });
    child.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the run ended by itself (code ${code}) before it could be killed; rowsAtKill=${rowsAtKill}`))));
  });
  return { jobId, rowsAtKill };
}

/** Start `score … --json` and Ctrl-C (SIGINT) it once past 50,000 rows; the job's id, its exit code and stderr. */
async function interruptMidRun(args: string[], home: string): Promise<{ jobId: string; code: number | null; stderr: string }> {
  const child = startCli(args, { home });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let jobId = '';
  let interrupted = false;
  onEvents(child, (ev) => {
    if (ev.event === 'started') jobId = ev.jobId;
    if (ev.event === 'progress' && ev.rowsRead! > 50_000 && !interrupted) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.ok(interrupted, `the run ended before it could be interrupted: ${stderr}`);
  return { jobId, code, stderr };
}

test('a SIGKILLed job resumes from its last checkpoint with no duplicated or missing rows', async () => {
  const home = path.join(root, 'home');
  const add = await runCli(['models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'], { home });
  assert.equal(add.code, 0, add.stderr);
  const common = ['--model', 'seattle-weather', '--id', 'id', '--batch', '4096', '--checkpoint-rows', '40000'];

  const refOut = path.join(root, 'reference.csv');
  const ref = await runCli(['score', input(), ...common, '--out', refOut], { home });
  assert.equal(ref.code, 0, ref.stderr);

  const out = path.join(root, 'killed.csv');
  const { jobId, rowsAtKill } = await killMidRun(['score', input(), ...common, '--out', out, '--json'], home);
  assert.ok(jobId, 'the job announced its id');
  assert.ok(rowsAtKill < ROWS, 'killed mid-file');
  assert.equal(fs.existsSync(out), false, 'a killed run leaves no file that looks complete');

  const resumed = await runCli(['score', '--resume', jobId, '--json'], { home });
  assert.equal(resumed.code, 0, resumed.stderr);
  const res = lastJson(resumed.stdout) as { job: { rowsRead: number; rowsScored: number; status: string } };
  assert.equal(res.job.status, 'completed');
  assert.equal(res.job.rowsRead, ROWS);
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(refOut)), 'resumed output is byte-identical to an uninterrupted run');

  const store = openStore(home);
  try {
    assert.equal(countPredictions(store, { jobId }), ROWS, 'every row logged exactly once');
    const rows = pagePredictions(store, { jobId, limit: ROWS });
    const seen = new Set(rows.map((r) => r.row));
    assert.equal(seen.size, ROWS);
    let min = Infinity;
    let max = -Infinity;
    for (const r of seen) { min = Math.min(min, r); max = Math.max(max, r); }
    assert.deepEqual([min, max], [1, ROWS]);
  } finally {
    store.close();
  }

  const again = await runCli(['score', '--resume', jobId], { home });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already completed/);
});

test('Ctrl-C (SIGINT) stops cleanly: the job is marked cancelled, says how to resume, and resumes to the same output', async () => {
  const home = path.join(root, 'home-sigint');
  assert.equal((await runCli(['models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'], { home })).code, 0);
  const out = path.join(root, 'interrupted.csv');
  const { jobId, code, stderr } = await interruptMidRun(['score', input(), '--model', 'seattle-weather', '--id', 'id', '--out', out, '--json'], home);
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`cancelled after \\d+ rows; resume with: outpost score --resume ${jobId}`));
  assert.equal(fs.existsSync(out), false, 'no output that looks complete');
  const store = openStore(home);
  try {
    assert.equal(getJob(store, jobId).status, 'cancelled');
  } finally {
    store.close();
  }
  const resumed = await runCli(['score', '--resume', jobId], { home });
  assert.equal(resumed.code, 0, resumed.stderr);
  const reference = path.join(root, 'reference.csv');
  assert.ok(fs.existsSync(reference), 'the uninterrupted reference from the first test');
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(reference)), 'resumed after Ctrl-C: identical to an uninterrupted run');
});

test('a resume that cannot reopen its output (the Ctrl-C side file gone) fails, and leaves no partial file of the output or the rejects behind', async () => {
  const home = path.join(root, 'home-parquet-lost');
  assert.equal((await runCli(['models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'], { home })).code, 0);
  const dir = path.join(root, 'lost');
  fs.mkdirSync(dir);
  const out = path.join(dir, 'lost.parquet');
  // no regular checkpoint before the end (600,000 rows) and 10,000-row batches: the stop always leaves a row group open
  const { jobId, code, stderr } = await interruptMidRun(['score', input(), '--model', 'seattle-weather', '--id', 'id', '--batch', '10000', '--checkpoint-rows', '1000000', '--out', out, '--json'], home);
  assert.equal(code, 1, stderr);
  const store = openStore(home);
  let sideFile: string | undefined;
  try {
    sideFile = (getJob(store, jobId).checkpoint as { output: { sideFile?: string } }).output.sideFile;
  } finally {
    store.close();
  }
  assert.ok(sideFile && fs.existsSync(sideFile), 'the open row group was saved beside the partial file');
  fs.rmSync(sideFile);
  assert.ok(fs.readdirSync(dir).some((f) => f.includes('.partial-')), 'the partial files are there before the resume');
  const resumed = await runCli(['score', '--resume', jobId], { home });
  assert.equal(resumed.code, 1, resumed.stderr);
  assert.match(resumed.stderr, /no longer exists/);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.partial-')), [], 'no partial or side file left by the failed job');
});

test('a cancelled job whose input changed since is not offered for resuming: --resume and a new run to its output both point to jobs rm', async () => {
  const home = path.join(root, 'home-changed');
  assert.equal((await runCli(['models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'], { home })).code, 0);
  const file = path.join(root, 'changing.csv');
  fs.copyFileSync(input(), file);
  const out = path.join(root, 'changing.scored.csv');
  const { jobId, code, stderr } = await interruptMidRun(['score', file, '--model', 'seattle-weather', '--id', 'id', '--out', out, '--json'], home);
  assert.equal(code, 1, stderr);
  fs.appendFileSync(file, 'r-new,2015-12-31,0,5,1,2,winter\n');
  const resumed = await runCli(['score', '--resume', jobId], { home });
  assert.equal(resumed.code, 1, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`changed or disappeared since the job started; start a new run \\(outpost jobs rm ${jobId} --yes removes this job`));
  const again = await runCli(['score', file, '--model', 'seattle-weather', '--id', 'id', '--out', out], { home });
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, new RegExp(`is the output of job ${jobId}, which is cancelled, but its input .*changing\\.csv changed since it started, so it cannot be resumed; remove it \\(outpost jobs rm ${jobId} --yes\\) or choose another --out`));
  assert.doesNotMatch(again.stderr, /resume it/);
});

test('a job that another live process is running cannot be resumed in parallel, and is left alone', async () => {
  const home = path.join(root, 'home-lock');
  assert.equal((await runCli(['models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'], { home })).code, 0);
  // Small batches keep the first run going well past the moment the second one tries the lock.
  const child = startCli(['score', input(), '--model', 'seattle-weather', '--batch', '256', '--out', path.join(root, 'locked.csv'), '--json'], { home });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const jobId = await new Promise<string>((resolve, reject) => {
    onEvents(child, (ev) => { if (ev.event === 'started') resolve(ev.jobId); });
    child.on('close', () => reject(new Error('the first run ended before announcing its job')));
  });
  const second = await runCli(['score', '--resume', jobId], { home });
  const firstCode = await closed;
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, new RegExp(`job ${jobId} is being run by process \\d+`));
  assert.equal(firstCode, 0, 'the first run finished undisturbed');
  const store = openStore(home);
  try {
    assert.equal(getJob(store, jobId).status, 'completed');
  } finally {
    store.close();
  }
});

test('a Parquet output with its own --checkpoint-rows, killed and resumed without repeating options, is byte-identical; options beside --resume are refused', async () => {
  const home = path.join(root, 'home-parquet');
  assert.equal((await runCli(['models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'], { home })).code, 0);
  const common = ['--model', 'seattle-weather', '--id', 'id', '--batch', '4096', '--checkpoint-rows', '40000'];
  const refOut = path.join(root, 'reference.parquet');
  const ref = await runCli(['score', input(), ...common, '--out', refOut], { home });
  assert.equal(ref.code, 0, ref.stderr);
  const out = path.join(root, 'killed.parquet');
  const { jobId } = await killMidRun(['score', input(), ...common, '--out', out, '--json'], home);
  // the job keeps its options: anything given again is bad usage, and nothing runs
  for (const extra of [['--batch', '7'], ['--checkpoint-rows', '1000'], ['--ep', 'cpu'], ['--overwrite']]) {
    const r = await runCli(['score', '--resume', jobId, ...extra], { home });
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`--resume takes only the job id .*; drop ${extra[0]}`));
  }
  const resumed = await runCli(['score', '--resume', jobId], { home });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(refOut)), 'resumed Parquet output is byte-identical: its row groups fall where an uninterrupted run puts them');
});

test('a Parquet output stopped by Ctrl-C mid row group and resumed is byte-identical to an uninterrupted run (default row groups and checkpoints)', async () => {
  const home = path.join(root, 'home-parquet-sigint');
  assert.equal((await runCli(['models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'], { home })).code, 0);
  // 10,000-row batches: a stop between batches can never fall on a row-group boundary (131,072 rows),
  // as it can with the default 32,768 (4 batches to a group), where no group is left open
  const common = ['--model', 'seattle-weather', '--id', 'id', '--batch', '10000'];
  const refOut = path.join(root, 'reference-default.parquet');
  const ref = await runCli(['score', input(), ...common, '--out', refOut], { home });
  assert.equal(ref.code, 0, ref.stderr);
  const out = path.join(root, 'interrupted.parquet');
  const { jobId, code, stderr } = await interruptMidRun(['score', input(), ...common, '--out', out, '--json'], home);
  assert.equal(code, 1, stderr);
  const store = openStore(home);
  try {
    const job = getJob(store, jobId);
    assert.equal(job.status, 'cancelled');
    // The stop lands inside a row group and the group is kept open — unless it landed right after the
    // regular checkpoint at 270,000 rows (which ends a group: a slow checkpoint is where a signal
    // often lands on a loaded machine), where there is no open group to keep.
    const state = job.checkpoint as { output: { sideFile?: string }; sinceCheckpoint?: number };
    if (state.sinceCheckpoint === undefined && job.rowsRead >= 262_144) assert.equal(state.output.sideFile, undefined, 'no open group, no side file');
    else assert.ok(state.output.sideFile && fs.existsSync(state.output.sideFile), 'the open row group was saved beside the partial file');
  } finally {
    store.close();
  }
  const resumed = await runCli(['score', '--resume', jobId], { home });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(refOut)), 'resumed after Ctrl-C: row groups where an uninterrupted run puts them');
  assert.deepEqual(fs.readdirSync(root).filter((f) => f.startsWith('.interrupted.parquet.partial-')), [], 'no partial or side file left');
});
