// The one logging path of scored rows, for file jobs (score-file.ts) and single records (records.ts):
// each batch of accepted rows is observed (drift statistics) and queued for the prediction log; a
// commit writes, in one SQLite transaction, the queued log batches, the observers' statistics, the
// job's counters and checkpoint, the sync outbox items that reference those batches and the outbox
// quota. Retention (age, size of the log) runs when a job — or a record session's commit — is done.
import type { ColumnBatch, Utf8Cells } from '../../io/common/table.ts';
import type { Card } from '../../package/common/card.ts';
import { createDriftObserver, type DriftObserverOptions } from '../../monitor/node/observer.ts';
import { saveCheckpoint, type Job, type JobCounters } from '../../store/node/jobs.ts';
import { enforceOutboxQuota, enqueuePredictions, outboxEnabled } from '../../store/node/outbox.ts';
import { enforceRetention, insertPredictionBatch, type PredictionBatchRecord } from '../../store/node/predictions.ts';
import type { PackedColumn } from '../../store/common/packing.ts';
import { getSettings, type Settings, type Store } from '../../store/node/store.ts';
import { deferCheckpoints, type DeferredCheckpoints } from '../../store/node/wal-checkpoints.ts';
import { logColumns, type ScoredColumns } from '../common/outputs.ts';
import type { ValidatedBatch } from '../common/validate.ts';

/**
 * Something that watches scored batches (drift statistics, …). What it observed since the last
 * commit is persisted inside the commit's transaction, so a resumed job never counts a row twice.
 */
export interface ScoringObserver {
  observe(batch: ColumnBatch, v: ValidatedBatch, scored: ScoredColumns | undefined): void;
  /** called inside the commit transaction (and once when a job stops on its reject rate) */
  persist(): void;
  /** the job ended (completed, failed or stopped): release threads or other resources */
  close?(): void;
}

/** The observers every scoring job gets. */
export function observersFor(store: Store, job: Pick<Job, 'id' | 'modelName' | 'modelVersion'>, card: Card, drift: DriftObserverOptions = {}): ScoringObserver[] {
  const observer = createDriftObserver(store, job, card, drift);
  return observer ? [observer] : [];
}

/** What one batch leaves in the log besides its outputs. */
export interface LoggedBatch {
  /** data row number of each accepted row, in order */
  rowNumbers: Int32Array;
  /** the id column's values for the accepted rows (`--id`), if any: strings, or their UTF-8 bytes */
  ids?: (string | null)[] | Utf8Cells | undefined;
  /** the inputs kept by the logInputs policy (copied before the feeds moved to the engine) */
  inputs?: PackedColumn[] | undefined;
}

/**
 * Logged rows in one commit from which the store's WAL checkpoints move to a background thread for
 * the rest of the job (store/node/wal-checkpoints.ts): a large job's checkpoint commits; a small
 * job, or a record session's commit, never starts that thread.
 */
export const BACKGROUND_CHECKPOINT_ROWS = 65_536;

export class JobLog {
  readonly job: Pick<Job, 'id' | 'modelName' | 'modelVersion'>;
  private readonly store: Store;
  private readonly card: Card;
  private readonly logPredictions: boolean;
  /** the sync settings while connected to a hub (read once per job), else undefined */
  private readonly sync: Settings | undefined;
  readonly observers: ScoringObserver[];
  private pending: PredictionBatchRecord[] = [];
  /** sequence number of the next log batch of the job */
  seq: number;
  /** rows observed and queued since the last commit */
  pendingRows = 0;
  /** WAL checkpoints in the background, once a commit logged BACKGROUND_CHECKPOINT_ROWS rows */
  private checkpoints: DeferredCheckpoints | undefined;

  constructor(store: Store, job: Pick<Job, 'id' | 'modelName' | 'modelVersion' | 'options'>, card: Card, seq: number, drift: DriftObserverOptions = {}) {
    this.store = store;
    this.job = job;
    this.card = card;
    this.seq = seq;
    this.logPredictions = job.options.logPredictions;
    this.sync = outboxEnabled(store) ? getSettings(store) : undefined;
    this.observers = observersFor(store, job, card, drift);
  }

  /** A batch was scored: statistics see it (rejected rows too) and its accepted rows are queued for the log. */
  add(batch: ColumnBatch, v: ValidatedBatch, scored: ScoredColumns | undefined, logged: LoggedBatch): void {
    this.observe(batch, v, scored);
    this.log(scored, logged, batch.firstRow);
  }

  /** The observers (drift statistics) see a scored batch. */
  observe(batch: ColumnBatch, v: ValidatedBatch, scored: ScoredColumns | undefined): void {
    for (const ob of this.observers) ob.observe(batch, v, scored);
    this.pendingRows += batch.length;
  }

  /** Queue accepted rows for the prediction log (one log batch). `firstRow`: the batch's first row, when no row was accepted. */
  log(scored: ScoredColumns | undefined, logged: LoggedBatch, firstRow: number): void {
    const { rowNumbers } = logged;
    if (!scored || !this.logPredictions || rowNumbers.length === 0) return;
    this.pending.push({
      jobId: this.job.id, seq: this.seq++, modelName: this.job.modelName, modelVersion: this.job.modelVersion,
      // the first logged row: readers number rows first_row + i when no row column is stored
      firstRow: rowNumbers[0] ?? firstRow, rowCount: rowNumbers.length, loggedAt: Date.now(),
      outputs: logColumns(this.card, rowNumbers, logged.ids, scored),
      inputs: logged.inputs,
    });
  }

  /**
   * One transaction: the queued log batches, the observers' statistics, the job's counters and
   * checkpoint (`extra` runs inside it too), and the outbox items that reference the batches.
   */
  commit(counters: JobCounters, checkpoint: unknown, extra?: () => void): void {
    const log = this.pending;
    const { store, sync, job } = this;
    if (!this.checkpoints && log.reduce((n, r) => n + r.rowCount, 0) >= BACKGROUND_CHECKPOINT_ROWS) this.checkpoints = deferCheckpoints(store);
    store.db.transaction(() => {
      const sizes = log.map((r) => insertPredictionBatch(store, r));
      for (const ob of this.observers) ob.persist();
      extra?.();
      saveCheckpoint(store, job.id, counters, checkpoint);
      // the outbox items for these batches commit with them (src/store/node/outbox.ts)
      if (sync && sync.syncPredictions !== 'none') {
        for (const [a, b] of syncChunks(sizes)) {
          enqueuePredictions(store, {
            jobId: job.id, from: log[a].seq, to: log[b - 1].seq + 1, rows: log.slice(a, b).reduce((n, r) => n + r.rowCount, 0), bytes: sizes.slice(a, b).reduce((n, x) => n + x, 0),
            model: job.modelName, version: job.modelVersion, ...(sync.syncPredictions === 'sampled' ? { sampleRate: sync.syncSampleRate } : {}),
          });
        }
      }
      if (sync) enforceOutboxQuota(store, sync.syncQuotaBytes);
    })();
    this.checkpoints?.request();
    this.pending = [];
    this.pendingRows = 0;
  }

  /** Persist only the observers' statistics (a job stopped by its reject rate: never resumed, nothing counted twice). */
  persistObservers(): void {
    this.store.db.transaction(() => { for (const ob of this.observers) ob.persist(); })();
  }

  /** The job is done (its status written): the outbox quota, and the log's retention. */
  finish(): void {
    if (this.sync) enforceOutboxQuota(this.store, this.sync.syncQuotaBytes);
    enforceRetention(this.store, getSettings(this.store));
  }

  close(): void {
    for (const ob of this.observers) ob.close?.();
    this.checkpoints?.release();
    this.checkpoints = undefined;
  }
}

/** Consecutive log batches grouped into sync items of about SYNC_ITEM_BYTES each: [start, end) indexes. */
const SYNC_ITEM_BYTES = 4 * 1024 ** 2;
function syncChunks(sizes: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  let bytes = 0;
  sizes.forEach((n, i) => {
    if (i > start && bytes + n > SYNC_ITEM_BYTES) { out.push([start, i]); start = i; bytes = 0; }
    bytes += n;
  });
  if (sizes.length > start) out.push([start, sizes.length]);
  return out;
}
