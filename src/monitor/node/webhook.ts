// The drift-alert webhook (setting `driftWebhookUrl`): when a checkpoint of a scoring job (or a commit
// of a record session) opens drift alerts, ONE JSON message lists them all — the job's, the hour
// window's and the day window's (one job in a fresh hour used to send three messages naming the
// same features; receivers such as chat channels saw the same drift three times). Each new alert is
// posted once (an alert that stays open is not posted again; one that clears and re-opens is new).
// The message is written to `webhook_deliveries` in the transaction that opens the alerts, then
// delivered in the background on its own store connection: scoring never waits for it. A failed
// attempt (network error, timeout, non-2xx answer) is retried with exponential backoff, up to
// MAX_ATTEMPTS; then the row is marked failed with the last error. Each message carries its id in
// `X-Outpost-Delivery` (the same on every retry), so a receiver can drop a duplicate after a lost answer.
import { stringifyDrift, type DriftReport, type FeatureDrift } from '../../drift/common/index.ts';
import fs from 'node:fs';
import path from 'node:path';
import type { AlertScope } from './alerts.ts';
import { DB_FILE, getSettings, openStore, type Store } from '../../store/node/store.ts';

/** Delay before retry n (1-based): 5 s, 30 s, 2 min, 10 min, 30 min, 2 h. */
export const BACKOFF_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000, 7_200_000];
export const MAX_ATTEMPTS = BACKOFF_MS.length + 1;
/** How long one attempt may take (connect, send, answer). */
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** An attempt in flight holds its row this long (so another process does not send it at the same time). */
const LEASE_MS = 60_000;

export interface AlertMessage {
  event: 'drift.alerts.opened';
  model: string;
  version: number;
  /** the scoring job (or record session) whose checkpoint opened the alerts */
  job: string;
  /** ISO time of the evaluation */
  at: string;
  /** the features with a newly opened alert in any scope, sorted */
  features: string[];
  /** every newly opened alert: job, hour window, day window (scopeKey: job id or window start) */
  alerts: { scope: AlertScope; scopeKey: string; feature: string; method: string; statistic: number | null; score: number | null; threshold: number; nReference: number; nCurrent: number; severity: number | null }[];
  /** the dataset-level verdict (and prediction drift) of each evaluation that opened alerts */
  evaluations: { scope: AlertScope; scopeKey: string; dataset: DriftReport['dataset']; prediction: DriftReport['prediction'] }[];
}

/** One evaluation of a checkpoint: its scope, report and the alerts it opened. */
export interface OpenedAlerts { scope: AlertScope; scopeKey: string; report: DriftReport; opened: readonly FeatureDrift[] }

/**
 * Queue one message for the alerts a checkpoint opened, in every scope it evaluated (call inside the
 * transaction that opens them); false when nothing was opened or the webhook is off.
 */
export function enqueueAlertWebhook(store: Store, msg: { model: string; version: number; job: string; at: string }, evaluations: readonly OpenedAlerts[], now: number): boolean {
  const opening = evaluations.filter((e) => e.opened.length > 0);
  if (opening.length === 0) return false;
  const url = getSettings(store).driftWebhookUrl;
  if (url === '') return false;
  const alerts = opening.flatMap((e) => e.opened.map((f) => ({
    scope: e.scope, scopeKey: e.scopeKey, feature: f.feature, method: f.method, statistic: f.statistic, score: f.score,
    threshold: f.threshold, nReference: f.nReference, nCurrent: f.nCurrent, severity: f.severity,
  })));
  const body: AlertMessage = {
    event: 'drift.alerts.opened', ...msg,
    features: [...new Set(alerts.map((a) => a.feature))].sort(),
    alerts,
    evaluations: opening.map((e) => ({ scope: e.scope, scopeKey: e.scopeKey, dataset: e.report.dataset, prediction: e.report.prediction })),
  };
  store.db.prepare('INSERT INTO webhook_deliveries (url, payload, created_at, next_at) VALUES (?, ?, ?, ?)').run(url, stringifyDrift(body), now, now);
  scheduleDrain(store.home, 0);
  return true;
}

export interface DeliveryOptions {
  /** the clock (tests: jump past the backoff) */
  now?: () => number;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface DeliveryResult { delivered: number; retrying: number; failed: number }

interface Row { id: number; url: string; payload: string; attempts: number; next_at: number }

/**
 * Deliver every message that is due now (one attempt each), on a store connection of its own.
 * Returns what happened; rows still pending keep their next attempt time.
 */
export async function deliverDueWebhooks(home: string, opts: DeliveryOptions = {}): Promise<DeliveryResult> {
  const now = opts.now ?? Date.now;
  const doFetch = opts.fetch ?? fetch;
  const result: DeliveryResult = { delivered: 0, retrying: 0, failed: 0 };
  if (!fs.existsSync(path.join(home, DB_FILE))) return result; // the data folder is gone: nothing to send
  const store = openStore(home);
  try {
    const due = store.db.prepare('SELECT id, url, payload, attempts, next_at FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= ? ORDER BY id LIMIT 50').all(now()) as Row[];
    const claim = store.db.prepare('UPDATE webhook_deliveries SET next_at = ? WHERE id = ? AND next_at = ? AND delivered_at IS NULL AND failed_at IS NULL');
    await Promise.all(due.map(async (row) => {
      // a lease: another process draining at the same time skips this row
      if (claim.run(now() + LEASE_MS, row.id, row.next_at).changes !== 1) return;
      let error: string | null = null;
      try {
        const res = await doFetch(row.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'outpost-drift-webhook', 'x-outpost-delivery': String(row.id) },
          body: row.payload,
          redirect: 'error',
          signal: AbortSignal.timeout(opts.timeoutMs ?? ATTEMPT_TIMEOUT_MS),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) error = `HTTP ${res.status}`;
      } catch (e) {
        const err = e as Error & { cause?: { code?: string; message?: string } };
        error = err.name === 'TimeoutError' ? `no answer within ${(opts.timeoutMs ?? ATTEMPT_TIMEOUT_MS) / 1000} s` : `${err.message}${err.cause?.code ? ` (${err.cause.code})` : ''}`;
      }
      if (!store.db.open) return;
      const attempts = row.attempts + 1;
      if (error === null) {
        store.db.prepare('UPDATE webhook_deliveries SET attempts = ?, delivered_at = ?, last_error = NULL WHERE id = ?').run(attempts, now(), row.id);
        result.delivered++;
      } else if (attempts >= MAX_ATTEMPTS) {
        store.db.prepare('UPDATE webhook_deliveries SET attempts = ?, failed_at = ?, last_error = ? WHERE id = ?').run(attempts, now(), error, row.id);
        result.failed++;
      } else {
        store.db.prepare('UPDATE webhook_deliveries SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?').run(attempts, now() + BACKOFF_MS[attempts - 1], error, row.id);
        result.retrying++;
      }
    }));
    return result;
  } finally {
    store.close();
  }
}

/** When the next pending message is due (epoch ms), or null when none is pending. */
export function nextWebhookDue(store: Store): number | null {
  const r = store.db.prepare('SELECT MIN(next_at) AS t FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL').get() as { t: number | null };
  return r.t;
}

export interface WebhookDelivery { id: number; url: string; payload: unknown; attempts: number; createdAt: number; nextAt: number; deliveredAt: number | null; failedAt: number | null; lastError: string | null }

export function listWebhookDeliveries(store: Store): WebhookDelivery[] {
  return (store.db.prepare('SELECT * FROM webhook_deliveries ORDER BY id').all() as { id: number; url: string; payload: string; attempts: number; created_at: number; next_at: number; delivered_at: number | null; failed_at: number | null; last_error: string | null }[])
    .map((r) => ({ id: r.id, url: r.url, payload: JSON.parse(r.payload) as unknown, attempts: r.attempts, createdAt: r.created_at, nextAt: r.next_at, deliveredAt: r.delivered_at, failedAt: r.failed_at, lastError: r.last_error }));
}

// Background draining, per data folder: one drain at a time; after it, a timer for the next retry.
// Timers are unref'd: a CLI run exits when its work is done (an attempt in flight finishes first;
// later retries happen in the next Outpost process that scores or serves).
const draining = new Map<string, { running: boolean; again: boolean; timer?: NodeJS.Timeout }>();

function scheduleDrain(home: string, delayMs: number): void {
  let st = draining.get(home);
  if (!st) draining.set(home, (st = { running: false, again: false }));
  if (st.timer) clearTimeout(st.timer);
  st.timer = setTimeout(() => { st.timer = undefined; void drain(home); }, Math.max(0, delayMs));
  // the first attempt after scoring is not unref'd: it is what a one-shot CLI run is waiting to send
  if (delayMs > 0) st.timer.unref();
}

async function drain(home: string): Promise<void> {
  const st = draining.get(home)!;
  if (st.running) { st.again = true; return; }
  st.running = true;
  try {
    do {
      st.again = false;
      await deliverDueWebhooks(home);
    } while (st.again);
    if (!fs.existsSync(path.join(home, DB_FILE))) return;
    const store = openStore(home);
    let next: number | null;
    try { next = nextWebhookDue(store); } finally { store.close(); }
    if (next !== null) scheduleDrain(home, next - Date.now());
  } catch {
    // the data folder went away or the database is busy: the rows stay, a later run retries
  } finally {
    st.running = false;
  }
}

/** Start delivering what is pending in this data folder (hosts call it at start: serve, the app). */
export function resumeWebhookDelivery(home: string): void {
  scheduleDrain(home, 0);
}
