// CSV and JSON Lines output as a TableSink over a PartialFile. The column layout is fixed by the
// first batch (CSV writes its header then) and travels in the checkpoint's `extra`.

import { ByteBuilder } from '../common/byte-builder.ts';
import { encodeCsvHeader, encodeCsvRows } from '../common/csv-encode.ts';
import { encodeJsonlRows } from '../common/jsonl-encode.ts';
import { checkBatch, schemaOf } from '../common/out-schema.ts';
import type { OutField } from '../common/out-schema.ts';
import type { OutputBatch, SinkState, TableSink } from '../common/table.ts';
import { PartialFile } from './partial-file.ts';
import { SerialQueue, resumeExtra } from './sink-state.ts';

export interface TextSinkExtra { format: 'csv' | 'jsonl'; schema: OutField[] | null }

export async function openTextSink(target: string, format: 'csv' | 'jsonl', resume: SinkState | undefined, delimiter = ',', csvSafe = false): Promise<TableSink> {
  if (!resume) return new TextSink(await PartialFile.create(target), format, null, 0, delimiter, csvSafe);
  const extra = resumeExtra<TextSinkExtra>(target, resume, format);
  return new TextSink(await PartialFile.resume(target, resume.tempPath, resume.bytes), format, extra.schema, resume.rows, delimiter, csvSafe);
}

class TextSink implements TableSink {
  readonly path: string;
  private readonly file: PartialFile;
  private readonly format: 'csv' | 'jsonl';
  private readonly delimiter: string;
  private readonly csvSafe: boolean;
  private schema: OutField[] | null;
  private rows: number;
  private readonly queue = new SerialQueue();
  private readonly buffers = [new ByteBuilder(), new ByteBuilder()];
  private next = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(file: PartialFile, format: 'csv' | 'jsonl', schema: OutField[] | null, rows: number, delimiter: string, csvSafe: boolean) {
    this.csvSafe = csvSafe;
    this.path = file.target;
    this.file = file;
    this.format = format;
    this.schema = schema;
    this.rows = rows;
    this.delimiter = delimiter;
  }

  /**
   * Encodes the batch and hands the bytes to the file system; the write itself completes in the
   * background while the caller works on the next batch (an error surfaces at the next call).
   */
  write(batch: OutputBatch): Promise<void> {
    return this.queue.run(async () => {
      // two buffers: one may still be in flight while the other is filled
      const out = this.buffers[this.next];
      this.next ^= 1;
      out.reset();
      if (this.schema === null) {
        this.schema = schemaOf(batch);
        if (this.format === 'csv') out.text(encodeCsvHeader(this.schema, this.delimiter, this.csvSafe));
      }
      checkBatch(this.schema, batch);
      if (this.format === 'csv') encodeCsvRows(batch, out, this.delimiter, this.csvSafe);
      else encodeJsonlRows(batch, out);
      await this.inFlight;
      this.inFlight = this.file.write(out.bytes());
      this.inFlight.catch(() => {}); // observed by the next operation
      this.rows += batch.length;
    });
  }

  /** Wait for the last write; its error, if any, is this call's. */
  private async settle(): Promise<void> {
    const pending = this.inFlight;
    this.inFlight = Promise.resolve();
    await pending;
  }

  checkpoint(): Promise<SinkState> {
    return this.queue.run(async () => {
      await this.settle();
      await this.file.sync();
      const extra: TextSinkExtra = { format: this.format, schema: this.schema };
      return { tempPath: this.file.tempPath, bytes: this.file.bytes, rows: this.rows, extra };
    });
  }

  finish(): Promise<void> {
    return this.queue.run(async () => {
      await this.settle();
      await this.file.commit();
    });
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      await this.settle().catch(() => {}); // closing after a failed write is still closing
      await this.file.close();
    });
  }
}
