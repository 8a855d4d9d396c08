// The what-if explorer's form model (renderer/src/explore/form.ts, pure) and the shared single-record
// code it runs on (src/scoring/common/record.ts): starting values from the demo card's baseline, the
// record a form stands for, sweep ranges and points, the baseline shape behind the curve, stacking
// checked records into one batch.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Card, InputField } from '../src/package/common/card.ts';
import { checkRecord, graphInputs, stackFeeds } from '../src/scoring/common/record.ts';
import { baselineOf, baselineShape, initialValues, recordOf, sweepDomain, sweepValues } from '../renderer/src/explore/form.ts';
import { DEMO_PACKAGE } from './helpers/app-harness.ts';

const card = JSON.parse(fs.readFileSync(path.join(DEMO_PACKAGE, 'card.json'), 'utf8')) as Card;
const baseline = baselineOf(card);
const field = (name: string): InputField => card.inputs.find((f) => f.name === name)!;
const demoGraph = graphInputs([
  ...['precipitation', 'temp_max', 'temp_min', 'wind'].map((name) => ({ name, type: 'float', shape: ['N', 1] })),
  { name: 'season', type: 'string', shape: ['N', 1] },
]);

test('the form starts from a typical record: baseline medians and the most frequent category', () => {
  assert.ok(baseline, 'the demo card carries a drift baseline');
  const v = initialValues(card, baseline);
  const decile = (name: string) => (baseline!.features.find((f) => f.name === name) as { binning: { deciles: number[] } }).binning.deciles[4];
  for (const name of ['precipitation', 'temp_max', 'temp_min', 'wind']) assert.equal(Number(v[name]), Number(decile(name).toPrecision(6)), name);
  assert.ok(field('season').vocabulary!.includes(v.season!));
  const checked = checkRecord(card, demoGraph, JSON.stringify(recordOf(card, v)), 1, 'form');
  assert.ok(checked.ok, 'the starting record is valid');
});

test('the record: numbers typed as numbers go as JSON numbers, other text as typed (refused with the readers\' message), missing as null', () => {
  const v = { ...initialValues(card, baseline), temp_max: '12.50', wind: null, precipitation: '1e1' };
  assert.deepEqual(recordOf(card, v), { ...recordOf(card, initialValues(card, baseline)), temp_max: 12.5, wind: null, precipitation: 10 });
  const bad = checkRecord(card, demoGraph, JSON.stringify(recordOf(card, { ...v, temp_max: ' 12,5' })), 1, 'form');
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors.map((e) => e.field), ['temp_max']);
  const unknown = checkRecord(card, demoGraph, JSON.stringify({ ...recordOf(card, v), humidity: 3 }), 1, 'form');
  assert.ok(!unknown.ok && /unknown field/.test(unknown.errors[0].reason));
  // a refused number is echoed as the record's text has it (6.0E2), not as the double read (600)
  const over = checkRecord(card, demoGraph, JSON.stringify(recordOf(card, v)).replace(/"temp_max":[^,}]+/, '"temp_max":6.0E2'), 1, 'form');
  assert.deepEqual(!over.ok && over.errors.map((e) => [e.field, e.value]), [['temp_max', '6.0E2']]);
});

test('sweeps: the range seen in the baseline (inside the allowed one) or the allowed range; categories one by one; integers each once', () => {
  const observed = sweepDomain(field('temp_max'), baseline, 'observed');
  assert.equal(observed.kind, 'numeric');
  if (observed.kind !== 'numeric') return;
  assert.ok(observed.lo >= -90 && observed.hi <= 60 && observed.hi - observed.lo < 60, JSON.stringify(observed));
  assert.deepEqual(sweepDomain(field('temp_max'), baseline, 'allowed'), { kind: 'numeric', lo: -90, hi: 60, integer: false, source: 'the allowed range (card)' });
  const xs = sweepValues(observed, 200) as number[];
  assert.equal(xs.length, 200);
  assert.deepEqual([xs[0], xs[199]], [observed.lo, observed.hi]);
  assert.deepEqual(sweepValues(sweepDomain(field('season'), baseline, 'observed'), 200), ['winter', 'spring', 'summer', 'autumn']);
  assert.deepEqual(sweepValues(sweepDomain({ ...field('wind'), type: 'category', vocabulary: ['a', 'b'] }, baseline, 'observed'), 5), ['a', 'b', null], 'a nullable category sweeps "missing" too');
  const ints = sweepDomain({ name: 'n', type: 'int', nullable: false, range: { min: 0, max: 9 } }, undefined, 'observed');
  assert.deepEqual(sweepValues(ints, 200), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(sweepValues({ kind: 'numeric', lo: 0, hi: 10_000, integer: true, source: '' }, 100).length, 100);
  const open = sweepDomain({ name: 'x', type: 'float', nullable: false }, undefined, 'observed', 30);
  assert.deepEqual(open.kind === 'numeric' && [open.lo, open.hi], [0, 60], 'no baseline, no range: around the record\'s value');
});

test('the baseline behind the curve: decile densities over the observed range, category shares summing to 1', () => {
  const temp = baselineShape(field('temp_max'), baseline)!;
  assert.ok(temp.bars!.length >= 8);
  assert.equal(Math.max(...temp.bars!.map((b) => b.height)), 1);
  assert.ok(Math.abs(temp.bars!.reduce((a, b) => a + b.share, 0) - 1) < 1e-9);
  const season = baselineShape(field('season'), baseline)!;
  assert.ok(Math.abs([...season.shares!.values()].reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.equal(season.rows, 1096);
  assert.equal(baselineShape(field('season'), undefined), undefined);
});

test('stacking checked records gives one batch, row after row, for every feed type', () => {
  const recs = [{ temp_max: 1 }, { temp_max: 2 }, { temp_max: 3 }].map((r) => ({ ...recordOf(card, initialValues(card, baseline)), ...r, season: r.temp_max === 2 ? 'winter' : 'summer' }));
  const feeds = recs.map((r, i) => { const c = checkRecord(card, demoGraph, JSON.stringify(r), i + 1, 't'); assert.ok(c.ok); return c.feeds; });
  const stacked = stackFeeds(feeds);
  assert.deepEqual(stacked.temp_max.dims, [3, 1]);
  assert.deepEqual(Array.from(stacked.temp_max.data as Float32Array), [1, 2, 3]);
  assert.ok(stacked.temp_max.data instanceof Float32Array);
  assert.deepEqual(stacked.season.data, ['summer', 'winter', 'summer']);
  // a [N, F] tensors mapping stacks row-major
  const wide = stackFeeds([{ x: { type: 'float32', data: Float32Array.from([1, 2]), dims: [1, 2] } }, { x: { type: 'float32', data: Float32Array.from([3, 4]), dims: [1, 2] } }]);
  assert.deepEqual([Array.from(wide.x.data as Float32Array), wide.x.dims], [[1, 2, 3, 4], [2, 2]]);
  assert.deepEqual(stackFeeds([]), {});
});
