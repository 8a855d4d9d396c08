// The neural learners (logistic regression = no hidden layer, MLP = one hidden layer) behind the
// pipeline's Learner interface, on the project's TypeScript trainer (fit.ts: mini-batch Adam).
import { OutpostError } from '../../common/errors.ts';
import { exportOnnx } from './export.ts';
import type { FitOptions, FitTarget } from './fit.ts';
import { fitLinearSparse, predictLinear, transformSparse } from './linear.ts';
import type { TrainedModel } from './model.ts';
import { encodeLabels } from './model.ts';
import { fitPreprocessor } from './preprocess.ts';
import type { FittedModel, LearnerInput } from './learner.ts';
import { predict, trainModel } from './model.ts';

/** Cells (rows × design-matrix columns) above which the dense trainer would need too much memory. */
export const MAX_DESIGN_CELLS = 80_000_000;

export function neuralDefaults(algo: 'logreg' | 'mlp', rows: number, seed: number): FitOptions {
  return {
    hidden: algo === 'mlp' ? 16 : 0,
    activation: 'tanh',
    // about 300k row visits in all on small data, at least 5 passes on big data
    epochs: Math.max(5, Math.min(200, Math.round(300_000 / Math.max(1, rows)))),
    batchSize: rows < 20_000 ? 64 : 256,
    learningRate: algo === 'mlp' ? 0.005 : 0.01,
    // scikit-learn's default penalty (C = 1) expressed per row of the mean loss
    l2: 1 / Math.max(1, rows),
    seed,
  };
}

const FIT_KEYS = ['hidden', 'activation', 'epochs', 'batchSize', 'learningRate', 'l2'] as const;

export function fitNeural(algo: 'logreg' | 'mlp', input: LearnerInput): FittedModel {
  const options: FitOptions = { ...neuralDefaults(algo, input.train.rows, input.seed) };
  for (const k of FIT_KEYS) if (input.params[k] !== undefined) (options as unknown as Record<string, unknown>)[k] = input.params[k];
  options.seed = input.seed;
  if (algo === 'logreg') options.hidden = 0;
  if (algo === 'logreg') return fitLogreg(input, options);
  let width = 0;
  for (const f of input.features) width += f.type === 'category' ? (f.vocabulary?.length ?? 1) : 1;
  if (input.train.rows * width > MAX_DESIGN_CELLS) {
    throw new OutpostError('input', `${algo} on ${input.train.rows.toLocaleString('en-US')} rows × ${width} encoded columns needs a ${Math.round((input.train.rows * width * 8) / 2 ** 20)} MiB design matrix (limit ${MAX_DESIGN_CELLS / 1e6}M cells): use --algo gbdt or logreg, fewer or smaller categorical features, or fewer rows`);
  }
  const model = trainModel({
    task: input.task,
    features: input.features,
    target: input.target,
    data: input.train,
    ...(input.classes ? { classes: input.classes } : {}),
    options,
    hooks: {
      onEpoch: (epoch, loss) => input.hooks.onStep?.({ unit: 'epoch', step: epoch, of: options.epochs, trainLoss: loss }),
      ...(input.hooks.signal ? { signal: input.hooks.signal } : {}),
    },
  });
  return {
    algo,
    params: { ...options },
    summary: { designColumns: model.preprocessor.width },
    predict(data) {
      const p = predict(model, data);
      // The graph returns float32: round so metrics and baselines describe what scoring will see.
      if (p.values) return { values: p.values.map(Math.fround) };
      return { probabilities: p.probabilities!.data.map(Math.fround) };
    },
    exportOnnx: (graphName) => exportOnnx(model, graphName),
  };
}

/** Logistic / linear regression on the sparse design (linear.ts): the dense trainer's arithmetic without its matrix. */
function fitLogreg(input: LearnerInput, options: FitOptions): FittedModel {
  const y = input.train.columns[input.target];
  const preprocessor = fitPreprocessor(input.features, input.train);
  const x = transformSparse(preprocessor, input.train);
  const target: FitTarget = input.task === 'regression'
    ? { kind: 'values', values: Float64Array.from(y as ArrayLike<number>) }
    : { kind: 'classes', labels: encodeLabels(y, input.classes!, input.target), classes: input.classes!.length };
  const network = fitLinearSparse(x, target, options, {
    onEpoch: (epoch, loss) => input.hooks.onStep?.({ unit: 'epoch', step: epoch, of: options.epochs, trainLoss: loss }),
    ...(input.hooks.signal ? { signal: input.hooks.signal } : {}),
  });
  const model: TrainedModel = { task: input.task, target: input.target, preprocessor, network, ...(input.classes ? { classes: input.classes } : {}), options: { ...options }, trainingRows: input.train.rows };
  return {
    algo: 'logreg',
    params: { ...options },
    summary: { designColumns: preprocessor.width },
    predict(data) {
      const out = predictLinear(network, transformSparse(preprocessor, data)).map(Math.fround);
      return input.task === 'regression' ? { values: out } : { probabilities: out };
    },
    exportOnnx: (graphName) => exportOnnx(model, graphName),
  };
}
