// `outpost hub import F`: ingest an outbox a workstation exported (`outpost sync export`) with the
// same rules as an online sync: each batch's device signature is checked against the enrolled key
// (a revoked or unknown device, a modified body or a forged signature refuse the whole file before
// anything is stored), then each batch is applied in one transaction through the same `ingestItems`
// and its ledger (device, seq): an item imported twice, or imported and synced online, counts once.
// The request time is not checked (the file was signed when it was exported); the daily upload
// quota does not apply (the operator imports it).
import zlib from 'node:zlib';
import { OutpostError } from '../../common/errors.ts';
import { decodeFrames, FrameError, type WireItem } from '../../sync/common/protocol.ts';
import { decodeOutboxFile, EXPORT_METHOD, EXPORT_PATH } from '../../sync/common/outbox-file.ts';
import { SIG_HEADERS } from '../../sync/common/signature.ts';
import { AuthError, type DeviceRow } from './devices.ts';
import { ingestItems } from './ingest.ts';
import type { Hub } from './repository.ts';
import { verifySignedRequest } from './sync-auth.ts';

export interface ImportResult {
  device: string;
  deviceId: string;
  /** every item the hub now holds from this file (applied or already held): what a receipt acknowledges */
  acked: number[];
  batches: number;
  items: number;
  /** items stored by this import */
  applied: number;
  /** items the hub already held (an earlier import or an online sync) */
  duplicates: number;
  deferred: { seq: number; reason: string }[];
  rejected: { seq: number; reason: string }[];
}

const MAX_INFLATE = 256 * 1024 ** 2;

export async function importOutbox(hub: Hub, file: string, bytes: Uint8Array, now = Date.now()): Promise<ImportResult> {
  let batches;
  try {
    batches = decodeOutboxFile(bytes);
  } catch (e) {
    if (e instanceof FrameError) throw new OutpostError('input', `${e.message}; nothing was imported`, { file });
    throw e;
  }
  // every batch verified and decoded before anything is stored
  const ready: { device: DeviceRow; items: WireItem[]; bytes: number }[] = [];
  for (const [i, b] of batches.entries()) {
    const headers = { [SIG_HEADERS.device]: b.device, [SIG_HEADERS.time]: String(b.time), [SIG_HEADERS.nonce]: b.nonce, [SIG_HEADERS.digest]: b.digest, [SIG_HEADERS.signature]: b.signature };
    let v;
    try {
      v = await verifySignedRequest(hub, { method: EXPORT_METHOD, path: EXPORT_PATH, headers, body: Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength) }, now, { anyTime: true });
    } catch (e) {
      if (e instanceof AuthError) throw new OutpostError(e.status === 403 ? 'conflict' : 'input', `batch ${i + 1} refused (${e.reason}): ${e.message}; nothing was imported`, { file });
      throw e;
    }
    if (ready.length && v.device.id !== ready[0].device.id) throw new OutpostError('input', `batch ${i + 1} is from another device than batch 1; nothing was imported`, { file });
    let items: WireItem[];
    try {
      items = decodeFrames(zlib.gunzipSync(b.body, { maxOutputLength: Math.min(MAX_INFLATE, Math.max(1024 * 1024, b.body.length * 200)) }));
    } catch (e) {
      throw new OutpostError('input', `batch ${i + 1}: ${(e as Error).message}; nothing was imported`, { file });
    }
    ready.push({ device: v.device, items, bytes: b.body.length });
  }
  const out: ImportResult = { device: ready[0]?.device.name ?? '', deviceId: ready[0]?.device.id ?? '', acked: [], batches: ready.length, items: 0, applied: 0, duplicates: 0, deferred: [], rejected: [] };
  for (const r of ready) {
    const res = await hub.storage.fleetTransaction(r.device.id, async (sql) => {
      const count = async () => Number((await sql.all<{ n: number }>('SELECT count(*) AS n FROM fleet_items WHERE device_id = ?', [r.device.id]))[0].n);
      const before = await count();
      const ing = await ingestItems(hub, sql, r.device, r.items, r.bytes, { maxBytesPerDay: Number.POSITIVE_INFINITY }, now, 'import');
      return { ing, applied: (await count()) - before };
    });
    out.items += r.items.length;
    out.applied += res.applied;
    out.duplicates += res.ing.acked.length - res.applied;
    out.acked.push(...res.ing.acked);
    out.deferred.push(...res.ing.deferred);
    out.rejected.push(...res.ing.rejected);
  }
  return out;
}
