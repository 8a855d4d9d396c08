// Prepares feeds for postMessage with as few copies as possible. Structured clone copies a typed
// array's *whole* underlying buffer, so a small view into a large buffer is sliced first; a whole
// buffer is moved (ArrayBuffer.transfer) when the caller hands it over; a SharedArrayBuffer is
// already visible to the worker and travels as is. A string tensor that carries dictionary codes
// travels as those codes and the dictionary: cloning 8,192 strings per batch (and the worker
// allocating them all again) cost more than the inference of a small model.
import type { FeedData, FeedTensor, FeedType, Feeds, StringCodes } from './feeds.ts';

type NumericData = Exclude<FeedData, string[]>;
type NumericCtor = new (buffer: ArrayBuffer) => NumericData;

export interface Handoff {
  feeds: Feeds;
  /** Buffers to list in postMessage's transfer list. */
  transfer: ArrayBuffer[];
}

/**
 * With `move`, the caller's typed arrays are detached at once (ownership passes at the call, not
 * whenever the message is posted); without it their contents are copied.
 */
export function prepareHandoff(feeds: Feeds, move: boolean): Handoff {
  const out: Feeds = {};
  const toMove: [string, NumericData][] = [];
  const transfer = new Set<ArrayBuffer>();
  for (const [name, t] of Object.entries(feeds)) {
    const d = t.data;
    if (t.coded) {
      // the codes are the caller's own array (or copied when not handed over): the strings stay behind
      const codes = move && wholeBuffer(t.coded.codes) ? new Int32Array((t.coded.codes.buffer as ArrayBuffer).transfer()) : t.coded.codes.slice();
      transfer.add(codes.buffer as ArrayBuffer);
      out[name] = { type: t.type, data: [], dims: t.dims, coded: { codes, dictionary: t.coded.dictionary } };
    } else if (Array.isArray(d) || !(d.buffer instanceof ArrayBuffer)) {
      out[name] = t; // strings are always cloned; shared memory is already visible
    } else if (d.byteOffset !== 0 || d.byteLength !== d.buffer.byteLength) {
      const copy = d.slice();
      transfer.add(copy.buffer as ArrayBuffer);
      out[name] = { ...t, data: copy };
    } else if (move) {
      toMove.push([name, d]);
    } else {
      out[name] = t;
    }
  }
  // Moving detaches, so it comes after every slice that might read the same buffer.
  const moved = new Map<ArrayBuffer, ArrayBuffer>(); // two feeds may share one buffer
  for (const [name, d] of toMove) {
    const buf = d.buffer as ArrayBuffer;
    let next = moved.get(buf);
    if (!next) {
      next = buf.transfer();
      moved.set(buf, next);
      transfer.add(next);
    }
    out[name] = { ...feeds[name], data: new (d.constructor as NumericCtor)(next) };
  }
  return { feeds: out, transfer: [...transfer] };
}

const wholeBuffer = (d: Int32Array): boolean => d.buffer instanceof ArrayBuffer && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength;

/** The strings of a tensor that arrived as codes (the worker's side of prepareHandoff). */
export function decodeStrings(name: string, coded: StringCodes): string[] {
  const { codes, dictionary } = coded;
  const out = new Array<string>(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const s = dictionary[codes[i]];
    if (s === undefined) throw new Error(`input '${name}': code ${codes[i]} at ${i} is outside its dictionary of ${dictionary.length}`);
    out[i] = s;
  }
  return out;
}

/** A received feed as ORT takes it: strings sent as codes are looked up again. */
export function receivedFeed(name: string, t: FeedTensor): FeedTensor {
  return t.coded ? { type: t.type, data: decodeStrings(name, t.coded), dims: t.dims } : t;
}

/**
 * One record's feeds packed into one typed array per element type. Cloning many tiny typed
 * arrays costs far more than their bytes (about 2 µs each), so the single-record path sends
 * a handful of arrays instead of one per input.
 */
export interface PackedFeeds {
  /** [input name, type, dims, offset into that type's array] */
  layout: [string, FeedType, number[], number][];
  float32?: Float32Array;
  float64?: Float64Array;
  int64?: BigInt64Array;
  int32?: Int32Array;
  bool?: Uint8Array;
  string?: string[];
}

const packedCtor = { float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array } as const;

export function packFeeds(feeds: Feeds): PackedFeeds {
  const layout: PackedFeeds['layout'] = [];
  const sizes: Partial<Record<FeedType, number>> = {};
  for (const [name, t] of Object.entries(feeds)) {
    const at = sizes[t.type] ?? 0;
    layout.push([name, t.type, t.dims, at]);
    sizes[t.type] = at + t.data.length;
  }
  const packed: PackedFeeds = { layout };
  for (const [name, type, , at] of layout) {
    const data = feeds[name].data;
    if (type === 'string') (packed.string ??= []).push(...(data as string[]));
    else {
      const target = (packed[type] ??= new packedCtor[type](sizes[type] as number) as never) as NumericData;
      (target as Float32Array).set(data as Float32Array, at);
    }
  }
  return packed;
}

/** Views into the packed arrays: no copies. */
export function unpackFeeds(p: PackedFeeds): Feeds {
  const feeds: Feeds = {};
  for (const [name, type, dims, at] of p.layout) {
    const size = dims.reduce((a, b) => a * b, 1);
    const data = type === 'string' ? (p.string as string[]).slice(at, at + size) : (p[type] as NumericData).subarray(at, at + size);
    feeds[name] = { type, data, dims };
  }
  return feeds;
}
