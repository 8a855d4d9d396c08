// Parquet values (as hyparquet decodes them) → cells, with the shared rules of cells.ts:
// - number columns: numbers as they are (NaN → missing); INT64 bigints → Number (exact up to
//   2^53, rounded beyond: then the digits are kept in `exact` for a reject); booleans → 1/0; dates and timestamps → epoch milliseconds; numeric
//   strings by the CSV decimal grammar; null → missing; anything else (bytes, lists, structs)
//   → unparsable.
// - string columns: strings as they are; numbers, bigints and booleans via String(); dates and
//   timestamps as ISO 8601 (`2001-01-01T00:01:00.000Z`; a timestamp stored without a zone is
//   shown as if it were UTC); raw bytes as UTF-8 text; lists and structs as JSON; null → null.

import { setNumberFromText, setNumberMissing, setNumberUnparsable, setNumberValue } from './cells.ts';
import { NOT_FINITE } from './number-reasons.ts';
import { CellStatus } from './table.ts';
import type { NumberColumn, StringColumn } from './table.ts';

const utf8Lenient = new TextDecoder('utf-8', { ignoreBOM: true });

/** JSON text of any decoded value (bigints as numbers' text, bytes as UTF-8 text). */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? utf8Lenient.decode(v) : v)) ?? String(value);
}

export function setParquetNumber(column: NumberColumn, row: number, value: unknown): void {
  switch (typeof value) {
    case 'number': setNumberValue(column, row, value, NOT_FINITE); return; // a stored float: an infinity is one
    case 'bigint': {
      const n = Number(value);
      setNumberValue(column, row, n);
      // beyond ±(2^53 − 1) the double may not be the stored integer: its digits, for a reject
      if (n > Number.MAX_SAFE_INTEGER || n < -Number.MAX_SAFE_INTEGER) (column.exact ??= new Map()).set(row, value.toString());
      return;
    }
    case 'boolean':
      column.values[row] = value ? 1 : 0;
      column.status[row] = CellStatus.ok;
      return;
    case 'string': setNumberFromText(column, row, value); return;
    case 'undefined': setNumberMissing(column, row); return;
    default:
      if (value === null) setNumberMissing(column, row);
      else if (value instanceof Date) {
        const t = value.getTime();
        if (Number.isFinite(t)) setNumberValue(column, row, t);
        else setNumberUnparsable(column, row, 'Invalid Date');
      } else setNumberUnparsable(column, row, jsonText(value).slice(0, 200));
  }
}

export function parquetString(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string': return value;
    case 'number':
    case 'bigint':
    case 'boolean': return String(value);
    default:
      if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : 'Invalid Date';
      if (value instanceof Uint8Array) return utf8Lenient.decode(value);
      return jsonText(value);
  }
}

/** Fill rows [row, row + count) of a column from values[from, from + count). */
export function fillFromParquet(column: NumberColumn | StringColumn, row: number, values: ArrayLike<unknown>, from: number, count: number): void {
  if (column.kind === 'string') {
    for (let i = 0; i < count; i++) column.values[row + i] = parquetString(values[from + i]);
    return;
  }
  if (values instanceof Float64Array || values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint32Array || values instanceof Int16Array || values instanceof Uint8Array || values instanceof Int8Array || values instanceof Uint16Array) {
    // required numeric columns arrive as typed arrays: no per-value type dispatch
    for (let i = 0; i < count; i++) setNumberValue(column, row + i, values[from + i], NOT_FINITE);
    return;
  }
  for (let i = 0; i < count; i++) setParquetNumber(column, row + i, values[from + i]);
}
