// Does the card describe the graph it ships with? Checked at every load, so a package whose card
// and model disagree is rejected up front with every mismatch named, never at scoring time.
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

export function checkAgreement(card: Card, graph: ModelInfo): string[] {
  const problems: string[] = [];
  const gIn = new Map(graph.inputs.map((v) => [v.name, v]));
  const gOut = new Map(graph.outputs.map((v) => [v.name, v]));

  for (const f of card.inputs) {
    const g = gIn.get(f.name);
    if (!g) { problems.push(`card input "${f.name}" is not an input of the graph (graph inputs: ${[...gIn.keys()].join(', ') || 'none'})`); continue; }
    if (!acceptedInputTypes[f.type].includes(g.type)) problems.push(`input "${f.name}": card type ${f.type} cannot feed graph dtype ${g.type} (accepted: ${acceptedInputTypes[f.type].join(', ')})`);
    if (!isColumnShape(g.shape)) problems.push(`input "${f.name}": graph shape [${g.shape.join(', ')}] is not one value per row ([N] or [N, 1])`);
  }
  const cardNames = new Set(card.inputs.map((f) => f.name));
  for (const g of graph.inputs) if (!cardNames.has(g.name)) problems.push(`graph input "${g.name}" is not described in the card`);

  const need = (role: string, name: string | undefined, check: (v: ValueInfo) => string | undefined) => {
    if (name === undefined) return;
    const v = gOut.get(name);
    if (!v) { problems.push(`card outputs.${role} names "${name}", which is not a graph output (graph outputs: ${[...gOut.keys()].join(', ') || 'none'})`); return; }
    const p = check(v);
    if (p) problems.push(`output "${name}" (${role}): ${p}`);
  };
  const classes = card.outputs.classes?.length;
  need('probabilities', card.outputs.probabilities, (v) => {
    if (v.type !== 'float' && v.type !== 'double') return `dtype ${v.type}, expected float`;
    if (v.shape.length !== 2) return `shape [${v.shape.join(', ')}], expected [N, classes]`;
    if (typeof v.shape[1] === 'number' && classes !== undefined && v.shape[1] !== classes) return `has ${v.shape[1]} columns but the card lists ${classes} classes`;
    return undefined;
  });
  need('label', card.outputs.label, (v) => {
    if (!['int64', 'int32', 'string'].includes(v.type)) return `dtype ${v.type}, expected int64 class index or string`;
    return isColumnShape(v.shape) ? undefined : `shape [${v.shape.join(', ')}], expected [N] or [N, 1]`;
  });
  need('value', card.outputs.value, (v) => {
    if (v.type !== 'float' && v.type !== 'double') return `dtype ${v.type}, expected float`;
    return isColumnShape(v.shape) ? undefined : `shape [${v.shape.join(', ')}], expected [N] or [N, 1]`;
  });
  return problems;
}
