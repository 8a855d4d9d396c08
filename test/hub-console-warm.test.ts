// `hub serve` computes the console's opening Fleet drift answer once it listens (warmConsole), so
// the first visit is answered from the cache: the same database reads as any repeated visit, fewer
// than a cold first visit. Closing the server while the warm-up runs waits for it, so the storage
// the caller closes next is never read after it closed; a hub without fleet statistics warms nothing.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createFeatureStats, updateFromColumn } from '../src/drift/common/index.ts';
import { issueSession, SESSION_COOKIE } from '../src/hub/node/admin-auth.ts';
import { createEnrollment, redeemEnrollment, type DeviceRow } from '../src/hub/node/devices.ts';
import { ingestItems } from '../src/hub/node/ingest.ts';
import { initHub, openHub, type Hub } from '../src/hub/node/repository.ts';
import { startHubServer, type RunningHub } from '../src/hub/node/server.ts';
import { generateKeyFile } from '../src/keys/node/keys.ts';
import { modelMonitoring } from '../src/monitor/common/features.ts';
import { parseCard } from '../src/package/common/card.ts';
import type { WireItem } from '../src/sync/common/protocol.ts';

const CARD = fs.readFileSync(path.join(import.meta.dirname, '../models/demo/weather/card.json'), 'utf8');
const CARD_SHA = crypto.createHash('sha256').update(CARD, 'utf8').digest('hex');
const parsed = parseCard(JSON.parse(CARD));
if (!parsed.ok) throw new Error('demo card');
const mon = modelMonitoring(parsed.card);
if (mon.status !== 'ok') throw new Error('demo baseline');

/** One device of group `grp` that installed the demo model and sent one hour of drift statistics. */
async function deviceWithDrift(hub: Hub, dir: string, name: string, grp: string, now: number): Promise<void> {
  const key = generateKeyFile(path.join(dir, `${name}.key`));
  const { code } = await createEnrollment(hub, { name, group: grp });
  const r = await redeemEnrollment(hub, { code, publicKey: key.publicKey });
  const [row] = await hub.storage.fleet.all<DeviceRow>('SELECT * FROM fleet_devices WHERE id = ?', [r.deviceId]);
  const features: Record<string, unknown> = {};
  for (const { baseline: f } of mon.status === 'ok' ? mon.features : []) {
    const s = createFeatureStats(f);
    if (f.kind === 'numeric') updateFromColumn(s, { kind: 'number', values: Float64Array.from({ length: 50 }, (_, i) => i * 0.7), status: new Uint8Array(50) });
    else updateFromColumn(s, { kind: 'string', values: Array.from({ length: 50 }, (_, i) => f.vocabulary[i % f.vocabulary.length]) });
    features[f.name] = JSON.parse(JSON.stringify(s));
  }
  const items: WireItem[] = [
    { seq: 1, kind: 'model', createdAt: now, payload: { event: 'install', name: 'seattle-weather', version: 1, detail: 'test', at: new Date(now).toISOString(), cardSha256: CARD_SHA, card: CARD }, blobs: [] },
    { seq: 2, kind: 'drift', createdAt: now, payload: { model: 'seattle-weather', version: 1, cardSha256: CARD_SHA, hours: [{ start: Math.floor(now / 3_600_000) * 3_600_000, features }] }, blobs: [] },
  ];
  const res = await hub.storage.fleetTransaction(row.id, (sql) => ingestItems(hub, sql, row, items, 100, { maxBytesPerDay: Number.POSITIVE_INFINITY }, now));
  assert.deepEqual(res.acked, [1, 2]);
}

/** GET the console's Fleet drift API as a signed-in admin. */
async function getFleetDrift(hub: Hub, server: RunningHub): Promise<Response> {
  const stored = (await hub.storage.setting('admin_token_hash'))!;
  return fetch(`${server.url}/api/v1/fleet/drift`, { headers: { cookie: `${SESSION_COOKIE}=${issueSession(stored, Date.now()).value}`, host: new URL(server.url).host } });
}

/** Database reads the hub makes while answering one GET of the console's Fleet drift screen. */
async function readsForFleetDrift(hub: Hub, server: RunningHub): Promise<number> {
  const fleet = hub.storage.fleet as { all: (...a: never[]) => Promise<unknown[]> };
  const all = fleet.all;
  let reads = 0;
  fleet.all = (...a) => { reads++; return all.apply(fleet, a); };
  try {
    const res = await getFleetDrift(hub, server);
    const body = await res.json() as { drift: { view: { model: string } } | null };
    assert.equal(res.status, 200);
    assert.equal(body.drift?.view.model, 'seattle-weather', 'the screen opens on the model with statistics');
  } finally {
    fleet.all = all;
  }
  return reads;
}

test('hub serve warms the console\'s Fleet drift: the first visit reads what a repeated one does', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-warm-'));
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(`${dir}.offline-keys`, { recursive: true, force: true });
  });
  await initHub(dir);
  const setup = await openHub(dir);
  try {
    for (const [i, g] of ['east', 'west', 'east'].entries()) await deviceWithDrift(setup, dir, `desk-${i}`, g, Date.now());
  } finally {
    await setup.close();
  }

  // cold: a hub object of its own (the answer cache is per hub), no warm-up
  const cold = await openHub(dir);
  const coldServer = await startHubServer(cold);
  let coldFirst: number, repeated: number;
  try {
    coldFirst = await readsForFleetDrift(cold, coldServer);
    repeated = await readsForFleetDrift(cold, coldServer);
  } finally {
    await coldServer.close();
    await cold.close();
  }
  assert.ok(coldFirst > repeated, `a cold first visit computes the view (${coldFirst} reads; a repeated visit ${repeated})`);

  const errors: unknown[] = [];
  const warm = await openHub(dir);
  const warmServer = await startHubServer(warm, { warmConsole: true, onError: (e) => errors.push(e) });
  try {
    await warmServer.warmed;
    assert.equal(await readsForFleetDrift(warm, warmServer), repeated, 'the first visit after the warm-up is answered from the cache');
  } finally {
    await warmServer.close();
    await warm.close();
  }
  assert.equal(errors.length, 0, String(errors[0]));

  // closed while warming: close() waits for the warm-up, so closing the storage next is safe
  const racing = await openHub(dir);
  const fleet = racing.storage.fleet as { all: (...a: never[]) => Promise<unknown[]> };
  const all = fleet.all;
  fleet.all = async (...a) => { await new Promise<void>((r) => setTimeout(() => r(), 100)); return all.apply(fleet, a); }; // a slow database
  const racingServer = await startHubServer(racing, { warmConsole: true, onError: (e) => errors.push(e) });
  let settled = false;
  void racingServer.warmed.then(() => { settled = true; });
  await racingServer.close();
  assert.ok(settled, 'close() returned only after the warm-up settled');
  await racing.close();
  assert.equal(errors.length, 0, String(errors[0]));
});

test('a hub without fleet statistics warms nothing and serves the empty screen', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-warm-'));
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(`${dir}.offline-keys`, { recursive: true, force: true });
  });
  await initHub(dir);
  const hub = await openHub(dir);
  const errors: unknown[] = [];
  const server = await startHubServer(hub, { warmConsole: true, onError: (e) => errors.push(e) });
  try {
    await server.warmed;
    const res = await getFleetDrift(hub, server);
    assert.deepEqual(await res.json(), { choices: [], drift: null });
  } finally {
    await server.close();
    await hub.close();
  }
  assert.equal(errors.length, 0, String(errors[0]));
});
