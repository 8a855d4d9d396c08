// Tensors as they cross the engine's boundary (plain data that survives postMessage), the model's
// declared inputs and outputs, and the checks that turn a bad feed into an error naming the input
// before ORT sees it (ORT's own messages often omit the name, e.g. for a wrong dtype).
import { OutpostError } from '../../common/errors.ts';

export type FeedType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'string';
export const feedTypes: readonly FeedType[] = ['float32', 'float64', 'int64', 'int32', 'bool', 'string'];

export type FeedData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[];

export interface FeedTensor {
  type: FeedType;
  /** Row-major; `bool` is one byte (0/1) per value. */
  data: FeedData;
  dims: number[];
  /**
   * A string tensor's values once more, as indexes into a dictionary (`data[i] ===
   * dictionary[codes[i]]`), when the caller has them (a category column): the engine then sends
   * these to its worker instead of cloning every string (see handoff.ts).
   */
  coded?: StringCodes;
}

/** Strings as indexes into a dictionary. */
export interface StringCodes {
  codes: Int32Array;
  dictionary: readonly string[];
}

export type Feeds = Record<string, FeedTensor>;

/** A model input or output as the session declares it. */
export interface TensorInfo {
  name: string;
  /** ORT's element type ('float32', 'int64', …), or 'non-tensor' for sequences and maps. */
  type: string;
  /** Fixed sizes are numbers, symbolic ones (the batch, usually) their names. */
  shape: (number | string)[];
}

const dataMatches: Record<FeedType, (d: unknown) => boolean> = {
  float32: (d) => d instanceof Float32Array,
  float64: (d) => d instanceof Float64Array,
  int64: (d) => d instanceof BigInt64Array,
  int32: (d) => d instanceof Int32Array,
  bool: (d) => d instanceof Uint8Array,
  string: (d) => Array.isArray(d),
};

const expectedData: Record<FeedType, string> = {
  float32: 'Float32Array', float64: 'Float64Array', int64: 'BigInt64Array', int32: 'Int32Array', bool: 'Uint8Array', string: 'string[]',
};

const inputError = (name: string, message: string): OutpostError => new OutpostError('input', `input "${name}": ${message}`, { field: name });

/** Checks one tensor on its own: known type, data of that type, dims that match the data length. */
export function checkTensor(name: string, t: FeedTensor): void {
  if (!feedTypes.includes(t.type)) throw inputError(name, `unsupported type "${String(t.type)}" (use one of ${feedTypes.join(', ')})`);
  if (!dataMatches[t.type](t.data)) throw inputError(name, `type ${t.type} needs its data in a ${expectedData[t.type]}`);
  if (!Array.isArray(t.dims) || !t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw inputError(name, `dims must be non-negative integers, got ${JSON.stringify(t.dims)}`);
  const size = t.dims.reduce((a, b) => a * b, 1);
  if (size !== t.data.length) throw inputError(name, `dims [${t.dims.join(', ')}] need ${size} values, got ${t.data.length}`);
  if (t.coded !== undefined) {
    if (t.type !== 'string') throw inputError(name, `only a string tensor can carry codes, not ${t.type}`);
    if (!(t.coded.codes instanceof Int32Array) || !Array.isArray(t.coded.dictionary)) throw inputError(name, 'codes must be an Int32Array with a string[] dictionary');
    if (t.coded.codes.length !== t.data.length) throw inputError(name, `${t.coded.codes.length} codes for ${t.data.length} values`);
  }
}

/**
 * Checks feeds against the model's inputs: every input present, no unknown names, the declared
 * element type, rank and fixed sizes. Symbolic sizes accept anything (ORT checks consistency).
 */
export function validateFeeds(feeds: Feeds, inputs: readonly TensorInfo[]): void {
  if (typeof feeds !== 'object' || feeds === null) throw new OutpostError('input', 'feeds must be an object of named tensors');
  const declared = new Map(inputs.map((i) => [i.name, i]));
  for (const name of Object.keys(feeds)) {
    if (!declared.has(name)) throw inputError(name, `the model has no such input (inputs: ${inputs.map((i) => i.name).join(', ')})`);
  }
  for (const info of inputs) {
    const t = feeds[info.name];
    if (t === undefined) throw inputError(info.name, 'missing from the feeds');
    checkTensor(info.name, t);
    if (info.type !== t.type) throw inputError(info.name, `the model expects ${info.type}, got ${t.type}`);
    if (t.dims.length !== info.shape.length) throw inputError(info.name, `the model expects rank ${info.shape.length} [${info.shape.join(', ')}], got dims [${t.dims.join(', ')}]`);
    info.shape.forEach((d, axis) => {
      if (typeof d === 'number' && d !== t.dims[axis]) throw inputError(info.name, `the model expects size ${d} on axis ${axis} [${info.shape.join(', ')}], got dims [${t.dims.join(', ')}]`);
    });
  }
}

/** The input an ORT error message is about, when it says ("input: x", "input 'x'"). */
export function inputNamedIn(message: string, inputNames: readonly string[]): string | undefined {
  const m = /input(?: name)?[:\s]+'?"?([^\s'",]+)/i.exec(message);
  if (m && inputNames.includes(m[1])) return m[1];
  return inputNames.find((n) => message.includes(`'${n}'`) || message.includes(`"${n}"`));
}
