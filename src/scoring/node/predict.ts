// Single records: JSON objects in, the model's outputs out — `outpost predict` and the local HTTP
// API. The same cell rules (the JSONL decoder), validation (validate.ts), output reading (common/record.ts,
// shared with the app's what-if explorer), engine (openEngine, with
// the model-file hash check) and logging path (JobLog: prediction log, drift statistics, sync
// outbox, retention) as file scoring.
//
// Logging: the records of one caller for one model version on one UTC day form a "record session",
// a job (input format `records`, input `records:<caller>`) that `outpost jobs`, the Jobs screen,
// drift windows and sync see like any other. A session is always `completed` (nothing in it can
// be resumed); its counters grow with each commit. Commits happen at most a second after a record
// was scored (or at once past COMMIT_ROWS rows, and when the scorer closes), like a scoring job's
// checkpoint: a process killed in between loses the log of its last second, never a half-written
// one. A session job is held by one process at a time (the job lock): a second process scoring
// for the same caller and day gets a session job of its own.
import path from 'node:path';
import { JsonlDecoder, parseJsonlLine, parseKeepingNumbers, topLevelNumbers, type JsonlLine } from '../../io/common/jsonl-decoder.ts';
import type { ColumnBatch } from '../../io/common/table.ts';
import type { InferenceEngine } from '../../inference/node/engine.ts';
import type { ElemType } from '../../onnx/common/onnx.ts';
import type { Card } from '../../package/common/card.ts';
import { createJob, getJob, newJobId, RECORDS_FORMAT, setJobStatus, type Job } from '../../store/node/jobs.ts';
import type { InstalledModel } from '../../store/node/models.ts';
import { getSettings, nowIso, type Store } from '../../store/node/store.ts';
import { logInputColumns, readOutputs, type ScoredColumns } from '../common/outputs.ts';
import { echoAsSent, printedOutputs, recordTypeErrors, unknownFields, type FieldError } from '../common/record.ts';
import { columnRequests, validateBatch, type Feed, type Reject } from '../common/validate.ts';
import { acquireJobLock } from './job-lock.ts';
import { JobLog } from './job-log.ts';
import { openEngine, reasonKind } from './score-file.ts';

export type { FieldError };

/**
 * Probabilities and values are the numbers whose shortest text (String, JSON) is exactly what
 * `outpost score` writes: the shortest decimal that reads back as the float32 the model produced.
 */
export type RecordOutcome =
  | { ok: true; label?: string; probabilities?: Record<string, number>; value?: number }
  | { ok: false; errors: FieldError[] };

export type Prediction = { line: number } & RecordOutcome;

/**
 * One record as the caller gave it: JSON text (the CLI) or an already parsed JSON value (an API
 * body), with, on request, its JSON numbers as sent (for a refused record's errors).
 */
export type RecordInput = { text: string } | { value: unknown; numbers?: () => ReadonlyMap<string, string> | undefined };

/** Rows after which a session commits at once instead of waiting for its timer. */
const COMMIT_ROWS = 4096;
const COMMIT_DELAY_MS = 1000;
/** Engine runs in flight per scorer before requests wait to be batched (the engine keeps two per worker busy). */
const MAX_RUNNING = 2;
/** Requests run together at most (a batch of up to this many API requests, each ≤ its record limit). */
const MAX_BATCH_REQUESTS = 256;

const utcDay = (t: number): string => new Date(t).toISOString().slice(0, 10);

export interface RecordScorerOptions {
  onWarning?: (line: string) => void;
  /** write the prediction log, drift statistics and sync items (default true) */
  log?: boolean;
  /** the clock that picks the session's day (tests) */
  now?: () => number;
}

/** One model version's engine, shared by every caller; records are logged per caller in sessions. */
export class RecordScorer {
  readonly model: InstalledModel;
  private readonly store: Store;
  private readonly engine: InferenceEngine;
  private readonly graphTypes: Map<string, ElemType>;
  private readonly graphRanks: Map<string, number>;
  private readonly opts: RecordScorerOptions;
  private readonly sessions = new Map<string, RecordSession>();
  private closed = false;
  /** engine runs in flight, and the requests waiting to be run together when one finishes */
  private running = 0;
  private waiting: { feeds: Record<string, Feed>; rows: number; resolve: (o: Record<string, Feed>) => void; reject: (e: unknown) => void }[] = [];

  private constructor(store: Store, model: InstalledModel, engine: InferenceEngine, graph: { inputs: { name: string; type: ElemType; shape: unknown[] }[] }, opts: RecordScorerOptions) {
    this.store = store;
    this.model = model;
    this.engine = engine;
    this.graphTypes = new Map(graph.inputs.map((i) => [i.name, i.type]));
    this.graphRanks = new Map(graph.inputs.map((i) => [i.name, i.shape.length]));
    this.opts = opts;
  }

  static async open(store: Store, model: InstalledModel, ep: string, opts: RecordScorerOptions = {}): Promise<RecordScorer> {
    const { engine, graph } = await openEngine(store, model, ep, opts.onWarning ? { onWarning: opts.onWarning } : {});
    return new RecordScorer(store, model, engine, graph, opts);
  }

  get provider(): string {
    return this.engine.provider.chosen;
  }

  /**
   * Validate and score records as one batch; one outcome per record, in order. `caller` names who
   * asked (`cli`, `api:<token name>`): it picks the record session the rows are logged in.
   * `atomic`: when any record fails validation nothing is scored or logged (the valid records get
   * `{ok: false, errors: []}`) — an HTTP request refused as a whole. `strictTypes`: a value of the
   * wrong JSON type is an error naming the field and the type (recordTypeErrors), not read as text.
   */
  async score(records: readonly RecordInput[], caller: string, opts: { atomic?: boolean; strictTypes?: boolean } = {}): Promise<RecordOutcome[]> {
    if (this.closed) throw new Error('the record scorer is closed');
    const card = this.model.card;
    const names = card.inputs.map((f) => f.name);
    const errors: FieldError[][] = records.map(() => []);
    const lines: JsonlLine[] = records.map((r, i) => {
      const line = parseRecord(r);
      if ('problem' in line) {
        errors[i].push({ field: '', reason: line.problem, value: '' });
        return line;
      }
      errors[i].push(...unknownFields(card, line.record));
      if (opts.strictTypes) errors[i].push(...recordTypeErrors(card, line.record));
      return line;
    });
    // Records with unknown fields or mistyped values are never scored; their other fields are still checked (every problem named at once).
    const main: number[] = [];
    const side: number[] = [];
    lines.forEach((l, i) => ('record' in l && errors[i].length ? side : main).push(i));
    const decode = (idx: number[]): ColumnBatch => new JsonlDecoder({ file: 'record', columns: names, request: columnRequests(card.inputs), batchRows: 1, offset: 0, rowsBefore: 0 }).decodeParsed(idx.map((i) => lines[i]));
    const validate = (b: ColumnBatch) => validateBatch(b, card.inputs, this.graphTypes, this.graphRanks, card.tensors);
    const addRejects = (idx: number[], rejects: readonly Reject[]) => {
      for (const r of rejects) {
        const i = idx[r.row - 1];
        if (errors[i].some((e) => e.field === r.column && (r.column === '' || opts.strictTypes))) continue; // the parse or type problem, already said
        errors[i].push({ field: r.column, reason: r.reason, value: r.value });
      }
    };
    if (side.length) addRejects(side, validate(decode(side)).rejects);
    const batch = decode(main);
    const v = validate(batch);
    addRejects(main, v.rejects);
    // a refused record's errors echo its numbers as sent (1E+39, not 1e+39), control characters escaped
    records.forEach((r, i) => {
      const line = lines[i];
      if (errors[i].length) echoAsSent(errors[i], 'record' in line ? line.record : undefined, 'record' in line ? sentNumbers(r) : undefined);
    });
    if (opts.atomic && errors.some((e) => e.length)) return records.map((_, i) => ({ ok: false, errors: errors[i] }));
    const m = v.accepted.length;
    const outputs = m ? await this.run(v.feeds, m) : undefined;
    const scored = outputs ? readOutputs(card, outputs, m) : undefined;
    if (this.opts.log !== false && records.length) this.session(caller).add(records.length, main, batch, v, scored, errors);

    const results: RecordOutcome[] = records.map((_, i) => ({ ok: false, errors: errors[i] }));
    // read and printed as the app's what-if explorer reads them (common/record.ts)
    const printed = scored ? printedOutputs(card, scored, m) : [];
    for (let j = 0; j < m; j++) results[main[v.accepted[j]]] = { ok: true, ...printed[j] };
    return results;
  }

  /**
   * Run a request's feeds. Concurrent callers share the engine: while MAX_RUNNING runs are in
   * flight, requests wait and are then run as one batch (their rows end to end), each getting its
   * own rows of the outputs back — dynamic batching, so many one-record callers cost few engine runs.
   */
  private run(feeds: Record<string, Feed>, rows: number): Promise<Record<string, Feed>> {
    if (this.running < MAX_RUNNING) return this.launch([{ feeds, rows }]).then((r) => r[0]);
    return new Promise((resolve, reject) => this.waiting.push({ feeds, rows, resolve, reject }));
  }

  private async launch(parts: { feeds: Record<string, Feed>; rows: number }[]): Promise<Record<string, Feed>[]> {
    this.running++;
    try {
      const merged = parts.length === 1 ? parts[0].feeds : mergeFeeds(parts.map((p) => p.feeds));
      const out = await this.engine.run(merged) as Record<string, Feed>;
      return parts.length === 1 ? [out] : splitRows(out, parts.map((p) => p.rows));
    } finally {
      this.running--;
      const next = this.waiting.splice(0, MAX_BATCH_REQUESTS);
      if (next.length) {
        this.launch(next).then((r) => next.forEach((w, i) => w.resolve(r[i])), (e: unknown) => next.forEach((w) => w.reject(e)));
      }
    }
  }

  /** Commit what every session has pending (normally done by their timers). */
  flush(): void {
    for (const s of this.sessions.values()) s.commit();
  }

  /** The session jobs this scorer has open, by caller (tests, status). */
  sessionJobs(): Job[] {
    return [...this.sessions.values()].map((s) => getJob(this.store, s.job.id));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      for (const s of this.sessions.values()) s.close();
    } finally {
      this.sessions.clear();
      await this.engine.close();
    }
  }

  private session(caller: string): RecordSession {
    const day = utcDay((this.opts.now ?? Date.now)());
    let s = this.sessions.get(caller);
    if (s && s.day !== day) {
      s.close();
      s = undefined;
    }
    if (!s) {
      s = RecordSession.open(this.store, this.model, caller, day, this.engine, this.opts.onWarning);
      this.sessions.set(caller, s);
    }
    return s;
  }
}

/** A record's JSON numbers as sent (its text parsed again, or what the caller worked out). */
function sentNumbers(r: RecordInput): ReadonlyMap<string, string> | undefined {
  if ('value' in r) return r.numbers?.();
  const kept = parseKeepingNumbers(r.text);
  return kept.numbersIn(kept.value);
}

function parseRecord(r: RecordInput): JsonlLine {
  if ('text' in r) {
    const bytes = new TextEncoder().encode(r.text);
    const line = parseJsonlLine(bytes, 0, bytes.length);
    // a number for a text input is scored as sent (`1.50`), as a file's is
    return 'record' in line ? { ...line, numbers: () => topLevelNumbers(r.text) } : line;
  }
  const value = r.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problem: `not a JSON object (found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})` };
  }
  return { record: value as Record<string, unknown>, ...(r.numbers ? { numbers: r.numbers } : {}) };
}

/** Session jobs open in this process (the job lock tells processes apart, not two scorers of one process). */
const openHere = new Set<string>();

/** The checkpoint a record session keeps: the next log batch number and the reject reasons (as `outpost jobs show` reads them). */
interface SessionCheckpoint { session: true; /** the UTC day of the session's records */ day: string; seq: number; reasons: Record<string, number> }

/** One caller's records for one model version on one UTC day, logged as a job. */
class RecordSession {
  readonly job: Job;
  readonly day: string;
  private readonly store: Store;
  private readonly log: JobLog;
  private readonly counters: { rowsRead: number; rowsScored: number; rowsRejected: number; busyMs: number };
  private readonly reasons: Map<string, number>;
  private readonly release: () => void;
  private readonly logInputs: Job['options']['logInputs'];
  private readonly logSampleRate: number;
  private readonly card: Card;
  private readonly onWarning: ((line: string) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** scored rows since the last commit, logged as one batch by the commit */
  private pending: { rowNumbers: Int32Array; scored: ScoredColumns; feeds: Record<string, Feed> }[] = [];
  private dirty = false;

  private constructor(store: Store, job: Job, card: Card, day: string, release: () => void, onWarning: ((line: string) => void) | undefined) {
    this.store = store;
    this.card = card;
    this.onWarning = onWarning;
    this.job = job;
    this.day = day;
    this.release = release;
    const cp = job.checkpoint as Partial<SessionCheckpoint> | null;
    this.counters = { rowsRead: job.rowsRead, rowsScored: job.rowsScored, rowsRejected: job.rowsRejected, busyMs: job.busyMs };
    this.reasons = new Map(Object.entries(cp?.reasons ?? {}));
    this.logInputs = job.options.logInputs;
    this.logSampleRate = job.options.logSampleRate;
    try {
      this.log = new JobLog(store, job, card, cp?.seq ?? 0);
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Today's session job of this caller and model version (one this process can lock), or a new one. */
  static open(store: Store, model: InstalledModel, caller: string, day: string, engine: InferenceEngine, onWarning?: (line: string) => void): RecordSession {
    const input = `records:${caller}`;
    const candidates = store.db.prepare(`SELECT id FROM jobs WHERE input_format = ? AND input_path = ? AND model_name = ? AND model_version = ? AND json_extract(checkpoint_json, '$.day') = ?
      ORDER BY created_at, rowid`).all(RECORDS_FORMAT, input, model.name, model.version, day) as { id: string }[];
    const lockFile = (id: string) => path.join(store.jobsDir, `${id}.lock`);
    const held = (id: string, unlock: () => void) => {
      openHere.add(id);
      return () => {
        openHere.delete(id);
        unlock();
      };
    };
    for (const { id } of candidates) {
      if (openHere.has(id)) continue;
      let release: () => void;
      try {
        release = acquireJobLock(lockFile(id), id);
      } catch {
        continue; // another live process logs into it
      }
      return new RecordSession(store, getJob(store, id), model.card, day, held(id, release), onWarning);
    }
    const settings = getSettings(store);
    const id = newJobId();
    const release = held(id, acquireJobLock(lockFile(id), id));
    try {
      const job = store.db.transaction(() => {
        createJob(store, {
          id, modelName: model.name, modelVersion: model.version, inputPath: input, inputFormat: RECORDS_FORMAT, inputSize: 0, inputFingerprint: '',
          outputPath: '', outputFormat: 'none', rejectsPath: '',
          options: { batchRows: 1, ep: engine.provider.chosen, maxRejectRate: 1, logPredictions: true, logInputs: settings.logInputs, logSampleRate: settings.logSampleRate },
          provider: engine.provider.chosen, providerSummary: engine.provider.chosen,
        });
        // nothing in a session can be resumed: it is complete after every commit
        setJobStatus(store, id, 'completed');
        const cp: SessionCheckpoint = { session: true, day, seq: 0, reasons: {} };
        store.db.prepare('UPDATE jobs SET checkpoint_json = ? WHERE id = ?').run(JSON.stringify(cp), id);
        return getJob(store, id);
      })();
      return new RecordSession(store, job, model.card, day, release, onWarning);
    } catch (e) {
      release();
      throw e;
    }
  }

  /** One scored request: `main` are the request indexes of `batch`'s rows; every record counts as read. */
  add(count: number, main: readonly number[], batch: ColumnBatch, v: ReturnType<typeof validateBatch>, scored: ReturnType<typeof readOutputs> | undefined, errors: readonly FieldError[][]): void {
    const base = this.counters.rowsRead;
    // the observers see every request; the log gets one batch per commit (not one per request)
    this.log.observe(batch, v, scored);
    if (scored) this.pending.push({ rowNumbers: Int32Array.from(v.accepted, (j) => base + 1 + main[j]), scored, feeds: v.feeds });
    this.counters.rowsRead += count;
    this.counters.rowsScored += v.accepted.length;
    let rejected = 0;
    for (const e of errors) {
      if (!e.length) continue;
      rejected++;
      for (const f of e) {
        const kind = reasonKind({ row: 0, column: f.field, reason: f.reason, value: f.value });
        this.reasons.set(kind, (this.reasons.get(kind) ?? 0) + 1);
      }
    }
    this.counters.rowsRejected += rejected;
    this.dirty = true;
    if (this.log.pendingRows >= COMMIT_ROWS) this.commit();
    else this.timer ??= setTimeout(() => {
      try {
        this.commit();
      } catch (e) {
        // the rows stay pending and are tried again with the next commit
        this.dirty = true;
        this.onWarning?.(`could not write the prediction log of ${this.job.id}: ${(e as Error).message}`);
      }
    }, COMMIT_DELAY_MS).unref();
  }

  commit(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    if (this.pending.length) {
      const parts = this.pending;
      const rowNumbers = concat(parts.map((p) => p.rowNumbers));
      const inputs = logInputColumns(mergeFeeds(parts.map((p) => p.feeds)), rowNumbers, this.logInputs, this.logSampleRate, this.card.tensors);
      this.log.log(mergeScored(parts.map((p) => p.scored)), { rowNumbers, inputs }, rowNumbers[0]);
      this.pending = [];
    }
    const state: SessionCheckpoint = { session: true, day: this.day, seq: this.log.seq, reasons: Object.fromEntries(this.reasons) };
    this.log.commit(this.counters, state, () => {
      this.store.db.prepare('UPDATE jobs SET finished_at = ? WHERE id = ?').run(nowIso(), this.job.id);
    });
    this.log.finish();
  }

  close(): void {
    try {
      this.commit();
    } finally {
      this.log.close();
      this.release();
    }
  }
}

type Typed = Int32Array | Float32Array | Float64Array | BigInt64Array | Uint8Array;

/** Arrays of one kind end to end (typed arrays of one type, or plain arrays). */
function concat<T extends Typed | string[]>(parts: T[]): T {
  if (parts.length === 1) return parts[0];
  if (Array.isArray(parts[0])) return (parts as string[][]).flat() as T;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new (parts[0].constructor as new (n: number) => Typed)(total);
  let at = 0;
  for (const p of parts as Typed[]) {
    out.set(p as never, at);
    at += p.length;
  }
  return out as T;
}

/** The outputs of several requests as one run of rows. */
function mergeScored(parts: ScoredColumns[]): ScoredColumns {
  const first = parts[0];
  return {
    ...(first.labelCodes ? { labelCodes: concat(parts.map((p) => p.labelCodes!)) } : {}),
    ...(first.probabilities ? { probabilities: first.probabilities.map((_, c) => concat(parts.map((p) => p.probabilities![c] as Float32Array | Float64Array))) as Float32Array[] | Float64Array[] } : {}),
    ...(first.value ? { value: concat(parts.map((p) => p.value!)) } : {}),
  };
}

/** The feeds of several requests as one: rows end to end ([n, 1] and row-major [n, F] alike). */
function mergeFeeds(parts: Record<string, Feed>[]): Record<string, Feed> {
  return Object.fromEntries(Object.entries(parts[0]).map(([name, f]) => [name, {
    type: f.type,
    data: concat(parts.map((p) => p[name].data as Typed | string[])),
    dims: [parts.reduce((n, p) => n + p[name].dims[0], 0), ...f.dims.slice(1)],
  }]));
}

/** Split outputs computed for requests run end to end back into each request's rows. */
function splitRows(out: Record<string, Feed>, rows: number[]): Record<string, Feed>[] {
  const total = rows.reduce((n, r) => n + r, 0);
  let at = 0;
  return rows.map((n) => {
    const from = at;
    at += n;
    return Object.fromEntries(Object.entries(out).map(([name, f]) => {
      const width = total ? f.data.length / total : 0; // values per row ([N] and [N, k] alike)
      const data = Array.isArray(f.data) ? f.data.slice(from * width, at * width) : (f.data as Typed).slice(from * width, at * width);
      return [name, { type: f.type, data, dims: [n, ...f.dims.slice(1)] } as Feed];
    }));
  });
}
