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

/**
 * Written like `str` (the same bytes) from the cells' UTF-8 bytes, without a string per row: cell i
 * is bytes[starts[i], ends[i]), null where starts[i] is -1. The bytes must be valid UTF-8 (a reader
 * decoded them fatally).
 */
export interface Utf8TextColumn { name: string; type: 'utf8'; bytes: Uint8Array; starts: Int32Array; ends: Int32Array }

/** Anything packColumns() takes. */
export type ColumnToPack = PackedColumn | DictColumn | Utf8TextColumn;

interface HeaderEntry { name: string; type: PackedColumn['type'] | 'dict'; length: number; bytes: number; dictionary?: readonly string[] }

const enc = new TextEncoder();
const dec = new TextDecoder();
const align8 = (n: number): number => (n + 7) & ~7;

function columnBytes(c: ColumnToPack): Uint8Array {
  if (c.type === 'str') return enc.encode(JSON.stringify(c.values));
  if (c.type === 'utf8') return jsonTextArray(c);
  const v = c.type === 'dict' ? c.codes : c.values;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** How JSON.stringify writes each byte inside a string: '"', '\\' and the controls escaped, every other byte as is (undefined). */
const JSON_ESCAPES: (Uint8Array | undefined)[] = Array.from({ length: 0x100 }, (_, b) => {
  if (b >= 0x80) return undefined; // part of a multi-byte character
  const inString = JSON.stringify(String.fromCharCode(b)).slice(1, -1);
  return inString.length > 1 ? enc.encode(inString) : undefined;
});
/** the bytes each byte's escape adds (0: written as is), so sizing needs no branch per byte */
const ESCAPE_EXTRA = Uint8Array.from(JSON_ESCAPES, (e) => (e ? e.length - 1 : 0));
const NULL_BYTES = enc.encode('null');

/**
 * enc.encode(JSON.stringify(cells as strings)), from the bytes: JSON.stringify escapes only '"',
 * '\\' and the controls below U+0020 (and lone surrogates, which valid UTF-8 cannot encode), so
 * every other byte is copied as is. Sized exactly in a first pass; a batch without a byte to
 * escape (the usual one) is copied without looking at each byte again.
 */
function jsonTextArray({ bytes, starts, ends }: Utf8TextColumn): Uint8Array {
  const n = starts.length;
  let size = 2 + Math.max(0, n - 1);
  let extra = 0;
  for (let i = 0; i < n; i++) {
    const s = starts[i];
    if (s < 0) { size += 4; continue; }
    const e = ends[i];
    size += 2 + e - s;
    for (let k = s; k < e; k++) extra += ESCAPE_EXTRA[bytes[k]];
  }
  const out = new Uint8Array(size + extra);
  let o = 0;
  out[o++] = 0x5b; // [
  for (let i = 0; i < n; i++) {
    if (i > 0) out[o++] = 0x2c; // ,
    const s = starts[i];
    if (s < 0) {
      out.set(NULL_BYTES, o);
      o += 4;
      continue;
    }
    out[o++] = 0x22; // "
    const e = ends[i];
    if (extra === 0) {
      for (let k = s; k < e; k++) out[o++] = bytes[k];
    } else {
      for (let k = s; k < e; k++) {
        const b = bytes[k];
        const escaped = JSON_ESCAPES[b];
        if (escaped === undefined) out[o++] = b;
        else {
          out.set(escaped, o);
          o += escaped.length;
        }
      }
    }
    out[o++] = 0x22;
  }
  out[o] = 0x5d; // ]
  return out;
}

export function packColumns(columns: ColumnToPack[]): Uint8Array {
  const bodies = columns.map(columnBytes);
  const header: HeaderEntry[] = columns.map((c, i) => (c.type === 'dict'
    ? { name: c.name, type: 'dict', length: c.codes.length, bytes: bodies[i].length, dictionary: c.dictionary }
    : c.type === 'utf8'
      ? { name: c.name, type: 'str', length: c.starts.length, bytes: bodies[i].length }
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

function readHeader(blob: Uint8Array): { header: HeaderEntry[]; offsets: number[] } {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const hlen = dv.getUint32(0, true);
  const header = JSON.parse(dec.decode(blob.subarray(4, 4 + hlen))) as HeaderEntry[];
  const offsets: number[] = [];
  let o = align8(4 + hlen);
  for (const h of header) {
    offsets.push(o);
    o = align8(o + h.bytes);
  }
  return { header, offsets };
}

function decodeEntry(blob: Uint8Array, h: HeaderEntry, o: number): PackedColumn {
  // Copy into a fresh buffer: the SQLite buffer need not be aligned for typed-array views (and a
  // Node Buffer's slice() would not copy).
  const bytes = Uint8Array.prototype.slice.call(blob, o, o + h.bytes);
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
}

export function unpackColumns(blob: Uint8Array): PackedColumn[] {
  const { header, offsets } = readHeader(blob);
  return header.map((h, i) => decodeEntry(blob, h, offsets[i]));
}

/**
 * A packed batch read lazily: the header is parsed once, a column is decoded only when asked for,
 * and single values of fixed-width and dictionary columns are read straight from the bytes (little-endian,
 * the byte order of the typed arrays packColumns() wrote on every platform Outpost runs on). Values
 * are exactly those unpackColumns() gives.
 */
export interface PackedBatch {
  /** the columns' names, in stored order */
  readonly names: readonly string[];
  /** one column decoded (memoized), or undefined when the batch has none of that name */
  column(name: string): PackedColumn | undefined;
  /** a column stored as dictionary codes, undecoded (undefined when it is not, or absent) */
  codes(name: string): { codes: Int32Array; dictionary: readonly string[] } | undefined;
  /** the value of row `i` of column `name` (undefined when the batch has no such column) */
  value(name: string, i: number): string | number | null | undefined;
}

export function openPacked(blob: Uint8Array): PackedBatch {
  const { header, offsets } = readHeader(blob);
  const at = new Map(header.map((h, i) => [h.name, i]));
  const decoded = new Map<number, PackedColumn>();
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const column = (k: number): PackedColumn => {
    let c = decoded.get(k);
    if (!c) decoded.set(k, (c = decodeEntry(blob, header[k], offsets[k])));
    return c;
  };
  return {
    names: header.map((h) => h.name),
    column: (name) => { const k = at.get(name); return k === undefined ? undefined : column(k); },
    codes(name) {
      const k = at.get(name);
      const h = k === undefined ? undefined : header[k];
      if (k === undefined || h?.type !== 'dict') return undefined;
      return { codes: new Int32Array(Uint8Array.prototype.slice.call(blob, offsets[k], offsets[k] + h.bytes).buffer, 0, h.length), dictionary: h.dictionary ?? [] };
    },
    value(name, i) {
      const k = at.get(name);
      if (k === undefined) return undefined;
      const h = header[k];
      if (i < 0 || i >= h.length) return undefined;
      const o = offsets[k];
      switch (h.type) {
        case 'f32': return dv.getFloat32(o + 4 * i, true);
        case 'f64': return dv.getFloat64(o + 8 * i, true);
        case 'i32': return dv.getInt32(o + 4 * i, true);
        case 'dict': return h.dictionary?.[dv.getInt32(o + 4 * i, true)] ?? null;
        case 'str': return column(k).values[i] as string | null;
      }
    },
  };
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
