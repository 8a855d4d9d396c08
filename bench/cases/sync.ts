// Issue 8's sync measurements:
//   1. device: scoring with sync enabled (outbox items written in every checkpoint's transaction,
//      drift deltas included) ÷ the same scoring on an unconnected store — target ≥ 0.98;
//   2. hub ingest: prediction rows per second into ONE hub process (a child process on loopback),
//      on SQLite and on PostgreSQL, from several devices at once, with the hub's CPU-seconds;
//   3. a simulated fleet: N devices (1,000; quick: 100) each syncing a day of drift statistics
//      (24 hour windows × every monitored feature), its install event with the card, a job summary
//      and a heartbeat — total time and hub CPU;
//   4. `hub drift` over 1,000 devices × 30 day windows (quick: 100): the exact merge, timed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { computePackageBaseline, writeCardBaseline } from '../../src/monitor/node/baseline-file.ts';
import { createEnrollment, redeemEnrollment } from '../../src/hub/node/devices.ts';
import { fleetDrift } from '../../src/hub/node/fleet-query.ts';
import { mergeStats, statsFromJSON } from '../../src/drift/common/index.ts';
import { modelMonitoring } from '../../src/monitor/common/features.ts';
import { parseCard } from '../../src/package/common/card.ts';
import { rebuildFleetRollups } from '../../src/hub/node/fleet-rollups.ts';
import { initHub, openHub, type Hub } from '../../src/hub/node/repository.ts';
import { generateKeyFile, type PrivateKeyHandle } from '../../src/keys/node/keys.ts';
import { scoreFile } from '../../src/scoring/node/score-file.ts';
import { packColumns } from '../../src/store/common/packing.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore, type Store } from '../../src/store/node/store.ts';
import { setHubConnection } from '../../src/store/node/sync-state.ts';
import { encodeFrames, type WireItem } from '../../src/sync/common/protocol.ts';
import { signRequest } from '../../src/sync/node/device.ts';
import { SYNC_PATH } from '../../src/sync/node/sync.ts';
import { buildSyntheticMlp } from '../../src/train/common/index.ts';
import { freshPostgresDatabase, postgresSkipReason, stopPostgres } from '../../test/helpers/postgres.ts';
import { floatCsv, perSecond, removeHub, REPO, tempHome, type Timing } from '../lib.ts';
import { pool, spawnHub, type HubProcess } from './hub.ts';

const FEATURES = 20;
const DEMO = path.join(REPO, 'models/demo/weather');
const DEMO_CSV = path.join(REPO, 'models/demo/weather-2015.csv');
const CT = 'application/x-outpost-items+gzip';

export interface SyncBenchOptions { quick: boolean }

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** 1. The outbox's cost on the scoring path. */
async function deviceOverhead(rows: number, runs: number) {
  const file = floatCsv(rows, FEATURES);
  const reference = floatCsv(50_000, FEATURES, 11);
  const root = tempHome();
  const { bytes: model, card } = buildSyntheticMlp({ features: FEATURES, hidden: 16, classes: 2, seed: 1 });
  const pkg = path.join(root, 'pkg');
  fs.mkdirSync(pkg);
  fs.writeFileSync(path.join(pkg, 'model.onnx'), model);
  fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify({ ...card, name: 'bench-sync' }));
  const { baseline, cardFile } = await computePackageBaseline({ packageDir: pkg, reference });
  writeCardBaseline(cardFile, baseline);
  const stores: Record<'synced' | 'plain', Store> = { synced: openStore(path.join(root, 'synced')), plain: openStore(path.join(root, 'plain')) };
  try {
    for (const s of Object.values(stores)) installPackage(s, pkg, { source: 'local', allowUnsigned: true });
    // connected as far as the outbox is concerned (no hub is needed to write it)
    setHubConnection(stores.synced, { url: 'http://127.0.0.1:9', trustId: 'bench', deviceId: 'dev_bench', name: 'bench', group: '', keyFile: 'device/device.key', connectedAt: new Date().toISOString() });
    const once = async (which: 'synced' | 'plain') => {
      const out = path.join(root, `out-${which}.csv`);
      const t = performance.now();
      const r = await scoreFile(stores[which], { input: file, model: 'bench-sync', out });
      const ms = performance.now() - t;
      if (r.job.rowsScored !== rows) throw new Error(`scored ${r.job.rowsScored}`);
      fs.rmSync(out);
      return ms;
    };
    await once('plain');
    await once('synced');
    const ms = { synced: [] as number[], plain: [] as number[] };
    for (let i = 0; i < runs; i++) {
      ms.plain.push(await once('plain'));
      ms.synced.push(await once('synced'));
    }
    const t = (xs: number[]): Timing => ({ medianMs: median(xs), runsMs: xs });
    const synced = perSecond(rows, t(ms.synced));
    const plain = perSecond(rows, t(ms.plain));
    const outbox = stores.synced.db.prepare('SELECT kind, count(*) AS n, sum(size_bytes) AS bytes FROM outbox GROUP BY kind').all();
    return {
      input: { rows, features: FEATURES, model: 'MLP 20-16-2 with a drift baseline (statistics on in both)', runs },
      rowsPerSecond: { syncEnabled: synced, syncDisabled: plain },
      ratio: synced / plain,
      target: { ratio: 0.98, met: synced / plain >= 0.98 },
      outboxAfterAllRuns: outbox,
      runsMs: ms,
    };
  } finally {
    for (const s of Object.values(stores)) s.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export interface Device { id: string; key: PrivateKeyHandle; seq: number }

export async function enrollDevices(hub: Hub, n: number, dir: string, prefix: string): Promise<Device[]> {
  const out: Device[] = [];
  for (let i = 0; i < n; i++) {
    const key = generateKeyFile(path.join(dir, `${prefix}-${i}.key`));
    const { code } = await createEnrollment(hub, { name: `${prefix}-${i}`, group: `g${i % 10}` });
    const d = await redeemEnrollment(hub, { code, publicKey: key.publicKey });
    out.push({ id: d.deviceId, key, seq: 0 });
  }
  return out;
}

/** One signed request; a 503 (storage busy under load) is retried as a device would. */
async function post(url: string, dev: Device, body: Buffer): Promise<{ acked: number[] }> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${url}${SYNC_PATH}`, { method: 'POST', body, headers: { 'content-type': CT, ...signRequest({ deviceId: dev.id }, dev.key, 'POST', SYNC_PATH, body) } });
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as { acked: number[] };
    if (res.status !== 503 || attempt >= 5) throw new Error(`sync: ${res.status} ${text.slice(0, 300)}`);
    retries503++;
    await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
  }
}
let retries503 = 0;

/** A scored batch as the prediction log packs it: label codes and two float32 probabilities. */
function predictionBatch(rows: number, seed: number): Uint8Array {
  const p = new Float32Array(rows);
  let x = seed;
  for (let i = 0; i < rows; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; p[i] = (x >>> 8) / 16777216; }
  const q = Float32Array.from(p, (v) => 1 - v);
  return packColumns([{ name: 'label', type: 'dict', codes: Int32Array.from(p, (v) => (v > 0.5 ? 1 : 0)), dictionary: ['no', 'yes'] }, { name: 'p_no', type: 'f32', values: q }, { name: 'p_yes', type: 'f32', values: p }]);
}

/** 2. Prediction rows per second into one hub process. */
async function ingest(backend: 'sqlite' | 'postgres', devices: number, requestsPerDevice: number) {
  const dir = tempHome();
  const db = backend === 'postgres' ? await freshPostgresDatabase('bench_sync') : undefined;
  await initHub(dir, { config: db ? { db } : {} });
  const hub = await openHub(dir);
  let proc: HubProcess | undefined;
  try {
    const devs = await enrollDevices(hub, devices, dir, 'ingest');
    const BATCH = 8192;
    const PER_REQUEST = 32; // 262,144 rows, ~3 MiB packed: what one checkpoint's items hold
    const blob = predictionBatch(BATCH, 1);
    const bodies = new Map<Device, Buffer[]>();
    for (const d of devs) {
      bodies.set(d, Array.from({ length: requestsPerDevice }, (_, r) => {
        const items: WireItem[] = [{
          seq: ++d.seq, kind: 'predictions', createdAt: Date.now(),
          payload: { jobId: `j-${r}`, model: 'bench', version: 1, batches: Array.from({ length: PER_REQUEST }, (_, b) => ({ seq: b, firstRow: b * BATCH + 1, rowCount: BATCH, loggedAt: Date.now(), inputs: false })) },
          blobs: Array.from({ length: PER_REQUEST }, () => blob),
        }];
        return zlib.gzipSync(encodeFrames(items), { level: 1 });
      }));
    }
    proc = await spawnHub(dir, db);
    const cpu0 = proc.cpuSeconds() ?? 0;
    const t = performance.now();
    await Promise.all(devs.map(async (d) => { for (const b of bodies.get(d)!) await post(proc!.url, d, b); }));
    const seconds = (performance.now() - t) / 1000;
    const cpu = (proc.cpuSeconds() ?? 0) - cpu0;
    const rows = devices * requestsPerDevice * PER_REQUEST * BATCH;
    const stored = Number((await hub.storage.fleet.all<{ n: number }>('SELECT coalesce(sum(row_count), 0) AS n FROM fleet_predictions'))[0].n);
    if (stored !== rows) throw new Error(`stored ${stored} of ${rows} rows`);
    const bytes = [...bodies.values()].flat().reduce((n, b) => n + b.length, 0);
    return { backend, devicesInParallel: devices, requests: devices * requestsPerDevice, rows, compressedMB: bytes / 1e6, seconds, rowsPerSecond: rows / seconds, hubCpuSeconds: cpu, rowsPerHubCpuSecond: rows / Math.max(cpu, 1e-9) };
  } finally {
    await proc?.stop();
    await hub.close();
    removeHub(dir);
  }
}

/** A day (24 hour windows) of one device's drift statistics of the demo model, from a real scoring run. */
export async function dayOfStatistics(): Promise<{ card: string; cardSha256: string; hours: { start: number; features: Record<string, unknown> }[] }> {
  const home = tempHome();
  const store = openStore(home);
  try {
    installPackage(store, DEMO, { source: 'local', allowUnsigned: true });
    await scoreFile(store, { input: DEMO_CSV, model: 'seattle-weather', out: path.join(home, 'o.csv') });
    const rows = store.db.prepare("SELECT feature, stats_json FROM drift_window_stats WHERE width = 'hour'").all() as { feature: string; stats_json: string }[];
    const features = Object.fromEntries(rows.map((r) => [r.feature, JSON.parse(r.stats_json) as unknown]));
    const card = fs.readFileSync(path.join(DEMO, 'card.json'), 'utf8');
    const day = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
    return { card, cardSha256: crypto.createHash('sha256').update(card).digest('hex'), hours: Array.from({ length: 24 }, (_, h) => ({ start: day + h * 3_600_000, features })) };
  } finally {
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** 3. N devices each syncing a day of statistics (one request each, 16 at a time). */
async function fleetDay(backend: 'sqlite' | 'postgres', devices: number, day: Awaited<ReturnType<typeof dayOfStatistics>>) {
  const dir = tempHome();
  const db = backend === 'postgres' ? await freshPostgresDatabase('bench_fleet') : undefined;
  await initHub(dir, { config: db ? { db } : {} });
  const hub = await openHub(dir);
  let proc: HubProcess | undefined;
  try {
    const devs = await enrollDevices(hub, devices, dir, 'desk');
    const now = Date.now();
    const bodies = devs.map((d) => zlib.gzipSync(encodeFrames([
      { seq: ++d.seq, kind: 'model', createdAt: now, payload: { event: 'install', name: 'seattle-weather', version: 1, detail: 'bench', at: new Date(now).toISOString(), cardSha256: day.cardSha256, card: day.card }, blobs: [] },
      { seq: ++d.seq, kind: 'job', createdAt: now, payload: { id: 'j-bench', model: 'seattle-weather', version: 1, status: 'completed', rowsRead: 365, rowsScored: 365, rowsRejected: 0 }, blobs: [] },
      { seq: ++d.seq, kind: 'drift', createdAt: now, payload: { model: 'seattle-weather', version: 1, cardSha256: day.cardSha256, hours: day.hours }, blobs: [] },
      { seq: ++d.seq, kind: 'heartbeat', createdAt: now, payload: { outpostVersion: '0.1.0', provider: 'cpu', rowsScored: 365, models: [{ name: 'seattle-weather', version: 1, active: true }], waiting: 0, waitingSince: null, openAlerts: 0, at: now }, blobs: [] },
    ])));
    proc = await spawnHub(dir, db);
    const cpu0 = proc.cpuSeconds() ?? 0;
    const t = performance.now();
    const latencies: number[] = [];
    await pool(devs.map((d, i) => [d, bodies[i]] as const), 16, async ([d, b]) => {
      const s = performance.now();
      const r = await post(proc!.url, d, b);
      latencies.push(performance.now() - s);
      if (r.acked.length !== 4) throw new Error(`acked ${r.acked.length} of 4`);
    });
    const seconds = (performance.now() - t) / 1000;
    const cpu = (proc.cpuSeconds() ?? 0) - cpu0;
    const windows = Number((await hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_windows'))[0].n);
    return {
      retriesAfter503: retries503,
      backend, devices, features: Object.keys(day.hours[0].features).length, hourWindowsPerDevice: 24, concurrency: 16, seconds, devicesPerSecond: devices / seconds,
      hubCpuSeconds: cpu, hubCpuMsPerDevice: (cpu * 1000) / devices, requestMedianMs: median(latencies), windowRowsStored: windows,
    };
  } finally {
    await proc?.stop();
    await hub.close();
    removeHub(dir);
  }
}

/**
 * Store `days` day windows of the demo statistics for every device, and each group's rollup (the
 * exact merge of its devices' identical windows), directly in the tables (this times queries, not
 * ingest); then the rollups ingest keeps, built as the migration's back-fill builds them (timed).
 */
export async function storeDayWindows(hub: Hub, devs: readonly Device[], days: number, day: Awaited<ReturnType<typeof dayOfStatistics>>, groups: number): Promise<{ features: unknown[]; backfillMs: number }> {
  const devices = devs.length;
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const card = parseCard(JSON.parse(day.card));
  if (!card.ok) throw new Error('demo card');
  const mon = modelMonitoring(card.card);
  if (mon.status !== 'ok') throw new Error('demo baseline');
  const features = Object.entries(day.hours[0].features).map(([f, s]) => {
    const base = mon.features.find((x) => x.baseline.name === f)!.baseline;
    const one = statsFromJSON(s as never, base);
    let group = one;
    for (let i = 1; i < devices / groups; i++) group = mergeStats(group, one);
    return { f, json: JSON.stringify(one), rows: one.rows, groupJson: JSON.stringify(group), groupRows: group.rows };
  });
  await hub.storage.fleetTransaction(undefined, async (sql) => {
    await sql.run('INSERT INTO fleet_cards (sha256, name, version, card, received_at) VALUES (?, ?, ?, ?, ?)', [day.cardSha256, 'seattle-weather', 1, day.card, Date.now()]);
    for (let k = 0; k < days; k++) {
      const start = today - k * 86_400_000;
      for (const d of devs) {
        for (const x of features) {
          await sql.run('INSERT INTO fleet_windows (model_name, model_version, width, start, device_id, feature, card_sha256, stats, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            ['seattle-weather', 1, 'day', start, d.id, x.f, day.cardSha256, x.json, x.rows]);
        }
      }
      for (let g = 0; g < groups; g++) {
        for (const x of features) {
          await sql.run('INSERT INTO fleet_rollups (model_name, model_version, width, start, grp, card_sha256, feature, stats, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            ['seattle-weather', 1, 'day', start, `g${g}`, day.cardSha256, x.f, x.groupJson, x.groupRows]);
        }
      }
    }
  });
  // the rollups ingest keeps (fleet-rollups.ts), built from the stored windows as the migration's back-fill does
  const backfillStart = performance.now();
  await hub.storage.fleetTransaction(undefined, (sql) => rebuildFleetRollups(hub, sql));
  const backfillMs = performance.now() - backfillStart;
  return { features, backfillMs };
}

/**
 * 4. `hub drift` over devices × days of day windows. The windows are stored directly (this times
 * the query, not ingest): each device's day windows, and the per-group rollups ingest keeps —
 * here each group's rollup is the exact merge of its devices' (identical) statistics.
 */
async function fleetDriftQuery(devices: number, days: number, day: Awaited<ReturnType<typeof dayOfStatistics>>) {
  const dir = tempHome();
  await initHub(dir);
  const hub = await openHub(dir);
  try {
    const devs = await enrollDevices(hub, devices, dir, 'q');
    const groups = 10;
    const { features, backfillMs } = await storeDayWindows(hub, devs, days, day, groups);
    const all: number[] = [];
    const windows: number[] = [];
    let rows = 0;
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      rows = (await fleetDrift(hub, 'seattle-weather@1')).rows;
      all.push(performance.now() - t);
      t = performance.now();
      await fleetDrift(hub, 'seattle-weather@1', { window: 'day', last: days });
      windows.push(performance.now() - t);
    }
    return { devices, groups, days, features: features.length, deviceWindowRows: devices * days * features.length, rollupBackfillMs: backfillMs, mergedRows: rows, allDataMedianMs: median(all), perDayWindowsMedianMs: median(windows) };
  } finally {
    await hub.close();
    removeHub(dir);
  }
}

export async function run(opts: SyncBenchOptions): Promise<object> {
  const pg = postgresSkipReason();
  try {
    const device = await deviceOverhead(opts.quick ? 200_000 : 1_000_000, opts.quick ? 1 : 3);
    const ingestSqlite = await ingest('sqlite', 4, opts.quick ? 2 : 6);
    const ingestPg = pg ? { skipped: pg } : await ingest('postgres', 4, opts.quick ? 2 : 6);
    const day = await dayOfStatistics();
    const n = opts.quick ? 100 : 1000;
    const fleetSqlite = await fleetDay('sqlite', n, day);
    const fleetPg = pg ? { skipped: pg } : await fleetDay('postgres', n, day);
    const drift = await fleetDriftQuery(n, 30, day);
    return { device, ingest: { sqlite: ingestSqlite, postgres: ingestPg }, fleetDay: { sqlite: fleetSqlite, postgres: fleetPg }, hubDrift: drift };
  } finally {
    await stopPostgres();
  }
}
