// Fleet drift rollups kept at ingest (src/hub/node/fleet-rollups.ts) give the same answers as the
// way the hub computed fleet drift before them (test/helpers/fleet-drift-reference.ts: scans of every
// device window, per-window merges of the group rollups), byte for byte, on SQLite and PostgreSQL:
// - devices in three groups send drift items through the real ingest (ingestItems) over ~40 days,
//   random features and values, duplicates and re-sent items (the ledger: exactly once), a request
//   rolled back mid-ingest and retried, a device revoked after it synced;
// - on PostgreSQL, devices of one group ingest concurrently (the advisory lock keeps every delta);
// - the fleet's merged statistics also equal the plain merge of all stored device windows;
// - the migration's back-fill (rollups emptied, marker reset, hub reopened) rebuilds the same rows.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createFeatureStats, mergeStats, statsFromJSON, updateFromColumn, type BaselineFeature, type FeatureStats } from '../src/drift/common/index.ts';
import { coverRange } from '../src/hub/common/window-blocks.ts';
import { createEnrollment, redeemEnrollment, revokeDevice, type DeviceRow } from '../src/hub/node/devices.ts';
import { fleetDriftView } from '../src/hub/node/fleet-drift-view.ts';
import { fleetDrift, type FleetDriftOptions } from '../src/hub/node/fleet-query.ts';
import { ingestItems } from '../src/hub/node/ingest.ts';
import { initHub, openHub, type Hub } from '../src/hub/node/repository.ts';
import { generateKeyFile } from '../src/keys/node/keys.ts';
import { modelMonitoring } from '../src/monitor/common/features.ts';
import { parseCard } from '../src/package/common/card.ts';
import type { WireItem } from '../src/sync/common/protocol.ts';
import { referenceFleetDrift, referenceFleetDriftView } from './helpers/fleet-drift-reference.ts';
import { freshPostgresDatabase, postgresSkipReason, stopPostgres } from './helpers/postgres.ts';

after(() => stopPostgres());

const DEMO_CARD = path.join(import.meta.dirname, '../models/demo/weather/card.json');
const CARD = fs.readFileSync(DEMO_CARD, 'utf8');
const CARD_SHA = crypto.createHash('sha256').update(CARD, 'utf8').digest('hex');
const parsed = parseCard(JSON.parse(CARD));
if (!parsed.ok) throw new Error('demo card');
const mon = modelMonitoring(parsed.card);
if (mon.status !== 'ok') throw new Error('demo baseline');
const FEATURES: BaselineFeature[] = mon.features.map((f) => f.baseline);
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20, 15, 30);
const TODAY = Math.floor(NOW / DAY) * DAY;

/** A seeded random generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomStats(f: BaselineFeature, rand: () => number, rows: number): FeatureStats {
  const s = createFeatureStats(f);
  if (f.kind === 'numeric') {
    const values = new Float64Array(rows);
    const status = new Uint8Array(rows);
    const shift = rand() * 20;
    for (let i = 0; i < rows; i++) {
      const u = rand();
      if (u < 0.03) { status[i] = 1; values[i] = Number.NaN; } else values[i] = shift + (rand() - 0.3) * 30 * rand();
    }
    updateFromColumn(s, { kind: 'number', values, status });
  } else {
    const vocab = (f as { vocabulary: string[] }).vocabulary;
    const values = Array.from({ length: rows }, () => { const u = rand(); return u < 0.05 ? null : u < 0.1 ? 'never-seen' : vocab[Math.floor(rand() * vocab.length)]; });
    updateFromColumn(s, { kind: 'string', values });
  }
  return s;
}

interface Dev { row: DeviceRow; seq: number }

/** A drift item: a few hour windows on random days in [today − 40, today + 1], random features. */
function driftItem(d: Dev, rand: () => number): WireItem {
  const hours: { start: number; features: Record<string, unknown> }[] = [];
  const used = new Set<number>();
  for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) {
    const start = TODAY - Math.floor(rand() * 41) * DAY + Math.floor(rand() * 24) * 3_600_000 + (rand() < 0.05 ? DAY : 0);
    if (used.has(start)) continue;
    used.add(start);
    const features: Record<string, unknown> = {};
    for (const f of FEATURES) if (rand() < 0.8) features[f.name] = JSON.parse(JSON.stringify(randomStats(f, rand, 5 + Math.floor(rand() * 40))));
    if (!Object.keys(features).length) features[FEATURES[0].name] = JSON.parse(JSON.stringify(randomStats(FEATURES[0], rand, 7)));
    hours.push({ start, features });
  }
  return { seq: ++d.seq, kind: 'drift', createdAt: NOW, payload: { model: 'seattle-weather', version: 1, cardSha256: CARD_SHA, hours }, blobs: [] };
}

const ingest = (hub: Hub, d: Dev, items: WireItem[]) =>
  hub.storage.fleetTransaction(d.row.id, (sql) => ingestItems(hub, sql, d.row, items, 100, { maxBytesPerDay: Number.POSITIVE_INFINITY }, NOW));

const QUESTIONS: FleetDriftOptions[] = [
  {}, { window: 'day', last: 30, now: NOW }, { window: 'day', last: 7, now: NOW }, { window: 'day', last: 45, now: NOW }, { window: 'hour', last: 24, now: NOW },
  { group: 'g1' }, { group: 'g1', window: 'day', last: 30, now: NOW }, { group: 'g2', window: 'hour', last: 48, now: NOW },
];

/** Every answer equals the reference (the old computation), byte for byte; and the fleet's statistics the plain merge of the stored windows. */
async function assertSameAnswers(hub: Hub, what: string): Promise<void> {
  let answered = 0;
  for (const q of QUESTIONS) {
    const [fresh, ref] = await Promise.all([settle(fleetDrift(hub, 'seattle-weather@1', q)), settle(referenceFleetDrift(hub, 'seattle-weather@1', q))]);
    assert.equal(JSON.stringify(fresh), JSON.stringify(ref), `${what}: hub drift ${JSON.stringify(q)} equals the old computation`);
    if (!fresh.ok) continue; // no statistics in that range: the same refusal
    answered++;
    // the ground truth without any rollup: merge every stored device window of the range
    const first = q.window ? (q.window === 'day' ? TODAY : Math.floor(NOW / 3_600_000) * 3_600_000) - ((q.last ?? 0) - 1) * (q.window === 'day' ? DAY : 3_600_000) : Number.MIN_SAFE_INTEGER;
    const rows = await hub.storage.fleet.all<{ feature: string; stats: string }>(
      `SELECT w.feature, w.stats FROM fleet_windows w JOIN fleet_devices d ON d.id = w.device_id WHERE w.width = ? AND w.start >= ?${q.group ? ' AND d.grp = ?' : ''}`,
      [q.window ?? 'day', first, ...(q.group ? [q.group] : [])]);
    const truth = new Map<string, FeatureStats>();
    for (const r of rows) {
      const s = statsFromJSON(JSON.parse(r.stats) as never, FEATURES.find((f) => f.name === r.feature)!);
      truth.set(r.feature, truth.has(r.feature) ? mergeStats(truth.get(r.feature)!, s) : s);
    }
    assert.equal(JSON.stringify(fresh.value.stats), JSON.stringify(Object.fromEntries([...truth].sort(([a], [b]) => a.localeCompare(b)))), `${what}: ${JSON.stringify(q)} statistics = merge of the device windows`);
  }
  for (const v of [{ width: 'day' as const, now: NOW }, { width: 'day' as const, group: 'g0', now: NOW }, { width: 'hour' as const, now: NOW }, { width: 'day' as const, feature: 'season', now: NOW }, { width: 'day' as const, last: 10, feature: 'wind', now: NOW }]) {
    const [fresh, ref] = await Promise.all([settle(fleetDriftView(hub, 'seattle-weather@1', v)), settle(referenceFleetDriftView(hub, 'seattle-weather@1', v))]);
    assert.equal(JSON.stringify(fresh), JSON.stringify(ref), `${what}: Fleet drift view ${JSON.stringify(v)} equals the old computation`);
    if (fresh.ok && v.width === 'day') assert.ok(fresh.value.byDevice.length > 0, 'the per-device breakdown is not empty');
  }
  assert.ok(answered >= 6, `${what}: ${answered} of ${QUESTIONS.length} questions had statistics`);
}

async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

async function rollupRows(hub: Hub): Promise<string> {
  const out: unknown[] = [];
  for (const t of ['fleet_drift_blocks', 'fleet_drift_devices', 'fleet_drift_counts', 'fleet_rollups']) {
    const rows = await hub.storage.fleet.all<Record<string, unknown>>(`SELECT * FROM ${t}`);
    out.push(t, rows.map((r) => JSON.stringify(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' || typeof v === 'number' ? Number(v) : v]))).sort());
  }
  return JSON.stringify(out);
}

test('coverRange tiles a window range with the fewest aligned blocks', () => {
  for (let lo = 0; lo < 70; lo++) {
    for (let hi = lo - 1; hi < lo + 70; hi++) {
      const pieces = coverRange('day', lo * DAY, hi * DAY);
      let next = lo;
      for (const p of pieces) {
        assert.equal(p.start, next * DAY, 'contiguous');
        assert.equal((p.start / DAY) % 2 ** p.level, 0, 'aligned');
        next += 2 ** p.level;
      }
      assert.equal(next, Math.max(lo, hi + 1), 'covers exactly [lo, hi]');
      if (hi - lo + 1 >= 30) assert.ok(pieces.length <= 10, `${pieces.length} pieces for ${hi - lo + 1} windows`);
    }
  }
  assert.deepEqual(coverRange('hour', 0, 2 * 3_600_000).map((p) => p.level), [0, 0, 0], 'hour windows: no blocks');
  assert.throws(() => coverRange('day', 5, DAY), /multiples/);
});

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`fleet drift rollups on ${backend}`, { skip: backend === 'postgres' ? postgresSkipReason() : undefined }, () => {
    test('answers equal the old computation through duplicates, retries, rollbacks, revocation and the back-fill', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-rollups-'));
      const db = backend === 'postgres' ? await freshPostgresDatabase('rollups') : undefined;
      await initHub(dir, { config: db ? { db } : {} });
      let hub = await openHub(dir);
      try {
        const rand = rng(backend === 'sqlite' ? 7 : 11);
        const devs: Dev[] = [];
        for (let i = 0; i < 6; i++) {
          const key = generateKeyFile(path.join(dir, `d${i}.key`));
          const { code } = await createEnrollment(hub, { name: `desk-${i}`, group: `g${i % 3}` });
          const r = await redeemEnrollment(hub, { code, publicKey: key.publicKey });
          const [row] = await hub.storage.fleet.all<DeviceRow>('SELECT * FROM fleet_devices WHERE id = ?', [r.deviceId]);
          devs.push({ row, seq: 0 });
        }
        for (const d of devs) {
          const install: WireItem = { seq: ++d.seq, kind: 'model', createdAt: NOW, payload: { event: 'install', name: 'seattle-weather', version: 1, detail: 'test', at: new Date(NOW).toISOString(), cardSha256: CARD_SHA, card: CARD }, blobs: [] };
          assert.deepEqual((await ingest(hub, d, [install])).acked, [install.seq]);
        }
        const sent: Map<Dev, WireItem[]> = new Map(devs.map((d) => [d, []]));
        for (let round = 0; round < 3; round++) {
          const batches = devs.map((d) => {
            const items = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => driftItem(d, rand));
            sent.get(d)!.push(...items);
            // a duplicate of an item sent before (a retry whose answer was lost), and one twice in this request
            const old = sent.get(d)!;
            return { d, items: [...items, items[0], ...(old.length > items.length ? [old[Math.floor(rand() * (old.length - items.length))]] : [])].reverse() };
          });
          if (backend === 'postgres') {
            // devices ingest in parallel (each locks only its own row): the rollups they share keep every delta
            await Promise.all(batches.map(({ d, items }) => ingest(hub, d, items)));
          } else {
            for (const { d, items } of batches) await ingest(hub, d, items);
          }
          // a request that dies after ingest (rolled back) and is sent again: counted once
          const d = devs[round];
          const item = driftItem(d, rand);
          sent.get(d)!.push(item);
          await assert.rejects(hub.storage.fleetTransaction(d.row.id, async (sql) => {
            await ingestItems(hub, sql, d.row, [item], 100, { maxBytesPerDay: Number.POSITIVE_INFINITY }, NOW);
            throw new Error('killed mid-request');
          }), /killed mid-request/);
          assert.deepEqual((await ingest(hub, d, [item])).acked, [item.seq]);
          if (round !== 1) await assertSameAnswers(hub, `round ${round}`);
        }
        const windows = Number((await hub.storage.fleet.all<{ n: number }>("SELECT count(*) AS n FROM fleet_windows WHERE width = 'day'"))[0].n);
        assert.ok(windows > 100, `${windows} device day windows`);
        // every drift item counted once: the ledger holds each seq once, and the day windows' rows add up to what was sent
        const sentRows = [...sent.values()].flat().reduce((n, it) => n + (it.payload as { hours: { features: Record<string, { rows: number }> }[] }).hours.reduce((m, h) => m + Object.values(h.features).reduce((k, s) => k + s.rows, 0), 0), 0);
        const storedRows = Number((await hub.storage.fleet.all<{ n: number }>("SELECT sum(rows) AS n FROM fleet_windows WHERE width = 'day'"))[0].n);
        assert.equal(storedRows, sentRows, 'every delta merged exactly once');

        // a revoked device's statistics stay in the fleet's history, as before
        await revokeDevice(hub, 'desk-4', NOW);
        await assertSameAnswers(hub, 'after a revocation');

        // a drift item on a window that holds another card's statistics is refused and writes nothing
        const before = await rollupRows(hub);
        const d0 = devs[0];
        const [w] = await hub.storage.fleet.all<{ start: number; feature: string }>("SELECT start, feature FROM fleet_windows WHERE device_id = ? AND width = 'hour' ORDER BY start, feature LIMIT 1", [d0.row.id]);
        const other = { ...driftItem(d0, rand) };
        const otherSha = crypto.createHash('sha256').update(`${CARD} `, 'utf8').digest('hex');
        const install2: WireItem = { seq: ++d0.seq, kind: 'model', createdAt: NOW, payload: { event: 'install', name: 'seattle-weather', version: 1, detail: 'test', at: new Date(NOW).toISOString(), cardSha256: otherSha, card: `${CARD} ` }, blobs: [] };
        other.seq = ++d0.seq;
        other.payload = { ...(other.payload as object), cardSha256: otherSha, hours: [{ start: TODAY - 50 * DAY, features: { wind: JSON.parse(JSON.stringify(randomStats(FEATURES.find((f) => f.name === 'wind')!, rand, 9))) } }, { start: Number(w.start), features: { [w.feature]: JSON.parse(JSON.stringify(randomStats(FEATURES.find((f) => f.name === w.feature)!, rand, 9))) } }] };
        const res = await ingest(hub, d0, [install2, other]);
        assert.deepEqual(res.acked, [install2.seq]);
        assert.match(res.rejected[0]?.reason ?? '', /holds statistics of another card/);
        assert.equal(await rollupRows(hub), before, 'nothing of the refused item was written');

        // the migration's back-fill: rollups emptied and marked pending, the hub reopened
        await hub.storage.fleetTransaction(undefined, async (sql) => {
          for (const t of ['fleet_drift_blocks', 'fleet_drift_devices', 'fleet_drift_counts']) await sql.run(`DELETE FROM ${t}`);
          await sql.run('UPDATE fleet_drift_backfill SET done = 0');
        });
        await hub.close();
        hub = await openHub(dir);
        assert.equal(await rollupRows(hub), before, 'the back-fill rebuilds exactly what ingest kept');
        await assertSameAnswers(hub, 'after the back-fill');
      } finally {
        await hub.close();
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(`${dir}.offline-keys`, { recursive: true, force: true }); // initHub's default offline keys folder
      }
    });
  });
}
