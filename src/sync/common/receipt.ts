// The import receipt (`outpost hub import F --receipt R` → `outpost sync ack R`): the hub's signed
// statement of which items of an exported outbox it now holds, so a workstation that never reaches
// the hub can mark them sent and prune its outbox. Pure: the format, the text that is signed, and
// the checks on the content; signing and verifying are in node code.
//
//   {"signed": "<JSON text of ReceiptBody>", "signatures": [{"keyid": "<hex>", "sig": "<hex>"}]}
//
// `signed` is kept as the exact text that was signed (no re-serialisation). The signature is over
// `outpost-import-receipt-v1\n` + that text, by the hub's online timestamp key as named in its TUF
// root — the device already trusts that root, and the prefix keeps a receipt signature from ever
// being a valid signature over TUF metadata (canonical JSON starts with "{") or the reverse.
import { z } from 'zod';

export const RECEIPT_FORMAT = 'outpost-import-receipt/1';
export const RECEIPT_DOMAIN = 'outpost-import-receipt-v1\n';

export const ReceiptBodySchema = z.object({
  format: z.literal(RECEIPT_FORMAT),
  /** the device id the items came from */
  device: z.string().regex(/^dev_[a-z0-9]{20}$/),
  /** sequence numbers the hub holds, as inclusive ranges [from, to] */
  acked: z.array(z.tuple([z.number().int().min(1), z.number().int().min(1)])).max(1_000_000),
  /** sha256 (hex) of the exported file this answers */
  file: z.string().regex(/^[0-9a-f]{64}$/),
  importedAt: z.string().max(40),
}).strict();
export type ReceiptBody = z.infer<typeof ReceiptBodySchema>;

export const ReceiptFileSchema = z.object({
  signed: z.string().max(64 * 1024 * 1024),
  signatures: z.array(z.object({ keyid: z.string().regex(/^[0-9a-f]{64}$/), sig: z.string().regex(/^[0-9a-f]{1,1024}$/) }).strict()).min(1).max(16),
}).strict();
export type ReceiptFile = z.infer<typeof ReceiptFileSchema>;

/** Sorted, merged inclusive ranges of a list of sequence numbers. */
export function toRanges(seqs: readonly number[]): [number, number][] {
  const s = [...new Set(seqs)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const n of s) {
    const last = out.at(-1);
    if (last && n === last[1] + 1) last[1] = n;
    else out.push([n, n]);
  }
  return out;
}

/** The sequence numbers of inclusive ranges (each range checked: from ≤ to, at most `max` numbers in all). */
export function fromRanges(ranges: readonly [number, number][], max = 10_000_000): number[] {
  const out: number[] = [];
  for (const [a, b] of ranges) {
    if (b < a) throw new Error(`range [${a}, ${b}] runs backwards`);
    if (out.length + (b - a + 1) > max) throw new Error(`more than ${max} items acknowledged`);
    for (let n = a; n <= b; n++) out.push(n);
  }
  return out;
}
