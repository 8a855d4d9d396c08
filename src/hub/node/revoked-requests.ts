// A signed request from a revoked device (its key still signs, but the hub refused it) is a
// security event on the hub's Events screen and in `outpost hub events --kind security`. A revoked
// device keeps retrying on its sync schedule, so the repeats are counted on one row per device and
// UTC hour instead of a row each: the table grows by at most 24 rows a day per revoked device.
import type { DeviceRow } from './devices.ts';
import type { Hub } from './repository.ts';

export const REVOKED_REQUEST_KIND = 'security-revoked-device-request';
const HOUR_MS = 3_600_000;
/**
 * Hub-written events take negative seqs (a device's own items are 1, 2, …); proposals use
 * -(0 … 2^32). These rows use -(2^40 + the UTC hour's number): one per device and hour, apart from both.
 */
const SEQ_BASE = 2 ** 40;

export interface RevokedRequestDetail { method: string; path: string; attempts: number; first: string; last: string }

/** Count a refused request of a revoked device on its row for this hour (made by the first one). */
export async function recordRevokedRequest(hub: Hub, device: DeviceRow, req: { method: string; path: string }, now = Date.now()): Promise<void> {
  const seq = -(SEQ_BASE + Math.floor(now / HOUR_MS));
  const path = req.path.split('?')[0].slice(0, 200);
  // the device's own row lock (PostgreSQL) / the one writer (SQLite): concurrent retries each count
  await hub.storage.fleetTransaction(device.id, async (sql) => {
    const [row] = await sql.all<{ detail: string }>('SELECT detail FROM fleet_events WHERE device_id = ? AND seq = ?', [device.id, seq]);
    const before = row ? JSON.parse(row.detail) as RevokedRequestDetail : undefined;
    const detail: RevokedRequestDetail = { method: req.method, path, attempts: (before?.attempts ?? 0) + 1, first: before?.first ?? new Date(now).toISOString(), last: new Date(now).toISOString() };
    const summary = `refused ${detail.attempts === 1 ? 'a signed request' : `${detail.attempts} signed requests`} from revoked device ${device.name} (last: ${detail.method} ${detail.path}) since ${detail.first}`;
    if (row) {
      await sql.run('UPDATE fleet_events SET at = ?, summary = ?, detail = ? WHERE device_id = ? AND seq = ?', [now, summary, JSON.stringify(detail), device.id, seq]);
    } else {
      await sql.run('INSERT INTO fleet_events (device_id, seq, kind, at, model, summary, detail) VALUES (?, ?, ?, ?, ?, ?, ?)', [device.id, seq, REVOKED_REQUEST_KIND, now, null, summary, JSON.stringify(detail)]);
    }
  });
}
