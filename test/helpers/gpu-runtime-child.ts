// A scoring run in its own process, as `outpost score` makes it: the process's ONNX Runtime files
// are chosen for the data folder (argv[2]) first, then an inference engine (worker thread) scores an
// MLP with `--ep` argv[3]. Prints one JSON line: the choice, the provider decision, the outputs' bytes
// (hex) and every ONNX Runtime file mapped into the process (/proc/self/maps).
import fs from 'node:fs';
import { InferenceEngine } from '../../src/inference/node/engine.ts';
import { selectOrtRuntime } from '../../src/inference/node/ort-runtime.ts';
import type { ProviderRequest } from '../../src/inference/common/providers.ts';
import { mlpFeeds, mlpModel } from './inference-models.ts';

const [home, ep] = process.argv.slice(2);
const selection = selectOrtRuntime(home);
const mapped = (): string[] => [...new Set(fs.readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.slice(l.indexOf('/'))).filter((p) => l0(p)))].sort();
const l0 = (p: string): boolean => p.startsWith('/') && /\/[^/]*onnxruntime[^/]*\.(so[.\d]*|node)$/.test(p);
try {
  const engine = await InferenceEngine.open(mlpModel(4, 16, 3), { ep: ep as ProviderRequest, choose: { home } });
  const out = await engine.run(mlpFeeds(4, 64, 7));
  await engine.close();
  const outputs = Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Buffer.from((t.data as Float32Array).buffer).toString('hex')]));
  console.log(JSON.stringify({ selection: { dir: selection.runtime?.dir ?? null, problem: selection.problem ?? null }, provider: engine.provider, outputs, mapped: mapped() }));
} catch (e) {
  console.log(JSON.stringify({ selection: { dir: selection.runtime?.dir ?? null, problem: selection.problem ?? null }, error: (e as Error).message, mapped: mapped() }));
}
