// `outpost labels add` and `outpost performance` end to end through the CLI on the real demo model:
// the join by the id the scoring run logged, every edge case (late, duplicate, conflicting, unknown,
// invalid, rescored, jobs without ids), bad files, and the performance alert opening, syncing as an
// outbox item and clearing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AlertPayload } from '../src/sync/common/items.ts';
import { unsentItems } from '../src/store/node/outbox.ts';
import { openStore } from '../src/store/node/store.ts';
import { setHubConnection } from '../src/store/node/sync-state.ts';
import { lastJson, REPO, runMain } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
const SAMPLE = path.join(REPO, 'models/demo/weather-2015.csv');
const home = path.join(root, 'home');
const cli = (...argv: string[]) => runMain(['--home', home, ...argv]);
const json = async (...argv: string[]) => {
  const r = await cli('--json', ...argv);
  return { ...r, result: r.out ? lastJson(r.out) : {} };
};

// the 2015 sample: date → weather
const truth = new Map(fs.readFileSync(SAMPLE, 'utf8').trim().split('\n').slice(1).map((l) => { const c = l.split(','); return [c[0], c[6]] as const; }));
const dates = [...truth.keys()];

function labelFile(name: string, lines: string[], header = 'day,observed'): string {
  const f = path.join(root, name);
  fs.writeFileSync(f, [header, ...lines].join('\n') + '\n');
  return f;
}

const db = <T>(sql: string, ...args: unknown[]): T => {
  const s = openStore(home);
  try { return s.db.prepare(sql).all(...args) as T; } finally { s.close(); }
};

before(async () => {
  // the demo package with a performance bound its held-out accuracy (0.83) breaks
  const pkg = path.join(root, 'weather');
  fs.cpSync(path.join(REPO, 'models/demo/weather'), pkg, { recursive: true });
  const card = JSON.parse(fs.readFileSync(path.join(pkg, 'card.json'), 'utf8')) as Record<string, unknown>;
  card.monitoring = { performance: { metric: 'accuracy', min: 0.9, minSamples: 50 } };
  fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify(card, null, 2));
  assert.equal((await cli('models', 'add', pkg, '--allow-unsigned')).code, 0);
  // connected (the store's hub connection record), so alerts become outbox items
  const s = openStore(home);
  setHubConnection(s, { url: 'http://127.0.0.1:9', trustId: 't', deviceId: 'd', name: 'desk', group: 'g', keyFile: 'device/key', connectedAt: new Date().toISOString() });
  s.close();
  const r = await cli('score', SAMPLE, '--model', 'seattle-weather', '--id', 'date', '--out', path.join(root, 'scored.csv'));
  assert.equal(r.code, 0, r.err);
});

test('labels join by id; duplicates, conflicts, unknown ids and invalid rows are counted and listed', async () => {
  const lines = dates.slice(0, 200).map((d) => `${d},${truth.get(d)}`);
  lines.push(`${dates[0]},${truth.get(dates[0])}`); // duplicate, same label (row 201)
  lines.push(`${dates[1]},${truth.get(dates[1]) === 'sun' ? 'rain' : 'sun'}`); // conflicts with row 2 (row 202)
  lines.push('2099-01-01,sun'); // unknown id (row 203)
  lines.push(',rain'); // missing id (row 204)
  lines.push(`${dates[300]},hail`); // not a class (row 205)
  lines.push(`${dates[301]},`); // missing label (row 206)
  lines.push(`${dates[302]},sun,extra`); // wrong field count (row 207)
  const f = labelFile('labels-1.csv', lines);
  const r = await json('labels', 'add', f, '--model', 'seattle-weather', '--id', 'day', '--label', 'observed');
  assert.equal(r.code, 0, r.err);
  const s = r.result as Record<string, unknown>;
  assert.equal(s.rows, 207);
  assert.equal(s.joined, 199); // 200 ids less the conflicting one
  assert.equal(s.idsJoined, 199);
  assert.equal(s.duplicatesInFile, 1);
  assert.equal(s.conflictsInFile, 2); // both rows of the conflicting id
  assert.equal(s.unknown, 1);
  assert.equal(s.invalid, 4);
  assert.equal(s.late, 0);
  assert.deepEqual(s.byVersion, { 1: 199 });
  const issues = fs.readFileSync(s.issuesPath as string, 'utf8').trim().split('\n');
  assert.equal(issues[0], 'row,id,reason,detail');
  const byRow = new Map(issues.slice(1).map((l) => [Number(l.split(',')[0]), l]));
  assert.match(byRow.get(201)!, /duplicate-in-file/);
  assert.match(byRow.get(2)!, /conflict-in-file/);
  assert.match(byRow.get(202)!, /conflict-in-file/);
  assert.match(byRow.get(203)!, /unknown-id/);
  assert.match(byRow.get(204)!, /missing id/);
  assert.match(byRow.get(205)!, /""hail"" is not a class of seattle-weather/);
  assert.match(byRow.get(206)!, /missing label/);
  assert.match(byRow.get(207)!, /invalid/);
  assert.equal(issues.length - 1, 8, 'every row that did not join is listed once (the duplicate row too)');
  // stored: the prediction the id joined (from the log), the truth, not late
  const rows = db<{ id: string; truth: string; predicted: string; scores_json: string; late: number }[]>('SELECT id, truth, predicted, scores_json, late FROM labels ORDER BY id');
  assert.equal(rows.length, 199);
  assert.ok(!rows.some((x) => x.id === dates[1]), 'the conflicting id is not stored');
  const first = rows.find((x) => x.id === dates[0])!;
  assert.equal(first.truth, truth.get(dates[0]));
  assert.equal((JSON.parse(first.scores_json) as number[]).length, 5);
  // the scored output holds the same predicted label
  const scored = new Map(fs.readFileSync(path.join(root, 'scored.csv'), 'utf8').trim().split('\n').slice(1).map((l) => { const c = l.split(','); return [c[0], c[1]] as const; }));
  for (const x of rows) assert.equal(x.predicted, scored.get(x.id), x.id);
});

test('the accuracy bound of the card opens a performance alert per window, which is an outbox alert item', async () => {
  const alerts = db<{ scope: string; metric: string; value: number; n: number; cleared_at: number | null }[]>('SELECT scope, metric, value, n, cleared_at FROM performance_alerts ORDER BY scope');
  assert.deepEqual(alerts.map((a) => a.scope), ['day', 'hour', 'job']);
  for (const a of alerts) {
    assert.equal(a.metric, 'accuracy');
    assert.equal(a.n, 199);
    assert.ok(a.value < 0.9);
    assert.equal(a.cleared_at, null);
  }
  const s = openStore(home);
  try {
    const items = unsentItems(s, 1000).filter((i) => i.kind === 'alert' && (i.payload as { feature: string }).feature.startsWith('performance.'));
    assert.equal(items.length, 3);
    for (const i of items) {
      const p = AlertPayload.parse(i.payload); // what the hub's ingest validates
      assert.equal(p.feature, 'performance.accuracy');
      assert.equal(p.state, 'opened');
      assert.equal(p.threshold, 0.9);
    }
  } finally { s.close(); }
  const perf = await json('performance', 'seattle-weather', '--window', 'job');
  assert.equal(perf.code, 0, perf.err);
  const p = perf.result as { windows: { n: number; metrics: Record<string, { value: number; ci: { low: number; high: number } }>; check: { breached: boolean } }[]; alerts: unknown[] };
  assert.equal(p.windows.length, 1);
  assert.equal(p.windows[0].n, 199);
  const acc = p.windows[0].metrics.accuracy;
  const correct = db<{ n: number }[]>('SELECT count(*) AS n FROM labels WHERE truth = predicted')[0].n;
  assert.equal(acc.value, correct / 199);
  assert.ok(acc.ci.low < acc.value && acc.value < acc.ci.high);
  assert.equal(p.windows[0].check.breached, true);
  assert.equal(p.alerts.length, 3);
  const text = await cli('performance', 'seattle-weather');
  assert.match(text.out, /accuracy: Wilson score interval/);
  assert.match(text.out, /BELOW min 0\.9/);
});

test('a second import: same labels are duplicates, a different one is kept unless --replace; replacing clears the alert', async () => {
  const same = labelFile('labels-2.csv', dates.slice(2, 12).map((d) => `${d},${truth.get(d)}`).concat([`${dates[5]},${truth.get(dates[5]) === 'fog' ? 'rain' : 'fog'}`]));
  const r = await json('labels', 'add', same, '--model', 'seattle-weather', '--id', 'day', '--label', 'observed');
  // rows 1–10 already labelled, rows 4 and 11 conflict in the file
  assert.equal(r.code, 1, 'nothing joined: exit 1');
  assert.equal((r.result as { alreadyLabelled: number }).alreadyLabelled, 9);
  assert.equal((r.result as { conflictsInFile: number }).conflictsInFile, 2);
  const other = dates[7];
  const flipped = truth.get(other) === 'fog' ? 'rain' : 'fog';
  const conflict = labelFile('labels-3.csv', [`${other},${flipped}`]);
  const kept = await json('labels', 'add', conflict, '--model', 'seattle-weather', '--id', 'day', '--label', 'observed');
  assert.equal(kept.code, 1);
  assert.equal((kept.result as { conflictsWithStored: number }).conflictsWithStored, 1);
  assert.equal(db<{ truth: string }[]>('SELECT truth FROM labels WHERE id = ?', other)[0].truth, truth.get(other));
  const replaced = await json('labels', 'add', conflict, '--model', 'seattle-weather', '--id', 'day', '--label', 'observed', '--replace');
  assert.equal(replaced.code, 0);
  assert.equal((replaced.result as { replaced: number }).replaced, 1);
  assert.equal(db<{ truth: string }[]>('SELECT truth FROM labels WHERE id = ?', other)[0].truth, flipped);
  // now label every stored id with what the model predicted: accuracy 1, alerts clear
  const predicted = db<{ id: string; predicted: string }[]>('SELECT id, predicted FROM labels');
  const perfect = labelFile('labels-4.csv', predicted.map((x) => `${x.id},${x.predicted}`));
  const fixed = await json('labels', 'add', perfect, '--model', 'seattle-weather', '--id', 'day', '--label', 'observed', '--replace');
  assert.equal(fixed.code, 0, fixed.err);
  assert.deepEqual(db<{ n: number }[]>('SELECT count(*) AS n FROM performance_alerts WHERE cleared_at IS NULL')[0].n, 0);
  const s = openStore(home);
  try {
    const cleared = unsentItems(s, 1000).filter((i) => i.kind === 'alert' && (i.payload as { feature: string }).feature.startsWith('performance.') && (i.payload as { state: string }).state === 'cleared');
    assert.equal(cleared.length, 3);
  } finally { s.close(); }
});

test('late labels are joined and counted; a rescored id joins its latest prediction', async () => {
  // score the sample again: every id now has two predictions of version 1
  const again = await cli('score', SAMPLE, '--model', 'seattle-weather', '--id', 'date', '--out', path.join(root, 'scored-2.csv'));
  assert.equal(again.code, 0, again.err);
  const latestJob = db<{ id: string }[]>('SELECT id FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT 1')[0].id;
  const f = labelFile('labels-5.csv', dates.slice(250, 260).map((d) => `${d},${truth.get(d)}`));
  const r = await json('labels', 'add', f, '--model', 'seattle-weather', '--id', 'day', '--label', 'observed', '--late-after', '0');
  assert.equal(r.code, 0, r.err);
  const s = r.result as { joined: number; late: number; rescored: number };
  assert.equal(s.joined, 10);
  assert.equal(s.late, 10, 'arrived after 0 days: late');
  assert.equal(s.rescored, 10);
  const rows = db<{ job_id: string; late: number }[]>('SELECT job_id, late FROM labels WHERE id IN (SELECT value FROM json_each(?))', JSON.stringify(dates.slice(250, 260)));
  assert.ok(rows.every((x) => x.job_id === latestJob && x.late === 1));
  const list = await json('labels', 'list', 'seattle-weather');
  assert.equal((list.result as { imports: unknown[] }).imports.length, 6);
});

test('bad label files and bad usage: clear errors naming file and column, nothing stored', async () => {
  const before = db<{ n: number }[]>('SELECT count(*) AS n FROM label_imports')[0].n;
  const noCol = labelFile('bad-1.csv', ['2015-01-01,sun'], 'day,weather');
  const r1 = await cli('labels', 'add', noCol, '--model', 'seattle-weather', '--id', 'day', '--label', 'observed');
  assert.equal(r1.code, 1);
  assert.match(r1.err, /bad-1\.csv.*no column "observed" in the label file \(it has: day, weather\)/);
  const empty = labelFile('bad-2.csv', []);
  const r2 = await cli('labels', 'add', empty, '--model', 'seattle-weather', '--id', 'day', '--label', 'observed');
  assert.equal(r2.code, 1);
  assert.match(r2.err, /bad-2\.csv/);
  const r3 = await cli('labels', 'add', path.join(root, 'missing.csv'), '--model', 'seattle-weather', '--id', 'day', '--label', 'observed');
  assert.equal(r3.code, 1);
  assert.match(r3.err, /missing\.csv/);
  assert.equal((await cli('labels', 'add', noCol, '--model', 'seattle-weather@1', '--id', 'day', '--label', 'weather')).code, 2);
  assert.equal((await cli('labels', 'add', noCol, '--model', 'seattle-weather', '--label', 'weather')).code, 2);
  assert.equal((await cli('labels', 'add', noCol, '--model', 'nope', '--id', 'day', '--label', 'weather')).code, 1);
  assert.equal((await cli('labels', 'add', noCol, '--model', 'seattle-weather', '--id', 'day', '--label', 'weather', '--late-after', 'soon')).code, 2);
  assert.equal(db<{ n: number }[]>('SELECT count(*) AS n FROM label_imports')[0].n, before);
  assert.equal((await cli('performance', 'seattle-weather', '--window', 'week')).code, 2);
});

test('a model whose predictions were logged without ids cannot take labels, and says how to fix it', async () => {
  const h2 = path.join(root, 'home-2');
  assert.equal((await runMain(['--home', h2, 'models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'])).code, 0);
  const noLabels = await runMain(['--home', h2, 'performance', 'seattle-weather']);
  assert.equal(noLabels.code, 1);
  assert.match(noLabels.err, /no labelled predictions/);
  assert.equal((await runMain(['--home', h2, 'score', SAMPLE, '--model', 'seattle-weather', '--out', path.join(root, 'noid.csv')])).code, 0);
  const f = labelFile('labels-6.csv', [`${dates[0]},sun`]);
  const r = await runMain(['--home', h2, 'labels', 'add', f, '--model', 'seattle-weather', '--id', 'day', '--label', 'observed']);
  assert.equal(r.code, 1);
  assert.match(r.err, /scored without --id\): score with --id COL/);
});
