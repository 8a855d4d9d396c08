// Pull failures, typed: a refusal (the content failed verification — a security event) versus a
// transient failure (network down, hub gone — retry later, nothing suspicious).
import { OutpostError } from '../../common/errors.ts';

export type PullStage = 'bundle' | 'selector' | 'trust' | 'metadata' | 'resolve' | 'alias' | 'package-files' | 'size' | 'download' | 'verify' | 'model-safety' | 'card' | 'smoke' | 'install' | 'release' | 'rollback';

/** Content failed a check: refuse, record a security event. */
export class PullRefused extends OutpostError {
  readonly stage: PullStage;
  constructor(stage: PullStage, message: string, details: Record<string, unknown> = {}) {
    super('package', message, {}, { stage, ...details });
    this.name = 'PullRefused';
    this.stage = stage;
  }
}

/** The hub could not be reached or stopped answering: no event, partial downloads kept for resume. */
export class PullUnavailable extends OutpostError {
  readonly stage: PullStage;
  constructor(stage: PullStage, message: string, details: Record<string, unknown> = {}) {
    super('input', message, {}, { stage, offline: true, ...details });
    this.name = 'PullUnavailable';
    this.stage = stage;
  }
}
