// The shapes of the hub's fleet views, shared by the queries (src/hub/node), the admin API, the CLI
// and the hub console (renderer/, type imports). Pure: types only.
import type { Health } from './fleet-health.ts';

/** The heartbeat a device last sent (state at that time). */
export interface DeviceState {
  outpostVersion?: string;
  provider?: string | null;
  models?: { name: string; version: number; active: boolean; source?: string }[];
  rowsScored?: number;
  waiting?: number;
  waitingSince?: number | null;
  openAlerts?: number;
  at?: number;
}

export interface DeviceView {
  id: string;
  name: string;
  group: string;
  enrolledAt: string;
  revokedAt: string | null;
  lastSeenAt: string | null;
  outpostVersion: string | null;
  /** items ingested from this device, and the highest sequence number seen */
  items: number;
  maxSeq: number;
  /** rows scored by jobs the hub has summaries of */
  rowsScored: number;
  openAlerts: number;
  state: DeviceState | null;
  /** from the last heartbeat: the model versions active, the execution provider; backlog: the items it
   *  had waiting then that have not reached the hub since (null: no heartbeat yet) */
  active: { name: string; version: number }[];
  provider: string | null;
  backlog: number | null;
  health: Health;
}


export interface FleetEvent { device: string; group: string; seq: number; kind: string; at: string; model: string | null; summary: string; detail: unknown }

export interface FleetJob {
  id: string; model: string; version: number; status: string; rowsRead: number; rowsScored: number; rowsRejected: number;
  input: string | null; provider: string | null; error: string | null; createdAt: string | null; finishedAt: string | null;
}
/** One sync request (or imported bundle) as the hub's ledger recorded it: when, how, what it carried. */
export interface SyncRecord { at: string; via: string; items: number; bytes: number; firstSeq: number; lastSeq: number; kinds: Record<string, number> }
export interface DeviceDetail { device: DeviceView; jobs: FleetJob[]; events: FleetEvent[]; syncs: SyncRecord[] }

