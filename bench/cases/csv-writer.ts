// The output writer's CPU per 1M rows (issue 13: the writer thread's float formatting was ~1.5 µs
// per row of the throughput cases): the CSV encoder with today's byte writer (float32 search that
// starts at 7 digits with division-free interval checks, digits written in place) ÷ the same
// encoder with the writer from before that change (test/helpers/float32-before.ts, frozen), on the
// output shapes of the throughput cases — 1M rows × (row, label of 2, two float32 probabilities)
// and the demo's (string id, label of 5, five float32 probabilities). The probabilities are
// softmax outputs of random normal logits. Runs alternate and the bytes are checked identical.
import { encodeCsvRows } from '../../src/io/common/csv-encode.ts';
import { ByteBuilder } from '../../src/io/common/byte-builder.ts';
import type { OutputBatch } from '../../src/io/common/table.ts';
import { createRng } from '../../src/train/common/index.ts';
import { ByteBuilderBefore } from '../../test/helpers/float32-before.ts';

const BATCH = 8192;

function batches(shape: 'floats' | 'demo', rows: number): OutputBatch[] {
  const rng = createRng(13);
  const out: OutputBatch[] = [];
  for (let first = 0; first < rows; first += BATCH) {
    const n = Math.min(BATCH, rows - first);
    const classes = shape === 'floats' ? 2 : 5;
    const probs = Array.from({ length: classes }, () => new Float32Array(n));
    const codes = new Int32Array(n);
    const logits = new Float64Array(classes);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += logits[c] = Math.exp(2 * rng.normal());
      let best = 0;
      for (let c = 0; c < classes; c++) {
        probs[c][i] = logits[c] / sum;
        if (probs[c][i] > probs[best][i]) best = c;
      }
      codes[i] = best;
    }
    const key = shape === 'floats'
      ? { name: 'row', type: 'int' as const, values: Int32Array.from({ length: n }, (_, i) => first + i + 1) }
      : { name: 'id', type: 'string' as const, values: Array.from({ length: n }, (_, i) => `s${(((first + i) * 7919) % rows).toString(36)}-${first + i}`) };
    const dictionary = shape === 'floats' ? ['0', '1'] : ['drizzle', 'fog', 'rain', 'snow', 'sun'];
    out.push({ length: n, columns: [key, { name: 'label', type: 'dict', codes, dictionary }, ...probs.map((values, c) => ({ name: `p_${dictionary[c]}`, type: 'float32' as const, values }))] });
  }
  return out;
}

const cpuMs = (fn: () => void): number => {
  const t0 = process.threadCpuUsage();
  fn();
  const t = process.threadCpuUsage(t0);
  return (t.user + t.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(opts: { rows: number; runs: number }) {
  const result: Record<string, unknown> = {};
  for (const shape of ['floats', 'demo'] as const) {
    const data = batches(shape, opts.rows);
    const now = new ByteBuilder(1 << 20);
    const before = new ByteBuilderBefore(1 << 20);
    let bytes = 0;
    for (const b of data) {
      now.reset();
      before.reset();
      encodeCsvRows(b, now);
      encodeCsvRows(b, before as unknown as ByteBuilder);
      if (Buffer.compare(now.bytes(), before.bytes()) !== 0) throw new Error(`${shape}: the writers' bytes differ`);
      bytes += now.pos;
    }
    const pass = (out: { reset(): void }) => () => {
      for (const b of data) {
        out.reset();
        encodeCsvRows(b, out as ByteBuilder);
      }
    };
    const ms = { now: [] as number[], before: [] as number[] };
    for (let i = 0; i < opts.runs; i++) {
      // alternate which goes first, so drifts in machine load hit both alike
      if (i % 2) { ms.before.push(cpuMs(pass(before))); ms.now.push(cpuMs(pass(now))); }
      else { ms.now.push(cpuMs(pass(now))); ms.before.push(cpuMs(pass(before))); }
    }
    const perMillion = (x: number[]) => median(x) * (1e6 / opts.rows);
    result[shape] = {
      rows: opts.rows, bytes, runs: opts.runs,
      cpuPerMillionRowsMs: { now: perMillion(ms.now), before: perMillion(ms.before) },
      nowOverBefore: median(ms.now) / median(ms.before),
      runsMs: ms,
    };
  }
  return result;
}
