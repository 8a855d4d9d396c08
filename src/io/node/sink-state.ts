// Shared by the sinks: one operation at a time (a checkpoint must not interleave with a write),
// and the checks a SinkState passes before a sink resumes from it.

import { OutpostError } from '../../common/errors.ts';
import type { SinkState } from '../common/table.ts';

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op);
    this.tail = result.catch(() => {});
    return result;
  }
}

/** The state's `extra`, after checking it was written by a sink of this format. */
export function resumeExtra<E extends { format: string }>(target: string, state: SinkState, format: string): E {
  const extra = state.extra as E | undefined;
  if (!extra || typeof extra !== 'object' || extra.format !== format || !Number.isInteger(state.bytes) || state.bytes < 0 || !Number.isInteger(state.rows)) {
    throw new OutpostError('input', `cannot resume the output: the checkpoint is not from a ${format} output`, { file: target });
  }
  return extra;
}
