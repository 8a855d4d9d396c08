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
// A checkpoint with `keepOpen` (Ctrl-C: a stop at any row) does not end the row group being built:
// its rows go to a side file (`<tempPath>.open-<rows>`, see OpenRows) and a resumed sink loads them
// back, so the row groups still fall where an uninterrupted run puts them. The side file is never
// written into by the run that continues (a resume killed before its next checkpoint resumes from it
// again); finish() removes it, and a resume removes the ones its checkpoint does not name.
// Offset/column indexes and bloom filters are off: they would be written at the end from state
// that a checkpoint would have to carry too, and readers do not need them.
//
// Types: float32 → FLOAT, float64 → DOUBLE, int → INT32 (Int32Array) or INT64 (Float64Array; the
// first batch decides), string and dict → UTF-8 STRING. All columns are OPTIONAL; NaN and null are
// written as null, matching the CSV (empty field) and JSONL (null) sinks.

import fs from 'node:fs/promises';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnChunk, RowGroup, SchemaElement } from 'hyparquet';
import { OutpostError } from '../../common/errors.ts';
import { checkBatch, schemaOf } from '../common/out-schema.ts';
import type { OutField } from '../common/out-schema.ts';
import { ColumnBuffer, ColumnValueError } from '../common/parquet-column.ts';
import type { Physical } from '../common/parquet-column.ts';
import { ChunkEncoder } from '../common/parquet-encode.ts';
import { fromTaggedJson, toTaggedJson } from '../common/tagged-json.ts';
import type { CheckpointOptions, OutColumn, OutputBatch, SinkState, TableSink } from '../common/table.ts';
import { PartialFile } from './partial-file.ts';
import { SerialQueue, resumeExtra } from './sink-state.ts';

export interface ParquetSinkExtra {
  format: 'parquet';
  schema: OutField[] | null;
  physical: Physical[];
  /** the row groups written so far, as tagged JSON */
  rowGroups: unknown;
  /** a row group kept open by the checkpoint: its rows, and the side file's size (the file is SinkState.sideFile) */
  open?: { rows: number; bytes: number };
}

export const DEFAULT_ROW_GROUP_ROWS = 131_072;

export async function openParquetSink(target: string, resume: SinkState | undefined, rowGroupRows = DEFAULT_ROW_GROUP_ROWS): Promise<TableSink> {
  if (!resume) return new ParquetSink(await PartialFile.create(target), rowGroupRows, null);
  const extra = resumeExtra<ParquetSinkExtra>(target, resume, 'parquet');
  const open = extra.open ? await readOpenRows(target, resume, extra) : undefined;
  const file = await PartialFile.resume(target, resume.tempPath, resume.bytes);
  return new ParquetSink(file, rowGroupRows, { extra, rows: resume.rows, ...(open ? { open, sideFile: resume.sideFile! } : {}) });
}

/**
 * The side file of a kept-open row group: per column in order, a number column's values as float64
 * (NaN = null; this machine's byte order: it is read back only by a resume here), then the string
 * columns' values as one JSON array of arrays.
 */
type OpenRows = (Float64Array | (string | null)[])[];

function encodeOpenRows(columns: readonly ColumnBuffer[]): Buffer {
  const parts: Uint8Array[] = [];
  const strings: (string | null)[][] = [];
  for (const column of columns) {
    const v = column.heldValues();
    if (v instanceof Float64Array) parts.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else strings.push(v);
  }
  parts.push(Buffer.from(JSON.stringify(strings), 'utf8'));
  return Buffer.concat(parts);
}

async function readOpenRows(target: string, state: SinkState, extra: ParquetSinkExtra): Promise<OpenRows> {
  const file = state.sideFile;
  const fail = (why: string) => new OutpostError('input', `cannot resume the output: the open row group's file ${file ?? '(none named)'}: ${why}`, { file: target });
  const { rows, bytes } = extra.open!;
  if (!file || !extra.schema || !Number.isInteger(rows) || rows < 0) throw fail('the checkpoint does not describe it');
  const data = await fs.readFile(file).catch((e: NodeJS.ErrnoException) => {
    throw fail(e.code === 'ENOENT' ? 'it no longer exists' : e.message);
  });
  if (data.length !== bytes) throw fail(`it has ${data.length} bytes, the checkpoint expects ${bytes}`);
  const out: OpenRows = [];
  let at = 0;
  const numberColumns = extra.physical.filter((p) => p !== 'STRING').length;
  let strings: unknown;
  try {
    strings = JSON.parse(data.subarray(numberColumns * rows * 8).toString('utf8'));
  } catch {
    throw fail('its strings are not valid JSON');
  }
  if (!Array.isArray(strings) || strings.length !== extra.physical.length - numberColumns) throw fail('its string columns do not match the schema');
  let s = 0;
  for (const physical of extra.physical) {
    if (physical === 'STRING') {
      const values = strings[s++] as unknown;
      if (!Array.isArray(values) || values.length !== rows) throw fail(`it holds ${Array.isArray(values) ? values.length : 'no'} values for a column, the checkpoint expects ${rows}`);
      out.push(values as (string | null)[]);
    } else {
      // copied out: a Buffer's bytes need not be aligned for a Float64Array
      out.push(new Float64Array(data.buffer.slice(data.byteOffset + at, data.byteOffset + at + rows * 8)));
      at += rows * 8;
    }
  }
  return out;
}

/**
 * Write `data` to `file` durably and whole: a temp file beside it, fsynced, renamed. Not
 * output-file.ts's writeFileAtomic: its temp name (`.<name>.partial-…`) would not start with the
 * output's partial prefix, so one left by a kill would escape removeStalePartials; `<file>.tmp` does.
 */
async function writeWhole(file: string, data: Uint8Array): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
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
  /** side files of kept-open row groups, loaded or written by this sink: removed once the file is complete */
  private readonly sideFiles = new Set<string>();

  constructor(file: PartialFile, rowGroupRows: number, resume: { extra: ParquetSinkExtra; rows: number; open?: OpenRows; sideFile?: string } | null) {
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
      if (resume.open) {
        this.sideFiles.add(resume.sideFile!);
        resume.open.forEach((values, i) => this.columns[i].restoreValues(values));
        this.pendingRows = resume.extra.open!.rows;
      }
      writer.num_rows = BigInt(resume.rows - this.pendingRows); // the rows in row groups written
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

  checkpoint(options: CheckpointOptions = {}): Promise<SinkState> {
    return this.queue.run(async () => {
      const keepOpen = options.keepOpen === true && this.pendingRows > 0;
      if (keepOpen) await this.drain();
      else await this.flushRowGroup();
      await this.file.sync();
      const extra: ParquetSinkExtra = { format: 'parquet', schema: this.schema, physical: this.physical, rowGroups: toTaggedJson(this.writer?.row_groups ?? []) };
      const state: SinkState = { tempPath: this.file.tempPath, bytes: this.file.bytes, rows: this.rows, extra };
      if (keepOpen) {
        // named by the rows so far, and replaced whole: a side file a stored checkpoint names is rewritten only with the same rows
        const sideFile = `${this.file.tempPath}.open-${this.rows}`;
        const data = encodeOpenRows(this.columns);
        await writeWhole(sideFile, data);
        this.sideFiles.add(sideFile);
        extra.open = { rows: this.pendingRows, bytes: data.length };
        state.sideFile = sideFile;
      }
      return state;
    });
  }

  finish(): Promise<void> {
    return this.queue.run(async () => {
      await this.flushRowGroup();
      const writer = this.writer ?? this.startWriter(); // nothing written: a valid file with no columns
      await writer.finish();
      await this.drain();
      await this.file.commit();
      for (const f of this.sideFiles) await fs.rm(f, { force: true });
    });
  }

  close(): Promise<void> {
    return this.queue.run(() => this.file.close());
  }
}
