// Air-gapped fleet sync (issue 9): `outpost sync export` writes the outbox as signed batches, `outpost
// hub import` ingests them with the online sync's exactly-once ledger. A real hub (loopback, SQLite)
// and a real workstation that scored the demo sample.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { recordSecurityEvent } from '../src/store/node/models.ts';
import { outboxSummary } from '../src/store/node/outbox.ts';
import { decodeOutboxFile, encodeBatchHeader, encodeEndRecord, OUTBOX_MAGIC, type ExportedBatch } from '../src/sync/common/outbox-file.ts';
import { runSync } from '../src/sync/node/sync.ts';
import { runMain } from './helpers/cli.ts';
import { startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { enrollWorkstation, SAMPLE, score, type Workstation } from './helpers/sync-fleet.ts';

let t: TestHub;
let dir: string;
let ws: Workstation;
let exported: string;
let exportedItems: number;

const cli = (home: string, args: string[]) => runMain(['--home', home, '--json', ...args]);
const last = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
const ledger = async () => Number((await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_items'))[0].n);
const fleetRows = async () => Number((await t.hub.storage.fleet.all<{ n: number }>('SELECT coalesce(sum(row_count), 0) AS n FROM fleet_predictions'))[0].n);
const fleetSecurity = async () => Number((await t.hub.storage.fleet.all<{ n: number }>("SELECT count(*) AS n FROM fleet_events WHERE kind = 'security'"))[0].n);

before(async () => {
  t = await startTestHub();
  dir = tmpDir('outpost-sync-export-');
  ws = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'ws-air');
  await score(ws, SAMPLE, { batchRows: 100 });
  recordSecurityEvent(ws.store, 'test-event', null, 'seen on the air-gapped site');
  exported = path.join(dir, 'outbox.outpost-sync');
  const r = await cli(ws.home, ['sync', 'export', '--out', exported]);
  assert.equal(r.code, 0, r.err);
  exportedItems = Number(last(r.out).items);
  assert.ok(exportedItems >= 4, `items exported: ${exportedItems}`);
});
after(async () => { ws.store.close(); await t.close(); fs.rmSync(dir, { recursive: true, force: true }); });

/** Rewrite an exported file batch by batch. */
function rewrite(name: string, change: (b: ExportedBatch) => ExportedBatch): string {
  const parts: Uint8Array[] = [OUTBOX_MAGIC];
  const d = decodeOutboxFile(fs.readFileSync(exported));
  for (const b of d.batches) {
    const c = change(b);
    parts.push(encodeBatchHeader(c, c.body.length), c.body);
  }
  parts.push(encodeEndRecord(d.end!, d.end!.body)); // the end record as the device signed it
  const f = path.join(dir, name);
  fs.writeFileSync(f, Buffer.concat(parts));
  return f;
}

test('tampered, truncated and forged exports are refused whole, naming the batch; nothing is stored', async () => {
  const before = await ledger();
  const flipped = rewrite('tampered', (b) => { const body = Buffer.from(b.body); body[body.length - 3] ^= 0xff; return { ...b, body }; });
  const other = crypto.generateKeyPairSync('ed25519');
  const forged = rewrite('forged', (b) => ({ ...b, signature: crypto.sign(null, Buffer.from('whatever'), other.privateKey).toString('base64') }));
  const all = fs.readFileSync(exported);
  const cut = path.join(dir, 'truncated');
  fs.writeFileSync(cut, all.subarray(0, all.length - 10));
  for (const [f, why] of [[flipped, /batch 1 refused \(bad-digest\)/], [forged, /batch 1 refused \(bad-signature\)/], [cut, /truncated/]] as const) {
    const r = await cli(dir, ['hub', 'import', f, '--dir', t.dir]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, why);
    assert.match(r.err, /nothing was imported/);
  }
  assert.equal(await ledger(), before, 'nothing stored');
});

test('imported twice, then synced online: every item counts once, rows equal what was scored', async () => {
  const scored = (ws.store.db.prepare('SELECT sum(rows_scored) AS n FROM jobs').get() as { n: number }).n;
  const first = await cli(dir, ['hub', 'import', exported, '--dir', t.dir]);
  assert.equal(first.code, 0, first.err);
  const a = last(first.out);
  assert.equal(a.device, 'ws-air');
  assert.equal(a.items, exportedItems);
  assert.equal(a.applied, exportedItems);
  assert.equal(a.duplicates, 0);
  assert.deepEqual(a.rejected, []);
  assert.equal(await fleetRows(), scored, 'the hub holds every scored row');
  assert.equal(await fleetSecurity(), 1);
  const held = await ledger();

  const second = await cli(dir, ['hub', 'import', exported, '--dir', t.dir]);
  assert.equal(second.code, 0, second.err);
  assert.equal(last(second.out).applied, 0);
  assert.equal(last(second.out).duplicates, exportedItems);
  assert.equal(await ledger(), held);
  assert.equal(await fleetRows(), scored);

  // the export marked nothing sent; the online sync sends it all and the hub acknowledges duplicates
  assert.ok(outboxSummary(ws.store).waiting >= exportedItems);
  const r = await runSync(ws.store, { refreshMetadata: false });
  assert.deepEqual(r.rejected, []);
  assert.equal(outboxSummary(ws.store).waiting, 0);
  assert.equal(await ledger(), held, 'no item applied a second time');
  assert.equal(await fleetRows(), scored);
  assert.equal(await fleetSecurity(), 1);
  const via = await t.hub.storage.fleet.all<{ via: string; n: number }>('SELECT via, count(*) AS n FROM fleet_items GROUP BY via');
  assert.deepEqual(via.map((v) => v.via), ['import']);
});

test('a revoked device\'s export is refused; bad usage exits 2', async () => {
  const ws2 = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'ws-revoked');
  try {
    recordSecurityEvent(ws2.store, 'test-event', null, 'x');
    const f = path.join(dir, 'revoked.outpost-sync');
    assert.equal((await cli(ws2.home, ['sync', 'export', '--out', f])).code, 0);
    const rv = await cli(dir, ['hub', 'devices', 'revoke', '--dir', t.dir, '--name', 'ws-revoked']);
    assert.equal(rv.code, 0, rv.err);
    const r = await cli(dir, ['hub', 'import', f, '--dir', t.dir]);
    assert.equal(r.code, 1);
    assert.match(r.err, /refused \(revoked\)/);
  } finally {
    ws2.store.close();
  }
  const fresh = tmpDir('outpost-unconnected-');
  try {
    for (const [home, args, why] of [
      [ws.home, ['sync', 'export'], /--out/],
      [fresh, ['sync', 'export', '--out', path.join(fresh, 'x')], /not connected to a hub/],
      [dir, ['hub', 'import', '--dir', t.dir], /./],
      [dir, ['hub', 'import', exported], /--dir/],
    ] as const) {
      const r = await cli(home, [...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, why);
    }
    const missing = await cli(dir, ['hub', 'import', path.join(dir, 'nope'), '--dir', t.dir]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read the exported outbox/);
  } finally {
    fs.rmSync(fresh, { recursive: true, force: true });
  }
});
