// Hostile ONNX models for safety tests: rewrite a model's initializers into external-data
// references or oversized declarations (the encoder in src/onnx only writes honest models).
import { ProtoWriter, readFields } from '../../src/onnx/common/protobuf.ts';

export interface TensorDecl { name: string; dims: number[]; dataType?: number; external?: Record<string, string>; raw?: Uint8Array }

function tensor(t: TensorDecl): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  w.int(2, t.dataType ?? 1);
  w.string(8, t.name);
  if (t.raw) w.bytes(9, t.raw);
  if (t.external) {
    for (const [k, v] of Object.entries(t.external)) w.message(13, new ProtoWriter().string(1, k).string(2, v));
    w.int(14, 1);
  }
  return w;
}

/** Replace initializers by name (or add new ones) in an encoded model. */
export function rewriteInitializers(model: Uint8Array, replace: TensorDecl[]): Uint8Array {
  const byName = new Map(replace.map((t) => [t.name, t]));
  const top = new ProtoWriter();
  for (const f of readFields(model)) {
    if (f.field === 7 && f.wire === 2) {
      const g = new ProtoWriter();
      for (const gf of readFields(f.value)) {
        if (gf.wire !== 2) continue;
        if (gf.field === 5) {
          let name = '';
          for (const tf of readFields(gf.value)) if (tf.field === 8 && tf.wire === 2) name = new TextDecoder().decode(tf.value);
          const r = byName.get(name);
          if (r) { g.message(5, tensor(r)); byName.delete(name); continue; }
        }
        g.bytes(gf.field, gf.value);
      }
      for (const t of byName.values()) g.message(5, tensor(t));
      top.bytes(7, g.finish());
    } else if (f.wire === 0) top.int(f.field, f.value);
    else if (f.wire === 2) top.bytes(f.field, f.value);
  }
  return top.finish();
}
