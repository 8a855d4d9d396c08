// The bundled demo package (models/demo): the committed files are exactly what the build script
// produces, the card is valid and agrees with the graph, and the model beats the majority-class
// baseline on the held-out year when run by ONNX Runtime on the committed sample file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { buildDemo, parseWeatherCsv, seasonOf } from '../models/build-demo.ts';
import { OutpostError } from '../src/common/errors.ts';
import { inspectModel } from '../src/onnx/common/onnx.ts';
import type { Card } from '../src/package/common/card.ts';
import { parseCard } from '../src/package/common/card.ts';

const root = path.join(import.meta.dirname, '..');
const demo = path.join(root, 'models', 'demo');
const FILES = ['weather/model.onnx', 'weather/card.json', 'weather-2015.csv'];

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function committedCard(): Card {
  const parsed = parseCard(JSON.parse(fs.readFileSync(path.join(demo, 'weather', 'card.json'), 'utf8')));
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
  return parsed.card;
}

describe('demo package', () => {
  it('the committed files equal what `node models/build-demo.ts OUT_DIR` writes', () => {
    const out = path.join(tmp, 'rebuilt');
    const stdout = execFileSync(process.execPath, [path.join(root, 'models', 'build-demo.ts'), out], { encoding: 'utf8' });
    assert.match(stdout, /held-out 2015 accuracy/);
    for (const f of FILES) {
      const want = fs.readFileSync(path.join(demo, f));
      const got = fs.readFileSync(path.join(out, f));
      assert.ok(want.equals(got), `${f} differs from a fresh build: run \`npm run build:models\` and commit the result`);
    }
    assert.deepEqual(fs.readdirSync(path.join(out, 'weather')).sort(), ['card.json', 'model.onnx'], 'no temp files left behind');
  });

  it('the card is valid and its inputs and outputs agree with the graph', () => {
    const card = committedCard();
    assert.equal(card.name, 'seattle-weather');
    assert.equal(card.version, 1);
    const info = inspectModel(fs.readFileSync(path.join(demo, 'weather', 'model.onnx')));
    assert.deepEqual(info.inputs, card.inputs.map((f) => ({ name: f.name, type: f.type === 'category' ? 'string' : 'float', shape: ['N', 1] })));
    assert.deepEqual(info.outputs.map((o) => o.name), [card.outputs.probabilities, card.outputs.label]);
    assert.deepEqual(info.outputs[0].shape, ['N', card.outputs.classes!.length]);
    assert.match(card.lineage?.trainingDataHash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(card.lineage?.createdAt, '2014-12-31T00:00:00.000Z');
    for (const k of ['heldOutAccuracy', 'heldOutLogLoss', 'trainAccuracy', 'majorityBaselineAccuracy']) assert.equal(typeof card.metrics?.[k], 'number', k);
  });

  it('scored by ONNX Runtime on the committed 2015 sample, it beats every constant-class baseline and matches the card', async () => {
    const card = committedCard();
    const lines = fs.readFileSync(path.join(demo, 'weather-2015.csv'), 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    assert.equal(header[0], 'date');
    for (const f of card.inputs) assert.ok(header.includes(f.name), `sample has column ${f.name}`);
    const cells = lines.slice(1).map((l) => l.split(','));
    assert.equal(cells.length, 365);
    const col = (name: string) => cells.map((c) => c[header.indexOf(name)]);
    assert.ok(cells.every((c) => c[0].startsWith('2015-')));
    assert.deepEqual(col('season'), col('date').map(seasonOf));

    const feeds: Record<string, ort.Tensor> = {};
    for (const f of card.inputs) {
      feeds[f.name] = f.type === 'category'
        ? new ort.Tensor('string', col(f.name), [cells.length, 1])
        : new ort.Tensor('float32', Float32Array.from(col(f.name), Number), [cells.length, 1]);
    }
    const session = await ort.InferenceSession.create(fs.readFileSync(path.join(demo, 'weather', 'model.onnx')));
    const r = await session.run(feeds);
    await session.release();
    const classes = card.outputs.classes!;
    const predicted = Array.from(r.label.data as BigInt64Array, (k) => classes[Number(k)]);
    const truth = col('weather');
    const acc = predicted.filter((p, i) => p === truth[i]).length / truth.length;
    const bestConstant = Math.max(...classes.map((c) => truth.filter((t) => t === c).length / truth.length));
    assert.ok(acc > bestConstant + 0.2, `accuracy ${acc} vs best constant ${bestConstant}`);
    assert.ok(acc > card.metrics!.majorityBaselineAccuracy);
    assert.ok(Math.abs(acc - card.metrics!.heldOutAccuracy) <= 1 / 365 + 1e-12, `ONNX ${acc} vs card ${card.metrics!.heldOutAccuracy}`);
  });
});

describe('demo build input errors', () => {
  const header = 'date,precipitation,temp_max,temp_min,wind,weather';
  const fails = (text: string, row: number, field?: string) => assert.throws(() => parseWeatherCsv(text, 'w.csv'), (e) => {
    assert.ok(e instanceof OutpostError && e.code === 'input');
    assert.deepEqual(e.location, { file: 'w.csv', row, ...(field ? { field } : {}) });
    return true;
  });

  it('names the file, row and field of bad input', () => {
    fails('date,precip\n2012-01-01,1\n', 0);
    fails(`${header}\n2012-01-01,0.0,12.8,5.0,4.7,drizzle\n2012-01-02,1,2,3,rain\n`, 2);
    fails(`${header}\n2012-01-01,0.0,12.8,,4.7,drizzle\n`, 1, 'temp_min');
    fails(`${header}\n2012-01-01,0.0,12.8,5.0,fast,drizzle\n`, 1, 'wind');
    fails(`${header}\n01/02/2012,0.0,12.8,5.0,4.7,drizzle\n`, 1, 'date');
    assert.equal(parseWeatherCsv(`${header}\r\n2012-01-01,0.0,12.8,5.0,4.7,drizzle\r\n`, 'w.csv').length, 1);
  });

  it('refuses data without a held-out year and writes nothing', () => {
    const csv = path.join(tmp, 'short.csv');
    fs.writeFileSync(csv, `${header}\n2012-01-01,0.0,12.8,5.0,4.7,drizzle\n2012-01-02,10.9,10.6,2.8,4.5,rain\n`);
    const out = path.join(tmp, 'nothing');
    assert.throws(() => buildDemo(out, csv), (e) => e instanceof OutpostError && e.code === 'input' && e.location.file === csv);
    assert.equal(fs.existsSync(out), false);
  });

  it('maps months to meteorological seasons', () => {
    assert.deepEqual(['2015-12-01', '2015-01-31', '2015-02-28', '2015-03-01', '2015-06-15', '2015-09-30', '2015-11-30'].map(seasonOf), ['winter', 'winter', 'winter', 'spring', 'summer', 'autumn', 'autumn']);
  });
});
