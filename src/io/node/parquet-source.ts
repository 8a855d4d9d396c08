// A Parquet file as a TableSource, through hyparquet (+ hyparquet-compressors for ZSTD, GZIP,
// Brotli, LZ4). Row group by row group, only the requested columns' chunks are read (one positional
// read each) and decoded once into group-length columns (../common/parquet-decode.ts); batches are
// copied out of those, so memory is bounded by one row group of the requested columns, not the
// file's length. ResumePoint.offset is a row index.
// Value conversions are described in ../common/parquet-cells.ts.

import type { FileHandle } from 'node:fs/promises';
import { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, ColumnData, FileMetaData } from 'hyparquet';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { getTreePath, isFlatColumn } from 'hyparquet/src/schema.js';
import type { ColumnDecoder, SchemaTree } from 'hyparquet/src/types.js';
import { compressors } from 'hyparquet-compressors';
import { OutpostError } from '../../common/errors.ts';
import { allocateColumns, copyRows } from '../common/cells.ts';
import { copyStringCodes, decodeFlatChunk, fillFromChunk, stringCodesFromChunk } from '../common/parquet-decode.ts';
import type { StringCodes } from '../common/parquet-decode.ts';
import { fillFromParquet } from '../common/parquet-cells.ts';
import { resolveRequest } from '../common/request.ts';
import type { Column, ColumnBatch, ColumnRequest, ReadOptions, TableSource } from '../common/table.ts';
import { readAt } from './input-file.ts';
import { throwIfAborted } from './stream.ts';

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

function fileBuffer(handle: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const bytes = await readAt(handle, start, (end ?? size) - start);
      return bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
    },
  };
}

export async function openParquetSource(file: string, handle: FileHandle, size: number): Promise<TableSource> {
  const head = await readAt(handle, 0, Math.min(4, size));
  const tail = size >= 8 ? await readAt(handle, size - 4, 4) : new Uint8Array(0);
  if (size < 12 || MAGIC.some((b, i) => head[i] !== b)) {
    throw new OutpostError('input', 'not a Parquet file (the PAR1 markers are missing)', { file });
  }
  if (MAGIC.some((b, i) => tail[i] !== b)) {
    throw new OutpostError('input', 'the Parquet file is truncated or damaged: it starts with PAR1 but does not end with it (the footer is missing)', { file });
  }
  const buffer = fileBuffer(handle, size);
  let metadata: FileMetaData;
  let columns: string[];
  try {
    metadata = await parquetMetadataAsync(buffer);
    columns = parquetSchema(metadata).children.map((c) => c.element.name);
  } catch (e) {
    // hyparquet's own words when it has them ("parquet metadata length … exceeds …"); a JavaScript
    // error from reading a footer that is not Thrift at all says nothing a user can act on
    const why = e instanceof TypeError || e instanceof RangeError ? 'its footer is damaged (not valid Parquet metadata)' : (e as Error).message;
    throw new OutpostError('input', `cannot read the Parquet metadata: ${why}`, { file });
  }
  if (Number(metadata.num_rows) === 0) throw new OutpostError('input', 'the file has no data rows', { file });
  return new ParquetSource(file, handle, size, buffer, metadata, columns);
}

class ParquetSource implements TableSource {
  readonly path: string;
  readonly format = 'parquet' as const;
  readonly columns: readonly string[];
  readonly sizeBytes: number;
  readonly totalRows: number;
  private readonly handle: FileHandle;
  private readonly buffer: AsyncBuffer;
  private readonly metadata: FileMetaData;
  private readonly schema: SchemaTree;

  constructor(file: string, handle: FileHandle, size: number, buffer: AsyncBuffer, metadata: FileMetaData, columns: string[]) {
    this.path = file;
    this.handle = handle;
    this.sizeBytes = size;
    this.buffer = buffer;
    this.metadata = metadata;
    this.columns = columns;
    this.totalRows = Number(metadata.num_rows);
    this.schema = parquetSchema(metadata);
  }

  async *batches(request: readonly ColumnRequest[], options: ReadOptions): AsyncGenerator<ColumnBatch> {
    resolveRequest(this.path, this.columns, request);
    const batchRows = Math.max(1, Math.floor(options.batchRows));
    let next = options.from?.offset ?? 0;
    if (next < 0 || next > this.totalRows || !Number.isInteger(next)) {
      throw new OutpostError('input', `cannot resume at row ${next}: the file has ${this.totalRows} rows (did it change since the job started?)`, { file: this.path });
    }
    // batches span row groups: only the current group's decoded columns are held
    let columns: Column[] = [];
    let length = 0;
    let filled = 0;
    let groupStart = 0;
    const groups = this.metadata.row_groups;
    for (let g = 0; g < groups.length; g++) {
      const groupRows = Number(groups[g].num_rows);
      const groupEnd = groupStart + groupRows;
      if (groupEnd > next && groupRows > 0) {
        throwIfAborted(options.signal, this.path);
        let decoded: (Column | StringCodes)[] | null = await this.readGroup(g, groupStart, groupRows, request);
        while (next < groupEnd) {
          if (filled === 0) {
            length = Math.min(batchRows, this.totalRows - next);
            columns = allocateColumns(request, length);
          }
          const take = Math.min(length - filled, groupEnd - next);
          for (let i = 0; i < request.length; i++) {
            const src = decoded![i];
            if ('codes' in src) copyStringCodes(src, next - groupStart, columns[i], filled, take);
            else copyRows(src, next - groupStart, columns[i], filled, take);
          }
          if (next + take === groupEnd) decoded = null; // let it go before the next group is decoded (a yield may come first)
          filled += take;
          next += take;
          if (filled === length) {
            yield { firstRow: next - length + 1, length, columns, rowProblems: [], end: { offset: next, row: next }, start: next - length };
            filled = 0;
            throwIfAborted(options.signal, this.path);
          }
        }
      }
      groupStart = groupEnd;
    }
  }

  /**
   * Row group `g` of the requested columns, decoded once, as group-length columns in request order.
   * Flat columns go through parquet-decode.ts; nested ones (lists, structs: unparsable for a
   * number, JSON text for a string) through hyparquet's reader.
   */
  private async readGroup(g: number, groupStart: number, groupRows: number, request: readonly ColumnRequest[]): Promise<(Column | StringCodes)[]> {
    const where = `row group ${g + 1} of ${this.metadata.row_groups.length} (rows ${groupStart + 1}–${groupStart + groupRows})`;
    // columns are allocated when filled: a dictionary-encoded string column stays as codes
    const out: (Column | StringCodes | undefined)[] = request.map(() => undefined);
    const column = (i: number): Column => (out[i] = allocateColumns([request[i]], groupRows)[0]) as Column;
    const names = [...new Set(request.map((r) => r.name))];
    const nested = names.filter((n) => !isFlatColumn(getTreePath(this.schema, [n])));
    const chunks = nested.length > 0 ? await this.readNested(nested, where, groupStart, groupRows) : new Map<string, ColumnData[]>();
    for (const name of names) {
      const targets = request.flatMap((r, i) => (r.name === name ? [i] : []));
      if (nested.includes(name)) {
        for (const t of targets) fill(column(t), 0, chunks.get(name) ?? [], groupStart, groupRows);
        continue;
      }
      const meta = this.metadata.row_groups[g].columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name)?.meta_data;
      const fail = (reason: string) => new OutpostError('input', `cannot read Parquet ${where}, column "${name}": ${reason}`, { file: this.path, row: groupStart + 1, field: name });
      if (!meta) throw fail('the row group has no chunk for this column');
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const end = start + Number(meta.total_compressed_size);
      if (start < 4 || end > this.sizeBytes - 8) throw fail(`its bytes ${start}–${end} lie outside the file's data (${this.sizeBytes} bytes): the file is truncated or damaged`);
      const bytes = await readAt(this.handle, start, end - start);
      try {
        const path = getTreePath(this.schema, [name]);
        const decoder: ColumnDecoder = { pathInSchema: [name], element: path[path.length - 1].element, schemaPath: path, type: meta.type, codec: meta.codec, parsers: DEFAULT_PARSERS, compressors };
        const chunk = decodeFlatChunk(bytes, decoder, groupRows);
        if (chunk.rows !== groupRows) throw new Error(`its pages hold ${chunk.rows} rows, the row group ${groupRows}`);
        for (const t of targets) {
          const codes = request[t].kind === 'string' ? stringCodesFromChunk(chunk) : undefined;
          if (codes) out[t] = codes;
          else fillFromChunk(column(t), chunk);
        }
      } catch (e) {
        throw fail((e as Error).message);
      }
    }
    return out as (Column | StringCodes)[];
  }

  /** Nested columns of one row group through hyparquet's reader (assembles lists and structs). */
  private async readNested(names: string[], where: string, groupStart: number, groupRows: number): Promise<Map<string, ColumnData[]>> {
    const chunks = new Map<string, ColumnData[]>();
    try {
      await parquetRead({
        file: this.buffer,
        metadata: this.metadata,
        columns: names,
        rowStart: groupStart,
        rowEnd: groupStart + groupRows,
        compressors,
        onChunk: (chunk) => {
          const list = chunks.get(chunk.columnName) ?? [];
          list.push(chunk);
          chunks.set(chunk.columnName, list);
        },
      });
    } catch (e) {
      throw new OutpostError('input', `cannot read Parquet ${where}: ${(e as Error).message}`, { file: this.path, row: groupStart + 1 });
    }
    return chunks;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Copy `length` rows starting at absolute row `first` from the decoded chunks into column rows from `at`. */
function fill(column: Column, at: number, chunks: readonly ColumnData[], first: number, length: number): void {
  let row = first;
  const end = first + length;
  for (const chunk of chunks) {
    if (chunk.rowEnd <= row || chunk.rowStart >= end) continue;
    const from = Math.max(row, chunk.rowStart);
    const to = Math.min(end, chunk.rowEnd);
    if (from > row) break; // a gap (cannot happen with complete chunks): the rest stays missing below
    fillFromParquet(column, at + from - first, chunk.columnData, from - chunk.rowStart, to - from);
    row = to;
  }
  for (; row < end; row++) fillFromParquet(column, at + row - first, [null], 0, 1);
}
