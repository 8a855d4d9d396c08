// runAhead (src/common/run-ahead.ts): a producer that runs ahead of its consumer by a bounded
// number of items on one thread — every item consumed once and in order, the producer filling the
// queue while the consumer waits, and failures on either side ending both cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAhead } from '../src/common/run-ahead.ts';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Items 0..n-1, logging when each is produced and whether the iterator was closed. */
function source(n: number, log: string[], failAt = -1): AsyncGenerator<number> {
  return (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        await tick();
        if (i === failAt) throw new Error(`cannot read item ${i}`);
        log.push(`p${i}`);
        yield i;
      }
    } finally {
      log.push('closed');
    }
  })();
}

test('every item is consumed once, in order; the producer fills up to depth while the consumer waits', async () => {
  for (const depth of [1, 3, 8]) {
    const log: string[] = [];
    const ahead: number[] = [];
    let produced = 0;
    const items = (async function* () {
      for await (const i of source(20, log)) {
        produced = i + 1;
        yield i;
      }
    })();
    await runAhead(items, depth, async (i) => {
      log.push(`use${i}`);
      // a slow consumer: the producer gets the thread meanwhile
      for (let k = 0; k < 12; k++) await tick();
      ahead.push(produced - (i + 1));
    });
    assert.deepEqual(log.filter((l) => l.startsWith('use')), Array.from({ length: 20 }, (_, i) => `use${i}`), `depth ${depth}`);
    assert.deepEqual(log.filter((l) => l.startsWith('p')), Array.from({ length: 20 }, (_, i) => `p${i}`));
    // while item i was being consumed, the producer ran ahead by exactly depth (until the end)
    assert.deepEqual(ahead, Array.from({ length: 20 }, (_, i) => Math.min(depth, 20 - (i + 1))), `depth ${depth}`);
    assert.ok(log.includes('closed'));
  }
});

test('a producer failure is thrown after the items produced before it are consumed', async () => {
  for (const depth of [1, 4]) {
    const log: string[] = [];
    await assert.rejects(runAhead(source(10, log, 6), depth, async (i) => { log.push(`use${i}`); await tick(); }), /cannot read item 6/);
    assert.deepEqual(log.filter((l) => l.startsWith('use')), ['use0', 'use1', 'use2', 'use3', 'use4', 'use5'], `depth ${depth}`);
    assert.ok(log.includes('closed'));
  }
});

test('a consumer failure stops the producer (its iterator is closed) and is thrown', async () => {
  const log: string[] = [];
  await assert.rejects(runAhead(source(1000, log), 4, async (i) => {
    log.push(`use${i}`);
    await tick();
    if (i === 2) throw new Error('cannot write item 2');
  }), /cannot write item 2/);
  assert.deepEqual(log.filter((l) => l.startsWith('use')), ['use0', 'use1', 'use2']);
  assert.equal(log.at(-1), 'closed', 'the source was closed before runAhead returned');
  assert.ok(log.filter((l) => l.startsWith('p')).length <= 3 + 4 + 1, 'the producer stopped within depth of the failure');
});

test('an empty source, and a bad depth', async () => {
  let calls = 0;
  await runAhead(source(0, []), 2, async () => { calls++; });
  assert.equal(calls, 0);
  await assert.rejects(runAhead(source(1, []), 0, async () => {}), /depth must be a positive integer, got 0/);
});

test('a scoring job reads ahead 131,072 rows in batches: fewer batches when they are larger, at least one', async () => {
  const { pipelineBatches } = await import('../src/scoring/node/score-file.ts');
  assert.deepEqual([1000, 8192, 16_384, 65_536, 131_072, 1_000_000].map(pipelineBatches), [16, 16, 8, 2, 1, 1]);
});
