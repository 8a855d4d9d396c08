// The per-value loop of NumericStats.update() in WebAssembly (scan-kernel.wat): the same IEEE
// operations in the same order as the JS loop (numeric-stats.ts scanBlock), so the statistics are
// bit for bit the same, at about a third of the CPU time per value (the JS loop re-checks each typed
// array at every value; see bench/results/README.md, Session 7: drift statistics). One instance per
// thread, like the JS path's batchCounter. Where WebAssembly is unavailable the JS loop runs.
//
// A batch is copied into the instance's memory once (values, status bytes, bins), scanned block by
// block, and its bins copied back; the binning's lookup tables are copied once per binning.
import type { Binning } from './binning.ts';
import { BatchCounter, KEY_BITS, KEY_SHIFT, MAX_KEY } from './log-buckets.ts';
import { SCAN_KERNEL_WASM } from './scan-kernel-wasm.ts';
import { instantiateWasm, WASM_PAGE } from '../../common/wasm.ts';
import type { WasmInstance, WasmMemory } from '../../common/wasm.ts';

/** The log-bucket counters (u32 per sign and key) start at address 0; the .wat hard-codes this layout. */
const COUNTS_BYTES = (2 << KEY_BITS) * 4;
const ACC = COUNTS_BYTES;
const HEAP = ACC + 128;
/** Beyond this the tables and scratch space start over (a long-lived worker that saw many binnings). */
const HEAP_LIMIT = 256 << 20;

/** acc slots the kernel writes (f64): block sums, min, max, skipped cells, zero distances, lowest key */
export const K_S1 = 0, K_S2 = 1, K_LT = 2, K_RT = 3, K_MIN = 4, K_MAX = 5, K_SKIPPED = 6, K_ZEROS = 7, K_LOW_KEY = 8;


type Scan = (values: number, status: number, start: number, end: number, edges: number, cell: number, invW: number, L: number, scale: number, shift: number, bins: number, acc: number, sketch: number, few: number) => void;

/** the binning's tables in the kernel's memory; few: its edges padded to FEW_EDGES with +Infinity (0: more edges than that) */
interface Tables { edges: number; cell: number; invW: number; few: number }

/** Binnings with at most this many edges (sketched ones: min, deciles, max) are binned by comparisons, not the cell table. */
const FEW_EDGES = 12;

export class ScanKernel {
  readonly #memory: WasmMemory;
  readonly #scan: Scan;
  #f64!: Float64Array;
  #u8!: Uint8Array;
  #i32!: Int32Array;
  /** the kernel's block results (a view of its memory) */
  acc!: Float64Array;
  /** counts log buckets in the kernel's memory: flush() it into a sketch after a batch */
  counter!: BatchCounter;
  #tables = new WeakMap<Binning, Tables>();
  #top = HEAP;
  #scratch = 0;
  #scratchBytes = 0;
  // the batch being scanned
  #values = 0;
  #status = 0;
  #bins = 0;
  #binsLength = 0;
  #t: Tables = { edges: 0, cell: 0, invW: 0, few: 0 };
  #b: Binning | undefined;

  /** `instance`: scan-kernel.wat's */
  constructor(instance: WasmInstance) {
    this.#memory = instance.exports.memory as WasmMemory;
    this.#scan = instance.exports.scan as Scan;
    this.#views();
  }

  /** Whether begin() takes a batch of n values (beyond the heap: the JS loop counts it). */
  static fits(n: number, bins: number): boolean {
    return 9 * n + 8 * bins < HEAP_LIMIT / 4;
  }

  #views(): void {
    const buffer = this.#memory.buffer;
    this.#f64 = new Float64Array(buffer);
    this.#u8 = new Uint8Array(buffer);
    this.#i32 = new Int32Array(buffer);
    this.acc = new Float64Array(buffer, ACC, 9);
    this.counter = new BatchCounter(new Uint32Array(buffer, 0, 2 << KEY_BITS));
  }

  /** `bytes` of memory, 8-aligned; a full heap starts over (tables are copied again when next used). */
  #alloc(bytes: number): number {
    bytes = (bytes + 7) & ~7;
    if (this.#top + bytes > HEAP_LIMIT) {
      this.#top = HEAP;
      this.#tables = new WeakMap();
      this.#scratchBytes = 0;
    }
    const at = this.#top;
    this.#top += bytes;
    const short = this.#top - this.#memory.buffer.byteLength;
    if (short > 0) {
      this.#memory.grow(Math.ceil(short / WASM_PAGE));
      this.#views(); // only between batches: the counter is empty
    }
    return at;
  }

  /** Scratch space of at least `bytes` (grown to at least double). */
  #reserve(bytes: number): void {
    if (bytes <= this.#scratchBytes) return;
    const size = Math.max(bytes, 2 * this.#scratchBytes);
    this.#scratch = this.#alloc(size);
    this.#scratchBytes = size;
  }

  #tablesOf(b: Binning): Tables {
    let t = this.#tables.get(b);
    if (!t) {
      const edges = this.#alloc(8 * b.edges.length);
      const invW = this.#alloc(8 * b.invWidth.length);
      const cell = this.#alloc(4 * b.cell.length);
      this.#f64.set(b.edges, edges / 8);
      this.#f64.set(b.invWidth, invW / 8);
      this.#i32.set(b.cell, cell / 4);
      let few = 0;
      if (b.edges.length <= FEW_EDGES) {
        few = this.#alloc(8 * FEW_EDGES);
        this.#f64.fill(Infinity, few / 8, few / 8 + FEW_EDGES);
        this.#f64.set(b.edges, few / 8);
      }
      t = { edges, cell, invW, few };
      this.#tables.set(b, t);
    }
    return t;
  }

  /**
   * Copy a batch in (call only when fits()); then scan() its blocks and end() it. False when the
   * memory could not grow: the caller scans the batch in JS.
   */
  begin(b: Binning, bins: Float64Array, values: Float64Array, status: Uint8Array | undefined): boolean {
    const n = values.length;
    const need = 8 * n + 8 * bins.length + (status ? n : 0);
    let t: Tables;
    try {
      this.#reserve(need);
      t = this.#tablesOf(b);
      this.#reserve(need); // again when copying the tables started the heap over (that dropped the scratch space)
    } catch {
      this.#top = HEAP; // memory.grow refused: start over next time
      this.#tables = new WeakMap();
      this.#scratchBytes = 0;
      return false;
    }
    this.#t = t;
    this.#b = b;
    this.#bins = this.#scratch;
    this.#binsLength = bins.length;
    this.#values = this.#bins + 8 * bins.length;
    this.#status = status ? this.#values + 8 * n : 0;
    this.#f64.set(bins, this.#bins / 8);
    this.#f64.set(values, this.#values / 8);
    if (status) this.#u8.set(status.subarray(0, n), this.#status);
    return true;
  }

  /**
   * Scan values[start..end) of the batch: bins and (sketch) log-bucket counts updated, the block's
   * results in `acc` (K_*). min/max continue from the given ones.
   */
  scan(start: number, end: number, min: number, max: number, sketch: boolean): Float64Array {
    const b = this.#b!;
    const t = this.#t;
    this.acc[K_MIN] = min;
    this.acc[K_MAX] = max;
    this.#scan(this.#values, this.#status, start, end, t.edges, t.cell, t.invW, b.size, b.cellScale, b.json.shift, this.#bins, ACC, sketch ? 1 : 0, t.few);
    return this.acc;
  }

  /** Copy the batch's bins back out. */
  end(bins: Float64Array): void {
    bins.set(this.#f64.subarray(this.#bins / 8, this.#bins / 8 + this.#binsLength));
    this.#b = undefined;
  }
}

let kernel: ScanKernel | undefined | null = null;

/** This thread's kernel, compiled on first use; undefined where WebAssembly is unavailable or refuses it. */
export function scanKernel(): ScanKernel | undefined {
  if (kernel === null) {
    kernel = undefined;
    // the .wat hard-codes the log-bucket key layout
    if (KEY_SHIFT === 14 && KEY_BITS === 17 && MAX_KEY === 0x1ffbf) {
      const instance = instantiateWasm(SCAN_KERNEL_WASM);
      // without it (e.g. a host whose policy forbids compiling WebAssembly) the JS loop counts
      if (instance) kernel = new ScanKernel(instance);
    }
  }
  return kernel;
}
