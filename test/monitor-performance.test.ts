// Performance metrics and their intervals against scikit-learn (test/fixtures/performance/make.py
// computed expected.json with Debian's python3-sklearn; the intervals there come from independent
// naive implementations: Wilson's formula, DeLong by its O(n²) definition).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { accuracy, auc, aucDeLong, f1, logLoss, mae, rmse, wilson, type ClassifierSample } from '../src/monitor/common/performance.ts';

const E = JSON.parse(fs.readFileSync(new URL('./fixtures/performance/expected.json', import.meta.url), 'utf8')) as {
  binary: { classes: string[]; truth: number[]; predicted: number[]; p1: number[]; accuracy: number; accuracyCi: number[]; f1: number; auc: number; aucCi: number[]; logLoss: number; logLossCi: number[] };
  multiclass: { classes: string[]; truth: number[]; predicted: number[]; scores: number[][]; accuracy: number; accuracyCi: number[]; f1: number; auc: number; logLoss: number };
  regression: { truth: number[]; predicted: number[]; rmse: number; rmseCi: number[]; mae: number; maeCi: number[] };
};

const close = (actual: number | null | undefined, expected: number, what: string, tol = 1e-12) => {
  assert.ok(actual !== null && actual !== undefined, `${what}: no value`);
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs scikit-learn ${expected}`);
};

const binary: ClassifierSample = {
  classes: E.binary.classes, truth: Int32Array.from(E.binary.truth), predicted: Int32Array.from(E.binary.predicted),
  scores: [Float64Array.from(E.binary.p1, (p) => 1 - p), Float64Array.from(E.binary.p1)],
};

test('binary classifier: accuracy (Wilson), F1, AUC (DeLong), log-loss match scikit-learn', () => {
  const a = accuracy(binary);
  close(a.value, E.binary.accuracy, 'accuracy');
  close(a.ci!.low, E.binary.accuracyCi[0], 'accuracy CI low');
  close(a.ci!.high, E.binary.accuracyCi[1], 'accuracy CI high');
  close(f1(binary).value, E.binary.f1, 'f1');
  const u = auc(binary);
  close(u.value, E.binary.auc, 'auc');
  close(u.ci!.low, E.binary.aucCi[0], 'auc CI low', 1e-9);
  close(u.ci!.high, E.binary.aucCi[1], 'auc CI high', 1e-9);
  const l = logLoss(binary);
  close(l.value, E.binary.logLoss, 'log-loss', 1e-9);
  close(l.ci!.low, E.binary.logLossCi[0], 'log-loss CI low', 1e-9);
  close(l.ci!.high, E.binary.logLossCi[1], 'log-loss CI high', 1e-9);
});

test('F1 bootstrap interval holds the value, is reproducible, and narrows with more data', () => {
  const one = f1(binary);
  const again = f1(binary);
  assert.deepEqual(one.ci, again.ci);
  assert.ok(one.ci!.low <= one.value! && one.value! <= one.ci!.high, `${one.value} in ${JSON.stringify(one.ci)}`);
  const rep = (x: Int32Array) => Int32Array.from({ length: x.length * 4 }, (_, i) => x[i % x.length]);
  const big = f1({ ...binary, truth: rep(binary.truth), predicted: rep(binary.predicted) });
  close(big.value, one.value!, 'same F1 on the repeated sample');
  assert.ok(big.ci!.high - big.ci!.low < one.ci!.high - one.ci!.low);
});

test('multiclass: accuracy, macro F1, one-vs-rest macro AUC and log-loss match scikit-learn', () => {
  const s: ClassifierSample = { classes: E.multiclass.classes, truth: Int32Array.from(E.multiclass.truth), predicted: Int32Array.from(E.multiclass.predicted), scores: E.multiclass.scores.map((c) => Float64Array.from(c)) };
  close(accuracy(s).value, E.multiclass.accuracy, 'accuracy');
  close(accuracy(s).ci!.low, E.multiclass.accuracyCi[0], 'accuracy CI');
  close(f1(s).value, E.multiclass.f1, 'macro f1');
  close(auc(s).value, E.multiclass.auc, 'ovr auc', 1e-9);
  assert.equal(auc(s).ci, null);
  close(logLoss(s).value, E.multiclass.logLoss, 'log-loss', 1e-7);
  // a class with no label: no AUC, and the reason
  const noC = Int32Array.from(s.truth, (t) => (t === 2 ? 0 : t));
  const r = auc({ ...s, truth: noC });
  assert.equal(r.value, null);
  assert.match(r.note!, /class "c" has no label/);
});

test('regression: RMSE and MAE with their intervals match scikit-learn', () => {
  const s = { truth: Float64Array.from(E.regression.truth), predicted: Float64Array.from(E.regression.predicted) };
  const r = rmse(s);
  close(r.value, E.regression.rmse, 'rmse', 1e-12);
  close(r.ci!.low, E.regression.rmseCi[0], 'rmse CI low', 1e-9);
  close(r.ci!.high, E.regression.rmseCi[1], 'rmse CI high', 1e-9);
  const m = mae(s);
  close(m.value, E.regression.mae, 'mae');
  close(m.ci!.low, E.regression.maeCi[0], 'mae CI low', 1e-9);
  close(m.ci!.high, E.regression.maeCi[1], 'mae CI high', 1e-9);
});

test('edge cases: no rows, one class, a perfect and an inverted ranking', () => {
  const empty: ClassifierSample = { classes: ['n', 'y'], truth: new Int32Array(0), predicted: new Int32Array(0), scores: [new Float64Array(0), new Float64Array(0)] };
  assert.equal(accuracy(empty).value, null);
  assert.equal(f1(empty).value, null);
  assert.equal(logLoss(empty).value, null);
  assert.equal(rmse({ truth: new Float64Array(0), predicted: new Float64Array(0) }).value, null);
  const oneClass = aucDeLong(Float64Array.of(0.1, 0.2), Uint8Array.of(1, 1));
  assert.equal(oneClass, null);
  assert.equal(aucDeLong(Float64Array.of(0.1, 0.2, 0.8, 0.9), Uint8Array.of(0, 0, 1, 1))!.auc, 1);
  assert.equal(aucDeLong(Float64Array.of(0.1, 0.2, 0.8, 0.9), Uint8Array.of(1, 1, 0, 0))!.auc, 0);
  assert.equal(aucDeLong(Float64Array.of(0.5, 0.5, 0.5, 0.5), Uint8Array.of(1, 0, 1, 0))!.auc, 0.5);
  assert.deepEqual(wilson(0, 0), null);
  const w = wilson(10, 10)!;
  assert.equal(w.high, 1);
  assert.ok(w.low > 0.6 && w.low < 0.75, `Wilson low for 10/10 is ${w.low}`);
  // log-loss of a confident wrong answer is finite (probabilities clipped as scikit-learn does)
  const wrong = logLoss({ classes: ['n', 'y'], truth: Int32Array.of(1), predicted: Int32Array.of(0), scores: [Float64Array.of(1), Float64Array.of(0)] });
  close(wrong.value, -Math.log(1e-15), 'clipped log-loss', 1e-6);
});
