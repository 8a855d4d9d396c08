// String cells kept as UTF-8 bytes (table.ts Utf8Cells): the id column a CSV reader hands through
// to the output. Building the output column from them costs no string per row on the writer's side
// and no string serialisation when the writer is another thread. Pure.

import { asciiText } from './decimal.ts';
import type { OutColumn, StringColumn, Utf8Cells } from './table.ts';

/** Grows with the cells written into it; `cells` holds the current arrays. */
export class Utf8CellWriter {
  readonly cells: Utf8Cells;
  private fill = 0;
  /** rows whose string is still to be made (setAscii), and whether there are any */
  private readonly pending: Uint8Array;
  private anyPending = false;

  constructor(rows: number, bytesPerRow = 16) {
    this.cells = { bytes: new Uint8Array(Math.max(64, rows * bytesPerRow)), starts: new Int32Array(rows), ends: new Int32Array(rows) };
    this.pending = new Uint8Array(rows);
  }

  /** An ASCII cell whose string is made later, if at all, with the batch's others (stringValues). */
  setAscii(row: number, src: Uint8Array, start: number, end: number): void {
    this.set(row, src, start, end);
    this.pending[row] = 1;
    this.anyPending = true;
  }

  /** The row's string is not wanted after all (a rejected row stays null). */
  drop(row: number): void {
    this.pending[row] = 0;
  }

  /** Leave the strings of the cells given by setAscii to stringValues(): marked in the cells. */
  deferStrings(): void {
    if (this.anyPending) this.cells.pending = this.pending;
  }

  /** Cell `row` is src[start, end). A row written again (parsed again after more bytes came) just takes new room. */
  set(row: number, src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    let bytes = this.cells.bytes;
    let at = this.fill;
    if (at + n > bytes.length) {
      const grown = new Uint8Array(Math.max(bytes.length * 2, at + n));
      grown.set(bytes.subarray(0, at));
      this.cells.bytes = bytes = grown;
    }
    this.cells.starts[row] = at;
    for (let i = start; i < end; i++) bytes[at++] = src[i];
    this.cells.ends[row] = at;
    this.fill = at;
  }

  setMissing(row: number): void {
    this.cells.starts[row] = -1;
    this.cells.ends[row] = -1;
  }
}

/** An output column of the cells at `rows` (all `n` cells in order when `rows` has n entries: no copy). */
export function utf8OutColumn(name: string, cells: Utf8Cells, rows: Int32Array, n: number): Extract<OutColumn, { type: 'utf8' }> {
  const m = rows.length;
  if (m === n) return { name, type: 'utf8', bytes: cells.bytes, starts: cells.starts.subarray(0, n), ends: cells.ends.subarray(0, n) };
  const starts = new Int32Array(m);
  const ends = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    starts[j] = cells.starts[rows[j]];
    ends[j] = cells.ends[rows[j]];
  }
  return { name, type: 'utf8', bytes: cells.bytes, starts, ends };
}

const utf8 = new TextDecoder();

/**
 * A string column's values, with the cells its reader left as bytes (Utf8Cells.pending) made now,
 * once: one decode of the batch's bytes and a substring per cell where every byte is ASCII (cheaper
 * than a string built per cell).
 */
export function stringValues(col: StringColumn): (string | null)[] {
  const cells = col.utf8;
  const pending = cells?.pending;
  if (!cells || !pending) return col.values;
  const { bytes, starts, ends } = cells;
  const values = col.values;
  const rows = values.length;
  let fill = 0;
  for (let r = 0; r < rows; r++) if (ends[r] > fill) fill = ends[r];
  let high = 0;
  for (let i = 0; i < fill; i++) high |= bytes[i];
  // every byte ASCII: offsets in the text are byte offsets
  const all = high < 0x80 ? utf8.decode(bytes.subarray(0, fill)) : undefined;
  for (let r = 0; r < rows; r++) {
    if (pending[r] === 0) continue;
    values[r] = all !== undefined ? all.substring(starts[r], ends[r]) : asciiText(bytes, starts[r], ends[r]);
  }
  delete cells.pending;
  return values;
}

/** Cell i as a string (null when missing). */
export function utf8Cell(cells: Utf8Cells, i: number): string | null {
  const s = cells.starts[i];
  return s < 0 ? null : utf8.decode(cells.bytes.subarray(s, cells.ends[i]));
}

/** The first `rows` cells as strings (writers that take strings: Parquet). */
export function utf8Strings(cells: Utf8Cells, rows: number): (string | null)[] {
  return Array.from({ length: rows }, (_, i) => utf8Cell(cells, i));
}
