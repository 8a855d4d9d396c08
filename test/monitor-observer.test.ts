// The drift observer on a real SQLite store, fed batches the way score-file.ts feeds it (validated
// batches + model outputs), with a controllable clock: what is stored per job / hour / day, when it
// is written, exactness across threads, checkpoint groupings and resumes, alerts, retention.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { driftReport, mergeStats, parseBaseline, statsFromJSON, type Baseline, type FeatureStats } from '../src/drift/common/index.ts';
import { CellStatus, type ColumnBatch } from '../src/io/common/table.ts';
import { modelMonitoring } from '../src/monitor/common/features.ts';
import { computeModelBaseline } from '../src/monitor/common/model-baseline.ts';
import { listAlerts } from '../src/monitor/node/alerts.ts';
import { createDriftObserver, type DriftObserverOptions } from '../src/monitor/node/observer.ts';
import { StatsLane } from '../src/monitor/node/stats-lane.ts';
import { windowsParsed } from '../src/monitor/node/stats-store.ts';
import type { Card } from '../src/package/common/card.ts';
import type { ScoredColumns } from '../src/scoring/common/outputs.ts';
import { validateBatch } from '../src/scoring/common/validate.ts';
import type { ScoringObserver } from '../src/scoring/node/score-file.ts';
import { createJob, newJobId } from '../src/store/node/jobs.ts';
import { openStore, type Store } from '../src/store/node/store.ts';
import { createRng } from '../src/train/common/index.ts';
import { tempDir, tinyCard } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

interface Row { a: number; b: number | null; colour: string | null }

/** The stand-in model: softmax over (a/10, b, colour = red), as float32. */
function outputs(rows: readonly Row[]): ScoredColumns {
  const p = [new Float32Array(rows.length), new Float32Array(rows.length), new Float32Array(rows.length)];
  const labelCodes = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    const z = [r.a / 10, r.b ?? 0, r.colour === 'red' ? 1 : 0].map(Math.exp);
    const s = z[0] + z[1] + z[2];
    z.forEach((v, c) => { p[c][i] = v / s; });
    labelCodes[i] = z.indexOf(Math.max(...z));
  });
  return { labelCodes, probabilities: p };
}

function sample(seed: number, n: number, shift = 0): Row[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => ({
    a: Math.round((rng.normal() * 10 + shift) * 100) / 100,
    b: rng.next() < 0.05 ? null : Math.round(rng.normal() * 1000) / 1000,
    colour: rng.next() < 0.7 ? 'red' : 'green',
  }));
}

// KS / chi-square give verdicts from 30 values, so small test batches are judged.
const CARD: Card = (() => {
  const card = tinyCard({ drift: { numeric: { method: 'ks' }, categorical: { method: 'chisquare' } } });
  const ref = sample(1, 2000);
  const baseline = computeModelBaseline(card, {
    a: ref.map((r) => r.a), b: ref.map((r) => r.b), colour: ref.map((r) => r.colour),
  }, outputs(ref));
  return { ...card, baseline: baseline as unknown as Record<string, unknown> };
})();
const BASELINE: Baseline = parseBaseline(CARD.baseline);
const GRAPH_TYPES = new Map([['a', 'float'], ['b', 'float'], ['colour', 'string']] as const);
const GRAPH_RANKS = new Map([['a', 2], ['b', 2], ['colour', 2]]);

/** A reader batch (columns in card-input order) as a reader would deliver the rows. */
function batchOf(rows: readonly Row[], firstRow: number): ColumnBatch {
  const num = (get: (r: Row) => number | null) => ({
    kind: 'number' as const,
    values: Float64Array.from(rows, (r) => get(r) ?? NaN),
    status: Uint8Array.from(rows, (r) => (get(r) === null ? CellStatus.missing : CellStatus.ok)),
  });
  return {
    firstRow, length: rows.length, rowProblems: [], end: { offset: 0, row: firstRow + rows.length },
    columns: [num((r) => r.a), num((r) => r.b), { kind: 'string', values: rows.map((r) => r.colour) }],
  };
}

/** Feed rows in batches to an observer, as score-file.ts does (outputs only for accepted rows). */
function feed(ob: ScoringObserver, rows: readonly Row[], batchRows: number, firstRow = 1): void {
  for (let i = 0; i < rows.length; i += batchRows) {
    const part = rows.slice(i, i + batchRows);
    const batch = batchOf(part, firstRow + i);
    const v = validateBatch(batch, CARD.inputs, GRAPH_TYPES as never, GRAPH_RANKS);
    ob.observe(batch, v, v.accepted.length ? outputs(Array.from(v.accepted, (k) => part[k])) : undefined);
  }
}

let homes = 0;
function store(): Store {
  return openStore(path.join(root, `home-${homes++}`));
}

function newJob(s: Store): { id: string; modelName: string; modelVersion: number } {
  const id = newJobId();
  createJob(s, { id, modelName: 'tiny', modelVersion: 1, inputPath: '/in.csv', inputFormat: 'csv', inputSize: 1, inputFingerprint: 'x', outputPath: '/out.csv', outputFormat: 'csv', rejectsPath: '/r.csv', options: { batchRows: 100, ep: 'cpu', maxRejectRate: 0.2, logPredictions: false, logInputs: 'none', logSampleRate: 0 }, provider: 'cpu', providerSummary: 'cpu' });
  return { id, modelName: 'tiny', modelVersion: 1 };
}

function observer(s: Store, job: ReturnType<typeof newJob>, opts: DriftObserverOptions): ScoringObserver {
  const ob = createDriftObserver(s, job, CARD, opts);
  assert.ok(ob, 'a card with a baseline gets an observer');
  return ob;
}

/** persist() as score-file.ts calls it: inside a transaction. */
const persist = (s: Store, ob: ScoringObserver) => s.db.transaction(() => ob.persist())();

const jobStats = (s: Store, jobId: string): Record<string, string> =>
  Object.fromEntries((s.db.prepare('SELECT feature, stats_json FROM drift_job_stats WHERE job_id = ? ORDER BY feature').all(jobId) as { feature: string; stats_json: string }[]).map((r) => [r.feature, r.stats_json]));

function windows(s: Store, width: 'hour' | 'day'): Map<number, Record<string, string>> {
  const rows = s.db.prepare('SELECT start, feature, stats_json FROM drift_window_stats WHERE width = ? ORDER BY start, feature').all(width) as { start: number; feature: string; stats_json: string }[];
  const out = new Map<number, Record<string, string>>();
  for (const r of rows) out.set(r.start, { ...out.get(r.start), [r.feature]: r.stats_json });
  return out;
}

/** Exact merge of stored statistics, per feature, as JSON text. */
function mergeJson(...sets: Record<string, string>[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of BASELINE.features) {
    const parts = sets.filter((x) => x[f.name] !== undefined).map((x) => statsFromJSON(JSON.parse(x[f.name]), f));
    if (parts.length) out[f.name] = JSON.stringify(parts.reduce((a, b) => mergeStats(a as FeatureStats, b)));
  }
  return out;
}

const T0 = Date.parse('2025-03-01T23:30:00Z');
const HOUR = 3_600_000;

describe('drift observer', () => {
  test('a card without a baseline, or with one that does not fit the card, gets no observer', () => {
    const s = store();
    try {
      const job = newJob(s);
      assert.equal(createDriftObserver(s, job, tinyCard()), undefined);
      const wrongVocabulary = { ...CARD, inputs: CARD.inputs.map((f) => (f.name === 'colour' ? { ...f, vocabulary: ['red', 'blue'] } : f)) };
      assert.equal(createDriftObserver(s, job, wrongVocabulary), undefined);
      const m = modelMonitoring(wrongVocabulary);
      assert.ok(m.status === 'invalid' && /colour.*vocabulary differs/.test(m.problems.join()), JSON.stringify(m));
    } finally {
      s.close();
    }
  });

  test('the monitoring a caller made already is the one used (scoring makes it while the worker loads the model)', () => {
    const s = store();
    try {
      const job = newJob(s);
      // the card has a usable baseline, but the caller's monitoring says none: no observer
      assert.equal(createDriftObserver(s, job, CARD, { monitoring: { status: 'none', reason: 'made by the caller' } }), undefined);
      const made = modelMonitoring(CARD);
      assert.equal(made.status, 'ok');
      const ob = createDriftObserver(s, job, CARD, { monitoring: made, now: () => T0 });
      assert.ok(ob);
      ob.close();
    } finally {
      s.close();
    }
  });

  test('rows are counted per job, per UTC hour and per UTC day, written only at checkpoints', () => {
    const s = store();
    try {
      const job = newJob(s);
      let now = T0;
      const ob = observer(s, job, { now: () => now });
      const rows = sample(2, 600);
      feed(ob, rows.slice(0, 200), 50, 1); // 23:30 on March 1
      now = T0 + 30 * 60_000 - 1; // 23:59:59.999
      feed(ob, rows.slice(200, 400), 50, 201);
      assert.deepEqual(jobStats(s, job.id), {}, 'nothing is written between checkpoints');
      assert.equal(windows(s, 'hour').size, 0);
      now = T0 + 30 * 60_000; // 00:00 on March 2: the next hour and the next day
      feed(ob, rows.slice(400), 50, 401);
      persist(s, ob);

      const hours = windows(s, 'hour');
      const days = windows(s, 'day');
      assert.deepEqual([...hours.keys()].map((t) => new Date(t).toISOString()), ['2025-03-01T23:00:00.000Z', '2025-03-02T00:00:00.000Z']);
      assert.deepEqual([...days.keys()].map((t) => new Date(t).toISOString()), ['2025-03-01T00:00:00.000Z', '2025-03-02T00:00:00.000Z']);
      const [h1, h2] = hours.values();
      const [d1, d2] = days.values();
      assert.deepEqual(d1, h1);
      assert.deepEqual(d2, h2);
      const job1 = jobStats(s, job.id);
      assert.deepEqual(Object.keys(job1).sort(), BASELINE.features.map((f) => f.name).sort(), 'inputs and outputs');
      assert.deepEqual(job1, mergeJson(d1, d2), 'the job is exactly the merge of its windows');
      const a = JSON.parse(h1.a) as { n: number; rows: number };
      assert.equal(a.n, 400);
      assert.equal(JSON.parse(h2.a).n, 200);
      const b = JSON.parse(job1.b) as { rows: number; missing: number; n: number };
      assert.equal(b.rows, 600);
      assert.equal(b.missing, rows.filter((r) => r.b === null).length, 'missing cells of a nullable input are counted as missing');
      assert.equal(JSON.parse(job1['prediction.label']).rows, 600);
    } finally {
      s.close();
    }
  });

  test('a day holding only the hour of a checkpoint is written as that hour; a day holding other hours or jobs gets its own merge', () => {
    const s = store();
    try {
      const at = Date.parse('2025-03-02T10:30:00Z');
      const run = (t: number, seed: number) => {
        const ob = observer(s, newJob(s), { now: () => t, inlineRows: Infinity });
        feed(ob, sample(seed, 300), 100);
        persist(s, ob);
      };
      const day = Date.parse('2025-03-02T00:00:00Z');
      run(at, 11); // 10:xx, a fresh day: hour and day hold the same rows
      assert.deepEqual(windows(s, 'day').get(day), windows(s, 'hour').get(Date.parse('2025-03-02T10:00:00Z')));
      run(at + HOUR, 12); // 11:xx: a fresh hour, while the day already holds 10:xx
      const [h10, h11] = windows(s, 'hour').values();
      assert.deepEqual(windows(s, 'day').get(day), mergeJson(h10, h11), 'the day is both hours');
      run(at + HOUR + 60_000, 13); // 11:xx again: hour and day both hold earlier rows, different ones
      const hours = [...windows(s, 'hour').values()];
      assert.equal(JSON.parse(hours[1].a).n, 600);
      assert.deepEqual(windows(s, 'day').get(day), mergeJson(...hours), 'the day is every hour');
      assert.equal(JSON.parse(windows(s, 'day').get(day)!.a).n, 900);
    } finally {
      s.close();
    }
  });

  test('a window a job wrote at its previous checkpoint is merged without parsing it again; one another job merged into since is parsed', () => {
    const s = store();
    try {
      const at = Date.parse('2025-03-02T10:30:00Z');
      const [ja, jb] = [newJob(s), newJob(s)];
      const a = observer(s, ja, { now: () => at, inlineRows: Infinity });
      const b = observer(s, jb, { now: () => at, inlineRows: Infinity });
      feed(a, sample(21, 200), 100);
      persist(s, a); // fresh hour and day
      let parsed = windowsParsed();
      feed(a, sample(22, 200), 100);
      persist(s, a);
      assert.equal(windowsParsed() - parsed, 0, 'the hour and day still hold what this job wrote: not parsed');
      feed(b, sample(23, 200), 100);
      persist(s, b);
      assert.equal(windowsParsed() - parsed, BASELINE.features.length, 'another job parses the hour (the day holds the same text: merged once)');
      parsed = windowsParsed();
      feed(a, sample(24, 200), 100);
      persist(s, a);
      assert.equal(windowsParsed() - parsed, BASELINE.features.length, 'the other job merged into the hour since: parsed again');
      const hour = windows(s, 'hour').get(Date.parse('2025-03-02T10:00:00Z'))!;
      assert.deepEqual(hour, mergeJson(jobStats(s, ja.id), jobStats(s, jb.id)), 'the hour is the exact merge of both jobs');
      assert.deepEqual(windows(s, 'day').get(Date.parse('2025-03-02T00:00:00Z')), hour);
      assert.equal(JSON.parse(hour.a).rows, 800);
    } finally {
      s.close();
    }
  });

  test('only validated rows are counted (and unseen categories of rejected ones); their outputs come with them', () => {
    const s = store();
    try {
      const job = newJob(s);
      const ob = observer(s, job, { now: () => T0 });
      const rows = sample(3, 300);
      rows[10] = { ...rows[10], a: 500 }; // above the card's range (max 100): rejected
      rows[20] = { ...rows[20], colour: 'blue' }; // outside the vocabulary: rejected
      rows[30] = { ...rows[30], colour: null }; // missing, not nullable: rejected
      feed(ob, rows, 64);
      persist(s, ob);
      const stats = jobStats(s, job.id);
      const a = JSON.parse(stats.a) as { n: number; max: number };
      assert.equal(a.n, 297);
      assert.ok(a.max < 100, `max ${a.max}: the rejected 500 was not counted`);
      const colour = JSON.parse(stats.colour) as { rows: number; other: number; missing: number };
      // the rejected row's 'blue' is not scored but is counted as unseen (drift must see new categories)
      assert.deepEqual([colour.rows, colour.other, colour.missing], [298, 1, 0]);
      assert.equal(JSON.parse(stats['prediction.p_x']).n, 297);
    } finally {
      s.close();
    }
  });

  test('the same rows give bit-identical statistics on either thread, for any checkpoint grouping, and after a resume', () => {
    const s = store();
    try {
      const rows = sample(4, 3000);
      const run = (opts: DriftObserverOptions, checkpointEvery: number, resumeAt?: number) => {
        const job = newJob(s);
        let ob = observer(s, job, { now: () => T0, ...opts });
        for (let i = 0; i < rows.length; i += checkpointEvery) {
          if (resumeAt !== undefined && i === resumeAt) ob = observer(s, job, { now: () => T0 + 2 * HOUR, ...opts }); // a new process, later
          feed(ob, rows.slice(i, i + checkpointEvery), 100, i + 1);
          persist(s, ob);
        }
        return jobStats(s, job.id);
      };
      const inline = run({ inlineRows: Infinity }, 3000);
      // a started worker in the pool, so batches go to it from the first one (while it keeps up)
      const warm = StatsLane.acquire(BASELINE.features)!;
      warm.drain();
      warm.release();
      const posted = StatsLane.postedTotal;
      assert.deepEqual(run({ inlineRows: 0 }, 3000), inline, 'worker thread (and this thread when it is behind)');
      assert.ok(StatsLane.postedTotal > posted, 'the worker counted batches');
      assert.deepEqual(run({ inlineRows: 500 }, 700), inline, 'inline, then the worker; other checkpoints');
      assert.deepEqual(run({ inlineRows: Infinity }, 600, 1800), inline, 'resumed in another hour');
      // and the windows hold every row of every job exactly once
      const all = mergeJson(...windows(s, 'day').values());
      assert.equal(JSON.parse(all.a).n, 4 * 3000);
    } finally {
      s.close();
    }
  });

  test('alerts: one per scope and feature, reproducible from what they store, cleared and re-opened', () => {
    const s = store();
    try {
      const job = newJob(s);
      let now = T0;
      const ob = observer(s, job, { now: () => now });
      feed(ob, sample(5, 100, 40), 50); // `a` shifted by 4 standard deviations
      persist(s, ob);
      const first = listAlerts(s, { scope: 'job' });
      const drifted = first.map((x) => x.feature);
      assert.ok(drifted.includes('a'), `alerts: ${drifted.join(', ')}`);
      assert.ok(!drifted.includes('colour'), 'colour keeps its mix');
      const a = first.find((x) => x.feature === 'a')!;
      assert.equal(a.method, 'ks');
      assert.deepEqual([a.nReference, a.nCurrent, a.threshold, a.clearedAt], [2000, 100, 0.05, null]);
      assert.ok(a.score! < 1e-10);
      // the stored statistics and the card reproduce the number exactly
      const again = driftReport(BASELINE, { a: a.current as never }, CARD.drift).features[0];
      assert.equal(again.score, a.score);
      assert.equal(again.statistic, a.statistic);
      for (const scope of ['hour', 'day'] as const) assert.ok(listAlerts(s, { scope }).some((x) => x.feature === 'a'), `${scope} alert`);

      // diluted by much more unshifted data in the same scopes: cleared, still one row each
      now = T0 + 60_000;
      feed(ob, sample(6, 20_000), 1000, 101);
      persist(s, ob);
      const cleared = listAlerts(s, { scope: 'job', model: 'tiny' }).find((x) => x.feature === 'a')!;
      assert.equal(cleared.clearedAt, now);
      assert.equal(cleared.firstAt, T0);
      assert.equal(listAlerts(s, { activeOnly: true }).filter((x) => x.feature === 'a').length, 0);

      // drifting again re-opens the same alert
      now = T0 + 120_000;
      feed(ob, sample(7, 20_000, 40), 1000, 20_101);
      persist(s, ob);
      const again2 = listAlerts(s, { scope: 'job' }).filter((x) => x.feature === 'a');
      assert.equal(again2.length, 1);
      assert.deepEqual([again2[0].id, again2[0].firstAt, again2[0].lastAt, again2[0].clearedAt, again2[0].nCurrent], [a.id, T0, now, null, 40_100]);
      const count = s.db.prepare("SELECT count(*) AS n FROM drift_alerts WHERE feature = 'a'").get() as { n: number };
      assert.equal(count.n, 3, 'one per scope: job, hour, day');
    } finally {
      s.close();
    }
  });

  test('hour windows older than 31 days are dropped when a job starts; day windows stay', () => {
    const s = store();
    try {
      const old = observer(s, newJob(s), { now: () => T0 });
      feed(old, sample(8, 100), 100);
      persist(s, old);
      assert.equal(windows(s, 'hour').size, 1);
      createDriftObserver(s, newJob(s), CARD, { now: () => T0 + 30 * 24 * HOUR });
      assert.equal(windows(s, 'hour').size, 1, 'within 31 days: kept');
      createDriftObserver(s, newJob(s), CARD, { now: () => T0 + 33 * 24 * HOUR });
      assert.equal(windows(s, 'hour').size, 0);
      assert.equal(windows(s, 'day').size, 1);
    } finally {
      s.close();
    }
  });
});
