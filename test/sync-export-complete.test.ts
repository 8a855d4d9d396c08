// An exported outbox is self-delimiting (OUTPOST-OUTBOX/2, src/sync/common/outbox-file.ts): it ends
// with an end record signed by the device key that lists the batches (number, order, digests) and
// the item count. A file cut anywhere — inside or right after the first line, between batches, inside
// a batch, inside the end record — or with bytes after the end record, or whose batches are not the
// ones the end record lists, is refused whole with exit 1, naming the file and where it ends; nothing
// is imported. (The new-user check that found it: the first 17 bytes of an export were imported as
// "0 items in 0 batches from device """, rc 0, and `--receipt` silently wrote nothing.)
// OUTPOST-OUTBOX/1 files (older workstations) are still imported, with a note that a cut between
// batches cannot be seen. A real hub (loopback, SQLite) and real enrolled workstations.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { OutpostError } from '../src/common/errors.ts';
import { importOutbox } from '../src/hub/node/outbox-import.ts';
import { recordSecurityEvent } from '../src/store/node/models.ts';
import { outboxSummary } from '../src/store/node/outbox.ts';
import { hubConnection } from '../src/store/node/sync-state.ts';
import {
  decodeOutboxFile, encodeBatchHeader, encodeEndRecord, encodeManifest, EXPORT_END_PATH, EXPORT_METHOD, OUTBOX_FORMAT, OUTBOX_MAGIC, OUTBOX_MAGIC_V1,
  type DecodedOutbox, type ExportedBatch,
} from '../src/sync/common/outbox-file.ts';
import { FrameError } from '../src/sync/common/protocol.ts';
import { SIG_HEADERS } from '../src/sync/common/signature.ts';
import { contentDigest, deviceKey, signRequest } from '../src/sync/node/device.ts';
import { exportOutbox } from '../src/sync/node/export.ts';
import { runMain } from './helpers/cli.ts';
import { startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { enrollWorkstation, type Workstation } from './helpers/sync-fleet.ts';

let t: TestHub;
let dir: string;
let ws: Workstation;
let exported: string;
let full: Buffer;
let decoded: DecodedOutbox;

const cli = (home: string, args: string[]) => runMain(['--home', home, '--json', ...args]);
const last = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
const ledger = async () => Number((await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_items'))[0].n);
const write = (name: string, bytes: Uint8Array) => { const f = path.join(dir, name); fs.writeFileSync(f, bytes); return f; };
const part = (b: ExportedBatch) => [encodeBatchHeader(b, b.body.length), b.body];
/** A v2 file from batches and an end record (by default the ones the device wrote). */
const assemble = (batches: ExportedBatch[], end: ExportedBatch = decoded.end!) => Buffer.concat([OUTBOX_MAGIC, ...batches.flatMap(part), encodeEndRecord(end, end.body)]);
const headerOf = (h: Record<string, string>) => ({ device: h[SIG_HEADERS.device], time: Number(h[SIG_HEADERS.time]), nonce: h[SIG_HEADERS.nonce], digest: h[SIG_HEADERS.digest], signature: h[SIG_HEADERS.signature] });

/** Import `bytes` through the hub's import; the refusal's message (and that it names the file and imported nothing). */
async function refusal(bytes: Uint8Array, file = '/site/desk.outpost-sync'): Promise<string> {
  const before = await ledger();
  try {
    await importOutbox(t.hub, file, bytes);
  } catch (e) {
    assert.ok(e instanceof OutpostError, String(e));
    assert.equal(e.location.file, file);
    assert.equal(e.exitCode, 1);
    assert.match(e.message, /nothing was imported$/);
    assert.equal(await ledger(), before, 'nothing stored');
    return e.message;
  }
  assert.fail(`imported ${bytes.length} bytes`);
}

before(async () => {
  t = await startTestHub();
  dir = tmpDir('outpost-export-complete-');
  ws = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'ws-cut');
  for (let i = 0; i < 3; i++) recordSecurityEvent(ws.store, 'test-event', null, `event ${i} on the site`);
  exported = path.join(dir, 'small.outpost-sync');
  // one item per batch: the heartbeat and the three events, so there are several batch boundaries
  const r = exportOutbox(ws.store, exported, { maxBatchBytes: 1 });
  assert.ok(r.batches >= 4, `batches: ${r.batches}`);
  full = fs.readFileSync(exported);
  decoded = decodeOutboxFile(full);
});
after(async () => { ws.store.close(); await t.close(); fs.rmSync(dir, { recursive: true, force: true }); });

test('encode/decode round trip: the end record lists what the export wrote, and re-encoding gives the same bytes', () => {
  const conn = hubConnection(ws.store)!;
  assert.equal(decoded.version, 2);
  assert.equal(decoded.batches.length, decoded.end!.manifest.batches);
  assert.deepEqual(decoded.end!.manifest.digests, decoded.batches.map((b) => b.digest));
  assert.equal(decoded.end!.manifest.device, conn.deviceId);
  assert.equal(decoded.end!.manifest.format, OUTBOX_FORMAT);
  assert.ok(decoded.batches.every((b) => b.device === conn.deviceId && b.digest === contentDigest(b.body)));
  assert.equal(decoded.end!.digest, contentDigest(decoded.end!.body), 'the end record\'s header signs the manifest bytes');
  assert.ok(assemble(decoded.batches).equals(full));
  // synthetic parts: a pure round trip, independent of the exporter
  const b = (n: number): ExportedBatch => ({ device: 'dev_x', time: n, nonce: `nonce-${n}-0123456789`, digest: `d${n}`, signature: `s${n}`, body: new Uint8Array([n, n + 1, n + 2]) });
  const manifest = encodeManifest({ format: OUTBOX_FORMAT, device: 'dev_x', batches: 2, items: 5, digests: ['d1', 'd2'] });
  const end = { ...b(9), body: manifest };
  const file = Buffer.concat([OUTBOX_MAGIC, ...part(b(1)), ...part(b(2)), encodeEndRecord(end, manifest)]);
  const d = decodeOutboxFile(file);
  assert.deepEqual(d.batches.map((x) => ({ ...x, body: [...x.body] })), [b(1), b(2)].map((x) => ({ ...x, body: [...x.body] })));
  assert.deepEqual(d.end!.manifest, { format: OUTBOX_FORMAT, device: 'dev_x', batches: 2, items: 5, digests: ['d1', 'd2'] });
  assert.equal(d.end!.time, 9);
});

test('a cut at every byte offset is refused whole, naming the file and where it ends; nothing is imported', async () => {
  // the boundaries: after the first line, after each batch, after the end mark
  const bounds = new Map<number, RegExp>([[OUTBOX_MAGIC.length, /truncated: the file ends at byte 17, right after its first line, before its end record/]]);
  let o = OUTBOX_MAGIC.length;
  for (const [i, b] of decoded.batches.entries()) {
    o += encodeBatchHeader(b, b.body.length).length + b.body.length;
    bounds.set(o, new RegExp(`truncated: the file ends at byte ${o}, after batch ${i + 1}, before its end record`));
  }
  bounds.set(o + 4, /the end record is truncated: the file ends at byte \d+, inside its header length/);
  bounds.set(full.length - 1, /the end record is truncated: .* \d+ of its \d+ bytes in/);
  bounds.set(0, /truncated: the file is empty/);
  bounds.set(16, /truncated: the file ends at byte 16, inside its first line/);
  const seen = new Set<string>();
  for (let n = 0; n < full.length; n++) {
    const cut = full.subarray(0, n);
    assert.throws(() => decodeOutboxFile(cut), (e: unknown) => e instanceof FrameError && /truncated/.test(e.message), `cut at ${n}`);
    const msg = await refusal(cut);
    assert.match(msg, /truncated/, `cut at ${n}: ${msg}`);
    assert.match(msg, new RegExp(`byte ${n}\\b|file is empty`), `cut at ${n} says where: ${msg}`);
    if (bounds.has(n)) assert.match(msg, bounds.get(n)!, `cut at ${n}`);
    seen.add(msg.replace(/\d+/g, '#'));
  }
  assert.ok(seen.size >= 6, `cuts inside batches, headers, lengths and the end record are told apart: ${[...seen].join(' | ')}`);
});

test('bytes after the end record, and batches that are not the ones the end record lists, are refused', async () => {
  assert.match(await refusal(Buffer.concat([full, Buffer.from([0])])), /1 byte after the end record \(byte \d+ on\)/);
  assert.match(await refusal(Buffer.concat([full, Buffer.from('\n')])), /1 byte after the end record/);
  assert.match(await refusal(Buffer.concat([full, full])), /\d+ bytes after the end record/, 'two exports joined');
  const [b1, b2, ...rest] = decoded.batches;
  assert.match(await refusal(assemble([b1, b2, ...rest.slice(0, -1)])), new RegExp(`the end record lists ${decoded.batches.length} batches, the file holds ${decoded.batches.length - 1}`), 'last batch dropped');
  assert.match(await refusal(assemble([b2, b1, ...rest])), /batch 1 is not the batch the end record lists there/, 'reordered');
  assert.match(await refusal(assemble([b1, b1, ...rest])), /batch 2 is not the batch the end record lists there/, 'a batch repeated in place of another');
  // a batch of another export of the same device in place of one of this file
  recordSecurityEvent(ws.store, 'test-event', null, 'later');
  const other = decodeOutboxFile(fs.readFileSync((exportOutbox(ws.store, path.join(dir, 'other.outpost-sync'), { maxBatchBytes: 1 })).file));
  const foreign = other.batches.find((x) => !decoded.batches.some((y) => y.digest === x.digest))!;
  assert.match(await refusal(assemble([b1, foreign, ...rest])), /batch 2 is not the batch the end record lists there/);
});

test('a tampered end record is refused: its manifest is signed by the device key', async () => {
  const batches = decoded.batches.slice(0, -1);
  const m = { ...decoded.end!.manifest, batches: batches.length, items: decoded.end!.manifest.items - 1, digests: batches.map((b) => b.digest) };
  const manifest = encodeManifest(m);
  // the manifest rewritten to hide a dropped batch, the signed header kept: its digest no longer matches
  assert.match(await refusal(assemble(batches, { ...decoded.end!, body: manifest })), /the end record refused \(bad-digest\)/);
  // and with the digest recomputed: the device's signature does not cover it
  assert.match(await refusal(assemble(batches, { ...decoded.end!, digest: contentDigest(manifest), body: manifest })), /the end record refused \(bad-signature\)/);
  // one signature byte flipped
  const sig = Buffer.from(decoded.end!.signature, 'base64');
  sig[5] ^= 1;
  assert.match(await refusal(assemble(decoded.batches, { ...decoded.end!, signature: sig.toString('base64') })), /the end record refused \(bad-signature\)/);
  // a batch signature reused as the end record's (domain separation: the end record is signed over its own path)
  const b = decoded.batches[0];
  assert.match(await refusal(assemble(decoded.batches, { ...decoded.end!, time: b.time, nonce: b.nonce, signature: b.signature })), /the end record refused \(bad-signature\)/);
  // the item count is checked against what the batches hold (a manifest the device itself signed wrongly)
  const conn = hubConnection(ws.store)!;
  const key = deviceKey(ws.home, false);
  const lying = encodeManifest({ ...decoded.end!.manifest, items: decoded.end!.manifest.items + 1 });
  assert.match(await refusal(assemble(decoded.batches, { ...headerOf(signRequest(conn, key, EXPORT_METHOD, EXPORT_END_PATH, lying)), body: lying })),
    new RegExp(`the end record lists ${decoded.end!.manifest.items + 1} items, the batches hold ${decoded.end!.manifest.items}`));
  // a file with no batch, even with a genuine signed end record, is not an export
  const none = encodeManifest({ format: OUTBOX_FORMAT, device: conn.deviceId, batches: 0, items: 0, digests: [] });
  assert.match(await refusal(assemble([], { ...headerOf(signRequest(conn, key, EXPORT_METHOD, EXPORT_END_PATH, none)), body: none })), /holds no batch/);
  // and the untouched file imports
  const r = await importOutbox(t.hub, exported, full);
  assert.equal(r.format, 2);
  assert.equal(r.note, null);
  assert.equal(r.items, decoded.end!.manifest.items);
});

test('CLI: a header-only file (the new-user check) and a file cut between batches exit 1, name the file, write no receipt', async () => {
  const receipt = path.join(dir, 'cut.receipt');
  const afterFirst = OUTBOX_MAGIC.length + part(decoded.batches[0]).reduce((n, x) => n + x.length, 0);
  for (const [name, bytes, where] of [
    ['header-only.outpost-sync', full.subarray(0, 17), /right after its first line/],
    ['header-only-v1.outpost-sync', Buffer.from(OUTBOX_MAGIC_V1), /right after its first line/],
    ['between.outpost-sync', full.subarray(0, afterFirst), /after batch 1, before its end record/],
    ['end-cut.outpost-sync', full.subarray(0, full.length - 3), /the end record is truncated/],
  ] as const) {
    const f = write(name, bytes);
    const r = await cli(dir, ['hub', 'import', f, '--dir', t.dir, '--receipt', receipt]);
    assert.equal(r.code, 1, `${name}: ${r.out}${r.err}`);
    assert.match(r.err, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*truncated`), name);
    assert.match(r.err, where, name);
    assert.match(r.err, /nothing was imported/, name);
    assert.doesNotMatch(r.out, /imported .* from device/, name);
    assert.equal(fs.existsSync(receipt), false, `${name}: no receipt`);
  }
  const newer = write('newer.outpost-sync', Buffer.concat([Buffer.from('OUTPOST-OUTBOX/3\n'), full.subarray(17)]));
  const r = await cli(dir, ['hub', 'import', newer, '--dir', t.dir]);
  assert.equal(r.code, 1);
  assert.match(r.err, /written by a newer Outpost \(format OUTPOST-OUTBOX\/3/);
});

test('an idle workstation\'s export is never empty: it carries the heartbeat, names the device, and gets a receipt', async () => {
  const idle = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'ws-idle');
  try {
    const f = path.join(dir, 'idle.outpost-sync');
    const e = await cli(idle.home, ['sync', 'export', '--out', f]);
    assert.equal(e.code, 0, e.err);
    const d = decodeOutboxFile(fs.readFileSync(f));
    assert.equal(d.end!.manifest.device, hubConnection(idle.store)!.deviceId);
    assert.ok(d.end!.manifest.items >= 1 && d.end!.manifest.items === Number(last(e.out).items));
    const receipt = path.join(dir, 'idle.receipt');
    const r = await cli(dir, ['hub', 'import', f, '--dir', t.dir, '--receipt', receipt]);
    assert.equal(r.code, 0, r.err);
    assert.equal(last(r.out).device, 'ws-idle');
    assert.equal(last(r.out).acknowledged, d.end!.manifest.items);
    assert.ok(fs.existsSync(receipt), 'receipt written');
    const ack = await cli(idle.home, ['sync', 'ack', receipt]);
    assert.equal(ack.code, 0, ack.err);
    assert.equal(outboxSummary(idle.store).waiting, 0);
  } finally {
    idle.store.close();
  }
});

test('OUTPOST-OUTBOX/1 (an older workstation): imported with a note that a cut between batches cannot be seen; a cut inside a batch is refused', async () => {
  const v1 = (batches: ExportedBatch[]) => Buffer.concat([OUTBOX_MAGIC_V1, ...batches.flatMap(part)]);
  const whole = v1(decoded.batches);
  assert.match(await refusal(whole.subarray(0, whole.length - 2)), new RegExp(`batch ${decoded.batches.length} is truncated`));
  assert.match(await refusal(v1(decoded.batches.slice(0, 1)).subarray(0, 30)), /batch 1 is truncated/);
  const before = await ledger();
  const f = write('old.outpost-sync', v1(decoded.batches.slice(0, 2))); // cut between batches 2 and 3: cannot be seen
  const receipt = path.join(dir, 'old.receipt');
  const r = await cli(dir, ['hub', 'import', f, '--dir', t.dir, '--receipt', receipt]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /note: this file is in the older format OUTPOST-OUTBOX\/1/);
  assert.match(r.err, /a cut between two batches cannot be told from a complete file/);
  assert.match(r.err, /stay queued on the workstation/);
  const out = last(r.out);
  assert.equal(out.format, 1);
  assert.equal(out.batches, 2);
  assert.equal(out.acknowledged, 2, 'the receipt acknowledges only what the file held');
  assert.ok(fs.existsSync(receipt));
  assert.ok(await ledger() >= before);
});
