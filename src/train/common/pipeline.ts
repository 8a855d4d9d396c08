// The training pipeline: table + recipe → model package (graph bytes + card). Pure and synchronous,
// so it runs the same in a CLI worker, a retrain job or a test. Steps: check the recipe against the
// table, split train/validation (time cut or seeded fraction), infer the task and the input schema
// from the training rows, fit each candidate algorithm, evaluate on validation, keep the best, and
// build the card (inputs, outputs, validation metrics, drift baseline of the training rows, lineage
// with the recipe that refits it). Nothing here writes files.
import { OutpostError } from '../../common/errors.ts';
import type { Baseline } from '../../drift/common/index.ts';
import { computeModelBaseline } from '../../monitor/common/model-baseline.ts';
import type { Card, InputField } from '../../package/common/card.ts';
import { CARD_FORMAT, parseCard } from '../../package/common/card.ts';
import { TRAINER_VERSION } from './card.ts';
import { OUTPUT_NAMES } from './export.ts';
import { fitGbdt, fitGbdtPooled, type HistogramPool } from './gbdt.ts';
import type { Algo, FittedModel, LearnerInput, NetworkFitter, StepEvent } from './learner.ts';
import { ALGOS } from './learner.ts';
import { accuracy, logLoss, meanAbsoluteError, rocAuc, rootMeanSquaredError, rSquared } from './metrics.ts';
import type { Task } from './model.ts';
import { fitNeural, fitNeuralWith } from './neural.ts';
import type { Dataset, FeatureSpec } from './preprocess.ts';
import { createRng } from './random.ts';
import { inferSchema } from './schema.ts';
import { isTextColumn, takeRows, type TrainTable } from './table.ts';

export type Split =
  | { kind: 'time'; column: string; validFrom: string }
  | { kind: 'fraction'; fraction: number };

/** Everything needed to train (and later retrain on new data): stored in the card's lineage. */
export interface TrainRecipe {
  target: string;
  /** feature columns, in the order the card lists them */
  features: string[];
  /** the task; inferred from the target when absent (text or two distinct numbers: classifier; else regression) */
  task?: Task;
  /** one algorithm, or 'auto' (each candidate, the best validation loss wins) */
  algo: Algo | 'auto';
  /** 'auto' only: the candidates (default all) */
  candidates?: Algo[];
  split: Split;
  seed: number;
  /** per-algorithm settings; missing ones take defaults (resolved values land in the lineage) */
  params?: Partial<Record<Algo, Record<string, unknown>>>;
  /** overrides of the inferred input schema (a card's `inputs`, or part of them) */
  schema?: InputField[];
}

export interface PackageInfo {
  name: string;
  version: number;
  description?: string;
  /** sha256 of the training file's bytes */
  dataSha256?: string;
  /** where the data came from (file name), for the lineage */
  dataSource?: string;
  /** lineage.createdAt; omit for byte-reproducible cards */
  createdAt?: string;
}

export type TrainEvent =
  | { event: 'stage'; stage: 'split' | 'schema' | 'fit' | 'evaluate' | 'baseline'; message: string }
  | ({ event: 'step'; algo: Algo } & StepEvent)
  | { event: 'candidate'; algo: Algo; metrics: Record<string, number>; fitSeconds: number; summary: Record<string, number | string> };

export interface TrainHooks {
  onEvent?: (e: TrainEvent) => void;
  /** logreg / MLP weights from this engine instead of the TypeScript trainer (same batches, init and math) */
  networkFitter?: NetworkFitter;
  /** gbdt: build histograms on this pool's threads (node: src/train/node/gbdt-pool.ts); same model bytes as without */
  histogramPool?: HistogramPool;
  signal?: { readonly aborted: boolean };
  /** wall-clock seconds (injected: the pure core has no clock of its own) */
  now?: () => number;
}

export interface CandidateResult { algo: Algo; metrics: Record<string, number>; fitSeconds: number; summary: Record<string, number | string>; params: Record<string, unknown> }

export interface TrainResult {
  modelBytes: Uint8Array;
  card: Card;
  algo: Algo;
  task: Task;
  /** validation metrics of the chosen model */
  metrics: Record<string, number>;
  candidates: CandidateResult[];
  trainRows: number;
  validRows: number;
  warnings: string[];
  /** the chosen model: its own predictions (what the graph computes) for any rows with the feature columns */
  model: FittedModel;
}

export const MIN_TRAIN_ROWS = 10;
export const MIN_VALID_ROWS = 5;

const usage = (message: string, field?: string): OutpostError => new OutpostError('usage', message, field !== undefined ? { field } : {});

/** Throws a usage error for a recipe that cannot be right whatever the data. */
export function checkRecipe(r: TrainRecipe, columns: readonly string[]): void {
  const has = new Set(columns);
  if (!has.has(r.target)) throw new OutpostError('input', `no target column "${r.target}" (the data has: ${columns.join(', ')})`, { field: r.target });
  if (r.features.length === 0) throw usage('no feature columns: the data has only the target (and the time column)');
  const missing = r.features.filter((f) => !has.has(f));
  if (missing.length) throw new OutpostError('input', `no feature column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (the data has: ${columns.join(', ')})`);
  if (r.features.includes(r.target)) throw usage(`the target "${r.target}" is also listed as a feature`, r.target);
  const dup = r.features.find((f, i) => r.features.indexOf(f) !== i);
  if (dup !== undefined) throw usage(`feature "${dup}" is listed twice`, dup);
  if (r.algo !== 'auto' && !ALGOS.includes(r.algo)) throw usage(`unknown algorithm "${String(r.algo)}" (one of ${ALGOS.join(', ')}, auto)`);
  if (!Number.isInteger(r.seed)) throw usage('the seed must be an integer');
  if (r.split.kind === 'fraction' && !(r.split.fraction > 0 && r.split.fraction < 1)) throw usage(`the validation fraction must be between 0 and 1 (got ${r.split.fraction})`);
  if (r.split.kind === 'time') {
    if (!has.has(r.split.column)) throw new OutpostError('input', `no time column "${r.split.column}"`, { field: r.split.column });
    if (r.features.includes(r.split.column)) throw usage(`the time column "${r.split.column}" is also listed as a feature`, r.split.column);
    if (r.split.column === r.target) throw usage('the time column is the target', r.split.column);
  }
  for (const f of r.features) if (f.startsWith('outpost/')) throw usage(`a feature name may not start with "outpost/"`, f);
}

function checkOutputNames(features: readonly string[], task: Task): void {
  const reserved: string[] = task === 'regression' ? [OUTPUT_NAMES.value] : [OUTPUT_NAMES.label, OUTPUT_NAMES.probabilities];
  const clash = features.find((f) => reserved.includes(f));
  if (clash !== undefined) throw usage(`a feature of a ${task} model may not be called "${clash}": the exported graph's output has that name (rename the column or leave it out with --features)`, clash);
}

/** Row indexes of the training and validation parts. */
export function splitRows(t: TrainTable, split: Split, seed: number): { train: Uint32Array; valid: Uint32Array } {
  const train: number[] = [];
  const valid: number[] = [];
  if (split.kind === 'fraction') {
    const order = createRng(seed ^ 0x5eed).shuffle(Uint32Array.from({ length: t.rows }, (_, i) => i));
    const nValid = Math.round(t.rows * split.fraction);
    const isValid = new Uint8Array(t.rows);
    for (let i = 0; i < nValid; i++) isValid[order[i]] = 1;
    for (let i = 0; i < t.rows; i++) (isValid[i] ? valid : train).push(i);
  } else {
    const c = t.columns[split.column];
    if (isTextColumn(c)) {
      const cut = Date.parse(split.validFrom);
      const asTime = Number.isFinite(cut);
      for (let i = 0; i < t.rows; i++) {
        const v = c[i];
        if (v === null) throw new OutpostError('input', 'missing time value: every row needs one to be split', { row: i + 1, field: split.column });
        let late: boolean;
        if (asTime) {
          const x = Date.parse(v);
          if (!Number.isFinite(x)) throw new OutpostError('input', `not a date/time: ${JSON.stringify(v)}`, { row: i + 1, field: split.column });
          late = x >= cut;
        } else late = v >= split.validFrom;
        (late ? valid : train).push(i);
      }
    } else {
      const cut = Number(split.validFrom);
      if (split.validFrom.trim() === '' || !Number.isFinite(cut)) throw usage(`the time column "${split.column}" holds numbers: --valid-from must be a number (got "${split.validFrom}")`);
      for (let i = 0; i < t.rows; i++) {
        const x = (c as ArrayLike<number>)[i];
        if (Number.isNaN(x)) throw new OutpostError('input', 'missing time value: every row needs one to be split', { row: i + 1, field: split.column });
        (x >= cut ? valid : train).push(i);
      }
    }
  }
  return { train: Uint32Array.from(train), valid: Uint32Array.from(valid) };
}

interface TargetInfo { task: Task; classes?: string[]; column: (string | null)[] | Float64Array }

/** The task and the target column as the learners want it (class names, or numbers). */
export function prepareTarget(t: TrainTable, target: string, task: Task | undefined, trainIdx: Uint32Array): TargetInfo {
  const c = t.columns[target];
  const where = (i: number) => ({ row: i + 1, field: target });
  if (isTextColumn(c)) {
    if (task === 'regression') throw new OutpostError('input', 'regression needs a numeric target; this column holds text', { field: target });
    const seen = new Set<string>();
    for (let i = 0; i < t.rows; i++) {
      const v = c[i];
      if (v === null) throw new OutpostError('input', 'missing target value (every training row needs one)', where(i));
      seen.add(v);
    }
    const classes = [...seen].sort();
    return finishClasses(classes, c as (string | null)[], task, target, trainIdx);
  }
  const v = c as Float64Array;
  const distinct = new Set<number>();
  for (let i = 0; i < t.rows; i++) {
    if (Number.isNaN(v[i])) throw new OutpostError('input', 'missing (or NaN) target value (every training row needs one)', where(i));
    if (!Number.isFinite(v[i])) throw new OutpostError('input', `target is not finite: ${v[i]}`, where(i));
    if (distinct.size <= 2) distinct.add(v[i]);
  }
  if (distinct.size === 1) throw new OutpostError('input', `the target is constant (${[...distinct][0]} in every row): nothing to learn`, { field: target });
  const asClasses = task === 'binary' || task === 'multiclass' || (task === undefined && distinct.size === 2);
  if (!asClasses) return { task: 'regression', column: v };
  const all = new Set<number>();
  for (let i = 0; i < t.rows; i++) all.add(v[i]);
  const classes = [...all].sort((a, b) => a - b).map(String);
  return finishClasses(classes, Array.from(v, String), task, target, trainIdx);
}

function finishClasses(classes: string[], column: (string | null)[], task: Task | undefined, target: string, trainIdx: Uint32Array): TargetInfo {
  if (classes.length < 2) throw new OutpostError('input', `the target has one class ("${classes[0]}") in every row: a classifier needs at least 2`, { field: target });
  if (task === 'binary' && classes.length !== 2) throw new OutpostError('input', `a binary classifier needs exactly 2 classes; the target has ${classes.length}`, { field: target });
  if (classes.length > 100) throw new OutpostError('input', `the target has ${classes.length} distinct values: too many classes (at most 100); pass --task regression for a numeric target`, { field: target });
  const inTrain = new Set<string>();
  for (const i of trainIdx) inTrain.add(column[i]!);
  const absent = classes.filter((k) => !inTrain.has(k));
  if (absent.length) throw new OutpostError('input', `class${absent.length > 1 ? 'es' : ''} ${absent.map((a) => `"${a}"`).join(', ')} occur only in the validation rows: the model could never predict them`, { field: target });
  return { task: task ?? (classes.length === 2 ? 'binary' : 'multiclass'), classes, column };
}

function evaluate(task: Task, classes: string[] | undefined, truth: TargetInfo['column'], pred: ReturnType<FittedModel['predict']>): Record<string, number> {
  if (task === 'regression') {
    const y = truth as Float64Array;
    const p = pred.values!;
    return { rmse: rootMeanSquaredError(y, p), mae: meanAbsoluteError(y, p), r2: rSquared(y, p) };
  }
  const k = classes!.length;
  const index = new Map(classes!.map((c, i) => [c, i]));
  const labels = Int32Array.from(truth as (string | null)[], (v) => index.get(v!) ?? -1);
  const probs = pred.probabilities!;
  const n = labels.length;
  const predicted = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
    predicted[i] = best;
  }
  const out: Record<string, number> = { logLoss: logLoss(labels, { rows: n, cols: k, data: probs }), accuracy: accuracy(labels, predicted) };
  if (task === 'binary') {
    const p1 = new Float64Array(n);
    for (let i = 0; i < n; i++) p1[i] = probs[i * 2 + 1];
    out.auc = rocAuc(Uint8Array.from(labels), p1);
  }
  return out;
}

/** The validation loss that picks among candidates: log-loss for classifiers, RMSE for regression. */
const selectionMetric = (task: Task): string => (task === 'regression' ? 'rmse' : 'logLoss');

/** What the pipeline asks its driver to fit (the driver is sync or async; the steps are the same). */
interface FitRequest { algo: Algo; input: LearnerInput }

function fitSync(r: FitRequest): FittedModel {
  return r.algo === 'gbdt' ? fitGbdt(r.input) : fitNeural(r.algo, r.input);
}

async function fitAsync(r: FitRequest, hooks: TrainHooks): Promise<FittedModel> {
  const fitter = hooks.networkFitter;
  if (r.algo === 'gbdt' && hooks.histogramPool) return fitGbdtPooled(r.input, hooks.histogramPool);
  if (r.algo === 'gbdt' || !fitter) return fitSync(r);
  return fitNeuralWith(r.algo, r.input, fitter);
}

/**
 * Train and package, synchronously (the TypeScript trainers). A retrain calls this with the
 * champion's recipe (`recipeFromCard`) on new rows.
 */
export function trainPackage(table: TrainTable, recipe: TrainRecipe, info: PackageInfo, hooks: TrainHooks = {}): TrainResult {
  if (hooks.networkFitter || hooks.histogramPool) throw new OutpostError('usage', 'a network fitter (graph training) or a histogram pool needs trainPackageAsync');
  const steps = pipeline(table, recipe, info, hooks);
  let step = steps.next();
  while (!step.done) {
    let fitted: FittedModel;
    try {
      fitted = fitSync(step.value);
    } catch (e) {
      step = steps.throw(e);
      continue;
    }
    step = steps.next(fitted);
  }
  return step.value;
}

/** trainPackage that can await injected engines: logreg/MLP weights (`hooks.networkFitter`: ONNX Runtime graph steps), gbdt histograms on threads (`hooks.histogramPool`). */
export async function trainPackageAsync(table: TrainTable, recipe: TrainRecipe, info: PackageInfo, hooks: TrainHooks = {}): Promise<TrainResult> {
  const steps = pipeline(table, recipe, info, hooks);
  let step = steps.next();
  while (!step.done) {
    let fitted: FittedModel;
    try {
      fitted = await fitAsync(step.value, hooks);
    } catch (e) {
      step = steps.throw(e);
      continue;
    }
    step = steps.next(fitted);
  }
  return step.value;
}

function inputField(f: FeatureSpec): InputField {
  return {
    name: f.name,
    type: f.type,
    nullable: f.nullable ?? false,
    ...(f.range ? { range: { ...f.range } } : {}),
    ...(f.vocabulary ? { vocabulary: [...f.vocabulary] } : {}),
    ...(f.unit !== undefined ? { unit: f.unit } : {}),
    ...(f.description !== undefined ? { description: f.description } : {}),
  };
}

function* pipeline(table: TrainTable, recipe: TrainRecipe, info: PackageInfo, hooks: TrainHooks): Generator<FitRequest, TrainResult, FittedModel> {
  const emit = hooks.onEvent ?? (() => {});
  const now = hooks.now ?? (() => 0);
  checkRecipe(recipe, Object.keys(table.columns));
  const warnings: string[] = [];

  const { train: trainIdx, valid: validIdx } = splitRows(table, recipe.split, recipe.seed);
  const splitText = recipe.split.kind === 'time' ? `${recipe.split.column} < ${recipe.split.validFrom} trains, ≥ validates` : `a seeded ${Math.round(recipe.split.fraction * 100)} % validates`;
  emit({ event: 'stage', stage: 'split', message: `${trainIdx.length.toLocaleString('en-US')} training rows, ${validIdx.length.toLocaleString('en-US')} validation rows (${splitText})` });
  if (table.rows < MIN_TRAIN_ROWS + MIN_VALID_ROWS) throw new OutpostError('input', `too few rows: ${table.rows} (at least ${MIN_TRAIN_ROWS + MIN_VALID_ROWS} are needed: ${MIN_TRAIN_ROWS} to train, ${MIN_VALID_ROWS} to validate)`);
  if (trainIdx.length < MIN_TRAIN_ROWS) throw new OutpostError('input', `too few training rows: ${trainIdx.length} (at least ${MIN_TRAIN_ROWS}); move the split`);
  if (validIdx.length < MIN_VALID_ROWS) throw new OutpostError('input', `too few validation rows: ${validIdx.length} (at least ${MIN_VALID_ROWS}); move the split`);

  const target = prepareTarget(table, recipe.target, recipe.task, trainIdx);
  checkOutputNames(recipe.features, target.task);
  const trainTable = takeRows(table, trainIdx, recipe.features);
  const validTable = takeRows(table, validIdx, recipe.features);
  const specs = inferSchema(trainTable, recipe.features, recipe.schema);
  emit({ event: 'stage', stage: 'schema', message: `${target.task}${target.classes ? ` (${target.classes.join(', ')})` : ''}; inputs ${specs.map((s) => `${s.name}: ${s.type}${s.nullable ? '?' : ''}`).join(', ')}` });

  // Validation values the training rows never showed: how the model treats them, said once.
  for (const s of specs) {
    if (s.type === 'category') {
      const vocab = new Set(s.vocabulary);
      const col = validTable.columns[s.name] as (string | null)[];
      let unseen = 0;
      for (const v of col) if (v !== null && !vocab.has(v)) unseen++;
      if (!s.nullable && col.some((v) => v === null)) {
        s.nullable = true;
        warnings.push(`"${s.name}" is missing in validation rows only: declared nullable`);
      }
      if (unseen) warnings.push(`${unseen.toLocaleString('en-US')} validation row${unseen === 1 ? '' : 's'} of "${s.name}" hold categories the training rows never had: the model treats them as missing there, and the card's vocabulary rejects them when scoring`);
    } else if (!s.nullable) {
      const col = validTable.columns[s.name] as Float64Array;
      let miss = 0;
      for (const v of col) if (Number.isNaN(v)) miss++;
      if (miss) {
        s.nullable = true;
        warnings.push(`"${s.name}" is missing in ${miss} validation row${miss === 1 ? '' : 's'} only: declared nullable`);
      }
    }
  }
  const column = (idx: Uint32Array) => (target.column instanceof Float64Array ? Float64Array.from(idx, (i) => (target.column as Float64Array)[i]) : Array.from(idx, (i) => (target.column as (string | null)[])[i]));
  const TARGET = '\u0000target';
  const trainData: Dataset = { rows: trainTable.rows, columns: { ...trainTable.columns, [TARGET]: column(trainIdx) } };
  const validTruth = column(validIdx);

  const algos: Algo[] = recipe.algo === 'auto' ? [...(recipe.candidates ?? ALGOS)] : [recipe.algo];
  const candidates: (CandidateResult & { fitted: FittedModel })[] = [];
  for (const algo of algos) {
    emit({ event: 'stage', stage: 'fit', message: `fitting ${algo}` });
    const t0 = now();
    let fitted: FittedModel;
    try {
      fitted = yield { algo, input: {
        task: target.task,
        features: specs.map((s) => ({ ...s, ...(s.vocabulary ? { vocabulary: [...s.vocabulary] } : {}) })),
        train: trainData,
        valid: { rows: validTable.rows, columns: { ...validTable.columns, [TARGET]: validTruth } },
        target: TARGET,
        ...(target.classes ? { classes: target.classes } : {}),
        seed: recipe.seed,
        params: recipe.params?.[algo] ?? {},
        hooks: { onStep: (e) => emit({ event: 'step', algo, ...e }), ...(hooks.signal ? { signal: hooks.signal } : {}) },
      } };
    } catch (e) {
      // 'auto' carries on without a candidate that cannot run on this data (say so); one algorithm fails.
      if (recipe.algo === 'auto' && e instanceof OutpostError && e.code === 'input' && e.location.row === undefined) {
        warnings.push(`${algo} skipped: ${e.message}`);
        continue;
      }
      throw e;
    }
    const fitSeconds = now() - t0;
    emit({ event: 'stage', stage: 'evaluate', message: `evaluating ${algo} on the validation rows` });
    const metrics = evaluate(target.task, target.classes, validTruth, fitted.predict(validTable));
    emit({ event: 'candidate', algo, metrics, fitSeconds, summary: fitted.summary });
    candidates.push({ algo, metrics, fitSeconds, summary: fitted.summary, params: fitted.params, fitted });
  }
  if (candidates.length === 0) throw new OutpostError('input', `no algorithm could be trained: ${warnings.join('; ')}`);
  const key = selectionMetric(target.task);
  const best = candidates.reduce((a, b) => (b.metrics[key] < a.metrics[key] ? b : a));

  emit({ event: 'stage', stage: 'baseline', message: 'drift baseline of the training rows' });
  const modelBytes = best.fitted.exportOnnx(info.name);
  const outputs: Card['outputs'] = target.task === 'regression'
    ? { value: OUTPUT_NAMES.value }
    : { label: OUTPUT_NAMES.label, probabilities: OUTPUT_NAMES.probabilities, classes: target.classes! };
  const resolved: TrainRecipe & { algo: Algo } = {
    target: recipe.target,
    features: [...recipe.features],
    task: target.task,
    algo: best.algo,
    split: { ...recipe.split },
    seed: recipe.seed,
    params: { [best.algo]: best.params },
    ...(recipe.schema ? { schema: recipe.schema } : {}),
  };
  const metrics: Record<string, number> = { validRows: validIdx.length };
  for (const [k, v] of Object.entries(best.metrics)) if (Number.isFinite(v)) metrics[`valid${k[0].toUpperCase()}${k.slice(1)}`] = v;
  const raw = {
    format: CARD_FORMAT,
    name: info.name,
    version: info.version,
    task: target.task,
    ...(info.description !== undefined ? { description: info.description } : {}),
    inputs: specs.map(inputField),
    outputs,
    metrics,
    lineage: {
      ...(info.dataSha256 !== undefined ? { trainingDataHash: info.dataSha256 } : {}),
      trainingRows: trainIdx.length,
      codeVersion: TRAINER_VERSION,
      recipe: {
        ...resolved,
        provider: best.fitted.provider ?? 'cpu',
        trainer: best.fitted.engine ?? `typescript ${best.algo}`,
        ...(info.dataSource !== undefined ? { data: info.dataSource } : {}),
        ...(recipe.algo === 'auto' ? { selection: { by: `validation ${key}`, candidates: candidates.map((c) => ({ algo: c.algo, metrics: c.metrics })) } } : {}),
      },
      ...(info.createdAt !== undefined ? { createdAt: info.createdAt } : {}),
    },
  };
  const parsed = parseCard(raw);
  if (!parsed.ok) throw new OutpostError('package', `the trained model's card is invalid: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const card = parsed.card;
  // Drift baseline: the training rows and the model's outputs on them (as the graph computes them).
  const trainPred = best.fitted.predict(trainTable);
  const baseline: Baseline = computeModelBaseline(card, trainTable.columns as Record<string, Float64Array | (string | null)[]>, target.task === 'regression'
    ? { value: trainPred.values! }
    : (() => {
      const k = target.classes!.length;
      const probs = trainPred.probabilities!;
      const labelCodes = new Int32Array(trainTable.rows);
      const columns = Array.from({ length: k }, () => new Float64Array(trainTable.rows));
      for (let i = 0; i < trainTable.rows; i++) {
        let b = 0;
        for (let c = 0; c < k; c++) {
          columns[c][i] = probs[i * k + c];
          if (probs[i * k + c] > probs[i * k + b]) b = c;
        }
        labelCodes[i] = b;
      }
      return { labelCodes, probabilities: columns };
    })());
  const finalCard: Card = { ...card, baseline: baseline as unknown as Record<string, unknown> };
  return {
    modelBytes,
    card: finalCard,
    algo: best.algo,
    task: target.task,
    metrics: best.metrics,
    candidates: candidates.map(({ fitted: _f, ...c }) => c),
    trainRows: trainIdx.length,
    validRows: validIdx.length,
    warnings,
    model: best.fitted,
  };
}

/** The recipe stored in a card's lineage, for a retrain on new data (same algorithm and settings). */
export function recipeFromCard(card: Card): TrainRecipe {
  const r = card.lineage?.recipe as Partial<TrainRecipe> | undefined;
  if (!r || typeof r.target !== 'string' || !Array.isArray(r.features) || typeof r.algo !== 'string' || !r.split || typeof r.seed !== 'number') {
    throw new OutpostError('package', `${card.name}@${card.version} carries no training recipe Outpost can rerun (it was not trained by \`outpost train\`)`);
  }
  return { target: r.target, features: [...r.features], ...(r.task ? { task: r.task } : {}), algo: r.algo, split: r.split, seed: r.seed, ...(r.params ? { params: r.params } : {}), ...(r.schema ? { schema: r.schema } : {}) };
}
