// The hub side of the import receipt (src/sync/common/receipt.ts): after `hub import`, sign which
// items of the file the hub now holds with the online timestamp key the current root names.
import crypto from 'node:crypto';
import { RECEIPT_DOMAIN, RECEIPT_FORMAT, toRanges, type ReceiptBody, type ReceiptFile } from '../../sync/common/receipt.ts';
import type { Hub } from './repository.ts';
import { parseRoot } from './tuf-metadata.ts';
import { OutpostError } from '../../common/errors.ts';

export async function signImportReceipt(hub: Hub, r: { deviceId: string; acked: readonly number[]; fileSha256: string }, now = new Date()): Promise<ReceiptFile> {
  const rootRow = await hub.storage.latestMetadata('root');
  if (!rootRow) throw new OutpostError('store', 'the hub has no root metadata');
  const key = hub.keys.for(parseRoot(rootRow.body), 'timestamp');
  const body: ReceiptBody = { format: RECEIPT_FORMAT, device: r.deviceId, acked: toRanges(r.acked), file: r.fileSha256, importedAt: now.toISOString() };
  const signed = JSON.stringify(body);
  const data = Buffer.from(RECEIPT_DOMAIN + signed, 'utf8');
  const sig = key.type === 'ed25519' ? crypto.sign(null, data, key.privateKey) : crypto.sign('sha256', data, key.privateKey);
  return { signed, signatures: [{ keyid: key.keyId, sig: sig.toString('hex') }] };
}
