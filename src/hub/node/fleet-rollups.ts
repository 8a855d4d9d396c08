// Fleet drift rollups kept at ingest, so that `outpost hub drift` and the console's Fleet drift read
// a few merged pieces instead of every device window (schema: fleetRollupsSchema in fleet-schema.ts;
// design: docs/ARCHITECTURE.md "Fleet drift rollups").
//
// For each drift delta a device sends, in the same transaction as its own window:
// - fleet_rollups (group, per window — level 0 of the group scope) and fleet_drift_blocks scope
//   `fleet` (all groups, per window);
// - fleet_drift_blocks scopes `group` and `device`, dyadic blocks of levels 1..BLOCK_LEVELS[width]
//   (src/hub/common/window-blocks.ts);
// - fleet_drift_devices (the device's first/last window on that card) and fleet_drift_counts (one
//   more device in the window, the first time the device has statistics there on that card).
// Every rollup is an exact merge (src/drift's mergeStats: integer counts, exact sums, min/max), so
// any piece equals the merge of the device windows it covers, whatever order devices sync in. The
// ledger makes each item count once, so each delta is merged into each rollup once.
//
// On PostgreSQL, devices ingest in parallel (a fleet transaction locks only its device's row), but
// rollups are shared between devices: a read-merge-write of the same row by two transactions would
// lose one delta. So the drift handler takes a transaction-scoped advisory lock per model@version
// (`SqlRunner.lock`) before reading any rollup; ingestItems takes all of a request's keys up front in
// sorted order, so two requests never wait on each other crosswise. SQLite has one writer anyway.
import { absorbStats } from '../../drift/common/baseline.ts';
import { mergeStats, statsFromJSON, type BaselineFeature, type FeatureStats } from '../../drift/common/index.ts';
import { WINDOW_MS, type WindowWidth } from '../../monitor/common/windows.ts';
import { BLOCK_LEVELS, blockStart, coverRange } from '../common/window-blocks.ts';
import type { SqlRunner } from './fleet-schema.ts';
import { baselineFeatures } from './fleet-cards.ts';
import type { Hub } from './repository.ts';

export type Scope = 'fleet' | 'group' | 'device';

/** The advisory lock key that orders rollup writers of one model version (PostgreSQL). */
export const rollupLockKey = (model: string, version: number): string => `fleet-drift:${model}@${version}`;

export interface DriftWindow { width: WindowWidth; start: number; deltas: Map<string, FeatureStats> }

const parse = (json: string, f: BaselineFeature): FeatureStats => statsFromJSON(JSON.parse(json) as never, f);

async function mergeBlock(sql: SqlRunner, key: readonly unknown[], scope: Scope, level: number, start: number, owner: string, feature: string, delta: FeatureStats, f: BaselineFeature): Promise<void> {
  const [old] = await sql.all<{ stats: string }>(
    `SELECT stats FROM fleet_drift_blocks WHERE model_name = ? AND model_version = ? AND width = ? AND card_sha256 = ? AND scope = ? AND feature = ? AND level = ? AND start = ? AND owner = ?`,
    [...key, scope, feature, level, start, owner]);
  const merged = old ? absorbStats(parse(old.stats, f), delta) : delta;
  await sql.run(`INSERT INTO fleet_drift_blocks (model_name, model_version, width, card_sha256, scope, feature, level, start, owner, stats, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (model_name, model_version, width, card_sha256, scope, feature, level, start, owner) DO UPDATE SET stats = excluded.stats, rows = excluded.rows`,
  [...key, scope, feature, level, start, owner, JSON.stringify(merged), merged.rows]);
}

/**
 * Merge a drift item's window deltas into the device's windows and every rollup. Returns a reason
 * (and writes nothing) when a window of the device already holds statistics of another card.
 */
export async function mergeDriftWindows(sql: SqlRunner, device: { id: string; grp: string }, model: string, version: number, cardSha: string, windows: readonly DriftWindow[], features: Map<string, BaselineFeature>): Promise<string | undefined> {
  const stored: Map<string, { stats: string; card_sha256: string }>[] = [];
  for (const w of windows) {
    const rows = await sql.all<{ feature: string; stats: string; card_sha256: string }>(
      'SELECT feature, stats, card_sha256 FROM fleet_windows WHERE model_name = ? AND model_version = ? AND width = ? AND start = ? AND device_id = ?',
      [model, version, w.width, w.start, device.id]);
    const m = new Map(rows.map((r) => [r.feature, r]));
    for (const name of w.deltas.keys()) {
      const old = m.get(name);
      if (old && old.card_sha256 !== cardSha) return `${model}@${version} window ${new Date(w.start).toISOString()} holds statistics of another card (${old.card_sha256.slice(0, 12)}…)`;
    }
    stored.push(m);
  }
  await sql.lock?.(rollupLockKey(model, version));
  const blocks = new Map<string, { width: WindowWidth; level: number; start: number; deltas: Map<string, FeatureStats> }>();
  for (const [i, w] of windows.entries()) {
    if (!w.deltas.size) continue;
    const mine = stored[i];
    const key = [model, version, w.width, cardSha] as const;
    for (const [name, delta] of w.deltas) {
      const old = mine.get(name);
      const merged = old ? absorbStats(parse(old.stats, features.get(name)!), delta) : delta;
      await sql.run(`INSERT INTO fleet_windows (model_name, model_version, width, start, device_id, feature, card_sha256, stats, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (model_name, model_version, width, start, device_id, feature) DO UPDATE SET stats = excluded.stats, rows = excluded.rows`,
      [model, version, w.width, w.start, device.id, name, cardSha, JSON.stringify(merged), merged.rows]);
    }
    if (![...mine.values()].some((r) => r.card_sha256 === cardSha)) {
      await sql.run(`INSERT INTO fleet_drift_counts (model_name, model_version, width, card_sha256, start, grp, devices) VALUES (?, ?, ?, ?, ?, ?, 1)
        ON CONFLICT (model_name, model_version, width, card_sha256, start, grp) DO UPDATE SET devices = fleet_drift_counts.devices + 1`, [...key, w.start, device.grp]);
    }
    await sql.run(`INSERT INTO fleet_drift_devices (model_name, model_version, width, device_id, card_sha256, first_start, last_start) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (model_name, model_version, width, device_id, card_sha256) DO UPDATE SET
        first_start = CASE WHEN excluded.first_start < fleet_drift_devices.first_start THEN excluded.first_start ELSE fleet_drift_devices.first_start END,
        last_start = CASE WHEN excluded.last_start > fleet_drift_devices.last_start THEN excluded.last_start ELSE fleet_drift_devices.last_start END`,
    [model, version, w.width, device.id, cardSha, w.start, w.start]);
    // the group's window (level 0 of the group scope) and the whole fleet's window
    const rollups = new Map((await sql.all<{ feature: string; stats: string }>(
      'SELECT feature, stats FROM fleet_rollups WHERE model_name = ? AND model_version = ? AND width = ? AND start = ? AND grp = ? AND card_sha256 = ?',
      [model, version, w.width, w.start, device.grp, cardSha])).map((r) => [r.feature, r.stats]));
    for (const [name, delta] of w.deltas) {
      const f = features.get(name)!;
      const old = rollups.get(name);
      const merged = old ? absorbStats(parse(old, f), delta) : delta;
      await sql.run(`INSERT INTO fleet_rollups (model_name, model_version, width, start, grp, card_sha256, feature, stats, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (model_name, model_version, width, start, grp, card_sha256, feature) DO UPDATE SET stats = excluded.stats, rows = excluded.rows`,
      [model, version, w.width, w.start, device.grp, cardSha, name, JSON.stringify(merged), merged.rows]);
      await mergeBlock(sql, key, 'fleet', 0, w.start, '', name, delta, f);
    }
    for (let level = 1; level <= BLOCK_LEVELS[w.width]; level++) {
      const start = blockStart(w.width, level, w.start);
      const id = `${w.width}:${level}:${start}`;
      const b = blocks.get(id) ?? { width: w.width, level, start, deltas: new Map<string, FeatureStats>() };
      blocks.set(id, b);
      for (const [name, delta] of w.deltas) b.deltas.set(name, b.deltas.has(name) ? mergeStats(b.deltas.get(name)!, delta) : delta);
    }
  }
  // the blocks: each once per item, with the item's deltas of the windows it holds merged first
  for (const b of blocks.values()) {
    const key = [model, version, b.width, cardSha] as const;
    for (const [name, delta] of b.deltas) {
      const f = features.get(name)!;
      await mergeBlock(sql, key, 'group', b.level, b.start, device.grp, name, delta, f);
      await mergeBlock(sql, key, 'device', b.level, b.start, device.id, name, delta, f);
    }
  }
  return undefined;
}

/**
 * (Re)build every rollup from the stored device windows and group rollups (the migration's
 * back-fill, and the benches that store windows directly). One transaction; exact merges, so the
 * result equals what ingest would have kept.
 */
export async function rebuildFleetRollups(hub: Hub, sql: SqlRunner): Promise<{ blocks: number }> {
  await sql.run('DELETE FROM fleet_drift_devices');
  await sql.run('DELETE FROM fleet_drift_counts');
  await sql.run('DELETE FROM fleet_drift_blocks');
  await sql.run(`INSERT INTO fleet_drift_devices (model_name, model_version, width, device_id, card_sha256, first_start, last_start)
    SELECT model_name, model_version, width, device_id, card_sha256, min(start), max(start) FROM fleet_windows GROUP BY model_name, model_version, width, device_id, card_sha256`);
  await sql.run(`INSERT INTO fleet_drift_counts (model_name, model_version, width, card_sha256, start, grp, devices)
    SELECT w.model_name, w.model_version, w.width, w.card_sha256, w.start, d.grp, count(DISTINCT w.device_id) FROM fleet_windows w JOIN fleet_devices d ON d.id = w.device_id
    GROUP BY w.model_name, w.model_version, w.width, w.card_sha256, w.start, d.grp`);
  let blocks = 0;
  const put = async (key: readonly unknown[], scope: Scope, level: number, start: number, owner: string, feature: string, s: FeatureStats) => {
    await sql.run(`INSERT INTO fleet_drift_blocks (model_name, model_version, width, card_sha256, scope, feature, level, start, owner, stats, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [...key, scope, feature, level, start, owner, JSON.stringify(s), s.rows]);
    blocks++;
  };
  const add = (m: Map<string, FeatureStats>, k: string, s: FeatureStats) => m.set(k, m.has(k) ? mergeStats(m.get(k)!, s) : s);
  const keys = await sql.all<{ model_name: string; model_version: number; width: WindowWidth; card_sha256: string; feature: string }>(
    'SELECT DISTINCT model_name, model_version, width, card_sha256, feature FROM fleet_rollups ORDER BY model_name, model_version, width, card_sha256, feature');
  for (const k of keys) {
    const features = await baselineFeatures(hub, sql, k.card_sha256);
    const f = features instanceof Map ? features.get(k.feature) : undefined;
    if (!f) continue; // statistics of a card the hub cannot read were never merged by ingest either
    const key = [k.model_name, Number(k.model_version), k.width, k.card_sha256] as const;
    const fleetWindows = new Map<string, FeatureStats>();
    const groupBlocks = new Map<string, FeatureStats>();
    for (const r of await sql.all<{ start: number; grp: string; stats: string }>(
      'SELECT start, grp, stats FROM fleet_rollups WHERE model_name = ? AND model_version = ? AND width = ? AND card_sha256 = ? AND feature = ?', [...key, k.feature])) {
      const s = parse(r.stats, f);
      add(fleetWindows, String(r.start), s);
      for (let level = 1; level <= BLOCK_LEVELS[k.width]; level++) add(groupBlocks, JSON.stringify([level, blockStart(k.width, level, Number(r.start)), r.grp]), s);
    }
    for (const [start, s] of fleetWindows) await put(key, 'fleet', 0, Number(start), '', k.feature, s);
    for (const [id, s] of groupBlocks) {
      const [level, start, grp] = JSON.parse(id) as [number, number, string];
      await put(key, 'group', level, start, grp, k.feature, s);
    }
  }
  const devices = await sql.all<{ model_name: string; model_version: number; width: WindowWidth; card_sha256: string; device_id: string; first_start: number; last_start: number }>(
    'SELECT model_name, model_version, width, card_sha256, device_id, first_start, last_start FROM fleet_drift_devices ORDER BY model_name, model_version, width, card_sha256, device_id');
  for (const d of devices) {
    const top = BLOCK_LEVELS[d.width];
    if (!top) continue;
    const features = await baselineFeatures(hub, sql, d.card_sha256);
    if (!(features instanceof Map)) continue;
    const key = [d.model_name, Number(d.model_version), d.width, d.card_sha256] as const;
    const w = WINDOW_MS[d.width];
    // one top-level block at a time, its windows read by primary key (start, device), levels built bottom-up
    for (let top0 = blockStart(d.width, top, Number(d.first_start)); top0 <= Number(d.last_start); top0 += w * 2 ** top) {
      let level = new Map<string, FeatureStats>(); // `${start}|${feature}` at level 1
      for (let start = Math.max(top0, Number(d.first_start)); start < top0 + w * 2 ** top && start <= Number(d.last_start); start += w) {
        for (const r of await sql.all<{ feature: string; stats: string }>(
          'SELECT feature, stats FROM fleet_windows WHERE model_name = ? AND model_version = ? AND width = ? AND start = ? AND device_id = ? AND card_sha256 = ?',
          [key[0], key[1], key[2], start, d.device_id, key[3]])) {
          const f = features.get(r.feature);
          if (!f) continue;
          const id = `${blockStart(d.width, 1, start)}|${r.feature}`;
          const s = parse(r.stats, f); // parsed here: owned, so the block absorbs into the first one
          const prev = level.get(id);
          level.set(id, prev ? absorbStats(prev, s) : s);
        }
      }
      for (let k = 1; k <= top; k++) {
        const up = new Map<string, FeatureStats>();
        for (const [id, s] of level) {
          const sep = id.indexOf('|');
          const start = Number(id.slice(0, sep));
          const feature = id.slice(sep + 1);
          await put(key, 'device', k, start, d.device_id, feature, s);
          if (k < top) {
            const upId = `${blockStart(d.width, k + 1, start)}|${feature}`;
            const prev = up.get(upId);
            up.set(upId, prev ? mergeStats(prev, s) : s); // merge: a new object, the children stay as written
          }
        }
        level = up;
      }
    }
  }
  return { blocks };
}

/** Run the rollups' back-fill once after the migration that added them (every hub process calls this when it opens). */
export async function ensureFleetRollups(hub: Hub): Promise<void> {
  const [state] = await hub.storage.fleet.all<{ done: number }>('SELECT done FROM fleet_drift_backfill');
  if (!state || Number(state.done)) return;
  await hub.storage.fleetTransaction(undefined, async (sql) => {
    await sql.lock?.('fleet-drift-backfill');
    const [again] = await sql.all<{ done: number }>('SELECT done FROM fleet_drift_backfill');
    if (Number(again.done)) return;
    await rebuildFleetRollups(hub, sql);
    await sql.run('UPDATE fleet_drift_backfill SET done = 1');
  });
}

export interface RangeQuery { model: string; version: number; width: WindowWidth; cardSha256: string; lo: number; hi: number; group?: string }

/**
 * The exact merge over the windows [lo, hi] per owner (group name, or device name) and feature,
 * from the fewest stored pieces: level-0 pieces from fleet_rollups / fleet_windows, the others from
 * the blocks. `only` restricts to some features.
 */
export async function mergedOverRange(sql: SqlRunner, scope: 'group' | 'device', q: RangeQuery, features: ReadonlyMap<string, BaselineFeature>, only?: readonly string[]): Promise<Map<string, Map<string, FeatureStats>>> {
  const out = new Map<string, Map<string, FeatureStats>>();
  if (q.hi < q.lo) return out;
  const names = [...(only ?? [...features.keys()])].sort();
  const g = q.group !== undefined ? [q.group] : [];
  for (const piece of coverRange(q.width, q.lo, q.hi)) {
    for (const feature of names) {
      const f = features.get(feature);
      if (!f) continue;
      let rows: { owner: string; stats: string }[];
      if (scope === 'group') {
        rows = piece.level === 0
          ? await sql.all('SELECT grp AS owner, stats FROM fleet_rollups WHERE model_name = ? AND model_version = ? AND width = ? AND start = ? AND card_sha256 = ? AND feature = ?' + (g.length ? ' AND grp = ?' : ''),
            [q.model, q.version, q.width, piece.start, q.cardSha256, feature, ...g])
          : await sql.all("SELECT owner, stats FROM fleet_drift_blocks WHERE model_name = ? AND model_version = ? AND width = ? AND card_sha256 = ? AND scope = 'group' AND feature = ? AND level = ? AND start = ?" + (g.length ? ' AND owner = ?' : ''),
            [q.model, q.version, q.width, q.cardSha256, feature, piece.level, piece.start, ...g]);
      } else {
        rows = piece.level === 0
          ? await sql.all(`SELECT d.name AS owner, w.stats FROM fleet_windows w JOIN fleet_devices d ON d.id = w.device_id
              WHERE w.model_name = ? AND w.model_version = ? AND w.width = ? AND w.start = ? AND w.card_sha256 = ? AND w.feature = ?${g.length ? ' AND d.grp = ?' : ''}`,
            [q.model, q.version, q.width, piece.start, q.cardSha256, feature, ...g])
          : await sql.all(`SELECT d.name AS owner, b.stats FROM fleet_drift_blocks b JOIN fleet_devices d ON d.id = b.owner
              WHERE b.model_name = ? AND b.model_version = ? AND b.width = ? AND b.card_sha256 = ? AND b.scope = 'device' AND b.feature = ? AND b.level = ? AND b.start = ?${g.length ? ' AND d.grp = ?' : ''}`,
            [q.model, q.version, q.width, q.cardSha256, feature, piece.level, piece.start, ...g]);
      }
      for (const r of rows) {
        const s = parse(r.stats, f);
        const m = out.get(r.owner) ?? new Map<string, FeatureStats>();
        out.set(r.owner, m);
        const prev = m.get(feature);
        m.set(feature, prev ? absorbStats(prev, s) : s); // both parsed here: nothing else holds them
      }
    }
  }
  return out;
}
