// Bring-your-own-model layout: the same 20-float MLP scored end to end through one [N, 20] input
// (skl2onnx / PyTorch layout, card "tensors" mapping) and through twenty [N, 1] inputs (Outpost's
// own layout), same file, same run. Target: the mapped layout costs at most 10 % throughput.
import fs from 'node:fs';
import path from 'node:path';
import { encodeModel } from '../../src/onnx/common/onnx.ts';
import { CARD_FORMAT, type Card } from '../../src/package/common/card.ts';
import { scoreFile } from '../../src/scoring/node/score-file.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore } from '../../src/store/node/store.ts';
import { buildSyntheticMlp, createRng } from '../../src/train/common/index.ts';
import { floatCsv, perSecond, tempHome, time } from '../lib.ts';

const FEATURES = 20;
const HIDDEN = 16;

/** input [batch, 20] → Gemm → Tanh → Gemm → Softmax → output [batch, 2], as torch.onnx.export writes it. */
function tensorMlp(seed: number): Uint8Array {
  const rng = createRng(seed);
  const w = (n: number) => Array.from({ length: n }, () => Math.fround(rng.uniform(-0.5, 0.5)));
  return encodeModel({
    name: 'torch_jit',
    nodes: [
      { op: 'Gemm', name: '/fc1/Gemm', inputs: ['input', 'fc1.weight', 'fc1.bias'], outputs: ['/fc1/Gemm_output_0'], attrs: { transB: 1 } },
      { op: 'Tanh', name: '/act/Tanh', inputs: ['/fc1/Gemm_output_0'], outputs: ['/act/Tanh_output_0'] },
      { op: 'Gemm', name: '/fc2/Gemm', inputs: ['/act/Tanh_output_0', 'fc2.weight', 'fc2.bias'], outputs: ['/fc2/Gemm_output_0'], attrs: { transB: 1 } },
      { op: 'Softmax', name: '/softmax/Softmax', inputs: ['/fc2/Gemm_output_0'], outputs: ['output'], attrs: { axis: 1 } },
    ],
    inputs: [{ name: 'input', type: 'float', shape: ['batch', FEATURES] }],
    outputs: [{ name: 'output', type: 'float', shape: ['batch', 2] }],
    initializers: [
      { name: 'fc1.weight', type: 'float', dims: [HIDDEN, FEATURES], data: w(HIDDEN * FEATURES) },
      { name: 'fc1.bias', type: 'float', dims: [HIDDEN], data: w(HIDDEN) },
      { name: 'fc2.weight', type: 'float', dims: [2, HIDDEN], data: w(2 * HIDDEN) },
      { name: 'fc2.bias', type: 'float', dims: [2], data: w(2) },
    ],
  }, { producer: 'pytorch' });
}

export async function run(opts: { rows: number; runs: number }) {
  const file = floatCsv(opts.rows, FEATURES);
  const home = tempHome();
  const store = openStore(home);
  try {
    const install = (name: string, bytes: Uint8Array, card: Card) => {
      const pkg = path.join(home, name);
      fs.mkdirSync(pkg);
      fs.writeFileSync(path.join(pkg, 'model.onnx'), bytes);
      fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify({ ...card, name }));
      installPackage(store, pkg, { source: 'local', allowUnsigned: true });
    };
    const own = buildSyntheticMlp({ features: FEATURES, hidden: HIDDEN, classes: 2, seed: 1 });
    install('per-feature', own.bytes, own.card);
    const features = Array.from({ length: FEATURES }, (_, i) => `f${i}`);
    install('tensor', tensorMlp(1), {
      format: CARD_FORMAT, name: 'tensor', version: 1, task: 'binary',
      inputs: features.map((name) => ({ name, type: 'float', nullable: false })),
      tensors: [{ input: 'input', features }],
      outputs: { probabilities: 'output', classes: ['c0', 'c1'] },
    });
    const score = (model: string) => time(opts.runs, async () => {
      const out = path.join(home, `out-${model}.csv`);
      const r = await scoreFile(store, { input: file, model, out });
      if (r.job.rowsScored !== opts.rows) throw new Error(`scored ${r.job.rowsScored}`);
      fs.rmSync(out);
    });
    const perFeature = await score('per-feature');
    const tensor = await score('tensor');
    const rps = { perFeatureInputs: perSecond(opts.rows, perFeature), tensorInput: perSecond(opts.rows, tensor) };
    return {
      input: { rows: opts.rows, features: FEATURES, model: `MLP ${FEATURES}-${HIDDEN}-2 (tanh), float32; logging on` },
      rowsPerSecond: rps,
      ratios: { tensorOverPerFeature: rps.tensorInput / rps.perFeatureInputs },
      targets: { tensorOverPerFeature: { target: 0.9, met: rps.tensorInput / rps.perFeatureInputs >= 0.9 } },
      runsMs: { perFeature: perFeature.runsMs, tensor: tensor.runsMs },
    };
  } finally {
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
