// One output column of the Parquet row group being built, held typed: the batches' values are
// copied straight into a typed array (numbers) or a string / dictionary-id array, with a byte per
// row saying whether the value is there (NaN and null are written as Parquet nulls). What goes in
// is checked here, so a value the column's physical type cannot hold fails at the batch that
// carried it, naming the row. `parquet-encode.ts` turns a full buffer into a column chunk.

import type { OutColumn } from './table.ts';
import { utf8Strings } from './utf8-cells.ts';

/** Physical Parquet type of an output column (STRING = BYTE_ARRAY annotated UTF-8). */
export type Physical = 'FLOAT' | 'DOUBLE' | 'INT32' | 'INT64' | 'STRING';

/** A value the column's type cannot hold; `row` is its index in the batch. */
export class ColumnValueError extends Error {
  readonly row: number;
  constructor(row: number, message: string) {
    super(message);
    this.row = row;
  }
}

const TWO_63 = 9223372036854775808;

export class ColumnBuffer {
  readonly name: string;
  readonly physical: Physical;
  /** rows held, and how many of them are null */
  rows = 0;
  nulls = 0;
  /** 1 = a value, 0 = null, per row */
  defined: Uint8Array;
  /** FLOAT: Float32Array; DOUBLE, INT64: Float64Array (INT64 values are integers); INT32: Int32Array */
  numbers: Float32Array | Float64Array | Int32Array | null = null;
  /** STRING from string columns */
  strings: (string | null)[] | null = null;
  /** STRING from dictionary columns: an index into `table` per row (-1 = null) */
  ids: Int32Array | null = null;
  /** every distinct string the dictionary columns brought, in order of first appearance */
  readonly table: string[] = [];
  private readonly tableIndex = new Map<string, number>();

  /** `fromDict`: a STRING column fed by dictionary-encoded (`dict`) output columns. */
  constructor(name: string, physical: Physical, fromDict: boolean, capacity: number) {
    this.name = name;
    this.physical = physical;
    const n = Math.max(1, capacity);
    this.defined = new Uint8Array(n);
    if (physical === 'FLOAT') this.numbers = new Float32Array(n);
    else if (physical === 'DOUBLE' || physical === 'INT64') this.numbers = new Float64Array(n);
    else if (physical === 'INT32') this.numbers = new Int32Array(n);
    else if (fromDict) this.ids = new Int32Array(n);
    else this.strings = [];
  }

  /** Empty again (the arrays are kept for the next row group). */
  reset(): void {
    this.rows = 0;
    this.nulls = 0;
    if (this.strings) this.strings = [];
  }

  /** Back to the first `rows` rows (undoes the appends of a batch that failed). */
  truncate(rows: number): void {
    if (rows >= this.rows) return;
    for (let i = rows; i < this.rows; i++) this.nulls -= 1 - this.defined[i];
    this.rows = rows;
    if (this.strings) this.strings.length = rows;
  }

  /**
   * The rows held, for a checkpoint that keeps the row group open: numbers as float64 (every
   * physical type's values are exact in it; NaN = null), strings as they are (null = null).
   */
  heldValues(): Float64Array | (string | null)[] {
    const n = this.rows;
    if (this.strings) return this.strings.slice(0, n);
    if (this.ids) {
      const out = new Array<string | null>(n);
      for (let i = 0; i < n; i++) out[i] = this.defined[i] ? this.table[this.ids[i]] : null;
      return out;
    }
    const out = new Float64Array(n);
    const numbers = this.numbers!;
    for (let i = 0; i < n; i++) out[i] = this.defined[i] ? numbers[i] : NaN;
    return out;
  }

  /** Append rows saved by heldValues() (the buffer then holds what it held, and encodes the same bytes). */
  restoreValues(values: Float64Array | (string | null)[]): void {
    const n = values.length;
    if (values instanceof Float64Array) {
      if (!this.numbers) throw new Error(`column ${this.name}: saved numbers for a ${this.physical} column of strings`);
      this.append({ name: this.name, type: 'float64', values }, n);
    } else if (this.numbers) {
      throw new Error(`column ${this.name}: saved strings for a ${this.physical} column`);
    } else if (this.ids) {
      // as a dictionary column; the table's order does not reach the file (the encoder orders by first use)
      const dictionary: string[] = [];
      const code = new Map<string, number>();
      const codes = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null) { codes[i] = -1; continue; }
        let c = code.get(v);
        if (c === undefined) code.set(v, (c = dictionary.push(v) - 1));
        codes[i] = c;
      }
      this.append({ name: this.name, type: 'dict', codes, dictionary }, n);
    } else this.append({ name: this.name, type: 'string', values }, n);
  }

  private reserve(more: number): void {
    const need = this.rows + more;
    if (need <= this.defined.length) return;
    const size = Math.max(need, this.defined.length * 2);
    const grow = <T extends Uint8Array | Int32Array | Float32Array | Float64Array>(a: T, Kind: { new (n: number): T }): T => {
      const b = new Kind(size);
      b.set(a.subarray(0, this.rows) as never);
      return b;
    };
    this.defined = grow(this.defined, Uint8Array);
    if (this.numbers instanceof Float32Array) this.numbers = grow(this.numbers, Float32Array);
    else if (this.numbers instanceof Float64Array) this.numbers = grow(this.numbers, Float64Array);
    else if (this.numbers instanceof Int32Array) this.numbers = grow(this.numbers, Int32Array);
    if (this.ids) this.ids = grow(this.ids, Int32Array);
  }

  /** The first `rows` values of `column` (its type matches the schema: checked by the sink). */
  append(column: OutColumn, rows: number): void {
    this.reserve(rows);
    const at = this.rows;
    const defined = this.defined;
    let nulls = 0;
    if (column.type === 'string' || column.type === 'utf8') {
      const out = this.strings!;
      const values = column.type === 'utf8' ? utf8Strings(column, rows) : column.values;
      for (let i = 0; i < rows; i++) {
        const v = values[i] ?? null;
        out.push(v);
        if (v === null) nulls++;
        defined[at + i] = v === null ? 0 : 1;
      }
    } else if (column.type === 'dict') {
      const ids = this.ids!;
      const dictionary = column.dictionary;
      const toId = new Int32Array(dictionary.length);
      for (let c = 0; c < dictionary.length; c++) {
        let id = this.tableIndex.get(dictionary[c]);
        if (id === undefined) {
          id = this.table.length;
          this.table.push(dictionary[c]);
          this.tableIndex.set(dictionary[c], id);
        }
        toId[c] = id;
      }
      const codes = column.codes;
      for (let i = 0; i < rows; i++) {
        const c = codes[i];
        if (c >= 0 && c < toId.length) {
          ids[at + i] = toId[c];
          defined[at + i] = 1;
        } else {
          ids[at + i] = -1;
          defined[at + i] = 0;
          nulls++;
        }
      }
    } else {
      const src = column.values;
      const out = this.numbers!;
      if (this.physical === 'INT32' && !(src instanceof Int32Array)) {
        for (let i = 0; i < rows; i++) {
          const v = src[i];
          if (v !== v) {
            out[at + i] = 0;
            defined[at + i] = 0;
            nulls++;
            continue;
          }
          if (v !== (v | 0)) throw new ColumnValueError(i, `${v} is not a 32-bit integer`);
          out[at + i] = v;
          defined[at + i] = 1;
        }
      } else if (this.physical === 'INT64') {
        for (let i = 0; i < rows; i++) {
          const v = src[i];
          if (v !== v) {
            out[at + i] = 0;
            defined[at + i] = 0;
            nulls++;
            continue;
          }
          if (!Number.isInteger(v)) throw new ColumnValueError(i, `${v} is not an integer`);
          if (v < -TWO_63 || v >= TWO_63) throw new ColumnValueError(i, `${v} is outside the 64-bit integer range`);
          out[at + i] = v;
          defined[at + i] = 1;
        }
      } else {
        // FLOAT, DOUBLE, INT32 from Int32Array: copy, then mark the NaNs
        out.set(src.subarray(0, rows), at);
        defined.fill(1, at, at + rows);
        if (!(src instanceof Int32Array)) {
          for (let i = 0; i < rows; i++) {
            const v = src[i];
            if (v !== v) {
              out[at + i] = 0;
              defined[at + i] = 0;
              nulls++;
            }
          }
        }
      }
    }
    this.rows += rows;
    this.nulls += nulls;
  }
}
