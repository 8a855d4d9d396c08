// Turn model outputs into output columns (id, label, p_<class>… or value) and log columns. Pure.
import type { OutColumn, Utf8Cells } from '../../io/common/table.ts';
import type { Card } from '../../package/common/card.ts';
import type { ColumnToPack, PackedColumn } from '../../store/common/packing.ts';
import type { TensorMapping } from '../../package/common/card.ts';
import { featureColumns, type Feed } from './validate.ts';

export interface ScoredColumns {
  /** class index per accepted row (classifiers) */
  labelCodes?: Int32Array;
  /** one column per class, row-aligned */
  probabilities?: Float32Array[] | Float64Array[];
  value?: Float32Array | Float64Array;
}

/** Read the graph's outputs according to the card's output mapping. */
export function readOutputs(card: Card, outputs: Record<string, Feed>, rows: number): ScoredColumns {
  const o = card.outputs;
  const res: ScoredColumns = {};
  if (card.task === 'regression') {
    const v = outputs[o.value!].data as Float32Array | Float64Array;
    res.value = v.length === rows ? v : v.subarray(0, rows);
    return res;
  }
  const classes = o.classes!.length;
  if (o.probabilities) {
    const p = outputs[o.probabilities].data as Float32Array | Float64Array;
    const make = () => (p instanceof Float64Array ? new Float64Array(rows) : new Float32Array(rows));
    const cols = Array.from({ length: classes }, make);
    if (classes === 2 && p.length === rows) {
      // one sigmoid probability per row: P(classes[1]); classes[0] gets 1 − p (rounded to the output's precision)
      for (let i = 0; i < rows; i++) {
        cols[1][i] = p[i];
        cols[0][i] = 1 - p[i];
      }
    } else {
      // [rows, classes] row-major: one strided pass per class column
      for (let c = 0; c < classes; c++) {
        const col = cols[c];
        for (let i = 0, k = c; i < rows; i++, k += classes) col[i] = p[k];
      }
    }
    res.probabilities = cols as Float32Array[] | Float64Array[];
  }
  const codes = new Int32Array(rows);
  if (o.label) {
    const l = outputs[o.label];
    if (l.type === 'string') {
      const index = new Map(o.classes!.map((c, i) => [c, i]));
      (l.data as string[]).forEach((s, i) => (codes[i] = index.get(s) ?? -1));
    } else if (o.labelEncoding === 'class') {
      // integer class labels (scikit-learn's), looked up by their text among the classes
      const index = new Map(o.classes!.map((c, i) => [c, i]));
      for (let i = 0; i < rows; i++) codes[i] = index.get(String((l.data as BigInt64Array | Int32Array)[i])) ?? -1;
    } else if (l.data instanceof BigInt64Array) int64Codes(l.data, codes, rows);
    else for (let i = 0; i < rows; i++) codes[i] = (l.data as Int32Array)[i];
  } else {
    const cols = res.probabilities!;
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (cols[c][i] > cols[best][i]) best = c;
      codes[i] = best;
    }
  }
  res.labelCodes = codes;
  return res;
}

/**
 * int64 label indexes into an Int32Array, as `codes[i] = Number(big[i])` stores them, without a
 * BigInt per row: a value that fits 32 bits (its high word is the sign of its low word) is its low
 * word; any other goes through Number (and the Int32Array's wrap-around) as before.
 */
function int64Codes(big: BigInt64Array, codes: Int32Array, rows: number): void {
  const words = new Int32Array(big.buffer, big.byteOffset, big.length * 2); // little-endian: low, high
  for (let i = 0; i < rows; i++) {
    const lo = words[2 * i];
    codes[i] = words[2 * i + 1] === lo >> 31 ? lo : Number(big[i]);
  }
}

/** Columns of the output file for the accepted rows of one batch. */
export function outputBatchColumns(card: Card, ids: OutColumn, scored: ScoredColumns): OutColumn[] {
  const cols: OutColumn[] = [ids];
  if (scored.value) {
    cols.push(scored.value instanceof Float64Array ? { name: 'value', type: 'float64', values: scored.value } : { name: 'value', type: 'float32', values: scored.value });
    return cols;
  }
  cols.push({ name: 'label', type: 'dict', codes: scored.labelCodes!, dictionary: card.outputs.classes! });
  scored.probabilities?.forEach((p, c) => {
    const name = `p_${card.outputs.classes![c]}`;
    cols.push(p instanceof Float64Array ? { name, type: 'float64', values: p } : { name, type: 'float32', values: p });
  });
  return cols;
}

/** The same outputs, packed for the prediction log. */
/** `ids`: the accepted rows' ids, as strings or as their UTF-8 bytes (a CSV id: no string per row). */
export function logColumns(card: Card, rowNumbers: Int32Array, ids: (string | null)[] | Utf8Cells | undefined, scored: ScoredColumns): ColumnToPack[] {
  // Row numbers are stored only when rows were rejected in between; otherwise the batch's first
  // row implies them (readers use first_row + i), which keeps the log a fifth smaller.
  const contiguous = rowNumbers.length === 0 || rowNumbers[rowNumbers.length - 1] - rowNumbers[0] === rowNumbers.length - 1;
  const cols: ColumnToPack[] = contiguous ? [] : [{ name: '#row', type: 'i32', values: rowNumbers }];
  if (Array.isArray(ids)) cols.push({ name: 'id', type: 'str', values: ids });
  else if (ids) cols.push({ name: 'id', type: 'utf8', bytes: ids.bytes, starts: ids.starts, ends: ids.ends });
  if (scored.value) {
    cols.push(scored.value instanceof Float64Array ? { name: 'value', type: 'f64', values: scored.value } : { name: 'value', type: 'f32', values: scored.value });
    return cols;
  }
  const classes = card.outputs.classes!;
  cols.push({ name: 'label', type: 'dict', codes: scored.labelCodes!, dictionary: classes });
  scored.probabilities?.forEach((p, c) => {
    const name = `p_${classes[c]}`;
    cols.push(p instanceof Float64Array ? { name, type: 'f64', values: p } : { name, type: 'f32', values: p });
  });
  return cols;
}

/** Deterministic per-row sampling for input logging (same rows on a resume). */
export function sampled(row: number, rate: number): boolean {
  if (rate >= 1) return true;
  const h = Math.imul(row ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  return h / 4294967296 < rate;
}

/** Logged input columns for the accepted rows, per policy. */
export function logInputColumns(feeds: Record<string, Feed>, rowNumbers: Int32Array, policy: 'all' | 'sampled' | 'none', rate: number, tensors: readonly TensorMapping[] = []): PackedColumn[] | undefined {
  if (policy === 'none') return undefined;
  let pick: number[] | undefined;
  if (policy === 'sampled') {
    pick = [];
    for (let i = 0; i < rowNumbers.length; i++) if (sampled(rowNumbers[i], rate)) pick.push(i);
    if (!pick.length) return undefined;
  }
  const take = <T>(get: (i: number) => T): T[] => (pick ? pick.map(get) : Array.from({ length: rowNumbers.length }, (_, i) => get(i)));
  const cols: PackedColumn[] = [{ name: '#row', type: 'i32', values: Int32Array.from(take((i) => rowNumbers[i])) }];
  for (const [name, f] of featureColumns(feeds, tensors)) {
    if (f.type === 'string') cols.push({ name, type: 'str', values: take((i) => (f.data as string[])[i]) });
    else if (f.type === 'float32') cols.push({ name, type: 'f32', values: Float32Array.from(take((i) => (f.data as Float32Array)[i])) });
    else cols.push({ name, type: 'f64', values: Float64Array.from(take((i) => Number((f.data as ArrayLike<number | bigint>)[i]))) });
  }
  return cols;
}
