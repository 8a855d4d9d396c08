// Run in a separate process by smoke.ts: load the model with ONNX Runtime and score one row of
// zeros (first vocabulary entry for categories), as scoring would run it (ZipMap outputs replaced
// by their probability tensors). A crash here kills only this process.
// (a child process: the app's own ONNX Runtime, whatever the parent chose; ../../inference/node/ort-binding.ts)
import '../../inference/node/ort-binding.ts';
import ort from 'onnxruntime-node';
import { adaptModel } from '../../onnx/common/adapt.ts';
import { loadPackage } from '../../package/node/load.ts';

// As a Node child: argv[2]. As an Electron utility process (the packaged app): OUTPOST_SMOKE_DIR.
const parentPort = (process as unknown as { parentPort?: unknown }).parentPort;
const dir = parentPort ? process.env.OUTPOST_SMOKE_DIR ?? '' : process.argv[2];
const pkg = loadPackage(dir);
const session = await ort.InferenceSession.create(adaptModel(pkg.modelBytes, pkg.graph).bytes);
const feeds: Record<string, ort.Tensor> = {};
for (const input of pkg.graph.inputs) {
  const shape = input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const n = shape.reduce((a, b) => a * b, 1);
  const tensor = pkg.card.tensors?.find((t) => t.input === input.name);
  const field = pkg.card.inputs.find((f) => f.name === (tensor ? tensor.features[0] : input.name));
  switch (input.type) {
    case 'float': feeds[input.name] = new ort.Tensor('float32', new Float32Array(n), shape); break;
    case 'double': feeds[input.name] = new ort.Tensor('float64', new Float64Array(n), shape); break;
    case 'int64': feeds[input.name] = new ort.Tensor('int64', new BigInt64Array(n), shape); break;
    case 'int32': feeds[input.name] = new ort.Tensor('int32', new Int32Array(n), shape); break;
    case 'bool': feeds[input.name] = new ort.Tensor('bool', new Uint8Array(n), shape); break;
    case 'uint8': feeds[input.name] = new ort.Tensor('uint8', new Uint8Array(n), shape); break;
    case 'string': feeds[input.name] = new ort.Tensor('string', Array(n).fill(field?.vocabulary?.[0] ?? ''), shape); break;
    default: throw new Error(`input "${input.name}" has dtype ${input.type}, which the smoke test cannot feed`);
  }
}
const out = await session.run(feeds);
// A utility process lives until it exits; a Node child ends when its work is done.
process.stdout.write(JSON.stringify({ ok: true, outputs: Object.keys(out) }) + '\n', () => { if (parentPort) process.exit(0); });
