// Score a file: read → validate → infer (worker) → write output → log, with checkpoints so a killed
// run resumes exactly where it last committed. Output and rejects go to temp files renamed at the
// end; the prediction log rows of a checkpoint are committed in the same transaction as it.
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { InferenceEngine, intraOpThreadsHere, type Feeds } from '../../inference/node/engine.ts';
import { cacheDate } from '../../inference/common/providers.ts';
import { PROBE_CACHE_FILE } from '../../inference/node/probe-cache.ts';
import type { ColumnBatch, InputFormat, OutColumn, OutputFormat, ResumePoint, SinkState, TableSink, TableSource } from '../../io/common/table.ts';
import { escapeControls } from '../../io/common/control-chars.ts';
import { describeRepeated, unreadRepeats } from '../../io/common/request.ts';
import { releaseBatch } from '../../io/common/cells.ts';
import { openSink, openSource } from '../../io/node/open.ts';
import { stringValues, utf8OutColumn } from '../../io/common/utf8-cells.ts';
import type { SinkThread } from '../../io/node/worker-sink.ts';
import { removeStalePartials } from '../../io/node/partial-file.ts';
import type { Card } from '../../package/common/card.ts';
import type { ModelInfo } from '../../onnx/common/onnx.ts';
import { createJob, getJob, jobsWritingTo, newJobId, saveCounters, setJobStatus, type Job, type JobOptions } from '../../store/node/jobs.ts';
import { modelMonitoring, type Monitoring } from '../../monitor/common/features.ts';
import { getModelForScoring } from '../../store/node/checked-card.ts';
import type { InstalledModel } from '../../store/node/model-list.ts';
import type { PackedColumn } from '../../store/common/packing.ts';
import { getSettings, type Store } from '../../store/node/store.ts';
import { logInputColumns, outputBatchColumns, readOutputs } from '../common/outputs.ts';
import { columnRequests, validateBatch, type Reject, type ValidatedBatch } from '../common/validate.ts';
import { fingerprintFile } from './fingerprint.ts';
import { acquireJobLock } from './job-lock.ts';
import { showWritten } from './written-rejects.ts';
import { runAhead } from '../../common/run-ahead.ts';
import { JobLog, type LoggedBatch } from './job-log.ts';
import { loadVerifiedModel } from './verified-model.ts';

export type { ScoringObserver } from './job-log.ts';

// Loaded when used, not at every start-up: the hints of a column-mismatch error (and, in execute,
// the writer thread of a big input).
const columnHints = () => import('../../io/common/column-hints.ts');

export interface ScoreRequest {
  input: string;
  model: string;
  out?: string;
  format?: OutputFormat;
  inputFormat?: InputFormat;
  delimiter?: string;
  idColumn?: string;
  ep?: string;
  batchRows?: number;
  maxRejectRate?: number;
  /** write predictions to the store's log (default true; benchmarks compare with it off) */
  logPredictions?: boolean;
  /**
   * An output (or its rejects file) that already exists: 'rename' picks a fresh name beside it,
   * 'refuse' fails, 'replace' overwrites it (saying so). Default: 'rename' for the default output
   * name, 'replace' for an explicit `out` (the CLI passes 'refuse' unless --overwrite).
   */
  existingOutput?: 'rename' | 'refuse' | 'replace';
}

export interface Progress {
  jobId: string;
  rowsRead: number;
  rowsScored: number;
  rowsRejected: number;
  /** 0..1 when the input size is known */
  fraction: number;
  rowsPerSecond: number;
  etaSeconds: number | null;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** called once the job exists (its id is needed to resume) */
  onStart?: (job: Job) => void;
  /** rows between checkpoints (default: about one per second of work) */
  checkpointRows?: number;
  /** non-fatal notes for the user (e.g. serving a signed model offline within its grace period) */
  onWarning?: (line: string) => void;
  /** CSV decode threads (default: the cores beyond two, see io/node/csv-parallel.ts; 0 = decode on this thread) */
  decodeThreads?: number;
  /** format and write the output in a worker thread (default: when the input is at least WRITER_THREAD_MIN_BYTES) */
  writerThread?: boolean;
}

/**
 * Below this input size the output is formatted on the scoring thread. A writer thread costs
 * ~150–250 ms of CPU to start (its own Node instance and modules) and pays off only when its
 * number formatting overlaps many batches; for a file of a batch or two it was a quarter of a
 * 1,000-row `outpost score`. The bytes written are the same either way (same encoder).
 */
export const WRITER_THREAD_MIN_BYTES = 4 << 20;

const useWriterThread = (opts: RunOptions, source: TableSource): boolean => opts.writerThread ?? source.sizeBytes >= WRITER_THREAD_MIN_BYTES;

export interface JobResult {
  job: Job;
  rejectsPath: string | null;
  rejectReasons: { reason: string; count: number }[];
  seconds: number;
  rowsPerSecond: number;
}

/**
 * `sinceCheckpoint`: set by a Ctrl-C checkpoint, the rows read since the last regular one — the
 * resumed run's checkpoints (which end Parquet row groups) then fall where an uninterrupted run's do.
 */
interface Checkpoint { resume: ResumePoint; output: SinkState; rejects: SinkState; seq: number; reasons: Record<string, number>; sinceCheckpoint?: number }

/**
 * Rows per batch when the caller names none: about a million input cells, i.e. 32,768 rows up to
 * 32 inputs, fewer for wider rows, never under 8,192. Every batch costs the pipeline a fixed amount —
 * a message to each worker (waking a sleeping thread costs 0.1–0.5 ms of the sender's time on these
 * VMs), a prediction-log row, an inference call — which made 8,192-row batches use ~15 % more CPU
 * than 32,768-row ones on 1M-row files (bench/results/README.md, Session 13). The cap keeps one
 * batch's logged inputs (logInputs all), one sync item, no larger than 8,192 rows of 128 inputs were.
 */
export function defaultBatchRows(inputs: number): number {
  const rows = Math.floor(BATCH_CELLS / Math.max(1, inputs) / 1024) * 1024;
  return Math.max(MIN_DEFAULT_BATCH_ROWS, Math.min(MAX_DEFAULT_BATCH_ROWS, rows));
}
const BATCH_CELLS = 1 << 20;
const MIN_DEFAULT_BATCH_ROWS = 8192;
const MAX_DEFAULT_BATCH_ROWS = 32_768;
/**
 * Rows read, validated and queued in the inference worker ahead of the batch being finished:
 * enough to keep the worker busy through a checkpoint (the writer drains, the log commits: tens of
 * ms on the scoring thread; ~4 ms of inference per 8,192 rows). Counted in rows so that large
 * batches do not multiply the memory held (at least one batch ahead).
 */
export const PIPELINE_ROWS = 131_072;
/** Batches ahead for a job's batch size. */
export const pipelineBatches = (batchRows: number): number => Math.max(1, Math.min(16, Math.floor(PIPELINE_ROWS / batchRows)));
/** The engine's laneDepth for a job: every batch read ahead goes to the worker (at least the engine's default two). */
const laneDepthFor = (batchRows: number): number => Math.max(2, pipelineBatches(batchRows));
export const DEFAULT_MAX_REJECT_RATE = 0.2;
/** The reject rate is judged once this many rows were read (or at the end of a smaller file). */
const REJECT_RATE_MIN_ROWS = 1000;
const REJECT_COLUMNS = ['row', 'column', 'reason', 'value'];

const extFor = (f: OutputFormat): string => (f === 'jsonl' ? 'jsonl' : f);

function defaultOutput(input: string, format: OutputFormat): string {
  const base = path.basename(input).replace(/\.(csv|tsv|txt|jsonl|ndjson|parquet)$/i, '');
  return path.join(path.dirname(input), `${base}.scored.${extFor(format)}`);
}

function formatOf(file: string): OutputFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  return ext === '.csv' || ext === '.tsv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : ext === '.parquet' ? 'parquet' : undefined;
}

const rejectsPathFor = (outputPath: string): string => outputPath.replace(/\.[^./\\]+$/, '') + '.rejects.csv';

/** `<base>-2.<ext>`, `<base>-3.<ext>`, … for a name that is taken. */
function numbered(file: string, n: number): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}-${n}${ext}`;
}

/**
 * Where the output goes, checked before a job exists: its folder exists and is writable, it is not
 * a folder, it is not another live or resumable job's target, and an existing file is never
 * silently replaced (a fresh name for the default output; refused or replaced, saying so, for an
 * explicit one).
 */
function chooseOutput(store: Store, req: ScoreRequest, input: string, format: OutputFormat, warn: (line: string) => void): string {
  const explicit = req.out !== undefined;
  const code = explicit ? 'usage' : 'input';
  let outputPath = path.resolve(req.out ?? defaultOutput(input, format));
  const dir = path.dirname(outputPath);
  const dirStat = fs.statSync(dir, { throwIfNoEntry: false });
  if (!dirStat) throw new OutpostError(code, `the output folder ${dir} does not exist`, { file: outputPath });
  if (!dirStat.isDirectory()) throw new OutpostError(code, `the output's parent ${dir} is not a folder`, { file: outputPath });
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new OutpostError(code, `cannot write to the output folder ${dir} (permission denied)${explicit ? '' : '; choose another place with --out'}`, { file: outputPath });
  }
  if (fs.statSync(outputPath, { throwIfNoEntry: false })?.isDirectory()) throw new OutpostError(code, 'the output path is a folder; name a file', { file: outputPath });
  const owners = (file: string) => [...jobsWritingTo(store, file), ...jobsWritingTo(store, rejectsPathFor(file))];
  const busy = (file: string) => owners(file).find((j) => j.status === 'running' || j.status === 'cancelled');
  const taken = (file: string) => fs.existsSync(file) || fs.existsSync(rejectsPathFor(file)) || busy(file) !== undefined;
  const policy = req.existingOutput ?? (explicit ? 'replace' : 'rename');
  if (!taken(outputPath)) return outputPath;
  const describe = (file: string) => {
    const j = owners(file).at(-1);
    return j ? ` (the output of job ${j.id}, ${j.status})` : '';
  };
  const live = busy(outputPath);
  if (policy === 'rename') {
    let n = 2;
    while (taken(numbered(outputPath, n))) n++;
    const fresh = numbered(outputPath, n);
    warn(`${outputPath} already exists${describe(outputPath)}; writing ${fresh} instead`);
    outputPath = fresh;
  } else if (live) {
    const state = live.status === 'running' ? 'running or was stopped' : 'cancelled';
    // a job whose input changed since cannot be resumed (resumeJob refuses it): do not offer it
    if (!inputUnchanged(live)) throw new OutpostError('conflict', `${outputPath} is the output of job ${live.id}, which is ${state}, but its input ${live.inputPath} changed since it started, so it cannot be resumed; remove it (outpost jobs rm ${live.id} --yes) or choose another --out`, { file: outputPath });
    throw new OutpostError('conflict', `${outputPath} is the output of job ${live.id}, which is ${state} and can be resumed; resume it (outpost score --resume ${live.id}), remove it (outpost jobs rm ${live.id} --yes) or choose another --out`, { file: outputPath });
  } else if (policy === 'refuse') {
    throw new OutpostError('conflict', `${fs.existsSync(outputPath) ? outputPath : rejectsPathFor(outputPath)} already exists${describe(outputPath)}; pass --overwrite to replace it, or choose another --out`, { file: outputPath });
  } else {
    warn(`replacing ${outputPath}${describe(outputPath)}`);
  }
  return outputPath;
}

/**
 * A column the file names twice: refused when the model or --id reads it (which of the two is
 * meant cannot be known), a warning otherwise — a file is not refused for a column nobody reads.
 */
function checkRepeatedColumns(source: TableSource, inputs: readonly string[], idColumn: string | undefined, warn: (line: string) => void): void {
  const read = new Set(idColumn === undefined ? inputs : [...inputs, idColumn]);
  for (const r of unreadRepeats(source.path, source.columns, read)) warn(`column ${describeRepeated(r)} appears more than once in ${path.basename(source.path)}; the model does not read it, so the file is scored`);
}

/** Check everything that can be checked before any work or any store write. */
async function prepare(store: Store, req: ScoreRequest & { batchRows: number }, warn: (line: string) => void, resolved?: InstalledModel): Promise<{ model: InstalledModel; source: TableSource; job: Omit<Job, 'status' | 'rowsRead' | 'rowsScored' | 'rowsRejected' | 'busyMs' | 'checkpoint' | 'error' | 'createdAt' | 'updatedAt' | 'finishedAt' | 'provider' | 'providerSummary'> }> {
  const model = resolved ?? await getModelForScoring(store, req.model);
  const input = path.resolve(req.input);
  const outFormat = req.out !== undefined ? formatOf(req.out) : undefined;
  if (req.format && req.out !== undefined && outFormat && outFormat !== req.format) {
    throw new OutpostError('usage', `--format ${req.format} does not match the output file ${path.basename(req.out)} (a .${extFor(outFormat)} name); name it .${extFor(req.format)} or leave out --format`, { file: path.resolve(req.out) });
  }
  // the id is copied to the output as text; a column the model reads is requested as its type
  if (req.idColumn !== undefined && model.card.inputs.some((f) => f.name === req.idColumn)) {
    throw new OutpostError('usage', `--id column "${req.idColumn}" is an input of the model; the id must be a column the model does not read (leave out --id to number the rows)`);
  }
  const source = await openSource(input, { ...(req.inputFormat ? { format: req.inputFormat } : {}), ...(req.delimiter ? { delimiter: req.delimiter } : {}), allowRepeatedColumns: true });
  try {
    checkRepeatedColumns(source, model.card.inputs.map((f) => f.name), req.idColumn, warn);
    const have = new Set(source.columns);
    // JSONL columns are the keys of the first records: a nullable key may first appear later (null until then)
    const missing = model.card.inputs.filter((f) => !have.has(f.name) && !(source.openColumns && f.nullable)).map((f) => f.name);
    if (missing.length) {
      const hints = (await columnHints()).missingColumnHints(source.columns, missing, source.format);
      // the file's names echoed with control characters as escapes (a header is text from the file)
      const names = source.columns.map(escapeControls).join(', ');
      const seen = source.openColumns ? ` (the first ${source.openColumns.toLocaleString('en-US')} records have: ${names})` : ` (the file has: ${names})`;
      throw new OutpostError('input', `missing required column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}${seen}${hints.length ? `; ${hints.join('; ')}` : ''}`, { file: input }, { missing });
    }
    if (req.idColumn !== undefined && !have.has(req.idColumn)) {
      const hints = (await columnHints()).missingColumnHints(source.columns, [req.idColumn], source.format);
      throw new OutpostError('usage', `--id column "${req.idColumn}" is not in the file (it has: ${source.columns.map(escapeControls).join(', ')})${hints.length ? `; ${hints.join('; ')}` : ''}`);
    }
    const format = req.format ?? outFormat ?? source.format;
    if (path.resolve(req.out ?? defaultOutput(input, format)) === input) throw new OutpostError('usage', 'the output would overwrite the input; choose another --out');
    const outputPath = chooseOutput(store, req, input, format, warn);
    const settings = getSettings(store);
    const options: JobOptions = {
      ...(req.idColumn !== undefined ? { idColumn: req.idColumn } : {}),
      batchRows: req.batchRows,
      ep: req.ep ?? settings.provider,
      maxRejectRate: req.maxRejectRate ?? DEFAULT_MAX_REJECT_RATE,
      ...(req.delimiter ? { delimiter: req.delimiter } : {}),
      logPredictions: req.logPredictions ?? true,
      logInputs: settings.logInputs,
      logSampleRate: settings.logSampleRate,
      ...(settings.csvSafe ? { csvSafe: true } : {}),
    };
    const { size, fingerprint } = fingerprintFile(input);
    return {
      model,
      source,
      job: {
        id: newJobId(), modelName: model.name, modelVersion: model.version, inputPath: input, inputFormat: source.format,
        inputSize: size, inputFingerprint: fingerprint, outputPath, outputFormat: format, rejectsPath: rejectsPathFor(outputPath), options,
      },
    };
  } catch (e) {
    await source.close();
    throw e;
  }
}

export async function scoreFile(store: Store, req: ScoreRequest, opts: RunOptions = {}): Promise<JobResult> {
  // The engine's threads start (and load ONNX Runtime) while the input and output are checked: a
  // small file's run is mostly this fixed cost. A check that fails closes the engine unused.
  const model = await getModelForScoring(store, req.model);
  const batchRows = req.batchRows ?? defaultBatchRows(model.card.inputs.length);
  const starting = openEngine(store, model, req.ep ?? getSettings(store).provider, opts, laneDepthFor(batchRows));
  starting.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(store, { ...req, batchRows }, (line) => opts.onWarning?.(line), model);
  } catch (e) {
    await starting.then(({ engine }) => engine.close(), () => {});
    throw e;
  }
  const { source, job: planned } = prepared;
  // the output's writer thread starts while the engine is still loading (each takes ~0.1–0.3 s to
  // start; its module loads only for an input that uses one)
  const sinkThread = useWriterThread(opts, source) ? (await import('../../io/node/worker-sink.ts')).startSinkThread(planned.outputFormat as OutputFormat) : undefined;
  // made while the inference worker creates its session, which this thread would otherwise wait for
  const monitoring = modelMonitoring(model.card);
  let opened: Awaited<ReturnType<typeof openEngine>>;
  try {
    opened = await starting;
  } catch (e) {
    await sinkThread?.worker.terminate();
    await source.close();
    throw e;
  }
  const options = opts.checkpointRows !== undefined ? { ...planned.options, checkpointRows: opts.checkpointRows } : planned.options;
  const job = createJob(store, { ...planned, options, provider: opened.engine.provider.chosen, providerSummary: describeProvider(opened.engine) });
  return execute(store, job, model.card, source, opened, undefined, opts, false, monitoring, sinkThread);
}

/** Whether a job's input is still the file it started on (size, head and tail: fingerprint.ts). */
function inputUnchanged(job: Pick<Job, 'inputPath' | 'inputFingerprint'>): boolean {
  return fs.existsSync(job.inputPath) && fingerprintFile(job.inputPath).fingerprint === job.inputFingerprint;
}

export async function resumeJob(store: Store, jobId: string, opts: RunOptions = {}): Promise<JobResult> {
  const job = getJob(store, jobId);
  if (job.status === 'completed') throw new OutpostError('conflict', `job ${jobId} already completed; its output is ${job.outputPath}`);
  if (job.status === 'failed') throw new OutpostError('conflict', `job ${jobId} failed (${job.error}); start a new run`);
  if (!inputUnchanged(job)) throw new OutpostError('input', `the input file changed or disappeared since the job started; start a new run (outpost jobs rm ${jobId} --yes removes this job and its partial output)`, { file: job.inputPath });
  const model = await getModelForScoring(store, `${job.modelName}@${job.modelVersion}`);
  const source = await openSource(job.inputPath, { format: job.inputFormat as InputFormat, ...(job.options.delimiter ? { delimiter: job.options.delimiter } : {}), allowRepeatedColumns: true });
  let opened: Awaited<ReturnType<typeof openEngine>>;
  try {
    opened = await openEngine(store, model, job.options.ep, opts, laneDepthFor(job.options.batchRows));
  } catch (e) {
    await source.close();
    throw e;
  }
  return execute(store, job, model.card, source, opened, (job.checkpoint as Checkpoint | null) ?? undefined, opts, true);
}

/**
 * Load the installed graph once: its bytes are re-hashed against what was verified at install (a
 * file modified on disk is refused and recorded), its declared input types drive validation, and
 * the same bytes go to the engine. Hub models must also still be within their signed freshness.
 * `laneDepth`: batches posted to the worker at a time (a file job: laneDepthFor; records keep the default).
 */
export async function openEngine(store: Store, model: InstalledModel, ep: string, opts: RunOptions, laneDepth?: number): Promise<{ engine: InferenceEngine; graph: ModelInfo }> {
  const adapted = await loadVerifiedModel(store, model, opts.onWarning);
  // a tree ensemble runs on one ORT thread on every machine (same scores everywhere: intra-op-threads.ts)
  const intraOpThreads = intraOpThreadsHere(adapted.info);
  const engine = await InferenceEngine.open(adapted.bytes, { ep: ep as never, intraOpThreads, graph: adapted.info, choose: { cacheFile: path.join(store.home, PROBE_CACHE_FILE) }, ...(laneDepth ? { laneDepth } : {}) });
  return { engine, graph: adapted.info };
}

function describeProvider(engine: InferenceEngine): string {
  const p = engine.provider;
  const others = p.candidates.filter((c) => c.name !== p.chosen).map((c) => `${c.name}: ${c.reason}`);
  const cached = p.cachedAt ? `cached probe from ${cacheDate(p.cachedAt)}` : '';
  if (!others.length) return cached ? `${p.chosen} (${cached})` : p.chosen;
  return `${p.chosen} (${cached ? `${cached}: ` : ''}${others.join('; ')})`;
}

async function execute(store: Store, job: Job, card: Card, source: TableSource, { engine, graph }: { engine: InferenceEngine; graph: ModelInfo }, from: Checkpoint | undefined, opts: RunOptions, resuming = false, monitoring?: Monitoring, sinkThread?: SinkThread): Promise<JobResult> {
  // a writer thread started ahead is the output's, or is stopped when the job ends before opening it
  let spareThread = sinkThread;
  let releaseLock: () => void;
  try {
    releaseLock = acquireJobLock(path.join(store.jobsDir, `${job.id}.lock`), job.id);
  } catch (e) {
    // Another live process owns the job: leave its record alone, just let go of what we opened.
    await spareThread?.worker.terminate();
    await engine.close();
    await source.close();
    throw e;
  }
  // Only the lock holder touches the job's record: (re)mark it running on this run's provider.
  setJobStatus(store, job.id, 'running', { provider: engine.provider.chosen, providerSummary: describeProvider(engine) });
  opts.onStart?.(getJob(store, job.id));
  const started = performance.now();
  const o = job.options;
  const counters = { rowsRead: job.rowsRead, rowsScored: job.rowsScored, rowsRejected: job.rowsRejected, busyMs: job.busyMs };
  const reasons = new Map<string, number>(Object.entries(from?.reasons ?? {}));
  let output: TableSink | undefined;
  let rejects: TableSink | undefined;
  let resumePoint: ResumePoint | undefined = from?.resume;
  let rowsSinceCheckpoint = from?.sinceCheckpoint ?? 0;
  const checkpointRows = o.checkpointRows ?? opts.checkpointRows ?? Math.max(o.batchRows, 262_144);
  const graphTypes = new Map(graph.inputs.map((i) => [i.name, i.type]));
  const graphRanks = new Map(graph.inputs.map((i) => [i.name, i.shape.length]));
  const idName = o.idColumn ?? 'row';
  const rowsAtStart = counters.rowsRead;
  // the job's logging path (prediction log, drift statistics, sync outbox); made inside the try below
  let log: JobLog | undefined;
  let lastProgress = 0;

  /** `stop`: a checkpoint off the regular cadence (Ctrl-C), which leaves a Parquet row group open. */
  const checkpoint = async (stop = false) => {
    if (!output || !rejects || !resumePoint) return;
    const outState = await output.checkpoint(stop ? { keepOpen: true } : {});
    const rejState = await rejects.checkpoint();
    const state: Checkpoint = { resume: resumePoint, output: outState, rejects: rejState, seq: log!.seq, reasons: Object.fromEntries(reasons), ...(stop && rowsSinceCheckpoint ? { sinceCheckpoint: rowsSinceCheckpoint } : {}) };
    log!.commit({ ...counters, busyMs: counters.busyMs + (performance.now() - started) }, state);
    rowsSinceCheckpoint = 0;
  };

  const progress = (force = false) => {
    const now = performance.now();
    if (!opts.onProgress || (!force && now - lastProgress < 200)) return;
    lastProgress = now;
    const secs = (now - started) / 1000;
    const rate = secs > 0 ? (counters.rowsRead - rowsAtStart) / secs : 0;
    const fraction = source.totalRows ? counters.rowsRead / source.totalRows : source.sizeBytes ? (resumePoint?.offset ?? 0) / source.sizeBytes : 0;
    const eta = fraction > 0 && fraction < 1 && secs > 0 ? (secs / Math.max(1e-9, fraction - (from ? from.resume.offset / Math.max(1, source.sizeBytes) : 0))) * (1 - fraction) : null;
    opts.onProgress({ jobId: job.id, ...counters, fraction: Math.min(1, fraction), rowsPerSecond: rate, etaSeconds: eta });
  };

  /** What a batch carries between validation and writing (inference runs in between). */
  type InFlight = { batch: ColumnBatch; v: ValidatedBatch; rowNumbers: Int32Array; loggedInputs: PackedColumn[] | undefined; run: Promise<Feeds> | undefined };

  const finishBatch = async ({ batch, v, rowNumbers, loggedInputs, run }: InFlight) => {
    const outputs = run ? await run : undefined;
    const m = v.accepted.length;
    let ids: LoggedBatch['ids'];
    let idCol: OutColumn;
    const src = o.idColumn !== undefined ? batch.columns[card.inputs.length] : undefined;
    if (src?.kind === 'string' && src.utf8 && job.outputFormat === 'csv') {
      // a CSV output copies the id's bytes as read, and the log takes them too: no string per row
      // (the reader made none), none to send to the writer's thread
      const cells = utf8OutColumn(idName, src.utf8, v.accepted, batch.length);
      idCol = cells;
      ids = cells;
    } else if (src) {
      const vals = src.kind === 'string' ? stringValues(src) : [];
      const accepted = v.accepted;
      const strings = new Array<string | null>(m);
      for (let j = 0; j < m; j++) strings[j] = vals[accepted[j]] ?? null;
      idCol = { name: idName, type: 'string', values: strings };
      ids = strings;
    } else idCol = { name: idName, type: 'int', values: rowNumbers };
    const scored = m > 0 && outputs ? readOutputs(card, outputs, m) : undefined;
    log!.add(batch, v, scored, { rowNumbers, ids, inputs: loggedInputs });
    if (scored) await output!.write({ length: m, columns: outputBatchColumns(card, idCol, scored) });
    if (v.rejects.length) await rejects!.write(rejectBatch(v.rejects));
    for (const r of v.rejects) {
      const kind = reasonKind(r);
      reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
    }
    counters.rowsRead += batch.length;
    counters.rowsScored += m;
    counters.rowsRejected += v.rejectedRows;
    resumePoint = batch.end;
    rowsSinceCheckpoint += batch.length;
    if (counters.rowsRead >= REJECT_RATE_MIN_ROWS) checkRejectRate();
    if (rowsSinceCheckpoint >= checkpointRows) await checkpoint();
    progress();
    // validated, counted, logged and written: its numbers are read no more
    releaseBatch(batch);
  };

  const checkRejectRate = () => {
    const rate = counters.rowsRejected / Math.max(1, counters.rowsRead);
    if (rate > o.maxRejectRate) {
      const top = [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([r, n]) => `${r} (${n})`).join('; ');
      throw new OutpostError('reject-rate', `${counters.rowsRejected} of ${counters.rowsRead} rows rejected (${(rate * 100).toFixed(1)}%, limit ${(o.maxRejectRate * 100).toFixed(1)}% — set --max-reject-rate to change it); most common: ${top}`, { file: job.inputPath });
    }
  };

  try {
    log = new JobLog(store, job, card, from?.seq ?? 0, monitoring ? { monitoring } : {});
    if (resuming) {
      // temp files of the runs that were killed after their last checkpoint (or before the first): only the checkpoint's are continued
      await removeStalePartials(job.outputPath, [from?.output.tempPath, from?.output.sideFile]);
      await removeStalePartials(job.rejectsPath, [from?.rejects.tempPath, from?.rejects.sideFile]);
    }
    // The output's number formatting runs in a worker, overlapping with reading the next batches.
    const safe = o.csvSafe ? { csvSafe: true } : {};
    const outOptions = { ...(from ? { resume: from.output } : {}), ...(job.outputFormat === 'csv' ? safe : {}) };
    const thread = spareThread;
    spareThread = undefined;
    const out = (output = useWriterThread(opts, source)
      ? await (await import('../../io/node/worker-sink.ts')).openWorkerSink(job.outputPath, job.outputFormat as OutputFormat, outOptions, thread)
      : await openSink(job.outputPath, job.outputFormat as OutputFormat, outOptions));
    const rej = (rejects = await openSink(job.rejectsPath, 'csv', { ...(from ? { resume: from.rejects } : {}), ...safe }));
    const requests = columnRequests(card.inputs, o.idColumn);
    const batches = source.batches(requests, { batchRows: o.batchRows, ...(from ? { from: from.resume } : {}), ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.decodeThreads !== undefined ? { decodeThreads: opts.decodeThreads } : {}) });
    // Read, validate and hand batches to the inference worker up to pipelineBatches ahead of
    // finishing them (write, log, checkpoint): while a checkpoint waits for the writer or commits,
    // the worker still has batches to run.
    async function* readAhead(): AsyncGenerator<InFlight> {
      for await (const batch of batches) {
        for (const w of batch.warnings ?? []) opts.onWarning?.(`${path.basename(job.inputPath)}: ${w}`);
        const v = validateBatch(batch, card.inputs, graphTypes, graphRanks, card.tensors, o.idColumn);
        if (v.rejects.some((r) => r.parsed)) await showWritten(source, batch, v.rejects);
        const rowNumbers = new Int32Array(v.accepted.length);
        for (let j = 0; j < rowNumbers.length; j++) rowNumbers[j] = batch.firstRow + v.accepted[j];
        // Copy what the log keeps of the inputs first: the feeds' buffers then move to the worker.
        const loggedInputs = o.logPredictions ? logInputColumns(v.feeds, rowNumbers, o.logInputs, o.logSampleRate, card.tensors) : undefined;
        const run = v.accepted.length ? engine.run(v.feeds, { transferInputs: true }) : undefined;
        run?.catch(() => {}); // awaited in finishBatch; avoid an unhandled rejection while queued
        yield { batch, v, rowNumbers, loggedInputs, run };
        if (opts.signal?.aborted) break;
      }
    }
    await runAhead(readAhead(), pipelineBatches(o.batchRows), async (head) => {
      // a stop lands at the next batch boundary: the batches read ahead are read again on resume
      if (opts.signal?.aborted) throw new OutpostError('cancelled', 'stopped by the user');
      await finishBatch(head);
    });
    if (opts.signal?.aborted) throw new OutpostError('cancelled', 'stopped by the user');
    if (counters.rowsRead < REJECT_RATE_MIN_ROWS) checkRejectRate();
    await checkpoint();
    await out.finish();
    let rejectsPath: string | null = null;
    if (counters.rowsRejected > 0) {
      await rej.finish();
      rejectsPath = job.rejectsPath;
    } else {
      const st = await rej.checkpoint();
      await rej.close();
      fs.rmSync(st.tempPath, { force: true });
      fs.rmSync(job.rejectsPath, { force: true }); // an old rejects file would now be misleading
    }
    setJobStatus(store, job.id, 'completed');
    // the job's summary item is written with its status, after the last checkpoint's quota check
    log.finish();
    progress(true);
    const seconds = (performance.now() - started) / 1000;
    return {
      job: getJob(store, job.id),
      rejectsPath,
      rejectReasons: [...reasons.entries()].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
      seconds,
      rowsPerSecond: (counters.rowsRead - rowsAtStart) / Math.max(1e-9, seconds),
    };
  } catch (e) {
    const err = e instanceof OutpostError ? e : new OutpostError('input', (e as Error).message);
    if (err.code === 'cancelled') {
      // Wherever the stop landed (between batches or inside the reader), keep what was finished.
      await checkpoint(true).catch(() => {});
      setJobStatus(store, job.id, 'cancelled', { error: 'cancelled by the user; resume with --resume' });
      await output?.close().catch(() => {});
      await rejects?.close().catch(() => {});
      throw new OutpostError('cancelled', `cancelled after ${counters.rowsRead} rows; resume with: outpost score --resume ${job.id}`, {}, { jobId: job.id });
    }
    if (err.code === 'reject-rate') {
      // Too many rows rejected — often a spike of category values the model does not know: the
      // statistics of what was read (unseen values included) are kept, so `outpost drift` and its
      // alerts show the spike that stopped the job. A failed job is never resumed: nothing is counted twice.
      try {
        log?.persistObservers();
      } catch { /* the job fails with its own error either way */ }
    }
    let keptRejects = false;
    if (err.code === 'reject-rate' && rejects && counters.rowsRejected > 0) {
      // the rows that were judged: their rejects are what the user needs to fix the file
      keptRejects = await rejects.finish().then(() => true, () => false);
    }
    store.db.transaction(() => {
      // the real counters of the rows read (a checkpoint may not have stored them yet), and the reasons
      saveCounters(store, job.id, { ...counters, busyMs: counters.busyMs + (performance.now() - started) });
      if (reasons.size) store.db.prepare('UPDATE jobs SET checkpoint_json = ? WHERE id = ?').run(JSON.stringify({ reasons: Object.fromEntries(reasons) }), job.id);
      setJobStatus(store, job.id, 'failed', { error: err.message + (keptRejects ? `; rejected rows: ${job.rejectsPath}` : '') });
    })();
    for (const s of keptRejects ? [output] : [output, rejects]) {
      if (!s) continue;
      const st = await s.checkpoint().catch(() => undefined);
      await s.close().catch(() => {});
      if (st) fs.rmSync(st.tempPath, { force: true });
    }
    // A failed job is never resumed: a resumed one's partial files and the side file a Ctrl-C
    // checkpoint left go too — also when it failed before it could reopen them (one was missing).
    if (from) for (const target of [job.outputPath, job.rejectsPath]) await removeStalePartials(target).catch(() => {});
    if (keptRejects) throw new OutpostError(err.code, `${err.message}; the rejected rows are in ${job.rejectsPath}`, err.location, { ...err.details, jobId: job.id, rejectsPath: job.rejectsPath });
    throw err;
  } finally {
    log?.close();
    await spareThread?.worker.terminate();
    await engine.close();
    await source.close();
    releaseLock();
  }
}

/** A value as a reason shows it: JSON-quoted text, or a number ("1,048,576" whole). */
const SHOWN_VALUE = String.raw`(?:"(?:[^"\\]|\\.)*"|-?\d(?:[\d.e+-]|,\d)*)`;
/**
 * Where a reason shows the row's own value: the value it starts with ("61 is above the maximum 60",
 * "\"teal\" is not in the vocabulary (…)", "1,048,576 characters is too long…"), the text after
 * "cannot parse " and in "missing value (…)", and the count after ", found " (a CSV row's fields).
 */
const ROW_VALUES = new RegExp(String.raw`^${SHOWN_VALUE}|(?<=cannot parse |missing value \()${SHOWN_VALUE}|(?<=, found )\d+`, 'gu');
const MISSING_MARKER = /^missing value \(…\) /;
/** A JSON parser's message is all about the line (positions, the text near them, the token it met): every value in it goes. */
const JSON_PROBLEM = 'invalid JSON: ';
const ANY_VALUE = /"[^"]*"|'[^']*'|(?<![\p{L}\d_+-])-?\d(?:[\d.e+-]|,\d)*/gu;

/**
 * Group reject reasons for the summary: same column and reason, the row's own values elided (so
 * rejects of one kind with different values group together). What is the same for every row stays:
 * a card's limits and vocabulary, a type's ("beyond ±3.4e38", "exact up to 2^53 - 1"), "at most 4,096".
 */
export const reasonKind = (r: Reject): string => {
  // a missing cell's marker ("NA", "NaN") is the row's own: one group with the empty cells
  const kind = r.reason.startsWith(JSON_PROBLEM) ? JSON_PROBLEM + r.reason.slice(JSON_PROBLEM.length).replace(ANY_VALUE, '…') : r.reason.replace(ROW_VALUES, '…').replace(MISSING_MARKER, 'missing value ');
  return escapeControls(`${r.column ? `${r.column}: ` : ''}${kind}`);
};

function rejectBatch(rejects: Reject[]) {
  return {
    length: rejects.length,
    columns: [
      { name: REJECT_COLUMNS[0], type: 'int' as const, values: Float64Array.from(rejects, (r) => r.row) },
      // echoed text is for reading: control characters written as escapes (control-chars.ts)
      { name: REJECT_COLUMNS[1], type: 'string' as const, values: rejects.map((r) => escapeControls(r.column)) },
      { name: REJECT_COLUMNS[2], type: 'string' as const, values: rejects.map((r) => escapeControls(r.reason)) },
      { name: REJECT_COLUMNS[3], type: 'string' as const, values: rejects.map((r) => escapeControls(r.value)) },
    ],
  };
}
