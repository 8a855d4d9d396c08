// Ground-truth labels synced to the hub (`labels` outbox items): a workstation scores Seattle
// weather 2015 with ids, joins the labels, syncs; the hub holds each label once per device, model
// version and id, equal to the device's own, with the prediction it was joined to. Sent again (a
// device that lost the acknowledgement) it changes nothing; a replaced label updates the hub; an
// import that joins nothing sends nothing; a malformed item is rejected and kept on the device.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fleetLabelCounts } from '../src/hub/node/fleet-labels.ts';
import { addLabels } from '../src/monitor/node/labels.ts';
import { enqueue, outboxSummary } from '../src/store/node/outbox.ts';
import { runSync } from '../src/sync/node/sync.ts';
import { lastJson, runMain } from './helpers/cli.ts';
import { startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { enrollWorkstation, SAMPLE, type Workstation } from './helpers/sync-fleet.ts';
import { scoreFile } from '../src/scoring/node/score-file.ts';

let t: TestHub;
let dir: string;
let ws: Workstation;
let deviceId: string;

interface HubLabel { id: string; model_version: number; truth: string; predicted: string | null; scores: string | null; predicted_at: number; item_seq: number }
const hubLabels = async () => t.hub.storage.fleet.all<HubLabel>('SELECT id, model_version, truth, predicted, scores, predicted_at, item_seq FROM fleet_labels WHERE device_id = ? ORDER BY id', [deviceId]);
const deviceLabels = () => ws.store.db.prepare("SELECT id, model_version, truth, predicted, scores_json AS scores, predicted_at FROM labels WHERE model_name = 'seattle-weather' ORDER BY id").all() as Omit<HubLabel, 'item_seq'>[];
const ledger = async () => (await t.hub.storage.fleet.all<{ n: number }>("SELECT count(*) AS n FROM fleet_items WHERE device_id = ? AND kind = 'labels'", [deviceId]))[0].n;

before(async () => {
  t = await startTestHub();
  dir = tmpDir('outpost-sync-labels-');
  ws = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'ws-l', 'line-1');
  deviceId = (await t.hub.storage.fleet.all<{ id: string }>('SELECT id FROM fleet_devices WHERE name = ?', ['ws-l']))[0].id;
  await scoreFile(ws.store, { input: SAMPLE, model: 'seattle-weather', idColumn: 'date', out: path.join(dir, 'scored.csv') });
});
after(async () => {
  ws?.store.close();
  await t?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('joined labels reach the hub once, equal to the device\'s, with the prediction they were joined to', async () => {
  const s = await addLabels(ws.store, { file: SAMPLE, model: 'seattle-weather', idColumn: 'date', labelColumn: 'weather' });
  assert.equal(s.joined, 365);
  assert.equal(outboxSummary(ws.store).byKind.labels, 1, 'one labels item for 365 rows');
  const r = await runSync(ws.store, { refreshMetadata: false });
  assert.deepEqual([r.rejected, r.deferred], [[], []]);
  const onHub = await hubLabels();
  assert.equal(onHub.length, 365);
  assert.deepEqual(onHub.map(({ item_seq: _s, ...l }) => ({ ...l, scores: l.scores === null ? null : JSON.parse(l.scores) as unknown })), deviceLabels().map((l) => ({ ...l, scores: l.scores === null ? null : JSON.parse(l.scores) as unknown })));
  const counts = await fleetLabelCounts(t.hub, { model: 'seattle-weather' });
  assert.deepEqual(counts.map((c) => [c.device, c.group, c.version, c.labels]), [['ws-l', 'line-1', 1, 365]]);
  const cli = await runMain(['--home', dir, '--json', 'hub', 'labels', '--dir', t.dir]);
  assert.equal(cli.code, 0, cli.err);
  assert.equal((lastJson(cli.out).labels as { labels: number }[])[0].labels, 365);

  // the device lost the acknowledgement and sends the item again: acknowledged, applied once
  const items = await ledger();
  ws.store.db.prepare("UPDATE outbox SET sent_at = NULL WHERE kind = 'labels'").run();
  const again = await runSync(ws.store, { refreshMetadata: false });
  assert.ok(again.sent >= 1);
  assert.equal(await ledger(), items);
  assert.equal((await hubLabels()).length, 365);
});

test('a replaced label updates the hub; an import that joins nothing sends nothing', async () => {
  const header = fs.readFileSync(SAMPLE, 'utf8').split('\n')[0].split(',');
  const file = path.join(dir, 'fix.csv');
  fs.writeFileSync(file, `date,weather\n2015-01-01,fog\n`);
  assert.ok(header.includes('date'));
  const s = await addLabels(ws.store, { file, model: 'seattle-weather', idColumn: 'date', labelColumn: 'weather', replace: true });
  assert.equal(s.replaced, 1);
  await runSync(ws.store, { refreshMetadata: false });
  const row = (await hubLabels()).find((l) => l.id === '2015-01-01')!;
  assert.equal(row.truth, 'fog');
  // the same labels again: nothing joined, nothing queued
  const before = outboxSummary(ws.store).waiting;
  const same = await addLabels(ws.store, { file, model: 'seattle-weather', idColumn: 'date', labelColumn: 'weather' });
  assert.equal(same.joined, 0);
  assert.equal(outboxSummary(ws.store).waiting, before);
});

test('a malformed labels item is rejected with the reason and kept on the device', async () => {
  const seq = enqueue(ws.store, 'labels', { model: 'seattle-weather', importId: 1, part: 0, parts: 1, labels: [{ version: 1, id: 'x' }] })!;
  const r = await runSync(ws.store, { refreshMetadata: false });
  const rej = r.rejected.find((x) => x.seq === seq);
  assert.ok(rej && /invalid labels payload/.test(rej.reason), JSON.stringify(r.rejected));
  assert.equal((await hubLabels()).length, 365);
  ws.store.db.prepare('DELETE FROM outbox WHERE seq = ?').run(seq);
});
