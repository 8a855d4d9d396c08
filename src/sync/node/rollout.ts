// Staged rollout on the workstation: after a sync pushes its outbox, the device asks its hub (a
// signed request) which rollouts apply to it and follows them per the `rolloutPolicy` setting —
// `auto`: pull the named alias (or version) through the normal verified pull and activate it;
// `ask`: record "update available" for the app's Home and `outpost updates`, install only when asked.
//
// An assignment only names what to run: `pull()` decides, with TUF, what gets installed, so a hub
// (or anyone between) cannot make the device install bytes its signatures do not cover. The outcome
// (installed, failed with the pull stage that refused and why, available) is written to the outbox
// in the same transaction as the assignment's final state here, so it reaches the hub exactly once.
import { OutpostError } from '../../common/errors.ts';
import { PullRefused, PullUnavailable } from '../../registry/node/errors.ts';
import { listModels, recordSecurityEvent, setActive } from '../../store/node/models.ts';
import { enqueue } from '../../store/node/outbox.ts';
import { getSettings, type Store } from '../../store/node/store.ts';
import type { HubConnection } from '../../store/node/sync-state.ts';
import { assignmentRef, parseAssignments, type Assignment } from '../common/assignments.ts';
import type { RolloutItem } from '../common/items.ts';
import { deviceKey, signRequest } from './device.ts';
import { hubFailure, networkFailure } from './http.ts';

export const ASSIGNMENTS_PATH = '/api/v1/sync/assignments';

export type AssignmentState = 'pending' | 'available' | 'installed' | 'failed' | 'withdrawn';

/** An assignment as this workstation holds it (`outpost updates`, the app's Home). */
export interface AssignmentRecord {
  rollout: string;
  generation: number;
  model: string;
  action: 'install' | 'activate';
  ref: string;
  state: AssignmentState;
  version: number | null;
  previousVersion: number | null;
  stage: string | null;
  reason: string | null;
  receivedAt: string;
  updatedAt: string;
}

/** What one sync did about rollouts. */
export interface RolloutSyncResult {
  checked: boolean;
  error?: string;
  /** assignments acted on (or newly offered) by this sync */
  handled: AssignmentRecord[];
  /** assignments left for a later sync (the hub or its files could not be reached) */
  retry: { ref: string; reason: string }[];
}

export interface FollowOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** run the pull's smoke inference (default true; tests of earlier stages may skip it) */
  smoke?: boolean;
  /** the pull's progress */
  onProgress?: (e: { stage: string; ref: string }) => void;
}

interface Row { rollout: string; generation: number; model: string; action: 'install' | 'activate'; ref: string; state: AssignmentState; version: number | null; previous_version: number | null; stage: string | null; reason: string | null; received_at: number; updated_at: number }

const toRecord = (r: Row): AssignmentRecord => ({
  rollout: r.rollout, generation: r.generation, model: r.model, action: r.action, ref: r.ref, state: r.state, version: r.version, previousVersion: r.previous_version,
  stage: r.stage, reason: r.reason, receivedAt: new Date(r.received_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString(),
});

const rowOf = (store: Store, rollout: string, generation: number): Row | undefined =>
  store.db.prepare('SELECT * FROM rollout_assignments WHERE rollout = ? AND generation = ?').get(rollout, generation) as Row | undefined;

/** Assignments this workstation holds, newest first (all, or those in some states). */
export function listAssignments(store: Store, states?: readonly AssignmentState[]): AssignmentRecord[] {
  const rows = store.db.prepare('SELECT * FROM rollout_assignments ORDER BY received_at DESC, rollout').all() as Row[];
  return rows.filter((r) => !states || states.includes(r.state)).map(toRecord);
}

/** The signed request for this device's assignments; the hub's answer as JSON (not yet validated). */
export async function fetchAssignments(store: Store, conn: HubConnection, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<unknown> {
  const key = deviceKey(store.home, false);
  let res: Response;
  try {
    res = await fetch(`${conn.url}${ASSIGNMENTS_PATH}`, {
      method: 'GET',
      headers: signRequest(conn, key, 'GET', ASSIGNMENTS_PATH, new Uint8Array(0)),
      signal: AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? 60_000), ...(opts.signal ? [opts.signal] : [])]),
    });
  } catch (e) {
    if (opts.signal?.aborted) throw new OutpostError('cancelled', 'sync stopped');
    throw networkFailure(conn.url, e);
  }
  if (!res.ok) throw await hubFailure(res, 'asking for rollout assignments');
  try {
    return await res.json();
  } catch {
    throw new OutpostError('input', `${conn.url}${ASSIGNMENTS_PATH} did not answer JSON`);
  }
}

/** Final state + its report to the hub, in one transaction (the report goes up once). */
function settle(store: Store, a: { rollout: string; generation: number; model: string; ref: string }, s: { state: 'installed' | 'failed' | 'available'; version: number | null; previousVersion: number | null; stage: string | null; reason: string | null }, now = Date.now()): void {
  store.db.transaction(() => {
    store.db.prepare('UPDATE rollout_assignments SET state = ?, version = ?, previous_version = ?, stage = ?, reason = ?, updated_at = ? WHERE rollout = ? AND generation = ?')
      .run(s.state, s.version, s.previousVersion, s.stage, s.reason, now, a.rollout, a.generation);
    const report: RolloutItem = {
      rollout: a.rollout, generation: a.generation, outcome: s.state, model: a.model, ref: a.ref, version: s.version, previousVersion: s.previousVersion,
      stage: s.stage, reason: s.reason === null ? null : s.reason.slice(0, 5000), at: now,
    };
    enqueue(store, 'rollout', report);
  })();
}

function remember(store: Store, a: Assignment, now = Date.now()): Row {
  store.db.prepare(`INSERT INTO rollout_assignments (rollout, generation, model, action, ref, state, received_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)
    ON CONFLICT (rollout, generation) DO NOTHING`).run(a.rollout, a.generation, a.model, a.action, assignmentRef(a), now, now);
  return rowOf(store, a.rollout, a.generation)!;
}

const activeVersion = (store: Store, name: string): number | null => listModels(store).find((m) => m.name === name && m.active)?.version ?? null;

/**
 * Pull and activate what an assignment names, through the verified pull. Returns the outcome, or
 * `retry` when the hub could not be reached (nothing is reported; the next sync tries again).
 */
export async function applyAssignment(store: Store, conn: HubConnection, a: Pick<Row, 'rollout' | 'generation' | 'model' | 'action' | 'ref'>, opts: FollowOptions = {}): Promise<AssignmentRecord | { retry: string }> {
  const { pull } = await import('../../registry/node/pull.ts'); // tuf-js and ONNX checks load only when used
  const previous = activeVersion(store, a.model);
  try {
    const r = await pull({
      home: store.home, hubUrl: conn.url, ref: a.ref, store, signal: opts.signal, smoke: opts.smoke,
      onProgress: (e) => opts.onProgress?.({ stage: e.stage, ref: a.ref }),
    });
    if (a.action === 'activate' || !r.model.active) setActive(store, a.model, r.model.version, `rollout ${a.rollout}${a.action === 'activate' ? ' (rollback)' : ''}`);
    settle(store, a, { state: 'installed', version: r.model.version, previousVersion: previous, stage: null, reason: null });
  } catch (e) {
    if (e instanceof PullUnavailable) return { retry: e.message };
    if (e instanceof OutpostError && e.code === 'cancelled') throw e;
    const stage = e instanceof PullRefused ? e.stage
      : e instanceof OutpostError && (e.code === 'not-found' || e.code === 'conflict' || e.code === 'usage') ? 'resolve'
        : 'install';
    settle(store, a, { state: 'failed', version: null, previousVersion: previous, stage, reason: (e as Error).message });
  }
  return toRecord(rowOf(store, a.rollout, a.generation)!);
}

/**
 * Act on the hub's answer: validate every assignment, refuse malformed ones (reported, with the
 * reason), follow new ones per policy, and withdraw offers the hub no longer makes.
 */
export async function followAssignments(store: Store, conn: HubConnection, body: unknown, opts: FollowOptions = {}): Promise<RolloutSyncResult> {
  const policy = getSettings(store).rolloutPolicy;
  const { ok, refused } = parseAssignments(body);
  const result: RolloutSyncResult = { checked: true, handled: [], retry: [] };
  const now = Date.now();
  for (const bad of refused) {
    recordSecurityEvent(store, 'rollout-refused', bad.model ?? null, `${conn.url}: ${bad.reason}`);
    if (!bad.rollout || !bad.generation) continue; // nothing to report it against
    const known = rowOf(store, bad.rollout, bad.generation);
    if (known) continue;
    store.db.prepare(`INSERT INTO rollout_assignments (rollout, generation, model, action, ref, state, received_at, updated_at) VALUES (?, ?, ?, 'install', ?, 'pending', ?, ?)`)
      .run(bad.rollout, bad.generation, bad.model ?? '?', '(malformed)', now, now);
    settle(store, { rollout: bad.rollout, generation: bad.generation, model: bad.model ?? '(unknown)', ref: '(malformed)' }, { state: 'failed', version: null, previousVersion: null, stage: 'assignment', reason: bad.reason });
    result.handled.push(toRecord(rowOf(store, bad.rollout, bad.generation)!));
  }
  // offers the hub no longer makes (halted, rolled back, superseded) are withdrawn
  const live = new Set(ok.map((a) => `${a.rollout}#${a.generation}`));
  for (const r of store.db.prepare("SELECT * FROM rollout_assignments WHERE state IN ('pending', 'available')").all() as Row[]) {
    if (!live.has(`${r.rollout}#${r.generation}`)) store.db.prepare("UPDATE rollout_assignments SET state = 'withdrawn', updated_at = ? WHERE rollout = ? AND generation = ?").run(now, r.rollout, r.generation);
  }
  for (const a of ok) {
    const row = remember(store, a, now);
    if (row.state === 'installed' || row.state === 'failed' || row.state === 'withdrawn') continue; // done and reported
    if (policy === 'ask') {
      if (row.state === 'pending') {
        settle(store, row, { state: 'available', version: null, previousVersion: activeVersion(store, a.model), stage: null, reason: null });
        result.handled.push(toRecord(rowOf(store, a.rollout, a.generation)!));
      }
      continue;
    }
    const out = await applyAssignment(store, conn, row, opts);
    if ('retry' in out) result.retry.push({ ref: row.ref, reason: out.retry });
    else result.handled.push(out);
  }
  return result;
}

/**
 * `outpost updates install` / the app's Install button: act on an offered assignment now (policy
 * `ask`), through the same verified pull. Its report goes up with the next sync.
 */
export async function installOffered(store: Store, conn: HubConnection, rollout: string, opts: FollowOptions = {}): Promise<AssignmentRecord> {
  const rows = (store.db.prepare("SELECT * FROM rollout_assignments WHERE rollout = ? ORDER BY generation DESC").all(rollout) as Row[]);
  const row = rows[0];
  if (!row) throw new OutpostError('not-found', `no rollout "${rollout}" was offered to this workstation (see \`outpost updates\`)`);
  if (row.state !== 'available' && row.state !== 'pending') {
    throw new OutpostError('conflict', `rollout ${rollout} is ${row.state}${row.state === 'withdrawn' ? ' (the hub operator halted or moved it)' : ''}; nothing to install`);
  }
  const out = await applyAssignment(store, conn, row, opts);
  if ('retry' in out) throw new OutpostError('input', `the hub could not be reached: ${out.retry}; try again later`);
  return out;
}
