// `outpost models init`: a card guessed from a graph exported elsewhere (skl2onnx, torch.onnx) and
// a sample of the data it was trained on. Pure: the sample arrives as per-column profiles. Every
// guess is reported, with what the user should check; what cannot be guessed is an error that
// says which option supplies it.
import { OutpostError } from '../../common/errors.ts';
import { findZipMaps, graphClassLabels, servingInterface } from '../../onnx/common/adapt.ts';
import type { ElemType, ModelInfo, ValueInfo } from '../../onnx/common/onnx.ts';
import { fixedBatchProblem } from './agreement.ts';
import { BOOL_TEXT } from '../../scoring/common/validate.ts';
import { CARD_FORMAT, type Card, type FeatureType, type InputField, type OutputMapping, type TensorMapping } from './card.ts';

/** What one sample column holds, from one pass over the file. */
export interface ColumnProfile {
  name: string;
  rows: number;
  /** empty cells (CSV), nulls (JSONL, Parquet) */
  missing: number;
  /** cells that are not numbers (0: a numeric column) */
  nonNumeric: number;
  firstNonNumeric?: { row: number; text: string };
  /** over the numeric cells */
  min: number;
  max: number;
  integers: boolean;
  /** distinct non-missing texts, up to MAX_DISTINCT (undefined past that) */
  distinct?: string[];
}

export const MAX_DISTINCT = 1000;
/** A category vocabulary longer than this is suspicious for a guessed card. */
const MAX_VOCABULARY = 200;

export interface InitRequest {
  name: string;
  version: number;
  target?: string;
  /** feature names for the [N, F] input(s), in column order, when the sample's order is not it */
  features?: string[];
  /** class names for a classifier whose graph records none (PyTorch), in output-column order */
  classes?: string[];
  /** columns that are neither features nor the target (ids, dates) */
  ignore?: string[];
  sampleFile: string;
  sampleRows: number;
  sampleSha256: string;
  modelFile: string;
  now?: Date;
}

export interface InitResult {
  card: Card;
  /** what was guessed, one line each */
  guessed: string[];
  /** what the user should check before installing or publishing */
  check: string[];
}

const NUMERIC: readonly ElemType[] = ['float', 'double', 'int64', 'int32', 'bool', 'uint8', 'int8'];
const usage = (message: string): OutpostError => new OutpostError('usage', message);
const fail = (message: string, file: string): OutpostError => new OutpostError('package', message, { file });
const list = (names: readonly string[]): string => names.join(', ');

/**
 * The sample's span widened by a 10 % margin each side, rounded outward to a readable step (a tenth
 * of the margin's order of magnitude). The margin never takes the floor below 0 when the sample has
 * no negative values (prices, counts, durations): `floored` says it was held at 0.
 */
export function niceRange(min: number, max: number): { min: number; max: number; floored: boolean } {
  const span = max - min;
  const margin = span > 0 ? span * 0.1 : Math.max(1, Math.abs(max) * 0.1);
  const step = 10 ** (Math.floor(Math.log10(margin)) );
  let lo = Math.floor((min - margin) / step) * step;
  const hi = Math.ceil((max + margin) / step) * step;
  const floored = min >= 0 && lo < 0;
  if (floored) lo = 0;
  const clean = (x: number) => Number(x.toPrecision(12));
  return { min: clean(lo), max: clean(hi), floored };
}

function featureType(dtype: ElemType): FeatureType {
  if (dtype === 'string') return 'category';
  if (dtype === 'bool') return 'bool';
  if (dtype === 'int64' || dtype === 'int32' || dtype === 'uint8' || dtype === 'int8') return 'int';
  return 'float';
}

/** Every value is a boolean spelling (true/false, yes/no, t/f, 1/0). */
const booleanColumn = (p: ColumnProfile): boolean => p.distinct !== undefined && p.distinct.length > 0 && p.distinct.every((v) => BOOL_TEXT.has(v.trim().toLowerCase()));

function describeField(p: ColumnProfile, name: string, dtype: ElemType, graphInput: string, guessed: string[], check: string[], sampleFile: string): InputField {
  // yes/no, true/false columns feed numeric inputs as 1/0
  const type = dtype !== 'string' && p.nonNumeric > 0 && booleanColumn(p) ? 'bool' : featureType(dtype);
  const where = `sample column "${p.name}" (for graph input "${graphInput}", ${dtype})`;
  if (type !== 'category' && type !== 'bool' && p.nonNumeric > 0) {
    throw fail(`${where} has ${p.nonNumeric} value${p.nonNumeric === 1 ? '' : 's'} that ${p.nonNumeric === 1 ? 'is' : 'are'} not numbers (first: row ${p.firstNonNumeric?.row}: ${JSON.stringify(p.firstNonNumeric?.text)}); the graph takes numbers there — pick the right columns with --features`, sampleFile);
  }
  const field: InputField = { name, type, nullable: p.missing > 0 };
  if (p.missing > 0 && !['float', 'double', 'string'].includes(dtype)) {
    throw fail(`${where} has ${p.missing} missing value${p.missing === 1 ? '' : 's'}, but a ${dtype} input has no way to say "missing"; fill them in the sample (and in the data you score) or export the model with a float input`, sampleFile);
  }
  if (type === 'category') {
    if (!p.distinct) throw fail(`${where} has more than ${MAX_DISTINCT} distinct values; a category feature needs a vocabulary`, sampleFile);
    field.vocabulary = [...p.distinct].sort();
    guessed.push(`${name}: category, vocabulary of ${field.vocabulary.length} from the sample${field.nullable ? ', nullable' : ''}`);
    if (field.vocabulary.length > MAX_VOCABULARY) check.push(`${name}: ${field.vocabulary.length} categories — is it really a category, not an id or free text?`);
    check.push(`${name}: values outside the vocabulary are rejected rows; add any category production data can have that the sample lacks`);
    return field;
  }
  if (p.rows - p.missing === 0) throw fail(`${where} is empty in the sample: no range can be guessed`, sampleFile);
  if (type === 'bool') {
    guessed.push(`${name}: bool (${[...p.distinct ?? []].sort().join('/')} → 1/0)${field.nullable ? ', nullable' : ''}`);
    return field;
  }
  const r = niceRange(p.min, p.max);
  field.range = { min: r.min, max: r.max };
  guessed.push(`${name}: ${type}, range ${field.range.min} … ${field.range.max} (sample ${p.min} … ${p.max}, with a margin${r.floored ? '; not below 0: the sample has no negative values' : ''})${field.nullable ? `, nullable (${p.missing} missing in the sample)` : ''}`);
  return field;
}

/** The sample columns that can feed an [N, F] input: not the target, not ignored, not already used. */
function candidates(profiles: readonly ColumnProfile[], req: InitRequest, used: ReadonlySet<string>, dtype: ElemType): { all: string[]; fit: string[] } {
  const all = profiles.map((p) => p.name).filter((n) => n !== req.target && !req.ignore?.includes(n) && !used.has(n));
  const wantNumbers = dtype !== 'string';
  const numeric = (p: ColumnProfile) => p.nonNumeric === 0 || booleanColumn(p);
  const fit = all.filter((n) => numeric(profiles.find((p) => p.name === n)!) === wantNumbers);
  return { all, fit };
}

export function inferCard(graph: ModelInfo, profiles: readonly ColumnProfile[], req: InitRequest): InitResult {
  const guessed: string[] = [];
  const check: string[] = [];
  const byName = new Map(profiles.map((p) => [p.name, p]));
  if (req.target !== undefined && !byName.has(req.target)) throw usage(`--target "${req.target}" is not a column of the sample (it has: ${list(profiles.map((p) => p.name))})`);
  for (const n of [...(req.features ?? []), ...(req.ignore ?? [])]) if (!byName.has(n)) throw usage(`"${n}" (from --features/--ignore) is not a column of the sample (it has: ${list(profiles.map((p) => p.name))})`);

  // ---- inputs ----
  const inputs: InputField[] = [];
  const tensors: TensorMapping[] = [];
  const used = new Set<string>();
  let explicit = req.features ? [...req.features] : undefined;
  for (const g of graph.inputs) {
    if (g.nonTensor || !NUMERIC.concat(['string']).includes(g.type)) throw fail(`graph input "${g.name}" is a ${g.nonTensor ?? g.type}; Outpost feeds tensors of numbers or strings`, req.modelFile);
    const fixed = fixedBatchProblem(g);
    if (fixed) throw fail(fixed, req.modelFile);
    const perRow = g.shape.length === 1 || (g.shape.length === 2 && g.shape[1] === 1);
    if (perRow) {
      const p = byName.get(g.name);
      if (!p) throw fail(`graph input "${g.name}" takes one value per row, but the sample has no column "${g.name}" (it has: ${list(profiles.map((x) => x.name))}); name the sample's column like the graph input`, req.sampleFile);
      inputs.push(describeField(p, g.name, g.type, g.name, guessed, check, req.sampleFile));
      used.add(g.name);
      continue;
    }
    if (g.shape.length !== 2) throw fail(`graph input "${g.name}" has shape [${g.shape.join(', ')}]; Outpost feeds [N] or [N, F] inputs (one row of features per record)`, req.modelFile);
    const width = typeof g.shape[1] === 'number' ? g.shape[1] : undefined;
    let names: string[];
    if (explicit) {
      const take = width ?? explicit.length;
      if (explicit.length < take) throw usage(`--features lists ${explicit.length} column${explicit.length === 1 ? '' : 's'} but graph input "${g.name}" takes ${take} per row [${g.shape.join(', ')}]`);
      names = explicit.slice(0, take);
      explicit = explicit.slice(take);
      guessed.push(`${g.name} [${g.shape.join(', ')}]: columns ${list(names)} (from --features)`);
    } else {
      const c = candidates(profiles, req, used, g.type);
      const pick = width === undefined ? c.fit : c.all.length === width ? c.all : c.fit.length === width ? c.fit : undefined;
      if (!pick || !pick.length) {
        throw usage(`graph input "${g.name}" takes ${width ?? 'several'} values per row [${g.shape.join(', ')}], but the sample has ${c.all.length} candidate column${c.all.length === 1 ? '' : 's'} (${list(c.all)}${req.target ? `; target "${req.target}" left out` : ''}), ${c.fit.length} of them ${g.type === 'string' ? 'text' : 'numeric'}: name them in training order with --features a,b,c (or leave some out with --ignore)`);
      }
      names = pick;
      guessed.push(`${g.name} [${g.shape.join(', ')}]: columns ${list(names)}, in the sample's column order`);
      check.push(`${g.name}: the model sees these columns in this order: ${list(names)}; it must be the order of training (scikit-learn: the DataFrame's columns; PyTorch: your feature vector) — else pass --features`);
    }
    for (const n of names) {
      if (used.has(n)) throw usage(`column "${n}" would feed two graph inputs`);
      used.add(n);
      inputs.push(describeField(byName.get(n)!, n, g.type, g.name, guessed, check, req.sampleFile));
    }
    tensors.push({ input: g.name, features: names });
  }
  if (explicit && explicit.length) throw usage(`--features lists ${explicit.length} more column${explicit.length === 1 ? '' : 's'} than the graph's inputs take (${list(explicit)})`);

  // ---- outputs ----
  const served = servingInterface(graph);
  const zipmaps = findZipMaps(graph);
  const labels = graphClassLabels(graph);
  const tensorOuts = served.outputs.filter((o) => !o.nonTensor);
  const isColumn = (v: ValueInfo) => v.shape.length === 1 || (v.shape.length === 2 && v.shape[1] === 1);
  const floatOut = (v: ValueInfo) => v.type === 'float' || v.type === 'double';
  const producer = (name: string) => graph.nodes.find((n) => n.outputs.includes(name));
  const target = req.target !== undefined ? byName.get(req.target) : undefined;
  let task: Card['task'];
  const outputs: OutputMapping = {};

  if (labels) {
    // a scikit-learn classifier: the graph names its classes
    const classes = labels.labels;
    const probs = zipmaps[0] ? tensorOuts.find((o) => o.name === zipmaps[0].input) : tensorOuts.find((o) => floatOut(o) && o.shape.length === 2 && o.shape[1] === classes.length);
    const label = tensorOuts.find((o) => (o.type === 'int64' || o.type === 'int32' || o.type === 'string') && isColumn(o));
    if (!probs && !label) throw fail(`the graph declares class labels (${labels.source}) but has no probability [N, ${classes.length}] or label output ONNX Runtime can return (outputs: ${list(graph.outputs.map((o) => `${o.name} ${o.nonTensor ?? o.type}`))})`, req.modelFile);
    if (classes.length < 2) throw fail(`the graph declares ${classes.length} class label (${labels.source}); a classifier needs at least 2`, req.modelFile);
    task = classes.length === 2 ? 'binary' : 'multiclass';
    if (label) outputs.label = label.name;
    if (probs) outputs.probabilities = probs.name;
    outputs.classes = classes;
    if (label && label.type !== 'string' && labels.type === 'int64' && !classes.every((c, i) => c === String(i))) outputs.labelEncoding = 'class';
    guessed.push(`${task} classifier; classes ${list(classes)} (${labels.source})`);
    if (zipmaps.length) guessed.push(`probabilities: "${zipmaps[0].input}", the tensor feeding ZipMap "${zipmaps[0].node}" (its sequence-of-maps output "${zipmaps[0].output}" is replaced in memory when the model loads; the file stays as exported)`);
    else if (probs) guessed.push(`probabilities: "${probs.name}"`);
    if (label) guessed.push(`label: "${label.name}"${outputs.labelEncoding ? ' (the class value itself, "labelEncoding": "class")' : ''}`);
    if (req.classes) check.push('--classes ignored: the graph names its classes');
    if (target?.distinct) {
      const unknown = target.distinct.filter((v) => !classes.includes(v));
      if (unknown.length) check.push(`target "${req.target}" has values the graph does not know as classes: ${list(unknown.slice(0, 8))}`);
    }
  } else {
    const wide = tensorOuts.filter((o) => floatOut(o) && o.shape.length === 2 && o.shape[1] !== 1);
    const column = tensorOuts.filter((o) => floatOut(o) && isColumn(o));
    if (wide.length) {
      // a classifier without recorded labels (PyTorch): classes from --classes or the target
      const out = wide[0];
      const k = typeof out.shape[1] === 'number' ? out.shape[1] : undefined;
      let classes = req.classes;
      let from = '--classes';
      if (!classes) {
        if (!target) throw usage(`output "${out.name}" [${out.shape.join(', ')}] looks like class probabilities but the graph records no class names: give --target COL (the sample's label column) or --classes a,b,c in output-column order`);
        if (!target.distinct) throw usage(`target "${req.target}" has more than ${MAX_DISTINCT} distinct values; give --classes`);
        classes = target.nonNumeric === 0 ? [...target.distinct].sort((a, b) => Number(a) - Number(b)) : [...target.distinct].sort();
        from = `the distinct values of target "${req.target}", sorted`;
        check.push(`classes: ${list(classes)} — sorted as scikit-learn's LabelEncoder and torch-style class indexes usually are; if output column i is another class, pass --classes in output order`);
      }
      if (k !== undefined && classes.length !== k) throw usage(`output "${out.name}" has ${k} columns but ${from} gives ${classes.length} classes (${list(classes)}): pass --classes with ${k} names in output-column order`);
      if (classes.length < 2) throw usage('a classifier needs at least 2 classes');
      task = classes.length === 2 ? 'binary' : 'multiclass';
      outputs.probabilities = out.name;
      outputs.classes = classes;
      guessed.push(`${task} classifier; probabilities "${out.name}"; classes ${list(classes)} (from ${from})`);
      const last = producer(out.name);
      if (!last || !['Softmax', 'Sigmoid'].includes(last.op)) {
        check.push(`"${out.name}" is produced by ${last ? `${last.op} "${last.name}"` : 'no node'}, not Softmax: if it holds logits, scores would be logits written as probabilities — export the model with a softmax at the end`);
      }
    } else if (column.length) {
      const out = column[0];
      const last = producer(out.name);
      if (last?.op === 'Sigmoid') {
        // a binary classifier with a sigmoid head: P(classes[1]) per row
        let classes = req.classes;
        let from = '--classes';
        if (!classes) {
          if (!target) throw usage(`output "${out.name}" [${out.shape.join(', ')}] is one sigmoid probability per row (a binary classifier) but the graph records no class names: give --target COL (the sample's label column) or --classes negative,positive`);
          if (!target.distinct) throw usage(`target "${req.target}" has more than ${MAX_DISTINCT} distinct values; give --classes negative,positive`);
          classes = target.nonNumeric === 0 ? [...target.distinct].sort((a, b) => Number(a) - Number(b)) : [...target.distinct].sort();
          from = `the distinct values of target "${req.target}", sorted`;
        }
        if (classes.length !== 2) throw usage(`output "${out.name}" is one sigmoid probability per row, so the model has 2 classes, but ${from} gives ${classes.length} (${list(classes)}): pass --classes negative,positive`);
        task = 'binary';
        outputs.probabilities = out.name;
        outputs.classes = classes;
        guessed.push(`binary classifier; "${out.name}" (Sigmoid "${last.name}") is the probability of "${classes[1]}", "${classes[0]}" gets 1 − p; classes from ${from}`);
        check.push(`classes: "${classes[1]}" is taken as the positive class (the one the sigmoid scores); if it is "${classes[0]}", pass --classes ${classes[1]},${classes[0]}`);
      } else {
        task = 'regression';
        outputs.value = out.name;
        guessed.push(`regression; value "${out.name}" [${out.shape.join(', ')}]`);
        if (target && target.nonNumeric > 0) check.push(`target "${req.target}" is not numeric, but the model looks like a regressor`);
      }
    } else {
      throw fail(`no output ONNX Runtime can return looks like class probabilities [N, classes] or a value [N, 1] (outputs: ${list(graph.outputs.map((o) => `${o.name} ${o.nonTensor ?? `${o.type} [${o.shape.join(', ')}]`}`))})`, req.modelFile);
    }
  }
  const strict = inputs.filter((f) => !f.nullable && f.type !== 'category').map((f) => f.name);
  if (strict.length) check.push(`${list(strict)}: no missing values in the sample, so a missing value is a rejected row; set "nullable": true where the model handles NaN`);
  check.push('ranges: a value outside a feature\'s range is a rejected row; widen "range" where production data may go further than the sample');
  check.push('lineage: the sample is recorded as the training data (rows, sha256); edit "lineage" if it is not');
  const extra = profiles.map((p) => p.name).filter((n) => !used.has(n) && n !== req.target);
  if (extra.length) guessed.push(`not used by the model: ${list(extra)}`);

  const card: Card = {
    format: CARD_FORMAT,
    name: req.name,
    version: req.version,
    task,
    description: `Imported with outpost models init from ${req.modelFile.split(/[\\/]/).pop()}${graph.producer ? ` (exported by ${graph.producer}${graph.producerVersion ? ` ${graph.producerVersion}` : ''})` : ''}.`,
    inputs,
    ...(tensors.length ? { tensors } : {}),
    outputs,
    lineage: {
      trainingDataHash: req.sampleSha256,
      trainingRows: req.sampleRows,
      createdAt: (req.now ?? new Date()).toISOString(),
      recipe: { importedBy: 'outpost models init', producer: graph.producer || null, producerVersion: graph.producerVersion || null, sample: req.sampleFile.split(/[\\/]/).pop(), ...(req.target ? { target: req.target } : {}) },
    },
  };
  return { card, guessed, check };
}
