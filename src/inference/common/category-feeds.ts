// The feed side of onnx/common/category-codes.ts: a string tensor for a coded input becomes the
// int64 codes its session takes — each value's position in the category list, −1 for any other
// value (the one-hot encoder then gives all zeros, as it does for an unknown string). A tensor that
// carries dictionary codes (a category column) is translated through its dictionary, one lookup per
// distinct value. Pure.
import { OutpostError } from '../../common/errors.ts';
import type { CodedInput } from '../../onnx/common/category-codes.ts';
import type { FeedTensor, Feeds } from './feeds.ts';

export class CategoryCodes {
  readonly #positions = new Map<string, Map<string, number>>();

  constructor(coded: readonly CodedInput[]) {
    for (const c of coded) this.#positions.set(c.name, new Map(c.categories.map((v, i) => [v, i])));
  }

  /** Names of the inputs taken as codes. */
  get names(): string[] { return [...this.#positions.keys()]; }

  /** `feeds` with each coded input's strings replaced by their codes (checked feeds: validateFeeds ran). */
  encode(feeds: Feeds): Feeds {
    let out: Feeds | undefined;
    for (const [name, positions] of this.#positions) {
      const t = feeds[name];
      if (t === undefined || t.type !== 'string') continue;
      out ??= { ...feeds };
      out[name] = { type: 'int64', data: codesOf(name, t, positions), dims: t.dims };
    }
    return out ?? feeds;
  }
}

function codesOf(name: string, t: FeedTensor, positions: Map<string, number>): BigInt64Array {
  const n = t.data.length;
  const codes = new BigInt64Array(n);
  const halves = new Int32Array(codes.buffer);
  if (t.coded) {
    const { codes: entries, dictionary } = t.coded;
    const byEntry = Int32Array.from(dictionary, (v) => positions.get(v) ?? -1);
    for (let i = 0; i < n; i++) {
      const at = byEntry[entries[i]];
      // as the hand-off of string codes does (handoff.ts): a code with no dictionary entry is a caller's bug, never a silent zero
      if (at === undefined) throw new OutpostError('input', `input "${name}": code ${entries[i]} at ${i} is outside its dictionary of ${dictionary.length}`, { field: name });
      put(halves, i, at);
    }
  } else {
    const values = t.data as string[];
    for (let i = 0; i < n; i++) put(halves, i, positions.get(values[i]) ?? -1);
  }
  return codes;
}

/**
 * Code `v` at `i` of an int64 array seen as 32-bit halves (little-endian, as every platform ONNX
 * Runtime for Node runs on): a code is a small integer, its high half 0, or −1 in both halves. A
 * module function, not a closure made per batch (V8 compiles each new closure afresh).
 */
function put(halves: Int32Array, i: number, v: number): void {
  halves[2 * i] = v;
  halves[2 * i + 1] = v >> 31;
}
