// The prediction log's sorted pages: the log-query path (sort keys of one column, heap selection
// for pages near the top, a radix-sorted whole order deeper down, rows read from their batches)
// must give exactly the pages the old serving-thread sort gave (test/helpers/log-sort-reference.ts,
// main's code verbatim), on a real scored job and on a log built to hold every awkward value:
// NaN, ±0, ±Infinity, nulls, ties, strings, dictionary columns, columns missing from some batches,
// a column whose type changes between batches, batches with and without a stored row column.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createLogQueries } from '../src/api/node/log-queries.ts';
import { createService } from '../src/api/node/service.ts';
import { LogReader, TOP_K_MAX } from '../src/api/node/log-reader.ts';
import { scoreFile } from '../src/scoring/node/score-file.ts';
import { openPacked, unpackColumns, type ColumnToPack } from '../src/store/common/packing.ts';
import { installPackage } from '../src/store/node/models.ts';
import { countPredictions, insertPredictionBatch, pagePredictions, type PredictionQuery, type PredictionRow } from '../src/store/node/predictions.ts';
import { openStore, updateSettings, type Store } from '../src/store/node/store.ts';
import { bigCsv, DEMO_PACKAGE } from './helpers/app-harness.ts';
import { ReferenceLogSort } from './helpers/log-sort-reference.ts';

function tmpHome(t: { after: (fn: () => void) => void }): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-logq-'));
  t.after(() => fs.rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }));
  return home;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A job row for the log's batches (foreign key). */
function addJob(store: Store, id: string, model: string): void {
  store.db.prepare(`INSERT INTO jobs (id, model_name, model_version, status, input_path, input_format, input_size, input_fingerprint, output_path, output_format, rejects_path, options_json, created_at, updated_at)
    VALUES (?, ?, 1, 'completed', '/in.csv', 'csv', 0, 'x', '/out.csv', 'csv', '/rej.csv', '{}', '', '')`).run(id, model);
}

/** A log with every awkward value, in batches of varying shapes. Returns the number of rows. */
function awkwardLog(store: Store, rows: number, seed = 7): number {
  const r = rng(seed);
  const special = [NaN, 0, -0, Infinity, -Infinity, 1e-310, -1e-310, 0.5, 0.5, 2, -2, 1e300];
  const words = ['alpha', 'Beta', 'beta', 'ä', 'z', '', '10', '9', 'alpha'];
  addJob(store, 'job-a', 'm');
  addJob(store, 'job-b', 'm');
  addJob(store, 'job-c', 'other');
  let written = 0, seq = 0, firstRow = 1;
  while (written < rows) {
    const n = Math.min(rows - written, 1 + Math.floor(r() * 900));
    const job = ['job-a', 'job-b', 'job-c'][seq % 3];
    const f32 = new Float32Array(n), f64 = new Float64Array(n), i32 = new Int32Array(n);
    const str: (string | null)[] = [], codes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const x = r();
      f32[i] = x < 0.3 ? special[Math.floor(r() * special.length)] : Math.round(r() * 50) / 10; // many ties
      f64[i] = x < 0.2 ? special[Math.floor(r() * special.length)] : (r() - 0.5) * 1e6;
      i32[i] = Math.floor(r() * 20) - 10;
      str.push(r() < 0.15 ? null : words[Math.floor(r() * words.length)]);
      codes[i] = Math.floor(r() * 4.1); // now and then 4: outside the dictionary, read as null
    }
    const cols: ColumnToPack[] = [
      { name: 'score', type: 'f32', values: f32 },
      { name: 'value', type: 'f64', values: f64 },
      { name: 'count', type: 'i32', values: i32 },
      { name: 'id', type: 'str', values: str },
      // class labels as dictionary codes, in some batches as plain strings (the same column)
      seq % 7 === 3 ? { name: 'label', type: 'str', values: Array.from(codes, (c) => ['sun', 'rain', 'Fog', 'snow'][c] ?? null) } : { name: 'label', type: 'dict', codes, dictionary: seq % 2 ? ['sun', 'rain', 'fog', 'snow'] : ['snow', 'fog', 'sun', 'rain'] },
    ];
    // some batches store their data row numbers (sampled logs), others number rows from first_row
    if (seq % 4 === 1) cols.unshift({ name: '#row', type: 'i32', values: Int32Array.from({ length: n }, () => Math.floor(r() * 100_000)) });
    // a column only some batches have (null elsewhere), and one whose type differs between batches
    if (seq % 3 === 0) cols.push({ name: 'extra', type: 'f32', values: Float32Array.from({ length: n }, () => (r() < 0.1 ? NaN : Math.floor(r() * 5))) });
    cols.push(seq % 5 === 2 ? { name: 'mixed', type: 'str', values: Array.from({ length: n }, () => (r() < 0.2 ? null : String(Math.floor(r() * 30)))) } : { name: 'mixed', type: 'f64', values: Float64Array.from({ length: n }, () => (r() < 0.1 ? NaN : Math.floor(r() * 30))) });
    insertPredictionBatch(store, { jobId: job, seq: seq++, modelName: job === 'job-c' ? 'other' : 'm', modelVersion: 1, outputs: cols, rowCount: n, firstRow, loggedAt: 1_000 + Math.floor(seq / 2) });
    firstRow += n;
    written += n;
  }
  return written;
}

const hasNaN = (v: unknown) => typeof v === 'number' && Number.isNaN(v);

/**
 * The old comparator answered "after" for both orders of two NaNs (compare(NaN, NaN) = 1), so the
 * order among NaN rows was whatever V8's TimSort made of that inconsistency (not log order, going
 * up or down); the new path keeps them in log order like every other tie. Everything else must be
 * identical: the same rows at every other position, and a NaN row wherever the old path had one.
 */
function assertSamePage(got: PredictionRow[], want: PredictionRow[], column: string, what: string): void {
  if (column !== 'row') {
    const nanAt = want.map((w, k) => (hasNaN(w.values[column]) ? k : -1)).filter((k) => k >= 0);
    if (nanAt.length > 1) {
      assert.deepEqual(got.filter((_, k) => !nanAt.includes(k)), want.filter((_, k) => !nanAt.includes(k)), what);
      for (const k of nanAt) assert.ok(hasNaN(got[k]?.values[column]), `${what}: row ${k} is NaN in the old order but not in the new`);
      return;
    }
  }
  assert.deepEqual(got, want, what);
}

const outputsOnly = (r: PredictionRow): PredictionRow => ({ ...r, values: Object.fromEntries(Object.entries(r.values).filter(([k]) => !k.startsWith('input.'))) });

function compareAll(store: Store, q: PredictionQuery, columns: string[], at: (n: number) => [number, number][]): number {
  const total = countPredictions(store, q);
  const reference = new ReferenceLogSort(store);
  let pages = 0;
  for (const column of columns) {
    for (const descending of [false, true]) {
      // a fresh reader per column and direction, so that the first page asked is a heap selection
      const reader = new LogReader(store);
      for (const [offset, limit] of at(total)) {
        const what = `${JSON.stringify(q)} by ${column} ${descending ? 'down' : 'up'} at ${offset}+${limit}`;
        let want: PredictionRow[];
        try {
          want = reference.sortedPage(q, column, descending, offset, limit, total);
        } catch (e) {
          // the old path refused (a column this query's batches lack): so must the new, alike
          assert.throws(() => reader.sortedPage(q, column, descending, offset, limit, total), { message: (e as Error).message, code: 'usage' }, what);
          continue;
        }
        // the old sort left the logged inputs out (checked against unsorted pages below)
        assertSamePage(reader.sortedPage(q, column, descending, offset, limit, total).map(outputsOnly), want, column, what);
        pages++;
      }
    }
  }
  return pages;
}

test('sorted pages of a real scored job are the old sort\'s pages (heap, whole order, cached paging)', async (t) => {
  const home = tmpHome(t);
  const store = openStore(home);
  t.after(() => store.close());
  installPackage(store, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
  const model = (store.db.prepare('SELECT name FROM models LIMIT 1').get() as { name: string }).name;
  const job = await scoreFile(store, { input: bigCsv(path.join(home, 'in.csv'), 30_000), model, out: path.join(home, 'out.csv'), idColumn: 'date', batchRows: 1_000 });
  const total = countPredictions(store, { jobId: job.job.id });
  assert.equal(total, 30_000);
  const columns = ['row', ...Object.keys(new LogReader(store).sortedPage({ jobId: job.job.id }, 'row', false, 0, 1, total)[0].values)];
  assert.ok(columns.includes('label') && columns.some((c) => c.startsWith('p_')), `columns ${columns.join(', ')}`);
  const pages = compareAll(store, { jobId: job.job.id }, columns, (n) => [[0, 200], [200, 200], [1, 1], [n - 5, 200], [Math.floor(n / 2), 50], [0, 200], [n, 10]]);
  assert.ok(pages > 50);
});

test('sorted pages carry the logged inputs (input.*) that unsorted pages carry, row for row', async (t) => {
  const home = tmpHome(t);
  const store = openStore(home);
  t.after(() => store.close());
  installPackage(store, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
  const model = (store.db.prepare('SELECT name FROM models LIMIT 1').get() as { name: string }).name;
  // three jobs of one model: inputs logged for every row, for a sample of rows (by data row number), for none
  const jobs: string[] = [];
  for (const policy of ['all', 'sampled', 'none']) {
    updateSettings(store, { logInputs: policy });
    const r = await scoreFile(store, { input: bigCsv(path.join(home, `${policy}.csv`), 3_000), model, out: path.join(home, `${policy}.out.csv`), idColumn: 'date', batchRows: 500 });
    jobs.push(r.job.id);
  }
  const q = { model };
  const total = countPredictions(store, q);
  assert.equal(total, 9_000);
  const key = (r: PredictionRow) => `${r.jobId}#${r.row}`;
  const unsorted = new Map(pagePredictions(store, { ...q, limit: total }).map((r) => [key(r), r]));
  assert.equal(unsorted.size, total);
  const hasInputs = (r: PredictionRow) => Object.keys(r.values).some((k) => k.startsWith('input.'));
  const withInputs = new Map(jobs.map((j) => [j, [...unsorted.values()].filter((r) => r.jobId === j && hasInputs(r)).length]));
  assert.deepEqual([withInputs.get(jobs[0]), withInputs.get(jobs[2])], [3_000, 0], 'all / none');
  assert.ok(withInputs.get(jobs[1])! > 0 && withInputs.get(jobs[1])! < 3_000, `a sample: ${withInputs.get(jobs[1])}`);
  const reader = new LogReader(store);
  const logQueries = createLogQueries(home);
  t.after(() => logQueries.close());
  let compared = 0, carried = 0;
  for (const [column, descending] of [['label', true], ['row', false], ['p_sun', false]] as const) {
    for (const [offset, limit] of [[0, 300], [4_000, 300], [total - 200, 300]]) {
      for (const rows of [reader.sortedPage(q, column, descending, offset, limit, total), await logQueries.sortedPage(q, column, descending, offset, limit, total)]) {
        assert.equal(rows.length, Math.min(limit, total - offset));
        for (const r of rows) {
          assert.deepEqual(r, unsorted.get(key(r)), `${column} ${descending ? 'down' : 'up'} at ${offset}: ${key(r)}`);
          compared++;
          if (hasInputs(r)) carried++;
        }
      }
    }
  }
  assert.ok(carried > 0 && carried < compared, `${carried} of ${compared} sorted rows carry inputs`);

  // the app's table: a sampled job's first page logged no inputs, yet the input columns are listed
  // (else the sampled rows further down, or a sorted page, would show inputs under no column)
  const svc = createService({ home, providerWaitMs: 0 });
  t.after(() => svc.close());
  const first = await svc.handlers['predictions.page']({ jobId: jobs[1], offset: 0, limit: 5 });
  assert.ok(first.rows.every((r) => !hasInputs(r)), 'precondition: no sampled row on the first page');
  const inputColumns = first.columns.filter((c) => c.startsWith('input.'));
  assert.deepEqual(inputColumns, ['input.precipitation', 'input.temp_max', 'input.temp_min', 'input.wind', 'input.season']);
  assert.deepEqual((await svc.handlers['predictions.page']({ jobId: jobs[2], offset: 0, limit: 5 })).columns.filter((c) => c.startsWith('input.')), [], 'a job that logged no inputs has no input columns');
});

test('sorted pages equal the old sort on every awkward value, near the top and deep down', (t) => {
  const home = tmpHome(t);
  const store = openStore(home);
  t.after(() => store.close());
  const n = awkwardLog(store, 3 * TOP_K_MAX);
  const columns = ['row', 'score', 'value', 'count', 'id', 'label', 'extra', 'mixed'];
  const at = (total: number): [number, number][] => [[0, 200], [1, 3], [200, 200], [TOP_K_MAX - 100, 200], [total - 150, 200], [Math.floor(total / 2), 200], [0, 1]];
  compareAll(store, {}, columns, at);
  compareAll(store, { jobId: 'job-b' }, columns, at);
  compareAll(store, { model: 'm', since: 1_010, until: 1_030 }, ['score', 'id', 'mixed'], at);
  assert.equal(countPredictions(store, {}), n);
});

test('a page at any offset is the same whether it came from a heap selection or the whole order', (t) => {
  const home = tmpHome(t);
  const store = openStore(home);
  t.after(() => store.close());
  const n = awkwardLog(store, 20_000, 11);
  for (const column of ['score', 'id', 'value']) {
    for (const descending of [false, true]) {
      const whole = new LogReader(store);
      whole.sortedPage({}, column, descending, n - 1, 1, n); // deep: the whole order is sorted and kept
      for (const offset of [0, 5, 300, 2_000]) {
        const heap = new LogReader(store).sortedPage({}, column, descending, offset, 100, n);
        assert.deepEqual(heap, whole.sortedPage({}, column, descending, offset, 100, n), `${column} ${descending} at ${offset}`);
      }
    }
  }
});

test('a kept sorted view follows the log: new batches and dropped batches show on the next page', (t) => {
  const home = tmpHome(t);
  const store = openStore(home);
  t.after(() => store.close());
  awkwardLog(store, 5_000, 3);
  const reader = new LogReader(store);
  const reference = new ReferenceLogSort(store);
  const check = (what: string) => {
    const total = countPredictions(store, {});
    for (const offset of [0, 2_000]) assertSamePage(reader.sortedPage({}, 'score', false, offset, 100, total), reference.sortedPage({}, 'score', false, offset, 100, total), 'score', `${what} at ${offset}`);
  };
  check('before');
  // a batch whose scores sort first: the kept order must not be reused
  assert.notEqual(reader.sortedPage({}, 'count', true, 0, 1, countPredictions(store, {}))[0].values.count, 1_000_000);
  insertPredictionBatch(store, { jobId: 'job-a', seq: 10_000, modelName: 'm', modelVersion: 1, outputs: [{ name: 'score', type: 'f32', values: Float32Array.from([-1e9, 7, -5e8]) }, { name: 'count', type: 'i32', values: Int32Array.from([1, 1_000_000, 2]) }], rowCount: 3, firstRow: 1, loggedAt: 999 });
  check('after a batch was added');
  assert.equal(reader.sortedPage({}, 'count', true, 0, 1, countPredictions(store, {}))[0].values.count, 1_000_000);
  store.db.prepare('DELETE FROM prediction_batches WHERE seq = 10000').run();
  check('after it was dropped');
  assert.notEqual(reader.sortedPage({}, 'count', true, 0, 1, countPredictions(store, {}))[0].values.count, 1_000_000);
});

test('a kept sorted view takes the batches a running job appends: same pages as sorting anew', (t) => {
  const home = tmpHome(t);
  const store = openStore(home);
  t.after(() => store.close());
  awkwardLog(store, 8_000, 17);
  const reference = new ReferenceLogSort(store);
  const columns = ['score', 'row', 'count', 'id', 'label', 'late'];
  // a reader per column: a reader keeps two views, and each column's view must be the kept one
  const readers = new Map(columns.map((c) => [c, new LogReader(store)]));
  const check = (what: string) => {
    const total = countPredictions(store, {});
    for (const column of columns) {
      for (const descending of [false, true]) {
        for (const offset of [0, 3_000, total - 50]) {
          let want: PredictionRow[];
          try {
            want = reference.sortedPage({}, column, descending, offset, 100, total);
          } catch (e) {
            assert.throws(() => readers.get(column)!.sortedPage({}, column, descending, offset, 100, total), { message: (e as Error).message }, what);
            continue;
          }
          assertSamePage(readers.get(column)!.sortedPage({}, column, descending, offset, 100, total), want, column, `${what}: ${column} ${descending} at ${offset}`);
        }
      }
    }
  };
  check('before');
  // a job commits batches after the last ones (newer logged_at): with a new column, a new top score,
  // a string that sorts first, rows numbered from their first row and a stored row column
  for (let seq = 0; seq < 3; seq++) {
    insertPredictionBatch(store, {
      jobId: 'job-b', seq: 50_000 + seq, modelName: 'm', modelVersion: 1, rowCount: 3, firstRow: 900_000 + 3 * seq, loggedAt: 1_000_000 + seq,
      outputs: [
        ...(seq === 1 ? [{ name: '#row', type: 'i32' as const, values: Int32Array.from([5, 6, 70_000]) }] : []),
        { name: 'score', type: 'f32', values: Float32Array.from([1e6, NaN, -0]) },
        { name: 'id', type: 'str', values: ['!first', null, 'zz'] },
        { name: 'late', type: 'f64', values: Float64Array.from([seq, -seq, NaN]) },
      ],
    });
    check(`after appended batch ${seq}`);
  }
  // the new rows are in the view: the top of 'late' going down is batch 2's 2 (after the NaNs)
  assert.ok(readers.get('late')!.sortedPage({}, 'late', true, 0, 10, countPredictions(store, {})).some((r) => r.values.late === 2));
});

test('sorting refuses an unknown column and a query over the limit, naming them', (t) => {
  const home = tmpHome(t);
  const store = openStore(home);
  t.after(() => store.close());
  awkwardLog(store, 100);
  assert.throws(() => new LogReader(store).sortedPage({}, 'nope', false, 0, 10, 100), (e: Error & { code?: string }) => e.code === 'usage' && /cannot sort by "nope": the log has row, score/.test(e.message));
  assert.throws(() => new LogReader(store).sortedPage({}, 'score', false, 0, 10, 2_000_001), /2,000,001 rows match, at most 2,000,000/);
  assert.deepEqual(new LogReader(store).sortedPage({ jobId: 'no-such-job' }, 'row', false, 0, 10, 0), []);
});

test('the log-query worker answers what the reader answers, and a stopped worker is replaced with the query sent again', async (t) => {
  const home = tmpHome(t);
  const store = openStore(home);
  t.after(() => store.close());
  const n = awkwardLog(store, 40_000, 5);
  const queries = createLogQueries(home);
  t.after(() => queries.close());
  assert.equal(queries.started, 0, 'no worker before the first query');
  queries.warm(); // as the log's unsorted first page does
  queries.warm();
  assert.equal(queries.started, 1);
  const reader = new LogReader(store);
  for (const [column, descending, offset] of [['score', false, 0], ['id', true, 0], ['score', false, 30_000], ['row', true, 17]] as const) {
    assert.deepEqual(await queries.sortedPage({}, column, descending, offset, 200, n), reader.sortedPage({}, column, descending, offset, 200, n), `${column} ${descending} ${offset}`);
  }
  assert.deepEqual(await queries.distribution('job-a', 10), reader.distribution('job-a', 10));
  assert.equal(queries.started, 1, 'one worker answers every query');
  // a refusal comes back as the reader's error, code and message, and the worker stays
  await assert.rejects(queries.sortedPage({}, 'nope', false, 0, 10, n), { code: 'usage', message: /cannot sort by "nope"/ });
  assert.equal(queries.started, 1);

  // the worker is stopped while a query is in flight: a fresh one answers it. The query goes to
  // a worker already told to stop (it runs no more JS, so it cannot answer first, however the
  // threads are scheduled); a query sent just before the stop could be answered in between.
  const first = queries.worker;
  assert.ok(first);
  const stopped = first.terminate();
  const asked = queries.sortedPage({ jobId: 'job-c' }, 'value', true, 100, 50, countPredictions(store, { jobId: 'job-c' }));
  await stopped;
  assert.deepEqual(await asked, reader.sortedPage({ jobId: 'job-c' }, 'value', true, 100, 50, countPredictions(store, { jobId: 'job-c' })));
  assert.equal(queries.started, 2);
  assert.notEqual(queries.worker, first);
});

test('a query that stops the worker twice (out of its memory limit) fails saying so; the serving side carries on', async (t) => {
  const home = tmpHome(t);
  const store = openStore(home);
  t.after(() => store.close());
  const n = awkwardLog(store, 400_000, 9);
  addJob(store, 'tiny', 'm');
  insertPredictionBatch(store, { jobId: 'tiny', seq: 0, modelName: 'm', modelVersion: 1, outputs: [{ name: 'label', type: 'str', values: ['a', 'b', 'a'] }], rowCount: 3, firstRow: 1, loggedAt: 5 });
  const queries = createLogQueries(home, { resourceLimits: { maxOldGenerationSizeMb: 12, maxYoungGenerationSizeMb: 2 } });
  t.after(() => queries.close());
  // small queries fit in the limit
  assert.deepEqual(await queries.distribution('tiny', 4), new LogReader(store).distribution('tiny', 4));
  await assert.rejects(queries.sortedPage({}, 'id', false, 0, 10, n), (e: Error) => /the log-query worker stopped twice while answering this query \(it ran out of memory, exit code \d+\); try again, or narrow the query/.test(e.message));
  assert.equal(queries.started, 2, 'the first worker and the one that retried, and none more until asked');
  assert.equal(queries.worker, undefined);
  // the next query gets a fresh worker
  assert.deepEqual(await queries.distribution('tiny', 4), new LogReader(store).distribution('tiny', 4));
  assert.equal(queries.started, 3);
});

test('a lazily read packed batch gives exactly the values unpackColumns decodes', (t) => {
  const home = tmpHome(t);
  const store = openStore(home);
  t.after(() => store.close());
  awkwardLog(store, 6_000, 13);
  let checked = 0;
  for (const { outputs } of store.db.prepare('SELECT outputs FROM prediction_batches').all() as { outputs: Buffer }[]) {
    const p = openPacked(outputs);
    const cols = unpackColumns(outputs);
    assert.deepEqual(p.names, cols.map((c) => c.name));
    for (const c of cols) {
      for (let i = 0; i < c.values.length; i++) assert.ok(Object.is(p.value(c.name, i), c.values[i]), `${c.name}[${i}]`);
      assert.deepEqual(p.column(c.name), c);
      checked += c.values.length;
    }
    assert.equal(p.value('no-such-column', 0), undefined);
    assert.equal(p.column('no-such-column'), undefined);
  }
  assert.ok(checked > 6_000 * 6);
});
