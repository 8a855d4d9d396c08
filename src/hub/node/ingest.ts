// Ingest: the items of one signed request, applied in ONE transaction together with the request's
// nonce and the device's byte quota. Exactly once: the ledger `fleet_items` has one row per
// (device, seq); an item already in it is acknowledged again and not applied again, whichever path
// (online sync, an imported bundle) brought it first. One handler per item kind (HANDLERS); an item
// a handler cannot take now is deferred (the device sends it again later), one it will never take
// is rejected (the device keeps it and reports why). Nothing here reinterprets drift statistics:
// they are parsed and merged with src/drift's own functions.
import crypto from 'node:crypto';
import type { z } from 'zod';
import { mergeStats, statsFromJSON, type FeatureStats } from '../../drift/common/index.ts';
import { quote } from '../../common/errors.ts';
import { windowStart } from '../../monitor/common/windows.ts';
import { packedShape } from '../../store/common/packing.ts';
import {
  AlertPayload, DriftPayload, DroppedPayload, HeartbeatPayload, JobPayload, LabelsPayload, ModelPayload, PredictionsPayload, RolloutPayload, SecurityPayload,
} from '../../sync/common/items.ts';
import type { IngestResponse, WireItem } from '../../sync/common/protocol.ts';
import type { DeviceRow } from './devices.ts';
import type { SqlRunner } from './fleet-schema.ts';
import type { Hub } from './repository.ts';
import { baselineFeatures } from './fleet-cards.ts';
import { mergeDriftWindows, rollupLockKey } from './fleet-rollups.ts';

export { baselineFeatures, cardBySha } from './fleet-cards.ts';

type Outcome = { ok: true } | { ok: false; defer?: boolean; reason: string };
const OK: Outcome = { ok: true };
const reject = (reason: string): Outcome => ({ ok: false, reason });
const defer = (reason: string): Outcome => ({ ok: false, defer: true, reason });

interface Ctx { hub: Hub; sql: SqlRunner; device: DeviceRow; item: WireItem; now: number }
type Handler = (c: Ctx) => Promise<Outcome>;

/** Validate a payload with its schema, or reject the item naming the first problem. */
function parse<S extends z.ZodType>(schema: S, c: Ctx): { data: z.infer<S> } | { outcome: Outcome } {
  const r = schema.safeParse(c.item.payload);
  if (r.success) return { data: r.data };
  const i = r.error.issues[0];
  return { outcome: reject(`invalid ${c.item.kind} payload at ${i.path.join('.') || '(root)'}: ${i.message}`) };
}

async function event(c: Ctx, kind: string, model: string | null, summary: string, detail: unknown): Promise<void> {
  await c.sql.run('INSERT INTO fleet_events (device_id, seq, kind, at, model, summary, detail) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, seq) DO NOTHING',
    [c.device.id, c.item.seq, kind, c.item.createdAt, model, summary.slice(0, 1000), JSON.stringify(detail)]);
}

const HANDLERS: Record<string, Handler> = {
  async security(c) {
    const p = parse(SecurityPayload, c);
    if ('outcome' in p) return p.outcome;
    await event(c, 'security', p.data.model, `${p.data.kind}${p.data.model ? ` (${p.data.model})` : ''}: ${p.data.detail}`, p.data);
    return OK;
  },

  async alert(c) {
    const p = parse(AlertPayload, c);
    if ('outcome' in p) return p.outcome;
    const a = p.data;
    const key = [c.device.id, a.model, a.version, a.scope, a.scopeKey, a.feature];
    if (a.state === 'opened') {
      await c.sql.run(`INSERT INTO fleet_alerts (device_id, model_name, model_version, scope, scope_key, feature, item_seq, opened_at, cleared_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
        ON CONFLICT (device_id, model_name, model_version, scope, scope_key, feature) DO UPDATE SET item_seq = excluded.item_seq, opened_at = excluded.opened_at, cleared_at = NULL, detail = excluded.detail
        WHERE fleet_alerts.item_seq < excluded.item_seq`, [...key, c.item.seq, a.at, JSON.stringify(a)]);
    } else {
      await c.sql.run('UPDATE fleet_alerts SET cleared_at = ?, item_seq = ? WHERE device_id = ? AND model_name = ? AND model_version = ? AND scope = ? AND scope_key = ? AND feature = ? AND item_seq < ?',
        [a.at, c.item.seq, ...key, c.item.seq]);
    }
    await event(c, `alert-${a.state}`, `${a.model}@${a.version}`, `${a.feature} ${a.state === 'opened' ? (a.feature.startsWith('performance.') ? 'crossed its bound' : 'drifted') : 'back to normal'} (${a.scope} ${a.scopeKey}; ${a.method} ${a.score ?? '—'} vs ${a.threshold})`, a);
    return OK;
  },

  async 'sync-dropped'(c) {
    const p = parse(DroppedPayload, c);
    if ('outcome' in p) return p.outcome;
    const d = p.data;
    await event(c, 'sync-dropped', d.model !== undefined ? `${d.model}@${d.version}` : null,
      `dropped a ${d.droppedKind} item (${d.rows} rows, ${d.bytes} bytes, written ${new Date(d.createdAt).toISOString()}): ${d.reason}`, d);
    return OK;
  },

  async model(c) {
    const p = parse(ModelPayload, c);
    if ('outcome' in p) return p.outcome;
    const m = p.data;
    if (m.card !== undefined && m.cardSha256 !== undefined) {
      const sha = crypto.createHash('sha256').update(m.card, 'utf8').digest('hex');
      if (sha !== m.cardSha256) return reject(`the card text does not hash to cardSha256 (${sha.slice(0, 12)}… ≠ ${m.cardSha256.slice(0, 12)}…)`);
      await c.sql.run('INSERT INTO fleet_cards (sha256, name, version, card, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING', [sha, m.name, m.version ?? 0, m.card, c.now]);
    }
    const { card: _card, ...detail } = m;
    await event(c, `model-${m.event}`, m.version !== null ? `${m.name}@${m.version}` : m.name, `${m.event} ${m.name}${m.version !== null ? `@${m.version}` : ''}: ${m.detail}`, detail);
    return OK;
  },

  async rollout(c) {
    const p = parse(RolloutPayload, c);
    if ('outcome' in p) return p.outcome;
    const r = p.data;
    // a report of a rollout this hub does not know (deleted database, another hub), or of one that
    // never targeted this device's group, is kept as an event only: it cannot change a rollout's progress
    const known = await c.sql.all<{ grp: string }>('SELECT grp FROM fleet_rollouts WHERE id = ?', [r.rollout]);
    if (known.length && known[0].grp === c.device.grp) {
      await c.sql.run(`INSERT INTO fleet_rollout_reports (rollout_id, device_id, generation, item_seq, outcome, version, previous_version, stage, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (rollout_id, device_id, generation) DO UPDATE SET item_seq = excluded.item_seq, outcome = excluded.outcome, version = excluded.version,
          previous_version = excluded.previous_version, stage = excluded.stage, reason = excluded.reason, at = excluded.at WHERE fleet_rollout_reports.item_seq < excluded.item_seq`,
      [r.rollout, c.device.id, r.generation, c.item.seq, r.outcome, r.version, r.previousVersion, r.stage, r.reason, r.at]);
    }
    const what = r.outcome === 'installed' ? `runs ${r.model}@${r.version}` : r.outcome === 'available' ? `offered ${r.ref} (waiting for the workstation's user)` : `refused ${r.ref} at ${r.stage}: ${r.reason}`;
    await event(c, `rollout-${r.outcome}`, r.version !== null ? `${r.model}@${r.version}` : r.model, `rollout ${r.rollout}: ${what}`, r);
    return OK;
  },

  async job(c) {
    const p = parse(JobPayload, c);
    if ('outcome' in p) return p.outcome;
    const j = p.data;
    await c.sql.run(`INSERT INTO fleet_jobs (device_id, job_id, item_seq, model_name, model_version, status, rows_read, rows_scored, rows_rejected, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (device_id, job_id) DO UPDATE SET item_seq = excluded.item_seq, status = excluded.status, rows_read = excluded.rows_read, rows_scored = excluded.rows_scored,
        rows_rejected = excluded.rows_rejected, summary = excluded.summary WHERE fleet_jobs.item_seq < excluded.item_seq`,
    [c.device.id, j.id, c.item.seq, j.model, j.version, j.status, j.rowsRead, j.rowsScored, j.rowsRejected, JSON.stringify(j)]);
    return OK;
  },

  async heartbeat(c) {
    const p = parse(HeartbeatPayload, c);
    if ('outcome' in p) return p.outcome;
    await c.sql.run('UPDATE fleet_devices SET state_json = ?, state_seq = ?, outpost_version = ? WHERE id = ? AND state_seq < ?',
      [JSON.stringify(p.data), c.item.seq, p.data.outpostVersion, c.device.id, c.item.seq]);
    return OK;
  },

  async drift(c) {
    const p = parse(DriftPayload, c);
    if ('outcome' in p) return p.outcome;
    const d = p.data;
    const features = await baselineFeatures(c.hub, c.sql, d.cardSha256);
    if (!features) return defer(`the hub has not seen the card ${d.cardSha256.slice(0, 12)}… of ${d.model}@${d.version} yet (it arrives with the install event)`);
    if (typeof features === 'string') return reject(features);
    // parse every delta first: a bad one rejects the item before anything is written
    const hours: [number, Map<string, FeatureStats>][] = [];
    for (const h of d.hours) {
      const unknown = Object.keys(h.features).filter((n) => !features.has(n));
      if (unknown.length) return reject(`statistics for features the card does not monitor: ${unknown.slice(0, 5).map(quote).join(', ')}`);
      const m = new Map<string, FeatureStats>();
      for (const [name, json] of Object.entries(h.features)) {
        try {
          m.set(name, statsFromJSON(json as never, features.get(name)!));
        } catch (e) {
          return reject(`statistics of ${quote(name)} (window ${new Date(h.start).toISOString()}) are invalid: ${(e as Error).message}`);
        }
      }
      hours.push([h.start, m]);
    }
    const days = new Map<number, Map<string, FeatureStats>>();
    for (const [start, m] of hours) {
      const day = windowStart('day', start);
      const acc = days.get(day) ?? new Map<string, FeatureStats>();
      for (const [n, s] of m) acc.set(n, acc.has(n) ? mergeStats(acc.get(n)!, s) : s);
      days.set(day, acc);
    }
    const windows = [...hours.map(([start, deltas]) => ({ width: 'hour' as const, start, deltas })), ...[...days].map(([start, deltas]) => ({ width: 'day' as const, start, deltas }))];
    const r = await mergeDriftWindows(c.sql, c.device, d.model, d.version, d.cardSha256, windows, features);
    return r ? reject(r) : OK;
  },

  async labels(c) {
    const p = parse(LabelsPayload, c);
    if ('outcome' in p) return p.outcome;
    for (const l of p.data.labels) {
      await c.sql.run(`INSERT INTO fleet_labels (device_id, model_name, model_version, id, job_id, row_index, predicted_at, truth, truth_value, predicted, predicted_value, scores, late, labelled_at, item_seq)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (device_id, model_name, model_version, id) DO UPDATE SET job_id = excluded.job_id, row_index = excluded.row_index, predicted_at = excluded.predicted_at,
          truth = excluded.truth, truth_value = excluded.truth_value, predicted = excluded.predicted, predicted_value = excluded.predicted_value, scores = excluded.scores,
          late = excluded.late, labelled_at = excluded.labelled_at, item_seq = excluded.item_seq
        WHERE fleet_labels.item_seq < excluded.item_seq`,
      [c.device.id, p.data.model, l.version, l.id, l.jobId, l.row, l.predictedAt, l.truth, l.truthValue, l.predicted, l.predictedValue, l.scores ? JSON.stringify(l.scores) : null, l.late ? 1 : 0, l.labelledAt, c.item.seq]);
    }
    return OK;
  },

  async predictions(c) {
    const p = parse(PredictionsPayload, c);
    if ('outcome' in p) return p.outcome;
    const d = p.data;
    const want = d.batches.reduce((n, b) => n + (b.inputs ? 2 : 1), 0);
    if (c.item.blobs.length !== want) return reject(`${d.batches.length} batches need ${want} blobs, got ${c.item.blobs.length}`);
    let k = 0;
    for (const b of d.batches) {
      const outputs = c.item.blobs[k++];
      const inputs = b.inputs ? c.item.blobs[k++] : null;
      try {
        const shape = packedShape(outputs);
        if (shape.some((col) => col.length !== b.rowCount)) return reject(`batch ${b.seq}: output columns do not hold ${b.rowCount} rows`);
        if (inputs) packedShape(inputs);
      } catch (e) {
        return reject(`batch ${b.seq}: ${(e as Error).message}`);
      }
      await c.sql.run(`INSERT INTO fleet_predictions (device_id, job_id, batch_seq, model_name, model_version, first_row, row_count, logged_at, item_seq, sample_rate, outputs, inputs)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, job_id, batch_seq) DO NOTHING`,
      [c.device.id, d.jobId, b.seq, d.model, d.version, b.firstRow, b.rowCount, b.loggedAt, c.item.seq, d.sampleRate ?? null, Buffer.from(outputs), inputs ? Buffer.from(inputs) : null]);
    }
    return OK;
  },
};

export interface IngestLimits { maxBytesPerDay: number }

/** Apply one request's items (already verified and decoded) for a device, in one transaction. */
export async function ingestItems(hub: Hub, sql: SqlRunner, device: DeviceRow, items: readonly WireItem[], bodyBytes: number, limits: IngestLimits, now = Date.now(), via = 'sync'): Promise<IngestResponse> {
  // the device row as of this transaction (locked on PostgreSQL): quota and counters are exact
  const [fresh] = await sql.all<{ quota_day: number; quota_bytes: number }>('SELECT quota_day, quota_bytes FROM fleet_devices WHERE id = ?', [device.id]);
  const day = windowStart('day', now);
  const used = Number(fresh.quota_day) === day ? Number(fresh.quota_bytes) : 0;
  if (used + bodyBytes > limits.maxBytesPerDay) throw new QuotaError(used, limits.maxBytesPerDay, day);
  const res: IngestResponse = { ok: true, acked: [], deferred: [], rejected: [] };
  const sorted = [...items].sort((a, b) => a.seq - b.seq);
  // rollups are shared between devices: take every rollup lock this request may need first, in one
  // order (PostgreSQL; fleet-rollups.ts), so concurrent requests cannot wait on each other crosswise
  const locks = new Set<string>();
  for (const item of sorted) {
    const p = item.kind === 'drift' ? item.payload as { model?: unknown; version?: unknown } | null : null;
    if (p && typeof p.model === 'string' && typeof p.version === 'number') locks.add(rollupLockKey(p.model, p.version));
  }
  if (sql.lock) for (const key of [...locks].sort()) await sql.lock(key);
  let applied = 0;
  let maxSeq = 0;
  for (const item of sorted) {
    const seen = await sql.all('SELECT 1 FROM fleet_items WHERE device_id = ? AND seq = ?', [device.id, item.seq]);
    if (seen.length) { res.acked.push(item.seq); continue; }
    const handler = Object.hasOwn(HANDLERS, item.kind) ? HANDLERS[item.kind] : undefined;
    const outcome = handler ? await handler({ hub, sql, device, item, now }) : reject(`this hub does not know item kind ${quote(String(item.kind))} (upgrade the hub)`);
    if (!outcome.ok) { (outcome.defer ? res.deferred : res.rejected).push({ seq: item.seq, reason: outcome.reason }); continue; }
    const bytes = item.blobs.reduce((n, b) => n + b.length, 0) + JSON.stringify(item.payload ?? null).length;
    await sql.run('INSERT INTO fleet_items (device_id, seq, kind, created_at, received_at, bytes, via) VALUES (?, ?, ?, ?, ?, ?, ?)', [device.id, item.seq, item.kind, item.createdAt, now, bytes, via]);
    res.acked.push(item.seq);
    applied++;
    maxSeq = Math.max(maxSeq, item.seq);
  }
  await sql.run(`UPDATE fleet_devices SET last_seen_at = ?, quota_day = ?, quota_bytes = ?, items = items + ?, max_seq = CASE WHEN max_seq < ? THEN ? ELSE max_seq END WHERE id = ?`,
    [now, day, used + bodyBytes, applied, maxSeq, maxSeq, device.id]);
  return res;
}

export class QuotaError extends Error {
  readonly used: number;
  readonly limit: number;
  readonly retryAt: number;
  constructor(used: number, limit: number, day: number) {
    super(`this device reached its upload quota for today (${used} of ${limit} bytes); the quota resets at ${new Date(day + 86_400_000).toISOString()}`);
    this.used = used;
    this.limit = limit;
    this.retryAt = day + 86_400_000;
  }
}
