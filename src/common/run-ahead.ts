// Two stages of a loop overlapped on one thread. `items` (an async iterable: read a batch, check
// it, hand it to a worker) runs up to `depth` items ahead of `consume` (take the worker's result,
// write it, log it, commit). Whenever `consume` waits (on a worker's result, on a writer draining
// before a checkpoint), the next items are produced, so the workers the producer feeds keep busy
// through the consumer's pauses instead of waiting for it. Items are consumed in order, one at a
// time, each exactly once.

/**
 * Consume every item of `items` in order while producing up to `depth` items ahead. A failure of
 * `items` is thrown once the items produced before it are consumed (the same items whatever the
 * depth); a failure of `consume` stops the producer (its iterator is closed) and is thrown.
 */
export async function runAhead<T>(items: AsyncIterable<T>, depth: number, consume: (item: T) => Promise<void>): Promise<void> {
  if (!Number.isSafeInteger(depth) || depth < 1) throw new RangeError(`depth must be a positive integer, got ${depth}`);
  const queue: T[] = [];
  let finished = false;
  let failure: { error: unknown } | undefined;
  let stopping = false;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const wake = (which: 'consumer' | 'producer'): void => {
    const w = which === 'consumer' ? wakeConsumer : wakeProducer;
    if (which === 'consumer') wakeConsumer = undefined;
    else wakeProducer = undefined;
    w?.();
  };
  const produce = async (): Promise<void> => {
    try {
      for await (const item of items) {
        queue.push(item);
        wake('consumer');
        while (queue.length >= depth && !stopping) await new Promise<void>((resolve) => (wakeProducer = resolve));
        if (stopping) break;
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      wake('consumer');
    }
  };
  const producing = produce();
  try {
    for (;;) {
      if (queue.length === 0) {
        if (finished) break;
        await new Promise<void>((resolve) => (wakeConsumer = resolve));
        continue;
      }
      const item = queue.shift() as T;
      wake('producer');
      await consume(item);
    }
    if (failure) throw failure.error;
  } finally {
    stopping = true;
    wake('producer');
    await producing;
  }
}
