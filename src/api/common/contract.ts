// The one API between the UI and the core: every method's parameters and result, and the event
// stream, as zod schemas. The core validates at the boundary (both transports go through
// dispatch.ts); the renderer imports these only as types. Pure: no Node, no DOM.
import { z } from 'zod';
import { CardSchema } from '../../package/common/card.ts';
import { validateSettingsPatch } from '../../store/common/settings.ts';
import { SettingsSchema } from '../../store/common/settings-schema.ts';

export { SettingsSchema };

// ---- shared shapes ----

/** method-not-allowed, too-large, unsupported-media-type: a refused request (405, 413, 415; src/api/common/request-errors.ts) */
export const ErrorCodeSchema = z.enum(['usage', 'input', 'package', 'not-found', 'provider', 'store', 'cancelled', 'reject-rate', 'conflict', 'internal', 'unauthorized', 'method-not-allowed', 'too-large', 'unsupported-media-type']);
export const ApiErrorSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  file: z.string().optional(),
  row: z.number().optional(),
  field: z.string().optional(),
});
export type ApiErrorShape = z.infer<typeof ApiErrorSchema>;

const ModelName = z.string().min(1).max(64);
const ModelRef = z.string().regex(/^[^@\s]+(@\d+)?$/, 'expected <name> or <name>@<version>');
const JobId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a job id');
const FilePath = z.string().min(1).max(4096);
const Format = z.enum(['csv', 'jsonl', 'parquet']);

export const JobStatusSchema = z.enum(['running', 'completed', 'failed', 'cancelled']);

export const JobSummarySchema = z.object({
  id: z.string(),
  modelName: z.string(),
  modelVersion: z.number().int(),
  status: JobStatusSchema,
  /** running in this process right now (a stored 'running' job that is not was interrupted) */
  live: z.boolean(),
  resumable: z.boolean(),
  inputPath: z.string(),
  inputName: z.string(),
  inputFormat: z.string(),
  inputSize: z.number(),
  inputFingerprint: z.string(),
  outputPath: z.string(),
  outputFormat: z.string(),
  rejectsPath: z.string(),
  provider: z.string().nullable(),
  providerSummary: z.string().nullable(),
  rowsRead: z.number(),
  rowsScored: z.number(),
  rowsRejected: z.number(),
  busySeconds: z.number(),
  rowsPerSecond: z.number(),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type JobSummary = z.infer<typeof JobSummarySchema>;

export const ReasonCountSchema = z.object({ reason: z.string(), count: z.number().int() });

export const ProgressSchema = z.object({
  jobId: z.string(),
  rowsRead: z.number(),
  rowsScored: z.number(),
  rowsRejected: z.number(),
  fraction: z.number(),
  rowsPerSecond: z.number(),
  etaSeconds: z.number().nullable(),
});
export type Progress = z.infer<typeof ProgressSchema>;

export const JobDetailSchema = JobSummarySchema.extend({
  rejectReasons: z.array(ReasonCountSchema),
  outputExists: z.boolean(),
  rejectsExist: z.boolean(),
  progress: ProgressSchema.nullable(),
});
export type JobDetail = z.infer<typeof JobDetailSchema>;

export const ModelSummarySchema = z.object({
  name: z.string(),
  activeVersion: z.number().int().nullable(),
  versions: z.array(z.number().int()),
  task: z.string(),
  description: z.string().nullable(),
  inputs: z.array(z.string()),
  source: z.string(),
  signedBy: z.string().nullable(),
  installedAt: z.string(),
  /** provider the last job with this model ran on, and why ("cpu (cuda: …)") */
  provider: z.string().nullable(),
  providerSummary: z.string().nullable(),
});
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

export const ModelVersionSchema = z.object({
  version: z.number().int(),
  active: z.boolean(),
  source: z.string(),
  signedBy: z.string().nullable(),
  signedAt: z.string().nullable(),
  origin: z.string().nullable(),
  installedAt: z.string(),
  sizeBytes: z.number(),
  modelSha256: z.string(),
  card: CardSchema,
  /** integrity problems found by re-hashing the installed files (empty = intact) */
  problems: z.array(z.string()),
});
export const ModelDetailSchema = z.object({
  name: z.string(),
  versions: z.array(ModelVersionSchema),
  /** what `models.rollback` would do now: from the active version to this one (null: nothing to roll back to) */
  rollback: z.object({ from: z.number().int(), to: z.number().int() }).nullable(),
});
export type ModelDetail = z.infer<typeof ModelDetailSchema>;

/** A pull from the connected hub, as `outpost pull` reports it. */
export const PullResultSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  active: z.boolean(),
  /** the version that was active before (kept as last-known-good), null when none */
  previousActive: z.number().int().nullable(),
  alreadyInstalled: z.boolean(),
  signedBy: z.string(),
  signedAt: z.string().nullable(),
  hub: z.string(),
  model: ModelSummarySchema,
});
export type PullResult = z.infer<typeof PullResultSchema>;

/** A pull's stages, as the CLI shows them: metadata, download (bytes of each file), model-safety, card, smoke, install. */
export const PullProgressSchema = z.object({
  ref: z.string(),
  stage: z.string(),
  file: z.string().optional(),
  received: z.number().optional(),
  total: z.number().optional(),
});
export type PullProgress = z.infer<typeof PullProgressSchema>;

export const ProviderInfoSchema = z.object({
  /** checking: the probe is still running (ask again); decided; failed: the check itself failed or timed out (summary says why) */
  state: z.enum(['checking', 'decided', 'failed']),
  request: z.string(),
  chosen: z.string().nullable(),
  summary: z.string(),
  candidates: z.array(z.object({ name: z.string(), outcome: z.string(), reason: z.string() })),
});

export const AttentionSchema = z.object({
  level: z.enum(['info', 'warning', 'error']),
  message: z.string(),
  jobId: z.string().optional(),
  model: z.string().optional(),
  /** set on open drift alerts: the model version to open on the Drift screen */
  version: z.number().int().optional(),
});
export type Attention = z.infer<typeof AttentionSchema>;

export const StorageUsageSchema = z.object({ database: z.number(), models: z.number(), uploads: z.number(), outputs: z.number(), other: z.number(), total: z.number() });

export const HomeStatusSchema = z.object({
  home: z.string(),
  /** the whole data folder on disk (= storage.total) */
  storeBytes: z.number(),
  /** the data folder by what it holds */
  storage: StorageUsageSchema,
  log: z.object({ batches: z.number(), rows: z.number(), bytes: z.number() }),
  retentionMaxBytes: z.number(),
  provider: ProviderInfoSchema,
  models: z.array(ModelSummarySchema),
  recentJobs: z.array(JobSummarySchema),
  attention: z.array(AttentionSchema),
});
export type HomeStatus = z.infer<typeof HomeStatusSchema>;

export const InspectSchema = z.object({
  path: z.string(),
  name: z.string(),
  format: z.string(),
  sizeBytes: z.number(),
  columns: z.array(z.string()),
  model: z.string(),
  fields: z.array(z.object({ name: z.string(), type: z.string(), nullable: z.boolean(), present: z.boolean(), detail: z.string() })),
  missing: z.array(z.string()),
  extra: z.array(z.string()),
  ok: z.boolean(),
});
export type Inspect = z.infer<typeof InspectSchema>;

export const RejectsPageSchema = z.object({
  jobId: z.string(),
  total: z.number().int(),
  offset: z.number().int(),
  rows: z.array(z.object({ row: z.number(), column: z.string(), reason: z.string(), value: z.string() })),
  reasons: z.array(ReasonCountSchema),
});
export type RejectsPage = z.infer<typeof RejectsPageSchema>;

const Cell = z.union([z.string(), z.number(), z.null()]);
export const PredictionRowSchema = z.object({
  jobId: z.string(), model: z.string(), version: z.number().int(), loggedAt: z.number(), row: z.number(),
  values: z.record(z.string(), Cell),
});
export type PredictionRow = z.infer<typeof PredictionRowSchema>;

export const PredictionsPageSchema = z.object({
  total: z.number().int(),
  offset: z.number().int(),
  /** output columns in display order (id, label, p_<class>…, value; then logged inputs as input.<name>) */
  columns: z.array(z.string()),
  /** columns the page can be sorted by */
  sortable: z.array(z.string()),
  rows: z.array(PredictionRowSchema),
});
export type PredictionsPage = z.infer<typeof PredictionsPageSchema>;

export const HistogramSchema = z.object({ edges: z.array(z.number()), counts: z.array(z.number().int()) });
export const DistributionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('classes'), jobId: z.string(), total: z.number().int(), classes: z.array(z.object({ label: z.string(), count: z.number().int() })), confidence: HistogramSchema }),
  z.object({ kind: z.literal('values'), jobId: z.string(), total: z.number().int(), histogram: HistogramSchema }),
  z.object({ kind: z.literal('empty'), jobId: z.string(), total: z.literal(0) }),
]);
export type Distribution = z.infer<typeof DistributionSchema>;

const Num = z.number().nullable();
/** a number that may be infinite: ±∞ as "Infinity" / "-Infinity" (null: not computed) */
const WireNum = z.union([z.number(), z.enum(['Infinity', '-Infinity'])]).nullable();
export const FeatureDriftSchema = z.object({
  feature: z.string(),
  kind: z.enum(['numeric', 'categorical']),
  method: z.string(),
  methodSource: z.string(),
  /** the test statistic or raw distance (null: not computed; χ² may be "Infinity") */
  statistic: WireNum,
  /** what is compared with the threshold: a p-value or a distance */
  score: Num,
  scoreKind: z.enum(['p-value', 'distance']),
  threshold: z.number(),
  drifted: z.boolean().nullable(),
  reason: z.string().optional(),
  certain: z.boolean().optional(),
  severity: WireNum,
  nReference: z.number(),
  nCurrent: z.number(),
  missingRate: z.object({ reference: z.number(), current: z.number(), change: z.number() }),
  outOfRange: Num,
  unseenCategories: Num,
  /** level: ok | warn | alert, or insufficient (fewer current values than minCurrent) */
  psi: z.object({ value: WireNum, level: z.string(), minCurrent: z.number().optional() }).nullable(),
});
export type FeatureDriftShape = z.infer<typeof FeatureDriftSchema>;

export const DriftAlertSchema = z.object({
  id: z.number().int(),
  model: z.string(),
  version: z.number().int(),
  scope: z.enum(['job', 'hour', 'day']),
  /** job id, or the window's start as an ISO time */
  scopeKey: z.string(),
  feature: z.string(),
  method: z.string(),
  statistic: WireNum,
  score: WireNum,
  threshold: z.number(),
  nReference: z.number(),
  nCurrent: z.number(),
  /** epoch ms */
  firstAt: z.number(),
  lastAt: z.number(),
  clearedAt: z.number().nullable(),
});
export type DriftAlertShape = z.infer<typeof DriftAlertSchema>;

export const DriftViewSchema = z.object({
  model: z.string(),
  version: z.number().int(),
  /** what was compared, in words */
  description: z.string(),
  referenceRows: z.number(),
  rows: z.number(),
  features: z.array(FeatureDriftSchema),
  /** input drift: the share of drifted input features (model outputs do not vote) */
  dataset: z.object({ drifted: z.boolean().nullable(), share: Num, driftedFeatures: z.number(), evaluatedFeatures: z.number(), threshold: z.number(), reason: z.string().optional() }),
  /** prediction drift: the verdict of the predicted label (classifiers) or value (regression) */
  prediction: z.object({ drifted: z.boolean().nullable(), feature: z.string().nullable(), driftedOutputs: z.number(), evaluatedOutputs: z.number(), reason: z.string().optional() }),
  /** per feature, the binned distributions both sides as proportions: the reference deciles (numeric) or the categories */
  bins: z.array(z.object({ feature: z.string(), labels: z.array(z.string()), reference: z.array(z.number()), current: z.array(z.number()) })),
  /** the last `windows` hour or day windows, oldest first; per feature the score (null: no data or no verdict) */
  timeline: z.object({
    width: z.enum(['hour', 'day']),
    windows: z.array(z.object({ start: z.string(), rows: z.number(), scores: z.record(z.string(), Num), drifted: z.record(z.string(), z.boolean().nullable()) })),
  }),
  alerts: z.array(DriftAlertSchema),
});
export type DriftView = z.infer<typeof DriftViewSchema>;

export type SettingsShape = z.infer<typeof SettingsSchema>;
const SettingsPatch = z.record(z.string(), z.unknown()).transform((patch, ctx) => {
  try {
    return validateSettingsPatch(patch);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
export const SettingsViewSchema = z.object({ home: z.string(), settings: SettingsSchema });

/**
 * A bearer token of the local scoring API (`outpost serve --api`), as `outpost tokens list` shows it:
 * never the secret (the store keeps only its SHA-256). It may list models and predict — with every
 * installed model, or only with `models` — logged as the record session `records:api:<name>`.
 */
export const ApiTokenViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** the models it is limited to; null: every installed model */
  models: z.array(z.string()).nullable(),
  state: z.enum(['live', 'revoked']),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiTokenView = z.infer<typeof ApiTokenViewSchema>;
/** A new token: the secret is in this answer only (shown once, like `outpost tokens create`). */
export const NewApiTokenSchema = ApiTokenViewSchema.extend({ secret: z.string() });
export type NewApiToken = z.infer<typeof NewApiTokenSchema>;

/** This workstation's hub connection and sync state (Home, Settings). */
export const SyncViewSchema = z.object({
  connected: z.boolean(),
  hub: z.object({ url: z.string(), name: z.string(), group: z.string(), deviceId: z.string(), connectedAt: z.string() }).nullable(),
  waiting: z.object({ items: z.number(), bytes: z.number(), rows: z.number(), oldest: z.string().nullable(), byKind: z.record(z.string(), z.number()) }),
  /** items the hub kept back, with its reason */
  problems: z.array(z.object({ seq: z.number(), kind: z.string(), error: z.string() })),
  lastAttemptAt: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
  lastSent: z.number(),
  lastError: z.object({ at: z.string(), message: z.string(), code: z.string() }).nullable(),
  running: z.boolean(),
  intervalSeconds: z.number(),
  /** when the background sync runs next (null: off or not connected) */
  nextAt: z.string().nullable(),
  /** the rolloutPolicy setting: auto installs what the hub rolls out at the next sync; ask offers it here */
  rolloutPolicy: z.enum(['auto', 'ask']),
  /** model versions the hub rolled out to this workstation (newest first): offered (available), installed, failed and why */
  updates: z.array(z.object({
    rollout: z.string(), model: z.string(), ref: z.string(), action: z.enum(['install', 'activate']),
    state: z.enum(['pending', 'available', 'installed', 'failed', 'withdrawn']),
    version: z.number().nullable(), previousVersion: z.number().nullable(), stage: z.string().nullable(), reason: z.string().nullable(), updatedAt: z.string(),
  })),
});
export type SyncView = z.infer<typeof SyncViewSchema>;

export const UploadResultSchema = z.object({ path: z.string(), name: z.string(), size: z.number() });
export type UploadResult = z.infer<typeof UploadResultSchema>;

/**
 * What the app's what-if explorer runs in the renderer (onnxruntime-web): the installed model's
 * bytes after the same checks scoring makes (serving check, SHA-256 against the install record),
 * with the same in-memory ZipMap rewrite, plus its card and the graph inputs as served.
 */
export const ExploreModelSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  /** SHA-256 of the installed file (verified just now) */
  modelSha256: z.string(),
  card: CardSchema,
  /** the graph's inputs as served: element type and shape (what the feeds must match) */
  inputs: z.array(z.object({ name: z.string(), type: z.string(), shape: z.array(z.union([z.number(), z.string()])) })),
  /** ZipMap nodes the rewrite dropped (their probability tensors are graph outputs instead) */
  zipmapsRemoved: z.array(z.string()),
  /** the bytes to create the session from, base64 */
  model: z.string(),
  sizeBytes: z.number().int(),
  /** a serving warning (signed metadata in its offline grace period), else null */
  warning: z.string().nullable(),
});
export type ExploreModel = z.infer<typeof ExploreModelSchema>;
/** The largest model file the explorer hands to the renderer (base64 in one JSON answer). */
export const EXPLORE_MAX_BYTES = 128 * 1024 * 1024;

// ---- methods ----

const none = z.strictObject({});
const page = { offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(100) };

// ---- performance from ground-truth labels, retrain proposals ----

const MetricValueSchema = z.object({
  value: z.number().nullable(),
  ci: z.object({ low: z.number(), high: z.number() }).nullable(),
  method: z.string(),
  note: z.string().optional(),
});
const PerformanceWindowSchema = z.object({
  scope: z.enum(['job', 'hour', 'day']),
  key: z.string(),
  from: z.number(),
  to: z.number(),
  n: z.number().int(),
  late: z.number().int(),
  classCounts: z.record(z.string(), z.number()).optional(),
  metrics: z.record(z.string(), MetricValueSchema),
  check: z.object({ metric: z.string(), bound: z.number(), direction: z.enum(['min', 'max']), minSamples: z.number(), breached: z.boolean().nullable(), reason: z.string().optional() }).nullable(),
});
export const PerformanceViewSchema = z.object({
  model: z.string(),
  version: z.number().int(),
  task: z.enum(['binary', 'multiclass', 'regression']),
  scope: z.enum(['job', 'hour', 'day']),
  labelled: z.number().int(),
  windows: z.array(PerformanceWindowSchema),
  overall: PerformanceWindowSchema,
  alerts: z.array(z.object({
    id: z.number(), model: z.string(), version: z.number(), scope: z.enum(['job', 'hour', 'day']), scopeKey: z.string(), metric: z.string(), value: z.number(),
    ci: z.object({ low: z.number(), high: z.number() }).nullable(), threshold: z.number(), direction: z.enum(['min', 'max']), n: z.number(), firstAt: z.number(), lastAt: z.number(), clearedAt: z.number().nullable(),
  })),
});
export type PerformanceView = z.infer<typeof PerformanceViewSchema>;
export const ProposalViewSchema = z.object({
  id: z.string(),
  model: z.string(),
  championVersion: z.number().int(),
  status: z.enum(['proposed', 'activated', 'dismissed']),
  trigger: z.string(),
  triggerDetail: z.string().nullable(),
  metric: z.string(),
  championScore: z.number().nullable(),
  challengerScore: z.number().nullable(),
  better: z.enum(['challenger', 'champion']),
  decision: z.string(),
  holdoutRows: z.number().int(),
  trainRows: z.number().int(),
  algo: z.string(),
  champion: z.record(z.string(), MetricValueSchema),
  challenger: z.record(z.string(), MetricValueSchema),
  warnings: z.array(z.string()),
  createdAt: z.number(),
  activatedVersion: z.number().int().nullable(),
});
export type ProposalView = z.infer<typeof ProposalViewSchema>;

// ---- training from a file (the Train screen) ----

/** A file's columns, with a kind guessed from its first rows (for choosing target, features and a time column). */
export const FileColumnsSchema = z.object({
  path: z.string(),
  name: z.string(),
  format: z.string(),
  sizeBytes: z.number(),
  /** rows looked at for the guesses (the first ones) */
  sampled: z.number().int(),
  columns: z.array(z.object({
    name: z.string(),
    /** number: every sampled value parses as a number; time: ISO dates/times; text otherwise */
    kind: z.enum(['number', 'time', 'text']),
    distinct: z.number().int(),
    missing: z.number().int(),
    examples: z.array(z.string()),
  })),
});
export type FileColumns = z.infer<typeof FileColumnsSchema>;

const ColumnName = z.string().min(1).max(256);
export const TrainAlgoSchema = z.enum(['logreg', 'mlp', 'gbdt', 'auto']);
export const TrainSplitSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('time'), column: ColumnName, validFrom: z.string().trim().min(1).max(64) }),
  z.strictObject({ kind: z.literal('fraction'), fraction: z.number().gt(0).lt(1) }),
]);
export const TrainParamsSchema = z.strictObject({
  input: FilePath,
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" or "-", starting with a letter or digit, at most 64'),
  target: ColumnName,
  /** empty: every column but the target and the time column */
  features: z.array(ColumnName).max(2000).default([]),
  algo: TrainAlgoSchema.default('gbdt'),
  split: TrainSplitSchema.default({ kind: 'fraction', fraction: 0.2 }),
  seed: z.number().int().min(-(2 ** 53) + 1).max(2 ** 53 - 1).default(1),
  /** logreg / MLP: train with ONNX Runtime graph steps on this provider (auto probes); absent: the TypeScript trainer on CPU */
  provider: z.enum(['auto', 'cuda', 'webgpu', 'dml', 'coreml', 'cpu']).optional(),
  description: z.string().max(500).optional(),
});
export type TrainParams = z.input<typeof TrainParamsSchema>;

const TrainMetricsSchema = z.record(z.string(), z.number());
export const TrainRunSchema = z.object({
  id: z.string(),
  status: z.enum(['running', 'completed', 'failed', 'cancelled']),
  name: z.string(),
  input: z.string(),
  inputName: z.string(),
  target: z.string(),
  features: z.array(z.string()),
  algo: TrainAlgoSchema,
  split: z.union([z.object({ kind: z.literal('time'), column: z.string(), validFrom: z.string() }), z.object({ kind: z.literal('fraction'), fraction: z.number() })]),
  seed: z.number(),
  provider: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  seconds: z.number(),
  /** what it is doing now, in words */
  stage: z.string(),
  read: z.object({ rows: z.number(), fraction: z.number() }).nullable(),
  /** the current algorithm's progress: epochs (neural) or boosting iterations */
  step: z.object({ algo: z.string(), unit: z.enum(['epoch', 'iteration']), step: z.number(), of: z.number(), trainLoss: z.number().nullable(), validLoss: z.number().nullable() }).nullable(),
  /** validation loss by step, per algorithm (at most 500 points each, for the chart) */
  curves: z.record(z.string(), z.array(z.object({ step: z.number(), trainLoss: z.number().nullable(), validLoss: z.number().nullable() }))),
  candidates: z.array(z.object({ algo: z.string(), metrics: TrainMetricsSchema, fitSeconds: z.number() })),
  messages: z.array(z.string()),
  result: z.object({
    algo: z.string(), task: z.string(), metrics: TrainMetricsSchema, trainRows: z.number().int(), validRows: z.number().int(), rowsRead: z.number().int(),
    dataSha256: z.string(), modelSha256: z.string(), sizeBytes: z.number(), warnings: z.array(z.string()),
  }).nullable(),
  error: ApiErrorSchema.nullable(),
  /** set once installed: the local version it became */
  installed: z.object({ name: z.string(), version: z.number().int() }).nullable(),
});
export type TrainRun = z.infer<typeof TrainRunSchema>;
export const TrainRunDetailSchema = TrainRunSchema.extend({ card: CardSchema.nullable() });
export type TrainRunDetail = z.infer<typeof TrainRunDetailSchema>;

// ---- app updates (Settings → Updates) ----

export const AppUpdateViewSchema = z.object({
  /** the running Outpost */
  current: z.string(),
  /** <os>-<arch>: which signed releases apply (outpost-app-<platform>) */
  platform: z.string(),
  /** the connected hub updates come from (null: not connected) */
  hub: z.string().nullable(),
  /** the last check in this session */
  check: z.object({ state: z.enum(['none', 'current', 'available', 'staged']), version: z.string().nullable(), release: z.number().int().nullable(), at: z.string() }).nullable(),
  /** the verified, staged release (updates/pending.json), newer than the running one */
  staged: z.object({
    version: z.string(),
    release: z.number().int(),
    file: z.string(),
    installer: z.string(),
    hub: z.string(),
    /** the installer's signed sha256 (from the TUF metadata it was downloaded against) */
    sha256: z.string(),
    length: z.number(),
    stagedAt: z.string(),
    /** the file hashes to `sha256` right now */
    verified: z.boolean(),
    problem: z.string().nullable(),
    installOnRestart: z.boolean(),
    /** what installing it does here: appimage (replace the running AppImage), deb (the command), manual (by hand) */
    plan: z.object({ kind: z.enum(['appimage', 'deb', 'manual']), summary: z.string(), command: z.array(z.string()).nullable() }),
  }).nullable(),
  /** updates/pending.json exists but cannot be used (why) */
  stagedError: z.string().nullable(),
  lastInstall: z.object({ version: z.string(), release: z.number().int(), from: z.string(), kind: z.enum(['appimage', 'deb']), target: z.string(), backup: z.string().nullable(), at: z.string() }).nullable(),
  /** the last install at quit that failed (nothing replaced, or the old AppImage put back) */
  lastFailure: z.object({ version: z.string(), message: z.string(), at: z.string() }).nullable(),
});
export type AppUpdateView = z.infer<typeof AppUpdateViewSchema>;

/** Settings → GPU: the GPU runtime (ONNX Runtime's CUDA libraries, a signed download into the data folder), as `outpost gpu status` shows it. */
export const GpuViewSchema = z.object({
  ortVersion: z.string(),
  platform: z.string(),
  /** whether this platform's CUDA provider is an opt-in download (linux-x64) */
  supported: z.boolean(),
  runtime: z.object({
    state: z.enum(['absent', 'ok', 'modified']),
    dir: z.string(),
    /** modified: what failed its check */
    problem: z.string().optional(),
    file: z.string().optional(),
    source: z.object({ hub: z.string(), name: z.string(), release: z.number().int(), file: z.string(), sha256: z.string() }).optional(),
    installedAt: z.string().optional(),
    bytes: z.number().optional(),
  }),
  /** runtimes for another ONNX Runtime version (left by an earlier app) */
  others: z.array(z.string()),
  machine: z.object({ nvidiaDevices: z.array(z.string()), libcuda: z.string().nullable(), cudaLibsMissing: z.array(z.string()) }).optional(),
  /** what the connected hub offers (asked when the view was requested with `hub: true`) */
  hub: z.object({ url: z.string(), state: z.enum(['none', 'available', 'current', 'installed']).optional(), release: z.number().int().optional(), file: z.string().optional(), length: z.number().optional(), error: z.string().optional() }).optional(),
  /** the connected hub (null: not connected; install needs one) */
  connectedHub: z.string().nullable(),
  /** the GPU runtime this running core loads ONNX Runtime from (null: the app's own); differs from the installed one until a restart */
  loadedFrom: z.string().nullable(),
  /** why the installed runtime is not what this core uses (modified, loaded before it was installed …) */
  loadNote: z.string().nullable(),
});
export type GpuView = z.infer<typeof GpuViewSchema>;

/** A GPU runtime install's stages: metadata, download (bytes), extract, install. */
export const GpuProgressSchema = z.object({ stage: z.string(), detail: z.string().optional(), received: z.number().optional(), total: z.number().optional() });

export const methods = {
  status: { params: none, result: HomeStatusSchema },
  'models.list': { params: none, result: z.array(ModelSummarySchema) },
  'models.show': { params: z.strictObject({ name: ModelName }), result: ModelDetailSchema },
  /** local packages are unsigned: the caller must say it accepts that */
  'models.add': { params: z.strictObject({ path: FilePath, allowUnsigned: z.literal(true) }), result: ModelSummarySchema },
  /** `from`: the active version the user confirmed rolling back from; refused (conflict) when it changed meanwhile */
  'models.rollback': { params: z.strictObject({ name: ModelName, from: z.number().int().positive().optional() }), result: ModelSummarySchema },
  /**
   * pull, verify and install a signed version from the connected hub: `name` (newest), `name@3` or
   * `name:production` (an alias); progress as `pull-progress` events; refusals as errors naming the stage
   */
  'models.pull': { params: z.strictObject({ ref: z.string().trim().min(1).max(200) }), result: PullResultSchema },
  /** stop the running pull (a partial download is kept and resumes next time) */
  'models.pullCancel': { params: none, result: z.object({ cancelled: z.boolean() }) },
  /** the installed model's verified bytes (ZipMap rewritten as for scoring) and card, for the what-if explorer; not a prediction, nothing is logged */
  'models.explore': { params: z.strictObject({ model: ModelRef }), result: ExploreModelSchema },
  'files.inspect': { params: z.strictObject({ path: FilePath, model: ModelRef }), result: InspectSchema },
  'jobs.start': {
    params: z.strictObject({ input: FilePath, model: ModelRef, idColumn: z.string().min(1).max(256).optional(), format: Format.optional() }),
    result: JobSummarySchema,
  },
  'jobs.cancel': { params: z.strictObject({ jobId: JobId }), result: z.object({ cancelled: z.boolean() }) },
  'jobs.resume': { params: z.strictObject({ jobId: JobId }), result: JobSummarySchema },
  'jobs.list': { params: z.strictObject({ limit: z.number().int().min(1).max(500).default(50) }), result: z.array(JobSummarySchema) },
  'jobs.get': { params: z.strictObject({ jobId: JobId }), result: JobDetailSchema },
  'jobs.rejects': { params: z.strictObject({ jobId: JobId, ...page }), result: RejectsPageSchema },
  'jobs.distribution': { params: z.strictObject({ jobId: JobId, bins: z.number().int().min(2).max(100).default(20) }), result: DistributionSchema },
  'predictions.page': {
    params: z.strictObject({
      jobId: JobId.optional(),
      model: ModelName.optional(),
      version: z.number().int().positive().optional(),
      /** epoch ms, inclusive */
      since: z.number().optional(),
      until: z.number().optional(),
      sort: z.strictObject({ column: z.string().min(1).max(300), descending: z.boolean().default(false) }).optional(),
      ...page,
    }),
    result: PredictionsPageSchema,
  },
  /** drift of a model version (everything scored with it, or one job) against its card's baseline */
  'drift.report': {
    params: z.strictObject({
      model: ModelRef,
      jobId: JobId.optional(),
      width: z.enum(['hour', 'day']).default('day'),
      windows: z.number().int().min(2).max(168).default(14),
    }),
    result: DriftViewSchema,
  },
  /** drift alerts, most recent first */
  'drift.alerts': {
    params: z.strictObject({ model: ModelName.optional(), version: z.number().int().positive().optional(), activeOnly: z.boolean().default(false), limit: z.number().int().min(1).max(1000).default(100) }),
    result: z.array(DriftAlertSchema),
  },
  /** metrics from joined ground-truth labels per window (job, hour or day) with 95 % intervals, the card's bound, performance alerts */
  'performance.report': {
    params: z.strictObject({ model: ModelRef, scope: z.enum(['job', 'hour', 'day']).default('job') }),
    result: PerformanceViewSchema,
  },
  /** retrained challengers (newest first), optionally of one model */
  'proposals.list': { params: z.strictObject({ model: ModelName.optional() }), result: z.array(ProposalViewSchema) },
  /**
   * `outpost retrain` from the app, in a worker thread (the serving thread stays free): a challenger
   * with the active version's recipe on its labelled logged inputs, compared on the newest held-out rows
   */
  'proposals.retrain': { params: z.strictObject({ model: ModelName, holdout: z.number().gt(0).lt(1).optional() }), result: ProposalViewSchema },
  /** install a proposal's challenger as a local unsigned version and make it active (force: even when it was not better) */
  'proposals.activate': { params: z.strictObject({ id: z.string().min(1).max(100), force: z.boolean().default(false) }), result: ProposalViewSchema },
  /** the columns of a data file (allowedFolders rules, like files.inspect), for the Train screen */
  'files.columns': { params: z.strictObject({ path: FilePath }), result: FileColumnsSchema },
  /** train a model from a file in a worker thread (the same pipeline as `outpost train`); progress as train-progress events */
  'train.start': { params: TrainParamsSchema, result: TrainRunSchema },
  /** stop a training run: its worker is terminated and nothing is written */
  'train.cancel': { params: z.strictObject({ id: z.string().min(1).max(64) }), result: z.object({ cancelled: z.boolean() }) },
  /** training runs of this session, newest first */
  'train.list': { params: none, result: z.array(TrainRunSchema) },
  /** one run, with the card of its result */
  'train.get': { params: z.strictObject({ id: z.string().min(1).max(64) }), result: TrainRunDetailSchema },
  /** install a completed run's model as the next local (unsigned) version of its name */
  'train.install': { params: z.strictObject({ id: z.string().min(1).max(64) }), result: z.object({ run: TrainRunSchema, model: ModelSummarySchema }) },
  'sync.status': { params: none, result: SyncViewSchema },
  /** enroll with a hub using the one-time code from `outpost hub devices add` */
  'sync.connect': {
    params: z.strictObject({
      hubUrl: z.string().min(1).max(2048), code: z.string().min(1).max(64), rootPath: FilePath.optional(),
      /** the CA certificate (PEM) of an HTTPS hub whose certificate is not from a CA in the system store; kept with the hub */
      caPath: FilePath.optional(),
    }),
    result: SyncViewSchema,
  },
  /** sync now; a failure is recorded in the view's lastError (the sync itself is not an API error) */
  'sync.now': { params: none, result: SyncViewSchema },
  /** install an update the hub offered (rolloutPolicy ask) through the verified pull; a refusal is an error naming the stage */
  'sync.installUpdate': { params: z.strictObject({ rollout: z.string().regex(/^ro_[a-z0-9]{8,40}$/, 'a rollout id (ro_…)') }), result: SyncViewSchema },
  /** the running version, the staged update (hash checked again now) and what installing it does here */
  'appUpdate.status': { params: none, result: AppUpdateViewSchema },
  /** ask the connected hub (TUF, like a pull) for a newer signed release of this platform; download, verify and stage it (`outpost app update`) */
  'appUpdate.check': { params: none, result: AppUpdateViewSchema },
  /** install the staged update when the app restarts (its hash is checked now and again before it is applied) */
  'appUpdate.installOnRestart': { params: z.strictObject({ enabled: z.boolean() }), result: AppUpdateViewSchema },
  /** the GPU runtime: installed and intact?, driver and CUDA libraries, this core's ONNX Runtime; with `hub`, what the connected hub offers */
  'gpu.status': { params: z.strictObject({ hub: z.boolean().default(false) }), result: GpuViewSchema },
  /** install the newest signed GPU runtime from the connected hub (`outpost gpu install`); progress as gpu-progress events; a refusal is an error naming the stage */
  'gpu.install': { params: none, result: GpuViewSchema },
  /** remove the GPU runtime(s) from the data folder */
  'gpu.remove': { params: none, result: GpuViewSchema },
  /** the local scoring API's bearer tokens, newest first (revoked ones too); never the secrets */
  'tokens.list': { params: none, result: z.array(ApiTokenViewSchema) },
  /** a new token (limited to `models` when given); names are checked by the store (letters, digits, . _ -; one live token per name) */
  'tokens.create': { params: z.strictObject({ name: z.string().min(1).max(64), models: z.array(z.string().min(1).max(64)).min(1).max(100).optional() }), result: NewApiTokenSchema },
  /** revoke a live token: every running `serve --api` answers 401 to it from the next request on */
  'tokens.revoke': { params: z.strictObject({ id: z.string().regex(/^t[0-9a-f]{8}$/, 'a token id (t…)') }), result: ApiTokenViewSchema },
  'settings.get': { params: none, result: SettingsViewSchema },
  /** validated by the settings module itself (one source of truth: the message names the key and its allowed values) */
  'settings.update': { params: z.strictObject({ patch: SettingsPatch }), result: SettingsViewSchema },
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
/** what a caller passes (defaults may be left out) */
export type Params<M extends MethodName> = z.input<Methods[M]['params']>;
/** what a handler receives (defaults filled in) */
export type ParsedParams<M extends MethodName> = z.output<Methods[M]['params']>;
export type Result<M extends MethodName> = z.output<Methods[M]['result']>;

export const methodNames = Object.keys(methods) as MethodName[];
export const isMethodName = (s: string): s is MethodName => Object.hasOwn(methods, s);

/** The core implements this once; transports only carry calls to it. */
export type Handlers = { [M in MethodName]: (params: ParsedParams<M>) => Promise<Result<M>> };

// ---- events ----

export const ApiEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job-started'), job: JobSummarySchema }),
  z.object({ type: z.literal('job-progress'), progress: ProgressSchema }),
  z.object({ type: z.literal('job-finished'), job: JobSummarySchema, error: ApiErrorSchema.nullable() }),
  z.object({ type: z.literal('sync-finished'), sync: SyncViewSchema }),
  z.object({ type: z.literal('pull-progress'), progress: PullProgressSchema }),
  z.object({ type: z.literal('gpu-progress'), progress: GpuProgressSchema }),
  z.object({ type: z.literal('train-progress'), run: TrainRunSchema }),
  z.object({ type: z.literal('train-finished'), run: TrainRunSchema }),
]);
export type ApiEvent = z.infer<typeof ApiEventSchema>;

// ---- transport constants (both transports and both clients read them from here) ----

export const HTTP = {
  call: '/api/call/',
  events: '/api/events',
  uploads: '/api/uploads',
  /** GET /api/files/<jobId>/output | /api/files/<jobId>/rejects */
  files: '/api/files/',
  tokenCookie: 'outpost_token',
} as const;

export const IPC = {
  call: 'outpost:call',
  event: 'outpost:event',
  reveal: 'outpost:reveal',
} as const;

export const RevealParamsSchema = z.strictObject({ jobId: JobId, which: z.enum(['output', 'rejects']) });
