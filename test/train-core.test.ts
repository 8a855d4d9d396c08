// The trainer's pure parts: PRNG, preprocessing statistics, backprop (against finite differences),
// fitting (classification and regression learn; same seed → same weights), option and data errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutpostError } from '../src/common/errors.ts';
import { fitNetwork, initNetwork, lossAndGradients } from '../src/train/common/fit.ts';
import type { FitOptions, FitTarget } from '../src/train/common/fit.ts';
import { accuracy, logLoss, majorityClass, rootMeanSquaredError } from '../src/train/common/metrics.ts';
import { predict, trainModel } from '../src/train/common/model.ts';
import { forward } from '../src/train/common/network.ts';
import type { Network } from '../src/train/common/network.ts';
import { fitPreprocessor, transform } from '../src/train/common/preprocess.ts';
import type { Dataset, FeatureSpec, Matrix } from '../src/train/common/preprocess.ts';
import { createRng } from '../src/train/common/random.ts';

const isOutpost = (code: string, field?: string) => (e: unknown): boolean => {
  assert.ok(e instanceof OutpostError, `expected an OutpostError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  if (field !== undefined) assert.equal(e.location.field, field);
  return true;
};

const OPTS: FitOptions = { hidden: 0, activation: 'tanh', epochs: 30, batchSize: 16, learningRate: 0.05, l2: 0, seed: 7 };

/** Two gaussian blobs per class along x0, with an informative category. */
function blobs(n: number, seed: number): Dataset {
  const rng = createRng(seed);
  const x0: number[] = [];
  const x1: number[] = [];
  const colour: string[] = [];
  const label: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    x0.push(k * 3 + rng.normal() * 0.5);
    x1.push(rng.normal());
    colour.push(k === 2 ? 'red' : rng.next() < 0.5 ? 'blue' : 'green');
    label.push(['a', 'b', 'c'][k]);
  }
  return { rows: n, columns: { x0, x1, colour, label } };
}

describe('createRng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 100 }, () => a.next());
    assert.deepEqual(Array.from({ length: 100 }, () => b.next()), sa);
    assert.notDeepEqual(Array.from({ length: 100 }, () => c.next()), sa);
    assert.ok(sa.every((x) => x >= 0 && x < 1));
  });

  it('draws roughly uniform and normal values, and shuffles into a permutation', () => {
    const r = createRng(1);
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < 20000; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    assert.ok(Math.abs(s / 20000) < 0.05, `normal mean ${s / 20000}`);
    assert.ok(Math.abs(s2 / 20000 - 1) < 0.05, `normal variance ${s2 / 20000}`);
    const p = r.shuffle(Array.from({ length: 50 }, (_, i) => i));
    assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
    assert.notDeepEqual(p, Array.from({ length: 50 }, (_, i) => i));
    assert.throws(() => createRng(1.5), RangeError);
  });
});

describe('preprocessing', () => {
  const specs: FeatureSpec[] = [
    { name: 'a', type: 'float', nullable: true },
    { name: 'c', type: 'category' },
    { name: 'b', type: 'int' },
  ];
  const data: Dataset = { rows: 4, columns: { a: [1, NaN, 3, 5], b: [10, 10, 10, 10], c: ['y', 'x', 'y', 'z'] } };

  it('learns mean/std over present values, sorted vocabularies, and lays numerics before categories', () => {
    const p = fitPreprocessor(specs, data);
    assert.deepEqual(p.features.map((f) => f.name), ['a', 'c', 'b']);
    assert.equal(p.numeric[0].mean, 3);
    assert.equal(p.numeric[0].std, Math.fround(Math.sqrt(8 / 3)));
    assert.equal(p.numeric[1].std, 1, 'a constant feature divides by 1, not 0');
    assert.deepEqual(p.categories[0].vocabulary, ['x', 'y', 'z']);
    assert.equal(p.width, 5);
    const x = transform(p, { rows: 2, columns: { a: [NaN, 5], b: [10, 12], c: ['z', 'never-seen'] } });
    assert.deepEqual(Array.from(x.data), [0, 0, 0, 0, 1, (5 - 3) / p.numeric[0].std, 2, 0, 0, 0]);
  });

  it('keeps a declared vocabulary order and rejects training values outside it', () => {
    const p = fitPreprocessor([{ name: 'c', type: 'category', vocabulary: ['z', 'y', 'x'] }], data);
    assert.deepEqual(p.categories[0].vocabulary, ['z', 'y', 'x']);
    assert.throws(() => fitPreprocessor([{ name: 'c', type: 'category', vocabulary: ['x', 'y'] }], data), isOutpost('input', 'c'));
  });

  it('rejects missing values in non-nullable features, missing columns and wrong cell types', () => {
    assert.throws(() => fitPreprocessor([{ name: 'a', type: 'float' }], data), (e) => isOutpost('input', 'a')(e) && (e as OutpostError).location.row === 2);
    const p = fitPreprocessor(specs, data);
    assert.throws(() => transform(p, { rows: 1, columns: { a: [1], b: [NaN], c: ['x'] } }), isOutpost('input', 'b'));
    assert.throws(() => transform(p, { rows: 1, columns: { a: [1], b: [1], c: [null] } }), isOutpost('input', 'c'));
    assert.throws(() => transform(p, { rows: 1, columns: { a: [1], c: ['x'] } }), isOutpost('input', 'b'));
    assert.throws(() => transform(p, { rows: 1, columns: { a: ['1'], b: [1], c: ['x'] } }), isOutpost('input', 'a'));
    assert.throws(() => fitPreprocessor(specs, { rows: 2, columns: { a: [NaN, NaN], b: [1, 2], c: ['x', 'y'] } }), isOutpost('input', 'a'));
    assert.throws(() => fitPreprocessor([], data), isOutpost('input'));
  });
});

describe('backprop', () => {
  /** Central finite differences of the batch loss with respect to every parameter. */
  function numericGradients(net: Network, x: Matrix, target: FitTarget, rows: number[]): Float64Array[] {
    const h = 1e-6;
    return net.layers.flatMap((layer) => [layer.weights, layer.bias].map((param) => {
      const g = new Float64Array(param.length);
      for (let i = 0; i < param.length; i++) {
        const keep = param[i];
        param[i] = keep + h;
        const up = lossAndGradients(net, x, target, rows).loss;
        param[i] = keep - h;
        const down = lossAndGradients(net, x, target, rows).loss;
        param[i] = keep;
        g[i] = (up - down) / (2 * h);
      }
      return g;
    }));
  }

  for (const [name, hidden, activation, kind] of [
    ['softmax MLP (tanh)', 5, 'tanh', 'classes'],
    ['softmax MLP (relu)', 5, 'relu', 'classes'],
    ['logistic regression', 0, 'tanh', 'classes'],
    ['regression MLP', 4, 'tanh', 'values'],
  ] as const) {
    it(`matches finite differences: ${name}`, () => {
      const rng = createRng(3);
      const x: Matrix = { rows: 6, cols: 3, data: Float64Array.from({ length: 18 }, () => rng.normal()) };
      const target: FitTarget = kind === 'classes'
        ? { kind, labels: Int32Array.from([0, 1, 2, 3, 1, 0]), classes: 4 }
        : { kind, values: Float64Array.from({ length: 6 }, () => rng.normal()) };
      const net = initNetwork(3, kind === 'classes' ? 4 : 1, { hidden, activation }, kind === 'classes' ? 'softmax' : 'identity', rng);
      for (const l of net.layers) for (let i = 0; i < l.bias.length; i++) l.bias[i] = rng.normal() * 0.3;
      const rows = [0, 1, 2, 3, 4, 5];
      const analytic = lossAndGradients(net, x, target, rows).layers.flatMap((g) => [g.weights, g.bias]);
      const numeric = numericGradients(net, x, target, rows);
      analytic.forEach((g, p) => g.forEach((v, i) => assert.ok(Math.abs(v - numeric[p][i]) < 1e-6, `param ${p}[${i}]: ${v} vs ${numeric[p][i]}`)));
    });
  }
});

describe('fitting', () => {
  it('a classifier learns separable data (logistic and MLP) and reports per-epoch loss', () => {
    const train = blobs(300, 1);
    const test = blobs(150, 2);
    const specs: FeatureSpec[] = [{ name: 'x0', type: 'float' }, { name: 'x1', type: 'float' }, { name: 'colour', type: 'category' }];
    for (const hidden of [0, 6]) {
      const losses: number[] = [];
      const model = trainModel({ task: 'multiclass', features: specs, target: 'label', data: train, options: { ...OPTS, hidden }, hooks: { onEpoch: (_e, l) => losses.push(l) } });
      assert.deepEqual(model.classes, ['a', 'b', 'c']);
      assert.equal(losses.length, OPTS.epochs);
      assert.ok(losses[losses.length - 1] < losses[0] / 3, `loss fell from ${losses[0]} to ${losses.at(-1)}`);
      const p = predict(model, test);
      const truth = Int32Array.from(test.columns.label as string[], (l) => ['a', 'b', 'c'].indexOf(l));
      assert.ok(accuracy(truth, p.labels!) > 0.95, `hidden=${hidden}: accuracy ${accuracy(truth, p.labels!)}`);
      assert.ok(logLoss(truth, p.probabilities!) < 0.2);
    }
  });

  it('same data, options and seed give identical weights; another seed gives different ones', () => {
    const data = blobs(120, 5);
    const specs: FeatureSpec[] = [{ name: 'x0', type: 'float' }, { name: 'x1', type: 'float' }];
    const fit = (seed: number) => trainModel({ task: 'multiclass', features: specs, target: 'label', data, options: { ...OPTS, hidden: 4, seed } }).network;
    const w = (n: Network) => n.layers.flatMap((l) => [...l.weights, ...l.bias]);
    assert.deepEqual(w(fit(11)), w(fit(11)));
    assert.notDeepEqual(w(fit(11)), w(fit(12)));
    assert.ok(w(fit(11)).every((v) => v === Math.fround(v)), 'weights are float32 values');
  });

  it('linear regression recovers a linear function in original units', () => {
    const rng = createRng(9);
    const n = 400;
    const u = Array.from({ length: n }, () => rng.uniform(-10, 10));
    const v = Array.from({ length: n }, () => rng.uniform(0, 100));
    const y = u.map((ui, i) => 3 * ui - 0.5 * v[i] + 1000);
    const model = trainModel({ task: 'regression', features: [{ name: 'u', type: 'float' }, { name: 'v', type: 'float' }], target: 'y', data: { rows: n, columns: { u, v, y } }, options: { ...OPTS, epochs: 200 } });
    const probe = predict(model, { rows: 2, columns: { u: [0, 5], v: [50, 10] } }).values!;
    assert.ok(rootMeanSquaredError([975, 1010], probe) < 0.05, `predicted ${Array.from(probe)}`);
  });

  it('rejects bad options, bad targets and honours cancellation', () => {
    const data = blobs(30, 1);
    const specs: FeatureSpec[] = [{ name: 'x0', type: 'float' }];
    const req = { task: 'multiclass' as const, features: specs, target: 'label', data, options: OPTS };
    assert.throws(() => trainModel({ ...req, options: { ...OPTS, epochs: 0 } }), isOutpost('usage', 'epochs'));
    assert.throws(() => trainModel({ ...req, options: { ...OPTS, learningRate: -1 } }), isOutpost('usage', 'learningRate'));
    assert.throws(() => trainModel({ ...req, options: { ...OPTS, hidden: 1.5 } }), isOutpost('usage', 'hidden'));
    assert.throws(() => trainModel({ ...req, target: 'nope' }), isOutpost('input', 'nope'));
    assert.throws(() => trainModel({ ...req, task: 'binary' }), isOutpost('input', 'label'));
    assert.throws(() => trainModel({ ...req, classes: ['a', 'b'] }), (e) => isOutpost('input', 'label')(e) && (e as OutpostError).location.row === 3);
    assert.throws(() => trainModel({ ...req, features: [{ name: 'label', type: 'category' }] }), isOutpost('usage'));
    assert.throws(() => trainModel({ ...req, task: 'regression' }), isOutpost('input', 'label'));
    const x: Matrix = { rows: 2, cols: 1, data: Float64Array.of(0, 1) };
    assert.throws(() => fitNetwork(x, { kind: 'classes', labels: Int32Array.of(0), classes: 2 }, OPTS), isOutpost('input'));
    assert.throws(() => fitNetwork(x, { kind: 'classes', labels: Int32Array.of(0, 2), classes: 2 }, OPTS), (e) => isOutpost('input')(e) && (e as OutpostError).location.row === 2);
    assert.throws(() => fitNetwork({ rows: 0, cols: 1, data: new Float64Array() }, { kind: 'values', values: new Float64Array() }, OPTS), isOutpost('input'));
    let epochs = 0;
    const signal = { aborted: false };
    assert.throws(() => trainModel({ ...req, hooks: { signal, onEpoch: () => { if (++epochs === 2) signal.aborted = true; } } }), isOutpost('cancelled'));
    assert.equal(epochs, 2);
  });
});

describe('metrics', () => {
  it('accuracy, log-loss, majority class', () => {
    assert.equal(accuracy(Int32Array.from([0, 1, 2, 1]), Int32Array.from([0, 1, 1, 1])), 0.75);
    assert.equal(majorityClass(Int32Array.from([2, 0, 2, 1]), 3), 2);
    const probs: Matrix = { rows: 2, cols: 2, data: Float64Array.from([0.5, 0.5, 0, 1]) };
    assert.equal(logLoss(Int32Array.from([0, 1]), probs), Math.log(2) / 2);
    assert.ok(Number.isFinite(logLoss(Int32Array.from([1, 0]), probs)), 'a zero probability is clipped, not Infinity');
    assert.throws(() => accuracy(Int32Array.from([1]), Int32Array.from([1, 2])), RangeError);
    assert.equal(forward({ layers: [{ inputs: 1, outputs: 1, weights: Float64Array.of(2), bias: Float64Array.of(1) }], activation: 'tanh', head: 'identity' }, { rows: 1, cols: 1, data: Float64Array.of(3) }).data[0], 7);
  });
});
