// The model card: the contract between a model package and the appliance. Validated by a schema
// (zod) so a bad card fails with the path of the bad field. Pure: usable in the renderer.
import { z } from 'zod';

export const CARD_FORMAT = 'outpost.card/v1';

export const featureTypes = ['float', 'int', 'bool', 'category'] as const;
export type FeatureType = (typeof featureTypes)[number];

export const InputFieldSchema = z.object({
  name: z.string().min(1).max(256),
  type: z.enum(featureTypes),
  nullable: z.boolean().default(false),
  /** Inclusive bounds for float/int features; values outside are rejected rows. */
  range: z.object({ min: z.number().optional(), max: z.number().optional() }).strict().optional(),
  /** Allowed categories (required for `category`). */
  vocabulary: z.array(z.string()).min(1).optional(),
  /**
   * A category value outside the vocabulary: `reject` (default) the row — not scored, listed in the
   * rejects — or `score` it, handing the value to the model (for graphs that handle unknown
   * categories, e.g. OneHotEncoder with zeros=1 / handle_unknown='ignore'). Either way the value
   * is counted as unseen (`other`) in the drift statistics.
   */
  unseen: z.enum(['reject', 'score']).optional(),
  unit: z.string().optional(),
  description: z.string().optional(),
}).strict().superRefine((f, ctx) => {
  if (f.type === 'category' && !f.vocabulary) ctx.addIssue({ code: 'custom', message: 'a category feature needs a vocabulary', path: ['vocabulary'] });
  if (f.type !== 'category' && f.vocabulary) ctx.addIssue({ code: 'custom', message: `only category features have a vocabulary (this one is ${f.type})`, path: ['vocabulary'] });
  if (f.type !== 'category' && f.unseen) ctx.addIssue({ code: 'custom', message: `only category features have an unseen-value policy (this one is ${f.type})`, path: ['unseen'] });
  if (f.range?.min !== undefined && f.range.max !== undefined && f.range.min > f.range.max) ctx.addIssue({ code: 'custom', message: 'range.min is above range.max', path: ['range'] });
});
export type InputField = z.infer<typeof InputFieldSchema>;

/** How graph outputs map to user-facing columns. Names refer to graph output names. */
export const OutputMappingSchema = z.object({
  /** classifier: graph output holding the predicted class index (int64 [N] or [N,1]) */
  label: z.string().optional(),
  /** classifier: graph output holding class probabilities (float [N, classes]) */
  probabilities: z.string().optional(),
  /** class names, in the order of the probability columns */
  classes: z.array(z.string().min(1)).min(2).optional(),
  /** regression: graph output holding the value (float [N] or [N,1]) */
  value: z.string().optional(),
  /**
   * What an int64 `label` output holds: 'index' (default) — the position in `classes`; 'class' —
   * the class itself (scikit-learn's integer labels, e.g. 3 or 7), looked up in `classes` as text.
   */
  labelEncoding: z.enum(['index', 'class']).optional(),
}).strict();
export type OutputMapping = z.infer<typeof OutputMappingSchema>;

/**
 * Card inputs fed as columns of one graph input: the exporters' layout (skl2onnx `float_input`,
 * PyTorch `input`: one [N, F] tensor per row batch). `features` are card input names, in the
 * column order the model was trained with.
 */
export const TensorMappingSchema = z.object({
  input: z.string().min(1),
  features: z.array(z.string().min(1)).min(1),
}).strict();
export type TensorMapping = z.infer<typeof TensorMappingSchema>;

export const LineageSchema = z.object({
  trainingDataHash: z.string().optional(),
  trainingRows: z.number().int().nonnegative().optional(),
  codeVersion: z.string().optional(),
  /** Enough to retrain: the trainer and its settings. */
  recipe: z.record(z.string(), z.unknown()).optional(),
  createdAt: z.string().optional(),
}).passthrough();

/** Metrics `outpost performance` computes from joined labels (classifiers / regression). */
export const CLASSIFIER_METRICS = ['accuracy', 'f1', 'auc', 'logLoss'] as const;
export const REGRESSION_METRICS = ['rmse', 'mae'] as const;
export type PerformanceMetric = (typeof CLASSIFIER_METRICS)[number] | (typeof REGRESSION_METRICS)[number];

/**
 * Monitoring settings of the model. `performance`: a window (job, hour or day) whose metric from
 * joined ground-truth labels is below `min` (or above `max`, for losses) with at least `minSamples`
 * labelled predictions opens a performance alert.
 */
export const MonitoringSchema = z.object({
  performance: z.object({
    metric: z.enum([...CLASSIFIER_METRICS, ...REGRESSION_METRICS]),
    min: z.number().optional(),
    max: z.number().optional(),
    minSamples: z.number().int().min(1).default(30),
  }).strict().refine((p) => p.min !== undefined || p.max !== undefined, { message: 'give min (or max, for a loss)' }).optional(),
}).strict();
export type Monitoring = z.infer<typeof MonitoringSchema>;

export const CardSchema = z.object({
  format: z.literal(CARD_FORMAT),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" or "-", starting with a letter or digit, at most 64'),
  version: z.number().int().positive(),
  task: z.enum(['binary', 'multiclass', 'regression']),
  description: z.string().optional(),
  inputs: z.array(InputFieldSchema).min(1),
  /** Graph inputs that take several card inputs as columns; the other card inputs are graph inputs of their own. */
  tensors: z.array(TensorMappingSchema).min(1).optional(),
  outputs: OutputMappingSchema,
  /** Drift baseline per feature (filled by `outpost baseline`; structure owned by src/drift). */
  baseline: z.record(z.string(), z.unknown()).optional(),
  thresholds: z.record(z.string(), z.number()).optional(),
  /** Drift thresholds and method overrides, per feature or default. */
  drift: z.record(z.string(), z.unknown()).optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  lineage: LineageSchema.optional(),
  monitoring: MonitoringSchema.optional(),
}).strict().superRefine((c, ctx) => {
  const metric = c.monitoring?.performance?.metric;
  if (metric !== undefined && (c.task === 'regression') !== (REGRESSION_METRICS as readonly string[]).includes(metric)) {
    ctx.addIssue({ code: 'custom', message: `${metric} does not apply to a ${c.task} model (use ${(c.task === 'regression' ? REGRESSION_METRICS : CLASSIFIER_METRICS).join(', ')})`, path: ['monitoring', 'performance', 'metric'] });
  }
  const seen = new Set<string>();
  c.inputs.forEach((f, i) => {
    if (seen.has(f.name)) ctx.addIssue({ code: 'custom', message: `duplicate input "${f.name}"`, path: ['inputs', i, 'name'] });
    seen.add(f.name);
  });
  const mappedTo = new Map<string, string>();
  const tensorInputs = new Set<string>();
  c.tensors?.forEach((t, ti) => {
    if (tensorInputs.has(t.input)) ctx.addIssue({ code: 'custom', message: `graph input "${t.input}" is mapped twice`, path: ['tensors', ti, 'input'] });
    tensorInputs.add(t.input);
    if (seen.has(t.input) && !t.features.includes(t.input)) ctx.addIssue({ code: 'custom', message: `"${t.input}" is also a card input fed on its own; a graph input is fed either as one feature or as a tensor of features`, path: ['tensors', ti, 'input'] });
    const types = new Set<string>();
    t.features.forEach((name, k) => {
      const f = c.inputs.find((x) => x.name === name);
      if (!f) { ctx.addIssue({ code: 'custom', message: `"${name}" is not a card input (inputs: ${c.inputs.map((x) => x.name).join(', ')})`, path: ['tensors', ti, 'features', k] }); return; }
      const before = mappedTo.get(name);
      if (before !== undefined) ctx.addIssue({ code: 'custom', message: `"${name}" is already a column of "${before}"; each card input feeds one place`, path: ['tensors', ti, 'features', k] });
      mappedTo.set(name, t.input);
      types.add(f.type === 'category' ? 'category' : 'number');
    });
    if (types.size > 1) ctx.addIssue({ code: 'custom', message: `"${t.input}" mixes category and numeric features; one tensor holds either strings or numbers`, path: ['tensors', ti, 'features'] });
  });
  if (c.task === 'regression') {
    if (!c.outputs.value) ctx.addIssue({ code: 'custom', message: 'a regression model needs outputs.value', path: ['outputs', 'value'] });
  } else {
    if (!c.outputs.classes) ctx.addIssue({ code: 'custom', message: 'a classifier needs outputs.classes', path: ['outputs', 'classes'] });
    if (!c.outputs.probabilities && !c.outputs.label) ctx.addIssue({ code: 'custom', message: 'a classifier needs outputs.label or outputs.probabilities', path: ['outputs'] });
    if (c.task === 'binary' && c.outputs.classes && c.outputs.classes.length !== 2) ctx.addIssue({ code: 'custom', message: 'a binary classifier has exactly 2 classes', path: ['outputs', 'classes'] });
  }
});
export type Card = z.infer<typeof CardSchema>;

export interface CardProblem { path: string; message: string }

/** Validate an untrusted parsed card; returns the card or the list of problems (path + reason). */
export function parseCard(raw: unknown): { ok: true; card: Card } | { ok: false; problems: CardProblem[] } {
  const r = CardSchema.safeParse(raw);
  if (r.success) return { ok: true, card: r.data };
  return {
    ok: false,
    problems: r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(card)', message: i.message })),
  };
}

/** The column names a scoring output has, in order (after the id column). */
export function outputColumns(card: Card): string[] {
  if (card.task === 'regression') return ['value'];
  const cols: string[] = ['label'];
  if (card.outputs.probabilities) for (const c of card.outputs.classes ?? []) cols.push(`p_${c}`);
  return cols;
}

export const modelRef = (card: Pick<Card, 'name' | 'version'>): string => `${card.name}@${card.version}`;
