// Reads a whole training file (CSV, JSONL, Parquet) into memory with the scoring readers: every
// column first as numbers; a column with any cell that is not a number is read again as text (a
// category). Rows the reader cannot read at all (wrong field count, invalid UTF-8, bad JSON) are
// errors naming the row: training on a silently shortened file would be worse than stopping.
// Returns the columns and the SHA-256 of the file's bytes (the card's lineage).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { OutpostError } from '../../common/errors.ts';
import type { ColumnRequest, InputFormat } from '../../io/common/table.ts';
import { CellStatus } from '../../io/common/table.ts';
import { openSource } from '../../io/node/open.ts';
import type { TrainTable } from '../common/table.ts';

export interface ReadTableOptions {
  format?: InputFormat;
  delimiter?: string;
  /** only these columns are read (all when absent) */
  columns?: readonly string[];
  /** read these as text (categories) even when every value is a number */
  asText?: readonly string[];
  signal?: AbortSignal;
  onProgress?: (rowsRead: number, fraction: number) => void;
}

export interface ReadTableResult { table: TrainTable; file: string; format: InputFormat; sha256: string; bytes: number; fileColumns: string[] }

const BATCH_ROWS = 65536;

export async function fileSha256(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, signal ? { signal } : {})) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function readTable(file: string, o: ReadTableOptions = {}): Promise<ReadTableResult> {
  const source = await openSource(file, { ...(o.format ? { format: o.format } : {}), ...(o.delimiter !== undefined ? { delimiter: o.delimiter } : {}) });
  const fileColumns = [...source.columns];
  try {
    const wanted = o.columns ?? fileColumns;
    const missing = wanted.filter((c) => !fileColumns.includes(c));
    if (missing.length) throw new OutpostError('input', `no column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} in the file (it has: ${fileColumns.join(', ')})`, { file: source.path });
    const dup = fileColumns.find((c, i) => fileColumns.indexOf(c) !== i);
    if (dup !== undefined) throw new OutpostError('input', `column "${dup}" appears twice in the header`, { file: source.path, field: dup });
    const asText = new Set(o.asText ?? []);
    const numeric = wanted.filter((c) => !asText.has(c));
    const numbers = new Map<string, Float64Array[]>(numeric.map((c) => [c, []]));
    const text = new Set<string>(wanted.filter((c) => asText.has(c)));
    let rows = 0;
    const readPass = async (request: ColumnRequest[], onBatch: (cols: ReturnType<typeof Object>[], length: number) => void): Promise<number> => {
      let n = 0;
      for await (const batch of source.batches(request, { batchRows: BATCH_ROWS, ...(o.signal ? { signal: o.signal } : {}) })) {
        if (o.signal?.aborted) throw new OutpostError('cancelled', 'training cancelled while reading the data');
        const p = batch.rowProblems[0];
        if (p) throw new OutpostError('input', `row cannot be read: ${p.reason}`, { file: source.path, row: p.row, ...(p.field !== undefined ? { field: p.field } : {}) });
        onBatch(batch.columns, batch.length);
        n += batch.length;
        o.onProgress?.(n, source.totalRows ? n / source.totalRows : Math.min(1, batch.end.offset / Math.max(1, source.sizeBytes)));
      }
      return n;
    };
    // Pass 1: numbers.
    if (numeric.length) {
      rows = await readPass(numeric.map((name) => ({ name, kind: 'number' })), (cols, length) => {
        numeric.forEach((name, c) => {
          const col = cols[c] as { kind: 'number'; values: Float64Array; status: Uint8Array };
          if (text.has(name)) return;
          for (let i = 0; i < length; i++) if (col.status[i] === CellStatus.unparsable) { text.add(name); return; }
          numbers.get(name)!.push(col.values.slice(0, length));
        });
      });
    }
    // Pass 2: the columns that turned out to be text.
    const strings = new Map<string, (string | null)[]>();
    const textCols = wanted.filter((c) => text.has(c));
    if (textCols.length) {
      for (const c of textCols) strings.set(c, []);
      const n = await readPass(textCols.map((name) => ({ name, kind: 'string' })), (cols, length) => {
        textCols.forEach((name, c) => {
          const values = (cols[c] as { values: (string | null)[] }).values;
          const out = strings.get(name)!;
          for (let i = 0; i < length; i++) out.push(values[i] === '' ? null : values[i]);
        });
      });
      if (numeric.length && n !== rows) throw new OutpostError('input', `the file changed while it was read (${rows} rows, then ${n})`, { file: source.path });
      rows = n;
    }
    const columns: TrainTable['columns'] = {};
    for (const name of wanted) {
      if (strings.has(name)) columns[name] = strings.get(name)!;
      else {
        const parts = numbers.get(name)!;
        const all = new Float64Array(rows);
        let at = 0;
        for (const p of parts) { all.set(p, at); at += p.length; }
        columns[name] = all;
      }
    }
    const sha256 = await fileSha256(source.path, o.signal);
    return { table: { rows, columns }, file: source.path, format: source.format, sha256, bytes: source.sizeBytes, fileColumns };
  } finally {
    await source.close();
  }
}
