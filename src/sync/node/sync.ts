// `outpost sync`: push everything waiting in the outbox to the hub, then refresh the hub's signed
// metadata. Items go in send order (security events first), in compressed batches; each batch is
// one signed request and one transaction on the hub, and the items it acknowledges are marked sent
// here only after its answer. Killed at any point, the next sync sends the unacknowledged items
// again and the hub's ledger keeps each once. Failures that may pass (unreachable, 5xx, a cut
// connection) are retried with exponential backoff and full jitter; refusals (revoked, stale clock,
// quota) stop the sync and say why. An optional bandwidth cap paces the requests.
import zlib from 'node:zlib';
import { OutpostError } from '../../common/errors.ts';
import { sampled } from '../../scoring/common/outputs.ts';
import { packColumns, unpackColumns, type PackedColumn } from '../../store/common/packing.ts';
import { listModels } from '../../store/node/models.ts';
import { dropOrphanedPredictions, enforceOutboxQuota, markSent, noteItemError, outboxSummary, pruneSent, unsentItems, type OutboxRow, type OutboxSummary } from '../../store/node/outbox.ts';
import { getSettings, type Store } from '../../store/node/store.ts';
import { hubConnection, recordSyncOutcome, type HubConnection } from '../../store/node/sync-state.ts';
import { ITEM_PRIORITY, backoffMs, encodeFrames, type IngestResponse, type WireItem } from '../common/protocol.ts';
import { deviceKey, OUTPOST_VERSION, signRequest } from './device.ts';
import { prepareHubTrust } from '../../registry/node/hub-tls.ts';
import { hubFailure, networkFailure, SyncError } from './http.ts';
import { fetchAssignments, followAssignments, type FollowOptions, type RolloutSyncResult } from './rollout.ts';

export const SYNC_PATH = '/api/v1/sync/items';
const SYNC_CONTENT_TYPE = 'application/x-outpost-items+gzip';
/** Sent items are kept this long (for `sync status`), then forgotten: the hub holds them. */
const KEEP_SENT_MS = 7 * 86_400_000;

export interface SyncProgress { sent: number; waiting: number; bytes: number; requests: number }

export interface SyncOptions {
  signal?: AbortSignal;
  onProgress?: (p: SyncProgress) => void;
  /** told about each retry (the reason and the wait) */
  onRetry?: (e: { attempt: number; waitMs: number; reason: string }) => void;
  /** most uncompressed bytes per request (default 4 MiB) */
  maxBatchBytes?: number;
  maxBatchItems?: number;
  /** tries per request before the sync gives up (default 6) */
  attempts?: number;
  /** bytes per second (default: the syncBandwidthBytesPerSecond setting; 0 = no cap) */
  bandwidth?: number;
  /** refresh the hub's TUF metadata after pushing (default true) */
  refreshMetadata?: boolean;
  /** ask the hub for this workstation's rollout assignments and follow them (default true; src/sync/node/rollout.ts) */
  rollouts?: boolean | Pick<FollowOptions, 'smoke' | 'onProgress'>;
  timeoutMs?: number;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface SyncResult {
  hub: string;
  device: string;
  sent: number;
  bytes: number;
  requests: number;
  retries: number;
  deferred: { seq: number; reason: string }[];
  rejected: { seq: number; reason: string }[];
  metadata: { refreshed: boolean; error?: string };
  /** what this sync did about rollout assignments (checked: false when not asked, or the hub could not answer) */
  rollouts: RolloutSyncResult;
  waiting: OutboxSummary;
}

const defaultSleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  if (signal?.aborted) { reject(new OutpostError('cancelled', 'sync stopped')); return; }
  const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = () => { clearTimeout(t); reject(new OutpostError('cancelled', 'sync stopped')); };
  signal?.addEventListener('abort', onAbort, { once: true });
});

export function requireConnection(store: Store): HubConnection {
  const c = hubConnection(store);
  if (!c) throw new OutpostError('usage', 'this workstation is not connected to a hub: run `outpost connect --hub URL --root root.json --code CODE` first');
  return c;
}

/** Queue the device's state (a newer heartbeat replaces one still waiting). */
export function queueHeartbeat(store: Store, now = Date.now()): void {
  const s = outboxSummary(store);
  const rows = (store.db.prepare('SELECT coalesce(sum(rows_scored), 0) AS n FROM jobs').get() as { n: number }).n;
  const alerts = (store.db.prepare('SELECT count(*) AS n FROM drift_alerts WHERE cleared_at IS NULL').get() as { n: number }).n;
  const state = {
    outpostVersion: OUTPOST_VERSION, provider: getSettings(store).provider, rowsScored: rows,
    models: listModels(store).map((m) => ({ name: m.name, version: m.version, active: m.active, source: m.source })),
    waiting: s.waiting, waitingSince: s.oldest, openAlerts: alerts, at: now,
  };
  const body = zlib.deflateRawSync(Buffer.from(JSON.stringify(state), 'utf8'));
  store.db.transaction(() => {
    const r = store.db.prepare("UPDATE outbox SET payload = ?, size_bytes = ?, created_at = ? WHERE seq = (SELECT max(seq) FROM outbox WHERE kind = 'heartbeat' AND sent_at IS NULL)").run(body, body.length, now);
    if (r.changes === 0) store.db.prepare('INSERT INTO outbox (kind, priority, created_at, payload, size_bytes) VALUES (?, ?, ?, ?, ?)').run('heartbeat', ITEM_PRIORITY.heartbeat, now, body, body.length);
  })();
}

/** The wire form of an outbox item: prediction items load their log batches (sampled when asked). */
export function wireItem(store: Store, row: OutboxRow): WireItem | undefined {
  if (row.kind !== 'predictions' || !row.ref) return { seq: row.seq, kind: row.kind, createdAt: row.createdAt, payload: row.payload, blobs: [] };
  const p = row.payload as { model: string; version: number; sampleRate?: number };
  const batches = store.db.prepare('SELECT seq, first_row, row_count, logged_at, outputs, inputs FROM prediction_batches WHERE job_id = ? AND seq >= ? AND seq < ? ORDER BY seq')
    .all(row.ref.jobId, row.ref.from, row.ref.to) as { seq: number; first_row: number; row_count: number; logged_at: number; outputs: Buffer; inputs: Buffer | null }[];
  if (batches.length !== row.ref.to - row.ref.from) return undefined; // retention removed some: recorded as dropped by the caller
  const blobs: Uint8Array[] = [];
  const meta = batches.map((b) => {
    let outputs: Uint8Array = b.outputs;
    let inputs: Uint8Array | null = b.inputs;
    let rowCount = b.row_count;
    if (p.sampleRate !== undefined) ({ outputs, inputs, rowCount } = sampleBatch(b, p.sampleRate));
    blobs.push(outputs);
    if (inputs) blobs.push(inputs);
    return { seq: b.seq, firstRow: b.first_row, rowCount, loggedAt: b.logged_at, inputs: inputs !== null };
  });
  return { seq: row.seq, kind: 'predictions', createdAt: row.createdAt, payload: { jobId: row.ref.jobId, model: p.model, version: p.version, ...(p.sampleRate !== undefined ? { sampleRate: p.sampleRate } : {}), batches: meta }, blobs };
}

/** Keep the rows the deterministic sampler picks (the same rows on every sync), with explicit row numbers. */
function sampleBatch(b: { first_row: number; row_count: number; outputs: Buffer; inputs: Buffer | null }, rate: number): { outputs: Uint8Array; inputs: Uint8Array | null; rowCount: number } {
  const cols = unpackColumns(b.outputs);
  const rowCol = cols.find((c) => c.name === '#row');
  const rowAt = (i: number) => (rowCol ? Number(rowCol.values[i]) : b.first_row + i);
  const pick: number[] = [];
  for (let i = 0; i < b.row_count; i++) if (sampled(rowAt(i), rate)) pick.push(i);
  const take = (c: PackedColumn, idx: readonly number[]): PackedColumn => {
    switch (c.type) {
      case 'f32': return { name: c.name, type: 'f32', values: Float32Array.from(idx, (i) => c.values[i]) };
      case 'f64': return { name: c.name, type: 'f64', values: Float64Array.from(idx, (i) => c.values[i]) };
      case 'i32': return { name: c.name, type: 'i32', values: Int32Array.from(idx, (i) => c.values[i]) };
      case 'str': return { name: c.name, type: 'str', values: idx.map((i) => c.values[i]) };
    }
  };
  const outCols: PackedColumn[] = [{ name: '#row', type: 'i32', values: Int32Array.from(pick, rowAt) }, ...cols.filter((c) => c.name !== '#row').map((c) => take(c, pick))];
  let inputs: Uint8Array | null = null;
  if (b.inputs) {
    const ic = unpackColumns(b.inputs);
    const irow = ic.find((c) => c.name === '#row');
    const keep = new Set(pick.map(rowAt));
    const idx: number[] = [];
    const n = ic[0]?.values.length ?? 0;
    for (let k = 0; k < n; k++) if (keep.has(irow ? Number(irow.values[k]) : b.first_row + k)) idx.push(k);
    if (idx.length) inputs = packColumns([{ name: '#row', type: 'i32', values: Int32Array.from(idx, (k) => (irow ? Number(irow.values[k]) : b.first_row + k)) }, ...ic.filter((c) => c.name !== '#row').map((c) => take(c, idx))]);
  }
  return { outputs: packColumns(outCols), inputs, rowCount: pick.length };
}

/** Push everything waiting, then refresh the hub's metadata. */
export async function runSync(store: Store, opts: SyncOptions = {}): Promise<SyncResult> {
  const conn = requireConnection(store);
  prepareHubTrust(store.home, conn.url);
  try {
    const r = await push(store, conn, opts);
    recordSyncOutcome(store, { sent: r.sent });
    return r;
  } catch (e) {
    const err = e instanceof OutpostError ? e : new OutpostError('input', (e as Error).message);
    recordSyncOutcome(store, { error: { message: err.message, code: err instanceof SyncError ? err.reason : err.code } });
    throw err;
  }
}

async function push(store: Store, conn: HubConnection, opts: SyncOptions): Promise<SyncResult> {
  const key = deviceKey(store.home, false);
  const settings = getSettings(store);
  const bandwidth = opts.bandwidth ?? settings.syncBandwidthBytesPerSecond;
  const maxBytes = opts.maxBatchBytes ?? 4 * 1024 ** 2;
  const maxItems = opts.maxBatchItems ?? 1000;
  const attempts = opts.attempts ?? 6;
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? defaultSleep;
  const result: SyncResult = { hub: conn.url, device: conn.name, sent: 0, bytes: 0, requests: 0, retries: 0, deferred: [], rejected: [], metadata: { refreshed: false }, rollouts: { checked: false, handled: [], retry: [] }, waiting: outboxSummary(store) };
  queueHeartbeat(store);
  dropOrphanedPredictions(store);
  enforceOutboxQuota(store, settings.syncQuotaBytes);
  const started = performance.now();
  const drain = async (): Promise<void> => {
    let cursor: { priority: number; seq: number } | undefined;
    let limit = maxItems;
    for (;;) {
      if (opts.signal?.aborted) throw new OutpostError('cancelled', `sync stopped after ${result.sent} items; what was acknowledged is marked sent`);
      const candidates = unsentItems(store, limit, cursor);
      if (!candidates.length) break;
      const batch: WireItem[] = [];
      let raw = 0;
      let orphaned = false;
      for (const row of candidates) {
        const w = wireItem(store, row);
        if (!w) { orphaned = true; break; }
        const size = w.blobs.reduce((n, b) => n + b.length, 0) + row.sizeBytes;
        if (batch.length && raw + size > maxBytes) break;
        batch.push(w);
        raw += size;
      }
      if (orphaned && !batch.length) { dropOrphanedPredictions(store); continue; }
      const last = candidates[batch.length - 1];
      const body = zlib.gzipSync(encodeFrames(batch), { level: 6 });
      let res: IngestResponse;
      try {
        res = await send(conn, key, body, opts, attempts, random, sleep, result);
      } catch (e) {
        if (e instanceof SyncError && e.status === 413) {
          if (batch.length > 1) { limit = Math.max(1, Math.floor(batch.length / 2)); continue; }
          noteItemError(store, batch[0].seq, `larger than the hub accepts in one request (${body.length} bytes compressed)`);
          result.rejected.push({ seq: batch[0].seq, reason: 'too large for the hub' });
          cursor = { priority: last.priority, seq: last.seq };
          continue;
        }
        throw e;
      }
      limit = maxItems;
      store.db.transaction(() => {
        markSent(store, res.acked);
        for (const d of [...res.deferred, ...res.rejected]) noteItemError(store, d.seq, d.reason);
      })();
      result.sent += res.acked.length;
      result.deferred.push(...res.deferred);
      result.rejected.push(...res.rejected);
      result.bytes += body.length;
      cursor = { priority: last.priority, seq: last.seq };
      opts.onProgress?.({ sent: result.sent, waiting: outboxSummary(store).waiting, bytes: result.bytes, requests: result.requests });
      if (bandwidth > 0) {
        const due = (result.bytes / bandwidth) * 1000 - (performance.now() - started);
        if (due > 0) await sleep(due, opts.signal);
      }
    }
  };
  await drain();
  if (opts.refreshMetadata !== false) {
    try {
      const { refreshHubMetadata } = await import('./metadata.ts'); // tuf-js loads only when used
      await refreshHubMetadata(store, conn.url, opts.signal);
      result.metadata = { refreshed: true };
    } catch (e) {
      result.metadata = { refreshed: false, error: (e as Error).message };
    }
  }
  if (opts.rollouts !== false) {
    // after the push (so the hub has this device's latest state) and the metadata refresh
    try {
      const answer = await fetchAssignments(store, conn, { signal: opts.signal, timeoutMs: opts.timeoutMs });
      result.rollouts = await followAssignments(store, conn, answer, { signal: opts.signal, ...(typeof opts.rollouts === 'object' ? opts.rollouts : {}) });
    } catch (e) {
      if (e instanceof OutpostError && e.code === 'cancelled') throw e;
      result.rollouts = { checked: false, error: (e as Error).message, handled: [], retry: [] };
    }
    // what following them wrote (reports, installs, security events) goes up now, not next time
    if (result.rollouts.handled.length) {
      queueHeartbeat(store); // the models it runs now
      await drain();
    }
  }
  pruneSent(store, Date.now() - KEEP_SENT_MS);
  result.waiting = outboxSummary(store);
  return result;
}

/** One signed request, retried with backoff while the failure may pass. */
async function send(conn: HubConnection, key: ReturnType<typeof deviceKey>, body: Buffer, opts: SyncOptions, attempts: number, random: () => number, sleep: NonNullable<SyncOptions['sleep']>, result: SyncResult): Promise<IngestResponse> {
  for (let attempt = 0; ; attempt++) {
    let err: SyncError;
    try {
      result.requests++;
      // signed afresh each try: a new nonce and time (a retried request is not a replay)
      const res = await fetch(`${conn.url}${SYNC_PATH}`, {
        method: 'POST', body,
        headers: { 'content-type': SYNC_CONTENT_TYPE, ...signRequest(conn, key, 'POST', SYNC_PATH, body) },
        signal: AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? 120_000), ...(opts.signal ? [opts.signal] : [])]),
      });
      if (res.ok) {
        const parsed = await res.json() as IngestResponse;
        if (!Array.isArray(parsed.acked)) throw new SyncError(res.status, 'bad-response', 'the hub answered without acknowledging items', true);
        return parsed;
      }
      err = await hubFailure(res, 'sync');
    } catch (e) {
      if (opts.signal?.aborted) throw new OutpostError('cancelled', `sync stopped after ${result.sent} items; what was acknowledged is marked sent`);
      err = e instanceof SyncError ? e : networkFailure(conn.url, e);
    }
    if (!err.retryable || attempt + 1 >= attempts) throw err;
    const waitMs = backoffMs(attempt, random);
    result.retries++;
    opts.onRetry?.({ attempt: attempt + 1, waitMs, reason: err.message });
    await sleep(waitMs, opts.signal);
  }
}
