// A CSV (or TSV) file as a TableSource: the header is read and checked at open; batches stream
// from the first data row, or from a ResumePoint's byte offset.

import type { FileHandle } from 'node:fs/promises';
import { OutpostError } from '../../common/errors.ts';
import { CsvDecoder } from '../common/csv-decoder.ts';
import { hasDataAfter, parseCsvHeader } from '../common/csv-header.ts';
import type { CsvHeader } from '../common/csv-header.ts';
import { resolveRequest } from '../common/request.ts';
import type { ColumnBatch, ColumnRequest, ReadOptions, TableSource } from '../common/table.ts';
import { defaultDecodeThreads, PARALLEL_MIN_BYTES, parallelCsvBatches } from './csv-parallel.ts';
import { readAt } from './input-file.ts';
import { decodeFile } from './stream.ts';

/** The header must fit in this many bytes; beyond, the file is taken for something else. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export async function openCsvSource(file: string, handle: FileHandle, size: number, delimiter: number): Promise<TableSource> {
  let prefixBytes = Math.min(size, 256 * 1024);
  let prefix = await readAt(handle, 0, prefixBytes);
  let header: CsvHeader | null;
  for (;;) {
    const eof = prefix.length >= size;
    header = parseCsvHeader(prefix, eof, delimiter, file);
    if (header !== null && (eof || hasDataAfter(prefix, header.dataStart, false) !== undefined)) break;
    if (prefixBytes >= MAX_HEADER_BYTES) {
      if (header !== null) break; // a header followed by megabytes of blank lines: let the reader see
      throw new OutpostError('input', `no line break in the first ${MAX_HEADER_BYTES / 1024 / 1024} MiB: this does not look like a CSV file`, { file });
    }
    prefixBytes = Math.min(size, prefixBytes * 4);
    prefix = await readAt(handle, 0, prefixBytes);
  }
  if (!hasDataAfter(prefix, header.dataStart, prefix.length >= size)) {
    throw new OutpostError('input', 'the file has a header but no data rows', { file });
  }
  return new CsvSource(file, handle, size, delimiter, header);
}

class CsvSource implements TableSource {
  readonly path: string;
  readonly format = 'csv' as const;
  readonly columns: readonly string[];
  readonly sizeBytes: number;
  private readonly handle: FileHandle;
  private readonly delimiter: number;
  private readonly dataStart: number;

  constructor(file: string, handle: FileHandle, size: number, delimiter: number, header: CsvHeader) {
    this.path = file;
    this.handle = handle;
    this.sizeBytes = size;
    this.delimiter = delimiter;
    this.columns = header.names;
    this.dataStart = header.dataStart;
  }

  async *batches(request: readonly ColumnRequest[], options: ReadOptions): AsyncGenerator<ColumnBatch> {
    resolveRequest(this.path, this.columns, request); // missing columns fail before any row is read
    const from = options.from;
    if (from && (from.offset < this.dataStart || from.offset > this.sizeBytes || from.row < 0)) {
      throw new OutpostError('input', `cannot resume at byte ${from.offset}: the file changed since the job started (it has ${this.sizeBytes} bytes, data from byte ${this.dataStart})`, { file: this.path });
    }
    const offset = from ? from.offset : this.dataStart;
    const threads = options.decodeThreads ?? defaultDecodeThreads(request);
    if (threads > 0 && this.sizeBytes - offset >= PARALLEL_MIN_BYTES) {
      yield* parallelCsvBatches({
        file: this.path, handle: this.handle, size: this.sizeBytes, delimiter: this.delimiter, header: this.columns, request,
        batchRows: Math.max(1, Math.floor(options.batchRows)), start: offset, rowsBefore: from ? from.row : 0, threads,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return;
    }
    const decoder = new CsvDecoder({
      file: this.path,
      delimiter: this.delimiter,
      header: this.columns,
      request,
      batchRows: options.batchRows,
      offset,
      rowsBefore: from ? from.row : 0,
    });
    yield* decodeFile(this.handle, this.path, offset, decoder, options.signal);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
