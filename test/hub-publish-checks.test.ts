// Issue 10: a publisher runs the checks every device runs (model-file safety, card/graph agreement,
// smoke inference in a child process) before signing, so a package all devices would refuse is
// never signed or uploaded.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { encodeModel } from '../src/onnx/common/onnx.ts';
import { runMain as run } from './helpers/cli.ts';
import { logisticGraph, makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { rewriteInitializers } from './helpers/hub-onnx.ts';

let h: TestHub;
const work = tmpDir('outpost-pubchk-');
before(async () => { h = await startTestHub(); });
after(async () => { await h.close(); fs.rmSync(work, { recursive: true, force: true }); });

const publish = (dir: string, extra: string[] = []) => run(['publish', dir, '--hub', h.url, '--key', h.publishers['churn-team'].key.file, '--home', path.join(work, 'home'), ...extra], { env: { OUTPOST_PUBLISH_TOKEN: h.publishers['churn-team'].token } });
const published = async () => ((await (await fetch(new URL('/api/v1/models', h.url))).json()) as { models: { name: string }[] }).models.map((m) => m.name);

test('publish refuses, before signing, what every device would refuse: unsafe model files and failing smoke inference', async () => {
  const outside = makePackage(work, 'churnext', 1, { model: rewriteInitializers(encodeModel(logisticGraph()), [{ name: 'W', dims: [2, 2], external: { location: '../../etc/passwd', offset: '0', length: '16' } }]) });
  const r1 = await publish(outside);
  assert.equal(r1.code, 1);
  assert.match(r1.err, /not signed: every device would refuse this package at its model-safety check: .*external data location "\.\.\/\.\.\/etc\/passwd" contains "\.\."/);

  const broken = makePackage(work, 'churnsmoke', 1, { model: encodeModel(logisticGraph([1, 1], { initializers: [{ name: 'W', type: 'float', dims: [3, 2], data: [1, 2, 3, 4, 5, 6] }, { name: 'B', type: 'float', dims: [2], data: [0, 0] }] })) });
  const r2 = await publish(broken);
  assert.equal(r2.code, 1);
  assert.match(r2.err, /not signed: every device would refuse this package at its smoke check: smoke inference on one row of zeros/);
  assert.deepEqual(await published(), [], 'nothing was signed or uploaded');
  assert.deepEqual(fs.readdirSync(path.join(h.dir, 'blobs', 'sha256')), []);

  const good = await publish(makePackage(work, 'churn', 1));
  assert.equal(good.code, 0, good.err);
  assert.deepEqual(await published(), ['churn']);
});
