// Drives csv-plain-rows.wat for the CSV decoder: rows of plain fields — unquoted decimals in number
// columns, unquoted ASCII text, fields nobody asked for: the bulk of most files — are split and
// their numbers parsed in WebAssembly at about half the CPU time of the JS loop
// (bench/results/README.md, Session 11), bit for bit the same values. The decoder calls parse() at
// each row start and takes, itself, the row the kernel stops at (a quote, non-ASCII text, an
// exponent, a missing number, a wrong field count, …).
//
// The kernel reads a copy of the decoder's bytes: a segment of up to SEGMENT bytes copied into its
// memory once, at the row the decoder is at. Bytes at a stream offset never change once pushed
// (the window only moves them), so a segment stays valid until another decoder on this thread
// copies its own. Numbers come back by column, copied into the batch's arrays; a text cell comes
// back as its start and end, and the decoder makes its string from its own window.
import { instantiateWasm, WASM_PAGE } from '../../common/wasm.ts';
import type { WasmMemory } from '../../common/wasm.ts';
import { CSV_PLAIN_ROWS_WASM } from './csv-plain-rows-wasm.ts';

type Rows = (p: number, end: number, limit: number, delim: number, nf: number, kinds: number, out: number, n: number) => number;

const KINDS = 256; // after 10^0..10^22 (184 bytes)
const OUT_BYTES = 2 << 20;
const SEGMENT = 1 << 20;
/** Misses in a row before calls are left to the JS loop, and the most calls left to it in a row (parse()). */
const MISSES_BEFORE_WAIT = 8;
const MAX_WAIT = 64;

/** What the decoder asks for of each field. */
export type PlainField = 'skip' | 'number' | 'text';

class Kernel {
  readonly #memory: WasmMemory;
  readonly #rows: Rows;
  readonly #rowsDone: { value: number };
  readonly #cut: { value: number };
  #u8!: Uint8Array;
  f64!: Float64Array;
  i32!: Int32Array;
  /** which decoder's fields and bytes the memory holds */
  owner: object | null = null;
  fields = 0;
  out = 0;
  in = 0;
  /** stream offset of the segment's first byte, and its length */
  segmentAt = 0;
  segmentBytes = 0;

  constructor(exports: Record<string, unknown>) {
    this.#memory = exports.memory as WasmMemory;
    this.#rows = exports.rows as Rows;
    this.#rowsDone = exports.rowsDone as { value: number };
    this.#cut = exports.cut as { value: number };
    this.#views();
    for (let i = 0; i <= 22; i++) this.f64[i] = 10 ** i;
  }

  #views(): void {
    this.#u8 = new Uint8Array(this.#memory.buffer);
    this.f64 = new Float64Array(this.#memory.buffer);
    this.i32 = new Int32Array(this.#memory.buffer);
  }

  /** Take the memory for `owner`: its field kinds written, the segment emptied. */
  claim(owner: object, kinds: Int32Array): void {
    this.owner = owner;
    this.fields = kinds.length;
    this.out = (KINDS + 4 * kinds.length + 7) & ~7;
    this.in = this.out + OUT_BYTES;
    const short = this.in + SEGMENT - this.#memory.buffer.byteLength;
    if (short > 0) {
      this.#memory.grow(Math.ceil(short / WASM_PAGE));
      this.#views();
    }
    this.i32.set(kinds, KINDS / 4);
    this.segmentAt = 0;
    this.segmentBytes = 0;
  }

  /** Copy bytes [from, to) of `buf` (stream offset `at` for `from`), at most SEGMENT, to the segment. */
  load(buf: Uint8Array, from: number, to: number, at: number): void {
    const n = Math.min(to - from, SEGMENT);
    this.#u8.set(buf.subarray(from, from + n), this.in);
    this.segmentAt = at;
    this.segmentBytes = n;
  }

  /** Parse up to n rows from segment position q while a row starts before `limit` (segment-relative). */
  run(q: number, limit: number, delim: number, n: number): number {
    return this.#rows(this.in + q, this.in + this.segmentBytes, this.in + limit, delim, this.fields, KINDS, this.out, n) - this.in;
  }

  get rowsDone(): number { return this.#rowsDone.value; }
  get cut(): boolean { return this.#cut.value === 1; }
}

let kernel: Kernel | undefined | null = null;

function threadKernel(): Kernel | undefined {
  if (kernel === null) {
    const instance = instantiateWasm(CSV_PLAIN_ROWS_WASM);
    kernel = instance ? new Kernel(instance.exports) : undefined;
  }
  return kernel;
}

/** What parse() leaves: where the decoder goes on, and the batch's row count. */
export interface RowsResult { p: number; row: number }

/** A text cell the kernel found: field, batch row, and its bytes [start, end) in the decoder's window. */
export type TextCell = (field: number, row: number, start: number, end: number) => void;

/** One decoder's use of this thread's kernel. */
export class PlainRows {
  /** per field: 0 skipped, f + 1 number, -(f + 1) text */
  readonly #kinds: Int32Array;
  readonly #delim: number;
  readonly #text: TextCell;
  /** rows per kernel call: its output fills OUT_BYTES */
  readonly #perCall: number;
  /** rows the kernel parsed (the decoder's JS loop took the rest) */
  rows = 0;
  readonly result: RowsResult = { p: 0, row: 0 };
  /**
   * The kernel stopped at a row it does not take (not one cut by the end of the bytes) without
   * taking any: `#misses` such calls in a row. Past MISSES_BEFORE_WAIT, the next `#wait` calls go
   * to the JS loop at once (doubling with each further miss, up to MAX_WAIT): a file whose every
   * row needs the JS loop (a quoted field in each) would otherwise pay a kernel call per row.
   */
  #misses = 0;
  #wait = 0;

  private constructor(kinds: Int32Array, delim: number, text: TextCell) {
    this.#kinds = kinds;
    this.#delim = delim;
    this.#text = text;
    this.#perCall = Math.max(1, Math.floor(OUT_BYTES / (8 * kinds.length)));
  }

  /**
   * For a decoder's fields; undefined where WebAssembly is unavailable, the delimiter cannot be used,
   * or one row's output would not fit the kernel's output area (over 262,144 fields).
   */
  static for(fields: readonly PlainField[], delim: number, text: TextCell): PlainRows | undefined {
    if (fields.length === 0 || 8 * fields.length > OUT_BYTES || delim === 10 || delim === 13 || delim === 34 || delim > 127 || threadKernel() === undefined) return undefined;
    return new PlainRows(Int32Array.from(fields, (kind, f) => (kind === 'number' ? f + 1 : kind === 'text' ? -(f + 1) : 0)), delim, text);
  }

  /**
   * Parse rows from buf[p] (stream offset base + p) while a row starts before `limit` and the batch
   * has fewer than `cap` rows: numbers into `columns[f]` (number field f's array) from index `row`,
   * text cells through the decoder's callback. Sets result.p (the first row not parsed: one for the
   * JS loop, or the end) and result.row.
   */
  parse(buf: Uint8Array, base: number, p: number, end: number, limit: number, row: number, cap: number, columns: readonly Float64Array[]): RowsResult {
    if (this.#wait > 0) {
      this.#wait--;
      this.result.p = p;
      this.result.row = row;
      return this.result;
    }
    const rowsBefore = row;
    const bailed = this.#parse(buf, base, p, end, limit, row, cap, columns);
    if (this.result.row > rowsBefore) this.#misses = 0;
    else if (bailed && ++this.#misses > MISSES_BEFORE_WAIT) this.#wait = Math.min(MAX_WAIT, 2 ** (this.#misses - MISSES_BEFORE_WAIT));
    return this.result;
  }

  /** parse() with the kernel; true when it stopped at a row it does not take (not a cut one, not the end). */
  #parse(buf: Uint8Array, base: number, p: number, end: number, limit: number, row: number, cap: number, columns: readonly Float64Array[]): boolean {
    const k = kernel!;
    const kinds = this.#kinds;
    if (k.owner !== this) k.claim(this, kinds);
    let bailed = false;
    for (;;) {
      const at = base + p;
      if (at < k.segmentAt || at >= k.segmentAt + k.segmentBytes) {
        if (p >= end) break;
        k.load(buf, p, end, at);
      }
      const q = base + p - k.segmentAt;
      const n = Math.min(cap - row, this.#perCall);
      const stop = k.run(q, Math.min(limit + base - k.segmentAt, k.segmentBytes), this.#delim, n);
      const done = k.rowsDone;
      if (done > 0) this.#take(k, n, done, row, columns, base);
      row += done;
      this.rows += done;
      p += stop - q;
      if (row >= cap || p >= limit) break;
      if (done === n) continue; // this call's rows are done: more calls
      const segmentEnd = k.segmentAt + k.segmentBytes;
      if (base + p >= segmentEnd) continue; // the segment ended at a row boundary: the next is copied
      // a row cut by the segment's end while the window holds more: copy from that row on (unless
      // the segment already starts there: a row longer than a segment is the JS loop's)
      if (k.cut && segmentEnd < base + end && k.segmentAt !== base + p) {
        k.load(buf, p, end, base + p);
        continue;
      }
      bailed = !k.cut;
      break; // a row for the JS loop, or the window's last row, cut
    }
    this.result.p = p;
    this.result.row = row;
    return bailed;
  }

  /** The last call's `done` rows (output stride n) into the batch from `row`. */
  #take(k: Kernel, n: number, done: number, row: number, columns: readonly Float64Array[], base: number): void {
    const kinds = this.#kinds;
    const out = k.out / 8;
    // a text cell's address in the kernel's memory → its place in the decoder's window
    const shift = k.segmentAt - base - k.in;
    for (let f = 0; f < kinds.length; f++) {
      const kind = kinds[f];
      if (kind > 0) columns[f].set(k.f64.subarray(out + f * n, out + f * n + done), row);
      else if (kind < 0) {
        const i32 = k.i32;
        for (let r = 0, at = 2 * (out + f * n); r < done; r++, at += 2) this.#text(f, row + r, i32[at] + shift, i32[at + 1] + shift);
      }
    }
  }
}
