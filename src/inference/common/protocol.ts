// Messages between the main thread and the inference / probe workers. Plain data only: everything
// here goes through structured clone, with tensor buffers in the transfer list.
import type { Feeds, TensorInfo } from './feeds.ts';
import type { PackedFeeds } from './handoff.ts';
import type { ProbeResult, ProviderName } from './providers.ts';

export interface SessionSettings {
  ep: ProviderName;
  intraOpThreads: number;
}

export type ToWorker =
  | { kind: 'open'; model: Uint8Array | string; settings: SessionSettings }
  | { kind: 'run'; id: number; feeds: Feeds }
  | { kind: 'run-packed'; id: number; packed: PackedFeeds };

export type FromWorker =
  /** the worker's modules have loaded, ONNX Runtime's native library among them (sent once, first) */
  | { kind: 'ready' }
  | { kind: 'opened'; inputs: TensorInfo[]; outputs: TensorInfo[] }
  | { kind: 'open-failed'; message: string }
  | { kind: 'result'; id: number; outputs: Feeds }
  | { kind: 'failed'; id: number; message: string; input?: string };

export type ToProbe = { kind: 'probe'; id: number; name: ProviderName };
export type FromProbe = { kind: 'probed'; id: number; result: ProbeResult };
