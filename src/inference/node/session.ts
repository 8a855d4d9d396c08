// ORT session settings shared by the inference and probe workers, and conversion between ORT
// tensors and the plain FeedTensor that crosses threads. Worker-side only: importing this loads
// the native binding.
// first: a GPU runtime chosen for this process is what onnxruntime-node loads (./ort-binding.ts)
import './ort-binding.ts';
import ort from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { initOrt } from 'onnxruntime-node/dist/binding.js';
import type { FeedTensor, FeedType, TensorInfo } from '../common/feeds.ts';
import type { ProviderName } from '../common/providers.ts';

// ORT's process-wide logger prints every failed provider load in red before throwing the same
// text; the thrown error is what we report, so keep the logger for fatal problems only. This only
// takes effect if this thread is the first to initialise ORT in the process.
ort.env.logLevel = 'fatal';

export interface SessionChoice {
  ep: ProviderName;
  intraOpThreads: number;
  /**
   * Fail session creation when any node would land on ORT's implicit CPU provider. Used for
   * probes, so a provider that silently hands the graph to CPU does not pass as working.
   */
  strict?: boolean;
  /** 0 verbose … 4 fatal. Default 4: every ORT error is thrown to us and reported from there. */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

const epOption = (ep: ProviderName): InferenceSession.ExecutionProviderConfig =>
  ep === 'cuda' ? { name: 'cuda', deviceId: 0 } : ep;

export function sessionOptions(c: SessionChoice): InferenceSession.SessionOptions {
  return {
    // Only the chosen provider: ORT adds CPU itself for nodes the provider lacks (unless strict).
    executionProviders: [epOption(c.ep)],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: c.intraOpThreads,
    // Sequential execution runs no inter-op pool; one thread avoids creating an idle one.
    interOpNumThreads: 1,
    logSeverityLevel: c.logSeverityLevel ?? 4,
    ...(c.strict && c.ep !== 'cpu' ? { extra: { session: { disable_cpu_ep_fallback: '1' } } } : {}),
  };
}

/**
 * Create ONNX Runtime's environment now (~50 ms of CPU here) instead of inside the first session's
 * creation: the inference worker does it as soon as it has loaded (a spare worker, before the
 * engine has a model for it). The environment is one per process; idempotent (the binding's own
 * once-flag). A failure is left to the session creation that follows, which reports it as it
 * always did.
 */
export function initRuntime(): void {
  try {
    initOrt();
  } catch { /* reported by createSession */ }
}

export function createSession(model: Uint8Array | string, c: SessionChoice): Promise<InferenceSession> {
  const opts = sessionOptions(c);
  return typeof model === 'string' ? ort.InferenceSession.create(model, opts) : ort.InferenceSession.create(model, opts);
}

export function describeValues(meta: readonly InferenceSession.ValueMetadata[]): TensorInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
}

export function toOrtTensor(t: FeedTensor): Tensor {
  // The Tensor wraps the typed array without copying; ORT reads it in place during run().
  return new ort.Tensor(t.type, t.data as never, t.dims);
}

const feedTypeOf: Partial<Record<Tensor.Type, FeedType>> = {
  float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', bool: 'bool', string: 'string',
};

export function fromOrtTensor(name: string, t: Tensor): FeedTensor {
  const type = feedTypeOf[t.type];
  if (type === undefined) throw new Error(`output "${name}" has element type ${t.type}, which the engine does not pass on`);
  return { type, data: t.data as FeedTensor['data'], dims: [...t.dims] };
}
