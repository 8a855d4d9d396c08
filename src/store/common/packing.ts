// Compact binary packing of columns for the prediction log: one BLOB per batch instead of one SQL
// row per prediction, so logging keeps up with scoring. Layout: u32 header length, JSON header
// (names, types, lengths), then each column's bytes 8-byte aligned. Pure.

export type PackedColumn =
  | { name: string; type: 'f32'; values: Float32Array }
  | { name: string; type: 'f64'; values: Float64Array }
  | { name: string; type: 'i32'; values: Int32Array }
  | { name: string; type: 'str'; values: (string | null)[] };

/** Written like `str` but stored as codes into a dictionary (class labels): no per-row strings. */
export interface DictColumn { name: string; type: 'dict'; codes: Int32Array; dictionary: readonly string[] }

/** Anything packColumns() takes. */
export type ColumnToPack = PackedColumn | DictColumn;

interface HeaderEntry { name: string; type: PackedColumn['type'] | 'dict'; length: number; bytes: number; dictionary?: readonly string[] }

const enc = new TextEncoder();
const dec = new TextDecoder();
const align8 = (n: number): number => (n + 7) & ~7;

function columnBytes(c: ColumnToPack): Uint8Array {
  if (c.type === 'str') return enc.encode(JSON.stringify(c.values));
  const v = c.type === 'dict' ? c.codes : c.values;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function packColumns(columns: ColumnToPack[]): Uint8Array {
  const bodies = columns.map(columnBytes);
  const header: HeaderEntry[] = columns.map((c, i) => (c.type === 'dict'
    ? { name: c.name, type: 'dict', length: c.codes.length, bytes: bodies[i].length, dictionary: c.dictionary }
    : { name: c.name, type: c.type, length: c.values.length, bytes: bodies[i].length }));
  const headerBytes = enc.encode(JSON.stringify(header));
  const start = align8(4 + headerBytes.length);
  const total = bodies.reduce((n, b) => align8(n + b.length), start);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, headerBytes.length, true);
  out.set(headerBytes, 4);
  let o = start;
  for (const b of bodies) {
    out.set(b, o);
    o = align8(o + b.length);
  }
  return out;
}

export function unpackColumns(blob: Uint8Array): PackedColumn[] {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const hlen = dv.getUint32(0, true);
  const header = JSON.parse(dec.decode(blob.subarray(4, 4 + hlen))) as HeaderEntry[];
  let o = align8(4 + hlen);
  return header.map((h) => {
    // Copy into a fresh buffer: the SQLite buffer need not be aligned for typed-array views (and a
    // Node Buffer's slice() would not copy).
    const bytes = Uint8Array.prototype.slice.call(blob, o, o + h.bytes);
    o = align8(o + h.bytes);
    switch (h.type) {
      case 'f32': return { name: h.name, type: 'f32', values: new Float32Array(bytes.buffer, 0, h.length) };
      case 'f64': return { name: h.name, type: 'f64', values: new Float64Array(bytes.buffer, 0, h.length) };
      case 'i32': return { name: h.name, type: 'i32', values: new Int32Array(bytes.buffer, 0, h.length) };
      case 'str': return { name: h.name, type: 'str', values: JSON.parse(dec.decode(bytes)) as (string | null)[] };
      case 'dict': {
        const dict = h.dictionary ?? [];
        return { name: h.name, type: 'str', values: Array.from(new Int32Array(bytes.buffer, 0, h.length), (c) => dict[c] ?? null) };
      }
    }
  });
}

/**
 * Check that untrusted bytes are a well-formed packed batch (header, column lengths and byte sizes
 * consistent, nothing past the end) without decoding the values; returns the columns' names and
 * lengths. Throws a RangeError saying what is wrong.
 */
export function packedShape(blob: Uint8Array): { name: string; type: string; length: number }[] {
  if (blob.length < 4) throw new RangeError('packed batch shorter than its header');
  const hlen = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(0, true);
  if (4 + hlen > blob.length) throw new RangeError('packed batch header runs past the end');
  let header: HeaderEntry[];
  try {
    header = JSON.parse(dec.decode(blob.subarray(4, 4 + hlen))) as HeaderEntry[];
  } catch {
    throw new RangeError('packed batch header is not JSON');
  }
  if (!Array.isArray(header)) throw new RangeError('packed batch header is not a list');
  const width: Record<string, number> = { f32: 4, f64: 8, i32: 4, dict: 4 };
  let o = align8(4 + hlen);
  for (const h of header) {
    if (typeof h?.name !== 'string' || !Number.isSafeInteger(h.length) || h.length < 0 || !Number.isSafeInteger(h.bytes) || h.bytes < 0) throw new RangeError('packed batch column entry malformed');
    if (!['f32', 'f64', 'i32', 'str', 'dict'].includes(h.type)) throw new RangeError(`packed batch column "${h.name}" has unknown type ${String(h.type)}`);
    if (h.type !== 'str' && h.bytes !== h.length * width[h.type]) throw new RangeError(`packed batch column "${h.name}": ${h.bytes} bytes for ${h.length} values`);
    if (h.type === 'dict' && !(Array.isArray(h.dictionary) && h.dictionary.every((d) => typeof d === 'string'))) throw new RangeError(`packed batch column "${h.name}": dictionary malformed`);
    o = align8(o + h.bytes);
    if (o > align8(blob.length)) throw new RangeError(`packed batch column "${h.name}" runs past the end`);
  }
  return header.map((h) => ({ name: h.name, type: h.type, length: h.length }));
}
