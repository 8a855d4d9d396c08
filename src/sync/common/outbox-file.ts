// An exported outbox (`outpost sync export` → `outpost hub import`), for workstations that never
// reach the hub. It carries the same batches an online sync sends — gzip of the OPS1 frames
// (protocol.ts) — each with the same five signature components as a signed request, signed by the
// device key over method `EXPORT` and path `/outbox-export` (so a batch from a file is never a valid
// online request, nor the reverse). Pure.
//
//   "OUTPOST-OUTBOX/1\n"
//   per batch: u32 LE header length, header JSON {device, time, nonce, digest, signature, bytes}, `bytes` body bytes
import { FrameError } from './protocol.ts';

export const OUTBOX_MAGIC = new TextEncoder().encode('OUTPOST-OUTBOX/1\n');
export const EXPORT_METHOD = 'EXPORT';
export const EXPORT_PATH = '/outbox-export';

export interface ExportedBatch { device: string; time: number; nonce: string; digest: string; signature: string; body: Uint8Array }

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function encodeBatchHeader(b: Omit<ExportedBatch, 'body'>, bytes: number): Uint8Array {
  const h = enc.encode(JSON.stringify({ device: b.device, time: b.time, nonce: b.nonce, digest: b.digest, signature: b.signature, bytes }));
  const out = new Uint8Array(4 + h.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 4);
  return out;
}

/** Decode a whole exported outbox; throws FrameError naming the batch and what is wrong (truncated, not JSON). */
export function decodeOutboxFile(file: Uint8Array): ExportedBatch[] {
  if (file.length < OUTBOX_MAGIC.length || OUTBOX_MAGIC.some((b, i) => file[i] !== b)) throw new FrameError('not an exported Outpost outbox (no OUTPOST-OUTBOX/1 header)');
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: ExportedBatch[] = [];
  let o = OUTBOX_MAGIC.length;
  while (o < file.length) {
    const n = out.length + 1;
    if (o + 4 > file.length) throw new FrameError(`batch ${n}: truncated (the file ends inside its header length)`);
    const hlen = dv.getUint32(o, true);
    o += 4;
    if (hlen > 64 * 1024 || o + hlen > file.length) throw new FrameError(`batch ${n}: truncated or damaged (its header runs past the end of the file)`);
    let h: Partial<Omit<ExportedBatch, 'body'> & { bytes: number }>;
    try {
      h = JSON.parse(dec.decode(file.subarray(o, o + hlen))) as typeof h;
    } catch (e) {
      throw new FrameError(`batch ${n}: header is not JSON (${(e as Error).message})`);
    }
    o += hlen;
    if (typeof h?.device !== 'string' || !Number.isSafeInteger(h.time) || typeof h.nonce !== 'string' || typeof h.digest !== 'string' || typeof h.signature !== 'string' || !Number.isSafeInteger(h.bytes) || h.bytes! < 0) {
      throw new FrameError(`batch ${n}: header lacks device, time, nonce, digest, signature or bytes`);
    }
    if (o + h.bytes! > file.length) throw new FrameError(`batch ${n}: truncated (${file.length - o} of its ${h.bytes} bytes are in the file)`);
    out.push({ device: h.device, time: h.time!, nonce: h.nonce, digest: h.digest, signature: h.signature, body: file.subarray(o, o + h.bytes!) });
    o += h.bytes!;
  }
  return out;
}
