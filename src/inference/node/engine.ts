// InferenceEngine: a model loaded into a pool of worker threads, each with its own ORT session on
// the chosen execution provider. run() never blocks the caller's event loop; several calls may be
// in flight and each resolves with its own result. Batches wait on the main thread until a worker
// has room (two in flight per worker by default, so it never idles between batches), which lets
// runOne() overtake queued batches for interactive use; a file job posts more ahead (laneDepth).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/node/worker.ts';
import { OutpostError } from '../../common/errors.ts';
import { feedTypes, validateFeeds } from '../common/feeds.ts';
import { intraOpThreadsFor } from '../common/intra-op-threads.ts';
import { canDoubleRows, doubleRows, firstRows, isSingleRow } from '../common/single-row.ts';
import type { ModelInfo } from '../../onnx/common/onnx.ts';
import { codableInputs, withCategoryCodes } from '../../onnx/common/category-codes.ts';
import { CategoryCodes } from '../common/category-feeds.ts';
import type { FeedType, Feeds, TensorInfo } from '../common/feeds.ts';
import { packFeeds, prepareHandoff } from '../common/handoff.ts';
import type { ProviderDecision, ProviderRequest } from '../common/providers.ts';
import type { FromWorker, SessionSettings, ToWorker } from '../common/protocol.ts';
import { chooseProvider } from './providers.ts';
import { INFERENCE_WORKER_URL, takeSpareWorker } from './spare-worker.ts';
import type { ChooseOptions } from './providers.ts';

export type { FeedTensor, FeedType, Feeds, TensorInfo } from '../common/feeds.ts';

export interface EngineOptions {
  /** Execution provider; default 'auto'. */
  ep?: ProviderRequest;
  /** Worker threads, each with its own session. Default 1. */
  workers?: number;
  /**
   * ORT intra-op threads per worker (the worker's own thread counts as one). Default: the cores
   * left after one for the main thread, shared among the workers, at least 1.
   */
  intraOpThreads?: number;
  /**
   * Calls posted to a worker at a time (one running, the rest queued in its port). Default 2: a
   * runOne() waits behind at most one queued batch. A file job with nothing interactive raises it
   * so the worker keeps running while the posting thread is busy with other work (a checkpoint).
   */
  laneDepth?: number;
  /** Passed to chooseProvider. */
  choose?: ChooseOptions;
  /** Worker script; a host that bundles or packages the code may need to point elsewhere. */
  workerUrl?: URL;
  /**
   * The model's graph (inspectModel of the bytes given), when the caller has parsed it: string
   * inputs read only by one-hot encoders then reach the session as int64 codes, same outputs
   * (onnx/common/category-codes.ts). Callers still see and feed them as strings.
   */
  graph?: Pick<ModelInfo, 'inputs' | 'outputs' | 'nodes'>;
}

export interface RunOptions {
  /**
   * Move the feeds' buffers to the worker instead of copying them: no copy, but the typed arrays
   * passed in are detached (empty) when run() returns. Default false, so a caller that reads its
   * feeds afterwards (to log inputs, say) cannot be handed silently emptied arrays.
   */
  transferInputs?: boolean;
}

/** Calls per worker by default: one running, one queued in its port so it starts as soon as the first ends. */
const LANE_DEPTH = 2;

interface Call {
  id: number;
  message: ToWorker;
  transfer: ArrayBuffer[];
  resolve: (outputs: Feeds) => void;
  reject: (e: Error) => void;
}

interface Lane {
  worker: Worker;
  inFlight: Map<number, Call>;
}

function openWorker(url: URL, model: Uint8Array | string, settings: SessionSettings): Promise<{ worker: Worker; inputs: TensorInfo[]; outputs: TensorInfo[] }> {
  return new Promise((resolve, reject) => {
    const worker = takeSpareWorker(url) ?? startWorker(url);
    // Detach only our own listeners: the Worker keeps internal ones of its own.
    const detach = (): void => {
      worker.off('error', onError).off('exit', onExit).off('message', onMessage);
    };
    const fail = (message: string): void => {
      detach();
      void worker.terminate();
      reject(new Error(message));
    };
    const onError = (e: Error): void => fail(e.message);
    const onExit = (code: number): void => fail(`worker exited with code ${code} while loading the model`);
    const onMessage = (m: FromWorker): void => {
      if (m.kind === 'ready') return;
      if (m.kind === 'opened') {
        detach();
        resolve({ worker, inputs: m.inputs, outputs: m.outputs });
      } else fail(m.kind === 'open-failed' ? m.message : `unexpected ${m.kind} message while loading the model`);
    };
    worker.on('error', onError).on('exit', onExit).on('message', onMessage);
    const msg: ToWorker = { kind: 'open', model, settings };
    worker.postMessage(msg);
  });
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** ONNX Runtime threads per session of `graph` on this machine (intraOpThreadsFor); without a graph, for any model but a thread-sensitive one. */
export const intraOpThreadsHere = (graph?: Pick<ModelInfo, 'nodes'>, workers = 1): number => intraOpThreadsFor(graph, workers, availableParallelism());

export class InferenceEngine {
  readonly provider: ProviderDecision;
  readonly inputs: readonly TensorInfo[];
  /** Non-tensor outputs (sequences, maps such as ZipMap) are listed but not returned by run(). */
  readonly outputs: readonly TensorInfo[];
  /** String inputs its sessions take as int64 codes (EngineOptions.graph); fed as strings all the same. */
  readonly codedInputs: readonly string[];
  readonly #lanes: Lane[];
  readonly #queue: Call[] = [];
  readonly #laneDepth: number;
  /** string inputs the sessions take as int64 codes */
  readonly #codes: CategoryCodes | undefined;
  /** one-row calls run as two rows (every input's first axis is free) */
  readonly #doubleSingleRows: boolean;
  /** outputs whose first axis the model fixes: not a batch axis, never cut to one row */
  readonly #fixedFirstAxis: Set<string>;
  #nextId = 1;
  /** Set once the engine can take no more calls (closed, or a worker crashed). */
  #stopped: OutpostError | undefined;

  private constructor(provider: ProviderDecision, inputs: TensorInfo[], outputs: TensorInfo[], workers: Worker[], laneDepth: number, codes?: CategoryCodes) {
    this.provider = provider;
    this.#codes = codes;
    this.#doubleSingleRows = canDoubleRows(inputs.map((i) => i.shape));
    this.#fixedFirstAxis = new Set(outputs.filter((o) => typeof o.shape[0] === 'number').map((o) => o.name));
    this.codedInputs = codes?.names ?? [];
    this.#laneDepth = laneDepth;
    this.inputs = inputs;
    this.outputs = outputs;
    this.#lanes = workers.map((worker) => ({ worker, inFlight: new Map() }));
    for (const lane of this.#lanes) {
      let crash: Error | undefined;
      lane.worker.on('message', (m: FromWorker) => this.#settle(lane, m));
      lane.worker.on('error', (e) => { crash = e; });
      lane.worker.on('exit', (code) => {
        if (this.#stopped) return;
        const pending = this.#lanes.reduce((n, l) => n + l.inFlight.size, this.#queue.length);
        this.#stop(new OutpostError('provider', `inference worker crashed (${crash?.message ?? `exit code ${code}`}); ${pending} pending call(s) cancelled and the engine closed`));
      });
      lane.worker.unref(); // idle until a call arrives: an idle engine does not keep the process alive
    }
  }

  /**
   * Loads a model (bytes, or a path each worker reads itself) into `workers` threads on the
   * provider chosen by `ep`. Throws OutpostError: 'provider' when the provider cannot be used,
   * 'package' when the model does not load or has inputs/outputs the engine cannot carry.
   */
  static async open(model: Uint8Array | string, opts: EngineOptions = {}): Promise<InferenceEngine> {
    const workers = opts.workers ?? 1;
    if (!Number.isSafeInteger(workers) || workers < 1) throw new OutpostError('usage', `workers must be a positive integer, got ${workers}`);
    const intraOpThreads = opts.intraOpThreads ?? intraOpThreadsHere(undefined, workers);
    if (!Number.isSafeInteger(intraOpThreads) || intraOpThreads < 1) throw new OutpostError('usage', `intraOpThreads must be a positive integer, got ${intraOpThreads}`);
    const laneDepth = opts.laneDepth ?? LANE_DEPTH;
    if (!Number.isSafeInteger(laneDepth) || laneDepth < 1) throw new OutpostError('usage', `laneDepth must be a positive integer, got ${laneDepth}`);
    const file = typeof model === 'string' ? model : undefined;
    if (file !== undefined && !existsSync(file)) throw new OutpostError('not-found', 'model file not found', { file });
    const coded = typeof model !== 'string' && opts.graph ? codableInputs(opts.graph) : [];
    // Structured clone copies a view's whole buffer; hand each worker just the model's bytes.
    const source = coded.length ? withCategoryCodes(model as Uint8Array, coded) : typeof model === 'string' || model.byteLength === model.buffer.byteLength ? model : model.slice();

    const provider = await chooseProvider(opts.ep ?? 'auto', opts.choose);
    const settings: SessionSettings = { ep: provider.chosen, intraOpThreads };
    const url = opts.workerUrl ?? INFERENCE_WORKER_URL;
    const opened = await Promise.allSettled(Array.from({ length: workers }, () => openWorker(url, source, settings)));
    const ok = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = opened.find((r) => r.status === 'rejected');
    const fail = async (e: OutpostError): Promise<never> => {
      await Promise.all(ok.map((w) => w.worker.terminate()));
      throw e;
    };
    if (failed) {
      const why = oneLine(String((failed.reason as Error).message));
      // On CPU a load failure is the model's fault; on a GPU it may be the provider's.
      await fail(new OutpostError(provider.chosen === 'cpu' ? 'package' : 'provider', `cannot load the model on ${provider.chosen}: ${why}`, file ? { file } : {}, { provider: provider.chosen }));
    }
    // a coded input is still a string input to the engine's callers
    const codedNames = new Set(coded.map((c) => c.name));
    const inputs = ok[0].inputs.map((i) => (codedNames.has(i.name) ? { ...i, type: 'string' } : i));
    const { outputs } = ok[0];
    const unfit = [...inputs.map((i) => ({ ...i, role: 'input' })), ...outputs.filter((o) => o.type !== 'non-tensor').map((o) => ({ ...o, role: 'output' }))]
      .find((v) => !feedTypes.includes(v.type as FeedType));
    if (unfit) {
      await fail(new OutpostError('package', `model ${unfit.role} "${unfit.name}" has type ${unfit.type}; the engine carries ${feedTypes.join(', ')}`, { ...(file ? { file } : {}), field: unfit.name }));
    }
    return new InferenceEngine(provider, inputs, outputs, ok.map((w) => w.worker), laneDepth, coded.length ? new CategoryCodes(coded) : undefined);
  }

  /**
   * Runs a batch in a worker; resolves with every tensor output. Bad feeds reject with
   * OutpostError('input') naming the input. Calls may overlap; each gets its own result.
   */
  run(feeds: Feeds, opts: RunOptions = {}): Promise<Feeds> {
    return this.#submit(feeds, opts, false);
  }

  /**
   * For one record (or a few) at a time: the feeds are packed into one array per element type
   * (copied, never detached), and the call skips the batch queue for the least busy worker, so
   * an interactive request waits for at most the batch already running there.
   */
  runOne(feeds: Feeds): Promise<Feeds> {
    return this.#submit(feeds, {}, true);
  }

  /** Stops the workers; calls still pending reject with OutpostError('cancelled'). */
  async close(): Promise<void> {
    if (!this.#stopped) this.#stop(new OutpostError('cancelled', 'inference engine closed before the call finished'));
    this.#stopped = new OutpostError('cancelled', 'inference engine is closed');
    await Promise.all(this.#lanes.map((l) => l.worker.terminate()));
  }

  #submit(feeds: Feeds, opts: RunOptions, urgent: boolean): Promise<Feeds> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    let message: ToWorker;
    let transfer: ArrayBuffer[] = [];
    // one row runs as two (single-row.ts): a record scores the same alone as inside any batch
    const doubled = this.#doubleSingleRows && isSingleRow(feeds);
    try {
      validateFeeds(feeds, this.inputs);
      const coded = this.#codes ? this.#codes.encode(feeds) : feeds;
      const sent = doubled ? doubleRows(coded) : coded;
      if (urgent) message = { kind: 'run-packed', id, packed: packFeeds(sent) };
      else {
        const handoff = prepareHandoff(sent, opts.transferInputs ?? false);
        message = { kind: 'run', id, feeds: handoff.feeds };
        transfer = handoff.transfer;
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const call: Call = { id, message, transfer, resolve: doubled ? (out) => resolve(firstRows(out, (name) => this.#fixedFirstAxis.has(name))) : resolve, reject };
      if (urgent) this.#dispatch(call, this.#leastBusy());
      else {
        this.#queue.push(call);
        this.#pump();
      }
    });
  }

  #leastBusy(): Lane {
    return this.#lanes.reduce((best, l) => (l.inFlight.size < best.inFlight.size ? l : best));
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const lane = this.#leastBusy();
      if (lane.inFlight.size >= this.#laneDepth) return;
      this.#dispatch(this.#queue.shift() as Call, lane);
    }
  }

  #dispatch(call: Call, lane: Lane): void {
    try {
      lane.worker.postMessage(call.message, call.transfer);
    } catch (e) {
      call.reject(new OutpostError('input', `feeds cannot be sent to the inference worker: ${(e as Error).message}`));
      return;
    }
    lane.inFlight.set(call.id, call);
    if (lane.inFlight.size === 1) lane.worker.ref();
  }

  #settle(lane: Lane, m: FromWorker): void {
    if (m.kind !== 'result' && m.kind !== 'failed') return;
    const call = lane.inFlight.get(m.id);
    if (!call) return;
    lane.inFlight.delete(m.id);
    if (lane.inFlight.size === 0) lane.worker.unref();
    if (m.kind === 'result') call.resolve(m.outputs);
    else if (m.input !== undefined) call.reject(new OutpostError('input', `input "${m.input}": ${oneLine(m.message)}`, { field: m.input }));
    else call.reject(new OutpostError(this.provider.chosen === 'cpu' ? 'input' : 'provider', `inference failed on ${this.provider.chosen}: ${oneLine(m.message)}`));
    this.#pump();
  }

  /** No more calls: rejects everything queued or in flight with `why` and stops the workers. */
  #stop(why: OutpostError): void {
    this.#stopped = why;
    const pending = [...this.#queue.splice(0), ...this.#lanes.flatMap((l) => [...l.inFlight.values()])];
    for (const l of this.#lanes) l.inFlight.clear();
    for (const call of pending) call.reject(why);
    for (const l of this.#lanes) void l.worker.terminate();
  }
}
