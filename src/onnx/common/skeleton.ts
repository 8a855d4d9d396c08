// A push reader that turns an ONNX ModelProto arriving in chunks into its **skeleton**: the same
// message with the bulk payloads `inspectModel` never reads left out (tensor data, raw_data,
// attribute tensors and sub-graphs, doc strings, functions…). `inspectModel(skeleton)` equals
// `inspectModel(whole file)`, so the registry can inspect a model from the bytes it is hashing while
// they download, without keeping (or re-reading) the file: one pass over the bytes, memory bounded by
// what the inspector reads, not by the size of the weights.
//
// Which fields are read mirrors `inspectModel` (onnx.ts): a wire-2 field listed in KEEP is copied,
// one listed in DESCEND is walked as the named message when it is large (copied whole otherwise),
// any other wire-2 field is dropped; varints and fixed fields are always copied. Every message the
// reader walks gets the framing checks `readFields` makes (truncation, field 0, wire types, lengths
// past the end of the parent), with the same messages. Bytes that are not yet verified may be fed:
// the reader never throws; a malformed stream is reported by `finish()`. Pure.

type Kind = 'model' | 'graph' | 'node' | 'attribute' | 'tensor';

interface Rule { keep: ReadonlySet<number>; descend: ReadonlyMap<number, Kind> }

const rule = (keep: number[], descend: [number, Kind][] = []): Rule => ({ keep: new Set(keep), descend: new Map(descend) });

/** The fields of each message `inspectModel` reads (onnx.ts: inspectModel, readNode, readAttr, readInitializer, readValueInfo). */
const RULES: Record<Kind, Rule> = {
  // ir_version(1), producer(2/3), opset_import(8), metadata_props(14); graph(7)
  model: rule([1, 2, 3, 8, 14], [[7, 'graph']]),
  // node(1), initializer(5); input(11), output(12)
  graph: rule([11, 12], [[1, 'node'], [5, 'tensor']]),
  // input(1), output(2), name(3), op_type(4), domain(7); attribute(5)
  node: rule([1, 2, 3, 4, 7], [[5, 'attribute']]),
  // name(1), s(4), floats(7), ints(8), strings(9) (f, i, type are not wire 2); t, g, tensors, graphs are not read
  attribute: rule([1, 4, 7, 8, 9]),
  // dims(1), name(8), external_data(13) (data_type, data_location are varints); the data fields are not read
  tensor: rule([1, 8, 13]),
};

/** A message of a DESCEND field up to this size is copied whole (fewer, larger parts; same result). */
const DESCEND_ABOVE = 64 * 1024;

interface Frame { kind: Kind; key: Uint8Array; end: number; parts: (Uint8Array | Frame)[] }

type State =
  | { s: 'key' } // reading a field key (varint)
  | { s: 'varint' } // reading a wire-0 value
  | { s: 'len'; field: number; keyLen: number } // reading a wire-2 length
  | { s: 'copy'; left: number; out: Uint8Array; at: number }
  | { s: 'skip'; left: number };

export interface SkeletonReader {
  /** feed the next bytes of the file, in order */
  update(chunk: Uint8Array): void;
  /** the skeleton, or why the bytes are not a well-formed protobuf message */
  finish(): { ok: true; skeleton: Uint8Array } | { ok: false; error: string };
}

/**
 * A skeleton reader for a file of `total` bytes (the signed length: a field declaring more than
 * what is left is malformed at once, so nothing larger than the file is ever allocated).
 */
export function modelSkeletonReader(total: number, opts: { descendAbove?: number } = {}): SkeletonReader {
  const descendAbove = opts.descendAbove ?? DESCEND_ABOVE;
  const root: Frame = { kind: 'model', key: new Uint8Array(0), end: total, parts: [] };
  const stack: Frame[] = [root];
  let state: State = { s: 'key' };
  let pos = 0;
  let error: string | undefined;
  // the varint being read, as readFields reads it (BigInt, 7 bits a byte, shift at most 70)
  let vr = 0n;
  let vshift = 0n;
  let hdr: number[] = []; // the header bytes of the current field (key, then value or length)

  const top = (): Frame => stack[stack.length - 1];
  /** a field ended at `pos`: pop every message that ends there too, and read the next key */
  const fieldDone = (): void => {
    state = { s: 'key' };
    hdr = [];
    while (stack.length > 1 && pos === top().end) stack.pop();
  };

  function header(b: number): void {
    hdr.push(b);
    vr |= BigInt(b & 0x7f) << vshift;
    if ((b & 0x80) !== 0) {
      vshift += 7n;
      if (vshift > 70n) error = 'protobuf: varint too long';
      else if (pos >= top().end) error = 'protobuf: truncated varint';
      return;
    }
    const v = vr;
    vr = 0n;
    vshift = 0n;
    const f = top();
    const st = state;
    if (st.s === 'key') {
      const key = Number(v);
      const field = key >>> 3;
      const wire = key & 7;
      if (field === 0) { error = 'protobuf: field number 0'; return; }
      if (wire === 0 || wire === 2) {
        if (pos >= f.end) { error = 'protobuf: truncated varint'; return; }
        state = wire === 0 ? { s: 'varint' } : { s: 'len', field, keyLen: hdr.length };
        return;
      }
      if (wire === 1 || wire === 5) {
        const n = wire === 1 ? 8 : 4;
        if (pos + n > f.end) { error = 'protobuf: truncated fixed field'; return; }
        const out = new Uint8Array(hdr.length + n);
        out.set(hdr, 0);
        f.parts.push(out);
        state = { s: 'copy', left: n, out, at: hdr.length };
        return;
      }
      error = `protobuf: unsupported wire type ${wire}`;
      return;
    }
    if (st.s === 'varint') {
      f.parts.push(Uint8Array.from(hdr));
      fieldDone();
      return;
    }
    if (st.s !== 'len') return;
    if (v > BigInt(f.end - pos)) { error = 'protobuf: length-delimited field runs past the end'; return; }
    const len = Number(v);
    const r = RULES[f.kind];
    const kind = r.descend.get(st.field);
    if (kind && len > descendAbove) {
      const child: Frame = { kind, key: Uint8Array.from(hdr.slice(0, st.keyLen)), end: pos + len, parts: [] };
      f.parts.push(child);
      stack.push(child);
      state = { s: 'key' };
      hdr = [];
    } else if (kind || r.keep.has(st.field)) {
      const out = new Uint8Array(hdr.length + len);
      out.set(hdr, 0);
      f.parts.push(out);
      if (len === 0) fieldDone();
      else state = { s: 'copy', left: len, out, at: hdr.length };
    } else if (len === 0) fieldDone();
    else state = { s: 'skip', left: len };
  }

  function update(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n && error === undefined) {
      const st = state;
      if (st.s === 'copy' || st.s === 'skip') {
        const take = Math.min(st.left, n - i);
        if (st.s === 'copy') { st.out.set(chunk.subarray(i, i + take), st.at); st.at += take; }
        st.left -= take;
        i += take;
        pos += take;
        if (st.left === 0) fieldDone();
        continue;
      }
      if (pos >= top().end) { error = 'protobuf: data after the end of the message'; break; }
      pos++;
      header(chunk[i++]);
    }
  }

  function finish(): { ok: true; skeleton: Uint8Array } | { ok: false; error: string } {
    if (error !== undefined) return { ok: false, error };
    if (pos < total || state.s !== 'key' || stack.length > 1) {
      return { ok: false, error: state.s === 'copy' || state.s === 'skip' || stack.length > 1 ? 'protobuf: length-delimited field runs past the end' : 'protobuf: truncated varint' };
    }
    const sizes = new Map<Frame, number>();
    const sizeOf = (f: Frame): number => {
      let s = sizes.get(f);
      if (s === undefined) {
        s = 0;
        for (const p of f.parts) s += p instanceof Uint8Array ? p.length : p.key.length + varintLength(sizeOf(p)) + sizeOf(p);
        sizes.set(f, s);
      }
      return s;
    };
    const out = new Uint8Array(sizeOf(root));
    let o = 0;
    const emit = (f: Frame): void => {
      for (const p of f.parts) {
        if (p instanceof Uint8Array) { out.set(p, o); o += p.length; continue; }
        out.set(p.key, o);
        o = writeVarint(out, o + p.key.length, sizeOf(p));
        emit(p);
      }
    };
    emit(root);
    return { ok: true, skeleton: out };
  }

  return { update, finish };
}

function varintLength(n: number): number {
  let k = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); k++; }
  return k;
}

function writeVarint(out: Uint8Array, o: number, n: number): number {
  while (n >= 0x80) { out[o++] = (n % 128) | 0x80; n = Math.floor(n / 128); }
  out[o++] = n;
  return o;
}
