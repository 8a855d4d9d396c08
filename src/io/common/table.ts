// The contract between file readers/writers and the scoring pipeline. Readers deliver columnar
// batches already parsed to the kind each consumer asked for (numbers as Float64Array + a status
// byte per cell), so the hot path never builds per-row objects. Pure types, constants and one
// check of a status column that both validation and the drift statistics run per batch.

export type InputFormat = 'csv' | 'jsonl' | 'parquet';
export type OutputFormat = InputFormat;

/** How a reader should deliver a column. */
export type ColumnKind = 'number' | 'string';
export interface ColumnRequest {
  name: string;
  kind: ColumnKind;
  /** may be absent from a file whose columns are only sampled (JSONL): then every cell is missing */
  optional?: boolean;
  /** string columns: also keep each cell's UTF-8 bytes where the reader has them (CSV), for a column copied to the output as is (the id) */
  utf8?: boolean;
}

/** Per-cell status for number columns. */
export const CellStatus = { ok: 0, missing: 1, unparsable: 2 } as const;

/**
 * No missing or unparsable cell: every status byte is CellStatus.ok (0). ORed four bytes at a time
 * (twenty columns per batch: TypedArray indexOf, twice, cost ~15 µs a column).
 */
export function allOk(status: Uint8Array): boolean {
  const n = status.length;
  let bits = 0;
  const head = Math.min(n, (4 - (status.byteOffset & 3)) & 3); // bytes before the first aligned word
  for (let i = 0; i < head; i++) bits |= status[i];
  const words = (n - head) >> 2;
  if (words > 0) {
    const w = new Int32Array(status.buffer, status.byteOffset + head, words);
    for (let j = 0; j < words; j++) bits |= w[j];
  }
  for (let i = head + 4 * words; i < n; i++) bits |= status[i];
  return bits === 0; // CellStatus.ok
}

export interface NumberColumn {
  kind: 'number';
  /** parsed values (exact: the correctly rounded double of the text); NaN where status != ok */
  values: Float64Array;
  status: Uint8Array;
  /** raw text of cells whose status is unparsable, for reject messages (row index in batch → text) */
  bad?: Map<number, string>;
  /** why an unparsable cell is one, where it is not simply "cannot parse" (e.g. a number text far too long) */
  reasons?: Map<number, string>;
  /** the marker of a missing cell that was not empty ("NaN", "NA", "null"…), for reject messages */
  markers?: Map<number, string>;
  /** the stored value's exact text where the double is not it (a Parquet INT64 beyond ±(2^53 − 1)), for reject messages */
  exact?: Map<number, string>;
}
export interface StringColumn {
  kind: 'string';
  /**
   * null = missing (empty CSV field, JSON null or absent key). With `utf8.pending`, the cells it
   * marks are null here until stringValues() (utf8-cells.ts) makes them: read values through it.
   */
  values: (string | null)[];
  /** the cells' UTF-8 bytes, when requested and the reader has them (CSV): see Utf8Cells */
  utf8?: Utf8Cells;
}

/**
 * String cells as UTF-8 bytes: cell i is bytes[starts[i], ends[i]), or missing where starts[i] is
 * -1. A writer copies them instead of encoding strings, and they cross to a writer thread as three
 * typed arrays instead of one string per row. Where a reader also gives strings, rows it rejected
 * (values null) may hold anything. `pending` (1 per row) marks the cells whose string the reader
 * left unmade: a CSV id column copied to a CSV output and logged as bytes never needs them.
 */
export interface Utf8Cells { bytes: Uint8Array; starts: Int32Array; ends: Int32Array; pending?: Uint8Array }
export type Column = NumberColumn | StringColumn;

/** A row that could not be read at all (wrong field count, invalid UTF-8, bad JSON line). */
export interface RowProblem { row: number; field?: string; reason: string }

/** Where to resume reading. `offset` is a byte offset (csv/jsonl) or a row index (parquet). */
export interface ResumePoint { offset: number; row: number }

export interface ColumnBatch {
  /** 1-based data row number of the batch's first row (the header is not a data row) */
  firstRow: number;
  /** rows in the batch, including rows listed in rowProblems */
  length: number;
  /** one per requested column, in request order */
  columns: Column[];
  /** structurally bad rows: their cells in `columns` are missing */
  rowProblems: RowProblem[];
  /** reading from here continues right after this batch */
  end: ResumePoint;
  /** where the batch's first row starts (a byte offset, or a Parquet row index): a reject's cells are read again from here as written (see readWrittenCells) */
  start?: number;
  /** what the reader noticed but read anyway (a JSONL key repeated outside the columns read), for the user */
  warnings?: string[];
  /**
   * The number columns' buffers are this batch's alone (a decoder's fresh arrays, not views of a
   * buffer the reader keeps): the consumer may free them once it is done with them (releaseBatch).
   */
  owned?: boolean;
}

export interface ReadOptions {
  /** target rows per batch */
  batchRows: number;
  from?: ResumePoint;
  signal?: AbortSignal;
  /**
   * CSV: threads that decode spans of a large file in parallel (default: the cores beyond two —
   * none on a 2-core machine, see io/node/csv-parallel.ts); 0 decodes on the calling thread. Small
   * files are always read on the calling thread.
   */
  decodeThreads?: number;
}

export interface TableSource {
  readonly path: string;
  readonly format: InputFormat;
  /** column names in file order (CSV header, Parquet schema, keys of the first JSONL records) */
  readonly columns: readonly string[];
  /**
   * Set when `columns` is a sample (JSONL: the keys of this many first records): a key may first
   * appear later, so an optional column absent from the sample is read (as missing until it appears).
   */
  readonly openColumns?: number;
  readonly sizeBytes: number;
  /** total data rows when the format knows it up front (Parquet) */
  readonly totalRows?: number;
  batches(request: readonly ColumnRequest[], options: ReadOptions): AsyncIterable<ColumnBatch>;
  close(): Promise<void>;
}

// ---- output ----

export type OutColumn =
  | { name: string; type: 'float32'; values: Float32Array }
  | { name: string; type: 'float64'; values: Float64Array }
  | { name: string; type: 'int'; values: Int32Array | Float64Array }
  | { name: string; type: 'string'; values: (string | null)[] }
  /** strings as UTF-8 bytes (see Utf8Cells); in a file's schema the same type as 'string' */
  | ({ name: string; type: 'utf8' } & Utf8Cells)
  /** dictionary-encoded strings (e.g. class labels): values[i] = dictionary[codes[i]] */
  | { name: string; type: 'dict'; codes: Int32Array; dictionary: readonly string[] };

export interface OutputBatch { length: number; columns: OutColumn[] }

/** Opaque, JSON-serialisable state from which a sink continues exactly (stored in job checkpoints). */
export interface SinkState {
  tempPath: string;
  bytes: number;
  rows: number;
  extra?: unknown;
  /** a second file beside `tempPath` the state needs (a Parquet row group kept open: its rows so far) */
  sideFile?: string;
}

export interface CheckpointOptions {
  /**
   * Parquet: keep the row group being built open, its rows saved to a side file, instead of ending it
   * here. A stop at an arbitrary row (Ctrl-C) uses it, so the resumed file's row groups fall where an
   * uninterrupted run's do. Other formats have no open state and ignore it.
   */
  keepOpen?: boolean;
}

export interface TableSink {
  readonly path: string;
  write(batch: OutputBatch): Promise<void>;
  /** Make everything written so far durable (fsync) and return the state to resume from here. */
  checkpoint(options?: CheckpointOptions): Promise<SinkState>;
  /** Complete the file and atomically move it into place (temp file renamed). */
  finish(): Promise<void>;
  /** Close without finishing; the temp file stays for a resume. */
  close(): Promise<void>;
}
