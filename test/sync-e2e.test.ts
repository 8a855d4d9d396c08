// Fleet sync end to end on loopback: a hub and three workstations enrolled with one-time codes,
// each scoring its part of a file and syncing. The hub then holds exactly what the workstations
// did (row for row), and fleet drift equals, byte for byte, the statistics of one workstation that
// scored all three parts itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { mergeStats, parseBaseline, statsFromJSON, type FeatureStats } from '../src/drift/common/index.ts';
import { listDevices } from '../src/hub/node/devices.ts';
import { exportPredictions } from '../src/hub/node/fleet-export.ts';
import { fleetDrift, listFleetEvents } from '../src/hub/node/fleet-query.ts';
import { getModel, installPackage } from '../src/store/node/models.ts';
import { outboxSummary } from '../src/store/node/outbox.ts';
import { openStore } from '../src/store/node/store.ts';
import { runSync } from '../src/sync/node/sync.ts';
import { startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { lastJson, runMain } from './helpers/cli.ts';
import { DEMO_PACKAGE, enrollWorkstation, jobRows, SAMPLE, score, splitCsv, type Workstation } from './helpers/sync-fleet.ts';

let t: TestHub;
let dir: string;
let parts: string[];
const fleet: Workstation[] = [];

before(async () => {
  t = await startTestHub();
  dir = tmpDir('outpost-sync-e2e-');
  parts = splitCsv(SAMPLE, 3, dir);
  for (const [name, group] of [['ws-a', 'line-1'], ['ws-b', 'line-1'], ['ws-c', 'line-2']] as const) {
    fleet.push(await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, name, group));
  }
});
after(async () => {
  for (const w of fleet) w.store.close();
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('three workstations score and sync: the hub holds every item once and the same counts, row for row', async () => {
  for (const [i, ws] of fleet.entries()) {
    await score(ws, parts[i], { batchRows: 40 }); // several checkpoints, so several items per job
    const r = await runSync(ws.store, { refreshMetadata: true });
    assert.equal(r.metadata.refreshed, true, r.metadata.error);
    assert.deepEqual(r.rejected, [], 'nothing rejected');
    assert.deepEqual(r.deferred, [], 'nothing deferred');
    assert.equal(outboxSummary(ws.store).waiting, 0);
  }
  const sql = t.hub.storage.fleet;
  for (const ws of fleet) {
    const [dev] = await sql.all<{ id: string }>('SELECT id FROM fleet_devices WHERE name = ?', [ws.name]);
    // every outbox item the device ever wrote is in the ledger, once
    const written = (ws.store.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number }).seq;
    const ledger = await sql.all<{ seq: number }>('SELECT seq FROM fleet_items WHERE device_id = ? ORDER BY seq', [dev.id]);
    assert.deepEqual(ledger.map((r) => r.seq), Array.from({ length: written }, (_, i) => i + 1), `${ws.name}: ledger holds seq 1..${written}`);
    // jobs and predictions row for row
    const jobs = await sql.all<{ job_id: string; rows_scored: number; status: string }>('SELECT job_id, rows_scored, status FROM fleet_jobs WHERE device_id = ?', [dev.id]);
    assert.deepEqual(new Map(jobs.map((j) => [j.job_id, j.rows_scored])), jobRows(ws.store));
    assert.ok(jobs.every((j) => j.status === 'completed'));
    const local = ws.store.db.prepare('SELECT job_id, seq, row_count FROM prediction_batches ORDER BY job_id, seq').all();
    const remote = await sql.all('SELECT job_id, batch_seq AS seq, row_count FROM fleet_predictions WHERE device_id = ? ORDER BY job_id, batch_seq', [dev.id]);
    assert.deepEqual(remote, local);
    const blobsEqual = ws.store.db.prepare('SELECT job_id, seq, outputs FROM prediction_batches').all() as { job_id: string; seq: number; outputs: Buffer }[];
    for (const b of blobsEqual) {
      const [r] = await sql.all<{ outputs: Buffer }>('SELECT outputs FROM fleet_predictions WHERE device_id = ? AND job_id = ? AND batch_seq = ?', [dev.id, b.job_id, b.seq]);
      assert.ok(Buffer.from(r.outputs).equals(b.outputs), 'packed batches stored as they arrived');
    }
  }
  const devices = await listDevices(t.hub);
  assert.deepEqual(devices.map((d) => [d.name, d.group]), [['ws-a', 'line-1'], ['ws-b', 'line-1'], ['ws-c', 'line-2']]);
  for (const d of devices) {
    const ws = fleet.find((w) => w.name === d.name)!;
    assert.equal(d.rowsScored, [...jobRows(ws.store).values()].reduce((a, b) => a + b, 0));
    assert.equal(d.state?.models?.[0]?.name, 'seattle-weather');
    assert.ok(d.lastSeenAt);
  }
});

test('a second sync sends nothing new and the hub is unchanged (idempotent)', async () => {
  const before = await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_items');
  for (const ws of fleet) {
    const r = await runSync(ws.store, { refreshMetadata: false });
    assert.equal(r.sent, 1, 'only the new heartbeat');
  }
  const after = await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_items');
  assert.equal(Number(after[0].n), Number(before[0].n) + 3);
});

test('fleet drift is the exact merge: byte-identical to one workstation that scored all three parts', async () => {
  const soloHome = path.join(dir, 'solo');
  const solo = openStore(soloHome);
  try {
    installPackage(solo, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
    for (const p of parts) await score({ name: 'solo', home: soloHome, store: solo }, p, { batchRows: 40 });
    const baseline = parseBaseline(getModel(solo, 'seattle-weather@1').card.baseline);
    const acc = new Map<string, FeatureStats>();
    for (const r of solo.db.prepare("SELECT feature, stats_json FROM drift_window_stats WHERE width = 'day'").all() as { feature: string; stats_json: string }[]) {
      const s = statsFromJSON(JSON.parse(r.stats_json), baseline.features.find((f) => f.name === r.feature)!);
      acc.set(r.feature, acc.has(r.feature) ? mergeStats(acc.get(r.feature)!, s) : s);
    }
    const f = await fleetDrift(t.hub, 'seattle-weather@1');
    assert.deepEqual(f.devices, ['ws-a', 'ws-b', 'ws-c']);
    assert.equal(f.rows, 365);
    assert.deepEqual(Object.keys(f.stats).sort(), [...acc.keys()].sort());
    for (const [name, s] of acc) assert.equal(JSON.stringify(f.stats[name]), JSON.stringify(s), `feature ${name}: byte-identical statistics`);
    // and the CLI reports the same, for one group only when asked
    const cli = await runMain(['hub', 'drift', 'seattle-weather', '--dir', t.dir, '--group', 'line-1', '--json']);
    assert.equal(cli.code, 0, cli.err);
    const g = lastJson(cli.out) as { devices: string[]; rows: number };
    assert.deepEqual(g.devices, ['ws-a', 'ws-b']);
    assert.equal(g.rows, jobRows(fleet[0].store).values().next().value! + jobRows(fleet[1].store).values().next().value!);
    const w = await runMain(['hub', 'drift', 'seattle-weather@1', '--dir', t.dir, '--window', 'hour', '--last', '3']);
    assert.equal(w.code, 0, w.err);
    assert.match(w.out, /Fleet drift of seattle-weather@1 — the last 3 hour windows/);
  } finally {
    solo.close();
  }
});

test('hub events and Parquet export show what the fleet sent', async () => {
  const events = await listFleetEvents(t.hub, { limit: 1000 });
  assert.ok(events.some((e) => e.kind === 'model-install' && e.device === 'ws-c'), 'install events (the card travels with them)');
  const out = path.join(dir, 'fleet.parquet');
  const r = await exportPredictions(t.hub, { model: 'seattle-weather' }, out);
  assert.equal(r.rows, 365);
  assert.equal(r.devices, 3);
  const buf = fs.readFileSync(out);
  const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) });
  assert.equal(rows.length, 365);
  const local = fleet[0].store.db.prepare('SELECT count(*) AS n FROM prediction_batches').get() as { n: number };
  assert.ok(local.n > 0);
  assert.deepEqual(new Set(rows.map((x) => x.device)), new Set(['ws-a', 'ws-b', 'ws-c']));
  assert.ok(rows.every((x) => typeof x.label === 'string' && typeof x.p_sun === 'number'));
  const cli = await runMain(['hub', 'export', 'predictions', '--dir', t.dir, '--model', 'nope', '--out', path.join(dir, 'none.parquet')]);
  assert.equal(cli.code, 1);
  assert.match(cli.err, /no synced predictions of nope/);
  assert.equal(fs.existsSync(path.join(dir, 'none.parquet')), false);
});

test('`pull` needs no --hub once connected; `sync status` reports the hub and the last success', async () => {
  const st = await runMain(['--home', fleet[0].home, 'sync', 'status', '--json']);
  assert.equal(st.code, 0, st.err);
  const s = lastJson(st.out) as { connected: boolean; lastSuccessAt: string | null; waiting: { waiting: number } };
  assert.equal(s.connected, true);
  assert.ok(s.lastSuccessAt);
  const pull = await runMain(['--home', fleet[0].home, 'pull', 'churn-model']);
  assert.equal(pull.code, 1, 'the connected hub is used (nothing published there under that name)');
  assert.doesNotMatch(pull.err, /--hub <url> is required/);
  assert.match(pull.err, /churn-model/);
});
