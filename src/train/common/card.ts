// The model card for a trained model: input schema from the features and their fitted vocabularies,
// the output mapping of the exported graph, metrics and lineage (with a recipe to retrain it).
// The result is validated with the package schema, so a bad card never leaves the trainer.
import { OutpostError } from '../../common/errors.ts';
import type { Card, InputField } from '../../package/common/card.ts';
import { CARD_FORMAT, parseCard } from '../../package/common/card.ts';
import { OUTPUT_NAMES } from './export.ts';
import type { TrainedModel } from './model.ts';

/** Bumped whenever training or export math changes: same version + recipe + data → same bytes. */
export const TRAINER_VERSION = 'outpost-train/1';

export interface CardInfo {
  name: string;
  version: number;
  description?: string;
  metrics?: Record<string, number>;
  /** sha256 hex of the training file's bytes (hashing is the caller's job: it has the file) */
  trainingDataHash?: string;
  /** a fixed time derived from the data (not the clock), so builds are reproducible */
  createdAt?: string;
  /** recipe entries beyond the trainer's own (data source, split, derived features) */
  recipe?: Record<string, unknown>;
}

/** Trainer, hyper-parameters, seed, features and target: what the appliance needs to retrain. */
export function recipeOf(model: TrainedModel): Record<string, unknown> {
  const { hidden, activation, ...rest } = model.options;
  return {
    trainer: hidden > 0 ? 'mlp' : model.task === 'regression' ? 'linear' : 'logistic',
    task: model.task,
    target: model.target,
    ...(hidden > 0 ? { hidden, activation } : {}),
    ...rest,
    features: model.preprocessor.features.map((f) => ({ ...f })),
    ...(model.classes ? { classes: [...model.classes] } : {}),
  };
}

function inputField(model: TrainedModel, i: number): InputField {
  const f = model.preprocessor.features[i];
  const vocabulary = model.preprocessor.categories.find((c) => c.spec.name === f.name)?.vocabulary;
  return {
    name: f.name,
    type: f.type,
    nullable: f.nullable ?? false,
    ...(f.range ? { range: { ...f.range } } : {}),
    ...(vocabulary ? { vocabulary: [...vocabulary] } : {}),
    ...(f.unit !== undefined ? { unit: f.unit } : {}),
    ...(f.description !== undefined ? { description: f.description } : {}),
  };
}

export function buildCard(model: TrainedModel, info: CardInfo): Card {
  const raw = {
    format: CARD_FORMAT,
    name: info.name,
    version: info.version,
    task: model.task,
    ...(info.description !== undefined ? { description: info.description } : {}),
    inputs: model.preprocessor.features.map((_, i) => inputField(model, i)),
    outputs: model.task === 'regression'
      ? { value: OUTPUT_NAMES.value }
      : { label: OUTPUT_NAMES.label, probabilities: OUTPUT_NAMES.probabilities, classes: model.classes },
    ...(info.metrics ? { metrics: { ...info.metrics } } : {}),
    lineage: {
      ...(info.trainingDataHash !== undefined ? { trainingDataHash: info.trainingDataHash } : {}),
      trainingRows: model.trainingRows,
      codeVersion: TRAINER_VERSION,
      recipe: { ...recipeOf(model), ...info.recipe },
      ...(info.createdAt !== undefined ? { createdAt: info.createdAt } : {}),
    },
  };
  const parsed = parseCard(raw);
  if (!parsed.ok) {
    throw new OutpostError('package', `the trained model's card is invalid: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, {}, { problems: parsed.problems });
  }
  return parsed.card;
}
