// An exported outbox (`outpost sync export` → `outpost hub import`), for workstations that never
// reach the hub. It carries the same batches an online sync sends — gzip of the OPS1 frames
// (protocol.ts) — each with the same five signature components as a signed request, signed by the
// device key over method `EXPORT` and path `/outbox-export` (so a batch from a file is never a valid
// online request, nor the reverse). Pure.
//
//   "OUTPOST-OUTBOX/2\n"
//   per batch:  u32 LE header length (1 … 64 KiB), header JSON {device, time, nonce, digest, signature, bytes}, `bytes` body bytes
//   end record: u32 LE 0 (the end mark: a batch header is never empty),
//               u32 LE header length, header JSON {device, time, nonce, digest, signature, bytes}, `bytes` bytes of the manifest
//   manifest:   JSON {format: "outpost-outbox/2", device, batches, items, digests: [each batch's content digest, in order]}
//   and nothing after it.
//
// The file is self-delimiting: it is complete exactly when it ends right after a whole end record, so
// a cut anywhere (inside the first line, right after it, between batches, inside a batch, inside the
// end record) and any byte after the end record are refused by the decoder, naming where the file
// ends. The end record is signed by the device key like a batch, over path `/outbox-export/end`
// (never a batch, never an online request), so it is the device's own statement of what it wrote:
// the number of batches, their order and their digests (each batch's signed header binds its body
// to that digest) and the item count. A batch dropped, added, repeated, reordered or taken from
// another export is refused, not just a cut file — "the file is exactly what the device exported"
// is checked, not assumed. (Dropping batches would lose no data — the export marks nothing sent and
// a receipt acknowledges only what the hub imported — but the operator would be told a partial
// import was the whole.) An export is never empty: it always carries the device's heartbeat, so a
// file with no batch is refused too.
//
// OUTPOST-OUTBOX/1 (no end record) is still decoded, for workstations on an older release: a cut
// inside a batch and a file with no batch are refused, but a cut between two batches cannot be
// seen, so `version: 1` is returned for the hub to say so (the items a cut removed stay queued on
// the workstation and travel in its next export).
import { FrameError } from './protocol.ts';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export const OUTBOX_MAGIC = enc.encode('OUTPOST-OUTBOX/2\n');
export const OUTBOX_MAGIC_V1 = enc.encode('OUTPOST-OUTBOX/1\n');
export const OUTBOX_FORMAT = 'outpost-outbox/2';
export const EXPORT_METHOD = 'EXPORT';
export const EXPORT_PATH = '/outbox-export';
/** the path the end record is signed over */
export const EXPORT_END_PATH = '/outbox-export/end';

/** A signed part of the file (a batch, or the end record with the manifest as its body). */
export interface ExportedBatch { device: string; time: number; nonce: string; digest: string; signature: string; body: Uint8Array }
export interface OutboxManifest { format: typeof OUTBOX_FORMAT; device: string; batches: number; items: number; digests: string[] }
export interface ExportEnd extends ExportedBatch { manifest: OutboxManifest }
export interface DecodedOutbox {
  version: 1 | 2;
  batches: ExportedBatch[];
  /** the signed end record (version 2; null for version 1, which has none) */
  end: ExportEnd | null;
}

const MAX_HEADER = 64 * 1024;
const MAX_MANIFEST = 64 * 1024 ** 2;

export function encodeBatchHeader(b: Omit<ExportedBatch, 'body'>, bytes: number): Uint8Array {
  const h = enc.encode(JSON.stringify({ device: b.device, time: b.time, nonce: b.nonce, digest: b.digest, signature: b.signature, bytes }));
  const out = new Uint8Array(4 + h.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 4);
  return out;
}

/** The manifest's bytes: what the end record's signature covers (through its digest). */
export const encodeManifest = (m: OutboxManifest): Uint8Array =>
  enc.encode(JSON.stringify({ format: m.format, device: m.device, batches: m.batches, items: m.items, digests: m.digests }));

/** The end record: the end mark, then the signed header and the manifest bytes it signs. */
export function encodeEndRecord(h: Omit<ExportedBatch, 'body'>, manifest: Uint8Array): Uint8Array {
  const header = encodeBatchHeader(h, manifest.length);
  const out = new Uint8Array(4 + header.length + manifest.length);
  out.set(header, 4); // bytes 0-3 stay 0: the end mark
  out.set(manifest, 4 + header.length);
  return out;
}

const startsWith = (file: Uint8Array, magic: Uint8Array) => file.length >= magic.length && magic.every((b, i) => file[i] === b);

/**
 * Decode a whole exported outbox; throws FrameError saying what is wrong and where (truncated — with
 * the byte where the file ends and what it ended in —, bytes after the end, not JSON, batches that do
 * not match the end record). Signatures and body digests are the hub's to check (against the enrolled key).
 */
export function decodeOutboxFile(file: Uint8Array): DecodedOutbox {
  const size = file.length;
  let version: 1 | 2;
  if (startsWith(file, OUTBOX_MAGIC)) version = 2;
  else if (startsWith(file, OUTBOX_MAGIC_V1)) version = 1;
  else {
    if (size === 0) throw new FrameError('truncated: the file is empty (0 bytes)');
    if (size < OUTBOX_MAGIC.length && [OUTBOX_MAGIC, OUTBOX_MAGIC_V1].some((m) => file.every((b, i) => m[i] === b))) {
      throw new FrameError(`truncated: the file ends at byte ${size}, inside its first line`);
    }
    const line = /^OUTPOST-OUTBOX\/(\d{1,6})\n/.exec(String.fromCharCode(...file.subarray(0, 24)));
    if (line) throw new FrameError(`written by a newer Outpost (format OUTPOST-OUTBOX/${line[1]}; this hub reads /1 and /2): import it with a hub of that release or later`);
    throw new FrameError('not an exported Outpost outbox (no OUTPOST-OUTBOX/2 header)');
  }
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const batches: ExportedBatch[] = [];
  let o = OUTBOX_MAGIC.length;
  const after = () => (batches.length ? `after batch ${batches.length}` : 'right after its first line');
  /** one signed part at `o` (its header length already read); `what` names it in messages */
  const part = (what: string, hlen: number, maxBody: number): ExportedBatch => {
    if (hlen > MAX_HEADER) throw new FrameError(`${what}: damaged (its header length is ${hlen} bytes, at most ${MAX_HEADER})`);
    if (o + hlen > size) throw new FrameError(`${what} is truncated: the file ends at byte ${size}, inside its header (${size - o} of its ${hlen} bytes)`);
    let h: Partial<Omit<ExportedBatch, 'body'> & { bytes: number }>;
    try {
      h = JSON.parse(dec.decode(file.subarray(o, o + hlen))) as typeof h;
    } catch (e) {
      throw new FrameError(`${what}: header is not JSON (${(e as Error).message})`);
    }
    o += hlen;
    if (typeof h?.device !== 'string' || !Number.isSafeInteger(h.time) || typeof h.nonce !== 'string' || typeof h.digest !== 'string' || typeof h.signature !== 'string' || !Number.isSafeInteger(h.bytes) || h.bytes! < 0) {
      throw new FrameError(`${what}: header lacks device, time, nonce, digest, signature or bytes`);
    }
    if (h.bytes! > maxBody) throw new FrameError(`${what}: damaged (${h.bytes} bytes, at most ${maxBody})`);
    if (o + h.bytes! > size) throw new FrameError(`${what} is truncated: the file ends at byte ${size}, ${size - o} of its ${h.bytes} bytes in`);
    const body = file.subarray(o, o + h.bytes!);
    o += h.bytes!;
    return { device: h.device, time: h.time!, nonce: h.nonce, digest: h.digest, signature: h.signature, body };
  };

  if (version === 1) {
    while (o < size) {
      const what = `batch ${batches.length + 1}`;
      if (o + 4 > size) throw new FrameError(`${what} is truncated: the file ends at byte ${size}, inside its header length`);
      const hlen = dv.getUint32(o, true);
      o += 4;
      batches.push(part(what, hlen, Number.MAX_SAFE_INTEGER));
    }
    // every export holds the device's heartbeat, so a file without a batch was cut
    if (!batches.length) throw new FrameError(`truncated: the file ends at byte ${size}, right after its first line (an export holds at least one batch)`);
    return { version, batches, end: null };
  }

  for (;;) {
    const what = `batch ${batches.length + 1} or the end record`;
    if (o === size) throw new FrameError(`truncated: the file ends at byte ${size}, ${after()}, before its end record`);
    if (o + 4 > size) throw new FrameError(`truncated: the file ends at byte ${size}, ${after()}, inside the length of ${what}`);
    const hlen = dv.getUint32(o, true);
    o += 4;
    if (hlen === 0) break;
    batches.push(part(`batch ${batches.length + 1}`, hlen, Number.MAX_SAFE_INTEGER));
  }
  if (o + 4 > size) throw new FrameError(`the end record is truncated: the file ends at byte ${size}, inside its header length`);
  const hlen = dv.getUint32(o, true);
  o += 4;
  const endPart = part('the end record', hlen, MAX_MANIFEST);
  if (o !== size) throw new FrameError(`${size - o} byte${size - o === 1 ? '' : 's'} after the end record (byte ${o} on): not a file as Outpost writes it (appended to, or two files joined)`);
  let m: Partial<OutboxManifest>;
  try {
    m = JSON.parse(dec.decode(endPart.body)) as typeof m;
  } catch (e) {
    throw new FrameError(`the end record's manifest is not JSON (${(e as Error).message})`);
  }
  if (m?.format !== OUTBOX_FORMAT || typeof m.device !== 'string' || !Number.isSafeInteger(m.batches) || !Number.isSafeInteger(m.items) || !Array.isArray(m.digests) || !m.digests.every((d) => typeof d === 'string')) {
    throw new FrameError(`the end record's manifest lacks format "${OUTBOX_FORMAT}", device, batches, items or digests`);
  }
  const manifest = m as OutboxManifest;
  if (manifest.device !== endPart.device) throw new FrameError('the end record is damaged (its manifest names another device than its signature)');
  if (manifest.batches !== batches.length || manifest.digests.length !== batches.length) {
    throw new FrameError(`the end record lists ${manifest.batches} batches, the file holds ${batches.length}: batches were removed or added`);
  }
  if (!batches.length) throw new FrameError('the file holds no batch (an export always carries at least the workstation\'s heartbeat)');
  for (const [i, b] of batches.entries()) {
    if (b.device !== manifest.device) throw new FrameError(`batch ${i + 1} is from another device than the end record`);
    if (b.digest !== manifest.digests[i]) throw new FrameError(`batch ${i + 1} is not the batch the end record lists there: batches were reordered, replaced or modified`);
  }
  return { version, batches, end: { ...endPart, manifest } };
}
