// Public surface of the trainer (pure: runs in Node, workers or the renderer).
export { createRng } from './random.ts';
export type { Rng } from './random.ts';
export { fitPreprocessor, transform } from './preprocess.ts';
export type { Dataset, FeatureColumn, FeatureSpec, Matrix, Preprocessor } from './preprocess.ts';
export { forward } from './network.ts';
export type { Activation, Network } from './network.ts';
export { fitNetwork } from './fit.ts';
export type { FitHooks, FitOptions, FitTarget } from './fit.ts';
export { encodeLabels, predict, trainModel } from './model.ts';
export type { Prediction, Task, TrainedModel, TrainRequest } from './model.ts';
export { accuracy, logLoss, majorityClass, rootMeanSquaredError } from './metrics.ts';
export { exportOnnx, modelGraph, OUTPUT_NAMES } from './export.ts';
export { buildCard, recipeOf, TRAINER_VERSION } from './card.ts';
export type { CardInfo } from './card.ts';
export { buildSyntheticMlp } from './synthetic.ts';
export type { SyntheticMlpOptions } from './synthetic.ts';
