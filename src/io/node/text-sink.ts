// CSV and JSON Lines output as a TableSink over a PartialFile. The column layout is fixed by the
// first batch (CSV writes its header then) and travels in the checkpoint's `extra`.

import { encodeCsvHeader, encodeCsvRows } from '../common/csv-encode.ts';
import { encodeJsonlRows } from '../common/jsonl-encode.ts';
import { checkBatch, schemaOf } from '../common/out-schema.ts';
import type { OutField } from '../common/out-schema.ts';
import type { OutputBatch, SinkState, TableSink } from '../common/table.ts';
import { PartialFile } from './partial-file.ts';
import { SerialQueue, resumeExtra } from './sink-state.ts';

export interface TextSinkExtra { format: 'csv' | 'jsonl'; schema: OutField[] | null }

export async function openTextSink(target: string, format: 'csv' | 'jsonl', resume: SinkState | undefined, delimiter = ','): Promise<TableSink> {
  if (!resume) return new TextSink(await PartialFile.create(target), format, null, 0, delimiter);
  const extra = resumeExtra<TextSinkExtra>(target, resume, format);
  return new TextSink(await PartialFile.resume(target, resume.tempPath, resume.bytes), format, extra.schema, resume.rows, delimiter);
}

class TextSink implements TableSink {
  readonly path: string;
  private readonly file: PartialFile;
  private readonly format: 'csv' | 'jsonl';
  private readonly delimiter: string;
  private schema: OutField[] | null;
  private rows: number;
  private readonly queue = new SerialQueue();

  constructor(file: PartialFile, format: 'csv' | 'jsonl', schema: OutField[] | null, rows: number, delimiter: string) {
    this.path = file.target;
    this.file = file;
    this.format = format;
    this.schema = schema;
    this.rows = rows;
    this.delimiter = delimiter;
  }

  write(batch: OutputBatch): Promise<void> {
    return this.queue.run(async () => {
      let text = '';
      if (this.schema === null) {
        this.schema = schemaOf(batch);
        if (this.format === 'csv') text = encodeCsvHeader(this.schema, this.delimiter);
      }
      checkBatch(this.schema, batch);
      text += this.format === 'csv' ? encodeCsvRows(batch, this.delimiter) : encodeJsonlRows(batch);
      await this.file.write(text);
      this.rows += batch.length;
    });
  }

  checkpoint(): Promise<SinkState> {
    return this.queue.run(async () => {
      await this.file.sync();
      const extra: TextSinkExtra = { format: this.format, schema: this.schema };
      return { tempPath: this.file.tempPath, bytes: this.file.bytes, rows: this.rows, extra };
    });
  }

  finish(): Promise<void> {
    return this.queue.run(() => this.file.commit());
  }

  close(): Promise<void> {
    return this.queue.run(() => this.file.close());
  }
}
