// A JSON Lines file as a TableSource. Its columns are sampled at open (see sampleJsonlColumns).

import type { FileHandle } from 'node:fs/promises';
import { OutpostError } from '../../common/errors.ts';
import { JsonlDecoder, sampleJsonlColumns } from '../common/jsonl-decoder.ts';
import { resolveRequest } from '../common/request.ts';
import type { ColumnBatch, ColumnRequest, ReadOptions, TableSource } from '../common/table.ts';
import { readAt } from './input-file.ts';
import { decodeFile } from './stream.ts';

/** Column names come from the records in this much of the file (at most 1000 records). */
const SAMPLE_BYTES = 1024 * 1024;

export async function openJsonlSource(file: string, handle: FileHandle, size: number): Promise<TableSource> {
  const prefix = await readAt(handle, 0, Math.min(size, SAMPLE_BYTES));
  const eof = prefix.length >= size;
  const nul = prefix.subarray(0, 4096).indexOf(0);
  if (nul >= 0) throw new OutpostError('input', 'the file contains NUL bytes: this is a binary file, not JSON Lines text', { file });
  const sample = sampleJsonlColumns(prefix, eof);
  if (sample.records === 0) {
    if (sample.lines === 0) {
      if (eof) throw new OutpostError('input', 'the file has no data rows (only blank lines)', { file });
      throw new OutpostError('input', `no complete line in the first ${SAMPLE_BYTES / 1024 / 1024} MiB: this does not look like JSON Lines`, { file });
    }
    throw new OutpostError('input', `no line in the first ${sample.lines} is a JSON object (${sample.firstProblem ?? 'unknown problem'}): this does not look like JSON Lines`, { file, row: 1 });
  }
  const bom = prefix.length >= 3 && prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf ? 3 : 0;
  return new JsonlSource(file, handle, size, sample.columns, bom, sample.records);
}

class JsonlSource implements TableSource {
  readonly path: string;
  readonly format = 'jsonl' as const;
  readonly columns: readonly string[];
  readonly sizeBytes: number;
  private readonly handle: FileHandle;
  private readonly dataStart: number;
  readonly openColumns: number;

  constructor(file: string, handle: FileHandle, size: number, columns: string[], dataStart: number, sampled: number) {
    this.openColumns = sampled;
    this.path = file;
    this.handle = handle;
    this.sizeBytes = size;
    this.columns = columns;
    this.dataStart = dataStart;
  }

  async *batches(request: readonly ColumnRequest[], options: ReadOptions): AsyncGenerator<ColumnBatch> {
    resolveRequest(this.path, this.columns, request, true);
    const from = options.from;
    if (from && (from.offset < this.dataStart || from.offset > this.sizeBytes || from.row < 0)) {
      throw new OutpostError('input', `cannot resume at byte ${from.offset}: the file changed since the job started (it has ${this.sizeBytes} bytes)`, { file: this.path });
    }
    const offset = from ? from.offset : this.dataStart;
    const decoder = new JsonlDecoder({ file: this.path, columns: this.columns, request, batchRows: options.batchRows, offset, rowsBefore: from ? from.row : 0 });
    yield* decodeFile(this.handle, this.path, offset, decoder, options.signal);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
