// The WebAssembly scan (src/drift/common/scan-kernel.wat) against the JS loop it replaces on the
// statistics' hot path: the same statistics, bit for bit — JSON, bins, log-bucket counts and their
// ranges, min/max with ±0 told apart — on exact, sketched and degenerate binnings (crowded cells,
// subnormal bin widths whose 65536/width overflows, a range whose width overflows, distances that
// overflow to ±∞), with NaN, ±Infinity, −0, subnormals, values on the edges, missing and unparsable
// cells, sums that overflow (the exact per-value fallback) and a batch that grows the kernel's memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Binning, buildBinning } from '../src/drift/common/binning.ts';
import { NumericStats, useScanKernel } from '../src/drift/common/numeric-stats.ts';
import { LogBuckets } from '../src/drift/common/log-buckets.ts';
import { scanKernel } from '../src/drift/common/scan-kernel.ts';
import { CellStatus } from '../src/io/common/table.ts';
import { createRng } from '../src/train/common/index.ts';

const rng = createRng(42);
const normal6 = (): number => Number(rng.normal().toPrecision(6));

function binningOf(reference: number[]): Binning {
  const sorted = Float64Array.from(reference).sort();
  let mean = 0;
  for (const x of sorted) mean += x / sorted.length;
  return new Binning(buildBinning(sorted, mean));
}

const weather = fs.readFileSync(new URL('../models/demo/weather-2015.csv', import.meta.url), 'utf8').trimEnd().split('\n').slice(1).map((l) => Number(l.split(',')[2]));

/** Reference samples: each gives a binning with its own regime. */
const references: Record<string, number[]> = {
  // ≤ 1024 distinct values: every one an edge (exact binning)
  exactReadings: weather,
  // many distinct values: min, deciles, max and log buckets (sketched), as the bench's floats
  sketchedNormal: Array.from({ length: 20_000 }, normal6),
  // a far outlier squeezes every edge into the first cells: crowded cells, binary search
  crowded: [...Array.from({ length: 900 }, (_, i) => i / 900), 1e6],
  // bins narrower than 65536 / Number.MAX_VALUE: 65536 / width is Infinity
  subnormalWidths: [0, 1e-310, 2e-310, 3e-310, 0.5, 1],
  // a range so narrow that the lookup scale (cells / width) is Infinity
  subnormalRange: [0, 1e-310, 2e-310, 3e-310],
  // a range wider than Number.MAX_VALUE: the lookup scale is 0 and x − min can overflow
  hugeRange: [-1.7e308, -1, 0, 1, 1.7e308],
  // centre near −1e308, many distinct values: x − centre overflows to +∞ (the last log bucket)
  hugeCentre: Array.from({ length: 3000 }, (_, i) => -1e308 * (1 + i * 1e-6)),
  // and near +1e308: x − centre overflows to −∞
  hugeCentreHigh: Array.from({ length: 3000 }, (_, i) => 1e308 * (1 + i * 1e-6)),
};

function batch(ref: number[], n: number, withStatus: boolean): { values: Float64Array; status?: Uint8Array } {
  const values = new Float64Array(n);
  const status = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = rng.uniform(0, 1);
    values[i] = r < 0.5 ? ref[Math.floor(rng.uniform(0, ref.length))] * (r < 0.3 ? 1 : 1 + rng.normal() * 0.01) // on an edge, or near one
      : r < 0.8 ? ref[0] + (ref[ref.length - 1] - ref[0]) * rng.uniform(-0.2, 1.2) // anywhere, tails included
      : r < 0.9 ? normal6()
      : [NaN, Infinity, -Infinity, 0, -0, 5e-324, -5e-324, 3e200, -3e200, 1.7e308, -1.7e308][Math.floor(rng.uniform(0, 11))];
    if (withStatus && r > 0.97) status[i] = rng.uniform(0, 1) < 0.5 ? CellStatus.missing : CellStatus.unparsable;
  }
  return withStatus ? { values, status } : { values };
}

/** The same batches counted with the kernel on and off. */
function bothWays(b: Binning, batches: ReturnType<typeof batch>[]): [NumericStats, NumericStats] {
  const out = [true, false].map((on) => {
    useScanKernel(on);
    try {
      const s = new NumericStats(b);
      for (const { values, status } of batches) s.addBatch(values, status);
      return s;
    } finally {
      useScanKernel(true);
    }
  });
  return [out[0], out[1]];
}

function assertSame(a: NumericStats, b: NumericStats, what: string): void {
  assert.deepEqual(a.toJSON(), b.toJSON(), what);
  assert.ok(Object.is(a.min, b.min) && Object.is(a.max, b.max), `${what}: min/max ${a.min}/${a.max} vs ${b.min}/${b.max} (±0 told apart)`);
  assert.deepEqual(a.bins, b.bins, `${what}: bins`);
  assert.deepEqual(a.sketch?.toState(), b.sketch?.toState(), `${what}: log buckets and their ranges`);
}

test('the kernel compiles here, and update() uses it for batches past its minimum', () => {
  const kernel = scanKernel();
  assert.ok(kernel, 'WebAssembly runs in Node');
  const begin = kernel.begin;
  let calls = 0;
  kernel.begin = function (...args) { calls++; return begin.apply(this, args); };
  try {
    const s = new NumericStats(binningOf(references.sketchedNormal));
    s.addBatch(Float64Array.from({ length: 255 }, normal6));
    assert.equal(calls, 0, 'a short batch is scanned in JS');
    s.addBatch(Float64Array.from({ length: 4096 }, normal6));
    assert.equal(calls, 1);
    useScanKernel(false);
    s.addBatch(Float64Array.from({ length: 4096 }, normal6));
    assert.equal(calls, 1, 'switched off: the JS loop');
  } finally {
    useScanKernel(true);
    kernel.begin = begin;
  }
  // a kernel whose memory cannot grow declines the batch: the JS loop counts it, nothing is lost
  const b = binningOf(references.sketchedNormal);
  const input = [batch(references.sketchedNormal, 3000, true), batch(references.sketchedNormal, 5000, false)];
  kernel.begin = () => false;
  let declined: NumericStats;
  try {
    declined = new NumericStats(b);
    for (const { values, status } of input) declined.addBatch(values, status);
  } finally {
    kernel.begin = begin;
  }
  assertSame(declined, bothWays(b, input)[1], 'declined by the kernel');
});

for (const [name, ref] of Object.entries(references)) {
  test(`kernel and JS loop: the same statistics, bit for bit (${name})`, () => {
    const b = binningOf(ref);
    if (name === 'exactReadings') assert.ok(!b.sketched);
    if (name === 'sketchedNormal' || name.startsWith('hugeCentre')) assert.ok(b.sketched);
    if (name.startsWith('hugeCentre')) {
      const [kernel] = bothWays(b, [batch(ref, 5000, false)]);
      assert.ok(kernel.sketch!.entries(name === 'hugeCentre' ? 0 : 1).some(([k]) => k === 0x1ffbf), 'a distance that overflowed took the last bucket of its sign');
    }
    if (name === 'crowded') assert.ok(Array.from(b.cell).some((c) => c < 0), 'crowded cells');
    if (name === 'subnormalWidths') assert.ok(Array.from(b.invWidth).includes(Infinity), 'a bin whose 65536 / width overflows');
    if (name === 'hugeRange') assert.equal(b.cellScale, 0, 'a range whose width overflows');
    if (name === 'subnormalRange') assert.equal(b.cellScale, Infinity, 'a range narrower than cells / Number.MAX_VALUE');
    for (const withStatus of [false, true]) {
      const batches = [256, 1000, 1024, 1025, 5000, 8192].map((n) => batch(ref, n, withStatus));
      const [kernel, js] = bothWays(b, batches);
      assertSame(kernel, js, `${name}, ${withStatus ? 'with' : 'without'} status`);
      assert.ok(kernel.n > 0 && kernel.nan > 0 && kernel.posInf > 0 && kernel.negInf > 0, 'special values in the data');
      if (withStatus) assert.ok(kernel.missing > 0 && kernel.invalid > 0, 'missing and unparsable cells');
    }
  });
}

test('kernel: overflowing sums and distances, and a batch that grows its memory', () => {
  const b = binningOf(references.hugeCentre);
  const big = batch(references.hugeCentre, 200_000, true); // 1.6 MB of values: past the initial memory
  const [kernel, js] = bothWays(b, [big, batch(references.hugeCentre, 3000, false)]);
  assertSame(kernel, js, 'huge centre');
  assert.ok(kernel.sketch!.entries(0).some(([k]) => k === 0x1ffbf), 'a distance that overflowed took the last bucket');
  const [k2, j2] = bothWays(binningOf(references.exactReadings), [batch(references.exactReadings, 100_000, false)]);
  assertSame(k2, j2, 'after growing');
});

test('kernel: signed zeros as the minimum and the maximum resolve as in the JS loop', () => {
  for (const ref of [references.exactReadings, references.sketchedNormal]) {
    const b = binningOf(ref);
    const zeros = (sign: number, n: number) => Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? -0 : sign * (1 + (i % 50))));
    // one batch at a time: merging batches (Math.min/max, as absorb()) resolves ±0 on its own
    for (const sign of [1, -1]) {
      for (const values of [zeros(sign, 300), zeros(sign, 1000).reverse()]) {
        const [kernel, js] = bothWays(b, [{ values }]);
        assertSame(kernel, js, `zeros and ${sign > 0 ? 'positive' : 'negative'} values`);
        assert.equal(sign > 0 ? kernel.min : kernel.max, 0);
      }
    }
  }
});

test('kernel: its log-bucket counter is clean after every batch', () => {
  const kernel = scanKernel()!;
  const s = new NumericStats(binningOf(references.sketchedNormal));
  for (const n of [300, 8192, 20_000]) {
    s.addBatch(batch(references.sketchedNormal, n, n === 8192).values);
    assert.equal(kernel.counter.counts.findIndex((c) => c !== 0), -1, 'every counted key was moved into the sketch and cleared');
    assert.equal(kernel.counter.zero, 0);
  }
});

test('a sketch whose key range creeps outward batch by batch re-lays its counts a few times, not every batch', () => {
  const s = new LogBuckets();
  let layouts = 0;
  for (let b = 0; b < 200; b++) {
    const before = s.counts;
    s.addRange(b % 2, 5000 - b, [1]); // one key lower, each sign in turn
    s.addRange(b % 2, 6000 + b, [2]); // one key higher
    if (s.counts !== before) layouts++;
  }
  assert.ok(layouts <= 24, `${layouts} layouts for 400 growing calls`);
  assert.deepEqual(s.entries(0).length + s.entries(1).length, 400);
  assert.equal(s.total(), 600);
  assert.deepEqual(s.toJSON(), LogBuckets.fromJSON(s.toJSON(), 'round trip').toJSON(), 'a wider range reads the same');
});
