// Minimal protobuf wire-format writer and reader: enough for ONNX ModelProto. Pure.

const utf8 = new TextEncoder();

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private length = 0;

  private flushScratch(): void {
    if (this.scratch.length) {
      const b = Uint8Array.from(this.scratch);
      this.chunks.push(b);
      this.length += b.length;
      this.scratch = [];
    }
  }

  private varint(v: bigint | number): void {
    let n = BigInt.asUintN(64, BigInt(v));
    while (n >= 0x80n) {
      this.scratch.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.scratch.push(Number(n));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(...b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.flushScratch();
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  packedInts(field: number, values: ArrayLike<number | bigint>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
    return this.bytes(field, b);
  }

  /** Re-emit a field exactly as read (readFields' wire type and value). */
  raw(field: number, wire: 0 | 1 | 2 | 5, value: bigint | Uint8Array): this {
    if (wire === 0) return this.int(field, value as bigint);
    if (wire === 2) return this.bytes(field, value as Uint8Array);
    this.tag(field, wire);
    this.flushScratch();
    this.chunks.push(value as Uint8Array);
    this.length += (value as Uint8Array).length;
    return this;
  }

  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export type WireValue =
  | { wire: 0; value: bigint }
  | { wire: 1; value: Uint8Array }
  | { wire: 2; value: Uint8Array }
  | { wire: 5; value: Uint8Array };

/** Reads fields of one message. Throws on malformed input (truncation, bad wire types). */
export function* readFields(buf: Uint8Array): Generator<{ field: number } & WireValue> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('protobuf: truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('protobuf: varint too long');
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 0) throw new Error('protobuf: field number 0');
    if (wire === 0) yield { field, wire: 0, value: varint() };
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new Error('protobuf: truncated fixed field');
      yield { field, wire, value: buf.subarray(pos, pos + n) };
      pos += n;
    } else if (wire === 2) {
      const len = varint();
      if (len > BigInt(buf.length - pos)) throw new Error('protobuf: length-delimited field runs past the end');
      const n = Number(len);
      yield { field, wire: 2, value: buf.subarray(pos, pos + n) };
      pos += n;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
}

export function readPackedVarints(b: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < b.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= b.length) throw new Error('protobuf: truncated packed varint');
      const x = b[pos++];
      result |= BigInt(x & 0x7f) << shift;
      if ((x & 0x80) === 0) break;
      shift += 7n;
    }
    out.push(result);
  }
  return out;
}

const text = new TextDecoder();

/** The first length-delimited `field` of a message as UTF-8 text ('' when absent): a name (field 1 of ValueInfoProto, AttributeProto…). */
export function stringField(message: Uint8Array, field: number): string {
  for (const f of readFields(message)) if (f.field === field && f.wire === 2) return text.decode(f.value);
  return '';
}

/**
 * A copy of a message in which `replace` may answer for its length-delimited fields: a writer (the
 * field's new content), null (the field dropped) or undefined (kept as read). Every other byte is
 * re-emitted as read. The in-memory rewrites of a model (adapt.ts, category-codes.ts) are built on it.
 */
export function rewriteMessage(message: Uint8Array, replace: (field: number, value: Uint8Array) => ProtoWriter | null | undefined): ProtoWriter {
  const w = new ProtoWriter();
  for (const f of readFields(message)) {
    const r = f.wire === 2 ? replace(f.field, f.value) : undefined;
    if (r === undefined) w.raw(f.field, f.wire, f.value);
    else if (r !== null) w.message(f.field, r);
  }
  return w;
}
