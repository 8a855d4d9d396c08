// The entry points of the io module: open a table file for reading, or an output for writing.

import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { delimiterByte } from '../common/csv-bytes.ts';
import { describeRepeated, repeatedColumns } from '../common/request.ts';
import type { InputFormat, OutputFormat, SinkState, TableSink, TableSource } from '../common/table.ts';
import { openCsvSource } from './csv-source.ts';
import { openInputFile, readAt } from './input-file.ts';
import { utf16Kind, utf16Message } from '../common/text-encoding.ts';
import { openTextSink } from './text-sink.ts';

// Parquet support (hyparquet, its writer and codecs: ~70 modules) loads on first use: a CSV or
// JSONL run does not pay for it at start-up. So does the JSONL reader (3 modules) for a CSV run.
const parquetSource = () => import('./parquet-source.ts');
const jsonlSource = () => import('./jsonl-source.ts');
const parquetSink = () => import('./parquet-sink.ts');

export interface OpenSourceOptions {
  /** overrides the format the extension implies */
  format?: InputFormat;
  /** CSV only: one ASCII character; default `,` (`\t` for .tsv) */
  delimiter?: string;
  /**
   * Open a file whose header (CSV) or schema (Parquet) names a column twice; reading a repeated
   * column is still refused (resolveRequest). Without it such a file is refused at once: readers
   * that take every column (training, `models init`) would read one of the two by chance.
   */
  allowRepeatedColumns?: boolean;
}

export interface OpenSinkOptions {
  /** continue a partial output from a checkpoint */
  resume?: SinkState;
  /** CSV only; default `,` */
  delimiter?: string;
  /** Parquet only: rows per row group (a checkpoint also ends one) */
  rowGroupRows?: number;
  /** CSV only: neutralise text cells a spreadsheet would run as formulas (OWASP CSV injection) */
  csvSafe?: boolean;
}

const EXTENSIONS: Record<string, InputFormat> = { '.csv': 'csv', '.tsv': 'csv', '.txt': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.parquet': 'parquet' };
const FORMATS: readonly InputFormat[] = ['csv', 'jsonl', 'parquet'];

/** The format named by `format`, or implied by the file extension; a usage error otherwise. */
export function inferFormat(file: string, format?: string): InputFormat {
  if (format !== undefined) {
    if ((FORMATS as readonly string[]).includes(format)) return format as InputFormat;
    throw new OutpostError('usage', `unknown format "${format}" (expected one of: ${FORMATS.join(', ')})`, { file });
  }
  const byExtension = EXTENSIONS[path.extname(file).toLowerCase()];
  if (byExtension) return byExtension;
  throw new OutpostError('usage', `cannot tell the format of ${path.basename(file)} from its extension; name it .csv, .tsv, .jsonl, .ndjson or .parquet, or pass the format explicitly`, { file });
}

function csvDelimiter(file: string, delimiter: string | undefined): number {
  const chosen = delimiter ?? (path.extname(file).toLowerCase() === '.tsv' ? '\t' : ',');
  const byte = delimiterByte(chosen);
  if (byte === undefined) throw new OutpostError('usage', `invalid delimiter ${JSON.stringify(chosen)}: use one ASCII character such as , ; | or a tab (not a letter, digit, space, quote, '.', '+' or '-')`, { file });
  return byte;
}

export async function openSource(file: string, options: OpenSourceOptions = {}): Promise<TableSource> {
  // a missing file or a folder (`score ./data/`) says so, rather than that its name has no extension
  if (options.format === undefined && !EXTENSIONS[path.extname(file).toLowerCase()]) await (await openInputFile(file)).handle.close();
  const format = inferFormat(file, options.format);
  const delimiter = format === 'csv' ? csvDelimiter(file, options.delimiter) : 0;
  const { handle, size } = await openInputFile(file);
  try {
    if (format !== 'parquet') {
      const kind = utf16Kind(await readAt(handle, 0, Math.min(size, 4096)));
      if (kind) throw new OutpostError('input', utf16Message(kind), { file });
    }
    const source = format === 'csv' ? await openCsvSource(file, handle, size, delimiter)
      : format === 'jsonl' ? await (await jsonlSource()).openJsonlSource(file, handle, size)
        : await (await parquetSource()).openParquetSource(file, handle, size);
    const repeated = options.allowRepeatedColumns ? [] : repeatedColumns(source.columns);
    if (repeated.length) {
      const list = repeated.map(describeRepeated).join(', ');
      throw new OutpostError('input', `duplicate column names${format === 'csv' ? ' in the header' : ''}: ${list}`, { file }, { duplicates: repeated.map((r) => r.name) });
    }
    return source;
  } catch (e) {
    await handle.close();
    throw e;
  }
}

export async function openSink(file: string, format: OutputFormat, options: OpenSinkOptions = {}): Promise<TableSink> {
  switch (format) {
    case 'csv': {
      const delimiter = options.delimiter ?? ',';
      if (delimiterByte(delimiter) === undefined) throw new OutpostError('usage', `invalid delimiter ${JSON.stringify(delimiter)}`, { file });
      return openTextSink(file, 'csv', options.resume, delimiter, options.csvSafe ?? false);
    }
    case 'jsonl': return openTextSink(file, 'jsonl', options.resume);
    case 'parquet': return (await parquetSink()).openParquetSink(file, options.resume, options.rowGroupRows);
    default: throw new OutpostError('usage', `unknown output format "${String(format)}"`, { file });
  }
}
