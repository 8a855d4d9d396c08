// `outpost models init`: a package from an exported model and a data sample, for each exporter
// layout (skl2onnx logistic regression and random forest with ZipMap, a PyTorch MLP, a linear
// regressor) — init → models add → score, scores bit-identical to a direct onnxruntime-node run —
// and the ways a guess cannot be made, each saying which option settles it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseCard, type Card } from '../src/package/common/card.ts';
import { directRun, expected, FIXTURES, HELD_OUT, readCsv, TRAIN, BYO, type Fixture } from './helpers/byo.ts';
import { jsonLines, runMain } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
const home = path.join(root, 'home');

/** What a user would type for each fixture (the sample is the training file: date, features, targets). */
const initArgs: Record<Fixture, string[]> = {
  logreg: ['--target', 'weather', '--ignore', 'beaufort'],
  forest: ['--target', 'beaufort', '--ignore', 'wind,weather'],
  mlp: ['--target', 'weather', '--ignore', 'beaufort'],
  linreg: ['--target', 'temp_max', '--ignore', 'beaufort'],
};

const init = (f: Fixture, extra: string[] = [], out = path.join(root, `init-${f}`)) =>
  runMain(['--home', home, 'models', 'init', path.join(BYO, `${f}.onnx`), '--sample', TRAIN, '--name', `init-${f}`, '--out', out, ...initArgs[f], ...extra]);

const x0 = (c: Card): string => c.inputs[0].name;
const readCard = (dir: string): Card => {
  const r = parseCard(JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8')));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r.card;
};

for (const f of FIXTURES) {
  test(`${f}: models init → models add → score gives the graph's own scores, bit for bit`, async () => {
    const out = path.join(root, `init-${f}`);
    const r = await init(f);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Guessed:/);
    assert.match(r.out, /Check \(edit card\.json where it is wrong\):/);
    assert.match(r.out, /drift baseline: 1,096 sample rows/);
    // the exported file is packaged as is
    assert.deepEqual(fs.readFileSync(path.join(out, 'model.onnx')), fs.readFileSync(path.join(BYO, `${f}.onnx`)));

    const card = readCard(out);
    const e = expected[f];
    assert.deepEqual(card.inputs.map((x) => x.name), e.features);
    assert.deepEqual(card.tensors, [{ input: f === 'mlp' ? 'input' : 'float_input', features: e.features }]);
    const { header, rows } = readCsv(TRAIN);
    for (const x of card.inputs) {
      const vals = rows.map((row) => Number(row[header.indexOf(x.name)]));
      assert.equal(x.type, 'float');
      assert.equal(x.nullable, false);
      assert.ok(x.range!.min! <= Math.min(...vals) && x.range!.max! >= Math.max(...vals), `${x.name}: range covers the sample`);
      assert.ok(x.range!.max! > Math.max(...vals), `${x.name}: with a margin above`);
    }
    if (x0(card) === 'precipitation') assert.equal(card.inputs[0].range!.min, 0, 'a non-negative feature keeps a lower bound of 0');
    assert.ok(card.baseline, 'a drift baseline is in the card');
    if (f === 'linreg') assert.deepEqual([card.task, card.outputs], ['regression', { value: 'variable' }]);
    else {
      assert.equal(card.task, 'multiclass');
      assert.deepEqual(card.outputs.classes, e.classes);
      if (f === 'mlp') {
        assert.deepEqual(card.outputs, { probabilities: 'output', classes: e.classes });
        assert.match(r.out, /classes: drizzle, fog, rain, snow, sun — sorted/);
      } else {
        assert.equal(card.outputs.probabilities, 'probabilities');
        assert.equal(card.outputs.label, 'output_label');
        assert.equal(card.outputs.labelEncoding, f === 'forest' ? 'class' : undefined);
        assert.match(r.out, /the tensor feeding ZipMap "ZipMap"/);
      }
    }

    const add = await runMain(['--home', home, 'models', 'add', out, '--allow-unsigned']);
    assert.equal(add.code, 0, add.err);
    const scored = path.join(root, `init-${f}.scored.csv`);
    const s = await runMain(['--home', home, 'score', HELD_OUT, '--model', `init-${f}`, '--out', scored]);
    assert.equal(s.code, 0, s.err);
    const got = readCsv(scored);
    const ref = await directRun(f);
    const col = (name: string) => got.rows.map((row) => row[got.header.indexOf(name)]);
    if (f === 'linreg') {
      col('value').forEach((t, i) => assert.ok(Object.is(Math.fround(Number(t)), ref.value![i]), `row ${i + 1}`));
      return;
    }
    const classes = e.classes!;
    classes.forEach((c, k) => col(`p_${c}`).forEach((t, i) => assert.ok(Object.is(Math.fround(Number(t)), ref.probabilities![i * classes.length + k]), `row ${i + 1} p_${c}`)));
    if (ref.label) assert.deepEqual(col('label'), ref.label);

    // drift monitoring works on it from the first run
    const d = await runMain(['--home', home, 'drift', `init-${f}`, '--json']);
    assert.equal(d.code, 0, d.err);
  });
}

test('--json prints one line: the guesses and the checks', async () => {
  const r = await init('linreg', ['--json', '--force']);
  assert.equal(r.code, 0, r.err);
  const lines = jsonLines(r.out);
  assert.equal(lines.length, 1);
  const res = lines[0] as { ok: boolean; task: string; tensors: unknown; guessed: string[]; check: string[] };
  assert.equal(res.task, 'regression');
  assert.ok(res.guessed.some((g) => /float_input \[\?, 3\]: columns precipitation, temp_min, wind, in the sample's column order/.test(g)));
  assert.ok(res.check.some((c) => /must be the order of training/.test(c)));
});

test('a sample with gaps: nullable guessed; text in a numeric feature is refused naming the row', async () => {
  const { header, rows } = readCsv(TRAIN);
  const w = header.indexOf('wind');
  const gappy = path.join(root, 'gappy.csv');
  fs.writeFileSync(gappy, [header, ...rows.map((row, i) => (i % 50 === 7 ? row.map((c, k) => (k === w ? '' : c)) : row))].map((x) => x.join(',')).join('\n') + '\n');
  const out = path.join(root, 'gappy-pkg');
  let r = await runMain(['--home', home, 'models', 'init', path.join(BYO, 'logreg.onnx'), '--sample', gappy, '--name', 'gappy', '--out', out, '--target', 'weather', '--ignore', 'beaufort']);
  assert.equal(r.code, 0, r.err);
  const card = readCard(out);
  assert.equal(card.inputs.find((x) => x.name === 'wind')!.nullable, true);
  assert.match(r.out, /wind: float, range 0 … [\d.]+ .*nullable \(22 missing in the sample\)/);

  const texty = path.join(root, 'texty.csv');
  fs.writeFileSync(texty, [header, ...rows.map((row, i) => (i === 9 ? row.map((c, k) => (k === w ? 'gusty' : c)) : row))].map((x) => x.join(',')).join('\n') + '\n');
  r = await runMain(['--home', home, 'models', 'init', path.join(BYO, 'logreg.onnx'), '--sample', texty, '--name', 'texty', '--out', path.join(root, 'texty-pkg'), '--target', 'weather', '--features', 'precipitation,temp_max,temp_min,wind']);
  assert.equal(r.code, 1);
  assert.match(r.err, /texty\.csv: sample column "wind" \(for graph input "float_input", float\) has 1 value that is not numbers \(first: row 10: "gusty"\)/);
  assert.equal(fs.existsSync(path.join(root, 'texty-pkg', 'card.json')), false, 'nothing written');
});

test('what cannot be guessed is a usage error naming the option that settles it', async () => {
  const bad = (args: string[]) => runMain(['--home', home, 'models', 'init', ...args]);
  // column count does not fit [N, 4] and no --features
  let r = await bad([path.join(BYO, 'logreg.onnx'), '--sample', TRAIN, '--name', 'x', '--out', path.join(root, 'x1'), '--target', 'weather']);
  assert.equal(r.code, 2);
  assert.match(r.err, /graph input "float_input" takes 4 values per row \[\?, 4\], but the sample has 6 candidate columns \(date, precipitation, temp_max, temp_min, wind, beaufort; target "weather" left out\), 5 of them numeric: name them in training order with --features/);
  // --features of the wrong length
  r = await bad([path.join(BYO, 'logreg.onnx'), '--sample', TRAIN, '--name', 'x', '--out', path.join(root, 'x2'), '--features', 'precipitation,temp_max,temp_min']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--features lists 3 columns but graph input "float_input" takes 4 per row/);
  r = await bad([path.join(BYO, 'logreg.onnx'), '--sample', TRAIN, '--name', 'x', '--out', path.join(root, 'x3'), '--features', 'precipitation,temp_max,temp_min,wind,beaufort']);
  assert.match(r.err, /--features lists 1 more column than the graph's inputs take \(beaufort\)/);
  // PyTorch: no class names in the graph, and no --target / --classes
  r = await bad([path.join(BYO, 'mlp.onnx'), '--sample', TRAIN, '--name', 'x', '--out', path.join(root, 'x4'), '--ignore', 'beaufort,weather']);
  assert.equal(r.code, 2);
  assert.match(r.err, /output "output" \[batch, 5\] looks like class probabilities but the graph records no class names: give --target COL .* or --classes a,b,c in output-column order/);
  r = await bad([path.join(BYO, 'mlp.onnx'), '--sample', TRAIN, '--name', 'x', '--out', path.join(root, 'x5'), '--ignore', 'beaufort,weather', '--classes', 'a,b,c']);
  assert.match(r.err, /output "output" has 5 columns but --classes gives 3 classes \(a, b, c\): pass --classes with 5 names/);
  // --classes in the user's own order is taken as is
  r = await bad([path.join(BYO, 'mlp.onnx'), '--sample', TRAIN, '--name', 'x', '--out', path.join(root, 'x6'), '--ignore', 'beaufort,weather', '--classes', 'drizzle,fog,rain,snow,sun']);
  assert.equal(r.code, 0, r.err);
  // unknown target, not a model, an output folder in use, a bad name
  r = await bad([path.join(BYO, 'mlp.onnx'), '--sample', TRAIN, '--name', 'x', '--out', path.join(root, 'x7'), '--target', 'kind']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--target "kind" is not a column of the sample/);
  r = await bad([TRAIN, '--sample', TRAIN, '--name', 'x', '--out', path.join(root, 'x8')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /not a readable ONNX model/);
  r = await bad([path.join(BYO, 'mlp.onnx'), '--sample', TRAIN, '--name', 'x', '--out', path.join(root, 'x6'), '--ignore', 'beaufort,weather', '--classes', 'drizzle,fog,rain,snow,sun']);
  assert.equal(r.code, 1);
  assert.match(r.err, /model\.onnx and card\.json already exist in the output folder; choose another --out or pass --force/);
  r = await bad([path.join(BYO, 'mlp.onnx'), '--sample', TRAIN, '--name', 'Bad Name', '--out', path.join(root, 'x9')]);
  assert.equal(r.code, 2);
  r = await bad([path.join(BYO, 'mlp.onnx'), '--name', 'x', '--out', path.join(root, 'x9')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--sample is required/);
});
