// Drift statistics worker: counts batches handed over by a StatsLane (stats-lane.ts) off the
// scoring thread, and hands back its per-window totals when the lane drains it at a checkpoint.
// Progress and answers are also signalled in shared memory, because the lane waits for them
// synchronously (a checkpoint runs inside a SQLite transaction).
import { workerData, type MessagePort } from 'node:worker_threads';
import type { FeatureStatsState } from '../../drift/common/baseline.ts';
import type { WindowDeltas as Deltas } from '../common/batch-stats.ts';
import { FLAG_FAILED, FLAG_FLUSHES, FLAG_PROCESSED, FLAG_READY, fromRefs, type LaneReply, type LaneRequest, type SlotBuffers } from './stats-protocol.ts';

const { port, signal } = workerData as { port: MessagePort; signal: SharedArrayBuffer };
const flags = new Int32Array(signal);
const reply = (m: LaneReply) => port.postMessage(m);

/** The statistics' typed arrays, each buffer once. */
function transfers(windows: readonly [number, FeatureStatsState[]][]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const [, states] of windows) {
    for (const s of states) {
      if (s.kind === 'numeric') {
        out.add(s.bins.buffer as ArrayBuffer);
        if (s.sketch) out.add(s.sketch.counts.buffer as ArrayBuffer);
      } else out.add(s.counts.buffer as ArrayBuffer);
    }
  }
  return [...out];
}

function fail(e: unknown): void {
  reply({ kind: 'failed', message: (e as Error)?.message ?? String(e) });
  Atomics.store(flags, FLAG_FAILED, 1);
  for (const i of [FLAG_FLUSHES, FLAG_PROCESSED]) { Atomics.add(flags, i, 1); Atomics.notify(flags, i); }
}

try {
  // loaded here, not statically, so a load failure is reported through `flags` too
  const { WindowDeltas } = await import('../common/batch-stats.ts');
  let deltas: Deltas | undefined;
  const slots: SlotBuffers[] = [];
  port.on('message', (m: LaneRequest) => {
    try {
      if (m.kind === 'init') deltas = new WindowDeltas(m.features);
      else if (m.kind === 'slot') slots[m.index] = m.buffers;
      else if (!deltas) throw new Error(`"${m.kind}" before "init"`);
      else if (m.kind === 'batch') {
        deltas.add(m.window, fromRefs(m.columns, slots[m.slot]));
        Atomics.add(flags, FLAG_PROCESSED, 1);
        Atomics.notify(flags, FLAG_PROCESSED);
      } else {
        // the totals' own arrays move to the lane (transferred, not copied): they are dropped here
        const windows = [...deltas.byWindow].map(([w, stats]): [number, FeatureStatsState[]] => [w, stats.map((s) => s.toState())]);
        deltas.clear();
        const cpu = process.threadCpuUsage();
        port.postMessage({ kind: 'flushed', windows, cpuMs: (cpu.user + cpu.system) / 1000 } satisfies LaneReply, transfers(windows));
        Atomics.add(flags, FLAG_FLUSHES, 1);
        Atomics.notify(flags, FLAG_FLUSHES);
      }
    } catch (e) {
      fail(e);
    }
  });
  Atomics.store(flags, FLAG_READY, 1);
} catch (e) {
  fail(e);
}
