// A workstation offline for a week (seven days of scoring, one job a day, with the hub
// unreachable) reaches its outbox quota: the oldest predictions are dropped, each recorded as a
// `sync-dropped` item that syncs in its place; security events, alerts and model events are never dropped. Back
// online, the hub's rows plus the recorded drops equal what the workstation scored, row for row.
// Local-log retention that removes unsynced batches records them the same way.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { listFleetEvents } from '../src/hub/node/fleet-query.ts';
import { recordSecurityEvent } from '../src/store/node/models.ts';
import { enforceOutboxQuota, outboxSummary } from '../src/store/node/outbox.ts';
import { enforceRetention } from '../src/store/node/predictions.ts';
import { updateSettings } from '../src/store/node/store.ts';
import { runSync } from '../src/sync/node/sync.ts';
import { startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { startSyncProxy, type SyncProxy } from './helpers/sync-proxy.ts';
import { enrollWorkstation, SAMPLE, score, type Workstation } from './helpers/sync-fleet.ts';

let t: TestHub;
let proxy: SyncProxy;
let dir: string;
let ws: Workstation;
const QUOTA = 48 * 1024;

before(async () => {
  t = await startTestHub();
  proxy = await startSyncProxy(t.url);
  dir = tmpDir('outpost-sync-offline-');
  ws = await enrollWorkstation(t.hub, proxy.url, t.trustRoot, dir, 'ws-offline');
  updateSettings(ws.store, { syncQuotaBytes: QUOTA, logInputs: 'all' });
});
after(async () => { ws.store.close(); await proxy.close(); await t.close(); fs.rmSync(dir, { recursive: true, force: true }); });

const noSleep = async () => undefined;
const droppedRecords = () => (ws.store.db.prepare("SELECT seq, payload FROM outbox WHERE kind = 'sync-dropped'").all() as { seq: number }[]).length;

test('a week offline: the quota drops the oldest predictions with a record; nothing else of value is lost', async () => {
  proxy.target = 'http://127.0.0.1:9'; // the hub is out of reach all week
  for (let day = 1; day <= 7; day++) {
    await score(ws, SAMPLE, { batchRows: 50 });
    recordSecurityEvent(ws.store, 'test-event', null, `day ${day}`);
    await assert.rejects(runSync(ws.store, { attempts: 1, sleep: noSleep, refreshMetadata: false }), /unreachable/);
    const s = outboxSummary(ws.store);
    const undroppable = (ws.store.db.prepare("SELECT coalesce(sum(size_bytes), 0) AS b FROM outbox WHERE sent_at IS NULL AND kind IN ('security', 'alert', 'sync-dropped', 'model')").get() as { b: number }).b;
    assert.ok(s.waitingBytes <= Math.max(QUOTA, undroppable), `day ${day}: ${s.waitingBytes} bytes waiting, quota ${QUOTA}`);
  }
  assert.ok(droppedRecords() > 0, 'the quota was reached');
  const loggedRows = (ws.store.db.prepare('SELECT sum(row_count) AS n FROM prediction_batches').get() as { n: number }).n;
  assert.equal(loggedRows, 7 * 365, 'the local log still has everything (the quota bounds what waits to sync, not the log)');
  const alertsWritten = (ws.store.db.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'alert'").get() as { n: number }).n;

  proxy.target = t.url; // back online
  const r = await runSync(ws.store, { sleep: noSleep, refreshMetadata: false });
  assert.deepEqual(r.rejected, []);
  assert.equal(outboxSummary(ws.store).waiting, 0);

  const sql = t.hub.storage.fleet;
  const synced = Number((await sql.all<{ n: number }>('SELECT coalesce(sum(row_count), 0) AS n FROM fleet_predictions'))[0].n);
  const drops = await listFleetEvents(t.hub, { kinds: ['sync-dropped'], limit: 10_000 });
  assert.equal(drops.length, droppedRecords());
  const droppedRows = drops.reduce((n, e) => n + ((e.detail as { droppedKind: string; rows: number }).droppedKind === 'predictions' ? (e.detail as { rows: number }).rows : 0), 0);
  assert.ok(droppedRows > 0);
  assert.equal(synced + droppedRows, loggedRows, 'hub rows + recorded drops = rows scored');
  for (const e of drops) {
    const d = e.detail as { droppedKind: string; reason: string; jobId?: string; batches?: [number, number] };
    assert.ok(!['security', 'alert', 'sync-dropped', 'model'].includes(d.droppedKind), `never dropped: ${d.droppedKind}`);
    assert.match(d.reason, /quota/);
    if (d.droppedKind === 'predictions') assert.ok(d.jobId && d.batches, 'the record names the job and batches');
  }
  const security = await listFleetEvents(t.hub, { kinds: ['security'], limit: 10_000 });
  assert.equal(security.filter((e) => /^test-event/.test(e.summary)).length, 7, 'every security event arrived');
  const alerts = await listFleetEvents(t.hub, { kinds: ['alert'], limit: 10_000 });
  assert.equal(alerts.length, alertsWritten, 'every alert change arrived');
  // the oldest went first: every dropped prediction batch is older than every synced one of later jobs
  const firstJobDropped = drops.some((e) => (e.detail as { jobId?: string }).jobId === (ws.store.db.prepare('SELECT id FROM jobs ORDER BY created_at LIMIT 1').get() as { id: string }).id);
  assert.ok(firstJobDropped, 'the first day\'s predictions were dropped first');
});

test('retention removing unsynced log batches records them as dropped, and they sync as records', async () => {
  proxy.target = 'http://127.0.0.1:9';
  updateSettings(ws.store, { syncQuotaBytes: 512 * 1024 ** 2 });
  await score(ws, SAMPLE, { batchRows: 50 });
  const before = droppedRecords();
  enforceRetention(ws.store, { retentionMaxBytes: 1, retentionMaxAgeDays: 90 });
  assert.equal((ws.store.db.prepare('SELECT count(*) AS n FROM prediction_batches').get() as { n: number }).n, 0, 'the log was emptied');
  assert.ok(droppedRecords() > before, 'its unsent items became records');
  assert.equal((ws.store.db.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'predictions' AND sent_at IS NULL").get() as { n: number }).n, 0);
  assert.equal(enforceOutboxQuota(ws.store, 512 * 1024 ** 2), 0);
  proxy.target = t.url;
  await runSync(ws.store, { sleep: noSleep, refreshMetadata: false });
  const drops = await listFleetEvents(t.hub, { kinds: ['sync-dropped'], limit: 10_000 });
  assert.ok(drops.some((e) => /retention/.test((e.detail as { reason: string }).reason)));
});
