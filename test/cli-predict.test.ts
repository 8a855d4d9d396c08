// `outpost predict` through the real CLI: single records and JSON Lines on stdin give exactly what
// `outpost score` writes for the same rows; every kind of bad record is named by field; exit codes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { jsonLines, lastJson, REPO, runCli, type CliResult } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';
import { pagePredictions } from '../src/store/node/predictions.ts';
import { openStore } from '../src/store/node/store.ts';
import { setHubConnection } from '../src/store/node/sync-state.ts';

const root = tempDir();
const home = path.join(root, 'home');
const SAMPLE = path.join(REPO, 'models/demo/weather-2015.csv');
const DEMO_PKG = path.join(REPO, 'models/demo/weather');
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** The CLI with `stdin` written to its standard input. */
const runWithStdin = (args: string[], stdin: string | Buffer, at = home): Promise<CliResult> => runCli(args, { home: at, stdin });

const [header, ...rows] = fs.readFileSync(SAMPLE, 'utf8').trim().split('\n').map((l) => l.split(','));
const FIELDS = ['precipitation', 'temp_max', 'temp_min', 'wind', 'season'];
/** A sample row as a JSON object, numbers written as the CSV has them. */
const record = (row: string[]) => `{${FIELDS.map((f) => {
  const cell = row[header.indexOf(f)];
  return `"${f}": ${f === 'season' ? JSON.stringify(cell) : cell}`;
}).join(', ')}}`;
const GOOD = record(rows[0]);

let scored: Map<string, string>; // date → "label=… p_…=…" built from what `outpost score` wrote

before(async () => {
  const r = await runCli(['models', 'add', DEMO_PKG, '--allow-unsigned'], { home });
  assert.equal(r.code, 0, r.stderr);
  const out = path.join(root, 'scored.csv');
  const s = await runCli(['score', SAMPLE, '--model', 'seattle-weather', '--id', 'date', '--out', out], { home });
  assert.equal(s.code, 0, s.stderr);
  const [h, ...lines] = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => l.split(','));
  scored = new Map(lines.map((l) => [l[0], [`label=${l[1]}`, ...h.slice(2).map((name, i) => `${name}=${l[i + 2]}`)].join(' ')]));
});

test('predict on sample rows prints exactly what outpost score wrote for them (one --input, and JSON Lines on stdin)', async () => {
  const one = await runCli(['predict', '--model', 'seattle-weather', '--input', GOOD], { home });
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, `${scored.get(rows[0][0])}\n`);

  const some = rows.filter((_, i) => i % 5 === 0); // 73 rows across the year: every season and most labels
  const r = await runWithStdin(['predict', '--model', 'seattle-weather@1', '--input', '-'], some.map(record).join('\n') + '\n');
  assert.equal(r.code, 0, r.stderr);
  const printed = r.stdout.trim().split('\n');
  assert.equal(printed.length, some.length);
  some.forEach((row, i) => assert.equal(printed[i], scored.get(row[0]), `row ${row[0]}`));
  assert.ok(new Set(printed.map((l) => l.split(' ')[0])).size >= 2, 'the rows compared have more than one label');
});

test('--json: one object per record with the label and the probabilities as numbers printed the same way', async () => {
  const r = await runWithStdin(['predict', '--model', 'seattle-weather', '--input', '-', '--json'], `${GOOD}\n\n${record(rows[1])}\r\n`);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout) as { line: number; ok: boolean; label: string; probabilities: Record<string, number> }[];
  assert.deepEqual(lines.map((l) => l.line), [1, 3], 'a blank line is not a record but counts as a line');
  lines.forEach((l, i) => {
    assert.equal(l.ok, true);
    const text = [`label=${l.label}`, ...Object.entries(l.probabilities).map(([c, p]) => `p_${c}=${p}`)].join(' ');
    assert.equal(text, scored.get(rows[i][0]));
  });
});

test('bad records: invalid JSON, unknown and missing fields, out-of-range and out-of-vocabulary values, each named; exit 1', async () => {
  const input = [
    '{"precipitation": 1.5, "temp_max": 5.6,', // truncated
    '[1, 2, 3]',
    '{"precipitation": 0, "temp_max": 5.6, "temp_min": -3.2, "wind": 1.2, "season": "winter", "temp_maxx": 7}',
    '{"precipitation": 0, "temp_max": 5.6, "wind": 1.2, "season": "winter"}',
    '{"precipitation": -1, "temp_max": 61, "temp_min": "warm", "wind": 1.2, "season": "monsoon"}',
    GOOD,
  ].join('\n');
  const r = await runWithStdin(['predict', '--model', 'seattle-weather', '--input', '-', '--json'], input);
  assert.equal(r.code, 1, 'a record failed validation');
  assert.match(r.stderr, /5 records failed validation/);
  const lines = jsonLines(r.stdout) as { line: number; ok: boolean; errors?: { field: string; reason: string; value: string }[] }[];
  assert.deepEqual(lines.map((l) => [l.line, l.ok]), [[1, false], [2, false], [3, false], [4, false], [5, false], [6, true]], 'one result per line, good records still scored');
  assert.match(lines[0].errors![0].reason, /^invalid JSON: /);
  assert.equal(lines[1].errors![0].reason, 'not a JSON object (found an array)');
  assert.deepEqual(lines[2].errors, [{ field: 'temp_maxx', reason: 'unknown field (the model\'s inputs: precipitation, temp_max, temp_min, wind, season)', value: '7' }]);
  assert.deepEqual(lines[3].errors, [{ field: 'temp_min', reason: 'missing value in a non-nullable column', value: '' }]);
  assert.deepEqual(lines[4].errors!.map((e) => [e.field, e.reason]), [
    ['precipitation', '-1 is below the minimum 0'],
    ['temp_max', '61 is above the maximum 60'],
    ['temp_min', 'cannot parse "warm" as a number'],
    ['season', '"monsoon" is not in the vocabulary ("winter", "spring", "summer", "autumn")'],
  ]);

  const twice = await runCli(['predict', '--model', 'seattle-weather', '--input', '{"precipitation": 0, "temp_max": 5.6, "temp_min": -3.2, "wind": 1.2, "season": "winter", "temp_max": 30}'], { home });
  assert.equal(twice.code, 1);
  assert.equal(twice.stdout, 'line 1: rejected: names the key "temp_max" twice (a JSON object must name each key once)\n');

  const plain = await runCli(['predict', '--model', 'seattle-weather', '--input', '{"precipitation": 0, "temp_max": 99, "temp_min": 1, "season": "winter"}'], { home });
  assert.equal(plain.code, 1);
  assert.equal(plain.stdout, 'line 1: rejected: temp_max: 99 is above the maximum 60\n', 'wind is nullable: its absence is fine');
});

test('the same messages as outpost score gives for the same bad cells', async () => {
  const file = path.join(root, 'bad.jsonl');
  fs.writeFileSync(file, `${GOOD}\n{"precipitation": -1, "temp_max": 61, "temp_min": "warm", "wind": 1.2, "season": "monsoon"}\n`);
  const s = await runCli(['score', file, '--model', 'seattle-weather', '--max-reject-rate', '1', '--out', path.join(root, 'bad.scored.csv')], { home });
  assert.equal(s.code, 0, s.stderr);
  const rejects = fs.readFileSync(path.join(root, 'bad.scored.rejects.csv'), 'utf8');
  const p = await runWithStdin(['predict', '--model', 'seattle-weather', '--input', '-', '--json'], fs.readFileSync(file, 'utf8'));
  const errors = (jsonLines(p.stdout)[1] as { errors: { reason: string }[] }).errors;
  assert.equal(errors.length, 4);
  for (const e of errors) assert.ok(rejects.includes(e.reason.replaceAll('"', '""')) || rejects.includes(e.reason), `score's rejects say "${e.reason}":\n${rejects}`);
});

test('unknown model or version: exit 1 naming what is installed', async () => {
  const r = await runCli(['predict', '--model', 'no-such-model', '--input', GOOD], { home });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no model "no-such-model" is installed \(installed: seattle-weather\)/);
  const v = await runCli(['predict', '--model', 'seattle-weather@7', '--input', GOOD], { home });
  assert.equal(v.code, 1);
  assert.match(v.stderr, /seattle-weather@7 is not installed \(installed versions: 1\)/);
});

test('usage errors exit 2: no --model, no --input, a positional, a bad --ep', async () => {
  for (const [args, message] of [
    [['predict', '--input', GOOD], /--model is required/],
    [['predict', '--model', 'seattle-weather'], /--input is required/],
    [['predict', '--model', 'seattle-weather', '--input', GOOD, 'extra'], /unexpected: extra/],
    [['predict', '--model', 'seattle-weather', '--input', GOOD, '--ep', 'tpu'], /--ep must be one of/],
  ] as const) {
    const r = await runCli([...args], { home });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});

test('predict logs like a scoring job: same log rows, inputs and drift statistics as outpost score on the same rows, sync items, one session job per day', async () => {
  const h = path.join(root, 'home-log');
  assert.equal((await runCli(['models', 'add', DEMO_PKG, '--allow-unsigned'], { home: h })).code, 0);
  assert.equal((await runCli(['settings', 'set', 'logInputs', 'all'], { home: h })).code, 0);
  const s0 = openStore(h);
  // connected to a hub (never reached here): the outbox is written
  setHubConnection(s0, { url: 'http://127.0.0.1:9', trustId: 't', deviceId: 'd', name: 'desk', group: 'g', keyFile: 'device/key', connectedAt: new Date().toISOString() });
  s0.close();
  const some = rows.filter((_, i) => i % 5 === 0);
  const csv = path.join(root, 'some.csv');
  fs.writeFileSync(csv, [header, ...some].map((r) => r.join(',')).join('\n') + '\n');
  const sc = await runCli(['score', csv, '--model', 'seattle-weather', '--out', path.join(root, 'some.scored.csv'), '--json'], { home: h });
  assert.equal(sc.code, 0, sc.stderr);
  // a first record that fails: the session numbers rows from 1 across everything it was given
  const p = await runWithStdin(['predict', '--model', 'seattle-weather', '--input', '-'], ['{"precipitation": oops}', ...some.map(record)].join('\n') + '\n', h);
  assert.equal(p.code, 1, 'one record failed');

  const jobs = lastJson((await runCli(['jobs', '--json'], { home: h })).stdout).jobs as { id: string; inputPath: string; inputFormat: string; status: string; rowsRead: number; rowsScored: number; rowsRejected: number; rejectReasons: { reason: string }[] }[];
  const session = jobs.find((j) => j.inputFormat === 'records')!;
  const scoreJob = jobs.find((j) => j.inputFormat === 'csv')!;
  assert.ok(session, `a record-session job is listed: ${JSON.stringify(jobs)}`);
  assert.deepEqual([session.inputPath, session.status, session.rowsRead, session.rowsScored, session.rowsRejected], ['records:cli', 'completed', some.length + 1, some.length, 1]);
  assert.match(session.rejectReasons[0].reason, /invalid JSON/);

  const s = openStore(h);
  try {
    const logged = pagePredictions(s, { jobId: session.id, limit: 1000 });
    const byScore = pagePredictions(s, { jobId: scoreJob.id, limit: 1000 });
    assert.equal(logged.length, some.length);
    assert.deepEqual(logged.map((r) => r.row), some.map((_, i) => i + 2), 'row 1 was the rejected record');
    // bit for bit: the same float32 outputs, the same logged inputs
    assert.deepEqual(logged.map((r) => r.values), byScore.map((r) => r.values));
    assert.ok(Object.keys(logged[0].values).some((k) => k.startsWith('input.')), 'inputs logged (logInputs all)');

    // drift statistics of the same rows: the same counts, bins, extremes and sketch; the sums equal
    // up to rounding (each batch sums its rows in doubles before the exact merge, and predict
    // scores one record per batch where score read one batch of 73)
    const stats = (job: string) => (s.db.prepare('SELECT feature, stats_json FROM drift_job_stats WHERE job_id = ? ORDER BY feature').all(job) as { feature: string; stats_json: string }[])
      .map((r) => ({ feature: r.feature, ...JSON.parse(r.stats_json) as Record<string, unknown> }));
    const exact = (rows: Record<string, unknown>[]) => rows.map(({ s1: _1, s2: _2, ...rest }) => rest);
    const sums = (rows: Record<string, unknown>[]) => rows.flatMap((r) => [r.s1, r.s2].filter((x) => x !== undefined).map((x) => hexSum(x as string)));
    assert.equal(stats(session.id).length, 11, 'five inputs, the label and five probabilities');
    assert.deepEqual(exact(stats(session.id)), exact(stats(scoreJob.id)));
    const [a, b] = [sums(stats(session.id)), sums(stats(scoreJob.id))];
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= 1e-12 * Math.max(1, Math.abs(b[i])), `sum ${i}: ${x} vs ${b[i]}`));
    const window = s.db.prepare("SELECT max(rows) AS n FROM drift_window_stats WHERE width = 'day'").get() as { n: number };
    assert.equal(window.n, 2 * some.length, 'the day window holds both runs');

    const items = s.db.prepare("SELECT kind, ref_job FROM outbox WHERE ref_job = ? OR kind IN ('drift', 'job')").all(session.id) as { kind: string; ref_job: string | null }[];
    assert.ok(items.some((i) => i.kind === 'predictions' && i.ref_job === session.id), 'the log batches are queued for the hub');
    assert.ok(items.filter((i) => i.kind === 'drift').length >= 2, 'drift deltas of both runs');
  } finally {
    s.close();
  }

  // a second run the same day continues the same session
  const again = await runCli(['predict', '--model', 'seattle-weather', '--input', GOOD], { home: h });
  assert.equal(again.code, 0, again.stderr);
  const after = ((lastJson((await runCli(['jobs', '--json'], { home: h })).stdout).jobs) as { id: string; inputFormat: string; rowsRead: number }[]).filter((j) => j.inputFormat === 'records');
  assert.deepEqual(after.map((j) => [j.id, j.rowsRead]), [[session.id, some.length + 2]]);
});

/** A statistics sum as written ("-1a2bp-50": a hexadecimal integer times a power of two) as a number. */
function hexSum(text: string): number {
  const m = /^(-?)([0-9a-f]+)p(-?\d+)$/.exec(text);
  assert.ok(m, `a sum: ${text}`);
  return (m[1] ? -1 : 1) * Number(BigInt(`0x${m[2]}`)) * 2 ** Number(m[3]);
}

test('stdin is read as a JSONL file is: a byte order mark dropped, CRLF lines, a line that is not UTF-8 named as such', async () => {
  const bad = Buffer.from('{"precipitation": 0, "temp_max": 5.6, "temp_min": -3.2, "wind": 1.2, "season": "wi\xffnter"}', 'latin1');
  const stdin = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${GOOD}\r\n`), bad, Buffer.from(`\n${record(rows[1])}`)]);
  const r = await runWithStdin(['predict', '--model', 'seattle-weather', '--input', '-', '--json'], stdin);
  assert.equal(r.code, 1, 'one record failed');
  const lines = jsonLines(r.stdout) as { line: number; ok: boolean; errors?: { reason: string }[] }[];
  assert.deepEqual(lines.map((l) => [l.line, l.ok]), [[1, true], [2, false], [3, true]]);
  assert.equal(lines[1].errors![0].reason, 'invalid UTF-8 (a record is UTF-8 text)');
});
