// `outpost sync export --out F`: everything waiting in the outbox, in the batches an online sync
// would send, each signed by the device key, written to one file for `outpost hub import`. Nothing
// is marked sent: the items stay waiting until an online sync is acknowledged (the hub's ledger then
// acknowledges what it already imported without applying it again), so a lost file loses nothing.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { dropOrphanedPredictions, enforceOutboxQuota, unsentItems } from '../../store/node/outbox.ts';
import { getSettings, type Store } from '../../store/node/store.ts';
import { writeFileAtomic } from '../../io/node/output-file.ts';
import { encodeFrames, type WireItem } from '../common/protocol.ts';
import { encodeBatchHeader, EXPORT_METHOD, EXPORT_PATH, OUTBOX_MAGIC } from '../common/outbox-file.ts';
import { SIG_HEADERS } from '../common/signature.ts';
import { deviceKey, signRequest } from './device.ts';
import { queueHeartbeat, requireConnection, wireItem } from './sync.ts';

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
      const header = encodeBatchHeader({ device: conn.deviceId, time: Number(h[SIG_HEADERS.time]), nonce: h[SIG_HEADERS.nonce], digest: h[SIG_HEADERS.digest], signature: h[SIG_HEADERS.signature] }, body.length);
      fs.writeSync(fd, header);
      fs.writeSync(fd, body);
      r.items += batch.length;
      r.batches++;
      for (const w of batch) {
        r.firstSeq = r.firstSeq === null ? w.seq : Math.min(r.firstSeq, w.seq);
        r.lastSeq = r.lastSeq === null ? w.seq : Math.max(r.lastSeq, w.seq);
      }
    }
    r.bytes = fs.fstatSync(fd).size;
  }, 0o600);
  return r;
}
