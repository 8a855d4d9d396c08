// `outpost models init`: a package from an exported model and a data sample, for each exporter
// layout (skl2onnx logistic regression and random forest with ZipMap, a PyTorch MLP, a linear
// regressor) — init → models add → score, scores bit-identical to a direct onnxruntime-node run —
// and the ways a guess cannot be made, each saying which option settles it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseCard, type Card } from '../src/package/common/card.ts';
import { niceRange } from '../src/package/common/infer-card.ts';
import { directRun, directSession, expected, FIXTURES, HELD_OUT, readCsv, TRAIN, BYO, type Fixture } from './helpers/byo.ts';
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
      const lo = Math.min(...vals);
      const hi = Math.max(...vals);
      assert.ok(x.range!.max! >= hi + 0.1 * (hi - lo), `${x.name}: a 10 % margin above`);
      if (lo >= 0) {
        // no negative value in the sample (wind, precipitation): the margin stops at 0
        assert.ok(x.range!.min! >= 0, `${x.name}: sample minimum ${lo} ≥ 0, so the floor is not below 0 (got ${x.range!.min})`);
        assert.ok(x.range!.min! <= Math.max(0, lo - 0.1 * (hi - lo)), `${x.name}: a 10 % margin below, down to 0`);
      } else assert.ok(x.range!.min! <= lo - 0.1 * (hi - lo), `${x.name}: a 10 % margin below`);
    }
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
  assert.match(r.out, /wind: float, range -?[\d.]+ … [\d.]+ .*nullable \(22 missing in the sample\)/);

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

test('models init refuses a fixed-batch export before writing anything', async () => {
  const out = path.join(root, 'fixed-pkg');
  const r = await runMain(['--home', home, 'models', 'init', path.join(BYO, 'mlp-fixed-batch.onnx'), '--sample', TRAIN, '--name', 'fixed', '--out', out, '--target', 'weather', '--ignore', 'beaufort']);
  assert.equal(r.code, 1);
  assert.match(r.err, /mlp-fixed-batch\.onnx: graph input "input" has a fixed batch size of 1 \[1, 4\]/);
  assert.equal(fs.existsSync(out), false);
});

test('a yes/no column feeding a float tensor becomes a bool feature, scored as 1/0', async () => {
  // the forest's first column is precipitation; here it arrives as "yes" (> 0) / "no" (0)
  const { header, rows } = readCsv(TRAIN);
  const p = header.indexOf('precipitation');
  const yesNo = (file: string, src: string[][]) => fs.writeFileSync(file, [header, ...src.map((row) => row.map((c, k) => (k === p ? (Number(c) > 0 ? 'yes' : 'no') : c)))].map((x) => x.join(',')).join('\n') + '\n');
  const sample = path.join(root, 'rained.csv');
  yesNo(sample, rows);
  const out = path.join(root, 'rained-pkg');
  const r = await runMain(['--home', home, 'models', 'init', path.join(BYO, 'forest.onnx'), '--sample', sample, '--name', 'rained', '--out', out, '--target', 'beaufort', '--ignore', 'wind,weather']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /precipitation: bool \(no\/yes → 1\/0\)/);
  assert.deepEqual(readCard(out).inputs[0], { name: 'precipitation', type: 'bool', nullable: false });
  assert.equal((await runMain(['--home', home, 'models', 'add', out, '--allow-unsigned'])).code, 0);
  const held = readCsv(HELD_OUT);
  const input = path.join(root, 'rained-2015.csv');
  yesNo(input, held.rows);
  const scored = path.join(root, 'rained.scored.csv');
  const s = await runMain(['--home', home, 'score', input, '--model', 'rained', '--out', scored]);
  assert.equal(s.code, 0, s.err);
  // the same as the graph run directly on 1/0
  const ort = (await import('onnxruntime-node')).default;
  const x = new Float32Array(held.rows.length * 3);
  held.rows.forEach((row, i) => ['precipitation', 'temp_max', 'temp_min'].forEach((n, k) => (x[i * 3 + k] = n === 'precipitation' ? (Number(row[p]) > 0 ? 1 : 0) : Number(row[held.header.indexOf(n)]))));
  const session = await directSession(fs.readFileSync(path.join(BYO, 'forest-nozipmap.onnx')));
  const ref = (await session.run({ float_input: new ort.Tensor('float32', x, [held.rows.length, 3]) })).output_probability.data as Float32Array;
  const got = readCsv(scored);
  got.rows.forEach((row, i) => expected.forest.classes!.forEach((c, k) => assert.ok(Object.is(Math.fround(Number(row[got.header.indexOf(`p_${c}`)])), ref[i * 5 + k]), `row ${i + 1} p_${c}`)));
});

test('a PyTorch binary classifier with a one-column sigmoid head: P(positive) as exported, the other class 1 − p', async () => {
  // the user's data: features and a yes/no label "sun"
  const toSun = (src: string, dst: string) => {
    const { header, rows } = readCsv(src);
    const keep = ['date', 'precipitation', 'temp_max', 'temp_min', 'wind'];
    fs.writeFileSync(dst, [[...keep, 'sun'], ...rows.map((row) => [...keep.map((k) => row[header.indexOf(k)]), row[header.indexOf('weather')] === 'sun' ? 'yes' : 'no'])].map((x) => x.join(',')).join('\n') + '\n');
  };
  const sample = path.join(root, 'sun-train.csv');
  const held = path.join(root, 'sun-2015.csv');
  toSun(TRAIN, sample);
  toSun(HELD_OUT, held);
  const out = path.join(root, 'sun-pkg');
  const r = await runMain(['--home', home, 'models', 'init', path.join(BYO, 'mlp-binary.onnx'), '--sample', sample, '--name', 'sun', '--out', out, '--target', 'sun']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /binary classifier; "output" \(Sigmoid "\/sigmoid\/Sigmoid"\) is the probability of "yes", "no" gets 1 − p/);
  assert.match(r.out, /"yes" is taken as the positive class/);
  const card = readCard(out);
  assert.deepEqual([card.task, card.outputs], ['binary', { probabilities: 'output', classes: ['no', 'yes'] }]);
  assert.equal((await runMain(['--home', home, 'models', 'add', out, '--allow-unsigned'])).code, 0);
  const scored = path.join(root, 'sun.scored.csv');
  const s = await runMain(['--home', home, 'score', held, '--model', 'sun', '--out', scored]);
  assert.equal(s.code, 0, s.err);

  const ort = (await import('onnxruntime-node')).default;
  const h = readCsv(held);
  const feats = ['precipitation', 'temp_max', 'temp_min', 'wind'];
  const x = new Float32Array(h.rows.length * 4);
  h.rows.forEach((row, i) => feats.forEach((n, k) => (x[i * 4 + k] = Number(row[h.header.indexOf(n)]))));
  const session = await directSession(fs.readFileSync(path.join(BYO, 'mlp-binary.onnx')));
  const p = (await session.run({ input: new ort.Tensor('float32', x, [h.rows.length, 4]) })).output.data as Float32Array;
  const got = readCsv(scored);
  const e = (expected as unknown as Record<string, { probabilities: number[][] }>)['mlp-binary'];
  got.rows.forEach((row, i) => {
    const yes = Number(row[got.header.indexOf('p_yes')]);
    const no = Number(row[got.header.indexOf('p_no')]);
    assert.ok(Object.is(Math.fround(yes), p[i]), `row ${i + 1}: p_yes ${yes} vs ORT ${p[i]}`);
    assert.ok(Object.is(Math.fround(no), Math.fround(1 - p[i])), `row ${i + 1}: p_no is 1 − p in float32`);
    assert.equal(row[got.header.indexOf('label')], p[i] > Math.fround(1 - p[i]) ? 'yes' : 'no');
    assert.ok(Math.abs(yes - e.probabilities[i][1]) < 1e-5, `row ${i + 1}: vs scikit-learn ${e.probabilities[i][1]}`);
  });
});

test('a guessed range does not cross 0 when the sample has no negative values; it does when it has', () => {
  // 143.5 … 2500 (a price, a duration): the 10 % margin alone would give -100 … 2800
  assert.deepEqual(niceRange(143.5, 2500), { min: 0, max: 2800, floored: true });
  assert.deepEqual(niceRange(0, 40), { min: 0, max: 44, floored: true });
  // clear of 0 after the margin: untouched
  assert.deepEqual(niceRange(1000, 2000), { min: 900, max: 2100, floored: false });
  // a negative sample minimum keeps the margin below it
  assert.deepEqual(niceRange(-3.1, 18.3), { min: -6, max: 21, floored: false });
});

test('the Guessed line says when a floor was held at 0', async () => {
  const r = await init('linreg', [], path.join(root, 'init-floor'));
  assert.equal(r.code, 0, r.err);
  // wind's sample minimum is 0.4: the margin would take it below 0
  assert.match(r.out, /wind: float, range 0 … [\d.]+ \(sample 0\.4 … [\d.]+, with a margin; not below 0: the sample has no negative values\)/);
  assert.match(r.out, /temp_min: float, range -[\d.]+ … [\d.]+ \(sample -[\d.]+ … [\d.]+, with a margin\)/);
});
