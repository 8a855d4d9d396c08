// Scoring jobs: what was asked, how far it got (checkpoint), and how it ended. A job row is created
// only after the input passed the up-front checks, so a run that fails validation leaves no trace.
import crypto from 'node:crypto';
import { OutpostError } from '../../common/errors.ts';
import { dropOrphanedPredictions, enqueue } from './outbox.ts';
import { nowIso, type Store } from './store.ts';

export type JobStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/**
 * The input format of a record session: the single records one caller (`outpost predict`, an API
 * token) scored with one model version on one UTC day, logged as one job (src/scoring/node/predict.ts).
 */
export const RECORDS_FORMAT = 'records';

export interface JobOptions {
  idColumn?: string;
  batchRows: number;
  ep: string;
  maxRejectRate: number;
  delimiter?: string;
  logPredictions: boolean;
  logInputs: 'all' | 'sampled' | 'none';
  logSampleRate: number;
  /** CSV output and rejects: text cells a spreadsheet would run as a formula are neutralised (setting csvSafe, fixed at job start) */
  csvSafe?: boolean;
  /** rows between checkpoints when the job asked (`--checkpoint-rows`): a resume keeps them, so a Parquet output's row groups fall where an uninterrupted run puts them */
  checkpointRows?: number;
}

export interface JobCounters { rowsRead: number; rowsScored: number; rowsRejected: number; busyMs: number }

export interface Job extends JobCounters {
  id: string;
  modelName: string;
  modelVersion: number;
  status: JobStatus;
  inputPath: string;
  inputFormat: string;
  inputSize: number;
  inputFingerprint: string;
  outputPath: string;
  outputFormat: string;
  rejectsPath: string;
  options: JobOptions;
  provider: string | null;
  providerSummary: string | null;
  checkpoint: unknown;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

interface JobRow {
  id: string; model_name: string; model_version: number; status: JobStatus; input_path: string; input_format: string;
  input_size: number; input_fingerprint: string; output_path: string; output_format: string; rejects_path: string;
  options_json: string; provider: string | null; provider_summary: string | null; rows_read: number; rows_scored: number;
  rows_rejected: number; checkpoint_json: string | null; error: string | null; busy_ms: number; created_at: string;
  updated_at: string; finished_at: string | null;
}

const toJob = (r: JobRow): Job => ({
  id: r.id, modelName: r.model_name, modelVersion: r.model_version, status: r.status, inputPath: r.input_path,
  inputFormat: r.input_format, inputSize: r.input_size, inputFingerprint: r.input_fingerprint, outputPath: r.output_path,
  outputFormat: r.output_format, rejectsPath: r.rejects_path, options: JSON.parse(r.options_json) as JobOptions,
  provider: r.provider, providerSummary: r.provider_summary, rowsRead: r.rows_read, rowsScored: r.rows_scored,
  rowsRejected: r.rows_rejected, busyMs: r.busy_ms, checkpoint: r.checkpoint_json ? JSON.parse(r.checkpoint_json) : null,
  error: r.error, createdAt: r.created_at, updatedAt: r.updated_at, finishedAt: r.finished_at,
});

export const newJobId = (): string => `j${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${crypto.randomBytes(4).toString('hex')}`;

export type NewJob = Pick<Job, 'id' | 'modelName' | 'modelVersion' | 'inputPath' | 'inputFormat' | 'inputSize' | 'inputFingerprint' | 'outputPath' | 'outputFormat' | 'rejectsPath' | 'options' | 'provider' | 'providerSummary'>;

export function createJob(store: Store, j: NewJob): Job {
  const now = nowIso();
  store.db.prepare(`INSERT INTO jobs (id, model_name, model_version, status, input_path, input_format, input_size, input_fingerprint, output_path, output_format, rejects_path, options_json, provider, provider_summary, created_at, updated_at)
    VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
    j.id, j.modelName, j.modelVersion, j.inputPath, j.inputFormat, j.inputSize, j.inputFingerprint, j.outputPath, j.outputFormat, j.rejectsPath, JSON.stringify(j.options), j.provider, j.providerSummary, now, now,
  );
  return getJob(store, j.id);
}

export function getJob(store: Store, id: string): Job {
  const r = store.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  if (!r) throw new OutpostError('not-found', `no job "${id}" in this store (see \`outpost jobs\`)`);
  return toJob(r);
}

export interface JobFilter { status?: JobStatus; model?: string; version?: number }

export function listJobs(store: Store, limit = 50, filter: JobFilter = {}): Job[] {
  const c: string[] = [];
  const args: (string | number)[] = [];
  if (filter.status !== undefined) { c.push('status = ?'); args.push(filter.status); }
  if (filter.model !== undefined) { c.push('model_name = ?'); args.push(filter.model); }
  if (filter.version !== undefined) { c.push('model_version = ?'); args.push(filter.version); }
  const where = c.length ? `WHERE ${c.join(' AND ')}` : '';
  return (store.db.prepare(`SELECT * FROM jobs ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`).all(...args, limit) as JobRow[]).map(toJob);
}

/** Jobs (other than `exceptId`) whose output or rejects file is `file`: who would be overwritten. */
export function jobsWritingTo(store: Store, file: string, exceptId?: string): Job[] {
  return (store.db.prepare('SELECT * FROM jobs WHERE (output_path = ? OR rejects_path = ?) AND id IS NOT ? ORDER BY created_at').all(file, file, exceptId ?? null) as JobRow[]).map(toJob);
}

/**
 * Delete a job's record. Its logged predictions and per-job drift statistics go with it (foreign
 * keys); the hour/day drift windows it fed stay (they are merged sums). Unsent sync items that
 * pointed at its predictions become drop records. Returns how many logged predictions went.
 */
export function deleteJob(store: Store, id: string): { predictions: number } {
  return store.db.transaction(() => {
    getJob(store, id);
    const predictions = (store.db.prepare('SELECT coalesce(sum(row_count), 0) AS n FROM prediction_batches WHERE job_id = ?').get(id) as { n: number }).n;
    store.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
    dropOrphanedPredictions(store, Date.now(), 'its job was removed from the workstation before it synced');
    return { predictions };
  })();
}

/** Record progress; call inside the transaction that also writes the checkpoint's predictions. */
export function saveCheckpoint(store: Store, id: string, c: JobCounters, checkpoint: unknown): void {
  store.db.prepare('UPDATE jobs SET rows_read = ?, rows_scored = ?, rows_rejected = ?, busy_ms = ?, checkpoint_json = ?, updated_at = ? WHERE id = ?')
    .run(c.rowsRead, c.rowsScored, c.rowsRejected, Math.round(c.busyMs), JSON.stringify(checkpoint), nowIso(), id);
  enqueueJobSummary(store, id);
}

/** Record the counters of a run that stops without a checkpoint (a reject-rate stop): what it read, scored and rejected. */
export function saveCounters(store: Store, id: string, c: JobCounters): void {
  store.db.prepare('UPDATE jobs SET rows_read = ?, rows_scored = ?, rows_rejected = ?, busy_ms = ?, updated_at = ? WHERE id = ?')
    .run(c.rowsRead, c.rowsScored, c.rowsRejected, Math.round(c.busyMs), nowIso(), id);
}

export function setJobStatus(store: Store, id: string, status: JobStatus, fields: { error?: string | null; provider?: string; providerSummary?: string } = {}): void {
  const now = nowIso();
  store.db.transaction(() => {
    store.db.prepare(`UPDATE jobs SET status = ?, error = ?, updated_at = ?, finished_at = ?, provider = coalesce(?, provider), provider_summary = coalesce(?, provider_summary) WHERE id = ?`)
      .run(status, fields.error ?? null, now, status === 'running' ? null : now, fields.provider ?? null, fields.providerSummary ?? null, id);
    if (status !== 'running') enqueueJobSummary(store, id);
  })();
}

/** What the hub learns of a job (no local paths: the input's file name only). */
export function jobSummary(j: Job): Record<string, unknown> {
  return {
    id: j.id, model: j.modelName, version: j.modelVersion, status: j.status, input: j.inputPath.split(/[\\/]/).pop(), inputFormat: j.inputFormat,
    inputSize: j.inputSize, rowsRead: j.rowsRead, rowsScored: j.rowsScored, rowsRejected: j.rowsRejected, provider: j.provider,
    error: j.error, createdAt: j.createdAt, updatedAt: j.updatedAt, finishedAt: j.finishedAt,
  };
}

function enqueueJobSummary(store: Store, id: string): void {
  const r = store.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  if (r) enqueue(store, 'job', jobSummary(toJob(r)));
}
