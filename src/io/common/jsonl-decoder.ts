// JSON Lines: one JSON object per line (LF or CRLF; blank lines are skipped and are not data rows).
// Each line is decoded and parsed on its own, so a bad line costs one RowProblem, not the file.
//
// Cell rules (shared with CSV via cells.ts):
// - number columns: JSON numbers; numeric strings ("1.5", as some exporters quote 64-bit values)
//   by the same decimal grammar as CSV; true/false → 1/0; null, an absent key, "" and the missing
//   markers (NA, NaN, null…) → missing; objects, arrays and other text → unparsable.
// - string columns: strings as they are; a number as its text in the line (`1.50`, `1e3`: what a CSV
//   cell holding it gives, not String() of the double: `1.5`, `1000`); booleans as String(value);
//   objects and arrays as their JSON text; null or an absent key → null.

import { allocateColumns, clearRow, sealBatch, setNumberFromText, setNumberMissing, setNumberUnparsable, setNumberValue } from './cells.ts';
import { ByteWindow } from './byte-window.ts';
import type { ChunkDecoder } from './byte-window.ts';
import { CR, LF } from './csv-bytes.ts';
import { OutpostError } from '../../common/errors.ts';
import { describeDuplicate, jsonShapeProblem, MAX_JSON_DEPTH, type DuplicateKey } from '../../common/json-duplicates.ts';
import { resolveRequest } from './request.ts';
import { CellStatus } from './table.ts';
import type { Column, ColumnBatch, ColumnRequest, NumberColumn, RowProblem } from './table.ts';

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface JsonlDecoderOptions {
  file: string;
  /** the file's columns (see sampleJsonlColumns) */
  columns: readonly string[];
  request: readonly ColumnRequest[];
  batchRows: number;
  offset: number;
  rowsBefore: number;
  /** a line longer than this is a fatal error; default 64 MiB */
  maxLineBytes?: number;
}

/**
 * The outcome of parsing one line: an object, or why not. `numbers`: for a record parsed elsewhere
 * (decodeParsed), its numbers' text as sent (topLevelNumbers), asked for only when a text column
 * holds a number; a line decoded from bytes has its text at hand.
 */
export type JsonlLine = { record: Record<string, unknown>; numbers?: () => ReadonlyMap<string, string> | undefined } | { problem: string };

/** JSON.parse's reviver context (source text access, ES2025): a primitive's text as it stands in the JSON. */
interface ReviverContext { source?: string }

/**
 * JSON.parse(text), and for each object in it the text as written of the numbers it holds as values
 * (`1E+39`, `9223372036854775808`, where the parsed double reads `1e+39`, `9223372036854776000`).
 * Slower than a plain parse: used only where a value is echoed back (a reject).
 */
export function parseKeepingNumbers(text: string): { value: unknown; numbersIn: (object: unknown) => ReadonlyMap<string, string> | undefined } {
  const byObject = new Map<unknown, Map<string, string>>();
  const value: unknown = JSON.parse(text, function (this: unknown, key: string, v: unknown, context?: ReviverContext) {
    if (typeof v === 'number' && context?.source !== undefined && !Array.isArray(this)) {
      let numbers = byObject.get(this);
      if (!numbers) byObject.set(this, (numbers = new Map()));
      numbers.set(key, context.source);
    }
    return v;
  } as Parameters<typeof JSON.parse>[1]);
  return { value, numbersIn: (object) => byObject.get(object) };
}

/**
 * The text as written of the numbers that JSON object text holds as its own values (not nested):
 * what parseKeepingNumbers gives for the object, found by one scan of the text, at a fifth of the
 * cost of a reviver parse. `text` is JSON already parsed (valid); a repeated key keeps its last
 * number, as JSON.parse keeps the last value. `only`: just these keys, named once each in the text
 * (a file's line repeating a key it reads is refused): the scan stops when it has them all.
 */
export function topLevelNumbers(text: string, only?: readonly string[]): Map<string, string> {
  const numbers = new Map<string, string>();
  let depth = 0;
  let expectKey = false;
  let key: string | undefined;
  let found = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote (a backslash escapes the next character)
      let j = i + 1;
      let escaped = false;
      for (let d = text.charCodeAt(j); d !== 0x22; d = text.charCodeAt(++j)) {
        if (d === 0x5c) {
          j++;
          escaped = true;
        }
      }
      if (depth === 1 && expectKey) {
        key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : only ? only.find((k) => k.length === j - i - 1 && text.startsWith(k, i + 1)) : text.slice(i + 1, j);
        if (key !== undefined && only && !only.includes(key)) key = undefined;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      expectKey = depth === 1 && c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c) expectKey = depth === 1;
    else if (depth === 1 && key !== undefined && (c === 0x2d || (c >= 0x30 && c <= 0x39))) {
      // a value at the object's own level that starts like a number is one (JSON: - or a digit)
      let j = i + 1;
      for (let d = text.charCodeAt(j); (d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d; d = text.charCodeAt(++j));
      numbers.set(key, text.slice(i, j));
      if (only && ++found === only.length) break;
      key = undefined;
      i = j - 1;
    }
  }
  return numbers;
}

/**
 * One line as a record. `read`: the keys that will be read from it (a file's line); a key repeated
 * outside them does not refuse the line (which value was meant does not matter) and is added to
 * `ignored`. Without it (single records, the API) any repeated key refuses the record.
 */
export function parseJsonlLine(bytes: Uint8Array, start: number, end: number, read?: ReadonlySet<string>, ignored?: DuplicateKey[]): JsonlLine {
  let text: string;
  try {
    text = utf8Fatal.decode(bytes.subarray(start, end));
  } catch {
    return { problem: 'invalid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { problem: `invalid JSON: ${(e as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problem: `not a JSON object (found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})` };
  }
  // JSON.parse keeps the last of a repeated key: the record is refused rather than scored with a guess;
  // a value nested past any real record's depth is refused before anything recurses into it
  const shape = jsonShapeProblem(text, value, MAX_JSON_DEPTH, read, ignored);
  if (shape?.kind === 'duplicate') return { problem: `names ${describeDuplicate(shape)} (a JSON object must name each key once)` };
  if (shape) return { problem: `nested more than ${shape.limit} levels deep (a record is an object of values)` };
  return { record: value as Record<string, unknown> };
}

const NO_KEYS: ReadonlySet<string> = new Set();

/** Whether bytes[start, end) is only spaces, tabs and CR. */
function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}

export class JsonlDecoder implements ChunkDecoder<ColumnBatch> {
  readonly window: ByteWindow;
  private readonly file: string;
  private readonly request: readonly ColumnRequest[];
  private readonly batchRows: number;
  private readonly maxLineBytes: number;
  private rowsDone: number;
  private columns: Column[] | null = null;
  private length = 0;
  /** absolute offset of the batch's first line (ColumnBatch.start) */
  private batchStart = 0;
  private problems: RowProblem[] = [];
  /** the keys read from each line; a line repeating another key is still read */
  private readonly read: ReadonlySet<string>;
  /** the string columns' keys: a JSON number under one of them is read as written */
  private readonly textKeys: readonly string[];
  private readonly ignored: DuplicateKey[] = [];
  /** repeated keys already warned about (once per key per decoder) */
  private readonly warned = new Set<string>();
  private warnings: string[] = [];

  constructor(options: JsonlDecoderOptions) {
    this.file = options.file;
    resolveRequest(options.file, options.columns, options.request, true);
    this.request = options.request;
    this.read = new Set(options.request.map((r) => r.name));
    this.textKeys = options.request.filter((r) => r.kind === 'string').map((r) => r.name);
    this.batchRows = Math.max(1, Math.floor(options.batchRows));
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024;
    this.window = new ByteWindow(options.offset);
    this.rowsDone = options.rowsBefore;
  }

  push(chunk: Uint8Array): void {
    this.window.push(chunk);
  }

  next(eof: boolean): ColumnBatch | null {
    if (this.columns === null) {
      this.columns = allocateColumns(this.request, this.batchRows);
      this.length = 0;
      this.batchStart = this.window.offset;
      this.problems = [];
    }
    const w = this.window;
    while (this.length < this.batchRows && w.start < w.end) {
      let lineEnd = w.buf.indexOf(LF, w.start);
      if (lineEnd < 0 || lineEnd >= w.end) {
        if (!eof) break;
        lineEnd = w.end;
      }
      const start = w.start;
      w.start = Math.min(lineEnd + 1, w.end);
      if (isBlank(w.buf, start, lineEnd)) continue;
      const stop = lineEnd > start && w.buf[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
      this.addRow(parseJsonlLine(w.buf, start, stop, this.read, this.ignored), start, stop);
      if (this.ignored.length) this.noteIgnored();
    }
    if (this.length === this.batchRows || (eof && this.length > 0)) return this.takeBatch();
    if (!eof && w.pending > this.maxLineBytes) {
      throw new OutpostError('input', `line is longer than ${this.maxLineBytes} bytes`, { file: this.file, row: this.rowsDone + this.length + 1 });
    }
    return null;
  }

  /**
   * Records that were already parsed (single records, an API's JSON body) as one batch, with the
   * same cell rules as lines read from a file. Rows are numbered after `rowsBefore`.
   */
  decodeParsed(lines: readonly JsonlLine[]): ColumnBatch {
    this.columns = allocateColumns(this.request, Math.max(1, lines.length));
    this.length = 0;
    this.batchStart = this.window.offset;
    this.problems = [];
    for (const line of lines) this.addRow(line);
    return this.takeBatch();
  }

  /** `start`, `stop`: where the line is in the window (its numbers' text is read from there), or -1. */
  private addRow(line: JsonlLine, start = -1, stop = -1): void {
    const row = this.length++;
    const columns = this.columns ?? [];
    if ('problem' in line) {
      clearRow(columns, row);
      this.problems.push({ row: this.rowsDone + row + 1, reason: line.problem });
      return;
    }
    const record = line.record;
    let numbers: ReadonlyMap<string, string> | undefined;
    for (let i = 0; i < columns.length; i++) {
      const name = this.request[i].name;
      const value = Object.hasOwn(record, name) ? record[name] : undefined;
      const column = columns[i];
      if (column.kind === 'number') setJsonNumber(column, row, value);
      else if (typeof value === 'number') {
        // a number for a text column: its text in the line, as a CSV cell gives it (found only for such a line)
        numbers ??= start >= 0 ? topLevelNumbers(utf8Fatal.decode(this.window.buf.subarray(start, stop)), this.textKeys) : line.numbers?.();
        column.values[row] = numbers?.get(name) ?? String(value);
      } else column.values[row] = jsonString(value);
    }
  }

  /** The repeated keys of the row just added, not read: a warning the first time each is seen. */
  private noteIgnored(): void {
    for (const d of this.ignored) {
      const where = d.path ? `${d.path}.${d.key}` : d.key;
      if (this.warned.has(where)) continue;
      this.warned.add(where);
      this.warnings.push(`row ${this.rowsDone + this.length} (and maybe others) names ${describeDuplicate(d)}; the model does not read it, so such rows are scored`);
    }
    this.ignored.length = 0;
  }

  private takeBatch(): ColumnBatch {
    const batch = sealBatch(this.columns, this.length, this.rowsDone, this.problems, this.batchStart, this.window.offset);
    if (this.warnings.length) {
      batch.warnings = this.warnings;
      this.warnings = [];
    }
    this.rowsDone += this.length;
    this.columns = null;
    return batch;
  }
}

function setJsonNumber(column: NumberColumn, row: number, value: unknown): void {
  switch (typeof value) {
    case 'number': setNumberValue(column, row, value); return;
    case 'string': setNumberFromText(column, row, value); return;
    case 'boolean':
      column.values[row] = value ? 1 : 0;
      column.status[row] = CellStatus.ok;
      return;
    case 'undefined': setNumberMissing(column, row); return;
    default:
      if (value === null) setNumberMissing(column, row);
      else setNumberUnparsable(column, row, JSON.stringify(value).slice(0, 200));
  }
}

function jsonString(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * The columns of a JSONL file from its first bytes: the keys of the first `maxRecords` objects,
 * in order of first appearance (a union, because writers often leave out null fields). Lines
 * that are not objects are ignored here; they become RowProblems when read. Returns the number of
 * data lines seen so callers can tell "no data" apart.
 */
export function sampleJsonlColumns(bytes: Uint8Array, eof: boolean, maxRecords = 1000): { columns: string[]; records: number; lines: number; firstProblem?: string } {
  const keys = new Set<string>();
  let records = 0;
  let lines = 0;
  let firstProblem: string | undefined;
  let p = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (p < bytes.length && records < maxRecords) {
    let lineEnd = bytes.indexOf(LF, p);
    if (lineEnd < 0) {
      if (!eof) break; // a cut line is left for the reader
      lineEnd = bytes.length;
    }
    const start = p;
    p = lineEnd + 1;
    if (isBlank(bytes, start, lineEnd)) continue;
    lines++;
    const stop = lineEnd > start && bytes[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    // the columns are every key a record has: a repeated key is judged when lines are read (what is read from them is known then)
    const line = parseJsonlLine(bytes, start, stop, NO_KEYS);
    if ('problem' in line) {
      firstProblem ??= line.problem;
      continue;
    }
    records++;
    for (const k of Object.keys(line.record)) keys.add(k);
  }
  return { columns: [...keys], records, lines, ...(firstProblem !== undefined ? { firstProblem } : {}) };
}
