// Small inputs format their output on the scoring thread (a writer thread costs more to start than
// it saves on a batch or two); large ones in a writer thread. Both must write the same bytes, for
// every output format, with rejects, over several batches and checkpoints.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { OutputFormat } from '../src/io/common/table.ts';
import { installPackage } from '../src/store/node/models.ts';
import { startSinkThread, openWorkerSink } from '../src/io/node/worker-sink.ts';
import { defaultBatchRows, scoreFile, WRITER_THREAD_MIN_BYTES } from '../src/scoring/node/score-file.ts';
import { openStore, updateSettings } from '../src/store/node/store.ts';
import { tempDir, writePackage } from './helpers/packages.ts';

const root = tempDir('outpost-writer-thread-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('the output is byte-identical whether formatted on the scoring thread or in a writer thread (CSV, JSONL, Parquet, with rejects)', async () => {
  const store = openStore(path.join(root, 'home'));
  try {
    installPackage(store, writePackage(path.join(root, 'pkg')), { source: 'local', allowUnsigned: true });
    const colours = ['red', 'green', 'blue']; // blue is not in the vocabulary: rejected
    const lines = ['a,b,colour'];
    for (let i = 0; i < 5000; i++) lines.push(`${(i % 199) - 99.5},${i % 7 === 0 ? '' : (i * 0.37).toFixed(3)},${colours[i % 11 === 0 ? 2 : i % 2]}`);
    const input = path.join(root, 'in.csv');
    fs.writeFileSync(input, lines.join('\n') + '\n');
    assert.ok(fs.statSync(input).size < WRITER_THREAD_MIN_BYTES, 'the default for this file is the scoring thread');
    for (const format of ['csv', 'jsonl', 'parquet'] as OutputFormat[]) {
      const outputs: Buffer[] = [];
      const rejects: Buffer[] = [];
      for (const writerThread of [false, true, undefined]) {
        const out = path.join(root, `out-${String(writerThread)}.${format}`);
        const r = await scoreFile(store, { input, model: 'tiny', out, format, batchRows: 512 }, { writerThread, checkpointRows: 1024 });
        assert.equal(r.job.status, 'completed');
        assert.ok(r.job.rowsRejected > 0 && r.job.rowsScored > 0);
        outputs.push(fs.readFileSync(out));
        rejects.push(fs.readFileSync(r.rejectsPath!));
      }
      assert.ok(outputs[0].length > 0);
      assert.ok(outputs[0].equals(outputs[1]), `${format}: scoring thread and writer thread wrote different bytes`);
      assert.ok(outputs[0].equals(outputs[2]), `${format}: the default differs`);
      assert.ok(rejects[0].equals(rejects[1]) && rejects[0].equals(rejects[2]), `${format}: rejects differ`);
    }
  } finally {
    store.close();
  }
});

test('a writer thread started ahead: one that stopped, or was started for another format, is refused by name; a job that fails before opening its output stops it', { timeout: 60_000 }, async () => {
  const out = path.join(root, 'ahead.csv');
  const gone = startSinkThread('csv');
  await gone.worker.terminate();
  await assert.rejects(openWorkerSink(out, 'csv', {}, gone), (e: Error & { code?: string; location?: { file?: string } }) => e.code === 'store' && /the output writer thread stopped before it opened the output: exit code/.test(e.message) && e.location?.file === out);
  await assert.rejects(openWorkerSink(out, 'csv', {}, startSinkThread('parquet')), /the writer thread was started for parquet, not csv/);
  assert.equal(fs.existsSync(out), false);
  // the engine cannot open (no CUDA here) after the writer thread was started: the job fails and
  // the thread is stopped (one left running would also keep this test file from ending)
  // the job's threads by their OS names (startWorker names each after its entry: sink-worker.ts, inference/node/worker.ts)
  const workerThreads = () => fs.readdirSync('/proc/self/task').filter((t) => ['sink', 'inference'].includes(fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim())).length;
  const before = workerThreads();
  const store = openStore(path.join(root, 'home-ahead'));
  try {
    installPackage(store, writePackage(path.join(root, 'pkg-ahead')), { source: 'local', allowUnsigned: true });
    const input = path.join(root, 'ahead-in.csv');
    fs.writeFileSync(input, 'a,b,colour\n1,2,red\n');
    await assert.rejects(scoreFile(store, { input, model: 'tiny', out, ep: 'cuda' }, { writerThread: true }), /cuda/);
    assert.equal(workerThreads(), before, 'no worker thread left running');
  } finally {
    store.close();
  }
});

test('an --id column is written the same from a CSV input (its bytes copied) as from a JSONL input (its strings), with rows rejected between, on either thread', async () => {
  const store = openStore(path.join(root, 'home-ids'));
  try {
    installPackage(store, writePackage(path.join(root, 'pkg-ids')), { source: 'local', allowUnsigned: true });
    // ids that need quoting, an empty string, a missing id, non-ASCII, a formula-looking one, long ones
    const ids = ['plain-1', 'a,b', 'say "hi"', 'two\nlines', '', null, 'Ä€😀', '=1+2', 'x'.repeat(70)];
    const csvId = (v: string | null) => (v === null ? '' : /[",\n\r]/.test(v) || v === '' ? `"${v.replaceAll('"', '""')}"` : v);
    const rows = Array.from({ length: 3000 }, (_, i) => ({ id: i % 4 === 0 ? `id-${i}` : ids[i % ids.length], a: (i % 199) - 99.5, b: i * 0.25, colour: i % 13 === 0 && i < 1200 ? 'blue' : i % 2 ? 'red' : 'green' }));
    const csvIn = path.join(root, 'ids.csv');
    fs.writeFileSync(csvIn, `id,a,b,colour\n${rows.map((r) => `${csvId(r.id)},${r.a},${r.b},${r.colour}`).join('\n')}\n`);
    const jsonlIn = path.join(root, 'ids.jsonl');
    fs.writeFileSync(jsonlIn, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    for (const csvSafe of [false, true]) {
      if (csvSafe) updateSettings(store, { csvSafe: true });
      const outputs: Buffer[] = [];
      for (const [input, writerThread] of [[jsonlIn, false], [csvIn, false], [csvIn, true]] as const) {
        const out = path.join(root, `ids-${outputs.length}-${String(csvSafe)}.csv`);
        const r = await scoreFile(store, { input, model: 'tiny', out, idColumn: 'id', batchRows: 256 }, { writerThread, checkpointRows: 1024 });
        assert.equal(r.job.status, 'completed');
        assert.ok(r.job.rowsRejected > 0 && r.job.rowsScored > 0);
        outputs.push(fs.readFileSync(out));
      }
      assert.ok(['"say ""hi"""', 'Ä€😀', '"two\nlines"', '\n"",', '\n,'].every((s) => outputs[0].includes(s)), 'the ids are in the output');
      assert.ok(outputs[0].equals(outputs[1]), `csvSafe ${csvSafe}: the CSV input's ids differ from the JSONL input's`);
      assert.ok(outputs[0].equals(outputs[2]), `csvSafe ${csvSafe}: the writer thread differs`);
    }
  } finally {
    store.close();
  }
});

test('a job without --batch takes batches of about a million input cells: 32,768 rows up to 32 inputs, fewer for wider rows, at least 8,192; the job records the size', async () => {
  assert.deepEqual([1, 3, 32, 33, 100, 128, 129, 5000].map(defaultBatchRows), [32_768, 32_768, 32_768, 31_744, 10_240, 8192, 8192, 8192]);
  const store = openStore(path.join(root, 'home-batches'));
  try {
    installPackage(store, writePackage(path.join(root, 'pkg-batches')), { source: 'local', allowUnsigned: true });
    const lines = ['a,b,colour'];
    for (let i = 0; i < 40_000; i++) lines.push(`${(i % 199) - 99.5},${(i * 0.37).toFixed(3)},${i % 2 ? 'red' : 'green'}`);
    const input = path.join(root, 'batches.csv');
    fs.writeFileSync(input, lines.join('\n') + '\n');
    const r = await scoreFile(store, { input, model: 'tiny', out: path.join(root, 'batches-out.csv') });
    assert.equal(r.job.status, 'completed');
    assert.equal(r.job.options.batchRows, 32_768, 'three inputs: the largest default');
    const logged = store.db.prepare('SELECT row_count AS rows FROM prediction_batches WHERE job_id = ? ORDER BY seq').all(r.job.id) as { rows: number }[];
    assert.deepEqual(logged.map((b) => b.rows), [32_768, 7232], 'one log batch per scoring batch');
  } finally {
    store.close();
  }
});
