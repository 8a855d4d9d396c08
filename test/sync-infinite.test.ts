// A drift alert whose statistic is infinite (χ² with a category the reference never saw) reaches the
// hub as "Infinity", not as null — null means "not computed", a different thing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import type { DriftReport, FeatureDrift, FeatureStats } from '../src/drift/common/index.ts';
import { listFleetEvents } from '../src/hub/node/fleet-query.ts';
import { recordAlerts } from '../src/monitor/node/alerts.ts';
import { unsentItems } from '../src/store/node/outbox.ts';
import { runSync } from '../src/sync/node/sync.ts';
import { startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { enrollWorkstation, type Workstation } from './helpers/sync-fleet.ts';

let t: TestHub;
let dir: string;
let ws: Workstation;

before(async () => {
  t = await startTestHub();
  dir = tmpDir('outpost-sync-inf-');
  ws = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'ws-inf');
});
after(async () => {
  ws?.store.close();
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an infinite drift statistic is synced as "Infinity" and the hub keeps it', async () => {
  const feature: FeatureDrift = {
    feature: 'season', kind: 'categorical', method: 'chisquare', methodSource: 'default', statistic: Infinity, score: 0, scoreKind: 'p-value',
    threshold: 0.05, drifted: true, severity: Infinity, nReference: 1096, nCurrent: 600,
  } as FeatureDrift;
  const report = { features: [feature] } as unknown as DriftReport;
  recordAlerts(ws.store, { name: 'seattle-weather', version: 1 }, 'job', 'job-1', report, new Map([['season', {} as FeatureStats]]), Date.now());
  const [item] = unsentItems(ws.store, 1000).filter((i) => i.kind === 'alert');
  assert.equal((item.payload as { statistic: unknown }).statistic, 'Infinity', 'the outbox keeps ∞ distinct from null');

  const r = await runSync(ws.store, { refreshMetadata: false });
  assert.deepEqual(r.rejected, [], 'the hub accepts ∞');
  const [opened] = await listFleetEvents(t.hub, { kinds: ['alert'], limit: 10 });
  assert.equal(opened.kind, 'alert-opened');
  assert.equal((opened.detail as { statistic: unknown }).statistic, 'Infinity');
  assert.equal((opened.detail as { score: unknown }).score, 0);
});
