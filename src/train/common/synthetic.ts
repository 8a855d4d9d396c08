// A random-weight MLP with float features f0..f{n-1} and classes c0..c{C-1}, exported exactly like a
// trained model. Benchmarks and tests use it where the weights do not matter but the graph shape does.
import type { Card } from '../../package/common/card.ts';
import { buildCard } from './card.ts';
import { exportOnnx } from './export.ts';
import { initNetwork } from './fit.ts';
import type { TrainedModel } from './model.ts';
import type { FeatureSpec } from './preprocess.ts';
import { createRng } from './random.ts';

export interface SyntheticMlpOptions { features: number; hidden: number; classes: number; seed: number }

export function buildSyntheticMlp(o: SyntheticMlpOptions): { bytes: Uint8Array; card: Card; model: TrainedModel } {
  if (!(Number.isInteger(o.features) && o.features >= 1)) throw new RangeError('features must be an integer ≥ 1');
  if (!(Number.isInteger(o.hidden) && o.hidden >= 1)) throw new RangeError('hidden must be an integer ≥ 1');
  if (!(Number.isInteger(o.classes) && o.classes >= 2)) throw new RangeError('classes must be an integer ≥ 2');
  const rng = createRng(o.seed);
  const specs: FeatureSpec[] = Array.from({ length: o.features }, (_, i) => ({ name: `f${i}`, type: 'float' }));
  const network = initNetwork(o.features, o.classes, { hidden: o.hidden, activation: 'tanh' }, 'softmax', rng);
  for (const layer of network.layers) for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = Math.fround(rng.uniform(-0.5, 0.5));
  for (const layer of network.layers) for (let i = 0; i < layer.weights.length; i++) layer.weights[i] = Math.fround(layer.weights[i]);
  const model: TrainedModel = {
    task: o.classes === 2 ? 'binary' : 'multiclass',
    target: 'class',
    // Inputs are expected standard-normal, so the standardisation is the identity.
    preprocessor: { features: specs, numeric: specs.map((spec) => ({ spec, mean: 0, std: 1 })), categories: [], width: o.features },
    network,
    classes: Array.from({ length: o.classes }, (_, i) => `c${i}`),
    options: { hidden: o.hidden, activation: 'tanh', epochs: 0, batchSize: 0, learningRate: 0, l2: 0, seed: o.seed },
    trainingRows: 0,
  };
  const card = buildCard(model, {
    name: 'synthetic-mlp',
    version: 1,
    description: `random-weight MLP (${o.features} float features, ${o.hidden} hidden, ${o.classes} classes, seed ${o.seed}) for benchmarks and tests`,
    recipe: { trainer: 'synthetic' },
  });
  return { bytes: exportOnnx(model, 'synthetic-mlp'), card, model };
}
