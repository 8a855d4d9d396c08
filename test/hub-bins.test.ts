// Version bins (src/hub/node/bins.ts): a repository from before bins keeps working and moves to bins
// at its publisher's next publish (the same entries, nothing revoked on devices); a device fetches
// only the bins it needs; the hub refuses bins delegated to anyone but the team's own keys, bins
// signed by other keys, and requests that drop a bin.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TargetFile } from '@tufjs/models';
import { generateKeyFile } from '../src/keys/node/keys.ts';
import { binRoleName, binsOf, binsToResign, signBinned } from '../src/hub/node/bins.ts';
import { publishPackage, signPublisherTargets, submitSigned, type UploadFile } from '../src/hub/node/publish-client.ts';
import { addSeconds, parseTargets, parseUntrustedTargets } from '../src/hub/node/tuf-metadata.ts';
import { pull } from '../src/registry/node/pull.ts';
import { refreshMetadata } from '../src/registry/node/refresh.ts';
import { cardFor, makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';

let h: TestHub;
const work = tmpDir('outpost-bins-');
before(async () => { h = await startTestHub({ publishers: [{ name: 'churn-team', glob: 'churn*' }] }); });
after(async () => { await h.close(); fs.rmSync(work, { recursive: true, force: true }); });

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const team = () => h.publishers['churn-team'];
const me = async () => (await (await fetch(new URL('/api/v1/publishers/me', h.url), { headers: { authorization: `Bearer ${team().token}` } })).json()) as { metadata: unknown };
const publisherMd = async () => parseTargets((await h.hub.storage.latestMetadata('churn-team'))!.body);

/** Publish a version the way Outpost did before bins: every file a target of the publisher's own role. */
async function publishFlat(version: number) {
  const dir = makePackage(work, 'churn', version);
  const add: TargetFile[] = [];
  const files: UploadFile[] = [];
  for (const f of ['model.onnx', 'card.json']) {
    const bytes = fs.readFileSync(path.join(dir, f));
    add.push(new TargetFile({ path: `churn/${version}/${f}`, length: bytes.length, hashes: { sha256: sha(bytes) } }));
    files.push({ sha256: sha(bytes), label: f, bytes });
  }
  const m = await me();
  const md = signPublisherTargets(m.metadata ? parseUntrustedTargets(m.metadata) : undefined, add, [team().key], addSeconds(new Date(), 86_400));
  return submitSigned(h.url, team().token, md, files);
}

/** A device pull that records which metadata files it fetched. */
async function pullRecording(home: string, ref: string, root?: string) {
  const fetched: string[] = [];
  const r = await pull({
    home, hubUrl: h.url, ref, rootFile: root, smoke: false,
    fetch: (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.includes('/metadata/')) fetched.push(new URL(url).pathname.replace('/metadata/', ''));
      return fetch(input, init);
    }) as typeof fetch,
  });
  return { r, fetched };
}

test('a flat repository keeps working, moves to bins at the next publish, and devices see no change', async () => {
  await publishFlat(1);
  await publishFlat(2);
  assert.equal(binsOf(await publisherMd()).length, 0);
  const device = tmpDir('outpost-bins-dev-');
  const first = await pull({ home: device, hubUrl: h.url, ref: 'churn@1', rootFile: h.trustRoot, smoke: false });
  assert.equal(first.model.version, 1);
  assert.match(first.signedBy, /^churn-team /);

  // the next publish (this Outpost) moves churn@1 and @2 into their bin, unchanged, and adds @3
  const r3 = await publishPackage({ packageDir: makePackage(work, 'churn', 3), hubUrl: h.url, keys: [team().key], token: team().token, alias: 'production' });
  assert.deepEqual(r3.versions, [{ name: 'churn', version: 3 }], 'the moved versions are not new versions');
  const pmd = await publisherMd();
  assert.deepEqual(Object.keys(pmd.signed.targets), ['churn/aliases/production.json'], 'the publisher role keeps aliases (and yanks) only');
  const bin0 = binRoleName('churn-team', 'churn', 0);
  assert.deepEqual(binsOf(pmd).map((b) => b.name), [bin0]);
  const bin = parseTargets((await h.hub.storage.latestMetadata(bin0))!.body);
  assert.deepEqual(Object.keys(bin.signed.targets).sort(), ['churn/1/card.json', 'churn/1/model.onnx', 'churn/2/card.json', 'churn/2/model.onnx', 'churn/3/card.json', 'churn/3/model.onnx']);

  // the device that installed @1 from the flat role: still signed, not revoked
  const [refresh] = await refreshMetadata({ home: device });
  assert.deepEqual(refresh.models.map((m) => [m.version, m.status]), [[1, 'ok']]);
  const newest = await pull({ home: device, hubUrl: h.url, ref: 'churn:production', smoke: false });
  assert.equal(newest.model.version, 3);
  assert.match(newest.signedBy, /^churn-team /, 'a bin is reported as its team');
  // a fresh device pulls the migrated @1 from the bin
  const fresh = await pull({ home: tmpDir('outpost-bins-dev-'), hubUrl: h.url, ref: 'churn@1', rootFile: h.trustRoot, smoke: false });
  assert.equal(fresh.model.modelSha256, first.model.modelSha256);
});

test('a device fetches only the bins it needs: the newest for a bare name, the one of a named version', async () => {
  // churn@150 and @151 land in block 1
  for (const v of [150, 151]) await publishPackage({ packageDir: makePackage(work, 'churn', v), hubUrl: h.url, keys: [team().key], token: team().token });
  const bin0 = binRoleName('churn-team', 'churn', 0);
  const bin1 = binRoleName('churn-team', 'churn', 1);
  const a = await pullRecording(tmpDir('outpost-bins-dev-'), 'churn', h.trustRoot);
  assert.equal(a.r.model.version, 151);
  assert.ok(a.fetched.some((f) => f.endsWith(`.${bin1}.json`)), `fetched ${a.fetched.join(', ')}`);
  assert.ok(!a.fetched.some((f) => f.endsWith(`.${bin0}.json`)), 'the older block is not fetched');
  const b = await pullRecording(tmpDir('outpost-bins-dev-'), 'churn@2', h.trustRoot);
  assert.equal(b.r.model.version, 2);
  assert.ok(b.fetched.some((f) => f.endsWith(`.${bin0}.json`)) && !b.fetched.some((f) => f.endsWith(`.${bin1}.json`)), `fetched ${b.fetched.join(', ')}`);
  // a warm refresh after one more publish fetches the changed roles only
  const home = tmpDir('outpost-bins-dev-');
  await pull({ home, hubUrl: h.url, ref: 'churn@2', rootFile: h.trustRoot, smoke: false });
  await publishPackage({ packageDir: makePackage(work, 'churn', 152), hubUrl: h.url, keys: [team().key], token: team().token });
  const c = await pullRecording(home, 'churn@2');
  assert.ok(!c.fetched.some((f) => f.endsWith(`.${bin0}.json`)), `unchanged bin not fetched again (${c.fetched.join(', ')})`);
});

test('the hub refuses bins trusting other keys, bins signed by other keys, and dropped bins', async () => {
  const rogue = generateKeyFile(path.join(work, 'rogue.key'));
  const prev = parseUntrustedTargets((await me()).metadata);
  const card = Buffer.from(JSON.stringify(cardFor('churn', 160)));
  const model = fs.readFileSync(path.join(makePackage(work, 'churn', 160), 'model.onnx'));
  const add = [new TargetFile({ path: 'churn/160/card.json', length: card.length, hashes: { sha256: sha(card) } }), new TargetFile({ path: 'churn/160/model.onnx', length: model.length, hashes: { sha256: sha(model) } })];
  const post = async (body: unknown) => {
    const res = await fetch(new URL('/api/v1/uploads', h.url), { method: 'POST', headers: { authorization: `Bearer ${team().token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, message: ((await res.json()) as { error?: { message: string } }).error?.message ?? '' };
  };
  const current = async (plan: Parameters<typeof binsToResign>[0]) => {
    const m = new Map();
    for (const n of binsToResign(plan)) m.set(n, parseUntrustedTargets(await (await fetch(new URL(`/metadata/${n}.json`, h.url))).json()));
    return m;
  };
  const asBody = (s: ReturnType<typeof signBinned>) => ({ metadata: s.publisher.toJSON(), bins: s.bins.map((b) => ({ name: b.name, metadata: b.metadata.toJSON() })) });
  const expires = addSeconds(new Date(), 86_400);

  // the team's key signs the publisher role, but the bins trust the rogue key too
  const ok = { publisher: 'churn-team', prev, add, keys: [team().key], threshold: 1, expires };
  const plan = { ...ok, keys: [team().key, rogue] };
  const cur = await current(plan); // every bin: new keys re-sign them all
  const widened = await post(asBody(signBinned({ ...plan, prevBin: (n) => cur.get(n) })));
  assert.equal(widened.status, 422);
  assert.match(widened.message, /trusts keys that are not publisher "churn-team"'s/);

  // the delegation is right, but the new bin is signed by the rogue key alone
  const good = signBinned({ ...ok, prevBin: (n) => cur.get(n) });
  const forged = signBinned({ ...ok, keys: [rogue], prevBin: (n) => cur.get(n) });
  const mixed = { metadata: good.publisher.toJSON(), bins: forged.bins.map((b) => ({ name: b.name, metadata: b.metadata.toJSON() })) };
  const r2 = await post(mixed);
  assert.equal(r2.status, 422);
  assert.match(r2.message, /bin churn-team-[0-9a-f]+ refused/);

  // a publisher role that leaves out an existing bin
  const dropped = signBinned({ publisher: 'churn-team', prev: undefined, add, keys: [team().key], threshold: 1, expires, version: prev.signed.version + 1, prevBin: () => undefined });
  const r3 = await post(asBody(dropped));
  assert.equal(r3.status, 422);
  assert.match(r3.message, /drops version bin|cannot be removed/);

  // and the honest request goes through
  const real = await post(asBody(signBinned({ ...ok, prevBin: (n) => cur.get(n) })));
  assert.equal(real.status, 201, real.message);
});
