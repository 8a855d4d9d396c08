// The exported graph, run by a real ONNX Runtime session, computes what the TypeScript forward pass
// computes (preprocessing included: imputation of a missing value, an unseen category), and its
// interface agrees with the card the trainer builds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { parseWeatherCsv, splitByYear, toDataset, FEATURES, WEATHER_CSV } from '../models/build-demo.ts';
import { OutpostError } from '../src/common/errors.ts';
import { inspectModel } from '../src/onnx/common/onnx.ts';
import type { Card } from '../src/package/common/card.ts';
import { parseCard } from '../src/package/common/card.ts';
import { buildCard, buildSyntheticMlp, exportOnnx, predict, trainModel, TRAINER_VERSION } from '../src/train/common/index.ts';
import type { Dataset, FeatureSpec, FitOptions, TrainedModel } from '../src/train/common/index.ts';

const rows = parseWeatherCsv(readFileSync(WEATHER_CSV, 'utf8'), WEATHER_CSV);
const { train, heldOut } = splitByYear(rows);
const QUICK: FitOptions = { hidden: 4, activation: 'tanh', epochs: 15, batchSize: 64, learningRate: 0.01, l2: 1e-4, seed: 5 };
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
const trainWeather = (options: FitOptions): TrainedModel =>
  trainModel({ task: 'multiclass', features: FEATURES, target: 'weather', data: toDataset(train), classes: CLASSES, options });

/** Real 2015 rows; row 3 loses its wind reading, row 5 gets a season the model never saw. */
function probeRows(): Dataset {
  const d = toDataset(heldOut.slice(0, 40));
  (d.columns.wind as number[])[3] = NaN;
  (d.columns.season as string[])[5] = 'monsoon';
  return d;
}

/** One [N, 1] tensor per card input, typed as the exporter's interface says. */
function feeds(card: Card, d: Dataset): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const f of card.inputs) {
    const col = d.columns[f.name];
    out[f.name] = f.type === 'category'
      ? new ort.Tensor('string', Array.from(col as string[]), [d.rows, 1])
      : new ort.Tensor('float32', Float32Array.from(col as ArrayLike<number>), [d.rows, 1]);
  }
  return out;
}

async function runOnnx(bytes: Uint8Array, card: Card, d: Dataset): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(feeds(card, d));
  } finally {
    await session.release();
  }
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

const cardFor = (model: TrainedModel): Card => buildCard(model, { name: 'weather-test', version: 3, metrics: { accuracy: 0.5 }, trainingDataHash: 'ab'.repeat(32), createdAt: '2014-12-31T00:00:00.000Z' });

describe('ONNX export of a trained classifier', () => {
  for (const hidden of [0, 4]) {
    it(`ONNX Runtime matches the TypeScript forward pass on real rows (hidden=${hidden})`, async () => {
      const model = trainWeather({ ...QUICK, hidden });
      const card = cardFor(model);
      const d = probeRows();
      const r = await runOnnx(exportOnnx(model), card, d);
      const ts = predict(model, d);
      assert.deepEqual(r.probabilities.dims, [d.rows, 5]);
      assert.deepEqual(r.label.dims, [d.rows]);
      assert.equal(r.label.type, 'int64');
      assertClose(r.probabilities.data as Float32Array, ts.probabilities!.data, 1e-5, 'probabilities');
      const labels = Array.from(r.label.data as BigInt64Array, Number);
      assert.deepEqual(labels, Array.from(ts.labels!));
    });
  }

  it('imputes a missing nullable value with the training mean and zeroes an unseen category, inside the graph', async () => {
    const model = trainWeather(QUICK);
    const card = cardFor(model);
    const wind = model.preprocessor.numeric.find((s) => s.spec.name === 'wind')!;
    const base = toDataset(heldOut.slice(10, 11));
    const variant = (wind_: number, season: string): Dataset => ({ rows: 1, columns: { ...base.columns, wind: [wind_], season: [season] } });
    const d: Dataset = { rows: 4, columns: {} };
    for (const f of ['precipitation', 'temp_max', 'temp_min', 'weather']) d.columns[f] = Array(4).fill((base.columns[f] as unknown[])[0]);
    d.columns.wind = [NaN, wind.mean, 9, 9];
    d.columns.season = ['winter', 'winter', 'monsoon', 'summer'];
    const p = (await runOnnx(exportOnnx(model), card, d)).probabilities.data as Float32Array;
    const row = (i: number) => Array.from(p.subarray(i * 5, i * 5 + 5));
    assert.deepEqual(row(0), row(1), 'NaN wind scores exactly like the training mean');
    assertClose(row(2), predict(model, variant(9, 'monsoon')).probabilities!.data, 1e-5, 'unseen season');
    assert.notDeepEqual(row(2), row(3), 'the season feature changes the output');
  });

  it('the card passes parseCard and agrees with the graph (names, dtypes, shapes, classes)', () => {
    const model = trainWeather(QUICK);
    const card = cardFor(model);
    assert.ok(parseCard(JSON.parse(JSON.stringify(card))).ok);
    const info = inspectModel(exportOnnx(model));
    assert.deepEqual(info.inputs.map((i) => i.name), card.inputs.map((f) => f.name));
    for (const [i, f] of card.inputs.entries()) {
      assert.equal(info.inputs[i].type, f.type === 'category' ? 'string' : 'float', f.name);
      assert.deepEqual(info.inputs[i].shape, ['N', 1], f.name);
    }
    assert.deepEqual(info.outputs, [
      { name: card.outputs.probabilities, type: 'float', shape: ['N', card.outputs.classes!.length] },
      { name: card.outputs.label, type: 'int64', shape: ['N'] },
    ]);
    assert.deepEqual(card.inputs.find((f) => f.name === 'season')?.vocabulary, ['winter', 'spring', 'summer', 'autumn']);
    assert.equal(card.inputs.find((f) => f.name === 'wind')?.nullable, true);
    assert.equal(card.lineage?.trainingRows, train.length);
    assert.equal(card.lineage?.codeVersion, TRAINER_VERSION);
    const recipe = card.lineage?.recipe as Record<string, unknown>;
    assert.equal(recipe.trainer, 'mlp');
    assert.equal(recipe.seed, QUICK.seed);
    assert.deepEqual((recipe.features as FeatureSpec[]).map((f) => f.name), FEATURES.map((f) => f.name));
    assert.deepEqual(info.opsets.map((o) => o.domain).sort(), ['', 'ai.onnx.ml']);
  });

  it('is reproducible: same seed → identical model bytes and card; another seed → different bytes', () => {
    const a = trainWeather(QUICK);
    const b = trainWeather(QUICK);
    const c = trainWeather({ ...QUICK, seed: 6 });
    assert.deepEqual(exportOnnx(a), exportOnnx(b));
    assert.equal(JSON.stringify(cardFor(a)), JSON.stringify(cardFor(b)));
    assert.notDeepEqual(exportOnnx(a), exportOnnx(c));
  });

  it('refuses feature names that collide with graph outputs or internal names, and invalid cards', () => {
    const data: Dataset = { rows: 4, columns: { label: [1, 2, 3, 4], y: ['a', 'b', 'a', 'b'] } };
    const model = trainModel({ task: 'binary', features: [{ name: 'label', type: 'float' }], target: 'y', data, options: QUICK });
    assert.throws(() => exportOnnx(model), (e) => e instanceof OutpostError && e.code === 'input' && e.location.field === 'label');
    const internal = trainModel({ task: 'binary', features: [{ name: 'outpost/features', type: 'float' }], target: 'y', data: { rows: 4, columns: { 'outpost/features': [1, 2, 3, 4], y: data.columns.y } }, options: QUICK });
    assert.throws(() => exportOnnx(internal), (e) => e instanceof OutpostError && e.code === 'input' && e.location.field === 'outpost/features');
    const ok = trainModel({ task: 'binary', features: [{ name: 'x', type: 'float' }], target: 'y', data: { rows: 4, columns: { x: [1, 2, 3, 4], y: data.columns.y } }, options: QUICK });
    assert.throws(() => buildCard(ok, { name: 'Not A Valid Name', version: 1 }), (e) => e instanceof OutpostError && e.code === 'package' && /name/.test(e.message));
    assert.throws(() => buildCard(ok, { name: 'fine', version: 0 }), (e) => e instanceof OutpostError && e.code === 'package' && /version/.test(e.message));
  });
});

describe('ONNX export of other shapes', () => {
  it('a regression model with int and bool features outputs value [N, 1] matching TypeScript', async () => {
    const n = 200;
    const count = Array.from({ length: n }, (_, i) => i % 17);
    const flag = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const level = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? NaN : (i % 7) * 1.5));
    const y = count.map((c, i) => 2 * c + 10 * flag[i] + (Number.isNaN(level[i]) ? 3 : level[i]) + 100);
    const features: FeatureSpec[] = [{ name: 'count', type: 'int' }, { name: 'flag', type: 'bool' }, { name: 'level', type: 'float', nullable: true }];
    const model = trainModel({ task: 'regression', features, target: 'y', data: { rows: n, columns: { count, flag, level, y } }, options: { ...QUICK, hidden: 0, epochs: 100 } });
    const card = buildCard(model, { name: 'reg', version: 1 });
    assert.deepEqual(card.outputs, { value: 'value' });
    const info = inspectModel(exportOnnx(model));
    assert.deepEqual(info.outputs, [{ name: 'value', type: 'float', shape: ['N', 1] }]);
    assert.deepEqual(info.inputs.map((i) => i.type), ['float', 'float', 'float']);
    const d: Dataset = { rows: 3, columns: { count: [4, 16, 0], flag: [1, 0, 0], level: [NaN, 3, 9] } };
    const r = await runOnnx(exportOnnx(model), card, d);
    assert.deepEqual(r.value.dims, [3, 1]);
    const expected = predict(model, d).values!;
    assertClose(r.value.data as Float32Array, expected, 1e-3, 'value');
    assert.ok(Math.abs(expected[1] - 135) < 2, `a fitted regression predicts near the truth (${expected[1]})`);
  });

  it('buildSyntheticMlp: 20 float features f0..f19, runs in ONNX Runtime like its TypeScript twin, deterministic per seed', async () => {
    const { bytes, card, model } = buildSyntheticMlp({ features: 20, hidden: 16, classes: 3, seed: 1 });
    assert.ok(parseCard(card).ok);
    assert.deepEqual(card.inputs.map((f) => f.name), Array.from({ length: 20 }, (_, i) => `f${i}`));
    assert.deepEqual(card.outputs.classes, ['c0', 'c1', 'c2']);
    assert.deepEqual(inspectModel(bytes).inputs.map((i) => [i.name, i.type, i.shape]), card.inputs.map((f) => [f.name, 'float', ['N', 1]]));
    const d: Dataset = { rows: 8, columns: {} };
    for (let f = 0; f < 20; f++) d.columns[`f${f}`] = Array.from({ length: 8 }, (_, i) => Math.sin(i * 7 + f) * 2);
    const r = await runOnnx(bytes, card, d);
    assertClose(r.probabilities.data as Float32Array, predict(model, d).probabilities!.data, 1e-5, 'probabilities');
    assert.deepEqual(buildSyntheticMlp({ features: 20, hidden: 16, classes: 3, seed: 1 }).bytes, bytes);
    assert.notDeepEqual(buildSyntheticMlp({ features: 20, hidden: 16, classes: 3, seed: 2 }).bytes, bytes);
    assert.equal(buildSyntheticMlp({ features: 3, hidden: 2, classes: 2, seed: 1 }).card.task, 'binary');
    assert.throws(() => buildSyntheticMlp({ features: 0, hidden: 2, classes: 2, seed: 1 }), RangeError);
    assert.throws(() => buildSyntheticMlp({ features: 2, hidden: 2, classes: 1, seed: 1 }), RangeError);
  });
});
