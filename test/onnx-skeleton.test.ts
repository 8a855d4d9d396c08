// The streaming model skeleton (src/onnx/common/skeleton.ts): inspecting the skeleton must give
// exactly what inspecting the whole file gives — on real exported models, on models with large
// initializers, attribute tensors, doc strings and functions, fed in any chunking — and a malformed
// file must be refused whenever the whole-file inspection refuses it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { encodeModel, inspectModel, type ModelInfo } from '../src/onnx/common/onnx.ts';
import { ProtoWriter } from '../src/onnx/common/protobuf.ts';
import { modelSkeletonReader } from '../src/onnx/common/skeleton.ts';
import { createRng } from '../src/train/common/random.ts';

const REPO = path.resolve(import.meta.dirname, '..');

function viaSkeleton(bytes: Uint8Array, chunks: number[], descendAbove?: number): { ok: true; info: ModelInfo; size: number } | { ok: false; error: string } {
  const r = modelSkeletonReader(bytes.length, descendAbove === undefined ? {} : { descendAbove });
  let k = 0;
  for (let i = 0; i < bytes.length; k++) {
    const n = Math.max(1, chunks[k % chunks.length]);
    r.update(bytes.subarray(i, i + n));
    i += n;
  }
  const out = r.finish();
  if (!out.ok) return out;
  try {
    return { ok: true, info: inspectModel(out.skeleton), size: out.skeleton.length };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function whole(bytes: Uint8Array): { ok: true; info: ModelInfo } | { ok: false; error: string } {
  try {
    return { ok: true, info: inspectModel(bytes) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** A model with everything the skeleton leaves out: weights (raw_data and float_data), an attribute
 *  tensor and an attribute sub-graph, doc strings, a function, plus everything it must keep. */
function kitchenSink(weights: number, docs = 10_000): Uint8Array {
  const raw = new Uint8Array(weights * 4).map((_, i) => (i * 7) & 0xff);
  const tensor = (name: string, dataField: 4 | 9) => {
    const t = new ProtoWriter().packedInts(1, [weights]).int(2, 1).string(8, name);
    if (dataField === 9) t.bytes(9, raw); else t.packedFloats(4, Array.from({ length: weights }, (_, i) => i / 3));
    return t.string(12, 'tensor doc');
  };
  const external = new ProtoWriter().packedInts(1, [4, 4]).int(2, 1).string(8, 'X')
    .message(13, new ProtoWriter().string(1, 'location').string(2, 'weights.bin'))
    .message(13, new ProtoWriter().string(1, 'offset').string(2, '64'))
    .int(14, 1);
  const sub = new ProtoWriter().string(2, 'then').message(5, tensor('inner', 9));
  const constant = new ProtoWriter().string(2, 'c').string(3, 'const').string(4, 'Constant')
    .message(5, new ProtoWriter().string(1, 'value').message(5, tensor('v', 9)).int(20, 4))
    .string(6, 'node doc');
  const iff = new ProtoWriter().string(1, 'cond').string(2, 'y').string(4, 'If')
    .message(5, new ProtoWriter().string(1, 'then_branch').message(6, sub).int(20, 5))
    .message(5, new ProtoWriter().string(1, 'alpha').float(2, 0.5).int(20, 1))
    .message(5, new ProtoWriter().string(1, 'axes').packedInts(8, [0, 1, 2]).int(20, 7))
    .message(5, new ProtoWriter().string(1, 'mode').string(4, 'constant').int(20, 3));
  const vi = (name: string) => {
    const shape = new ProtoWriter().message(1, new ProtoWriter().string(2, 'N')).message(1, new ProtoWriter().int(1, 1));
    const tensorType = new ProtoWriter().int(1, 1).message(2, shape);
    return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
  };
  const graph = new ProtoWriter().message(1, constant).message(1, iff).string(2, 'g')
    .message(5, tensor('W', 9)).message(5, tensor('B', 4)).message(5, external)
    .string(10, 'graph doc '.repeat(2 * docs))
    .message(11, vi('a')).message(11, vi('W')).message(12, vi('y'))
    .message(13, vi('c'));
  return new ProtoWriter().int(1, 9).string(2, 'test').string(3, '1.0').string(6, 'model doc '.repeat(docs))
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, 17))
    .message(14, new ProtoWriter().string(1, 'k').string(2, 'v'))
    .message(25, new ProtoWriter().string(1, 'fn').message(7, constant))
    .finish();
}

test('skeleton: the same inspection as the whole file, for exported models in any chunking', () => {
  const dir = path.join(REPO, 'test/fixtures/byo');
  const files = [...fs.readdirSync(dir).filter((f) => f.endsWith('.onnx')).map((f) => path.join(dir, f)), path.join(REPO, 'models/demo/weather/model.onnx')];
  assert.ok(files.length >= 5);
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    const expected = inspectModel(bytes);
    for (const chunks of [[1], [7, 1, 3], [65_536], [bytes.length]]) {
      for (const descendAbove of [undefined, 0]) {
        const got = viaSkeleton(bytes, chunks, descendAbove);
        assert.ok(got.ok, `${f}: ${!got.ok && got.error}`);
        assert.deepEqual(got.info, expected, `${path.basename(f)} chunks ${chunks} descendAbove ${descendAbove}`);
      }
    }
  }
});

test('skeleton: weights, attribute tensors, sub-graphs, doc strings and functions are left out, the rest kept', () => {
  const bytes = kitchenSink(300_000); // 1.2 MB a tensor
  const expected = inspectModel(bytes);
  assert.equal(expected.initializers.length, 3);
  assert.deepEqual(expected.initializers[2].external, { tensor: 'X', location: 'weights.bin', offset: 64 });
  assert.deepEqual(expected.nodes[1].attrs, { then_branch: { kind: 'graph' }, alpha: 0.5, axes: [0, 1, 2], mode: 'constant' });
  for (const chunks of [[1 << 20], [4093, 17], [bytes.length]]) {
    const got = viaSkeleton(bytes, chunks);
    assert.ok(got.ok);
    assert.deepEqual(got.info, expected);
    assert.ok(got.size < 2000, `skeleton of a ${bytes.length}-byte model is ${got.size} bytes`);
  }
  // a big model built the way the project builds them (one large float initializer)
  const big = encodeModel({
    name: 'g', nodes: [{ op: 'Identity', inputs: ['a'], outputs: ['y'] }],
    inputs: [{ name: 'a', type: 'float', shape: ['N', 1] }], outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
    initializers: [{ name: 'E', type: 'float', dims: [500_000], data: new Float32Array(500_000) }],
  });
  const got = viaSkeleton(big, [1 << 16]);
  assert.ok(got.ok);
  assert.deepEqual(got.info, inspectModel(big));
  assert.ok(got.size < 500);
});

test('skeleton: a damaged file is refused whenever the whole-file inspection refuses it', () => {
  const bytes = kitchenSink(64, 20);
  const rng = createRng(13).next;
  let refused = 0;
  const cases: Uint8Array[] = [];
  for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 400))) cases.push(bytes.subarray(0, cut));
  for (let i = 0; i < 600; i++) {
    const b = Uint8Array.from(bytes);
    for (let k = 0; k < 1 + Math.floor(rng() * 3); k++) b[Math.floor(rng() * b.length)] = Math.floor(rng() * 256);
    cases.push(b);
  }
  for (const b of cases) {
    const w = whole(b);
    for (const descendAbove of [0, 100]) {
      const s = viaSkeleton(b, [1 + Math.floor(rng() * 50)], descendAbove);
      assert.equal(s.ok, w.ok, `whole: ${w.ok ? 'ok' : w.error}; skeleton: ${s.ok ? 'ok' : s.error}`);
      if (s.ok && w.ok) assert.deepEqual(s.info, w.info);
    }
    if (!w.ok) refused++;
  }
  assert.ok(refused > 100, `${refused} damaged files refused`);
  // more bytes than the declared total are refused, never read past
  const r = modelSkeletonReader(10);
  r.update(bytes.subarray(0, 20));
  assert.equal(r.finish().ok, false);
});
