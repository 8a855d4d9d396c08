// String categories as int64 codes, for the ONNX Runtime session only. A string input whose only
// readers are one-hot encoders (ai.onnx.ml OneHotEncoder: scikit-learn's OneHotEncoder with
// handle_unknown='ignore' as skl2onnx exports it, and Outpost's own trainer) costs more to run than
// the rest of a small model: onnxruntime-node copies every string into the session and the encoder
// hashes each one (demo model: 0.55 of 1.0 ms per 8,192 rows). The rewrite gives the session that
// input as int64 codes — each value's position in the encoder's category list, −1 for any other
// value — and the encoders the same list as cats_int64s 0 … n−1. The one-hot vectors, and so every
// output, are bit for bit the same (test/inference-category-codes.test.ts). Callers still see and
// feed a string input: the engine turns values into codes (inference/common/category-feeds.ts).
// Done on the bytes loaded for a session, never on the file. Pure.
import type { ModelInfo } from './onnx.ts';
import { ProtoWriter, readFields, rewriteMessage, stringField } from './protobuf.ts';

/** A string graph input that the session takes as int64 codes into `categories`. */
export interface CodedInput {
  name: string;
  categories: readonly string[];
}

const ML = 'ai.onnx.ml';
/** TensorProto.DataType */
const INT64 = 7;
/** AttributeProto.AttributeType */
const INTS = 7;

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The string inputs that can run as codes: read only by OneHotEncoder nodes that agree on one list
 * of distinct categories and give all zeros for an unknown value (`zeros` = 1, the default; with 0
 * ORT's own error for an unknown value is kept), not themselves a graph output. A graph with
 * subgraphs (If, Loop, Scan) is left alone: a subgraph may read the input under its name.
 */
export function codableInputs(info: Pick<ModelInfo, 'inputs' | 'outputs' | 'nodes'>): CodedInput[] {
  const subgraphs = info.nodes.some((n) => Object.values(n.attrs).some((v) => typeof v === 'object' && !Array.isArray(v) && v.kind === 'graph'));
  if (subgraphs) return [];
  const outputs = new Set(info.outputs.map((o) => o.name));
  const coded: CodedInput[] = [];
  for (const input of info.inputs) {
    if (input.type !== 'string' || outputs.has(input.name)) continue;
    const readers = info.nodes.filter((n) => n.inputs.includes(input.name));
    let categories: string[] | undefined;
    const codable = readers.length > 0 && readers.every((n) => {
      const cats = n.attrs.cats_strings;
      const zeros = n.attrs.zeros ?? 1;
      if (n.domain !== ML || n.op !== 'OneHotEncoder' || n.inputs.length !== 1 || zeros !== 1) return false;
      if (!Array.isArray(cats) || cats.length === 0 || !cats.every((c) => typeof c === 'string')) return false;
      const list = cats as string[];
      if (categories === undefined) categories = list;
      return sameList(categories, list);
    });
    if (codable && categories && new Set(categories).size === categories.length) coded.push({ name: input.name, categories });
  }
  return coded;
}

const utf8 = new TextDecoder();

/** A ValueInfoProto with its tensor element type set to int64 (name, shape and doc kept). */
const asInt64 = (valueInfo: Uint8Array): ProtoWriter =>
  rewriteMessage(valueInfo, (field, type) => field !== 2 ? undefined
    : rewriteMessage(type, (tf, tensor) => tf !== 1 ? undefined : elemTypeInt64(tensor)));

function elemTypeInt64(tensor: Uint8Array): ProtoWriter {
  const w = new ProtoWriter().int(1, INT64);
  for (const f of readFields(tensor)) if (f.field !== 1) w.raw(f.field, f.wire, f.value);
  return w;
}

/** An OneHotEncoder NodeProto with cats_strings replaced by cats_int64s 0 … n−1. */
function encoderOverCodes(node: Uint8Array, count: number): ProtoWriter {
  return rewriteMessage(node, (field, attr) => field !== 5 || stringField(attr, 1) !== 'cats_strings' ? undefined
    : new ProtoWriter().string(1, 'cats_int64s').packedInts(8, Array.from({ length: count }, (_, i) => i)).int(20, INTS));
}

/** The model with `coded` inputs taken as int64 codes (see the top of this file). Every other byte is re-emitted as read. */
export function withCategoryCodes(bytes: Uint8Array, coded: readonly CodedInput[]): Uint8Array {
  if (!coded.length) return bytes;
  const byName = new Map(coded.map((c) => [c.name, c]));
  const model = rewriteMessage(bytes, (field, graph) => field !== 7 ? undefined : rewriteMessage(graph, (gf, value) => {
    // graph inputs (11) and value_info (13) that describe a coded input
    if (gf === 11 || gf === 13) return byName.has(stringField(value, 1)) ? asInt64(value) : undefined;
    if (gf !== 1) return undefined;
    // a node (1) reading a coded input is one of its OneHotEncoders (codableInputs checked it)
    const read = [...readFields(value)].flatMap((f) => (f.field === 1 && f.wire === 2 ? [utf8.decode(f.value)] : []));
    const c = read.length === 1 ? byName.get(read[0]) : undefined;
    return c ? encoderOverCodes(value, c.categories.length) : undefined;
  }));
  return model.finish();
}
