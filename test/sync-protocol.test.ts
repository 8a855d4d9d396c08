// The pure parts of the sync protocol: frames round-trip and refuse malformed input with a reason;
// backoff stays within its cap; enrollment codes normalise; packed batches are checked without
// decoding them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packColumns, packedShape } from '../src/store/common/packing.ts';
import { backoffMs, decodeFrames, encodeFrames, FrameError, type WireItem } from '../src/sync/common/protocol.ts';
import { normalizeCode, signatureBase } from '../src/sync/common/signature.ts';
import { seeded } from './helpers/sync-fleet.ts';

test('frames round-trip items with their blobs byte for byte', () => {
  const items: WireItem[] = [
    { seq: 1, kind: 'security', createdAt: 5, payload: { a: 'é', n: [1, 2] }, blobs: [] },
    { seq: 7, kind: 'predictions', createdAt: 6, payload: null, blobs: [Uint8Array.from([1, 2, 3]), new Uint8Array(0), Uint8Array.from([9])] },
  ];
  const back = decodeFrames(encodeFrames(items));
  assert.deepEqual(back.map((i) => ({ ...i, blobs: i.blobs.map((b) => [...b]) })), items.map((i) => ({ ...i, blobs: i.blobs.map((b) => [...b]) })));
});

test('malformed frames are refused with what is wrong', () => {
  const good = encodeFrames([{ seq: 1, kind: 'job', createdAt: 1, payload: {}, blobs: [Uint8Array.from([1, 2])] }]);
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array([1, 2]), /OPS1/],
    [good.subarray(0, good.length - 1), /blob runs past the end/],
    [good.subarray(0, 6), /truncated header length|runs past/],
    [encodeFrames([{ seq: 0, kind: 'job', createdAt: 1, payload: {}, blobs: [] }]), /"seq" must be a positive integer/],
    [encodeFrames([{ seq: 1, kind: 'Bad Kind', createdAt: 1, payload: {}, blobs: [] }]), /"kind"/],
    [encodeFrames([{ seq: 1, kind: 'job', createdAt: 1.5, payload: {}, blobs: [] }]), /createdAt/],
  ];
  for (const [bytes, re] of cases) assert.throws(() => decodeFrames(bytes), (e: unknown) => e instanceof FrameError && re.test((e as Error).message));
  const many = encodeFrames(Array.from({ length: 3 }, (_, i) => ({ seq: i + 1, kind: 'job', createdAt: 1, payload: {}, blobs: [] })));
  assert.throws(() => decodeFrames(many, 2), /more than 2 items/);
});

test('backoff: full jitter under an exponential cap', () => {
  const r = seeded(42);
  for (let a = 0; a < 40; a++) {
    const ms = backoffMs(a, r);
    assert.ok(ms >= 0 && ms < Math.min(60_000, 500 * 2 ** a), `attempt ${a}: ${ms}`);
  }
  assert.equal(backoffMs(3, () => 0.999999), 3999);
});

test('enrollment codes: case, dashes and look-alike letters normalise; anything else is refused', () => {
  assert.equal(normalizeCode('abcd-efgh-jkmn-pqrs'), 'ABCDEFGHJKMNPQRS');
  assert.equal(normalizeCode('0000 1111 oooo llll'), '0000111100001111');
  assert.equal(normalizeCode('ABCD-EFGH-JKMN-PQR'), undefined);
  assert.equal(normalizeCode('ABCD-EFGH-JKMN-PQRU'), undefined, 'U is not Crockford base32');
});

test('the signature base names method, path, device, digest, time and nonce in a fixed order', () => {
  assert.equal(signatureBase({ method: 'post', path: '/api/v1/sync/items', device: 'dev_x', digest: 'sha-256=:A=:', time: 12, nonce: 'n' }),
    'outpost-request-v1\nPOST\n/api/v1/sync/items\ndev_x\nsha-256=:A=:\n12\nn');
});

test('packedShape checks untrusted packed batches without decoding values', () => {
  const blob = packColumns([{ name: 'p', type: 'f32', values: Float32Array.from([1, 2, 3]) }, { name: 'label', type: 'dict', codes: Int32Array.from([0, 1, 0]), dictionary: ['a', 'b'] }]);
  assert.deepEqual(packedShape(blob).map((c) => [c.name, c.length]), [['p', 3], ['label', 3]]);
  assert.throws(() => packedShape(blob.subarray(0, blob.length - 8)), /runs past the end/);
  assert.throws(() => packedShape(Uint8Array.from([255, 255, 0, 0, 1])), /header runs past/);
  const lie = new Uint8Array(blob);
  const text = new TextDecoder().decode(lie);
  const i = text.indexOf('"bytes":12');
  lie.set(new TextEncoder().encode('"bytes":16'), i);
  assert.throws(() => packedShape(lie), /16 bytes for 3 values/);
});
