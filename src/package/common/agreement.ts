// Does the card describe the graph it ships with? Checked at every load, so a package whose card
// and model disagree is rejected up front with every mismatch named, never at scoring time.
// The graph is judged as it will be served: ZipMap outputs replaced by their probability tensors
// (src/onnx/common/adapt.ts). Every message names the card field and the graph value, and says
// what to write instead.
import { graphClassLabels, servingInterface } from '../../onnx/common/adapt.ts';
import type { ElemType, ModelInfo, ValueInfo } from '../../onnx/common/onnx.ts';
import type { Card, FeatureType } from './card.ts';

/** Graph input dtypes the engine can feed for each card feature type. */
export const acceptedInputTypes: Record<FeatureType, readonly ElemType[]> = {
  float: ['float', 'double'],
  int: ['float', 'double', 'int64', 'int32'],
  bool: ['bool', 'float', 'int64', 'int32', 'uint8'],
  category: ['string'],
};

/** A per-row column: [N] or [N, 1], batch dimension symbolic (or any size). */
function isColumnShape(shape: ValueInfo['shape']): boolean {
  return shape.length === 1 || (shape.length === 2 && shape[1] === 1);
}

const shapeText = (v: ValueInfo): string => `[${v.shape.join(', ')}]`;
const quoteList = (names: readonly string[]): string => names.map((n) => JSON.stringify(n)).join(', ');
/** What a [N, F] graph input needs written in the card. */
const tensorHint = (input: string, f: number | string, names?: readonly string[]): string =>
  `map card inputs onto its columns with "tensors": [{ "input": ${JSON.stringify(input)}, "features": [${names && names.length === f ? quoteList(names) : `${typeof f === 'number' ? `${f} card input names` : 'card input names'}`}] }] in the column order the model was trained with (\`outpost models init\` writes this)`;

export function checkAgreement(card: Card, rawGraph: ModelInfo): string[] {
  const problems: string[] = [];
  const graph = servingInterface(rawGraph);
  const gIn = new Map(graph.inputs.map((v) => [v.name, v]));
  const gOut = new Map(graph.outputs.map((v) => [v.name, v]));
  const tensors = card.tensors ?? [];
  const mapped = new Set(tensors.flatMap((t) => t.features));
  const tensorInputs = new Set(tensors.map((t) => t.input));
  const byName = new Map(card.inputs.map((f) => [f.name, f]));

  tensors.forEach((t, ti) => {
    const where = `card tensors[${ti}] (graph input "${t.input}")`;
    const g = gIn.get(t.input);
    if (!g) { problems.push(`card tensors[${ti}].input "${t.input}" is not an input of the graph (graph inputs: ${[...gIn.keys()].join(', ') || 'none'})`); return; }
    if (g.nonTensor) { problems.push(`${where}: the graph input is a ${g.nonTensor}, not a tensor`); return; }
    for (const name of t.features) {
      const f = byName.get(name);
      if (!f) continue; // the card schema reports it
      if (!acceptedInputTypes[f.type].includes(g.type)) problems.push(`${where}: feature "${name}" has card type ${f.type}, which cannot go into graph dtype ${g.type} (a ${g.type} tensor takes ${(Object.keys(acceptedInputTypes) as FeatureType[]).filter((k) => acceptedInputTypes[k].includes(g.type)).join(' or ') || 'no'} features)`);
      else if (f.nullable && !['float', 'double', 'string'].includes(g.type)) problems.push(`${where}: feature "${name}" is nullable but a ${g.type} tensor has no missing value; make it "nullable": false or export the model with a float input`);
    }
    if (g.shape.length !== 2) problems.push(`${where}: graph shape ${shapeText(g)} is not [N, columns]; "tensors" maps features onto the columns of a 2-D input`);
    else if (typeof g.shape[1] === 'number' && g.shape[1] !== t.features.length) {
      problems.push(`${where}: the card lists ${t.features.length} feature${t.features.length === 1 ? '' : 's'} (${quoteList(t.features)}) but the graph input has ${g.shape[1]} columns ${shapeText(g)}: list exactly ${g.shape[1]} card inputs in "features", in the column order the model was trained with`);
    }
  });

  const unmappedGraphTensors = graph.inputs.filter((g) => !tensorInputs.has(g.name) && !byName.has(g.name) && g.shape.length === 2 && g.shape[1] !== 1);
  for (const f of card.inputs) {
    if (mapped.has(f.name)) continue;
    const g = gIn.get(f.name);
    if (!g) {
      const wide = unmappedGraphTensors[0];
      problems.push(`card input "${f.name}" is not an input of the graph (graph inputs: ${[...gIn.keys()].join(', ') || 'none'})${wide ? `; if it is a column of "${wide.name}" ${shapeText(wide)}, ${tensorHint(wide.name, wide.shape[1])}` : ''}`);
      continue;
    }
    if (g.nonTensor) { problems.push(`input "${f.name}": the graph input is a ${g.nonTensor}, not a tensor`); continue; }
    if (!acceptedInputTypes[f.type].includes(g.type)) problems.push(`input "${f.name}": card type ${f.type} cannot feed graph dtype ${g.type} (accepted: ${acceptedInputTypes[f.type].join(', ')})`);
    if (!isColumnShape(g.shape)) {
      problems.push(`input "${f.name}": graph shape ${shapeText(g)} is not one value per row ([N] or [N, 1])${g.shape.length === 2 ? `; if it takes ${g.shape[1]} features per row, ${tensorHint(g.name, g.shape[1])}` : ''}`);
    }
  }
  const unmappedNames = card.inputs.filter((f) => !mapped.has(f.name) && !gIn.has(f.name)).map((f) => f.name);
  for (const g of graph.inputs) {
    if (byName.has(g.name) || tensorInputs.has(g.name)) continue;
    if (g.shape.length === 2 && g.shape[1] !== 1) problems.push(`graph input "${g.name}" ${shapeText(g)} is not described in the card: it takes ${typeof g.shape[1] === 'number' ? `${g.shape[1]} values` : 'several values'} per row; ${tensorHint(g.name, g.shape[1], unmappedNames)}`);
    else problems.push(`graph input "${g.name}" is not described in the card`);
  }

  const need = (role: string, name: string | undefined, check: (v: ValueInfo) => string | undefined) => {
    if (name === undefined) return;
    const v = gOut.get(name);
    if (!v) {
      const raw = rawGraph.outputs.find((o) => o.name === name);
      problems.push(raw?.nonTensor
        ? `card outputs.${role} names "${name}", a ${raw.nonTensor} that ONNX Runtime for Node cannot return (graph outputs it can: ${[...gOut.keys()].join(', ') || 'none'})`
        : `card outputs.${role} names "${name}", which is not a graph output (graph outputs: ${[...gOut.keys()].join(', ') || 'none'})`);
      return;
    }
    const p = v.nonTensor ? `it is a ${v.nonTensor}, which ONNX Runtime for Node cannot return; name a tensor output` : check(v);
    if (p) problems.push(`output "${name}" (${role}): ${p}`);
  };
  const classes = card.outputs.classes?.length;
  need('probabilities', card.outputs.probabilities, (v) => {
    if (v.type !== 'float' && v.type !== 'double') return `dtype ${v.type}, expected float`;
    if (v.shape.length !== 2) return `shape ${shapeText(v)}, expected [N, classes]`;
    if (typeof v.shape[1] === 'number' && classes !== undefined && v.shape[1] !== classes) return `has ${v.shape[1]} columns but the card lists ${classes} classes`;
    return undefined;
  });
  need('label', card.outputs.label, (v) => {
    if (!['int64', 'int32', 'string'].includes(v.type)) return `dtype ${v.type}, expected int64 class index or string`;
    return isColumnShape(v.shape) ? undefined : `shape ${shapeText(v)}, expected [N] or [N, 1]`;
  });
  need('value', card.outputs.value, (v) => {
    if (v.type !== 'float' && v.type !== 'double') return `dtype ${v.type}, expected float`;
    return isColumnShape(v.shape) ? undefined : `shape ${shapeText(v)}, expected [N] or [N, 1]`;
  });

  // The graph's own class labels (ZipMap, LinearClassifier, TreeEnsembleClassifier…) fix the
  // order of the probability columns and what a label output holds.
  const declared = card.task === 'regression' ? undefined : graphClassLabels(rawGraph);
  const cardClasses = card.outputs.classes;
  if (declared && cardClasses) {
    const labelOut = card.outputs.label ? gOut.get(card.outputs.label) : undefined;
    const fix = `write "classes": [${quoteList(declared.labels)}]`;
    const same = declared.labels.length === cardClasses.length && declared.labels.every((l, i) => l === cardClasses[i]);
    const isRange = declared.labels.every((l, i) => l === String(i));
    if (declared.type === 'string' && !same) {
      problems.push(`card outputs.classes [${quoteList(cardClasses)}] differ from the graph's class labels (${declared.source}: [${quoteList(declared.labels)}]); ${fix} (same order: it is the order of the probability columns)`);
    } else if (declared.type === 'int64' && !same && !(isRange && cardClasses.length === declared.labels.length && card.outputs.labelEncoding !== 'class')) {
      problems.push(`card outputs.classes [${quoteList(cardClasses)}] differ from the graph's integer class labels (${declared.source}: [${declared.labels.join(', ')}]); ${fix}${isRange ? ', or keep your own names for classes 0…' + (declared.labels.length - 1) + ' in that order' : ''}`);
    }
    if (declared.type === 'int64' && labelOut && labelOut.type !== 'string' && !isRange && card.outputs.labelEncoding !== 'class') {
      problems.push(`output "${card.outputs.label}" (label) holds the graph's integer class labels [${declared.labels.join(', ')}], not positions 0…${declared.labels.length - 1}: write "labelEncoding": "class" in outputs`);
    }
  }
  if (card.outputs.labelEncoding === 'class' && card.outputs.label && gOut.get(card.outputs.label)?.type === 'string') {
    problems.push(`outputs.labelEncoding "class" is for integer label outputs; "${card.outputs.label}" is a string output, read by class name already — remove labelEncoding`);
  }
  return problems;
}
