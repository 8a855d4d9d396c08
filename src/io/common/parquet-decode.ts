// One flat Parquet column chunk (a top-level, non-repeated leaf: what a model's input columns are)
// decoded straight into Outpost columns. hyparquet's page-level pieces do the byte work (page
// headers, decompression, definition levels, dictionary indices, PLAIN values, type conversion);
// what this module skips is hyparquet's row assembly: `parquetRead` pushes every value (and every
// null) into one JS array per column chunk through its generic nested-list assembler and
// dereferences dictionary indices into a value per row, and the reader then copied that array into
// typed columns. Here the dictionary is converted to cells once (a few thousand entries) and each
// row is an index lookup, so a value is touched once after decompression.
// The cells are the same as `fillFromParquet` gives for the same values (see parquet-cells.ts);
// test/io-parquet-direct.test.ts checks that against hyparquet's own reader.

import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { convert } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { getMaxDefinitionLevel } from 'hyparquet/src/schema.js';
import type { ColumnDecoder, DataPageHeader, DataPageHeaderV2, DecodedArray, PageHeader } from 'hyparquet/src/types.js';
import { setNumberMissing } from './cells.ts';
import { fillFromParquet, parquetString } from './parquet-cells.ts';
import type { Column, NumberColumn } from './table.ts';

/** The values of one data page: definition levels (empty = every row present) and either dictionary indices or values. */
interface Page {
  rows: number;
  defined: ArrayLike<number>;
  indices?: ArrayLike<number>;
  values?: DecodedArray;
}

/** A decoded column chunk: its dictionary (converted, as hyparquet gives it) and data pages. */
export interface DecodedChunk {
  rows: number;
  maxDefinitionLevel: number;
  dictionary: DecodedArray | undefined;
  pages: Page[];
}

/**
 * Decode the pages of one column chunk (`bytes` from its first page to its end) up to `rows` rows.
 * Throws hyparquet's error (or a short-chunk one) for damaged bytes; the caller names the place.
 */
export function decodeFlatChunk(bytes: Uint8Array, decoder: ColumnDecoder, rows: number): DecodedChunk {
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  const maxDefinitionLevel = getMaxDefinitionLevel(decoder.schemaPath);
  const chunk: DecodedChunk = { rows: 0, maxDefinitionLevel, dictionary: undefined, pages: [] };
  while (chunk.rows < rows) {
    if (reader.offset >= bytes.byteLength - 1) throw new Error(`the column chunk ends after ${chunk.rows} of its ${rows} rows`);
    const header: PageHeader = parquetHeader(reader);
    if (reader.offset + header.compressed_page_size > bytes.byteLength) throw new Error(`a page of ${header.compressed_page_size} bytes runs past the end of the column chunk`);
    if (header.type === 'DICTIONARY_PAGE') {
      const { data } = readPage(reader, header, decoder, undefined, undefined, 0);
      chunk.dictionary = data ? convert(data, decoder) : undefined;
      continue;
    }
    const compressed = bytes.subarray(reader.offset, reader.offset + header.compressed_page_size);
    reader.offset += header.compressed_page_size;
    let page: { definitionLevels?: ArrayLike<number>; dataPage: DecodedArray };
    let encoding: string;
    let count: number;
    if (header.type === 'DATA_PAGE') {
      const daph = header.data_page_header;
      if (!daph) throw new Error('parquet data page header is undefined');
      page = readFlatPage(decompressPage(compressed, Number(header.uncompressed_page_size), decoder.codec, decoder.compressors), daph, decoder, maxDefinitionLevel);
      encoding = daph.encoding;
      count = daph.num_values;
    } else if (header.type === 'DATA_PAGE_V2') {
      const daph2 = header.data_page_header_v2;
      if (!daph2) throw new Error('parquet data page header v2 is undefined');
      page = readFlatPageV2(compressed, header, daph2, decoder, maxDefinitionLevel);
      encoding = daph2.encoding;
      count = daph2.num_rows;
    } else throw new Error(`parquet unsupported page type: ${header.type}`);
    const dictionaryEncoded = chunk.dictionary !== undefined && encoding.endsWith('_DICTIONARY');
    chunk.pages.push({
      rows: count,
      defined: page.definitionLevels ?? [],
      ...(dictionaryEncoded ? { indices: page.dataPage as ArrayLike<number> } : { values: convert(page.dataPage, decoder) }),
    });
    chunk.rows += count;
  }
  return chunk;
}

const NO_LEVELS = new Uint8Array(0);
const isDictionary = (encoding: string): boolean => encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY';

/**
 * hyparquet's readDataPage for a flat column, with definition levels and dictionary indices decoded
 * into typed arrays (its `new Array(rows)` per page was a third of the reader's time); the byte
 * decoding is its own readRleBitPackedHybrid and readPlain. Other encodings go to readDataPage.
 */
function readFlatPage(bytes: Uint8Array, daph: DataPageHeader, decoder: ColumnDecoder, maxDefinitionLevel: number): { definitionLevels?: ArrayLike<number>; dataPage: DecodedArray } {
  if (decoder.type === 'BOOLEAN' || (daph.encoding !== 'PLAIN' && !isDictionary(daph.encoding))) return readDataPage(bytes, daph, decoder);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = { view, offset: 0 };
  let definitionLevels: Uint8Array = NO_LEVELS;
  let nulls = 0;
  if (maxDefinitionLevel) {
    definitionLevels = new Uint8Array(daph.num_values);
    readRleBitPackedHybrid(reader, 32 - Math.clz32(maxDefinitionLevel), definitionLevels);
    for (let i = 0; i < definitionLevels.length; i++) if (definitionLevels[i] !== maxDefinitionLevel) nulls++;
    if (nulls === 0) definitionLevels = NO_LEVELS;
  }
  const values = daph.num_values - nulls;
  if (daph.encoding === 'PLAIN') return { definitionLevels, dataPage: readPlain(reader, decoder.type, values, decoder.element.type_length) };
  const bitWidth = view.getUint8(reader.offset++);
  if (!bitWidth) return { definitionLevels, dataPage: new Uint8Array(values) };
  const indices = new Int32Array(values);
  readRleBitPackedHybrid(reader, bitWidth, indices, view.byteLength - reader.offset);
  return { definitionLevels, dataPage: indices };
}

/** The same for DATA_PAGE_V2 (levels uncompressed before the values) — hyparquet's readDataPageV2. */
function readFlatPageV2(compressed: Uint8Array, header: PageHeader, daph2: DataPageHeaderV2, decoder: ColumnDecoder, maxDefinitionLevel: number): { definitionLevels?: ArrayLike<number>; dataPage: DecodedArray } {
  if (decoder.type === 'BOOLEAN' || (daph2.encoding !== 'PLAIN' && !isDictionary(daph2.encoding))) return readDataPageV2(compressed, header, decoder);
  const reader = { view: new DataView(compressed.buffer, compressed.byteOffset, compressed.byteLength), offset: daph2.repetition_levels_byte_length };
  let definitionLevels: Uint8Array | undefined;
  if (maxDefinitionLevel) {
    definitionLevels = new Uint8Array(daph2.num_values);
    readRleBitPackedHybrid(reader, 32 - Math.clz32(maxDefinitionLevel), definitionLevels, daph2.definition_levels_byte_length);
  }
  const uncompressedPageSize = header.uncompressed_page_size - daph2.definition_levels_byte_length - daph2.repetition_levels_byte_length;
  let page = compressed.subarray(reader.offset);
  if (daph2.is_compressed !== false) page = decompressPage(page, uncompressedPageSize, decoder.codec, decoder.compressors);
  const pageReader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
  const values = daph2.num_values - daph2.num_nulls;
  if (daph2.encoding === 'PLAIN') return { definitionLevels, dataPage: readPlain(pageReader, decoder.type, values, decoder.element.type_length) };
  const bitWidth = pageReader.view.getUint8(pageReader.offset++);
  const indices = new Int32Array(values);
  readRleBitPackedHybrid(pageReader, bitWidth, indices, uncompressedPageSize - 1);
  return { definitionLevels, dataPage: indices };
}

/** Fill rows [0, chunk.rows) of a fresh column (allocated for at least that many rows) from a decoded chunk. */
export function fillFromChunk(column: Column, chunk: DecodedChunk): void {
  const lookup = chunk.dictionary && dictionaryCells(column, chunk.dictionary);
  let row = 0;
  for (const page of chunk.pages) {
    const all = page.defined.length === 0;
    const values = page.values;
    const indices = page.indices;
    if (all && !indices) {
      // no nulls, PLAIN values: the page's values are its rows, in one call
      fillFromParquet(column, row, values!, 0, page.rows);
      row += page.rows;
      continue;
    }
    let v = 0;
    for (let i = 0; i < page.rows; i++, row++) {
      if (!all && page.defined[i] !== chunk.maxDefinitionLevel) {
        if (column.kind === 'string') column.values[row] = null;
        else setNumberMissing(column, row);
      } else if (indices) lookup!(row, indices[v++]);
      else fillFromParquet(column, row, values!, v++, 1);
    }
  }
}

/**
 * A string column whose every page is dictionary-encoded, kept as the dictionary's text and an
 * index per row (-1 = null) instead of a group-length array of strings: writing strings into a JS
 * array of a row group's length costs ~3× what a batch-sized one does (large-object space), so
 * batches take their strings straight from here (`copyStringCodes`). Undefined when a page is
 * PLAIN (then fillFromChunk). Damaged indices fail here, as in fillFromChunk.
 */
export interface StringCodes { text: (string | null)[]; codes: Int32Array }

export function stringCodesFromChunk(chunk: DecodedChunk): StringCodes | undefined {
  if (!chunk.dictionary || chunk.pages.some((p) => !p.indices)) return undefined;
  const text = Array.from(chunk.dictionary as ArrayLike<unknown>, parquetString);
  const codes = new Int32Array(chunk.rows);
  let row = 0;
  for (const page of chunk.pages) {
    const all = page.defined.length === 0;
    const indices = page.indices!;
    let v = 0;
    for (let i = 0; i < page.rows; i++, row++) {
      if (!all && page.defined[i] !== chunk.maxDefinitionLevel) codes[row] = -1;
      else {
        const index = indices[v++];
        if (index >= text.length) throw new Error(`dictionary index ${index} out of range (${text.length} entries)`);
        codes[row] = index;
      }
    }
  }
  return { text, codes };
}

/** Rows [from, from + count) of `src` into rows [at, at + count) of a string column. */
export function copyStringCodes(src: StringCodes, from: number, dst: Column, at: number, count: number): void {
  const { text, codes } = src;
  const values = dst.values as (string | null)[];
  for (let i = 0; i < count; i++) {
    const c = codes[from + i];
    values[at + i] = c < 0 ? null : text[c];
  }
}

/** Set a row from a dictionary entry: the entries are converted to cells once, rows copy them. */
function dictionaryCells(column: Column, dictionary: DecodedArray): (row: number, index: number) => void {
  if (column.kind === 'string') {
    const text = Array.from(dictionary as ArrayLike<unknown>, parquetString);
    return (row, index) => {
      if (index >= text.length) throw new Error(`dictionary index ${index} out of range (${text.length} entries)`);
      column.values[row] = text[index];
    };
  }
  const cells: NumberColumn = { kind: 'number', values: new Float64Array(dictionary.length), status: new Uint8Array(dictionary.length) };
  fillFromParquet(cells, 0, dictionary, 0, dictionary.length);
  const plain = !cells.bad?.size && !cells.markers?.size && !cells.reasons?.size && !cells.exact?.size;
  return (row, index) => {
    if (index >= dictionary.length) throw new Error(`dictionary index ${index} out of range (${dictionary.length} entries)`);
    if (plain) {
      column.values[row] = cells.values[index];
      column.status[row] = cells.status[index];
    } else fillFromParquet(column, row, dictionary, index, 1);
  };
}
