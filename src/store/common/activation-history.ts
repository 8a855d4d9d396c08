// Which version `models rollback` goes back to, from the recorded model events (pure). The events
// replay as a stack: an activation moves its version to the top, a rollback pops back to the
// version it activated, a removal takes the version out. Rollback's target is the entry below the
// top, so rolling back twice goes two steps back — never forward again to the version just left.

export interface ModelEventLike { kind: string; version: number | null; detail: string }

/** Rollbacks are recorded as activations whose detail says so (the hub reads every activation alike). */
export const ROLLBACK_DETAIL = 'rollback from ';

export function activationStack(events: readonly ModelEventLike[]): number[] {
  const stack: number[] = [];
  for (const e of events) {
    if (e.version === null) continue;
    if (e.kind === 'remove') {
      for (let i = stack.length - 1; i >= 0; i--) if (stack[i] === e.version) stack.splice(i, 1);
    } else if (e.kind === 'activate') {
      if (e.detail.startsWith(ROLLBACK_DETAIL)) {
        while (stack.length && stack[stack.length - 1] !== e.version) stack.pop();
        if (!stack.length) stack.push(e.version);
      } else {
        // moved to the top: a version appears once, so going back never returns to where it started
        const at = stack.indexOf(e.version);
        if (at >= 0) stack.splice(at, 1);
        stack.push(e.version);
      }
    }
  }
  return stack;
}

/**
 * The version a rollback activates: the nearest entry below the current one that is still
 * installed (and is not the current version again); undefined when history has none.
 */
export function rollbackTarget(events: readonly ModelEventLike[], current: number, installed: ReadonlySet<number>): number | undefined {
  const stack = activationStack(events);
  // the top should be the current version; if history disagrees (edited store), trust the current
  while (stack.length && stack[stack.length - 1] !== current) stack.pop();
  for (let i = stack.length - 2; i >= 0; i--) if (stack[i] !== current && installed.has(stack[i])) return stack[i];
  return undefined;
}
