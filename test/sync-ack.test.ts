// The way back for air-gapped workstations (issue 9): `hub import F --receipt R` signs which items
// of an exported outbox the hub now holds (with its online timestamp key), and `outpost sync ack R`
// on the workstation verifies the receipt against the hub root it trusts and marks exactly those
// items sent, so a workstation that never reaches the hub can prune its outbox. Real hub (SQLite,
// loopback only for enrollment), real workstation that scored the demo sample.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { signImportReceipt } from '../src/hub/node/import-receipt.ts';
import { recordSecurityEvent } from '../src/store/node/models.ts';
import { outboxSummary } from '../src/store/node/outbox.ts';
import { runMain } from './helpers/cli.ts';
import { startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { enrollWorkstation, SAMPLE, score, type Workstation } from './helpers/sync-fleet.ts';

let t: TestHub;
let dir: string;
let ws: Workstation;
let other: Workstation;
let receipt: string;
let exportedItems: number;

const cli = (home: string, args: string[]) => runMain(['--home', home, '--json', ...args]);
const last = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
const unsent = (w: Workstation) => (w.store.db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL').get() as { n: number }).n;

before(async () => {
  t = await startTestHub();
  dir = tmpDir('outpost-sync-ack-');
  ws = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'ws-air');
  other = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'ws-other');
  await score(ws, SAMPLE, { batchRows: 100 });
  const exported = path.join(dir, 'outbox.outpost-sync');
  const r = await cli(ws.home, ['sync', 'export', '--out', exported]);
  assert.equal(r.code, 0, r.err);
  exportedItems = Number(last(r.out).items);
  receipt = path.join(dir, 'receipt.json');
  const imp = await cli(dir, ['hub', 'import', exported, '--dir', t.dir, '--receipt', receipt]);
  assert.equal(imp.code, 0, imp.err);
  assert.equal(last(imp.out).acknowledged, exportedItems);
  // written after the export: not in the file, so the receipt must not acknowledge it
  recordSecurityEvent(ws.store, 'after-export', null, 'happened after the file was written');
});
after(async () => { ws.store.close(); other.store.close(); await t.close(); fs.rmSync(dir, { recursive: true, force: true }); });

/** A copy of the receipt with its signed text or signatures changed. */
function variant(name: string, change: (r: { signed: string; signatures: { keyid: string; sig: string }[] }) => unknown): string {
  const r = JSON.parse(fs.readFileSync(receipt, 'utf8')) as { signed: string; signatures: { keyid: string; sig: string }[] };
  const f = path.join(dir, name);
  fs.writeFileSync(f, JSON.stringify(change(r)));
  return f;
}

test('forged, modified, foreign and malformed receipts are refused; nothing is marked sent', async () => {
  const before = unsent(ws);
  assert.equal(before, exportedItems + 1, 'everything exported is still waiting, plus the later event');
  const key = crypto.generateKeyPairSync('ed25519');
  const cases: [string, string, RegExp][] = [
    ['widened', variant('widened.json', (r) => ({ ...r, signed: r.signed.replace(/"acked":\[\[1,\d+\]/, '"acked":[[1,999]') })), /not signed by .*timestamp key/],
    ['forged', variant('forged.json', (r) => ({ ...r, signatures: [{ keyid: r.signatures[0].keyid, sig: crypto.sign(null, Buffer.from(`outpost-import-receipt-v1\n${r.signed}`), key.privateKey).toString('hex') }] })), /0 of 1 valid signatures/],
    ['unsigned', variant('unsigned.json', (r) => ({ ...r, signatures: [] })), /not an import receipt \(signatures/],
  ];
  fs.writeFileSync(path.join(dir, 'garbage.json'), '{"signed": ');
  cases.push(['not JSON', path.join(dir, 'garbage.json'), /not an import receipt \(not JSON/]);
  assert.notEqual(fs.readFileSync(cases[0][1], 'utf8'), JSON.stringify(JSON.parse(fs.readFileSync(receipt, 'utf8'))), 'the widened copy differs');
  for (const [what, file, why] of cases) {
    const r = await cli(ws.home, ['sync', 'ack', file]);
    assert.equal(r.code, 1, `${what}: ${r.out}${r.err}`);
    assert.match(r.err, why, what);
    assert.match(r.err, /nothing was marked sent/, what);
  }
  // a genuine receipt, but for another workstation
  const foreign = await cli(other.home, ['sync', 'ack', receipt]);
  assert.equal(foreign.code, 1);
  assert.match(foreign.err, /the receipt is for device dev_\w+, not this workstation/);
  assert.equal(unsent(ws), before);
});

test('the hub\'s receipt marks exactly the imported items sent; applying it again changes nothing', async () => {
  const r = await cli(ws.home, ['sync', 'ack', receipt]);
  assert.equal(r.code, 0, r.err);
  const j = last(r.out);
  assert.equal(j.acknowledged, exportedItems);
  assert.equal(j.marked, exportedItems);
  assert.equal(unsent(ws), 1, 'only the event written after the export still waits');
  assert.equal(outboxSummary(ws.store).waiting, 1);
  const again = await cli(ws.home, ['sync', 'ack', receipt]);
  assert.equal(again.code, 0, again.err);
  assert.deepEqual([last(again.out).marked, last(again.out).alreadySent], [0, exportedItems]);
  assert.equal(unsent(ws), 1);
});

test('a receipt from another hub (another root) is refused, even naming this device', async () => {
  const t2 = await startTestHub();
  try {
    const deviceId = (JSON.parse((ws.store.db.prepare("SELECT value FROM settings WHERE key = 'sync.hub'").get() as { value: string }).value) as { deviceId: string }).deviceId;
    const fake = await signImportReceipt(t2.hub, { deviceId, acked: [1, 2, 3], fileSha256: '0'.repeat(64) });
    const f = path.join(dir, 'other-hub.json');
    fs.writeFileSync(f, JSON.stringify(fake));
    const r = await cli(ws.home, ['sync', 'ack', f]);
    assert.equal(r.code, 1);
    assert.match(r.err, /not signed by .*timestamp key/);
  } finally {
    await t2.close();
  }
});
