// Inference worker: owns one ORT session and runs batches on it, off the main thread (ORT's run()
// blocks its thread for the whole batch). Feed buffers arrive transferred and are read by ORT in
// place; output buffers are transferred back, so a batch crosses threads without copies.
import { parentPort } from 'node:worker_threads';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { inputNamedIn } from '../common/feeds.ts';
import { receivedFeed, unpackFeeds } from '../common/handoff.ts';
import type { Feeds } from '../common/feeds.ts';
import type { FromWorker, SessionSettings, ToWorker } from '../common/protocol.ts';
import { createSession, describeValues, fromOrtTensor, initRuntime, toOrtTensor } from './session.ts';

let session: InferenceSession | undefined;
let inputNames: string[] = [];
/** Sequences and maps (e.g. ZipMap) cannot cross into JS with onnxruntime-node: not fetched. */
let fetchNames: string[] = [];

const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => parentPort?.postMessage(m, transfer);

async function open(model: Uint8Array | string, settings: SessionSettings): Promise<void> {
  try {
    session = await createSession(model, settings);
  } catch (e) {
    post({ kind: 'open-failed', message: (e as Error).message });
    return;
  }
  const inputs = describeValues(session.inputMetadata);
  const outputs = describeValues(session.outputMetadata);
  inputNames = inputs.map((i) => i.name);
  fetchNames = outputs.filter((o) => o.type !== 'non-tensor').map((o) => o.name);
  post({ kind: 'opened', inputs, outputs });
}

async function run(id: number, feeds: Feeds): Promise<void> {
  if (!session) {
    post({ kind: 'failed', id, message: 'no model loaded' });
    return;
  }
  let outputs: Feeds;
  const transfer = new Set<ArrayBuffer>();
  try {
    const ortFeeds: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(receivedFeed(name, t));
    const result = await session.run(ortFeeds, fetchNames);
    outputs = {};
    for (const name of fetchNames) {
      const out = fromOrtTensor(name, result[name] as Tensor);
      if (typeof out.data !== 'object' || Array.isArray(out.data)) {
        outputs[name] = out; // strings are cloned
        continue;
      }
      let data = out.data;
      // Only a view spanning its whole ArrayBuffer may be handed over; copy anything else.
      if (!(data.buffer instanceof ArrayBuffer) || data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength || transfer.has(data.buffer)) data = data.slice();
      transfer.add(data.buffer as ArrayBuffer);
      outputs[name] = { ...out, data };
    }
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    const input = inputNamedIn(message, inputNames);
    post({ kind: 'failed', id, message, ...(input ? { input } : {}) });
    return;
  }
  post({ kind: 'result', id, outputs }, [...transfer]);
}

parentPort?.on('message', (m: ToWorker) => {
  if (m.kind === 'open') void open(m.model, m.settings);
  else if (m.kind === 'run') void run(m.id, m.feeds);
  else void run(m.id, unpackFeeds(m.packed));
});
// ONNX Runtime's environment first, then `ready`: a spare worker keeps its process alive until
// `ready`, so the process never ends while this thread is inside that native call (which aborts).
initRuntime();
post({ kind: 'ready' });
