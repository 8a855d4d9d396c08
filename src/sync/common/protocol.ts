// The sync wire protocol shared by devices and the hub (docs/SYNC-PROTOCOL.md). Pure.
//
// A sync request carries outbox items as frames: `OPS1`, then per item a u32 (LE) header length,
// the header JSON ({seq, kind, createdAt, payload, blobs: [byte lengths]}) and the blobs' bytes
// (packed prediction columns travel as they are stored, never re-encoded). The whole body is
// gzip-compressed on the wire and signed (signature.ts).

/** Item kinds a device sends; the hub has one handler per kind (src/hub/node/ingest.ts). */
export const ITEM_KINDS = ['security', 'alert', 'sync-dropped', 'model', 'job', 'drift', 'heartbeat', 'predictions', 'rollout'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];
export const isItemKind = (k: string): k is ItemKind => (ITEM_KINDS as readonly string[]).includes(k);

/** Send order: lower first (security events before everything else), then by sequence number. */
export const ITEM_PRIORITY: Readonly<Record<ItemKind, number>> = {
  security: 0, alert: 1, 'sync-dropped': 1, model: 2, job: 3, drift: 3, heartbeat: 4, predictions: 5, rollout: 2,
};

/**
 * Kinds the outbox quota may drop, in the order it drops them. Never security events or alerts, and
 * never model events: the hub files a device's drift statistics under the card its install event
 * names, so a dropped install would hold that model's statistics back for good.
 */
export const DROPPABLE_KINDS: readonly ItemKind[] = ['predictions', 'heartbeat', 'drift', 'job'];

export interface WireItem {
  seq: number;
  kind: string;
  /** epoch ms when the device wrote the item */
  createdAt: number;
  payload: unknown;
  blobs: Uint8Array[];
}

const MAGIC = [0x4f, 0x50, 0x53, 0x31]; // "OPS1"
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function encodeFrames(items: readonly WireItem[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from(MAGIC)];
  for (const it of items) {
    const header = enc.encode(JSON.stringify({ seq: it.seq, kind: it.kind, createdAt: it.createdAt, payload: it.payload, blobs: it.blobs.map((b) => b.length) }));
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, header.length, true);
    parts.push(len, header, ...it.blobs);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export class FrameError extends Error {}

/** Decode a (decompressed) body; throws FrameError naming what is wrong. */
export function decodeFrames(body: Uint8Array, maxItems = 10_000): WireItem[] {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw new FrameError('the body is not an Outpost sync batch (no OPS1 header)');
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const items: WireItem[] = [];
  let o = 4;
  while (o < body.length) {
    if (items.length >= maxItems) throw new FrameError(`more than ${maxItems} items in one request`);
    if (o + 4 > body.length) throw new FrameError(`item ${items.length + 1}: truncated header length`);
    const hlen = dv.getUint32(o, true);
    o += 4;
    if (o + hlen > body.length) throw new FrameError(`item ${items.length + 1}: header runs past the end of the body`);
    let h: { seq?: unknown; kind?: unknown; createdAt?: unknown; payload?: unknown; blobs?: unknown };
    try {
      h = JSON.parse(dec.decode(body.subarray(o, o + hlen))) as typeof h;
    } catch (e) {
      throw new FrameError(`item ${items.length + 1}: header is not JSON (${(e as Error).message})`);
    }
    o += hlen;
    if (!h || typeof h !== 'object') throw new FrameError(`item ${items.length + 1}: header is not an object`);
    if (!Number.isSafeInteger(h.seq) || (h.seq as number) < 1) throw new FrameError(`item ${items.length + 1}: "seq" must be a positive integer`);
    if (typeof h.kind !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(h.kind)) throw new FrameError(`item seq ${String(h.seq)}: "kind" must be a short lower-case name`);
    if (!Number.isSafeInteger(h.createdAt)) throw new FrameError(`item seq ${String(h.seq)}: "createdAt" must be epoch milliseconds`);
    if (!Array.isArray(h.blobs) || h.blobs.length > 8192 || !h.blobs.every((n) => Number.isSafeInteger(n) && n >= 0)) throw new FrameError(`item seq ${String(h.seq)}: "blobs" must list up to 8192 byte lengths`);
    const blobs: Uint8Array[] = [];
    for (const n of h.blobs as number[]) {
      if (o + n > body.length) throw new FrameError(`item seq ${String(h.seq)}: blob runs past the end of the body`);
      blobs.push(body.subarray(o, o + n));
      o += n;
    }
    items.push({ seq: h.seq as number, kind: h.kind, createdAt: h.createdAt as number, payload: h.payload, blobs });
  }
  return items;
}

/** What the hub answers to a sync request: the sequence numbers it now holds, and those it did not take. */
export interface IngestResponse {
  ok: true;
  /** items stored by this request or already held (duplicates): the device marks these sent */
  acked: number[];
  /** items the hub could not take now (e.g. drift statistics of a model card it has not seen yet); sent again later */
  deferred: { seq: number; reason: string }[];
  /** items the hub will never take (unknown kind, invalid payload): kept on the device, reported */
  rejected: { seq: number; reason: string }[];
}

/** Exponential backoff with full jitter (AWS architecture blog): a random delay in [0, min(cap, base·2^attempt)). */
export function backoffMs(attempt: number, random: () => number, baseMs = 500, capMs = 60_000): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30)));
}
