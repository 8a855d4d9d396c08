// Validate a read batch against the card's input schema and turn the good rows into model feeds.
// Bad rows become rejects (row, column, reason) instead of stopping the run. Pure and allocation-
// light: one pass per column over typed arrays.
import type { ElemType } from '../../onnx/common/onnx.ts';
import type { InputField, TensorMapping } from '../../package/common/card.ts';
import { cannotParseReason, FLOAT32_LIMIT, INT32_RANGE, INT64_RANGE, outOfRangeReason, TOO_LARGE_FOR_DOUBLE, TOO_LARGE_FOR_FLOAT32 } from '../../io/common/number-reasons.ts';
import { allOk, CellStatus, type ColumnBatch, type ColumnRequest, type NumberColumn, type StringColumn } from '../../io/common/table.ts';
import { stringValues } from '../../io/common/utf8-cells.ts';

export interface Reject {
  row: number;
  column: string;
  reason: string;
  value: string;
  /**
   * `value` is the number as the reader parsed it (String of the double: `1e+39` for a cell `1E39`;
   * `Infinity` for a JSON number beyond a double), to be replaced by the cell's text as written where the caller can read it again
   * (readWrittenCells): valid cells never keep their text.
   */
  parsed?: true;
}

/** A model input as the engine feeds it. */
export interface Feed {
  type: 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'string';
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[];
  dims: number[];
  /** a category feed's values as indexes into its vocabulary (+ the batch's other values): sent to the inference worker instead of the strings */
  coded?: { codes: Int32Array; dictionary: readonly string[] };
}

export interface ValidatedBatch {
  /** rows of the batch that passed, as indexes into the batch */
  accepted: Int32Array;
  feeds: Record<string, Feed>;
  rejects: Reject[];
  /** distinct rows rejected in this batch */
  rejectedRows: number;
  /**
   * Category values outside the vocabulary in rows that were rejected (for whatever reason), per
   * card input index: drift statistics count them as unseen although the rows are not scored.
   * (Unseen values of accepted rows — `unseen: "score"` — reach the statistics with the row.)
   */
  unseenRejected: { input: number; count: number }[];
}

const MAX_LISTED = 8;
const listVocabulary = (v: readonly string[]): string => v.slice(0, MAX_LISTED).map((s) => JSON.stringify(s)).join(', ') + (v.length > MAX_LISTED ? `, … (${v.length} in all)` : '');
/** Accepted spellings of booleans (case-insensitive, trimmed) and their values. */
export const BOOL_TEXT: ReadonlyMap<string, number> = new Map<string, number>([['true', 1], ['false', 0], ['1', 1], ['0', 0], ['yes', 1], ['no', 0], ['t', 1], ['f', 0]]);

/** Which columns to ask the reader for, and how: numbers parsed by the reader, the rest as text. */
export function columnRequests(inputs: readonly InputField[], idColumn?: string): ColumnRequest[] {
  const req: ColumnRequest[] = inputs.map((f) => ({ name: f.name, kind: f.type === 'float' || f.type === 'int' ? 'number' : 'string', ...(f.nullable ? { optional: true } : {}) }));
  // the id is copied to the output: its bytes too, where the reader has them
  if (idColumn !== undefined) req.push({ name: idColumn, kind: 'string', utf8: true });
  return req;
}

/**
 * Are the first n cells all parsed (status ok), within [min, max] and, with `integers`, whole?
 * The status bytes are checked a word at a time and the range in a loop of its own: one loop
 * testing all four per cell ran at ~5 ns a cell, these at ~1 (20 columns per batch on the scoring
 * thread: ~70 ms per 1M rows of the floats file).
 */
function allCellsValid(values: Float64Array, status: Uint8Array, n: number, min: number, max: number, integers: boolean): boolean {
  if (!allOk(n === status.length ? status : status.subarray(0, n))) return false;
  if (integers) {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v < min || v > max || Math.trunc(v) !== v) return false;
    }
    return true;
  }
  if (min === -Infinity && max === Infinity) return true;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < min || v > max) return false;
  }
  return true;
}

/** What a number fed to the graph can hold, where less than a double: beyond it a value would become ±Infinity or wrap around. */
interface FeedLimit { min: number; max: number; integers: boolean; reason: string }

/** Per input name: its feed type's limit (the feed type is its own graph input's, or that of the tensor it is a column of). */
function feedLimits(inputs: readonly InputField[], graphTypes: ReadonlyMap<string, ElemType>, tensors: readonly TensorMapping[]): Map<string, FeedLimit> {
  const tensorOf = new Map<string, string>();
  for (const t of tensors) for (const name of t.features) tensorOf.set(name, t.input);
  const limits = new Map<string, FeedLimit>();
  for (const f of inputs) {
    const type = feedType(graphTypes.get(tensorOf.get(f.name) ?? f.name) ?? 'float');
    if (type === 'float32') limits.set(f.name, { min: -FLOAT32_LIMIT, max: FLOAT32_LIMIT, integers: false, reason: TOO_LARGE_FOR_FLOAT32 });
    else if (type === 'int32' || type === 'int64') limits.set(f.name, { ...(type === 'int32' ? INT32_RANGE : INT64_RANGE), integers: true, reason: outOfRangeReason(type) });
  }
  return limits;
}

/** Graph dtype → feed type. */
const feedType = (t: ElemType): Feed['type'] => (t === 'float' ? 'float32' : t === 'double' ? 'float64' : t === 'uint8' ? 'bool' : (t as Feed['type']));

/**
 * Check each cell of the batch; build feeds for the accepted rows: one [n, 1] tensor per input,
 * except the inputs `tensors` maps onto the columns of a graph input, which get one [n, F] tensor
 * (row-major, features in the mapping's order). `graphTypes` maps graph input name → the dtype the
 * graph declares (checked against the card at load). `idColumn`: the column copied to the output
 * as the row id, requested after the inputs (columnRequests); a row whose id holds a NUL is rejected.
 */
export function validateBatch(batch: ColumnBatch, inputs: readonly InputField[], graphTypes: ReadonlyMap<string, ElemType>, graphRanks: ReadonlyMap<string, number>, tensors: readonly TensorMapping[] = [], idColumn?: string): ValidatedBatch {
  const n = batch.length;
  const bad = new Uint8Array(n);
  // Rows the reader could not split into fields: their cells are meaningless, report only the row.
  const structural = new Uint8Array(n);
  const rejects: Reject[] = [];
  for (const p of batch.rowProblems) {
    const i = p.row - batch.firstRow;
    if (i >= 0 && i < n) bad[i] = structural[i] = 1;
    rejects.push({ row: p.row, column: p.field ?? '', reason: p.reason, value: '' });
  }
  const reject = (i: number, column: string, reason: string, value: string) => {
    bad[i] = 1;
    rejects.push({ row: batch.firstRow + i, column, reason, value });
  };
  // a number that parsed but is refused: its exact text where the reader kept one, else the double, marked to be read again
  const numberReject = (i: number, column: string, reason: string, col: NumberColumn) => {
    bad[i] = 1;
    const exact = col.exact?.get(i);
    rejects.push(exact !== undefined ? { row: batch.firstRow + i, column, reason, value: exact } : { row: batch.firstRow + i, column, reason, value: String(col.values[i]), parsed: true });
  };

  // Pass 1: check every cell of rows that are not already structurally bad.
  const unseenRows = new Map<number, number[]>();
  // inputs the graph takes as float32 or integers: a double beyond their range would reach the model as ±Infinity or wrapped
  const limits = feedLimits(inputs, graphTypes, tensors);
  // a category column's vocabulary index per row (-1: missing or unseen), for its coded feed
  const vocabCodes = new Map<number, Int32Array>();
  inputs.forEach((f, c) => {
    const col = batch.columns[c];
    if (col.kind === 'number') {
      const { values, status } = col;
      const min = f.range?.min ?? -Infinity;
      const max = f.range?.max ?? Infinity;
      const limit = limits.get(f.name);
      // an integer feed truncates a fraction silently: only whole numbers go to one
      const checkInt = f.type === 'int' || limit?.integers === true;
      // The usual column: every cell parsed and in range. One tight pass proves it; otherwise the
      // cell-by-cell pass below finds and reports the bad ones.
      if (batch.rowProblems.length === 0 && allCellsValid(values, status, n, Math.max(min, limit?.min ?? -Infinity), Math.min(max, limit?.max ?? Infinity), checkInt)) return;
      for (let i = 0; i < n; i++) {
        if (structural[i]) continue;
        const s = status[i];
        if (s === CellStatus.ok) {
          const v = values[i];
          if (limit && (v > limit.max || v < limit.min)) numberReject(i, f.name, limit.reason, col);
          else if (v < min) numberReject(i, f.name, `${v} is below the minimum ${min}`, col);
          else if (v > max) numberReject(i, f.name, `${v} is above the maximum ${max}`, col);
          else if (checkInt && !Number.isInteger(v)) numberReject(i, f.name, `${v} is not an integer`, col);
        } else if (s === CellStatus.missing) {
          if (!f.nullable) {
            const marker = col.markers?.get(i);
            reject(i, f.name, marker ? `missing value (${JSON.stringify(marker)}) in a non-nullable column` : 'missing value in a non-nullable column', marker ?? '');
          }
        } else {
          const text = col.bad?.get(i) ?? '';
          const reason = col.reasons?.get(i) ?? cannotParseReason(text);
          reject(i, f.name, reason, text);
          // a JSON number beyond a double reaches here as the parser's Infinity: the text is read again
          if (reason === TOO_LARGE_FOR_DOUBLE) rejects[rejects.length - 1].parsed = true;
        }
      }
    } else {
      const { values } = col;
      const vocab = f.type === 'category' ? vocabularyIndex(f) : undefined;
      const codes = vocab ? new Int32Array(n).fill(-1) : undefined;
      if (codes) vocabCodes.set(c, codes);
      const scoreUnseen = f.unseen === 'score';
      for (let i = 0; i < n; i++) {
        if (structural[i]) continue;
        const v = values[i];
        if (v === null || v === '') {
          if (!f.nullable) reject(i, f.name, 'missing value in a non-nullable column', '');
        } else if (vocab) {
          const code = vocab.get(v);
          if (code !== undefined) codes![i] = code;
          else {
            let rows = unseenRows.get(c);
            if (!rows) unseenRows.set(c, (rows = []));
            rows.push(i);
            if (!scoreUnseen) reject(i, f.name, `${JSON.stringify(v)} is not in the vocabulary (${listVocabulary(f.vocabulary ?? [])})`, v);
          }
        } else if (!BOOL_TEXT.has(v.trim().toLowerCase())) {
          reject(i, f.name, `${JSON.stringify(v)} is not a boolean (true/false, 1/0, yes/no)`, v);
        }
      }
    }
  });

  if (idColumn !== undefined) {
    const col = batch.columns[inputs.length];
    if (col?.kind === 'string') {
      for (const i of rowsWithNul(col)) if (!structural[i]) reject(i, idColumn, NUL_ID_REASON, col.values[i] ?? '');
    }
  }

  let m = 0;
  for (let i = 0; i < n; i++) if (!bad[i]) m++;
  const unseenRejected: ValidatedBatch['unseenRejected'] = [];
  for (const [input, rows] of unseenRows) {
    const count = rows.reduce((k, i) => k + bad[i], 0);
    if (count) unseenRejected.push({ input, count });
  }
  const accepted = new Int32Array(m);
  for (let i = 0, j = 0; i < n; i++) if (!bad[i]) accepted[j++] = i;

  // Pass 2: gather accepted rows into the dtype each graph input wants.
  const feeds: Record<string, Feed> = {};
  const mapped = new Set(tensors.flatMap((t) => t.features));
  inputs.forEach((f, c) => {
    if (mapped.has(f.name)) return;
    const col = batch.columns[c];
    const type = feedType(graphTypes.get(f.name) ?? 'float');
    const dims = (graphRanks.get(f.name) ?? 2) === 1 ? [m] : [m, 1];
    if (col.kind === 'number') {
      const src = col.values; // NaN already marks missing cells
      if (type === 'float32' || type === 'float64') {
        const out = type === 'float32' ? new Float32Array(m) : new Float64Array(m);
        // Every row accepted (the usual case): one native converting copy instead of a gather.
        if (m === n) out.set(src.subarray(0, n));
        else for (let j = 0; j < m; j++) out[j] = src[accepted[j]];
        feeds[f.name] = { type, data: out, dims };
      } else if (type === 'int64') {
        const out = new BigInt64Array(m);
        for (let j = 0; j < m; j++) out[j] = BigInt(src[accepted[j]]);
        feeds[f.name] = { type, data: out, dims };
      } else {
        const out = new Int32Array(m);
        for (let j = 0; j < m; j++) out[j] = src[accepted[j]];
        feeds[f.name] = { type: 'int32', data: out, dims };
      }
    } else if (f.type === 'category') {
      feeds[f.name] = categoryFeed(col.values, vocabCodes.get(c)!, f.vocabulary ?? [], accepted, dims);
    } else {
      // bool: missing (nullable) becomes NaN for float graphs, 0 otherwise
      const bits = new Float64Array(m);
      for (let j = 0; j < m; j++) {
        const v = col.values[accepted[j]];
        bits[j] = v === null || v === '' ? NaN : (BOOL_TEXT.get(v.trim().toLowerCase()) ?? NaN);
      }
      if (type === 'float32' || type === 'float64') feeds[f.name] = { type, data: type === 'float32' ? Float32Array.from(bits) : bits, dims };
      else if (type === 'int64') feeds[f.name] = { type, data: BigInt64Array.from(bits, (b) => BigInt(b === 1 ? 1 : 0)), dims };
      else if (type === 'int32') feeds[f.name] = { type, data: Int32Array.from(bits, (b) => (b === 1 ? 1 : 0)), dims };
      else feeds[f.name] = { type: 'bool', data: Uint8Array.from(bits, (b) => (b === 1 ? 1 : 0)), dims };
    }
  });

  for (const t of tensors) feeds[t.input] = tensorFeed(t, batch, inputs, accepted, feedType(graphTypes.get(t.input) ?? 'float'));

  const rejectedRows = n - m;
  rejects.sort((a, b) => a.row - b.row);
  return { accepted, feeds, rejects, rejectedRows, unseenRejected };
}

/**
 * An id with a NUL in it is almost certainly a damaged file (a NUL is no character of any text
 * id), and copied to the output it would cut the id short for tools that read C strings.
 */
export const NUL_ID_REASON = 'the id contains a NUL byte (U+0000): the file is probably damaged';

/** Rows of a string column whose cell holds a NUL. Bytes kept for the output (a CSV id) are searched at once first: almost always none. */
function rowsWithNul(col: StringColumn): number[] {
  if (col.utf8) {
    const { bytes, ends } = col.utf8;
    let filled = 0; // the bytes past the cells are zeros
    for (let i = 0; i < col.values.length; i++) if (ends[i] > filled) filled = ends[i];
    if (bytes.subarray(0, filled).indexOf(0) < 0) return [];
  }
  const rows: number[] = [];
  stringValues(col).forEach((v, i) => { if (v !== null && v.includes('\0')) rows.push(i); });
  return rows;
}

/** Each category input's vocabulary as value → index, made once per card input. */
const vocabularyIndexes = new WeakMap<InputField, Map<string, number>>();
function vocabularyIndex(f: InputField): Map<string, number> {
  let index = vocabularyIndexes.get(f);
  if (!index) {
    index = new Map();
    (f.vocabulary ?? []).forEach((v, k) => { if (!index!.has(v)) index!.set(v, k); });
    vocabularyIndexes.set(f, index);
  }
  return index;
}

/**
 * A category input's feed for the accepted rows: the strings (missing = '') and the same values as
 * codes into the vocabulary; values outside it (missing, or unseen ones that are scored) get codes
 * past its end, in a dictionary of this batch's own.
 */
function categoryFeed(values: readonly (string | null)[], rowCodes: Int32Array, vocabulary: readonly string[], accepted: Int32Array, dims: number[]): Feed {
  const m = accepted.length;
  const out: string[] = new Array(m);
  const codes = new Int32Array(m);
  let extra: Map<string, number> | undefined;
  let dictionary = vocabulary;
  for (let j = 0; j < m; j++) {
    const i = accepted[j];
    const s = values[i] ?? '';
    out[j] = s;
    let code = rowCodes[i];
    if (code < 0) {
      if (!extra) {
        extra = new Map();
        dictionary = [...vocabulary];
      }
      code = extra.get(s) ?? -1;
      if (code < 0) {
        code = dictionary.length;
        extra.set(s, code);
        (dictionary as string[]).push(s);
      }
    }
    codes[j] = code;
  }
  return { type: 'string', data: out, dims, coded: { codes, dictionary } };
}

/** Accepted cells of a numeric or boolean column as numbers (NaN = missing). */
function numericCells(f: InputField, col: ColumnBatch['columns'][number], accepted: Int32Array): Float64Array {
  const m = accepted.length;
  const out = new Float64Array(m);
  if (col.kind === 'number') for (let j = 0; j < m; j++) out[j] = col.values[accepted[j]];
  else {
    for (let j = 0; j < m; j++) {
      const v = col.values[accepted[j]];
      out[j] = v === null || v === '' ? NaN : f.type === 'bool' ? (BOOL_TEXT.get(v.trim().toLowerCase()) ?? NaN) : Number(v);
    }
  }
  return out;
}

/** One [m, F] tensor: feature k of accepted row j at j * F + k. */
function tensorFeed(t: TensorMapping, batch: ColumnBatch, inputs: readonly InputField[], accepted: Int32Array, type: Feed['type']): Feed {
  const m = accepted.length;
  const width = t.features.length;
  const dims = [m, width];
  const at = t.features.map((name) => inputs.findIndex((f) => f.name === name));
  if (type === 'string') {
    const out: string[] = new Array(m * width);
    at.forEach((c, k) => {
      const col = batch.columns[c];
      const vals = col.kind === 'string' ? col.values : [];
      for (let j = 0; j < m; j++) out[j * width + k] = vals[accepted[j]] ?? '';
    });
    return { type, data: out, dims };
  }
  const out = type === 'float32' ? new Float32Array(m * width)
    : type === 'float64' ? new Float64Array(m * width)
      : type === 'int64' ? new BigInt64Array(m * width)
        : type === 'int32' ? new Int32Array(m * width)
          : new Uint8Array(m * width);
  at.forEach((c, k) => {
    const cells = numericCells(inputs[c], batch.columns[c], accepted);
    if (out instanceof BigInt64Array) for (let j = 0; j < m; j++) out[j * width + k] = BigInt(Number.isNaN(cells[j]) ? 0 : cells[j]);
    else if (out instanceof Uint8Array) for (let j = 0; j < m; j++) out[j * width + k] = cells[j] === 0 || Number.isNaN(cells[j]) ? 0 : 1;
    else for (let j = 0; j < m; j++) out[j * width + k] = cells[j];
  });
  return { type, data: out, dims };
}

/** The card inputs of a feed set, one column each: [n, F] tensors split back into their features. */
export function featureColumns(feeds: Record<string, Feed>, tensors: readonly TensorMapping[] = []): [string, Feed][] {
  const cols: [string, Feed][] = [];
  const wide = new Map(tensors.map((t) => [t.input, t]));
  for (const [name, f] of Object.entries(feeds)) {
    const t = wide.get(name);
    if (!t) { cols.push([name, f]); continue; }
    const width = t.features.length;
    const m = f.dims[0];
    t.features.forEach((feature, k) => {
      if (Array.isArray(f.data)) {
        const src = f.data;
        cols.push([feature, { type: 'string', data: Array.from({ length: m }, (_, j) => src[j * width + k]), dims: [m] }]);
        return;
      }
      const src = f.data as ArrayLike<number | bigint>;
      const pick = <T extends Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array>(dst: T): T => {
        for (let j = 0; j < m; j++) (dst as unknown as (number | bigint)[])[j] = src[j * width + k];
        return dst;
      };
      const data = f.type === 'float32' ? pick(new Float32Array(m)) : f.type === 'float64' ? pick(new Float64Array(m)) : f.type === 'int64' ? pick(new BigInt64Array(m)) : f.type === 'int32' ? pick(new Int32Array(m)) : pick(new Uint8Array(m));
      cols.push([feature, { type: f.type, data, dims: [m] }]);
    });
  }
  return cols;
}
