// `outpost hub import F`: ingest an outbox a workstation exported (`outpost sync export`) with the
// same rules as an online sync: each batch's device signature is checked against the enrolled key
// (a revoked or unknown device, a modified body or a forged signature refuse the whole file before
// anything is stored), then each batch is applied in one transaction through the same `ingestItems`
// and its ledger (device, seq): an item imported twice, or imported and synced online, counts once.
// The request time is not checked (the file was signed when it was exported); the daily upload
// quota does not apply (the operator imports it). The file's shape is checked first (a cut anywhere
// is refused, naming where the file ends), then its signed end record (OUTPOST-OUTBOX/2: which
// batches, in which order, how many items), so a file that is not exactly what the device wrote is
// refused whole. An OUTPOST-OUTBOX/1 file (an older workstation) has no end record: it is imported
// with a note that a cut between batches cannot be seen (what such a cut removed stays queued on the
// workstation, and a receipt acknowledges only what was imported).
import zlib from 'node:zlib';
import { OutpostError } from '../../common/errors.ts';
import { decodeFrames, FrameError, type WireItem } from '../../sync/common/protocol.ts';
import { decodeOutboxFile, EXPORT_END_PATH, EXPORT_METHOD, EXPORT_PATH, type DecodedOutbox, type ExportedBatch } from '../../sync/common/outbox-file.ts';
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
  /** the file's format: 2 is checked whole (signed end record); 1 (an older workstation) cannot show a cut between batches */
  format: 1 | 2;
  /** what the operator should know about this import (an OUTPOST-OUTBOX/1 file), or null */
  note: string | null;
}

export const V1_NOTE = 'this file is in the older format OUTPOST-OUTBOX/1 (an Outpost release before this one), which has no end record: '
  + 'a cut between two batches cannot be told from a complete file, so the hub may not hold everything the workstation exported. '
  + 'Nothing is lost — items missing from the file stay queued on the workstation (the receipt acknowledges only what was imported) '
  + 'and travel in its next export; export with a newer Outpost to have the file checked whole';

const MAX_INFLATE = 256 * 1024 ** 2;

export async function importOutbox(hub: Hub, file: string, bytes: Uint8Array, now = Date.now()): Promise<ImportResult> {
  let d: DecodedOutbox;
  try {
    d = decodeOutboxFile(bytes);
  } catch (e) {
    if (e instanceof FrameError) throw new OutpostError('input', `${e.message}; nothing was imported`, { file });
    throw e;
  }
  const verify = async (what: string, path: string, b: ExportedBatch): Promise<DeviceRow> => {
    const headers = { [SIG_HEADERS.device]: b.device, [SIG_HEADERS.time]: String(b.time), [SIG_HEADERS.nonce]: b.nonce, [SIG_HEADERS.digest]: b.digest, [SIG_HEADERS.signature]: b.signature };
    try {
      return (await verifySignedRequest(hub, { method: EXPORT_METHOD, path, headers, body: Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength) }, now, { anyTime: true })).device;
    } catch (e) {
      if (e instanceof AuthError) throw new OutpostError(e.status === 403 ? 'conflict' : 'input', `${what} refused (${e.reason}): ${e.message}; nothing was imported`, { file });
      throw e;
    }
  };
  // the end record first: the device's signed statement of what the file holds
  const endDevice = d.end ? await verify('the end record', EXPORT_END_PATH, d.end) : undefined;
  // every batch verified and decoded before anything is stored
  const ready: { device: DeviceRow; items: WireItem[]; bytes: number }[] = [];
  for (const [i, b] of d.batches.entries()) {
    const device = await verify(`batch ${i + 1}`, EXPORT_PATH, b);
    const first = endDevice ?? ready[0]?.device;
    if (first && device.id !== first.id) throw new OutpostError('input', `batch ${i + 1} is from another device than ${endDevice ? 'the end record' : 'batch 1'}; nothing was imported`, { file });
    let items: WireItem[];
    try {
      items = decodeFrames(zlib.gunzipSync(b.body, { maxOutputLength: Math.min(MAX_INFLATE, Math.max(1024 * 1024, b.body.length * 200)) }));
    } catch (e) {
      throw new OutpostError('input', `batch ${i + 1}: ${(e as Error).message}; nothing was imported`, { file });
    }
    ready.push({ device, items, bytes: b.body.length });
  }
  const held = ready.reduce((n, r) => n + r.items.length, 0);
  if (d.end && held !== d.end.manifest.items) throw new OutpostError('input', `the end record lists ${d.end.manifest.items} items, the batches hold ${held}; nothing was imported`, { file });
  const device = ready[0].device; // decodeOutboxFile refuses a file without a batch
  const out: ImportResult = { device: device.name, deviceId: device.id, acked: [], batches: ready.length, items: 0, applied: 0, duplicates: 0, deferred: [], rejected: [], format: d.version, note: d.version === 1 ? V1_NOTE : null };
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
