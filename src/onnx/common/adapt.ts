// What ONNX Runtime for Node can serve of a graph, and the in-memory rewrite that makes it so.
// scikit-learn classifiers exported by skl2onnx end in a ZipMap (ai.onnx.ml): a sequence of
// {class: probability} maps, which onnxruntime-node cannot return ("Non tensor type is temporarily
// not supported"). The tensor feeding the ZipMap holds the same probabilities as [N, classes]; the
// rewrite makes that tensor a graph output and drops the ZipMap. It is done on the bytes loaded for
// a session, never on the file: a signed package's verified bytes stay exactly as they were. Pure.
import { inspectModel, type ModelInfo, type NodeInfo, type ValueInfo } from './onnx.ts';
import { ProtoWriter, readFields, rewriteMessage, stringField } from './protobuf.ts';

export interface ZipMapInfo {
  /** the node's name (or "ZipMap #i" when unnamed) */
  node: string;
  /** the probability tensor it reads: [N, classes] float */
  input: string;
  /** the graph output it writes (a sequence of maps), dropped by the rewrite */
  output: string;
  labels: string[];
  labelType: 'int64' | 'string';
}

export interface ClassLabels {
  labels: string[];
  type: 'int64' | 'string';
  /** where they were read, for messages: 'ZipMap "ZipMap" classlabels_strings' */
  source: string;
}

const ML = 'ai.onnx.ml';

function labelsOf(n: NodeInfo): { labels: string[]; type: 'int64' | 'string'; attr: string } | undefined {
  for (const attr of ['classlabels_strings', 'classlabels_int64s', 'classlabels_ints']) {
    const v = n.attrs[attr];
    if (Array.isArray(v) && v.length) return { labels: v.map(String), type: attr === 'classlabels_strings' ? 'string' : 'int64', attr };
  }
  return undefined;
}

/** ZipMap nodes whose output is a graph output that no other node reads. */
export function findZipMaps(info: ModelInfo): ZipMapInfo[] {
  const outputs = new Set(info.outputs.map((o) => o.name));
  const read = new Set(info.nodes.flatMap((n) => n.inputs));
  const found: ZipMapInfo[] = [];
  info.nodes.forEach((n, i) => {
    if (n.op !== 'ZipMap' || n.domain !== ML || n.inputs.length !== 1 || n.outputs.length !== 1) return;
    if (!outputs.has(n.outputs[0]) || read.has(n.outputs[0])) return;
    const l = labelsOf(n);
    if (!l) return;
    found.push({ node: n.name || `ZipMap #${i}`, input: n.inputs[0], output: n.outputs[0], labels: l.labels, labelType: l.type });
  });
  return found;
}

/** The class labels a graph declares: its ZipMap's, else a classifier node's (LinearClassifier, TreeEnsembleClassifier, SVMClassifier, …). */
export function graphClassLabels(info: ModelInfo): ClassLabels | undefined {
  const zipmaps = info.nodes.filter((n) => n.op === 'ZipMap' && n.domain === ML);
  for (const n of [...zipmaps, ...info.nodes.filter((x) => x.domain === ML && x.op.endsWith('Classifier'))]) {
    const l = labelsOf(n);
    if (l) return { labels: l.labels, type: l.type, source: `${n.op} "${n.name}" ${l.attr}` };
  }
  return undefined;
}

/** The graph's interface once adapted: ZipMap outputs replaced by the probability tensors they read. */
export function servingInterface(info: ModelInfo): ModelInfo {
  const zipmaps = findZipMaps(info);
  if (!zipmaps.length) return info;
  const outputs: ValueInfo[] = [];
  const have = new Set<string>();
  for (const o of info.outputs) {
    const z = zipmaps.find((x) => x.output === o.name);
    const v: ValueInfo = z ? { name: z.input, type: 'float', shape: ['N', z.labels.length] } : o;
    if (have.has(v.name)) continue;
    have.add(v.name);
    outputs.push(v);
  }
  return { ...info, outputs, nodes: info.nodes.filter((n) => !zipmaps.some((z) => z.output === n.outputs[0] && n.op === 'ZipMap')) };
}

/** A ValueInfoProto for a float [N, classes] tensor. */
function probabilityOutput(name: string, classes: number): ProtoWriter {
  const shape = new ProtoWriter().message(1, new ProtoWriter().string(2, 'N')).message(1, new ProtoWriter().int(1, classes));
  const tensorType = new ProtoWriter().int(1, 1).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

const utf8 = new TextDecoder();

export interface AdaptedModel {
  /** the bytes to create the session from: the input itself when nothing needed changing */
  bytes: Uint8Array;
  /** the interface of `bytes` */
  info: ModelInfo;
  zipmaps: ZipMapInfo[];
}

/**
 * Rewrite a model for onnxruntime-node: every ZipMap feeding a graph output is dropped and the
 * probability tensor it read becomes a graph output in its place. Every other byte of the model
 * is re-emitted as read. Without a ZipMap the input bytes are returned untouched.
 */
export function adaptModel(bytes: Uint8Array, info: ModelInfo = inspectModel(bytes)): AdaptedModel {
  const zipmaps = findZipMaps(info);
  if (!zipmaps.length) return { bytes, info, zipmaps };
  const dropped = new Map(zipmaps.map((z) => [z.output, z]));
  const alreadyOut = new Set(info.outputs.map((o) => o.name));
  const model = rewriteMessage(bytes, (field, graph) => field !== 7 ? undefined : rewriteMessage(graph, (gf, value) => {
    if (gf === 1) {
      let op = '';
      let out = '';
      for (const x of readFields(value)) {
        if (x.field === 4 && x.wire === 2) op = utf8.decode(x.value);
        if (x.field === 2 && x.wire === 2 && !out) out = utf8.decode(x.value);
      }
      return op === 'ZipMap' && dropped.has(out) ? null : undefined;
    }
    if (gf === 12) {
      const z = dropped.get(stringField(value, 1));
      if (!z) return undefined;
      const first = !alreadyOut.has(z.input);
      alreadyOut.add(z.input);
      return first ? probabilityOutput(z.input, z.labels.length) : null;
    }
    return gf === 13 && dropped.has(stringField(value, 1)) ? null : undefined; // value_info of a dropped value
  }));
  const out = model.finish();
  return { bytes: out, info: servingInterface(info), zipmaps };
}
