// The order of a sorted prediction-log view, computed without a comparator call per comparison of a
// full sort: each row's value becomes a float64 key (strings: their rank among the column's distinct
// strings) plus a group (value, NaN, null), and then
// - the first k rows (a page near the top) come from a bounded heap of k: one pass over the rows;
// - the whole order comes from a stable LSD radix sort of the keys (16-bit digits).
// The order is the one the log's sort has always had: ascending or descending by value, NaN
// after every number going up and before every number going down, nulls (no value) last either way,
// ties in log order. Pure.

export type SortValue = string | number | null;

const VALUE = 0;
const NAN = 1;
const NULL = 2;

export interface SortKeys {
  readonly n: number;
  /** the key of each row in group VALUE (a number, or a string's rank); 0 otherwise */
  readonly key: Float64Array;
  /** each row's group: 0 value, 1 NaN, 2 null */
  readonly group: Uint8Array;
  /**
   * Set only when a column mixes strings and numbers: such values compare as strings against each
   * other but as numbers among numbers (no single key orders them), so they are sorted with that
   * comparator directly.
   */
  readonly mixed?: SortValue[];
  /** the keys are ranks among the column's strings (they change when strings are added) */
  readonly ranked?: boolean;
}

/**
 * Keys of n values, filled in row order: add() one value, or addCodes() a run of dictionary-coded
 * strings (a class-label column) without making a string per row.
 */
export function keyBuilder(n: number): { add(v: SortValue | undefined): void; addCodes(codes: Int32Array, dictionary: readonly string[]): void; done(): SortKeys } {
  const key = new Float64Array(n);
  const group = new Uint8Array(n);
  let strings: (string | undefined)[] | undefined;
  const coded: { start: number; codes: Int32Array; dictionary: readonly string[] }[] = [];
  let numbers = 0;
  let i = 0;
  return {
    add(v) {
      if (v === null || v === undefined) group[i] = NULL;
      else if (typeof v === 'number') {
        numbers++;
        if (Number.isNaN(v)) group[i] = NAN;
        else key[i] = v;
      } else {
        (strings ??= new Array<string | undefined>(n))[i] = String(v);
      }
      i++;
    },
    addCodes(codes, dictionary) {
      // a code outside the dictionary reads as null (as unpackColumns decodes it)
      for (let k = 0; k < codes.length; k++) if (dictionary[codes[k]] === undefined) group[i + k] = NULL;
      coded.push({ start: i, codes, dictionary });
      i += codes.length;
    },
    done() {
      if (i !== n) throw new RangeError(`sort keys: ${i} values added, ${n} expected`);
      if (!strings && coded.length === 0) return { n, key, group };
      if (numbers > 0) {
        // strings and numbers in one column (batches written with different output types)
        const mixed: SortValue[] = new Array<SortValue>(n);
        for (let k = 0; k < n; k++) mixed[k] = group[k] === NULL ? null : strings?.[k] ?? (group[k] === NAN ? NaN : key[k]);
        for (const c of coded) for (let k = 0; k < c.codes.length; k++) mixed[c.start + k] = c.dictionary[c.codes[k]] ?? null;
        return { n, key, group, mixed };
      }
      const all = new Set<string>();
      if (strings) for (const s of strings) if (s !== undefined) all.add(s);
      for (const c of coded) for (const s of c.dictionary) all.add(s);
      const distinct = [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const rank = new Map(distinct.map((s, r) => [s, r]));
      if (strings) {
        for (let k = 0; k < n; k++) {
          const s = strings[k];
          if (s !== undefined) key[k] = rank.get(s)!;
        }
      }
      for (const c of coded) {
        const rankOf = c.dictionary.map((s) => rank.get(s)!);
        for (let k = 0; k < c.codes.length; k++) key[c.start + k] = rankOf[c.codes[k]] ?? 0;
      }
      return { n, key, group, ranked: true };
    },
  };
}

/** The comparison the log's sort has always used (nulls last; NaN above every number); a NaN equals a NaN. */
function compareValues(a: SortValue, b: SortValue): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') {
    const an = Number.isNaN(a), bn = Number.isNaN(b);
    return an && bn ? 0 : an ? 1 : bn ? -1 : a - b;
  }
  return String(a) < String(b) ? -1 : 1;
}

/** True when row i comes before row j. */
function precedes(keys: SortKeys, descending: boolean): (i: number, j: number) => boolean {
  const { key, group } = keys;
  // going down, NaN (above every number) comes first; nulls stay last
  const rank = descending ? [1, 0, 2] : [0, 1, 2];
  return (i, j) => {
    const gi = rank[group[i]], gj = rank[group[j]];
    if (gi !== gj) return gi < gj;
    if (group[i] === VALUE) {
      const a = key[i], b = key[j];
      if (a < b) return !descending;
      if (a > b) return descending;
    }
    return i < j;
  };
}

/** The first `k` rows of the sorted order (fewer when there are fewer rows). */
export function topK(keys: SortKeys, descending: boolean, k: number): Int32Array {
  const n = keys.n;
  k = Math.max(0, Math.min(k, n));
  if (keys.mixed) return fullOrder(keys, descending).slice(0, k);
  if (k === 0) return new Int32Array(0);
  const before = precedes(keys, descending);
  // max-heap of the k best so far: its root is the worst of them
  const heap = new Int32Array(k);
  let size = 0;
  const siftDown = (at: number): void => {
    const x = heap[at];
    for (;;) {
      let c = 2 * at + 1;
      if (c >= size) break;
      if (c + 1 < size && before(heap[c], heap[c + 1])) c++;
      if (!before(x, heap[c])) break;
      heap[at] = heap[c];
      at = c;
    }
    heap[at] = x;
  };
  for (let i = 0; i < n; i++) {
    if (size < k) {
      let at = size++;
      while (at > 0) {
        const p = (at - 1) >> 1;
        if (!before(heap[p], i)) break;
        heap[at] = heap[p];
        at = p;
      }
      heap[at] = i;
    } else if (before(i, heap[0])) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The rows of group VALUE, listed in `idx` (ascending), stably sorted by key. */
function radixSort(keys: SortKeys, idx: Int32Array<ArrayBuffer>, descending: boolean): Int32Array<ArrayBuffer> {
  const m = idx.length;
  let hi = new Uint32Array(m), lo = new Uint32Array(m), ix: Int32Array<ArrayBuffer> = idx;
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer);
  const H = LITTLE_ENDIAN ? 1 : 0, L = 1 - H;
  for (let j = 0; j < m; j++) {
    const v = keys.key[idx[j]];
    f[0] = v === 0 ? 0 : v; // -0 and 0 are equal: one bit pattern
    // IEEE order as unsigned integers: negative numbers have all bits flipped, others the sign bit
    let h = u[H], l = u[L];
    if (h & 0x80000000) { h = ~h; l = ~l; } else h |= 0x80000000;
    if (descending) { h = ~h; l = ~l; }
    hi[j] = h >>> 0; lo[j] = l >>> 0;
  }
  let hi2 = new Uint32Array(m), lo2 = new Uint32Array(m), ix2 = new Int32Array(m);
  const count = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    count.fill(0);
    for (let j = 0; j < m; j++) count[(word[j] >>> shift) & 0xffff]++;
    if (m === 0 || count[(word[0] >>> shift) & 0xffff] === m) continue; // one digit everywhere
    let sum = 0;
    for (let d = 0; d < 65536; d++) { const c = count[d]; count[d] = sum; sum += c; }
    for (let j = 0; j < m; j++) {
      const to = count[(word[j] >>> shift) & 0xffff]++;
      hi2[to] = hi[j]; lo2[to] = lo[j]; ix2[to] = ix[j];
    }
    [hi, hi2] = [hi2, hi]; [lo, lo2] = [lo2, lo];
    const t = ix; ix = ix2; ix2 = t === idx ? new Int32Array(m) : t;
  }
  return ix === idx ? idx.slice() : ix;
}

/** The whole sorted order. */
export function fullOrder(keys: SortKeys, descending: boolean): Int32Array {
  const n = keys.n;
  if (keys.mixed) {
    const values = keys.mixed;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const dir = descending ? -1 : 1;
    return order.sort((a, b) => {
      const va = values[a], vb = values[b];
      const c = va === null || vb === null ? compareValues(va, vb) : dir * compareValues(va, vb);
      return c || a - b;
    });
  }
  const counts = [0, 0, 0];
  for (let i = 0; i < n; i++) counts[keys.group[i]]++;
  const lists = counts.map((c) => new Int32Array(c));
  const fill = [0, 0, 0];
  for (let i = 0; i < n; i++) { const g = keys.group[i]; lists[g][fill[g]++] = i; }
  const values = radixSort(keys, lists[VALUE], descending);
  const out = new Int32Array(n);
  const parts = descending ? [lists[NAN], values, lists[NULL]] : [values, lists[NAN], lists[NULL]];
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Keys of rows `a` then rows `b` (numbers only: ranks of strings are not comparable across key sets). */
export function appendKeys(a: SortKeys, b: SortKeys): SortKeys | undefined {
  if (a.mixed || b.mixed || a.ranked || b.ranked) return undefined;
  const n = a.n + b.n;
  const key = new Float64Array(n), group = new Uint8Array(n);
  key.set(a.key); key.set(b.key, a.n);
  group.set(a.group); group.set(b.group, a.n);
  return { n, key, group };
}
