// Parquet output that can resume after a crash. Rows are buffered and written as row groups
// (every `rowGroupRows` rows, and at each checkpoint), each appended to the partial file as soon
// as it is complete. The footer is the only part that needs everything, and what it needs — the
// row-group metadata — is small, so a checkpoint carries it in `extra` (as tagged JSON: it is
// full of bigints). A resumed sink cuts the file back to the checkpoint's bytes, restores that
// metadata into a fresh hyparquet-writer ParquetWriter and continues; finish() writes the footer.
// The row group being built is held typed (`common/parquet-column.ts`) and each column chunk is
// encoded by `common/parquet-encode.ts`, which writes the bytes hyparquet-writer wrote from the
// same values (outputs are unchanged) at a fraction of its cost; ParquetWriter writes the magic
// bytes and the footer.
// Offset/column indexes and bloom filters are off: they would be written at the end from state
// that a checkpoint would have to carry too, and readers do not need them.
//
// Types: float32 → FLOAT, float64 → DOUBLE, int → INT32 (Int32Array) or INT64 (Float64Array; the
// first batch decides), string and dict → UTF-8 STRING. All columns are OPTIONAL; NaN and null are
// written as null, matching the CSV (empty field) and JSONL (null) sinks.

import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnChunk, RowGroup, SchemaElement } from 'hyparquet';
import { OutpostError } from '../../common/errors.ts';
import { checkBatch, schemaOf } from '../common/out-schema.ts';
import type { OutField } from '../common/out-schema.ts';
import { ColumnBuffer, ColumnValueError } from '../common/parquet-column.ts';
import type { Physical } from '../common/parquet-column.ts';
import { ChunkEncoder } from '../common/parquet-encode.ts';
import { fromTaggedJson, toTaggedJson } from '../common/tagged-json.ts';
import type { OutColumn, OutputBatch, SinkState, TableSink } from '../common/table.ts';
import { PartialFile } from './partial-file.ts';
import { SerialQueue, resumeExtra } from './sink-state.ts';

export interface ParquetSinkExtra {
  format: 'parquet';
  schema: OutField[] | null;
  physical: Physical[];
  /** the row groups written so far, as tagged JSON */
  rowGroups: unknown;
}

export const DEFAULT_ROW_GROUP_ROWS = 131_072;

export async function openParquetSink(target: string, resume: SinkState | undefined, rowGroupRows = DEFAULT_ROW_GROUP_ROWS): Promise<TableSink> {
  if (!resume) return new ParquetSink(await PartialFile.create(target), rowGroupRows, null);
  const extra = resumeExtra<ParquetSinkExtra>(target, resume, 'parquet');
  const file = await PartialFile.resume(target, resume.tempPath, resume.bytes);
  return new ParquetSink(file, rowGroupRows, { extra, rows: resume.rows });
}

function schemaElement(name: string, physical: Physical): SchemaElement {
  if (physical === 'STRING') return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'OPTIONAL' };
  return { name, type: physical, repetition_type: 'OPTIONAL' };
}

function physicalOf(column: OutColumn): Physical {
  switch (column.type) {
    case 'float32': return 'FLOAT';
    case 'float64': return 'DOUBLE';
    case 'int': return column.values instanceof Int32Array ? 'INT32' : 'INT64';
    default: return 'STRING';
  }
}

class ParquetSink implements TableSink {
  readonly path: string;
  private readonly file: PartialFile;
  private readonly rowGroupRows: number;
  private readonly queue = new SerialQueue();
  private readonly encoder = new ChunkEncoder();
  private schema: OutField[] | null = null;
  private physical: Physical[] = [];
  private bytes = new ByteWriter();
  private writer: ParquetWriter | null = null;
  /** the row group being built, one typed buffer per column */
  private columns: ColumnBuffer[] = [];
  private pendingRows = 0;
  private rows = 0;

  constructor(file: PartialFile, rowGroupRows: number, resume: { extra: ParquetSinkExtra; rows: number } | null) {
    this.path = file.target;
    this.file = file;
    this.rowGroupRows = Math.max(1, rowGroupRows);
    if (resume && resume.extra.schema) {
      this.schema = resume.extra.schema;
      this.physical = resume.extra.physical;
      this.rows = resume.rows;
      const writer = this.startWriter();
      // the magic bytes the constructor appended are already in the file: continue at its end
      this.bytes.index = 0;
      this.bytes.offset = file.bytes;
      writer.row_groups = fromTaggedJson(resume.extra.rowGroups) as RowGroup[];
      writer.num_rows = BigInt(resume.rows);
    }
  }

  /** hyparquet-writer's ParquetWriter writes the magic bytes and the footer; the chunks are ours. */
  private startWriter(): ParquetWriter {
    const fields = this.schema ?? [];
    const schema: SchemaElement[] = [{ name: 'root', num_children: fields.length }, ...fields.map((f, i) => schemaElement(f.name, this.physical[i]))];
    this.writer = new ParquetWriter({ writer: this.bytes, schema, createdBy: 'outpost' });
    // a row group's values are held once, typed; batches past rowGroupRows extend it (as before)
    this.columns = fields.map((f, i) => new ColumnBuffer(f.name, this.physical[i], f.type === 'dict', this.rowGroupRows));
    return this.writer;
  }

  write(batch: OutputBatch): Promise<void> {
    return this.queue.run(async () => {
      if (this.schema === null) {
        this.schema = schemaOf(batch);
        this.physical = batch.columns.map(physicalOf);
        this.startWriter();
      }
      checkBatch(this.schema, batch);
      if (batch.length === 0) return;
      this.append(batch);
      this.pendingRows += batch.length;
      this.rows += batch.length;
      if (this.pendingRows >= this.rowGroupRows) await this.flushRowGroup();
    });
  }

  /** Copy the batch into the row group's columns; a value a column cannot hold fails the whole batch. */
  private append(batch: OutputBatch): void {
    const before = this.columns.map((c) => c.rows);
    for (let i = 0; i < this.columns.length; i++) {
      try {
        this.columns[i].append(batch.columns[i], batch.length);
      } catch (e) {
        this.columns.forEach((c, j) => c.truncate(before[j]));
        if (!(e instanceof ColumnValueError)) throw e;
        const row = this.rows + e.row + 1;
        throw new OutpostError('input', `cannot write Parquet output row ${row} (row group ${this.writer!.row_groups.length + 1}), column "${this.columns[i].name}" (${this.physical[i]}): ${e.message}`, { file: this.path, row, field: this.columns[i].name });
      }
    }
  }

  /** Encode the buffered rows as one row group and append it (and anything else buffered) to the file. */
  private async flushRowGroup(): Promise<void> {
    const writer = this.writer;
    if (this.pendingRows > 0 && writer !== null) {
      const groupStart = this.bytes.offset;
      const columns: ColumnChunk[] = [];
      for (const column of this.columns) {
        try {
          columns.push(this.encoder.encode(this.bytes, column));
        } catch (e) {
          throw new OutpostError('store', `cannot write Parquet row group ${writer.row_groups.length + 1}, column "${column.name}": ${(e as Error).message}`, { file: this.path, field: column.name });
        }
      }
      let totalByteSize = 0n;
      for (const c of columns) totalByteSize += c.meta_data?.total_uncompressed_size ?? 0n;
      writer.num_rows += BigInt(this.pendingRows);
      writer.row_groups.push({ columns, total_byte_size: totalByteSize, num_rows: BigInt(this.pendingRows), total_compressed_size: BigInt(this.bytes.offset - groupStart) });
      for (const column of this.columns) column.reset();
      this.pendingRows = 0;
    }
    await this.drain();
  }

  /** Move the encoded bytes from memory to the file. */
  private async drain(): Promise<void> {
    if (this.bytes.index === 0) return;
    await this.file.write(new Uint8Array(this.bytes.buffer, 0, this.bytes.index));
    this.bytes.index = 0;
  }

  checkpoint(): Promise<SinkState> {
    return this.queue.run(async () => {
      await this.flushRowGroup();
      await this.file.sync();
      const extra: ParquetSinkExtra = { format: 'parquet', schema: this.schema, physical: this.physical, rowGroups: toTaggedJson(this.writer?.row_groups ?? []) };
      return { tempPath: this.file.tempPath, bytes: this.file.bytes, rows: this.rows, extra };
    });
  }

  finish(): Promise<void> {
    return this.queue.run(async () => {
      await this.flushRowGroup();
      const writer = this.writer ?? this.startWriter(); // nothing written: a valid file with no columns
      await writer.finish();
      await this.drain();
      await this.file.commit();
    });
  }

  close(): Promise<void> {
    return this.queue.run(() => this.file.close());
  }
}
