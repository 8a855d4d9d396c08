import { OutpostError } from '../../common/errors.ts';
import type { FittedModel, LearnerInput } from './learner.ts';

export function fitGbdt(_input: LearnerInput): FittedModel {
  throw new OutpostError('input', 'gbdt is not available yet');
}
