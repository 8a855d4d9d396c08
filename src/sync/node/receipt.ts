// `outpost sync ack R`: apply an import receipt (src/sync/common/receipt.ts) the hub signed after
// `hub import`, so a workstation that never reaches the hub marks the imported items sent and can
// prune them. The receipt must verify with the timestamp key(s) of the hub's root this workstation
// already trusts (threshold as the root says), and name this workstation; anything else is refused
// and nothing is marked. Applying a receipt twice changes nothing; sequence numbers are never
// reused, so an old receipt cannot acknowledge newer items.
import crypto from 'node:crypto';
import { OutpostError } from '../../common/errors.ts';
import { readTrustedState } from '../../registry/node/trust.ts';
import { markSent, outboxSummary, pruneSent, type OutboxSummary } from '../../store/node/outbox.ts';
import type { Store } from '../../store/node/store.ts';
import { fromRanges, RECEIPT_DOMAIN, ReceiptBodySchema, ReceiptFileSchema } from '../common/receipt.ts';
import { requireConnection } from './sync.ts';

export interface AckResult { hub: string; device: string; importedAt: string; acknowledged: number; marked: number; alreadySent: number; pruned: number; waiting: OutboxSummary }

/** Sent items are kept this long after a receipt (like after an online sync), then forgotten. */
const KEEP_SENT_MS = 7 * 86_400_000;

function publicKeyOf(key: { keyType: string; keyVal: Record<string, string> }): crypto.KeyObject {
  const pub = key.keyVal.public;
  if (key.keyType === 'ed25519') return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pub, 'hex').toString('base64url') }, format: 'jwk' });
  return crypto.createPublicKey(pub);
}

export function applyReceipt(store: Store, text: string, file = '(receipt)', now = Date.now()): AckResult {
  const conn = requireConnection(store);
  const refuse = (why: string) => new OutpostError('input', `${why}; nothing was marked sent`, { file });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw refuse(`not an import receipt (not JSON: ${(e as Error).message})`);
  }
  const f = ReceiptFileSchema.safeParse(raw);
  if (!f.success) throw refuse(`not an import receipt (${f.error.issues[0].path.join('.') || '(root)'}: ${f.error.issues[0].message})`);
  const { root } = readTrustedState(store.home, conn.url);
  const role = root.signed.roles.timestamp;
  const data = Buffer.from(RECEIPT_DOMAIN + f.data.signed, 'utf8');
  const good = new Set<string>();
  for (const s of f.data.signatures) {
    if (!role?.keyIDs.includes(s.keyid)) continue;
    const key = root.signed.keys[s.keyid];
    if (!key) continue;
    let ok = false;
    try {
      const pub = publicKeyOf(key as unknown as { keyType: string; keyVal: Record<string, string> });
      ok = crypto.verify(key.keyType === 'ed25519' ? null : 'sha256', data, pub, Buffer.from(s.sig, 'hex'));
    } catch {
      ok = false;
    }
    if (ok) good.add(s.keyid);
  }
  if (good.size < (role?.threshold ?? 1)) {
    throw refuse(`the receipt is not signed by ${conn.url}'s timestamp key as its root (v${root.signed.version}) names it (${good.size} of ${role?.threshold ?? 1} valid signatures): made by another hub, modified, or signed after a key rotation this workstation has not seen (install a bundle from the hub first)`);
  }
  const b = ReceiptBodySchema.safeParse((() => { try { return JSON.parse(f.data.signed) as unknown; } catch { return undefined; } })());
  if (!b.success) throw refuse(`the signed receipt is malformed (${b.error.issues[0].path.join('.') || '(root)'}: ${b.error.issues[0].message})`);
  if (b.data.device !== conn.deviceId) throw refuse(`the receipt is for device ${b.data.device}, not this workstation (${conn.deviceId}, "${conn.name}")`);
  let seqs: number[];
  try {
    seqs = fromRanges(b.data.acked);
  } catch (e) {
    throw refuse(`the receipt's item ranges are malformed: ${(e as Error).message}`);
  }
  const written = (store.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number } | undefined)?.seq ?? 0;
  const beyond = seqs.filter((n) => n > written);
  if (beyond.length) throw refuse(`the receipt acknowledges item ${beyond[0]}, which this workstation never wrote (it has written ${written})`);
  const result = store.db.transaction(() => {
    const unsent = (store.db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND seq IN (SELECT value FROM json_each(?))').get(JSON.stringify(seqs)) as { n: number }).n;
    markSent(store, seqs, now);
    return unsent;
  })();
  const pruned = pruneSent(store, now - KEEP_SENT_MS);
  return { hub: conn.url, device: conn.name, importedAt: b.data.importedAt, acknowledged: seqs.length, marked: result, alreadySent: seqs.length - result, pruned, waiting: outboxSummary(store) };
}
