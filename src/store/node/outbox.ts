// The transactional outbox: what this workstation will send to its hub. Callers write an item inside
// the transaction that stores the data it describes (a scoring checkpoint, an install, an alert), so
// the two commit or vanish together. Items are written only while the workstation is connected to a
// hub. Each has a sequence number that is never reused; it is marked sent only after the hub's
// acknowledgement. Prediction items reference their prediction_batches rows instead of copying them.
//
// Bounded: past the quota (syncQuotaBytes) the oldest droppable items become `sync-dropped` records
// that say what was dropped (kind, rows, bytes) and sync in their place; security events, alerts
// and model events are never dropped. Local-log retention that removes the batches of an unsent prediction item
// records it the same way (dropOrphanedPredictions).
import zlib from 'node:zlib';
import { DROPPABLE_KINDS, ITEM_PRIORITY, type ItemKind } from '../../sync/common/protocol.ts';
import { hubConnection } from './sync-state.ts';
import type { Store } from './store.ts';

export interface OutboxRow {
  seq: number;
  kind: ItemKind;
  createdAt: number;
  payload: unknown;
  /** prediction items: the job and its batch sequence numbers [from, to) */
  ref: { jobId: string; from: number; to: number } | null;
  rows: number;
  sizeBytes: number;
}

interface Raw { seq: number; kind: ItemKind; created_at: number; payload: Buffer | null; ref_job: string | null; ref_from: number | null; ref_to: number | null; rows: number; size_bytes: number }

const toRow = (r: Raw): OutboxRow => ({
  seq: r.seq, kind: r.kind, createdAt: r.created_at, rows: r.rows, sizeBytes: r.size_bytes,
  payload: r.payload ? JSON.parse(zlib.inflateRawSync(r.payload).toString('utf8')) as unknown : null,
  ref: r.ref_job !== null ? { jobId: r.ref_job, from: r.ref_from!, to: r.ref_to! } : null,
});

/** Is anything written to the outbox? Only while this workstation is connected to a hub. */
export const outboxEnabled = (store: Store): boolean => hubConnection(store) !== undefined;

/** Append an item (call inside the transaction that writes the data it describes). Returns its seq, or undefined when not connected. */
export function enqueue(store: Store, kind: ItemKind, payload: unknown, opts: { rows?: number; at?: number; force?: boolean } = {}): number | undefined {
  if (!opts.force && !outboxEnabled(store)) return undefined;
  const body = zlib.deflateRawSync(Buffer.from(JSON.stringify(payload), 'utf8'));
  const r = store.db.prepare('INSERT INTO outbox (kind, priority, created_at, payload, rows, size_bytes) VALUES (?, ?, ?, ?, ?, ?)')
    .run(kind, ITEM_PRIORITY[kind], opts.at ?? Date.now(), body, opts.rows ?? 0, body.length);
  return Number(r.lastInsertRowid);
}

export interface PredictionItem { jobId: string; from: number; to: number; rows: number; bytes: number; model: string; version: number; sampleRate?: number }

/** A prediction item: the job's log batches [from, to), referenced (not copied). */
export function enqueuePredictions(store: Store, p: PredictionItem, at = Date.now()): number | undefined {
  if (p.to <= p.from || !outboxEnabled(store)) return undefined;
  const payload = zlib.deflateRawSync(Buffer.from(JSON.stringify({ model: p.model, version: p.version, ...(p.sampleRate !== undefined ? { sampleRate: p.sampleRate } : {}) }), 'utf8'));
  const r = store.db.prepare('INSERT INTO outbox (kind, priority, created_at, payload, ref_job, ref_from, ref_to, rows, size_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run('predictions', ITEM_PRIORITY.predictions, at, payload, p.jobId, p.from, p.to, p.rows, p.bytes);
  return Number(r.lastInsertRowid);
}

/** Unsent items in send order (priority, then seq), at most `limit`. */
export function unsentItems(store: Store, limit: number, afterKey?: { priority: number; seq: number }): (OutboxRow & { priority: number })[] {
  const rows = afterKey
    ? store.db.prepare('SELECT *, priority FROM outbox WHERE sent_at IS NULL AND (priority > ? OR (priority = ? AND seq > ?)) ORDER BY priority, seq LIMIT ?').all(afterKey.priority, afterKey.priority, afterKey.seq, limit)
    : store.db.prepare('SELECT *, priority FROM outbox WHERE sent_at IS NULL ORDER BY priority, seq LIMIT ?').all(limit);
  return (rows as (Raw & { priority: number })[]).map((r) => ({ ...toRow(r), priority: r.priority }));
}

/** Mark items sent (after the hub acknowledged them). */
export function markSent(store: Store, seqs: readonly number[], at = Date.now()): void {
  if (!seqs.length) return;
  store.db.prepare('UPDATE outbox SET sent_at = ?, last_error = NULL WHERE sent_at IS NULL AND seq IN (SELECT value FROM json_each(?))').run(at, JSON.stringify(seqs));
}

/** Note why the hub would not take an item (it stays unsent). */
export function noteItemError(store: Store, seq: number, reason: string): void {
  store.db.prepare('UPDATE outbox SET last_error = ? WHERE seq = ?').run(reason.slice(0, 500), seq);
}

export interface OutboxSummary {
  waiting: number;
  waitingBytes: number;
  waitingRows: number;
  /** epoch ms of the oldest unsent item */
  oldest: number | null;
  byKind: Record<string, number>;
  /** items the hub refused or deferred, with the reason (they stay waiting) */
  problems: { seq: number; kind: string; error: string }[];
}

export function outboxSummary(store: Store): OutboxSummary {
  const t = store.db.prepare('SELECT count(*) AS n, coalesce(sum(size_bytes), 0) AS b, coalesce(sum(rows), 0) AS r, min(created_at) AS o FROM outbox WHERE sent_at IS NULL').get() as { n: number; b: number; r: number; o: number | null };
  const kinds = store.db.prepare('SELECT kind, count(*) AS n FROM outbox WHERE sent_at IS NULL GROUP BY kind ORDER BY kind').all() as { kind: string; n: number }[];
  const problems = store.db.prepare('SELECT seq, kind, last_error AS error FROM outbox WHERE sent_at IS NULL AND last_error IS NOT NULL ORDER BY seq LIMIT 20').all() as OutboxSummary['problems'];
  return { waiting: t.n, waitingBytes: t.b, waitingRows: t.r, oldest: t.o, byKind: Object.fromEntries(kinds.map((k) => [k.kind, k.n])), problems };
}

/** Forget sent items older than `before` (epoch ms); the hub holds them. */
export function pruneSent(store: Store, before: number): number {
  return store.db.prepare('DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?').run(before).changes;
}

/** Replace an unsent item by a record of what it was (its seq is kept: the hub learns exactly what did not come). */
function dropItem(store: Store, r: Raw, reason: string, at: number): number {
  const row = toRow(r);
  const p = (row.payload ?? {}) as { model?: string; version?: number };
  const record = {
    droppedKind: row.kind, reason, rows: row.rows, bytes: row.sizeBytes, createdAt: row.createdAt, droppedAt: at,
    ...(row.ref ? { jobId: row.ref.jobId, batches: [row.ref.from, row.ref.to] } : {}),
    ...(p.model !== undefined ? { model: p.model, version: p.version } : {}),
  };
  const body = zlib.deflateRawSync(Buffer.from(JSON.stringify(record), 'utf8'));
  store.db.prepare(`UPDATE outbox SET kind = 'sync-dropped', priority = ?, payload = ?, ref_job = NULL, ref_from = NULL, ref_to = NULL, size_bytes = ?, last_error = NULL WHERE seq = ?`)
    .run(ITEM_PRIORITY['sync-dropped'], body, body.length, r.seq);
  return r.size_bytes - body.length;
}

/**
 * Keep the unsent items within `quotaBytes`: drop the oldest droppable items (predictions first)
 * until they fit, each replaced by its `sync-dropped` record. Returns how many were dropped.
 */
export function enforceOutboxQuota(store: Store, quotaBytes: number, at = Date.now()): number {
  const total = () => (store.db.prepare('SELECT coalesce(sum(size_bytes), 0) AS b FROM outbox WHERE sent_at IS NULL').get() as { b: number }).b;
  let bytes = total();
  if (bytes <= quotaBytes) return 0;
  let dropped = 0;
  store.db.transaction(() => {
    for (const kind of DROPPABLE_KINDS) {
      // one at a time, counting what each drop really frees: the record that replaces a small item
      // (a job summary) is nearly as large as the item itself
      for (const r of store.db.prepare('SELECT * FROM outbox WHERE sent_at IS NULL AND kind = ? ORDER BY seq').all(kind) as Raw[]) {
        if (bytes <= quotaBytes) break;
        bytes -= dropItem(store, r, 'outbox quota reached', at);
        dropped++;
      }
      if (bytes <= quotaBytes) break;
    }
  })();
  return dropped;
}

/** Unsent prediction items whose log batches retention removed (some or all): recorded as dropped. */
export function dropOrphanedPredictions(store: Store, at = Date.now(), reason = 'removed from the local prediction log by retention before it synced'): number {
  const orphans = store.db.prepare(`SELECT o.* FROM outbox o WHERE o.sent_at IS NULL AND o.kind = 'predictions'
    AND (SELECT count(*) FROM prediction_batches b WHERE b.job_id = o.ref_job AND b.seq >= o.ref_from AND b.seq < o.ref_to) < o.ref_to - o.ref_from`).all() as Raw[];
  for (const r of orphans) dropItem(store, r, reason, at);
  return orphans.length;
}
