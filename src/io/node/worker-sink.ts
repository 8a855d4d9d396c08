// A TableSink whose encoding and file writes run in a worker thread. Formatting numbers as text is
// a third of the scoring thread's work; here it overlaps with reading and parsing the next batches.
// Same contract as the sink it wraps: writes are ordered, checkpoint() reports the state after every
// write issued before it, and an error in the worker surfaces at the next call.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/node/worker.ts';
import { OutpostError } from '../../common/errors.ts';
import type { CheckpointOptions, OutputBatch, OutputFormat, SinkState, TableSink } from '../common/table.ts';
import type { OpenSinkOptions } from './open.ts';

export type ToSinkWorker =
  | { kind: 'open'; file: string; format: OutputFormat; options: OpenSinkOptions }
  | { kind: 'write'; id: number; batch: OutputBatch }
  | { kind: 'checkpoint'; id: number; options: CheckpointOptions }
  | { kind: 'finish' | 'close'; id: number };

export type FromSinkWorker =
  | { kind: 'opened'; path: string }
  | { kind: 'done'; id: number; state?: SinkState }
  | { kind: 'failed'; id: number; error: { code: string; message: string; location: Record<string, unknown> } };

/** Writes that may be queued in the worker before write() waits (bounds memory if the disk is slow). */
const MAX_QUEUED_WRITES = 8;

/**
 * The Parquet sink's thread runs with a small young generation: with hyparquet-writer encoding the
 * chunks it made a row group's worth of short-lived arrays per flush and V8's default nursery cost
 * ~120 MB of peak RSS (bench/results/README.md, Parquet). Its own encoder now holds the row group in
 * typed arrays and allocates little per batch; at 8 vs 64 MB the thread's CPU was within noise
 * (720 vs 650–680 ms per flights-3m score at load 6), so the smaller, bounded heap stays. Only the
 * nursery is limited, so it cannot run out of memory.
 */
const PARQUET_YOUNG_GENERATION_MB = 8;

/** A writer thread started ahead of its sink (its start and module load overlap other work). */
export interface SinkThread {
  readonly format: OutputFormat;
  readonly worker: Worker;
  /** set when the thread failed or exited before a sink took it */
  failure?: Error;
  stopListening: () => void;
}

/** Start the writer thread for `format` now; openWorkerSink takes it later (or `terminate` it unused). */
export function startSinkThread(format: OutputFormat): SinkThread {
  const worker = startWorker(new URL('./sink-worker.ts', import.meta.url), format === 'parquet' ? { resourceLimits: { maxYoungGenerationSizeMb: PARQUET_YOUNG_GENERATION_MB } } : {});
  const onError = (e: Error) => { thread.failure ??= e; };
  const onExit = (code: number) => { thread.failure ??= new Error(`exit code ${code}`); };
  const thread: SinkThread = { format, worker, stopListening: () => { worker.off('error', onError).off('exit', onExit); } };
  worker.on('error', onError).on('exit', onExit);
  return thread;
}

export async function openWorkerSink(file: string, format: OutputFormat, options: OpenSinkOptions = {}, thread: SinkThread = startSinkThread(format)): Promise<TableSink> {
  const { worker } = thread;
  thread.stopListening();
  if (thread.format !== format || thread.failure) {
    await worker.terminate();
    throw new OutpostError('store', thread.failure ? `the output writer thread stopped before it opened the output: ${thread.failure.message}` : `the writer thread was started for ${thread.format}, not ${format}`, { file });
  }
  const opened = await new Promise<string>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: FromSinkWorker) => {
      worker.removeAllListeners('error');
      if (m.kind === 'opened') resolve(m.path);
      else if (m.kind === 'failed') reject(revive(m.error));
    });
    worker.postMessage({ kind: 'open', file, format, options } satisfies ToSinkWorker);
  }).catch(async (e) => {
    await worker.terminate();
    throw e;
  });
  return new WorkerSink(worker, opened);
}

function revive(e: { code: string; message: string; location: Record<string, unknown> }): OutpostError {
  return new OutpostError(e.code as never, e.message, e.location);
}

class WorkerSink implements TableSink {
  readonly path: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (s: SinkState | undefined) => void; reject: (e: Error) => void }>();
  readonly #writes: Promise<unknown>[] = [];
  #nextId = 1;
  #failure: Error | undefined;

  constructor(worker: Worker, path: string) {
    this.#worker = worker;
    this.path = path;
    worker.on('message', (m: FromSinkWorker) => {
      if (m.kind === 'opened') return;
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.kind === 'done') p?.resolve(m.state);
      else {
        const err = revive(m.error);
        this.#failure ??= err;
        p?.reject(err);
      }
    });
    const crash = (why: string) => {
      const err = new OutpostError('store', `output writer stopped: ${why}`, { file: path });
      this.#failure ??= err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    worker.on('error', (e) => crash(e.message));
    worker.on('exit', (code) => { if (this.#pending.size) crash(`exit code ${code}`); });
  }

  #call(msg: { kind: 'finish' | 'close' } | { kind: 'checkpoint'; options: CheckpointOptions } | { kind: 'write'; batch: OutputBatch }): Promise<SinkState | undefined> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const done = new Promise<SinkState | undefined>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#worker.postMessage({ ...msg, id } as ToSinkWorker);
    return done;
  }

  async write(batch: OutputBatch): Promise<void> {
    const done = this.#call({ kind: 'write', batch });
    done.catch(() => {}); // a failure is remembered and reported by the next call
    this.#writes.push(done);
    if (this.#writes.length > MAX_QUEUED_WRITES) await this.#writes.shift();
    if (this.#failure) throw this.#failure;
  }

  async checkpoint(options: CheckpointOptions = {}): Promise<SinkState> {
    this.#writes.length = 0; // ordered behind every write issued so far
    const state = await this.#call({ kind: 'checkpoint', options });
    return state!;
  }

  async finish(): Promise<void> {
    this.#writes.length = 0;
    try {
      await this.#call({ kind: 'finish' });
    } finally {
      await this.#worker.terminate();
    }
  }

  async close(): Promise<void> {
    this.#writes.length = 0;
    try {
      if (!this.#failure) await this.#call({ kind: 'close' });
    } finally {
      await this.#worker.terminate();
    }
  }
}
