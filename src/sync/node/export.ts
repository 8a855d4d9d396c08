// `outpost sync export --out F`: everything waiting in the outbox, in the batches an online sync
// would send, each signed by the device key, written to one file for `outpost hub import`. Nothing
// is marked sent: the items stay waiting until an online sync is acknowledged (the hub's ledger then
// acknowledges what it already imported without applying it again), so a lost file loses nothing.
// The file ends with an end record signed by the device key (src/sync/common/outbox-file.ts): the
// number, order and digests of the batches and the item count, so the hub refuses a file cut
// anywhere or not exactly as written. An export always holds the device's heartbeat (queued here).
import fs from 'node:fs';
import zlib from 'node:zlib';
import { dropOrphanedPredictions, enforceOutboxQuota, unsentItems } from '../../store/node/outbox.ts';
import { getSettings, type Store } from '../../store/node/store.ts';
import { OutpostError } from '../../common/errors.ts';
import { writeFileAtomic } from '../../io/node/output-file.ts';
import { encodeFrames, type WireItem } from '../common/protocol.ts';
import { encodeBatchHeader, encodeEndRecord, encodeManifest, EXPORT_END_PATH, EXPORT_METHOD, EXPORT_PATH, OUTBOX_FORMAT, OUTBOX_MAGIC } from '../common/outbox-file.ts';
import { SIG_HEADERS } from '../common/signature.ts';
import { deviceKey, signRequest } from './device.ts';
import { queueHeartbeat, requireConnection, wireItem } from './sync.ts';

const signedHeader = (h: Record<string, string>) =>
  ({ device: h[SIG_HEADERS.device], time: Number(h[SIG_HEADERS.time]), nonce: h[SIG_HEADERS.nonce], digest: h[SIG_HEADERS.digest], signature: h[SIG_HEADERS.signature] });

export interface ExportResult { file: string; hub: string; device: string; items: number; batches: number; bytes: number; firstSeq: number | null; lastSeq: number | null }

/** `out` must already be checked (`checkOutputFile`): it is written whole through a temp file beside it, or not at all. */
export function exportOutbox(store: Store, out: string, opts: { maxBatchBytes?: number; now?: number } = {}): ExportResult {
  const conn = requireConnection(store);
  const key = deviceKey(store.home, false);
  const maxBytes = opts.maxBatchBytes ?? 4 * 1024 ** 2;
  queueHeartbeat(store);
  dropOrphanedPredictions(store);
  enforceOutboxQuota(store, getSettings(store).syncQuotaBytes);
  const r: ExportResult = { file: out, hub: conn.url, device: conn.name, items: 0, batches: 0, bytes: 0, firstSeq: null, lastSeq: null };
  writeFileAtomic(out, (fd) => {
    fs.writeSync(fd, OUTBOX_MAGIC);
    let cursor: { priority: number; seq: number } | undefined;
    const digests: string[] = []; // each batch's, for the end record
    for (;;) {
      const rows = unsentItems(store, 1000, cursor);
      if (!rows.length) break;
      const batch: WireItem[] = [];
      let raw = 0;
      for (const row of rows) {
        const w = wireItem(store, row);
        if (!w) { cursor = { priority: row.priority, seq: row.seq }; continue; } // retention removed its batches: recorded as dropped by the next sync
        const size = w.blobs.reduce((n, b) => n + b.length, 0) + row.sizeBytes;
        if (batch.length && raw + size > maxBytes) break;
        batch.push(w);
        raw += size;
        cursor = { priority: row.priority, seq: row.seq };
      }
      if (!batch.length) continue;
      const body = zlib.gzipSync(encodeFrames(batch), { level: 6 });
      const h = signRequest(conn, key, EXPORT_METHOD, EXPORT_PATH, body, opts.now);
      fs.writeSync(fd, encodeBatchHeader(signedHeader(h), body.length));
      fs.writeSync(fd, body);
      r.items += batch.length;
      r.batches++;
      digests.push(h[SIG_HEADERS.digest]);
      for (const w of batch) {
        r.firstSeq = r.firstSeq === null ? w.seq : Math.min(r.firstSeq, w.seq);
        r.lastSeq = r.lastSeq === null ? w.seq : Math.max(r.lastSeq, w.seq);
      }
    }
    // cannot happen (the heartbeat queued above is always there), but an export must never be empty
    if (!r.batches) throw new OutpostError('not-found', 'nothing to export: the outbox holds no item');
    const manifest = encodeManifest({ format: OUTBOX_FORMAT, device: conn.deviceId, batches: r.batches, items: r.items, digests });
    fs.writeSync(fd, encodeEndRecord(signedHeader(signRequest(conn, key, EXPORT_METHOD, EXPORT_END_PATH, manifest, opts.now)), manifest));
    r.bytes = fs.fstatSync(fd).size;
  }, 0o600);
  return r;
}
