// Bring your own model: graphs in exactly the layouts scikit-learn (skl2onnx) and PyTorch
// (torch.onnx.export) write — one [N, F] float input, ZipMap outputs — installed with a card that
// maps named features onto the tensor's columns, scored through the real CLI, and compared
// bit for bit with a direct onnxruntime-node run. Plus every way card and graph can disagree.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import ort from 'onnxruntime-node';
import { adaptModel, findZipMaps, graphClassLabels } from '../src/onnx/common/adapt.ts';
import { inspectModel } from '../src/onnx/common/onnx.ts';
import { CellStatus, type ColumnBatch } from '../src/io/common/table.ts';
import { logInputColumns } from '../src/scoring/common/outputs.ts';
import { validateBatch } from '../src/scoring/common/validate.ts';
import { directRun, expected, FIXTURES, handCard, HELD_OUT, modelBytes, readCsv, type Fixture } from './helpers/byo.ts';
import { runMain } from './helpers/cli.ts';
import { tempDir, writePackage } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
const home = path.join(root, 'home');

/** Scored CSV → columns by name. */
function readScored(file: string): Map<string, string[]> {
  const { header, rows } = readCsv(file);
  return new Map(header.map((h, i) => [h, rows.map((r) => r[i])]));
}

for (const f of FIXTURES) {
  test(`${f}: a hand-written card installs, and scores equal a direct onnxruntime-node run bit for bit`, async () => {
    const dir = writePackage(path.join(root, `pkg-${f}`), handCard(f), modelBytes(f));
    const add = await runMain(['--home', home, 'models', 'add', dir, '--allow-unsigned']);
    assert.equal(add.code, 0, add.err);
    const out = path.join(root, `${f}.scored.csv`);
    const score = await runMain(['--home', home, 'score', HELD_OUT, '--model', `byo-${f}`, '--id', 'date', '--out', out]);
    assert.equal(score.code, 0, score.err);
    assert.match(score.out, /Scored 365 of 365 rows/);

    const got = readScored(out);
    const ref = await directRun(f);
    const e = expected[f];
    if (f === 'linreg') {
      const v = got.get('value')!;
      assert.equal(v.length, ref.rows);
      v.forEach((text, i) => assert.ok(Object.is(Math.fround(Number(text)), ref.value![i]), `row ${i + 1}: ${text} vs ${ref.value![i]}`));
      // and within float32 rounding of scikit-learn's own float64 predictions
      v.forEach((text, i) => assert.ok(Math.abs(Number(text) - e.value![i]) < 1e-4, `row ${i + 1}: ${text} vs sklearn ${e.value![i]}`));
      return;
    }
    const classes = e.classes!;
    assert.deepEqual([...got.keys()], ['date', 'label', ...classes.map((c) => `p_${c}`)]);
    classes.forEach((c, k) => {
      got.get(`p_${c}`)!.forEach((text, i) => {
        const want = ref.probabilities![i * classes.length + k];
        assert.ok(Object.is(Math.fround(Number(text)), want), `row ${i + 1} p_${c}: ${text} vs ORT ${want}`);
        assert.ok(Math.abs(Number(text) - e.probabilities![i][k]) < 1e-5, `row ${i + 1} p_${c}: ${text} vs sklearn ${e.probabilities![i][k]}`);
      });
    });
    const labels = got.get('label')!;
    if (ref.label) assert.deepEqual(labels, ref.label, 'labels are the graph\'s own label output');
    else labels.forEach((l, i) => { // no label output: the most probable class
      const p = classes.map((_, k) => ref.probabilities![i * classes.length + k]);
      assert.equal(l, classes[p.indexOf(Math.max(...p))]);
    });
    const agree = labels.filter((l, i) => l === String(e.label![i])).length;
    assert.ok(agree >= ref.rows - 1, `labels agree with scikit-learn's predict on ${agree} of ${ref.rows} rows`);
  });
}

test('the installed (verified) model file is the exported one, byte for byte: the ZipMap rewrite happens in memory', async () => {
  const installed = fs.readFileSync(path.join(home, 'models', 'byo-logreg', '1', 'model.onnx'));
  assert.equal(crypto.createHash('sha256').update(installed).digest('hex'), crypto.createHash('sha256').update(modelBytes('logreg')).digest('hex'));
  const verify = await runMain(['--home', home, 'models', 'verify']);
  assert.equal(verify.code, 0, verify.err + verify.out);
});

test('adaptModel drops only the ZipMap, exposes its probability tensor, keeps every other byte of meaning', async () => {
  for (const f of ['logreg', 'forest'] as const) {
    const bytes = modelBytes(f);
    const info = inspectModel(bytes);
    assert.equal(info.producer, 'skl2onnx');
    assert.equal(info.outputs.find((o) => o.name === 'output_probability')?.nonTensor, f === 'logreg' ? 'sequence<map<string, float>>' : 'sequence<map<int64, float>>');
    const a = adaptModel(bytes, info);
    const back = inspectModel(a.bytes);
    assert.deepEqual(back.outputs.map((o) => o.name), ['output_label', 'probabilities']);
    assert.deepEqual(back.outputs[1].shape, ['N', expected[f].classes!.length]);
    assert.deepEqual(back.nodes.map((n) => n.op), info.nodes.filter((n) => n.op !== 'ZipMap').map((n) => n.op));
    assert.deepEqual(back.nodes.map((n) => n.attrs), info.nodes.filter((n) => n.op !== 'ZipMap').map((n) => n.attrs), 'attributes (weights, labels) unchanged');
    assert.deepEqual(back.opsets, info.opsets);
    assert.equal(back.producer, info.producer);
    assert.equal(findZipMaps(back).length, 0);
    assert.deepEqual(a.zipmaps.map((z) => [z.input, z.output, z.labelType]), [['probabilities', 'output_probability', f === 'logreg' ? 'string' : 'int64']]);
    assert.deepEqual(graphClassLabels(info)?.labels, expected[f].classes);
    // the rewritten graph runs and its label output is the original's
    const s = await ort.InferenceSession.create(a.bytes);
    const x = new ort.Tensor('float32', new Float32Array(expected[f].features.length).fill(3), [1, expected[f].features.length]);
    const r = await s.run({ float_input: x });
    assert.equal(r.probabilities.dims[1], expected[f].classes!.length);
    const o = await (await ort.InferenceSession.create(bytes)).run({ float_input: x }, ['output_label']);
    assert.equal(String(r.output_label.data[0]), String(o.output_label.data[0]));
  }
  // nothing to adapt: the very same bytes come back
  const mlp = modelBytes('mlp');
  assert.equal(adaptModel(mlp).bytes, mlp);
});

/** Install a package with this card over this fixture's graph; returns the CLI's exit code and messages. */
async function addWith(name: string, f: Fixture, card: unknown): Promise<{ code: number; text: string }> {
  const dir = path.join(root, `bad-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.onnx'), modelBytes(f));
  fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card));
  const r = await runMain(['--home', path.join(root, 'bad-home'), 'models', 'add', dir, '--allow-unsigned']);
  return { code: r.code, text: r.err + r.out };
}

test('mapping and graph disagree: each message names the card field and the graph input, and says what to write', async () => {
  const feats = expected.logreg.features;
  // mismatched F: three features for four columns
  let r = await addWith('f3', 'logreg', handCard('logreg', { inputs: feats.slice(0, 3).map((name) => ({ name, type: 'float', nullable: false })), tensors: [{ input: 'float_input', features: feats.slice(0, 3) }] }));
  assert.equal(r.code, 1);
  assert.match(r.text, /card tensors\[0\] \(graph input "float_input"\): the card lists 3 features .* but the graph input has 4 columns \[\?, 4\]: list exactly 4 card inputs in "features"/);

  // no mapping at all (the card of a model with one input per feature): the hint lists the card's features
  const { tensors: _t, ...noMap } = handCard('logreg');
  r = await addWith('nomap', 'logreg', noMap);
  assert.equal(r.code, 1);
  assert.match(r.text, /card input "precipitation" is not an input of the graph \(graph inputs: float_input\)/);
  assert.match(r.text, /graph input "float_input" \[\?, 4\] is not described in the card: it takes 4 values per row; map card inputs onto its columns with "tensors": \[\{ "input": "float_input", "features": \["precipitation", "temp_max", "temp_min", "wind"\] \}\]/);

  // wrong dtype: a category feature cannot go into a float tensor
  r = await addWith('dtype', 'logreg', handCard('logreg', { inputs: [...feats.slice(0, 3).map((name) => ({ name, type: 'float' as const, nullable: false })), { name: 'wind', type: 'category', nullable: false, vocabulary: ['calm'] }], tensors: [{ input: 'float_input', features: feats.slice(0, 3) }, { input: 'float_input', features: ['wind'] }] }));
  assert.equal(r.code, 1);
  assert.match(r.text, /tensors\.1\.input: graph input "float_input" is mapped twice/);
  r = await addWith('dtype2', 'logreg', handCard('logreg', { inputs: [...feats.slice(0, 3).map((name) => ({ name, type: 'float' as const, nullable: false })), { name: 'wind', type: 'category', nullable: false, vocabulary: ['calm'] }] }));
  assert.equal(r.code, 1);
  assert.match(r.text, /tensors\.0\.features: "float_input" mixes category and numeric features/);
  r = await addWith('dtype3', 'logreg', handCard('logreg', { inputs: feats.map((name) => ({ name, type: 'category' as const, nullable: false, vocabulary: ['x'] })) }));
  assert.equal(r.code, 1);
  assert.match(r.text, /card tensors\[0\] \(graph input "float_input"\): feature "precipitation" has card type category, which cannot go into graph dtype float \(a float tensor takes float or int or bool features\)/);

  // a feature named twice, an unknown feature, an unknown graph input
  r = await addWith('twice', 'logreg', handCard('logreg', { tensors: [{ input: 'float_input', features: ['precipitation', 'temp_max', 'temp_min', 'precipitation'] }] }));
  assert.match(r.text, /tensors\.0\.features\.3: "precipitation" is already a column of "float_input"/);
  r = await addWith('unknown', 'logreg', handCard('logreg', { tensors: [{ input: 'float_input', features: ['precipitation', 'temp_max', 'temp_min', 'gust'] }] }));
  assert.match(r.text, /tensors\.0\.features\.3: "gust" is not a card input \(inputs: precipitation, temp_max, temp_min, wind\)/);
  r = await addWith('input', 'mlp', handCard('mlp', { tensors: [{ input: 'float_input', features: expected.mlp.features }] }));
  assert.match(r.text, /card tensors\[0\]\.input "float_input" is not an input of the graph \(graph inputs: input\)/);
});

test('ZipMap labels: string and int64 class labels must match the card, and an integer label output needs labelEncoding "class"', async () => {
  // string labels in another order than the ZipMap's (= the probability columns')
  let r = await addWith('order', 'logreg', handCard('logreg', { outputs: { label: 'output_label', probabilities: 'probabilities', classes: ['sun', 'rain', 'fog', 'drizzle', 'snow'] } }));
  assert.equal(r.code, 1);
  assert.match(r.text, /card outputs\.classes \["sun", "rain", "fog", "drizzle", "snow"\] differ from the graph's class labels \(ZipMap "ZipMap" classlabels_strings: \["drizzle", "fog", "rain", "snow", "sun"\]\); write "classes": \["drizzle", "fog", "rain", "snow", "sun"\]/);
  // int64 labels 1..5 named as words: not the graph's labels
  r = await addWith('intnames', 'forest', handCard('forest', { outputs: { label: 'output_label', probabilities: 'probabilities', classes: ['calm', 'light', 'gentle', 'moderate', 'fresh'], labelEncoding: 'class' } }));
  assert.equal(r.code, 1);
  assert.match(r.text, /differ from the graph's integer class labels \(ZipMap "ZipMap" classlabels_int64s: \[1, 2, 3, 4, 5\]\); write "classes": \["1", "2", "3", "4", "5"\]/);
  // int64 labels that are not positions 0..4, without labelEncoding
  r = await addWith('encoding', 'forest', handCard('forest', { outputs: { label: 'output_label', probabilities: 'probabilities', classes: ['1', '2', '3', '4', '5'] } }));
  assert.equal(r.code, 1);
  assert.match(r.text, /output "output_label" \(label\) holds the graph's integer class labels \[1, 2, 3, 4, 5\], not positions 0…4: write "labelEncoding": "class" in outputs/);
  // labelEncoding "class" on a string label output
  r = await addWith('strenc', 'logreg', handCard('logreg', { outputs: { label: 'output_label', probabilities: 'probabilities', classes: expected.logreg.classes, labelEncoding: 'class' } }));
  assert.match(r.text, /labelEncoding "class" is for integer label outputs/);
  // the ZipMap output itself named as probabilities
  r = await addWith('zipmap', 'logreg', handCard('logreg', { outputs: { label: 'output_label', probabilities: 'output_probability', classes: expected.logreg.classes } }));
  assert.equal(r.code, 1);
  assert.match(r.text, /card outputs\.probabilities names "output_probability", a sequence<map<string, float>> that ONNX Runtime for Node cannot return \(graph outputs it can: output_label, probabilities\)/);
});

test('scoring a mapped model: a missing column stops the run naming it; a bad cell rejects only its row', async () => {
  const { header, rows } = readCsv(HELD_OUT);
  const drop = header.indexOf('temp_min');
  const missing = path.join(root, 'no-temp-min.csv');
  fs.writeFileSync(missing, [header.filter((_, i) => i !== drop), ...rows.slice(0, 5).map((r) => r.filter((_, i) => i !== drop))].map((r) => r.join(',')).join('\n') + '\n');
  let r = await runMain(['--home', home, 'score', missing, '--model', 'byo-logreg', '--out', path.join(root, 'x.csv')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /missing required column "temp_min"/);

  const bad = path.join(root, 'bad-cell.csv');
  const t = header.indexOf('temp_max');
  fs.writeFileSync(bad, [header, ...rows.slice(0, 10).map((row, i) => (i === 3 ? row.map((c, k) => (k === t ? 'warm' : c)) : row))].map((x) => x.join(',')).join('\n') + '\n');
  const out = path.join(root, 'bad-cell.scored.csv');
  r = await runMain(['--home', home, 'score', bad, '--model', 'byo-logreg', '--out', out, '--max-reject-rate', '0.5']);
  assert.equal(r.code, 0, r.err);
  const scored = readScored(out);
  assert.deepEqual(scored.get('row'), ['1', '2', '3', '5', '6', '7', '8', '9', '10']);
  const rejects = fs.readFileSync(out.replace(/\.csv$/, '.rejects.csv'), 'utf8');
  assert.match(rejects, /4,temp_max,"cannot parse ""warm"" as a number",warm/);
  // the accepted rows scored exactly as in the full run (rows keep their own columns in the tensor)
  const full = readScored(path.join(root, 'logreg.scored.csv'));
  const fullByDate = new Map(full.get('date')!.map((d, i) => [d, full.get('p_rain')![i]]));
  scored.get('row')!.forEach((n, i) => assert.equal(scored.get('p_rain')![i], fullByDate.get(rows[Number(n) - 1][0])));
});

test('validateBatch builds one row-major [n, F] tensor for mapped features; the log splits it back per feature', () => {
  const batch: ColumnBatch = {
    firstRow: 1, length: 3, rowProblems: [], end: { offset: 0, row: 3 } as never,
    columns: [
      { kind: 'number', values: Float64Array.from([1, 2, 3]), status: Uint8Array.from([CellStatus.ok, CellStatus.ok, CellStatus.ok]) },
      { kind: 'number', values: Float64Array.from([10, NaN, 30]), status: Uint8Array.from([CellStatus.ok, CellStatus.missing, CellStatus.ok]) },
      { kind: 'string', values: ['true', 'no', 'yes'] },
    ],
  } as ColumnBatch;
  const inputs = [
    { name: 'a', type: 'float' as const, nullable: false },
    { name: 'b', type: 'float' as const, nullable: false },
    { name: 'c', type: 'bool' as const, nullable: false },
  ];
  const tensors = [{ input: 'x', features: ['c', 'a', 'b'] }];
  const v = validateBatch(batch, inputs, new Map([['x', 'float']]), new Map([['x', 2]]), tensors);
  assert.deepEqual([...v.accepted], [0, 2]);
  assert.deepEqual(Object.keys(v.feeds), ['x']);
  assert.deepEqual(v.feeds.x.dims, [2, 3]);
  assert.deepEqual([...(v.feeds.x.data as Float32Array)], [1, 1, 10, 1, 3, 30]);
  const d = validateBatch(batch, inputs, new Map([['x', 'double']]), new Map([['x', 2]]), tensors);
  assert.ok(d.feeds.x.data instanceof Float64Array);
  const logged = logInputColumns(v.feeds, Int32Array.from([1, 3]), 'all', 1, tensors)!;
  assert.deepEqual(logged.map((c) => c.name), ['#row', 'c', 'a', 'b']);
  assert.deepEqual([...(logged[2].values as Float32Array)], [1, 3]);
  assert.deepEqual([...(logged[3].values as Float32Array)], [10, 30]);
});

test('the device checks (model-file safety, card, smoke inference in a child process) pass for exporter layouts with a ZipMap', async () => {
  const { deviceChecks } = await import('../src/registry/node/pull.ts');
  for (const f of ['forest', 'mlp'] as const) {
    const dir = writePackage(path.join(root, `smoke-${f}`), handCard(f), modelBytes(f));
    const pkg = await deviceChecks(dir, { name: `byo-${f}`, version: 1 });
    assert.equal(pkg.card.tensors?.[0].input, f === 'mlp' ? 'input' : 'float_input');
  }
});
