// A column chunk of the Parquet output written straight from typed columns (`parquet-column.ts`).
// It writes the bytes hyparquet-writer 0.17 writes for the same values under the options the sink
// uses (flat OPTIONAL columns, Snappy, statistics on, 1 MiB pages, no page indexes), so outputs stay
// byte for byte what they were: its rules are ported one for one — when to use a dictionary (a
// 1,000-value sample, then "dictionary + indexes at most half the plain bytes"), where pages end,
// the RLE/bit-packed hybrid, min/max in UTF-8 byte order — while the values never become JS
// arrays of boxed numbers, bigints or per-row byte arrays (test/io-parquet-encode.test.ts compares
// whole files with hyparquet-writer's). Page headers are hyparquet-writer's own code; Snappy is its
// algorithm writing into a reused buffer (`snappy-compress.ts`).

import type { ColumnChunk, Encoding, ParquetType, Statistics } from 'hyparquet';
import type { Writer } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { ByteBuilder } from './byte-builder.ts';
import type { ColumnBuffer } from './parquet-column.ts';
import { SnappyCompressor } from './snappy-compress.ts';

/** hyparquet-writer's default page size: a page ends once its values' estimated bytes reach it. */
const PAGE_SIZE = 1_048_576;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface Dictionary {
  values: (number | string)[];
  /** per row: the value's index in `values`, -1 for a null */
  indexes: Int32Array;
}

/** Scratch space reused from chunk to chunk (one encoder per sink). */
export class ChunkEncoder {
  private readonly levels = new ByteBuilder(64 * 1024);
  private readonly page = new ByteBuilder(1024 * 1024);
  private readonly snappy = new SnappyCompressor();
  private compact = new Int32Array(0);

  /** Append `column`'s rows to `writer` as one column chunk; returns its metadata for the footer. */
  encode(writer: Writer, column: ColumnBuffer): ColumnChunk {
    const offsetStart = writer.offset;
    const type: ParquetType = column.physical === 'STRING' ? 'BYTE_ARRAY' : column.physical;
    const statistics = chunkStatistics(column);
    const dictionary = chooseDictionary(column);
    let uncompressedSize = 0;
    let dictionaryPageOffset: bigint | undefined;
    const encodings: Encoding[] = [];
    if (dictionary) {
      dictionaryPageOffset = BigInt(writer.offset);
      uncompressedSize += this.dictionaryPage(writer, column, dictionary.values);
      encodings.push('PLAIN');
    }
    const encoding: Encoding = dictionary ? 'RLE_DICTIONARY' : 'PLAIN';
    encodings.push(encoding);
    const utf8 = !dictionary && column.physical === 'STRING' ? utf8Lengths(column) : undefined;
    const pages = pageBoundaries(column, dictionary !== undefined, utf8);
    const dataPageOffset = BigInt(writer.offset);
    for (let p = 0; p + 1 < pages.length; p++) uncompressedSize += this.dataPage(writer, column, dictionary, pages[p], pages[p + 1]);
    return {
      meta_data: {
        type,
        encodings,
        path_in_schema: [column.name],
        codec: 'SNAPPY',
        num_values: BigInt(column.rows),
        total_compressed_size: BigInt(writer.offset - offsetStart),
        total_uncompressed_size: BigInt(uncompressedSize),
        data_page_offset: dataPageOffset,
        dictionary_page_offset: dictionaryPageOffset,
        statistics,
        encoding_stats: [
          ...(dictionary ? [{ page_type: 'DICTIONARY_PAGE' as const, encoding: 'PLAIN' as const, count: 1 }] : []),
          { page_type: 'DATA_PAGE_V2', encoding, count: pages.length - 1 },
        ],
        geospatial_statistics: undefined,
      },
      file_offset: BigInt(offsetStart),
    };
  }

  /** The dictionary page; returns its uncompressed size with the header. */
  private dictionaryPage(writer: Writer, column: ColumnBuffer, values: (number | string)[]): number {
    const page = this.page;
    page.reset();
    if (column.physical === 'STRING') for (const s of values as string[]) byteArray(page, s);
    else {
      const n = values.length;
      page.ensure(n * 8);
      const view = new DataView(page.buf.buffer, page.buf.byteOffset);
      for (let i = 0; i < n; i++) page.pos = putNumber(view, page.pos, column.physical, values[i] as number);
    }
    const bytes = page.bytes();
    const compressed = this.snappy.compress(bytes);
    const headerStart = writer.offset;
    writePageHeader(writer, {
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: bytes.length,
      compressed_page_size: compressed.length,
      dictionary_page_header: { num_values: values.length, encoding: 'PLAIN' },
    });
    const headerSize = writer.offset - headerStart;
    writer.appendBytes(compressed);
    return headerSize + bytes.length;
  }

  /** Rows [start, end) as one DATA_PAGE_V2; returns its uncompressed size with the header. */
  private dataPage(writer: Writer, column: ColumnBuffer, dictionary: Dictionary | undefined, start: number, end: number): number {
    const defined = column.defined;
    let nulls = 0;
    for (let i = start; i < end; i++) nulls += 1 - defined[i];
    const levels = this.levels;
    levels.reset();
    writeHybrid(levels, defined, start, end, 1);
    const page = this.page;
    page.reset();
    if (dictionary) this.indexes(dictionary.indexes, start, end, nulls);
    else if (column.physical === 'STRING') plainStrings(page, column, start, end);
    else plainNumbers(page, column, start, end, nulls);
    const pageBytes = page.bytes();
    const compressed = this.snappy.compress(pageBytes);
    const headerStart = writer.offset;
    writePageHeader(writer, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: levels.pos + pageBytes.length,
      compressed_page_size: levels.pos + compressed.length,
      data_page_header_v2: {
        num_values: end - start,
        num_nulls: nulls,
        num_rows: end - start,
        encoding: dictionary ? 'RLE_DICTIONARY' : 'PLAIN',
        definition_levels_byte_length: levels.pos,
        repetition_levels_byte_length: 0,
        is_compressed: true,
      },
    });
    const headerSize = writer.offset - headerStart;
    writer.appendBytes(levels.bytes());
    writer.appendBytes(compressed);
    return headerSize + levels.pos + pageBytes.length;
  }

  /** The non-null rows' dictionary indexes: bit width, then the hybrid encoding. */
  private indexes(indexes: Int32Array, start: number, end: number, nulls: number): void {
    let values: Int32Array;
    if (nulls === 0) values = indexes.subarray(start, end);
    else {
      if (this.compact.length < end - start) this.compact = new Int32Array(end - start);
      let m = 0;
      for (let i = start; i < end; i++) if (indexes[i] >= 0) this.compact[m++] = indexes[i];
      values = this.compact.subarray(0, m);
    }
    let max = 0;
    for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
    const bitWidth = Math.ceil(Math.log2(max + 1));
    this.page.byte(bitWidth);
    writeHybrid(this.page, values, 0, values.length, bitWidth);
  }
}

function putNumber(view: DataView, pos: number, physical: ColumnBuffer['physical'], v: number): number {
  switch (physical) {
    case 'FLOAT': view.setFloat32(pos, v, true); return pos + 4;
    case 'DOUBLE': view.setFloat64(pos, v, true); return pos + 8;
    case 'INT32': view.setInt32(pos, v, true); return pos + 4;
    default: { // INT64 from an integer-valued double: exact halves
      const hi = Math.floor(v / 4294967296);
      view.setUint32(pos, v - hi * 4294967296, true);
      view.setInt32(pos + 4, hi, true);
      return pos + 8;
    }
  }
}

/** PLAIN values of the non-null rows of [start, end). */
function plainNumbers(page: ByteBuilder, column: ColumnBuffer, start: number, end: number, nulls: number): void {
  const numbers = column.numbers!;
  const width = column.physical === 'FLOAT' || column.physical === 'INT32' ? 4 : 8;
  page.ensure((end - start) * width);
  if (nulls === 0 && LITTLE_ENDIAN && column.physical !== 'INT64') {
    page.append(new Uint8Array(numbers.buffer, numbers.byteOffset + start * width, (end - start) * width));
    return;
  }
  const view = new DataView(page.buf.buffer, page.buf.byteOffset);
  const defined = column.defined;
  let pos = page.pos;
  for (let i = start; i < end; i++) if (defined[i]) pos = putNumber(view, pos, column.physical, numbers[i]);
  page.pos = pos;
}

/** PLAIN byte array: length (4 bytes, little-endian), then the UTF-8 bytes. */
function byteArray(page: ByteBuilder, s: string): void {
  page.ensure(4);
  const at = page.pos;
  page.pos += 4;
  page.text(s);
  const n = page.pos - at - 4;
  const buf = page.buf;
  buf[at] = n & 0xff;
  buf[at + 1] = (n >>> 8) & 0xff;
  buf[at + 2] = (n >>> 16) & 0xff;
  buf[at + 3] = n >>> 24;
}

function plainStrings(page: ByteBuilder, column: ColumnBuffer, start: number, end: number): void {
  const defined = column.defined;
  if (column.strings) {
    const strings = column.strings;
    for (let i = start; i < end; i++) if (defined[i]) byteArray(page, strings[i]!);
  } else {
    const ids = column.ids!;
    const table = column.table;
    for (let i = start; i < end; i++) if (defined[i]) byteArray(page, table[ids[i]]);
  }
}

/** The string of row i (a non-null row). */
function stringAt(column: ColumnBuffer, i: number): string {
  return column.strings ? column.strings[i]! : column.table[column.ids![i]];
}

/** UTF-8 length of each row's string (0 for nulls), as TextEncoder would write it. */
function utf8Lengths(column: ColumnBuffer): Int32Array {
  const out = new Int32Array(column.rows);
  const defined = column.defined;
  for (let i = 0; i < column.rows; i++) if (defined[i]) out[i] = utf8Length(stringAt(column, i));
  return out;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3; // BMP, or a lone surrogate (written as U+FFFD)
  }
  return n;
}

/**
 * Page starts, then the end: a page ends at the first row where its values' estimated bytes reach
 * PAGE_SIZE (nulls count 0; dictionary indexes 4; strings their UTF-8 length), and that row starts
 * the next page — hyparquet-writer's getPageBoundaries.
 */
function pageBoundaries(column: ColumnBuffer, dictionary: boolean, utf8: Int32Array | undefined): number[] {
  const n = column.rows;
  const defined = column.defined;
  const width = dictionary ? 4 : column.physical === 'FLOAT' || column.physical === 'INT32' ? 4 : 8;
  const bounds = [0];
  let start = 0;
  let bytes = 0;
  if (!utf8 && column.nulls === 0) {
    // every row counts `width`: a page ends at the row that brings it to PAGE_SIZE
    const perPage = Math.ceil(PAGE_SIZE / width);
    for (let end = perPage - 1; end < n; end += perPage - 1) {
      if (end <= start) break;
      bounds.push(end);
      start = end;
    }
    if (start < n) bounds.push(n);
    return bounds;
  }
  for (let i = 0; i < n; i++) {
    const size = utf8 ? utf8[i] : defined[i] * width;
    bytes += size;
    if (bytes >= PAGE_SIZE && i > start) {
      bounds.push(i);
      start = i;
      bytes = size;
    }
  }
  if (start < n) bounds.push(n);
  return bounds;
}

/**
 * hyparquet-writer's dictionary choice: reject when a 1,000-value sample spread over the chunk has
 * distinct bytes over 90 % of its bytes; else build it, and keep it when dictionary plus bit-packed
 * indexes take at most half the PLAIN bytes. Sizes: strings count their UTF-16 length (+4 per
 * value), numbers their width — its estimates, not the written bytes.
 */
function chooseDictionary(column: ColumnBuffer): Dictionary | undefined {
  const n = column.rows;
  const defined = column.defined;
  const isString = column.physical === 'STRING';
  const prefix = isString ? 4 : 0;
  const width = column.physical === 'FLOAT' || column.physical === 'INT32' ? 4 : 8;
  // a key per row that is equal exactly when the values are: the number, the string, or the table id
  const ids = column.ids;
  const numbers = column.numbers;
  const strings = column.strings;
  const keyAt = (i: number): number | string | null => (!defined[i] ? null : ids ? ids[i] : numbers ? numbers[i] : strings![i]);
  const sizeOf = (key: number | string): number => (!isString ? width : typeof key === 'string' ? key.length : column.table[key].length);

  const sampleSize = Math.min(n, 1000);
  const sampleSizes = new Map<number | string | null, number>();
  let sampleDistinct = 0;
  let sampleTotal = 0;
  for (let i = 0; i < sampleSize; i++) {
    const key = keyAt(sampleSize === 1 ? 0 : Math.floor((i * (n - 1)) / (sampleSize - 1)));
    let size = sampleSizes.get(key);
    if (size === undefined) {
      size = key === null ? 0 : sizeOf(key) + prefix;
      sampleSizes.set(key, size);
      sampleDistinct += size;
    }
    sampleTotal += size;
  }
  if (!sampleTotal || sampleDistinct / sampleTotal > 0.9) return undefined;

  const keys: (number | string)[] = [];
  const indexes = new Int32Array(n);
  const sizes: number[] = [];
  let dictSize = 0;
  let totalSize = 0;
  let nonNull = 0;
  if (ids) {
    // dictionary columns: table ids are small integers, so the lookup is an array
    const slot = new Int32Array(column.table.length).fill(-1);
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      if (id < 0) {
        indexes[i] = -1;
        continue;
      }
      nonNull++;
      let index = slot[id];
      if (index < 0) {
        index = slot[id] = keys.length;
        keys.push(id);
        sizes.push(column.table[id].length);
        dictSize += sizes[index];
      }
      totalSize += sizes[index];
      indexes[i] = index;
    }
  } else if (numbers) {
    // numbers: open addressing on the value (32-bit ones on their bits); a dictionary that can no
    // longer pay (more distinct values than half the non-null ones) is given up early, as the end
    // check would give it up
    const giveUp = (n - column.nulls) / 2;
    const fits = numbers instanceof Float64Array ? indexDoubles(numbers, defined, n, giveUp, indexes, keys) : indexBits(numbers, defined, n, giveUp, indexes, keys);
    if (!fits) return undefined;
    nonNull = n - column.nulls;
    dictSize = keys.length * width;
    totalSize = nonNull * width;
  } else {
    const seen = new Map<number | string, number>();
    for (let i = 0; i < n; i++) {
      if (!defined[i]) {
        indexes[i] = -1;
        continue;
      }
      nonNull++;
      const key = strings![i]!;
      let index = seen.get(key);
      if (index === undefined) {
        index = keys.length;
        seen.set(key, index);
        keys.push(key);
        sizes.push(sizeOf(key));
        dictSize += sizes[index];
      }
      totalSize += sizes[index];
      indexes[i] = index;
    }
  }
  const bitWidth = Math.ceil(Math.log2(keys.length));
  const indexSize = Math.ceil((nonNull * bitWidth) / 8);
  if (2 * (dictSize + keys.length * prefix + indexSize) > totalSize + nonNull * prefix) return undefined;
  const values = ids ? keys.map((id) => column.table[id as number]) : keys;
  return { values, indexes };
}

const hash32 = (k: number, mask: number): number => {
  let h = Math.imul(k, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) & mask;
};

/**
 * Dictionary indexes of FLOAT / INT32 values, keyed by their 32-bit patterns (a float's -0 as 0's:
 * equal patterns exactly when the values are equal, NaN never comes here); the first value of each
 * key goes to `keys`. False once there are more than `giveUp` keys.
 */
function indexBits(values: Float32Array | Int32Array, defined: Uint8Array, n: number, giveUp: number, indexes: Int32Array, keys: (number | string)[]): boolean {
  const bits = new Int32Array(values.buffer, values.byteOffset, n);
  const foldZero = values instanceof Float32Array;
  let size = 2048;
  let slots = new Int32Array(size); // key index + 1, 0 = empty
  let keyBits = new Int32Array(size >> 1);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!defined[i]) {
      indexes[i] = -1;
      continue;
    }
    let k = bits[i];
    if (foldZero && k === -2147483648) k = 0;
    const mask = size - 1;
    let at = hash32(k, mask);
    let slot = slots[at];
    while (slot !== 0 && keyBits[slot - 1] !== k) {
      at = (at + 1) & mask;
      slot = slots[at];
    }
    if (slot !== 0) {
      indexes[i] = slot - 1;
      continue;
    }
    keyBits[count] = k;
    keys.push(values[i]);
    indexes[i] = count;
    slots[at] = ++count;
    if (count > giveUp) return false;
    if (count * 2 >= size) {
      size *= 2;
      const grown = new Int32Array(size >> 1);
      grown.set(keyBits);
      keyBits = grown;
      slots = new Int32Array(size);
      for (let j = 0; j < count; j++) {
        let to = hash32(keyBits[j], size - 1);
        while (slots[to] !== 0) to = (to + 1) & (size - 1);
        slots[to] = j + 1;
      }
    }
  }
  return true;
}

/** The same for DOUBLE / INT64 values (Map semantics: -0 is 0), hashed on the double's two halves. */
function indexDoubles(values: Float64Array, defined: Uint8Array, n: number, giveUp: number, indexes: Int32Array, keys: (number | string)[]): boolean {
  const seen = new NumberIndex(1024);
  for (let i = 0; i < n; i++) {
    if (!defined[i]) {
      indexes[i] = -1;
      continue;
    }
    const index = seen.indexOf(values[i]);
    if (index === keys.length) {
      keys.push(values[i]);
      if (keys.length > giveUp) return false;
    }
    indexes[i] = index;
  }
  return true;
}

/**
 * Distinct numbers in order of first appearance, equal as a Map's keys are (SameValueZero: -0 is 0;
 * NaN never comes here), hashed on the double's bits with linear probing.
 */
class NumberIndex {
  private slots: Int32Array;
  private readonly keys: number[] = [];
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);

  constructor(expected: number) {
    let size = 16;
    while (size < expected * 2) size *= 2;
    this.slots = new Int32Array(size);
  }

  private slotOf(v: number): number {
    this.f64[0] = v + 0; // -0 + 0 is +0: one key for both zeros
    let h = Math.imul(this.u32[0], 0x9e3779b1) ^ this.u32[1];
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & (this.slots.length - 1);
  }

  /** v's index, adding it (index = the count before) when new. */
  indexOf(v: number): number {
    const mask = this.slots.length - 1;
    let at = this.slotOf(v);
    for (;;) {
      const slot = this.slots[at];
      if (slot === 0) break;
      if (this.keys[slot - 1] === v) return slot - 1;
      at = (at + 1) & mask;
    }
    this.keys.push(v);
    this.slots[at] = this.keys.length;
    if (this.keys.length * 2 > this.slots.length) this.grow();
    return this.keys.length - 1;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let k = 0; k < this.keys.length; k++) {
      let at = this.slotOf(this.keys[k]);
      while (this.slots[at] !== 0) at = (at + 1) & mask;
      this.slots[at] = k + 1;
    }
  }
}

/**
 * Min/max of the non-null values (strings in UTF-8 byte order; a zero min is -0, a zero max +0;
 * INT64 as bigints), null count, and for FLOAT/DOUBLE a NaN count of 0 (NaN is written as null).
 */
function chunkStatistics(column: ColumnBuffer): Statistics {
  const n = column.rows;
  const defined = column.defined;
  let min: number | string | undefined;
  let max: number | string | undefined;
  if (column.numbers) {
    const v = column.numbers;
    let lo = Infinity;
    let hi = -Infinity;
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!defined[i]) continue;
      const x = v[i];
      if (!any) {
        lo = hi = x;
        any = true;
        continue;
      }
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (any) {
      min = lo;
      max = hi;
    }
  } else if (column.ids) {
    // each distinct string once: equal strings give equal bounds
    const seen = new Uint8Array(column.table.length);
    const ids = column.ids;
    for (let i = 0; i < n; i++) if (ids[i] >= 0) seen[ids[i]] = 1;
    for (let id = 0; id < seen.length; id++) {
      if (!seen[id]) continue;
      const s = column.table[id];
      if (min === undefined || compareStrings(s, min as string) < 0) min = s;
      if (max === undefined || compareStrings(s, max as string) > 0) max = s;
    }
  } else {
    const strings = column.strings!;
    for (let i = 0; i < n; i++) {
      const s = strings[i];
      if (s === null) continue;
      if (min === undefined || compareStrings(s, min as string) < 0) min = s;
      if (max === undefined || compareStrings(s, max as string) > 0) max = s;
    }
  }
  const isFloat = column.physical === 'FLOAT' || column.physical === 'DOUBLE';
  let minValue: number | string | bigint | undefined = min;
  let maxValue: number | string | bigint | undefined = max;
  if (column.physical === 'INT64') {
    if (min !== undefined) minValue = BigInt(min);
    if (max !== undefined) maxValue = BigInt(max);
  } else {
    if (minValue === 0) minValue = -0;
    if (maxValue === 0) maxValue = 0;
  }
  return { min_value: minValue, max_value: maxValue, null_count: BigInt(column.nulls), nan_count: isFloat ? 0n : undefined } as Statistics;
}

/** Strings in UTF-8 byte order = code point order (lone surrogates as U+FFFD, as TextEncoder writes them). */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  let i = 0;
  while (i < length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i > 0) {
    const prev = a.charCodeAt(i - 1);
    if (prev >= 0xd800 && prev <= 0xdbff) i--; // the difference is in the low half of a pair
  }
  while (i < a.length && i < b.length) {
    const x = codePoint(a, i);
    const y = codePoint(b, i);
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

function codePoint(s: string, i: number): number {
  const c = s.codePointAt(i) ?? 0xfffd;
  return c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
}

/**
 * The RLE / bit-packed hybrid of values[start, end) — hyparquet-writer's writeRleBitPackedHybrid:
 * a run of 8 or more equal values is an RLE run; anything else is bit-packed 8 at a time (the last
 * group padded with zeros), a group starting wherever the previous one ended.
 */
function writeHybrid(out: ByteBuilder, values: Uint8Array | Int32Array, start: number, end: number, bitWidth: number): void {
  let pendingGroups = 0;
  let packedStart = 0;
  let i = start;
  while (i < end) {
    const first = values[i];
    let run = 1;
    while (i + run < end && values[i + run] === first) run++;
    if (run >= 8) {
      if (pendingGroups) {
        bitPacked(out, values, packedStart, end, pendingGroups, bitWidth);
        pendingGroups = 0;
      }
      varInt(out, run << 1);
      const bytes = (bitWidth + 7) >> 3;
      out.ensure(bytes);
      for (let j = 0; j < bytes; j++) out.buf[out.pos++] = (first >> (j << 3)) & 0xff;
      i += run;
    } else {
      if (pendingGroups === 0) packedStart = i;
      pendingGroups++;
      i += 8;
    }
  }
  if (pendingGroups) bitPacked(out, values, packedStart, end, pendingGroups, bitWidth);
}

function bitPacked(out: ByteBuilder, values: Uint8Array | Int32Array, start: number, end: number, groups: number, bitWidth: number): void {
  varInt(out, (groups << 1) | 1);
  if (bitWidth === 0) return;
  out.ensure(groups * bitWidth + 1);
  const buf = out.buf;
  let pos = out.pos;
  const mask = (1 << bitWidth) - 1;
  let acc = 0;
  let bits = 0;
  const last = start + groups * 8;
  for (let idx = start; idx < last; idx++) {
    const v = idx < end ? values[idx] & mask : 0;
    acc |= v << bits;
    bits += bitWidth;
    while (bits >= 8) {
      buf[pos++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) buf[pos++] = acc & 0xff;
  out.pos = pos;
}

function varInt(out: ByteBuilder, value: number): void {
  out.ensure(5);
  while ((value & ~0x7f) !== 0) {
    out.buf[out.pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out.buf[out.pos++] = value;
}
