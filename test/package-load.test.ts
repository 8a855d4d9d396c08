import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import ort from 'onnxruntime-node';
import { OutpostError } from '../src/common/errors.ts';
import { loadPackage } from '../src/package/node/load.ts';
import { tempDir, tinyCard, tinyModelBytes, writePackage } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

const expectPackageError = (dir: string, pattern: RegExp) =>
  assert.throws(() => loadPackage(dir), (e: unknown) => e instanceof OutpostError && e.code === 'package' && pattern.test(e.describe()));

test('a valid package loads, and its graph really runs in ONNX Runtime', async () => {
  const dir = writePackage(path.join(root, 'ok'));
  const pkg = loadPackage(dir);
  assert.equal(pkg.card.name, 'tiny');
  assert.deepEqual(pkg.graph.inputs.map((i) => i.name), ['a', 'b', 'colour']);
  assert.match(pkg.modelSha256, /^[0-9a-f]{64}$/);
  const s = await ort.InferenceSession.create(pkg.modelBytes);
  const r = await s.run({ a: new ort.Tensor('float32', Float32Array.from([1]), [1, 1]), b: new ort.Tensor('float32', Float32Array.from([NaN]), [1, 1]), colour: new ort.Tensor('string', ['green'], [1, 1]) });
  assert.equal(r.probabilities.dims[1], 3);
});

test('missing files, bad JSON and schema violations name the file and the field', () => {
  const dir = path.join(root, 'missing');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(tinyCard()));
  expectPackageError(dir, /model\.onnx missing/);

  const bad = writePackage(path.join(root, 'badjson'));
  fs.writeFileSync(path.join(bad, 'card.json'), '{ "format": ');
  expectPackageError(bad, /card\.json: not valid JSON/);

  const schema = writePackage(path.join(root, 'schema'), { ...tinyCard(), version: 0 });
  expectPackageError(schema, /version/);

  const vocab = writePackage(path.join(root, 'vocab'), tinyCard({ inputs: [{ name: 'a', type: 'category', nullable: false }, { name: 'b', type: 'float', nullable: true }, { name: 'colour', type: 'category', nullable: false, vocabulary: ['red'] }] }));
  expectPackageError(vocab, /inputs\.0\.vocabulary: a category feature needs a vocabulary/);

  expectPackageError(path.join(root, 'nope'), /not a model package folder/);
});

test('card and graph disagreement is caught with every mismatch named', () => {
  const renamed = tinyCard({ inputs: [{ name: 'alpha', type: 'float', nullable: false }, { name: 'b', type: 'float', nullable: true }, { name: 'colour', type: 'float', nullable: false }] });
  const dir = writePackage(path.join(root, 'disagree'), renamed);
  try {
    loadPackage(dir);
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof OutpostError);
    const msg = e.message;
    assert.match(msg, /card input "alpha" is not an input of the graph/);
    assert.match(msg, /input "colour": card type float cannot feed graph dtype string/);
    assert.match(msg, /graph input "a" is not described in the card/);
  }
  const classes = writePackage(path.join(root, 'classes'), tinyCard({ outputs: { label: 'label', probabilities: 'probabilities', classes: ['x', 'y'] } }));
  expectPackageError(classes, /has 3 columns but the card lists 2 classes/);
  const out = writePackage(path.join(root, 'outname'), tinyCard({ outputs: { label: 'label', probabilities: 'probs', classes: ['x', 'y', 'z'] } }));
  expectPackageError(out, /outputs\.probabilities names "probs", which is not a graph output/);
});

test('garbage instead of an ONNX graph is rejected', () => {
  const dir = writePackage(path.join(root, 'garbage'), tinyCard(), new Uint8Array([0xff, 0xff, 0xff, 0x0f, 1, 2, 3]));
  expectPackageError(dir, /model\.onnx: not a readable ONNX model/);
  const truncated = tinyModelBytes().subarray(0, 40);
  const dir2 = writePackage(path.join(root, 'trunc'), tinyCard(), truncated);
  expectPackageError(dir2, /not a readable ONNX model/);
});

test('a card whose drift baseline or settings are invalid is refused at load, naming the problem', () => {
  const demo = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'models', 'demo', 'weather', 'card.json'), 'utf8'));
  const model = fs.readFileSync(path.join(import.meta.dirname, '..', 'models', 'demo', 'weather', 'model.onnx'));
  const ok = writePackage(path.join(root, 'drift-ok'), demo, model);
  assert.equal(loadPackage(ok).card.name, 'seattle-weather', 'the demo card with its baseline loads');
  const broken = structuredClone(demo);
  broken.baseline.format = 'something-else';
  expectPackageError(writePackage(path.join(root, 'drift-format'), broken, model), /invalid drift baseline or settings: baseline\.format/);
  const badConfig = structuredClone(demo);
  badConfig.drift = { features: { no_such_feature: { method: 'ks' } } };
  expectPackageError(writePackage(path.join(root, 'drift-config'), badConfig, model), /drift\.features\.no_such_feature: no such feature/);
});
