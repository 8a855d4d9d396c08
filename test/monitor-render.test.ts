// The terminal text of `outpost drift`: the report table (verdicts, skipped features with their
// reason, inexact verdicts) and the metric over time on a fixed severity scale.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeBaseline, createFeatureStats, driftReport, type DriftReport } from '../src/drift/common/index.ts';
import { renderReport, renderSeries } from '../src/monitor/common/render.ts';
import { createRng } from '../src/train/common/index.ts';

const rng = createRng(9);
const normal = (n: number, shift = 0) => Float64Array.from({ length: n }, () => rng.normal() + shift);
const baseline = computeBaseline([{ name: 'x', type: 'float' }, { name: 'c', type: 'category', vocabulary: ['a', 'b'] }], {
  x: normal(500), c: Array.from({ length: 500 }, (_, i) => (i % 3 ? 'a' : 'b')),
});

function report(n: number, shift: number): DriftReport {
  const x = createFeatureStats(baseline.features[0]);
  const c = createFeatureStats(baseline.features[1]);
  if (x.kind === 'numeric') x.update(normal(n, shift));
  if (c.kind === 'categorical') c.update(Array.from({ length: n }, (_, i) => (i % 3 ? 'a' : 'b')));
  return driftReport(baseline, { x, c });
}

test('the report table: one row per feature, reasons for skipped verdicts, the dataset line', () => {
  const lines = renderReport(report(200, 1));
  assert.match(lines[0], /^feature\s+method\s+statistic\s+score\s+threshold\s+verdict\s+n ref\s+n cur\s+missing Δ\s+out of range\s+unseen\s+PSI$/);
  assert.match(lines[1], /^x\s+ks\s+D 0\.\d+\s+p [\d.e-]+\s+≤ 0\.05\s+DRIFT\s+500\s+200\s+\+0\.0 pp\s+\d+\s+[\d.]+ insufficient data†$/);
  assert.match(lines[2], /^c\s+z\s+z [-\d.]+\s+p [\d.]+\s+< 0\.05\s+ok\s+500\s+200\s+\+0\.0 pp\s+0\s+/);
  // 200 current values: PSI is shown without a level, and the footnote says from when it gets one
  assert.ok(lines.includes('† PSI gets a level from 300 current values on (below that, sampling noise alone reaches the warn level)'), lines.join('\n'));
  assert.equal(lines.at(-2), 'Input drift: YES — 1 of 2 input features drifted (share 0.5, threshold 0.5)');
  assert.equal(lines.at(-1), "Prediction drift: no verdict (the model's outputs are not monitored)");

  const small = renderReport(report(10, 0));
  assert.ok(small.includes('* x: current sample has 10 values; a ks verdict needs at least 30'), small.join('\n'));
  assert.match(small.at(-2)!, /^Input drift: no verdict/);
});

test('the metric over time: a fixed 0–3× scale, blanks for empty windows, drifted counts', () => {
  const windows = [
    { start: 'w0', rows: 0, report: null },
    { start: 'w1', rows: 200, report: report(200, 0) },
    { start: 'w2', rows: 200, report: report(200, 3) },
  ];
  const lines = renderSeries(windows);
  assert.match(lines[0], /^feature\s+severity 0–3×\s+latest\s+drifted in$/);
  const x = lines.find((l) => l.startsWith('x '))!;
  const spark = [...x.slice(lines[0].indexOf('severity'), lines[0].indexOf('severity') + 3)];
  assert.equal(spark[0], ' ', 'no data in the first window');
  assert.equal(spark[2], '█', 'far past the threshold: the top of the scale');
  assert.ok('▁▂▃▄'.includes(spark[1]), `no drift: low on the scale (${spark[1]})`);
  assert.match(x, /1 of 2 windows$/);
  assert.match(lines.at(-1)!, /\(400 rows in 2 windows\)$/);
});
