// Parquet output that can resume after a crash. Rows are buffered and written as row groups
// (every `rowGroupRows` rows, and at each checkpoint), each appended to the partial file as soon
// as it is complete. The footer is the only part that needs everything, and what it needs — the
// row-group metadata — is small, so a checkpoint carries it in `extra` (as tagged JSON: it is
// full of bigints). A resumed sink cuts the file back to the checkpoint's bytes, restores that
// metadata into a fresh hyparquet-writer ParquetWriter and continues; finish() writes the footer.
// Offset/column indexes and bloom filters are off: they would be written at the end from state
// that a checkpoint would have to carry too, and readers do not need them.
//
// Types: float32 → FLOAT, float64 → DOUBLE, int → INT32 (Int32Array) or INT64 (Float64Array; the
// first batch decides), string and dict → UTF-8 STRING. All columns are OPTIONAL; NaN and null are
// written as null, matching the CSV (empty field) and JSONL (null) sinks.

import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnSource } from 'hyparquet-writer';
import type { RowGroup, SchemaElement } from 'hyparquet';
import { checkBatch, dictValue, schemaOf } from '../common/out-schema.ts';
import type { OutField } from '../common/out-schema.ts';
import { fromTaggedJson, toTaggedJson } from '../common/tagged-json.ts';
import type { OutColumn, OutputBatch, SinkState, TableSink } from '../common/table.ts';
import { PartialFile } from './partial-file.ts';
import { SerialQueue, resumeExtra } from './sink-state.ts';

type Physical = 'FLOAT' | 'DOUBLE' | 'INT32' | 'INT64' | 'STRING';
type ColumnValues = Float32Array | Float64Array | Int32Array | (number | bigint | string | null)[];

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

/** One column of one batch as writer data: copied (the caller may reuse its arrays), NaN → null. */
function columnValues(column: OutColumn, physical: Physical, rows: number): ColumnValues {
  if (column.type === 'string') return column.values.slice(0, rows);
  if (column.type === 'dict') {
    const out = new Array<string | null>(rows);
    for (let i = 0; i < rows; i++) out[i] = dictValue(column.dictionary, column.codes[i]);
    return out;
  }
  const v = column.values;
  if (physical === 'INT64') {
    const out = new Array<bigint | null>(rows);
    for (let i = 0; i < rows; i++) out[i] = v[i] !== v[i] ? null : toInteger(v[i], column.name);
    return out;
  }
  if (physical === 'INT32' && !(v instanceof Int32Array)) {
    const out = new Array<number | null>(rows);
    for (let i = 0; i < rows; i++) {
      if (v[i] === v[i] && (v[i] !== (v[i] | 0))) throw new Error(`output column "${column.name}": ${v[i]} is not a 32-bit integer`);
      out[i] = v[i] !== v[i] ? null : v[i];
    }
    return out;
  }
  let hasNaN = false;
  for (let i = 0; i < rows && !hasNaN; i++) hasNaN = v[i] !== v[i];
  if (!hasNaN) {
    if (physical === 'FLOAT') return Float32Array.from(v.subarray(0, rows));
    if (physical === 'DOUBLE') return Float64Array.from(v.subarray(0, rows));
    return Int32Array.from(v.subarray(0, rows));
  }
  const out = new Array<number | null>(rows);
  for (let i = 0; i < rows; i++) out[i] = v[i] !== v[i] ? null : v[i];
  return out;
}

function toInteger(value: number, name: string): bigint {
  if (!Number.isInteger(value)) throw new Error(`output column "${name}": ${value} is not an integer`);
  return BigInt(value);
}

function concatValues(parts: ColumnValues[]): ColumnValues {
  if (parts.length === 1) return parts[0];
  if (parts.every((p) => p instanceof Float32Array)) return concatTyped(parts as Float32Array[], Float32Array);
  if (parts.every((p) => p instanceof Float64Array)) return concatTyped(parts as Float64Array[], Float64Array);
  if (parts.every((p) => p instanceof Int32Array)) return concatTyped(parts as Int32Array[], Int32Array);
  // sized once and filled by index: pushing a row group's values one by one cost more than encoding them
  const out = new Array<number | bigint | string | null>(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) out[at++] = p[i];
  return out;
}

function concatTyped<T extends Float32Array | Float64Array | Int32Array>(parts: T[], Kind: { new (n: number): T }): T {
  const out = new Kind(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

class ParquetSink implements TableSink {
  readonly path: string;
  private readonly file: PartialFile;
  private readonly rowGroupRows: number;
  private readonly queue = new SerialQueue();
  private schema: OutField[] | null = null;
  private physical: Physical[] = [];
  private bytes = new ByteWriter();
  private writer: ParquetWriter | null = null;
  private pending: ColumnValues[][] = [];
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

  private startWriter(): ParquetWriter {
    const fields = this.schema ?? [];
    const schema: SchemaElement[] = [{ name: 'root', num_children: fields.length }, ...fields.map((f, i) => schemaElement(f.name, this.physical[i]))];
    this.writer = new ParquetWriter({ writer: this.bytes, schema, createdBy: 'outpost' });
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
      this.pending.push(batch.columns.map((c, i) => columnValues(c, this.physical[i], batch.length)));
      this.pendingRows += batch.length;
      this.rows += batch.length;
      if (this.pendingRows >= this.rowGroupRows) await this.flushRowGroup();
    });
  }

  /** Encode the buffered rows as one row group and append it (and anything else buffered) to the file. */
  private async flushRowGroup(): Promise<void> {
    if (this.pendingRows > 0 && this.writer !== null) {
      const fields = this.schema ?? [];
      const columnData: ColumnSource[] = fields.map((f, i) => ({
        name: f.name,
        data: concatValues(this.pending.map((p) => p[i])),
        offsetIndex: false,
        columnIndex: false,
      }));
      this.writer.write({ columnData, rowGroupSize: this.pendingRows });
      this.pending = [];
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
