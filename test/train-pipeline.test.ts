// The training pipeline (pure): schema inference, splits, task inference, and — for every algorithm
// and task — the exported graph run by a real ONNX Runtime session computing the trainer's own
// predictions; a retrain from the card's recipe reproduces the model byte for byte.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import type { OutpostError } from '../src/common/errors.ts';
import { loadPackageBytes } from './helpers/train-onnx.ts';
import type { Card } from '../src/package/common/card.ts';
import { recipeFromCard, splitRows, trainPackage, type TrainRecipe } from '../src/train/common/pipeline.ts';
import { inferSchema } from '../src/train/common/schema.ts';
import { fitLinearSparse, transformSparse } from '../src/train/common/linear.ts';
import { encodeLabels, trainModel } from '../src/train/common/model.ts';
import { fitPreprocessor } from '../src/train/common/preprocess.ts';
import type { FitOptions } from '../src/train/common/fit.ts';
import { takeRows, type TrainTable } from '../src/train/common/table.ts';
import { syntheticTable } from './helpers/train-data.ts';
import { parseWeatherCsv, toDataset, WEATHER_CSV } from '../models/build-demo.ts';

const weatherRows = parseWeatherCsv(readFileSync(WEATHER_CSV, 'utf8'), WEATHER_CSV);
const weather: TrainTable = (() => {
  const d = toDataset(weatherRows);
  const f = (k: string) => Float64Array.from(d.columns[k] as number[]);
  return { rows: d.rows, columns: { date: weatherRows.map((r) => r.date), precipitation: f('precipitation'), temp_max: f('temp_max'), temp_min: f('temp_min'), wind: f('wind'), season: d.columns.season as string[], weather: d.columns.weather as string[] } };
})();

const info = { name: 'test-model', version: 1 };

async function runOnnx(bytes: Uint8Array, card: Card, t: TrainTable): Promise<Record<string, ort.Tensor>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const f of card.inputs) {
    const c = t.columns[f.name];
    feeds[f.name] = f.type === 'category' ? new ort.Tensor('string', Array.from(c as (string | null)[], (v) => v ?? ''), [t.rows, 1]) : new ort.Tensor('float32', Float32Array.from(c as ArrayLike<number>), [t.rows, 1]);
  }
  const s = await ort.InferenceSession.create(bytes);
  try { return await s.run(feeds); } finally { await s.release(); }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('schema inference', () => {
  it('types, nullability, a non-negative range and vocabularies come from the training rows', () => {
    const t = syntheticTable(500);
    const s = inferSchema(t, ['x1', 'x2', 'n3', 'colour']);
    assert.deepEqual(s.map((f) => [f.name, f.type, f.nullable ?? false]), [['x1', 'float', false], ['x2', 'float', true], ['n3', 'int', false], ['colour', 'category', true]]);
    assert.equal(s[0].range, undefined, 'x1 has negative values: no range');
    assert.deepEqual(s[1].range, { min: 0 });
    assert.deepEqual(s[3].vocabulary, ['blue', 'green', 'red']);
  });
  it('a template overrides what it names; a feature that is all missing is an error naming it', () => {
    const t = syntheticTable(100);
    const s = inferSchema(t, ['n3'], [{ name: 'n3', type: 'float', nullable: false, range: { min: 0, max: 6 } }]);
    assert.deepEqual(s[0], { name: 'n3', type: 'float', nullable: false, range: { min: 0, max: 6 } });
    const empty: TrainTable = { rows: 3, columns: { a: new Float64Array([NaN, NaN, NaN]) } };
    assert.throws(() => inferSchema(empty, ['a']), (e: OutpostError) => e.code === 'input' && e.location.field === 'a' && /every training value/.test(e.message));
  });
});

describe('splits', () => {
  it('a time split cuts at --valid-from; a fraction split is seeded', () => {
    const { train, valid } = splitRows(weather, { kind: 'time', column: 'date', validFrom: '2015-01-01' }, 1);
    assert.equal(valid.length, 365);
    assert.equal(train.length, weather.rows - 365);
    const a = splitRows(weather, { kind: 'fraction', fraction: 0.25 }, 9);
    const b = splitRows(weather, { kind: 'fraction', fraction: 0.25 }, 9);
    const c = splitRows(weather, { kind: 'fraction', fraction: 0.25 }, 10);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.valid, c.valid);
    assert.equal(a.valid.length, Math.round(weather.rows * 0.25));
  });
});

const CASES: { what: string; table: () => TrainTable; recipe: TrainRecipe; task: string }[] = [
  { what: 'multiclass logreg on Seattle weather', table: () => weather, task: 'multiclass', recipe: { target: 'weather', features: ['precipitation', 'temp_max', 'temp_min', 'wind', 'season'], algo: 'logreg', split: { kind: 'time', column: 'date', validFrom: '2015-01-01' }, seed: 4 } },
  { what: 'multiclass MLP on Seattle weather', table: () => weather, task: 'multiclass', recipe: { target: 'weather', features: ['precipitation', 'temp_max', 'temp_min', 'wind', 'season'], algo: 'mlp', split: { kind: 'time', column: 'date', validFrom: '2015-01-01' }, seed: 4, params: { mlp: { epochs: 30 } } } },
  { what: 'binary logreg with a nullable number and a nullable category', table: () => syntheticTable(2000), task: 'binary', recipe: { target: 'y', features: ['x1', 'x2', 'n3', 'colour'], algo: 'logreg', split: { kind: 'fraction', fraction: 0.25 }, seed: 2 } },
  { what: 'regression MLP', table: () => syntheticTable(2000), task: 'regression', recipe: { target: 'value', features: ['x1', 'x2', 'colour'], algo: 'mlp', split: { kind: 'fraction', fraction: 0.25 }, seed: 2, params: { mlp: { epochs: 20 } } } },
  { what: 'multiclass gbdt on Seattle weather (a category, early stopping)', table: () => weather, task: 'multiclass', recipe: { target: 'weather', features: ['precipitation', 'temp_max', 'temp_min', 'wind', 'season'], algo: 'gbdt', split: { kind: 'time', column: 'date', validFrom: '2015-01-01' }, seed: 4 } },
  { what: 'binary gbdt with missing numbers and a nullable category (native category splits)', table: () => syntheticTable(4000), task: 'binary', recipe: { target: 'y', features: ['x1', 'x2', 'n3', 'colour'], algo: 'gbdt', split: { kind: 'fraction', fraction: 0.25 }, seed: 2, params: { gbdt: { maxIter: 40 } } } },
  { what: 'regression gbdt', table: () => syntheticTable(3000), task: 'regression', recipe: { target: 'value', features: ['x1', 'x2', 'colour'], algo: 'gbdt', split: { kind: 'fraction', fraction: 0.25 }, seed: 2, params: { gbdt: { maxIter: 30 } } } },
];

describe('exported graph = trainer predictions', () => {
  for (const c of CASES) {
    it(c.what, async () => {
      const t = c.table();
      const r = trainPackage(t, c.recipe, info);
      assert.equal(r.task, c.task);
      loadPackageBytes(r.modelBytes, r.card); // card and graph agree (the loader's checks)
      const { valid } = splitRows(t, c.recipe.split, c.recipe.seed);
      const rows = takeRows(t, valid, c.recipe.features);
      const mine = r.model.predict(rows);
      const onnx = await runOnnx(r.modelBytes, r.card, rows);
      if (c.task === 'regression') {
        const d = maxAbsDiff(onnx.value.data as Float32Array, mine.values!);
        assert.ok(d <= 1e-4 * 50, `regression values differ by ${d}`);
      } else {
        const d = maxAbsDiff(onnx.probabilities.data as Float32Array, mine.probabilities!);
        assert.ok(d <= 2e-6, `probabilities differ by up to ${d}`);
      }
      if (c.recipe.algo === 'gbdt' && c.recipe.features.includes('colour')) assert.ok(Buffer.from(r.modelBytes).includes(`outpost/cat/${c.recipe.features.indexOf('colour')}/right`), 'the trees split natively on the category');
      assert.ok(r.card.baseline, 'the card carries a drift baseline');
      assert.equal(r.card.lineage?.trainingRows, t.rows - valid.length);
    });
  }
  it('retraining with the recipe from the card gives the same model bytes', () => {
    const c = CASES[2];
    const t = c.table();
    const first = trainPackage(t, c.recipe, info);
    const again = trainPackage(t, recipeFromCard(first.card), info);
    assert.deepEqual(again.modelBytes, first.modelBytes);
    assert.deepEqual(again.card, first.card);
  });
});

describe('logistic regression on a sparse design', () => {
  it('gives bit for bit the dense trainer\'s weights (classifier and regression)', () => {
    const t = syntheticTable(1500);
    const specs = inferSchema(t, ['x1', 'x2', 'n3', 'colour']);
    const options: FitOptions = { hidden: 0, activation: 'tanh', epochs: 3, batchSize: 64, learningRate: 0.01, l2: 1e-3, seed: 8 };
    const pre = fitPreprocessor(specs, t);
    const x = transformSparse(pre, t);
    const dense = trainModel({ task: 'binary', features: specs, target: 'y', data: t, classes: ['no', 'yes'], options });
    const sparse = fitLinearSparse(x, { kind: 'classes', labels: encodeLabels(t.columns.y as string[], ['no', 'yes']), classes: 2 }, options);
    assert.deepEqual(sparse.layers[0].weights, dense.network.layers[0].weights);
    assert.deepEqual(sparse.layers[0].bias, dense.network.layers[0].bias);
    const denseR = trainModel({ task: 'regression', features: specs, target: 'value', data: t, options });
    const sparseR = fitLinearSparse(x, { kind: 'values', values: t.columns.value as Float64Array }, options);
    assert.deepEqual(sparseR.layers[0].weights, denseR.network.layers[0].weights);
    assert.deepEqual(sparseR.layers[0].bias, denseR.network.layers[0].bias);
  });
});
