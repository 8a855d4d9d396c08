// Issue 10, the device side of pulling: downloads time out on idleness, not total time, and resume
// across retries; one pull at a time per device; an installed name remembers its hub; a modified
// installed file is repaired with a verified copy.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { OutpostError } from '../src/common/errors.ts';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { PullUnavailable } from '../src/registry/node/errors.ts';
import { pull } from '../src/registry/node/pull.ts';
import { verifyModels } from '../src/registry/node/verify.ts';
import { getModel } from '../src/store/node/models.ts';
import { openStore } from '../src/store/node/store.ts';
import { runMain as run } from './helpers/cli.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { startProxy, type Proxy } from './helpers/hub-proxy.ts';

let a: TestHub;
let b: TestHub;
const work = tmpDir('outpost-devpull-');
const proxies: Proxy[] = [];
after(async () => {
  for (const p of proxies) await p.close();
  await a.close();
  await b.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const publishTo = (h: TestHub, name: string, version: number, weights?: [number, number]) =>
  publishPackage({ packageDir: makePackage(work, name, version, { weights }), hubUrl: h.url, keys: [h.publishers['churn-team'].key], token: h.publishers['churn-team'].token });
const isModel = (p: string) => /\/[0-9a-f]{64}\.model\.onnx$/.test(p);
let homes = 0;
const newHome = () => path.join(work, `home-${++homes}`);

before(async () => {
  a = await startTestHub();
  b = await startTestHub();
  for (const v of [1, 2]) await publishTo(a, 'churn', v);
  await publishTo(b, 'churn', 5, [9, 9]);
});

async function proxyTo(h: TestHub) {
  const p = await startProxy(h.url);
  proxies.push(p);
  return p;
}

test('downloads time out on idleness, not total time, and resume across retries', async () => {
  const proxy = await proxyTo(a);
  const home = newHome();
  // slower in total than the idle limit, but a byte every 60 ms: completes
  proxy.hook = (p) => (isModel(p) ? { kind: 'drip', chunk: 40, everyMs: 60 } : undefined);
  const t0 = Date.now();
  const r = await pull({ home, hubUrl: proxy.url, ref: 'churn@1', rootFile: a.trustRoot, smoke: false, idleTimeoutMs: 250 });
  assert.equal(r.model.version, 1);
  assert.ok(Date.now() - t0 > 250, 'the transfer took longer than the idle limit and still completed');
  // a connection that goes silent is dropped after the idle limit; the retry resumes where it stopped
  let stalls = 0;
  proxy.hook = (p, _up, range) => (isModel(p) && !range && stalls++ === 0 ? { kind: 'drip', chunk: 50, everyMs: 10, stallAfter: 100 } : undefined);
  const ranges: (string | undefined)[] = [];
  const r2 = await pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false, idleTimeoutMs: 300, onRequest: (f, range) => { if (f === 'model.onnx') ranges.push(range); } });
  assert.equal(r2.model.version, 2);
  assert.deepEqual(ranges, [undefined, 'bytes=100-']);
  // silent every time: given up after the retries, the partial file kept for the next run, not a security event
  proxy.hook = (p) => (isModel(p) ? { kind: 'drip', chunk: 30, everyMs: 10, stallAfter: 30 } : undefined);
  await assert.rejects(pull({ home: newHome(), hubUrl: proxy.url, ref: 'churn@2', rootFile: a.trustRoot, smoke: false, idleTimeoutMs: 200 }), (e: unknown) => e instanceof PullUnavailable && /interrupted \(no data for 0\.2 s\) after \d+ of \d+ bytes; run the pull again to resume/.test(e.message));
});

test('one pull at a time per device; a lock left by a dead process is taken over', async () => {
  const proxy = await proxyTo(a);
  const home = newHome();
  await pull({ home, hubUrl: proxy.url, ref: 'churn@1', rootFile: a.trustRoot, smoke: false });
  proxy.hook = (p) => (isModel(p) ? { kind: 'drip', chunk: 100, everyMs: 50 } : undefined);
  const results = await Promise.allSettled([pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false })]);
  const refused = results.filter((x) => x.status === 'rejected');
  assert.equal(refused.length, 1);
  assert.match(String((refused[0] as PromiseRejectedResult).reason), /another pull is running on this device \(pull churn@2/);
  assert.ok(!fs.existsSync(path.join(home, 'pull.lock')), 'released after the pull');
  fs.writeFileSync(path.join(home, 'pull.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, since: 'long ago', token: 'x', what: 'pull' }));
  proxy.hook = () => undefined;
  assert.equal((await pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false })).alreadyInstalled, true);
});

test('a name installed from one hub is refused from another unless the user says which wins', async () => {
  const [pa, pb] = [await proxyTo(a), await proxyTo(b)];
  const home = newHome();
  await pull({ home, hubUrl: pa.url, ref: 'churn@2', rootFile: a.trustRoot, smoke: false });
  await assert.rejects(pull({ home, hubUrl: pb.url, ref: 'churn', rootFile: b.trustRoot, smoke: false }), (e: unknown) => e instanceof OutpostError && e.code === 'conflict'
    && e.message.includes(`"churn" is installed from hub ${pa.url} (version 2); ${pb.url} is another source for that name. Pass --switch-hub`));
  const cli = await run(['pull', 'churn', '--hub', pb.url, '--switch-hub', '--home', home, '--json']);
  assert.equal(cli.code, 0, cli.err);
  const store = openStore(home);
  try {
    const active = getModel(store, 'churn');
    assert.equal(active.version, 5);
    assert.equal(active.origin, pb.url, 'the installed version remembers its hub');
    assert.equal(getModel(store, 'churn@2').origin, pa.url);
  } finally {
    store.close();
  }
  // a local unsigned package of the same name is another source too
  const local = newHome();
  assert.equal((await run(['models', 'add', makePackage(work, 'churn', 7), '--allow-unsigned', '--home', local])).code, 0);
  await assert.rejects(pull({ home: local, hubUrl: pa.url, ref: 'churn@1', rootFile: a.trustRoot, smoke: false }), /installed from local folder .*\(unsigned\)/);
});

test('pull --repair replaces a modified installed file with a verified copy', async () => {
  const proxy = await proxyTo(a);
  const home = newHome();
  await pull({ home, hubUrl: proxy.url, ref: 'churn@1', rootFile: a.trustRoot, smoke: false });
  const store = openStore(home);
  const m = getModel(store, 'churn@1');
  store.close();
  const f = path.join(m.dir, 'model.onnx');
  const good = fs.readFileSync(f);
  const bad = Buffer.from(good);
  bad[bad.length - 3] ^= 1;
  fs.writeFileSync(f, bad);
  const refused = await run(['pull', 'churn@1', '--hub', proxy.url, '--home', home]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /modified on disk.*--repair` replaces it with a verified copy/);
  const fixed = await run(['pull', 'churn@1', '--hub', proxy.url, '--repair', '--home', home]);
  assert.equal(fixed.code, 0, fixed.err);
  assert.match(fixed.out, /churn@1 repaired: its modified files were replaced with verified copies/);
  assert.deepEqual(fs.readFileSync(f), good);
  const s2 = openStore(home);
  try {
    assert.deepEqual(verifyModels(s2).flatMap((x) => x.problems), []);
    assert.deepEqual((s2.db.prepare("SELECT kind FROM model_events WHERE kind = 'repair'").all() as { kind: string }[]).length, 1);
  } finally {
    s2.close();
  }
});
