// The CSV hot path: an incremental RFC 4180 decoder that turns UTF-8 bytes straight into columnar
// batches. Unquoted number fields are parsed in the same pass that finds the delimiter, so a
// number never becomes a string; strings are only built for requested string columns; fields
// nobody asked for are skipped without decoding.
//
// Input arrives in chunks of any size. A row cut by the end of a chunk is parsed again once more
// bytes arrive (rows are short next to chunks, so re-parsing one row per chunk is cheap), which
// keeps the tokenizer free of per-byte state machines and lets the loop run on plain locals.
//
// Syntax accepted: fields separated by one delimiter byte; records end with LF, CRLF or CR; blank
// lines are skipped and are not data rows; a field that starts with `"` is quoted: it may contain
// delimiters and line breaks, and `""` stands for one quote. A quote inside an unquoted field is an
// ordinary character. A quoted empty field is an empty string for string columns (an unquoted
// empty field is null), and missing for number columns. String cells are not trimmed.

import { OutpostError } from '../../common/errors.ts';
import { allocateColumns, BAD_TEXT_LIMIT, clearRow, sealBatch, isMissingNumberBytes } from './cells.ts';
import { unparsableNumberReason } from './number-reasons.ts';
import { CR, LF, QUOTE } from './csv-bytes.ts';
import { AsciiInterner } from './ascii-interner.ts';
import { ByteWindow } from './byte-window.ts';
import { PlainRows } from './csv-plain-rows.ts';
import type { PlainField } from './csv-plain-rows.ts';
import type { ChunkDecoder } from './byte-window.ts';
import { asciiText, parseDecimal, scanDecimal, scanned } from './decimal.ts';
import { resolveRequest } from './request.ts';
import { Utf8CellWriter } from './utf8-cells.ts';
import { CellStatus } from './table.ts';
import type { Column, ColumnBatch, ColumnRequest, NumberColumn, RowProblem } from './table.ts';

const NONE = new Float64Array(0);
const SKIP = 0;
const NUMBER = 1;
const STRING = 2;
const OK: 0 = CellStatus.ok; // typed 0: the hot loop relies on fresh (zeroed) status arrays meaning ok
const MISSING = CellStatus.missing;
const UNPARSABLE = CellStatus.unparsable;

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Lenient = new TextDecoder('utf-8', { ignoreBOM: true });

export interface CsvDecoderOptions {
  /** for error messages */
  file: string;
  delimiter: number;
  header: readonly string[];
  request: readonly ColumnRequest[];
  batchRows: number;
  /** absolute byte offset (in the file) of the first byte that will be pushed */
  offset: number;
  /** data rows that come before the first pushed byte, so the next row is number rowsBefore + 1 */
  rowsBefore: number;
  /** a row (usually: an unterminated quote) longer than this is a fatal error; default 64 MiB */
  maxRowBytes?: number;
  /**
   * Absolute offset from which no new row is started (parallel decoding: one span of the file per
   * thread). The row in progress there is completed, so `window.offset` afterwards is the first row
   * boundary at or after it — equal to `stopAt` exactly when `stopAt` is a true row boundary.
   */
  stopAt?: number;
  /** split rows of plain fields and parse their numbers in WebAssembly where it can (csv-plain-rows.ts); default true */
  wasm?: boolean;
}

export class CsvDecoder implements ChunkDecoder<ColumnBatch> {
  private readonly file: string;
  private readonly delimiter: number;
  private readonly fieldCount: number;
  private readonly fieldKind: Uint8Array;
  private readonly fieldSlot: Int32Array;
  private readonly fieldNames: readonly string[];
  private readonly request: readonly ColumnRequest[];
  private readonly batchRows: number;
  private readonly maxRowBytes: number;
  private readonly stopAt: number;
  /** the WebAssembly row parser (undefined: the JS loop takes every row) */
  private readonly plainRows: PlainRows | undefined;

  readonly window: ByteWindow;
  /** data rows completed before the current batch */
  private rowsDone: number;
  private scratch = new Uint8Array(256);
  /** per field: short ASCII texts made once while they recur (categories) */
  private readonly interners: (AsciiInterner | undefined)[] = [];

  // the batch being filled
  private columns: Column[] | null = null;
  private numValues: Float64Array[] = [];
  private numStatus: Uint8Array[] = [];
  /** numValues by field index; NONE (empty) for fields that are not number columns */
  private fieldValues: Float64Array[] = [];
  private strValues: (string | null)[][] = [];
  /** per request slot: the cells' bytes, for string columns requested with `utf8` */
  private strBytes: (Utf8CellWriter | undefined)[] = [];
  private length = 0;
  /** absolute offset of the batch's first row (ColumnBatch.start) */
  private batchStart = 0;
  private problems: RowProblem[] = [];
  private rowProblem: string | null = null;
  private rowProblemField = -1;

  constructor(options: CsvDecoderOptions) {
    this.file = options.file;
    this.delimiter = options.delimiter;
    this.fieldNames = options.header;
    this.fieldCount = options.header.length;
    this.request = options.request;
    this.batchRows = Math.max(1, Math.floor(options.batchRows));
    this.maxRowBytes = options.maxRowBytes ?? 64 * 1024 * 1024;
    this.stopAt = options.stopAt ?? Infinity;
    this.window = new ByteWindow(options.offset);
    this.rowsDone = options.rowsBefore;
    this.fieldKind = new Uint8Array(this.fieldCount);
    this.fieldSlot = new Int32Array(this.fieldCount).fill(-1);
    resolveRequest(options.file, options.header, options.request).forEach((field, slot) => {
      this.fieldKind[field] = options.request[slot].kind === 'number' ? NUMBER : STRING;
      this.fieldSlot[field] = slot;
    });
    const plain = Array.from(this.fieldKind, (k): PlainField => (k === NUMBER ? 'number' : k === STRING ? 'text' : 'skip'));
    this.plainRows = options.wasm === false ? undefined : PlainRows.for(plain, this.delimiter, (field, row, start, end) => this.asciiCell(field, row, this.window.buf, start, end));
  }

  /** Rows the WebAssembly parser took (the JS loop took the rest). */
  get rowsParsedByWasm(): number {
    return this.plainRows?.rows ?? 0;
  }

  /** Append a chunk (copied); `window.reserve`/`commit` fill in place instead. */
  push(chunk: Uint8Array): void {
    this.window.push(chunk);
  }

  /**
   * Decode what has been pushed. Returns a batch when `batchRows` rows are ready, or, with `eof`
   * (no more bytes will come), whatever rows remain; null when more bytes are needed (or, with
   * eof, when everything has been returned).
   */
  next(eof: boolean): ColumnBatch | null {
    if (this.columns === null) this.startBatch();
    this.decodeRows(eof);
    if (this.length === this.batchRows || (eof && this.length > 0)) return this.takeBatch();
    if (!eof && this.window.pending > this.maxRowBytes) {
      throw new OutpostError('input', `row is longer than ${this.maxRowBytes} bytes; is a quote left unterminated?`, { file: this.file, row: this.rowsDone + this.length + 1 });
    }
    return null;
  }

  private startBatch(): void {
    const columns = allocateColumns(this.request, this.batchRows);
    this.columns = columns;
    this.numValues = columns.map((c) => (c.kind === 'number' ? c.values : NONE)); // batchRows ≥ 1: never empty
    this.numStatus = columns.map((c) => (c.kind === 'number' ? c.status : new Uint8Array(0)));
    this.fieldValues = Array.from(this.fieldSlot, (slot) => (slot >= 0 ? this.numValues[slot] : NONE));
    this.strValues = columns.map((c) => (c.kind === 'string' ? c.values : []));
    this.strBytes = columns.map((c, slot) => {
      if (c.kind !== 'string' || !this.request[slot].utf8) return undefined;
      const writer = new Utf8CellWriter(this.batchRows);
      c.utf8 = writer.cells;
      return writer;
    });
    this.length = 0;
    this.batchStart = this.window.offset;
    this.problems = [];
  }

  private takeBatch(): ColumnBatch {
    for (const bytes of this.strBytes) bytes?.deferStrings();
    const batch = sealBatch(this.columns, this.length, this.rowsDone, this.problems, this.batchStart, this.window.offset);
    this.rowsDone += this.length;
    this.columns = null;
    return batch;
  }

  // The hot loop: rows of fields, with the common case — a plain decimal in a number column,
  // followed by a delimiter or LF — handled inline; every other field goes to otherField().
  // Keeping this function small lets V8 keep its locals in registers.
  private decodeRows(eof: boolean): void {
    const buf = this.window.buf;
    const end = this.window.end;
    const delim = this.delimiter;
    const nf = this.fieldCount;
    const fieldValues = this.fieldValues;
    const cap = this.batchRows;
    // no row starts at or after stopAt (Infinity unless decoding one span of a file)
    const limit = Math.min(end, this.stopAt - this.window.base);
    const plainRows = this.plainRows;
    let row = this.length;
    let p = this.window.start;
    let c = 0;
    rows: while (row < cap && p < limit) {
      if (plainRows !== undefined) {
        // as many rows as the WebAssembly parser takes; the row it stops at is this loop's
        const r = plainRows.parse(buf, this.window.base, p, end, limit, row, cap, fieldValues);
        p = r.p;
        row = r.row;
        if (row >= cap || p >= limit) break;
      }
      c = buf[p];
      if (c === LF || c === CR) { p++; continue; } // blank line
      const rowStart = p;
      let field = 0;
      this.rowProblem = null;
      for (;;) {
        // a number column's array, or an empty one: one load decides the fast path
        const target = field < nf ? fieldValues[field] : NONE;
        if (target.length !== 0) {
          const stop = scanDecimal(buf, p, end);
          if (stop >= 0 && stop < end) {
            // Status arrays start zeroed and 0 is `ok`, so only the value is stored. (A cell is
            // written only once its field is complete, so a row parsed again after more bytes
            // arrive leaves nothing stale.)
            c = buf[stop];
            if (c === delim) {
              target[row] = scanned[0];
              field++;
              p = stop + 1;
              continue;
            }
            if (c === LF) {
              target[row] = scanned[0];
              field++;
              p = stop + 1;
              break;
            }
          }
        }
        p = this.otherField(p, eof, field, row);
        if (p < 0) { p = rowStart; break rows; }
        field++;
        if (p >= end) break; // eof: the last record has no line break
        c = buf[p++];
        if (c === delim) continue;
        if (c === CR) {
          // consume the LF of a CRLF too, so resume offsets do not depend on chunk boundaries
          if (p < end) { if (buf[p] === LF) p++; } else if (!eof) { p = rowStart; break rows; }
        }
        break;
      }
      if (this.rowProblem === null && field !== nf) {
        this.rowProblem = `expected ${nf} fields, found ${field}`;
        this.rowProblemField = -1;
      }
      if (this.rowProblem !== null) this.rejectRow(row);
      row++;
    }
    this.window.start = p;
    this.length = row;
  }

  /**
   * Any field but a plain number followed by a delimiter or LF: quoted fields, strings, skipped
   * fields, number cells with spaces, markers or junk. Returns the position of the byte after the
   * field (a delimiter, CR or LF, or the end at eof), or -1 when the field is cut by the end of
   * the buffer and more bytes may come.
   */
  private otherField(p: number, eof: boolean, field: number, row: number): number {
    const buf = this.window.buf;
    const end = this.window.end;
    const delim = this.delimiter;
    const kind = field < this.fieldCount ? this.fieldKind[field] : SKIP;
    if (p < end && buf[p] === QUOTE) return this.quotedField(p, eof, field, kind, row);
    const fieldStart = p;
    let high = 0;
    while (p < end) {
      const c = buf[p];
      if (c === delim || c === LF || c === CR) break;
      high |= c;
      p++;
    }
    if (p >= end && !eof) return -1;
    if (kind === NUMBER) this.setNumber(this.fieldSlot[field], row, buf, fieldStart, p);
    else if (kind === STRING) {
      if (high < 0x80) this.asciiCell(field, row, buf, fieldStart, p);
      else {
        const slot = this.fieldSlot[field];
        this.strValues[slot][row] = this.text(buf, fieldStart, p, false, field);
        this.strBytes[slot]?.set(row, buf, fieldStart, p);
      }
    }
    return p;
  }

  /** An unquoted string cell of ASCII bytes (empty: missing), from the JS loop or the WebAssembly parser. */
  private asciiCell(field: number, row: number, buf: Uint8Array, start: number, end: number): void {
    const slot = this.fieldSlot[field];
    const bytes = this.strBytes[slot];
    if (bytes === undefined) this.strValues[slot][row] = start === end ? null : this.text(buf, start, end, true, field);
    else if (start === end) {
      this.strValues[slot][row] = null;
      bytes.setMissing(row);
    } else bytes.setAscii(row, buf, start, end); // its string is made with the batch's (takeBatch)
  }

  private rejectRow(row: number): void {
    clearRow(this.columns ?? [], row);
    for (const bytes of this.strBytes) bytes?.drop(row);
    const problem: RowProblem = { row: this.rowsDone + row + 1, reason: this.rowProblem ?? '' };
    if (this.rowProblemField >= 0 && this.rowProblemField < this.fieldCount) problem.field = this.fieldNames[this.rowProblemField];
    this.problems.push(problem);
  }

  private problem(field: number, reason: string): void {
    if (this.rowProblem !== null) return; // the first problem in a row is the one reported
    this.rowProblem = reason;
    this.rowProblemField = field;
  }

  /** Number cell that is not a plain decimal followed by a delimiter: spaces, markers, junk, quoted. */
  private setNumber(slot: number, row: number, bytes: Uint8Array, start: number, end: number): void {
    const value = parseDecimal(bytes, start, end);
    const values = this.numValues[slot];
    const status = this.numStatus[slot];
    if (value - value === 0) {
      values[row] = value;
      status[row] = OK;
      return;
    }
    values[row] = NaN;
    const column = this.columns?.[slot] as NumberColumn;
    if (value !== value && isMissingNumberBytes(bytes, start, end)) {
      status[row] = MISSING;
      const marker = asciiText(bytes, start, end).trim();
      if (marker) (column.markers ??= new Map()).set(row, marker);
      return;
    }
    status[row] = UNPARSABLE;
    const text = utf8Lenient.decode(bytes.subarray(start, Math.min(end, start + BAD_TEXT_LIMIT * 4)));
    (column.bad ??= new Map()).set(row, text.length > BAD_TEXT_LIMIT ? `${text.slice(0, BAD_TEXT_LIMIT)}…` : text);
    const reason = unparsableNumberReason(text, value, end - start);
    if (reason !== undefined) (column.reasons ??= new Map()).set(row, reason);
  }

  /** A string cell's text; on invalid UTF-8 the row is rejected and null returned. */
  private text(bytes: Uint8Array, start: number, end: number, ascii: boolean, field: number): string | null {
    if (ascii && end - start <= 32) return (this.interners[field] ??= new AsciiInterner()).text(bytes, start, end);
    try {
      return utf8Fatal.decode(bytes.subarray(start, end));
    } catch {
      this.problem(field, `invalid UTF-8 in column "${this.fieldNames[field]}"`);
      return null;
    }
  }

  /**
   * A field starting with a quote at p. Returns the position after it (at the delimiter or line
   * break), or -1 when the field is cut by the end of the buffer and more bytes may come.
   */
  private quotedField(p: number, eof: boolean, field: number, kind: number, row: number): number {
    const buf = this.window.buf;
    const end = this.window.end;
    let q = p + 1;
    let escaped = false;
    let high = 0;
    for (;;) {
      if (q >= end) {
        if (!eof) return -1;
        this.problem(field, 'unterminated quoted field at end of file');
        return end;
      }
      const c = buf[q];
      if (c === QUOTE) {
        if (q + 1 >= end && !eof) return -1; // cannot tell `""` from a closing quote yet
        if (q + 1 < end && buf[q + 1] === QUOTE) { escaped = true; q += 2; continue; }
        break;
      }
      high |= c;
      q++;
    }
    let after = q + 1;
    if (after < end) {
      const c = buf[after];
      if (c !== this.delimiter && c !== LF && c !== CR) {
        this.problem(field, 'unexpected character after a closing quote');
        while (after < end && buf[after] !== this.delimiter && buf[after] !== LF && buf[after] !== CR) after++;
        return after >= end && !eof ? -1 : after;
      }
    } else if (!eof) {
      return -1; // the row's end is not known yet
    }
    if (kind === SKIP) return after;
    let bytes = buf;
    let start = p + 1;
    let stop = q;
    if (escaped) {
      bytes = this.unescape(start, stop);
      start = 0;
      stop = this.scratchLength;
    }
    const slot = this.fieldSlot[field];
    if (kind === NUMBER) {
      if (start === stop) {
        this.numValues[slot][row] = NaN;
        this.numStatus[slot][row] = MISSING;
      } else {
        this.setNumber(slot, row, bytes, start, stop);
      }
    } else {
      this.strValues[slot][row] = start === stop ? '' : this.text(bytes, start, stop, high < 0x80, field);
      this.strBytes[slot]?.set(row, bytes, start, stop);
    }
    return after;
  }

  private scratchLength = 0;

  /** Copy buf[start, stop) into scratch with every `""` turned into `"`. */
  private unescape(start: number, stop: number): Uint8Array {
    if (this.scratch.length < stop - start) this.scratch = new Uint8Array(Math.max(stop - start, this.scratch.length * 2));
    const out = this.scratch;
    const buf = this.window.buf;
    let n = 0;
    for (let i = start; i < stop; i++) {
      out[n++] = buf[i];
      if (buf[i] === QUOTE) i++;
    }
    this.scratchLength = n;
    return out;
  }
}
