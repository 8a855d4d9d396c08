// A Parquet file as a TableSource, through hyparquet (+ hyparquet-compressors for ZSTD, GZIP,
// Brotli, LZ4). Only the requested columns are decoded, one row group at a time, so memory is
// bounded by the file's row-group size, not its length. ResumePoint.offset is a row index.
// Value conversions are described in ../common/parquet-cells.ts.

import type { FileHandle } from 'node:fs/promises';
import { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, ColumnData, FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { OutpostError } from '../../common/errors.ts';
import { allocateColumns } from '../common/cells.ts';
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
  if (size < 12 || MAGIC.some((b, i) => head[i] !== b || tail[i] !== b)) {
    throw new OutpostError('input', 'not a Parquet file (the PAR1 markers are missing)', { file });
  }
  const buffer = fileBuffer(handle, size);
  let metadata: FileMetaData;
  let columns: string[];
  try {
    metadata = await parquetMetadataAsync(buffer);
    columns = parquetSchema(metadata).children.map((c) => c.element.name);
  } catch (e) {
    throw new OutpostError('input', `cannot read the Parquet metadata: ${(e as Error).message}`, { file });
  }
  const duplicates = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (duplicates.length > 0) throw new OutpostError('input', `duplicate column names: ${[...new Set(duplicates)].map((d) => `"${d}"`).join(', ')}`, { file });
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

  constructor(file: string, handle: FileHandle, size: number, buffer: AsyncBuffer, metadata: FileMetaData, columns: string[]) {
    this.path = file;
    this.handle = handle;
    this.sizeBytes = size;
    this.buffer = buffer;
    this.metadata = metadata;
    this.columns = columns;
    this.totalRows = Number(metadata.num_rows);
  }

  async *batches(request: readonly ColumnRequest[], options: ReadOptions): AsyncGenerator<ColumnBatch> {
    resolveRequest(this.path, this.columns, request);
    const batchRows = Math.max(1, Math.floor(options.batchRows));
    let next = options.from?.offset ?? 0;
    if (next < 0 || next > this.totalRows || !Number.isInteger(next)) {
      throw new OutpostError('input', `cannot resume at row ${next}: the file has ${this.totalRows} rows (did it change since the job started?)`, { file: this.path });
    }
    const names = request.map((r) => r.name);
    // batches span row groups: only the current group's decoded columns are held
    let columns: Column[] = [];
    let length = 0;
    let filled = 0;
    let groupStart = 0;
    for (const group of this.metadata.row_groups) {
      const groupEnd = groupStart + Number(group.num_rows);
      if (groupEnd > next) {
        throwIfAborted(options.signal, this.path);
        const chunks = names.length > 0 ? await this.readGroup(names, next, groupEnd) : new Map<string, ColumnData[]>();
        while (next < groupEnd) {
          if (filled === 0) {
            length = Math.min(batchRows, this.totalRows - next);
            columns = allocateColumns(request, length);
          }
          const take = Math.min(length - filled, groupEnd - next);
          request.forEach((r, i) => fill(columns[i], filled, chunks.get(r.name) ?? [], next, take));
          filled += take;
          next += take;
          if (filled === length) {
            yield { firstRow: next - length + 1, length, columns, rowProblems: [], end: { offset: next, row: next } };
            filled = 0;
            throwIfAborted(options.signal, this.path);
          }
        }
      }
      groupStart = groupEnd;
    }
  }

  private async readGroup(names: string[], rowStart: number, rowEnd: number): Promise<Map<string, ColumnData[]>> {
    const chunks = new Map<string, ColumnData[]>();
    try {
      await parquetRead({
        file: this.buffer,
        metadata: this.metadata,
        columns: names,
        rowStart,
        rowEnd,
        compressors,
        onChunk: (chunk) => {
          const list = chunks.get(chunk.columnName) ?? [];
          list.push(chunk);
          chunks.set(chunk.columnName, list);
        },
      });
    } catch (e) {
      throw new OutpostError('input', `cannot read Parquet rows ${rowStart + 1}–${rowEnd}: ${(e as Error).message}`, { file: this.path, row: rowStart + 1 });
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
