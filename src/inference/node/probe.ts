// Whether one provider really works here: cheap pre-checks first, then a session on that provider
// alone (CPU fallback disabled, so a provider that hands the graph to CPU does not pass) running
// the probe model, compared with CPU. Blocks its thread while ORT creates the session: call it
// from the probe worker, not the main thread.
// first: a GPU runtime chosen for this process is what onnxruntime-node loads (./ort-binding.ts)
import './ort-binding.ts';
import ort from 'onnxruntime-node';
import { compareToReference, PROBE_INPUT, PROBE_OUTPUT, probeInput, probeInputDims, probeModel } from '../common/probe-model.ts';
import { explainProbeFailure, precheck } from '../common/providers.ts';
import type { PlatformFacts, ProbeResult, ProviderName } from '../common/providers.ts';
import { createSession } from './session.ts';

let model: Uint8Array | undefined;
let reference: Promise<Float32Array> | undefined;

async function runProbeModel(ep: ProviderName): Promise<Float32Array> {
  model ??= probeModel();
  const session = await createSession(model, { ep, intraOpThreads: 1, strict: true });
  try {
    const out = await session.run({ [PROBE_INPUT]: new ort.Tensor('float32', probeInput(), probeInputDims) });
    return out[PROBE_OUTPUT].data as Float32Array;
  } finally {
    await session.release();
  }
}

export async function probeProvider(name: ProviderName, facts: PlatformFacts): Promise<ProbeResult> {
  if (name === 'cpu') return { name, outcome: 'ok', reason: 'always available' };
  const ruledOut = precheck(name, facts);
  if (ruledOut) return ruledOut;
  let actual: Float32Array;
  try {
    actual = await runProbeModel(name);
  } catch (e) {
    return { name, outcome: 'probe-failed', reason: explainProbeFailure(name, (e as Error).message ?? String(e), facts) };
  }
  reference ??= runProbeModel('cpu');
  const cmp = compareToReference(await reference, actual);
  return cmp.ok ? { name, outcome: 'ok', reason: 'probe model ran and matched CPU' } : { name, outcome: 'mismatch', reason: cmp.detail };
}
