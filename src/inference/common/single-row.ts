// A batch of one row is run as two (the row twice), and the first row of each output kept. ONNX
// Runtime's linear ML operators (LinearClassifier, LinearRegressor: scikit-learn's logistic and
// linear regressions as skl2onnx exports them) take another path for one row (a matrix-vector
// product) than for two or more (a matrix product), and the two round differently: the same record
// scored alone, by `predict`, the API or the last one-row batch of a file, differed from the same
// record inside a file in the last digit (47 of 320 probabilities of the fixture's logistic
// regression; a two-row batch gives every row exactly what any larger batch gives it). Every model
// gets this — a row more costs nothing next to a call's fixed cost — so an operator that behaves
// the same way is covered without being listed. Pure: the Node engine and the what-if's
// onnxruntime-web share it.

/** A tensor as both engines carry it (FeedTensor, the scoring Feed). */
interface RowTensor {
  type: string;
  data: ArrayLike<unknown> & { length: number };
  dims: number[];
  coded?: { codes: Int32Array; dictionary: readonly string[] };
}

/** Whether the model takes two rows where it takes one: every input's first axis is not fixed (a name, or unknown). */
export const canDoubleRows = (shapes: readonly (readonly (number | string | undefined | null)[])[]): boolean =>
  shapes.length > 0 && shapes.every((s) => s.length > 0 && typeof s[0] !== 'number');

/** Every feed is one row (first axis 1). */
export const isSingleRow = (feeds: Record<string, RowTensor>): boolean => {
  const all = Object.values(feeds);
  return all.length > 0 && all.every((f) => f.dims.length > 0 && f.dims[0] === 1);
};

function twice<D extends RowTensor['data']>(data: D): D {
  if (Array.isArray(data)) return [...data, ...data] as unknown as D;
  const typed = data as unknown as Float32Array;
  const out = new (typed.constructor as new (n: number) => Float32Array)(typed.length * 2);
  out.set(typed, 0);
  out.set(typed, typed.length);
  return out as unknown as D;
}

/** The one-row feeds as two identical rows. */
export function doubleRows<T extends RowTensor>(feeds: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, {
    ...f, data: twice(f.data), dims: [2, ...f.dims.slice(1)],
    ...(f.coded ? { coded: { codes: twice(f.coded.codes), dictionary: f.coded.dictionary } } : {}),
  }])) as Record<string, T>;
}

/** The first row of each two-row output; an output whose first axis the model fixes (`fixed`) is not a batch and stays whole. */
export function firstRows<T extends RowTensor>(outputs: Record<string, T>, fixed: (name: string) => boolean = () => false): Record<string, T> {
  return Object.fromEntries(Object.entries(outputs).map(([name, o]) => {
    if (o.dims[0] !== 2 || fixed(name)) return [name, o];
    const half = o.data.length / 2;
    const data = Array.isArray(o.data) ? o.data.slice(0, half) : (o.data as unknown as Float32Array).slice(0, half);
    return [name, { ...o, data, dims: [1, ...o.dims.slice(1)] }];
  })) as Record<string, T>;
}
