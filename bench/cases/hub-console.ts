// The hub console's API pages with a big fleet (issue 9: "console pages answer within 200 ms with
// 1,000 devices and 30 days of fleet statistics"): a hub (SQLite) with N devices (quick: 100) in 10
// groups, each with a heartbeat, a job summary, 5 events and 30 day windows of the demo model's
// statistics (plus the groups' rollups, as ingest keeps them), 5 rollouts per group (4 superseded, reports from half its devices); then each console route is requested
// over loopback HTTP with a signed-in session cookie: the first answer, then the median of 5. Baseline in the same
// run: GET /healthz (one database read through the same server), so the ratios say how many
// "trivial requests" a page costs on this machine. The server warms the console's opening Fleet
// drift answer as `hub serve` does (`warmUpMs`: start to warmed); a group's view is computed on
// its first request.
import { mergeStats, statsFromJSON } from '../../src/drift/common/index.ts';
import { issueSession, SESSION_COOKIE } from '../../src/hub/node/admin-auth.ts';
import { rebuildFleetRollups } from '../../src/hub/node/fleet-rollups.ts';
import { initHub, openHub } from '../../src/hub/node/repository.ts';
import { startHubServer } from '../../src/hub/node/server.ts';
import { modelMonitoring } from '../../src/monitor/common/features.ts';
import { parseCard } from '../../src/package/common/card.ts';
import { removeHub, tempHome, time } from '../lib.ts';
import { dayOfStatistics, enrollDevices } from './sync.ts';

const ROLLOUTS_PER_GROUP = 5;
const rolloutId = (g: number, k: number) => `ro_bench${String(g).padStart(3, '0')}${String(k).padStart(3, '0')}`;

export async function run(opts: { quick: boolean }): Promise<object> {
  const devices = opts.quick ? 100 : 1000;
  const days = 30;
  const groups = 10;
  const dir = tempHome();
  await initHub(dir);
  const hub = await openHub(dir);
  try {
    const day = await dayOfStatistics();
    const devs = await enrollDevices(hub, devices, dir, 'desk');
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
    const now = Date.now();
    const today = Math.floor(now / 86_400_000) * 86_400_000;
    await hub.storage.fleetTransaction(undefined, async (sql) => {
      await sql.run('INSERT INTO fleet_cards (sha256, name, version, card, received_at) VALUES (?, ?, ?, ?, ?)', [day.cardSha256, 'seattle-weather', 1, day.card, now]);
      for (const [i, d] of devs.entries()) {
        const state = { outpostVersion: '0.1.0', provider: 'cpu', rowsScored: 365, models: [{ name: 'seattle-weather', version: 1, active: true }], waiting: i % 7, waitingSince: null, openAlerts: i % 13 === 0 ? 1 : 0, at: now - 60_000 };
        await sql.run('UPDATE fleet_devices SET last_seen_at = ?, state_json = ?, state_seq = ?, items = ?, max_seq = ? WHERE id = ?', [now - (i % 50) * 3_600_000, JSON.stringify(state), 8, 8, 8, d.id]);
        for (let s = 1; s <= 8; s++) await sql.run('INSERT INTO fleet_items (device_id, seq, kind, created_at, received_at, bytes, via) VALUES (?, ?, ?, ?, ?, ?, ?)', [d.id, s, s <= 5 ? 'model' : s === 6 ? 'job' : s === 7 ? 'drift' : 'heartbeat', now - 120_000, now - 60_000, 500, 'sync']);
        for (let s = 1; s <= 5; s++) await sql.run('INSERT INTO fleet_events (device_id, seq, kind, at, model, summary, detail) VALUES (?, ?, ?, ?, ?, ?, ?)', [d.id, s, s === 5 ? 'security' : 'model-install', now - s * 3_600_000 - i, 'seattle-weather@1', `event ${s}`, '{}']);
        await sql.run('INSERT INTO fleet_jobs (device_id, job_id, item_seq, model_name, model_version, status, rows_read, rows_scored, rows_rejected, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [d.id, 'j-bench', 6, 'seattle-weather', 1, 'completed', 365, 365, 0, JSON.stringify({ id: 'j-bench', model: 'seattle-weather', version: 1, status: 'completed', rowsRead: 365, rowsScored: 365, rowsRejected: 0 })]);
        if (i % 13 === 0) {
          await sql.run('INSERT INTO fleet_alerts (device_id, model_name, model_version, scope, scope_key, feature, item_seq, opened_at, cleared_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)',
            [d.id, 'seattle-weather', 1, 'day', '2026-01-01', 'temp_max', 5, now, JSON.stringify({ method: 'wasserstein', score: 0.2, threshold: 0.1 })]);
        }
      }
      // rollouts: per group 4 superseded and 1 active rollout of the model, each with reports from half the group
      for (let g = 0; g < groups; g++) {
        const members = devs.filter((_, i) => i % groups === g);
        for (let k = 0; k < ROLLOUTS_PER_GROUP; k++) {
          const id = rolloutId(g, k);
          const at = now - (ROLLOUTS_PER_GROUP - k) * 86_400_000;
          await sql.run('INSERT INTO fleet_rollouts (id, model, alias, grp, percent, seed, state, generation, version_at_create, rollback_to, created_at, updated_at, history) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [id, 'seattle-weather', 'production', `g${g}`, 100, `seattle-weather/g${g}`, k === ROLLOUTS_PER_GROUP - 1 ? 'active' : 'superseded', 1, 1, null, at, at, JSON.stringify([{ at: new Date(at).toISOString(), action: 'created', detail: 'bench' }])]);
          for (const [j, d] of members.entries()) {
            if (j % 2) continue;
            await sql.run('INSERT INTO fleet_rollout_reports (rollout_id, device_id, generation, item_seq, outcome, version, previous_version, stage, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
              [id, d.id, 1, 9, j % 10 ? 'installed' : 'failed', 1, null, j % 10 ? null : 'verify', j % 10 ? null : 'sha256 mismatch', at + 60_000]);
          }
        }
      }
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
    await hub.storage.fleetTransaction(undefined, (sql) => rebuildFleetRollups(hub, sql));
    // as `hub serve` starts it: the console's opening Fleet drift answer computed once listening
    const started = performance.now();
    const server = await startHubServer(hub, { warmConsole: true });
    try {
      await server.warmed;
      const warmUpMs = performance.now() - started;
      const stored = (await hub.storage.setting('admin_token_hash'))!;
      const headers = { cookie: `${SESSION_COOKIE}=${issueSession(stored, Date.now()).value}`, host: new URL(server.url).host };
      const get = async (p: string) => {
        const r = await fetch(`${server.url}${p}`, { headers });
        if (r.status !== 200) throw new Error(`${p}: ${r.status} ${await r.text()}`);
        return (await r.arrayBuffer()).byteLength;
      };
      const pages: Record<string, string> = {
        fleet: '/api/v1/devices', fleetFiltered: '/api/v1/devices?group=g3&health=ok', device: '/api/v1/devices/desk-7', events: '/api/v1/events?limit=500',
        eventsFiltered: '/api/v1/events?kind=security&group=g2&limit=500', models: '/api/v1/fleet/models', fleetDrift: '/api/v1/fleet/drift?model=seattle-weather%401&width=day',
        fleetDriftGroup: '/api/v1/fleet/drift?model=seattle-weather%401&width=day&group=g4',
        rollouts: '/api/v1/rollouts', rolloutStatus: `/api/v1/rollouts/${rolloutId(4, ROLLOUTS_PER_GROUP - 1)}`,
      };
      await get('/healthz');
      const baseline = await time(20, () => get('/healthz'));
      // first: the first request for the page (nothing cached: Fleet drift's answer is computed);
      // then the median of 5 more (Fleet drift answers from its cache while no item has arrived)
      const out: Record<string, { firstMs: number; medianMs: number; ratioToHealthz: number; firstRatioToHealthz: number; bytes: number; within200ms: boolean; firstWithin200ms: boolean }> = {};
      for (const [name, p] of Object.entries(pages)) {
        let bytes = 0;
        const first = await time(1, async () => { bytes = await get(p); });
        const t = await time(5, () => get(p));
        out[name] = {
          firstMs: first.medianMs, medianMs: t.medianMs, ratioToHealthz: t.medianMs / baseline.medianMs, firstRatioToHealthz: first.medianMs / baseline.medianMs, bytes,
          within200ms: t.medianMs <= 200, firstWithin200ms: first.medianMs <= 200,
        };
      }
      return {
        devices, groups, days, features: features.length, warmUpMs, deviceWindowRows: devices * days * features.length, eventsStored: devices * 5, rollouts: groups * ROLLOUTS_PER_GROUP,
        baselineHealthzMedianMs: baseline.medianMs, pages: out, allWithin200ms: Object.values(out).every((x) => x.within200ms), allFirstWithin200ms: Object.values(out).every((x) => x.firstWithin200ms),
      };
    } finally {
      await server.close();
    }
  } finally {
    await hub.close();
    removeHub(dir);
  }
}
