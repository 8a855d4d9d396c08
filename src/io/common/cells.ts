// What a cell means, shared by every reader so that CSV, JSONL and Parquet agree:
// - number cells: a decimal literal (see decimal.ts) is `ok`; an empty or whitespace-only cell and
//   the usual missing-value markers written by pandas, R and databases (`NA`, `N/A`, `NaN`, `nan`,
//   `null`, `NULL`) are `missing`; anything else is `unparsable`, and so are values that overflow
//   a double ("1e309") and the infinity spellings: a model should never see ±Infinity by accident.
//   Their reasons are worded once, in number-reasons.ts.
// - string cells: only an absent value (empty unquoted CSV field, JSON null, absent key, Parquet
//   null) is missing; text such as "NA" is kept, because it may be a real category.
// The column allocation helpers below are how readers build a ColumnBatch's columns.

import { asciiText, parseDecimalText, SPACE, TAB } from './decimal.ts';
import { TOO_LARGE_FOR_DOUBLE, unparsableNumberReason } from './number-reasons.ts';
import { CellStatus } from './table.ts';
import type { Column, ColumnBatch, ColumnRequest, NumberColumn, RowProblem, StringColumn } from './table.ts';

export const MISSING_NUMBER_TOKENS: ReadonlySet<string> = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL']);

/** Is bytes[start, end) (ASCII spaces/tabs trimmed) a missing-value marker for a number cell? */
export function isMissingNumberBytes(bytes: Uint8Array, start: number, end: number): boolean {
  while (start < end && (bytes[start] === SPACE || bytes[start] === TAB)) start++;
  while (end > start && (bytes[end - 1] === SPACE || bytes[end - 1] === TAB)) end--;
  if (end - start > 4) return false;
  return MISSING_NUMBER_TOKENS.has(asciiText(bytes, start, end));
}

export function isMissingNumberText(text: string): boolean {
  return MISSING_NUMBER_TOKENS.has(text.trim());
}

/** Fresh columns for a batch of up to `rows` rows, in request order. */
export function allocateColumns(request: readonly ColumnRequest[], rows: number): Column[] {
  return request.map((r): Column => r.kind === 'number'
    ? { kind: 'number', values: new Float64Array(rows), status: new Uint8Array(rows) }
    : { kind: 'string', values: new Array<string | null>(rows).fill(null) });
}

/** Copy rows [from, from + count) of `src` to rows [at, at + count) of `dst` (same kind), with their problem notes. */
export function copyRows(src: Column, from: number, dst: Column, at: number, count: number): void {
  if (src.kind === 'string' || dst.kind === 'string') {
    for (let i = 0; i < count; i++) dst.values[at + i] = src.values[from + i] as string | null;
    return;
  }
  dst.values.set(src.values.subarray(from, from + count), at);
  dst.status.set(src.status.subarray(from, from + count), at);
  for (const key of ['bad', 'reasons', 'markers', 'exact'] as const) {
    const notes = src[key];
    if (!notes?.size) continue;
    for (const [row, text] of notes) if (row >= from && row < from + count) (dst[key] ??= new Map()).set(row - from + at, text);
  }
}

/** The columns cut to the rows actually filled (typed arrays become views, no copy). */
export function trimColumns(columns: Column[], length: number): Column[] {
  return columns.map((c): Column => {
    if (c.kind === 'string') {
      if (c.values.length !== length) c.values.length = length;
      return c;
    }
    if (c.values.length === length) return c;
    const trimmed: NumberColumn = { kind: 'number', values: c.values.subarray(0, length), status: c.status.subarray(0, length) };
    if (c.bad && c.bad.size > 0) trimmed.bad = c.bad;
    if (c.reasons && c.reasons.size > 0) trimmed.reasons = c.reasons;
    if (c.markers && c.markers.size > 0) trimmed.markers = c.markers;
    if (c.exact && c.exact.size > 0) trimmed.exact = c.exact;
    return trimmed;
  });
}

/** The batch a decoder hands out: its `length` filled rows, numbered after the `rowsDone` before it, read from byte `start` to `offset`. */
export function sealBatch(columns: Column[] | null, length: number, rowsDone: number, problems: RowProblem[], start: number, offset: number): ColumnBatch {
  return {
    firstRow: rowsDone + 1,
    length,
    columns: trimColumns(columns ?? [], length),
    rowProblems: problems,
    end: { offset, row: rowsDone + length },
    start,
    owned: true,
  };
}

/**
 * Free an owned batch's number buffers now, by detaching them, instead of leaving them to the
 * garbage collector: V8 counts ArrayBuffers as external memory and, past a limit of tens of MB
 * since its last full collection, starts another one. A scoring thread that let ~1.5 MB of them go
 * per 8,192-row batch of 20 numbers ran a full collection every few dozen batches, most of the GC
 * threads' ~400 ms of CPU per 1M rows (bench/results/README.md, Session 12). Call only when nothing
 * reads the batch's number columns any more; a batch that is not `owned` is left alone.
 */
export function releaseBatch(batch: ColumnBatch): void {
  if (!batch.owned) return;
  for (const c of batch.columns) {
    if (c.kind !== 'number') continue;
    detach(c.values.buffer);
    detach(c.status.buffer);
  }
}

/** ES2024's ArrayBuffer members, typed here: the renderer's build targets an older library. */
type DetachableBuffer = ArrayBuffer & { readonly detached?: boolean; transfer?: (length: number) => ArrayBuffer };

/** Detach an ArrayBuffer (ES2024 transfer); a SharedArrayBuffer, or a host without transfer, keeps it for the collector. */
function detach(buffer: ArrayBufferLike): void {
  if (!(buffer instanceof ArrayBuffer)) return;
  const b = buffer as DetachableBuffer;
  if (!b.detached && typeof b.transfer === 'function') b.transfer(0);
}

export function setNumberMissing(column: NumberColumn, row: number, marker?: string): void {
  column.values[row] = NaN;
  column.status[row] = CellStatus.missing;
  column.bad?.delete(row);
  if (marker) (column.markers ??= new Map()).set(row, marker);
  else column.markers?.delete(row);
}

/** Longest raw cell text kept for a reject message. */
export const BAD_TEXT_LIMIT = 200;

export function setNumberUnparsable(column: NumberColumn, row: number, text: string, reason?: string): void {
  column.values[row] = NaN;
  column.status[row] = CellStatus.unparsable;
  (column.bad ??= new Map()).set(row, text.length > BAD_TEXT_LIMIT ? `${text.slice(0, BAD_TEXT_LIMIT)}…` : text);
  column.markers?.delete(row);
  if (reason) (column.reasons ??= new Map()).set(row, reason);
  else column.reasons?.delete(row);
}

/** A structurally bad row: every requested cell becomes missing. */
export function clearRow(columns: readonly Column[], row: number): void {
  for (const c of columns) {
    if (c.kind === 'number') setNumberMissing(c, row);
    else c.values[row] = null;
  }
}

/** Number cell from a JS string (JSONL, Parquet): decimal text, missing marker or unparsable. */
export function setNumberFromText(column: NumberColumn, row: number, text: string): void {
  const value = parseDecimalText(text);
  if (Number.isFinite(value)) {
    column.values[row] = value;
    column.status[row] = CellStatus.ok;
  } else if (Number.isNaN(value) && isMissingNumberText(text)) {
    setNumberMissing(column, row, text.trim());
  } else {
    setNumberUnparsable(column, row, text, unparsableNumberReason(text, value, text.length));
  }
}

/**
 * Number cell from a number. An infinite one is beyond a double where it came from text (JSON.parse
 * gives ±Infinity for 1e400: `infinite` is TOO_LARGE_FOR_DOUBLE, the default), a real infinity
 * where it was stored as one (a Parquet float: NOT_FINITE, see number-reasons.ts).
 */
export function setNumberValue(column: NumberColumn, row: number, value: number, infinite: string = TOO_LARGE_FOR_DOUBLE): void {
  if (Number.isFinite(value)) {
    column.values[row] = value;
    column.status[row] = CellStatus.ok;
  } else if (Number.isNaN(value)) {
    // a NaN stored as a number (JSON cannot hold one; Parquet floats can) means "no value"
    setNumberMissing(column, row, 'NaN');
  } else {
    // never fed to a model
    setNumberUnparsable(column, row, String(value), infinite);
  }
}

export function setString(column: StringColumn, row: number, value: string | null): void {
  column.values[row] = value;
}
