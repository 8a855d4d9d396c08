// Build ONNX models from TypeScript (graph, nodes, initializers) and serialise them to ModelProto
// bytes; read back a model's inputs, outputs and initializer metadata. Pure: no Node imports.
import { ProtoWriter, readFields, readPackedVarints } from './protobuf.ts';

export const DataType = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, string: 8, bool: 9, double: 11 } as const;
export type ElemType = keyof typeof DataType;
const elemName = new Map<number, ElemType>(Object.entries(DataType).map(([k, v]) => [v, k as ElemType]));

export type Dim = number | string; // fixed size or symbolic (e.g. 'N')

export interface ValueInfo {
  name: string;
  type: ElemType;
  shape: Dim[];
  /** Set (when read from a model) for a value that is not a tensor: 'sequence<map<int64, float>>' (ZipMap), … */
  nonTensor?: string;
}

export type AttrValue = number | string | number[] | string[] | Tensor | { float: number } | { floats: number[] };

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

export interface Tensor {
  name: string;
  type: ElemType;
  dims: number[];
  /** float/double/int32/int64/bool values; strings for string tensors */
  data: ArrayLike<number> | string[] | BigInt64Array;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Tensor[];
}

export interface ModelOptions {
  opset?: number;
  mlOpset?: number;
  producer?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

const isTensor = (v: unknown): v is Tensor => typeof v === 'object' && v !== null && 'dims' in v && 'data' in v;

function writeTensor(t: Tensor): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  w.int(2, DataType[t.type]);
  w.string(8, t.name);
  const n = t.data.length;
  switch (t.type) {
    case 'float': {
      const a = Float32Array.from(t.data as ArrayLike<number>);
      w.bytes(9, new Uint8Array(a.buffer));
      break;
    }
    case 'double': {
      const a = Float64Array.from(t.data as ArrayLike<number>);
      w.bytes(9, new Uint8Array(a.buffer));
      break;
    }
    case 'int64': {
      const a = t.data instanceof BigInt64Array ? t.data : BigInt64Array.from(Array.from(t.data as ArrayLike<number>, (x) => BigInt(x)));
      w.bytes(9, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      break;
    }
    case 'int32': {
      const a = Int32Array.from(t.data as ArrayLike<number>);
      w.bytes(9, new Uint8Array(a.buffer));
      break;
    }
    case 'bool':
    case 'uint8':
    case 'int8': {
      const a = Uint8Array.from(t.data as ArrayLike<number>);
      w.bytes(9, a);
      break;
    }
    case 'string':
      for (let i = 0; i < n; i++) w.string(6, (t.data as string[])[i]);
      break;
  }
  return w;
}

function writeAttr(name: string, v: AttrValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: use { float: x } for float attributes`);
    w.int(3, v).int(20, 2);
  } else if (typeof v === 'string') w.string(4, v).int(20, 3);
  else if (isTensor(v)) w.message(5, writeTensor(v)).int(20, 4);
  else if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) {
      for (const s of v as string[]) w.string(9, s);
      w.int(20, 8);
    } else w.packedInts(8, v as number[]).int(20, 7);
  } else if ('floats' in v) w.packedFloats(7, v.floats).int(20, 6);
  else w.float(2, v.float).int(20, 1);
  return w;
}

function writeValueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, DataType[v.type]).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

/** Serialise a graph as an ONNX ModelProto (IR 8, opset 17 + ai.onnx.ml 3 by default). */
export function encodeModel(g: Graph, opts: ModelOptions = {}): Uint8Array {
  const graph = new ProtoWriter();
  g.nodes.forEach((n, i) => {
    const nw = new ProtoWriter();
    for (const x of n.inputs) nw.string(1, x);
    for (const x of n.outputs) nw.string(2, x);
    nw.string(3, n.name ?? `${n.op}_${i}`).string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) nw.message(5, writeAttr(k, v));
    if (n.domain) nw.string(7, n.domain);
    graph.message(1, nw);
  });
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, writeTensor(t));
  for (const v of g.inputs) graph.message(11, writeValueInfo(v));
  for (const v of g.outputs) graph.message(12, writeValueInfo(v));

  const m = new ProtoWriter().int(1, 8).string(2, opts.producer ?? 'outpost');
  if (opts.docString) m.string(6, opts.docString);
  m.message(7, graph);
  m.message(8, new ProtoWriter().string(1, '').int(2, opts.opset ?? 17));
  m.message(8, new ProtoWriter().string(1, 'ai.onnx.ml').int(2, opts.mlOpset ?? 3));
  for (const [k, v] of Object.entries(opts.metadata ?? {})) m.message(14, new ProtoWriter().string(1, k).string(2, v));
  return m.finish();
}

// ---- reading (inspection only: what a package's graph declares) ----

export interface ExternalDataRef { tensor: string; location: string; offset?: number; length?: number }
export interface InitializerInfo { name: string; type: ElemType | `unknown(${number})`; dims: number[]; external?: ExternalDataRef }
/** An attribute as read back: numbers (int or float), strings, lists of them; tensors and graphs only noted. */
export type NodeAttr = number | string | number[] | string[] | { kind: 'tensor' | 'graph' | 'other' };

export interface NodeInfo {
  name: string;
  op: string;
  /** '' for the default ONNX domain */
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, NodeAttr>;
}

export interface ModelInfo {
  irVersion: number;
  /** producer_name and producer_version ('skl2onnx' '1.16.0', 'pytorch' '2.1.0', …), '' when unset */
  producer: string;
  producerVersion: string;
  opsets: { domain: string; version: number }[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: InitializerInfo[];
  /** The main graph's nodes, in order (subgraphs of If/Loop are not listed). */
  nodes: NodeInfo[];
  metadata: Record<string, string>;
}

const text = new TextDecoder('utf-8', { fatal: true });

/** A TypeProto that is not a tensor, described (sequence<map<int64, float>>, …). */
function describeType(b: Uint8Array): string {
  for (const f of readFields(b)) {
    if (f.wire !== 2) continue;
    if (f.field === 1) {
      for (const t of readFields(f.value)) if (t.field === 1 && t.wire === 0) return elemName.get(Number(t.value)) ?? `unknown(${t.value})`;
      return 'tensor';
    }
    if (f.field === 4) {
      for (const t of readFields(f.value)) if (t.field === 1 && t.wire === 2) return `sequence<${describeType(t.value)}>`;
      return 'sequence';
    }
    if (f.field === 5) {
      let key = '?';
      let value = '?';
      for (const t of readFields(f.value)) {
        if (t.field === 1 && t.wire === 0) key = elemName.get(Number(t.value)) ?? `unknown(${t.value})`;
        if (t.field === 2 && t.wire === 2) value = describeType(t.value);
      }
      return `map<${key}, ${value}>`;
    }
    if (f.field === 9) return 'optional';
    if (f.field === 8) return 'sparse tensor';
  }
  return 'unknown';
}

function readValueInfo(b: Uint8Array): ValueInfo {
  const v: ValueInfo = { name: '', type: 'float', shape: [] };
  for (const f of readFields(b)) {
    if (f.field === 1 && f.wire === 2) v.name = text.decode(f.value);
    if (f.field === 2 && f.wire === 2) {
      let tensor = false;
      for (const tp of readFields(f.value)) {
        if (tp.field !== 1 || tp.wire !== 2) continue; // tensor_type only
        tensor = true;
        for (const tt of readFields(tp.value)) {
          if (tt.field === 1 && tt.wire === 0) v.type = elemName.get(Number(tt.value)) ?? (`unknown(${tt.value})` as ElemType);
          if (tt.field === 2 && tt.wire === 2) {
            for (const dim of readFields(tt.value)) {
              if (dim.field !== 1 || dim.wire !== 2) continue;
              let d: Dim = '?';
              for (const dv of readFields(dim.value)) {
                if (dv.field === 1 && dv.wire === 0) d = Number(dv.value);
                if (dv.field === 2 && dv.wire === 2) d = text.decode(dv.value);
              }
              v.shape.push(d);
            }
          }
        }
      }
      if (!tensor) v.nonTensor = describeType(f.value);
    }
  }
  return v;
}

function readInitializer(b: Uint8Array): InitializerInfo {
  const t: InitializerInfo = { name: '', type: 'float', dims: [] };
  const ext: Record<string, string> = {};
  let external = false;
  for (const f of readFields(b)) {
    if (f.field === 1 && f.wire === 2) t.dims.push(...readPackedVarints(f.value).map((x) => Number(BigInt.asIntN(64, x))));
    else if (f.field === 1 && f.wire === 0) t.dims.push(Number(BigInt.asIntN(64, f.value)));
    else if (f.field === 2 && f.wire === 0) t.type = elemName.get(Number(f.value)) ?? `unknown(${Number(f.value)})`;
    else if (f.field === 8 && f.wire === 2) t.name = text.decode(f.value);
    else if (f.field === 13 && f.wire === 2) {
      let k = '';
      let v = '';
      for (const e of readFields(f.value)) {
        if (e.field === 1 && e.wire === 2) k = text.decode(e.value);
        if (e.field === 2 && e.wire === 2) v = text.decode(e.value);
      }
      ext[k] = v;
    } else if (f.field === 14 && f.wire === 0) external = f.value === 1n;
  }
  if (external || Object.keys(ext).length) {
    t.external = {
      tensor: t.name,
      location: ext.location ?? '',
      ...(ext.offset !== undefined ? { offset: Number(ext.offset) } : {}),
      ...(ext.length !== undefined ? { length: Number(ext.length) } : {}),
    };
  }
  return t;
}

const f32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);

function readAttr(b: Uint8Array): [string, NodeAttr] {
  let name = '';
  let type = 0;
  let f: number | undefined;
  let i: number | undefined;
  let s: string | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  for (const x of readFields(b)) {
    if (x.field === 1 && x.wire === 2) name = text.decode(x.value);
    else if (x.field === 20 && x.wire === 0) type = Number(x.value);
    else if (x.field === 2 && x.wire === 5) f = f32(x.value);
    else if (x.field === 3 && x.wire === 0) i = Number(BigInt.asIntN(64, x.value));
    else if (x.field === 4 && x.wire === 2) s = new TextDecoder().decode(x.value);
    else if (x.field === 7 && x.wire === 2) for (let k = 0; k + 4 <= x.value.length; k += 4) floats.push(f32(x.value.subarray(k)));
    else if (x.field === 7 && x.wire === 5) floats.push(f32(x.value));
    else if (x.field === 8 && x.wire === 2) for (const v of readPackedVarints(x.value)) ints.push(Number(BigInt.asIntN(64, v)));
    else if (x.field === 8 && x.wire === 0) ints.push(Number(BigInt.asIntN(64, x.value)));
    else if (x.field === 9 && x.wire === 2) strings.push(new TextDecoder().decode(x.value));
  }
  switch (type) {
    case 1: return [name, f ?? 0];
    case 2: return [name, i ?? 0];
    case 3: return [name, s ?? ''];
    case 4: return [name, { kind: 'tensor' }];
    case 5: return [name, { kind: 'graph' }];
    case 6: return [name, floats];
    case 7: return [name, ints];
    case 8: return [name, strings];
    default: return [name, { kind: 'other' }];
  }
}

function readNode(b: Uint8Array): NodeInfo {
  const n: NodeInfo = { name: '', op: '', domain: '', inputs: [], outputs: [], attrs: {} };
  for (const f of readFields(b)) {
    if (f.wire !== 2) continue;
    if (f.field === 1) n.inputs.push(text.decode(f.value));
    else if (f.field === 2) n.outputs.push(text.decode(f.value));
    else if (f.field === 3) n.name = text.decode(f.value);
    else if (f.field === 4) n.op = text.decode(f.value);
    else if (f.field === 7) n.domain = text.decode(f.value);
    else if (f.field === 5) {
      const [k, v] = readAttr(f.value);
      n.attrs[k] = v;
    }
  }
  return n;
}

/** Parse the parts of a ModelProto the appliance checks. Throws on malformed bytes. */
export function inspectModel(bytes: Uint8Array): ModelInfo {
  const info: ModelInfo = { irVersion: 0, producer: '', producerVersion: '', opsets: [], inputs: [], outputs: [], initializers: [], nodes: [], metadata: {} };
  let sawGraph = false;
  for (const f of readFields(bytes)) {
    if (f.field === 1 && f.wire === 0) info.irVersion = Number(f.value);
    else if (f.field === 2 && f.wire === 2) info.producer = text.decode(f.value);
    else if (f.field === 3 && f.wire === 2) info.producerVersion = text.decode(f.value);
    else if (f.field === 8 && f.wire === 2) {
      const o = { domain: '', version: 0 };
      for (const x of readFields(f.value)) {
        if (x.field === 1 && x.wire === 2) o.domain = text.decode(x.value);
        if (x.field === 2 && x.wire === 0) o.version = Number(x.value);
      }
      info.opsets.push(o);
    } else if (f.field === 14 && f.wire === 2) {
      let k = '';
      let v = '';
      for (const e of readFields(f.value)) {
        if (e.field === 1 && e.wire === 2) k = text.decode(e.value);
        if (e.field === 2 && e.wire === 2) v = text.decode(e.value);
      }
      info.metadata[k] = v;
    } else if (f.field === 7 && f.wire === 2) {
      sawGraph = true;
      const initNames = new Set<string>();
      const inputs: ValueInfo[] = [];
      for (const g of readFields(f.value)) {
        if (g.field === 1 && g.wire === 2) info.nodes.push(readNode(g.value));
        else if (g.field === 5 && g.wire === 2) {
          const t = readInitializer(g.value);
          initNames.add(t.name);
          info.initializers.push(t);
        } else if (g.field === 11 && g.wire === 2) inputs.push(readValueInfo(g.value));
        else if (g.field === 12 && g.wire === 2) info.outputs.push(readValueInfo(g.value));
      }
      // Older exporters list initializers among graph inputs; those are not user inputs.
      info.inputs = inputs.filter((i) => !initNames.has(i.name));
    }
  }
  if (!sawGraph) throw new Error('not an ONNX model: no graph');
  return info;
}
