// Attacks on the pull path (issue 5). Each one: the pull is refused, the running version stays
// active, and a security event is recorded. A proxy between device and hub plays the network
// attacker / compromised hub (it holds the hub's ONLINE keys, never a publisher's or the root's).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Metadata, Snapshot, Timestamp, TargetFile, type Targets } from '@tufjs/models';
import { OutpostError } from '../src/common/errors.ts';
import { generateKeyFile, signerFor, type PrivateKeyHandle } from '../src/keys/node/keys.ts';
import { publishPackage, signPublisherTargets, submitSigned } from '../src/hub/node/publish-client.ts';
import { addSeconds, metaFileFor, parseRoot, parseSnapshot, parseTargets, parseTimestamp, serialize, SPEC_VERSION, tufTime } from '../src/hub/node/tuf-metadata.ts';
import { encodeModel } from '../src/onnx/common/onnx.ts';
import { PullRefused, PullUnavailable } from '../src/registry/node/errors.ts';
import { checkServable, pull } from '../src/registry/node/pull.ts';
import { trustPaths } from '../src/registry/node/trust.ts';
import { verifyModels } from '../src/registry/node/verify.ts';
import { getModel } from '../src/store/node/models.ts';
import { openStore } from '../src/store/node/store.ts';
import { logisticGraph, makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { rewriteInitializers } from './helpers/hub-onnx.ts';
import { startProxy, type Proxy } from './helpers/hub-proxy.ts';

type Hub = TestHub & { extraKeys: Record<string, PrivateKeyHandle[]> };
let h: Hub;
let firstTimestamp: string;
const work = tmpDir('outpost-adv-');
const proxies: Proxy[] = [];

async function publishAs(team: string, name: string, version: number, opts: { alias?: string; model?: Uint8Array } = {}) {
  const p = h.publishers[team];
  const keys = team === 'fraud-team' ? [p.key, ...h.extraKeys['fraud-team']] : [p.key];
  // a hostile or careless publisher skips the checks `outpost publish` runs before signing
  return publishPackage({ packageDir: makePackage(work, name, version, { model: opts.model }), hubUrl: h.url, keys, token: p.token, alias: opts.alias, checks: 'none' });
}

before(async () => {
  h = await startTestHub({ publishers: [{ name: 'churn-team', glob: 'churn*' }, { name: 'fraud-team', glob: 'fraud', threshold: 2, extraKeys: 1 }] });
  firstTimestamp = (await h.hub.storage.latestMetadata('timestamp'))!.body;
  await publishAs('churn-team', 'churn', 1, { alias: 'production' });
  await publishAs('churn-team', 'churn', 2);
  await publishAs('fraud-team', 'fraud', 1);
});
after(async () => {
  for (const p of proxies) await p.close();
  await h.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** A device with churn@1 running, talking to the hub through a fresh proxy. */
async function device(opts: { baseline?: boolean } = {}) {
  const proxy = await startProxy(h.url);
  proxies.push(proxy);
  const home = tmpDir('outpost-dev-');
  if (opts.baseline !== false) {
    const r = await pull({ home, hubUrl: proxy.url, ref: 'churn@1', rootFile: h.trustRoot, smoke: false });
    assert.equal(r.model.version, 1);
  }
  return { proxy, home };
}

function state(home: string, name = 'churn') {
  const store = openStore(home);
  try {
    const active = store.db.prepare('SELECT version FROM active_models WHERE name = ?').get(name) as { version: number } | undefined;
    const installed = (store.db.prepare('SELECT version FROM models WHERE name = ? ORDER BY version').all(name) as { version: number }[]).map((r) => r.version);
    const events = store.db.prepare('SELECT kind, model, detail FROM security_events ORDER BY id').all() as { kind: string; model: string; detail: string }[];
    return { active: active?.version, installed, events };
  } finally {
    store.close();
  }
}

/** Refused at `stage`, message matching `why`, running version untouched, event recorded. */
async function expectRefused(home: string, attempt: Promise<unknown>, stage: string, why: RegExp, name = 'churn', active: number | null = 1) {
  const before = state(home, name);
  await assert.rejects(attempt, (e: unknown) => {
    assert.ok(e instanceof PullRefused, `expected a refusal, got ${(e as Error)?.stack ?? String(e)}`);
    assert.equal(e.stage, stage, e.message);
    assert.match(e.message, why);
    return true;
  });
  const after = state(home, name);
  assert.equal(after.active ?? null, active, 'the running version is untouched');
  assert.equal(state(home).active, 1, 'churn@1 keeps running');
  assert.deepEqual(after.installed, before.installed, 'nothing new installed');
  assert.equal(after.events.length, before.events.length + 1, 'one security event recorded');
  assert.equal(after.events.at(-1)?.kind, `pull-refused:${stage}`);
}

/** What a compromised hub can do with the online keys: new snapshot + timestamp over forged roles. */
async function forge(roles: Metadata<Targets>[], names: string[], opts: { timestampExpires?: Date } = {}): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const snapRow = (await h.hub.storage.latestMetadata('snapshot'))!;
  const tsRow = (await h.hub.storage.latestMetadata('timestamp'))!;
  const meta = { ...parseSnapshot(snapRow.body).signed.meta };
  roles.forEach((md, i) => {
    const body = serialize(md);
    meta[`${names[i]}.json`] = metaFileFor(body, md.signed.version);
    files.set(`/metadata/${md.signed.version}.${names[i]}.json`, body);
  });
  const snap = new Metadata(new Snapshot({ version: snapRow.version + 1, specVersion: SPEC_VERSION, expires: tufTime(addSeconds(new Date(), 86_400)), meta }));
  const root = parseRoot((await h.hub.storage.latestMetadata('root'))!.body);
  snap.sign(signerFor(h.hub.keys.for(root, 'snapshot')));
  const snapBody = serialize(snap);
  files.set(`/metadata/${snapRow.version + 1}.snapshot.json`, snapBody);
  const ts = new Metadata(new Timestamp({ version: tsRow.version + 1, specVersion: SPEC_VERSION, expires: tufTime(opts.timestampExpires ?? addSeconds(new Date(), 86_400)), snapshotMeta: metaFileFor(snapBody, snapRow.version + 1) }));
  ts.sign(signerFor(h.hub.keys.for(root, 'timestamp')));
  files.set('/metadata/timestamp.json', serialize(ts));
  return files;
}

const serveFiles = (proxy: Proxy, files: Map<string, string>) => {
  proxy.hook = (p) => (files.has(p) ? { kind: 'respond', body: Buffer.from(files.get(p)!), headers: { 'content-type': 'application/json' } } : undefined);
};

async function currentRole(role: string): Promise<Metadata<Targets>> {
  return parseTargets((await h.hub.storage.latestMetadata(role))!.body);
}

const tf = (p: string, content: string) => new TargetFile({ path: p, length: Buffer.byteLength(content), hashes: { sha256: crypto.createHash('sha256').update(content).digest('hex') } });

const isModelOf = (name: string, version: number) => (p: string) => new RegExp(`^/targets/${name}/${version}/[0-9a-f]{64}\\.model\\.onnx$`).test(p);

test('baseline: a verified pull installs with signer and provenance, smoke inference included', async () => {
  const { proxy, home } = await device({ baseline: false });
  const r = await pull({ home, hubUrl: proxy.url, ref: 'churn:production', rootFile: h.trustRoot });
  assert.equal(r.model.version, 1);
  assert.match(r.signedBy, /^churn-team \([0-9a-f]{16}\)$/);
  assert.equal(r.model.source, 'hub');
  assert.equal(r.model.origin, proxy.url);
  const r2 = await pull({ home, hubUrl: proxy.url, ref: 'churn' });
  assert.equal(r2.model.version, 2, 'no selector: the latest version');
  assert.equal(r2.previousActive, 1);
  assert.equal(state(home).active, 2);
  assert.deepEqual(state(home).events, []);
});

test('tampered blob of the same length is refused', async () => {
  const { proxy, home } = await device();
  proxy.hook = async (p, up) => {
    if (!isModelOf('churn', 2)(p)) return undefined;
    const u = await up();
    const body = Buffer.from(u.body);
    body[body.length - 5] ^= 0xff;
    return { kind: 'respond', body };
  };
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), 'verify', /not the ones the publisher signed/);
});

test('a longer blob and an endless blob are cut off at the signed length and refused', async () => {
  const { proxy, home } = await device();
  proxy.hook = async (p, up) => (isModelOf('churn', 2)(p) ? { kind: 'respond', body: Buffer.concat([(await up()).body, Buffer.from('trailing')]) } : undefined);
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), 'download', /more than the \d+ bytes/);
  proxy.hook = (p) => (isModelOf('churn', 2)(p) ? { kind: 'endless' } : undefined);
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), 'download', /endless or substituted/);
});

test('endless metadata (timestamp, snapshot) is cut off at its length bound and refused', async () => {
  const { proxy, home } = await device();
  proxy.hook = (p) => (p === '/metadata/timestamp.json' ? { kind: 'endless' } : undefined);
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), 'metadata', /Max length reached/);
  proxy.hook = (p) => (/^\/metadata\/\d+\.snapshot\.json$/.test(p) ? { kind: 'endless' } : undefined);
  await publishAs('churn-team', 'churnendless', 1); // a new snapshot for the device to fetch
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), 'metadata', /Max length reached/);
  proxy.hook = () => undefined;
  const r = await pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false });
  assert.equal(r.model.version, 2);
});

test('a replayed old timestamp is refused (rollback of the repository)', async () => {
  const { proxy, home } = await device();
  proxy.hook = (p) => (p === '/metadata/timestamp.json' ? { kind: 'respond', body: Buffer.from(firstTimestamp) } : undefined);
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), 'metadata', /less than current version/);
});

test('a replayed old snapshot is refused', async () => {
  const { proxy, home } = await device();
  const oldSnapshot = (await h.hub.storage.metadata('snapshot', 2))!.body;
  await publishAs('churn-team', 'churnsnap', 1); // the hub moves on: the device must fetch a new snapshot
  proxy.hook = (p) => (/^\/metadata\/\d+\.snapshot\.json$/.test(p) ? { kind: 'respond', body: Buffer.from(oldSnapshot) } : undefined);
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), 'metadata', /snapshot/i);
});

test('mix-and-match: an older targets file served under the current snapshot is refused', async () => {
  const { proxy, home } = await device();
  const oldRole = (await h.hub.storage.metadata('churn-team', 1))!.body;
  await publishAs('churn-team', 'churnmix', 1);
  proxy.hook = (p) => (/^\/metadata\/\d+\.churn-team\.json$/.test(p) ? { kind: 'respond', body: Buffer.from(oldRole) } : undefined);
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), 'metadata', /hash|length|version/i);
});

test('expired metadata (freeze attack with the online timestamp key) is refused', async () => {
  const { proxy, home } = await device();
  serveFiles(proxy, await forge([], [], { timestampExpires: new Date(Date.now() - 3600_000) }));
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), 'metadata', /expired/);
});

test('a compromised hub cannot forge a model: targets signed by a key the delegation does not list', async () => {
  const { proxy, home } = await device();
  const attacker = generateKeyFile(path.join(work, 'attacker.key'));
  const cur = await currentRole('churn-team');
  const forged = signPublisherTargets(cur, [tf('churn/9/model.onnx', 'evil'), tf('churn/9/card.json', '{}')], [attacker], addSeconds(new Date(), 86_400));
  serveFiles(proxy, await forge([forged], ['churn-team']));
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@9', smoke: false }), 'metadata', /signed by 0\/1 keys/);
});

test('targets signed below the delegation threshold (1 of 2) are refused', async () => {
  const { proxy, home } = await device();
  const cur = await currentRole('fraud-team');
  const forged = signPublisherTargets(cur, [tf('fraud/9/model.onnx', 'evil'), tf('fraud/9/card.json', '{}')], [h.publishers['fraud-team'].key], addSeconds(new Date(), 86_400));
  serveFiles(proxy, await forge([forged], ['fraud-team']));
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'fraud@9', smoke: false }), 'metadata', /signed by 1\/2 keys/, 'fraud', null);
});

test('team churn* signing a fraud target gets nowhere: the device only trusts fraud-team for fraud', async () => {
  const { proxy, home } = await device();
  const cur = await currentRole('churn-team');
  const forged = signPublisherTargets(cur, [tf('fraud/9/model.onnx', 'evil'), tf('fraud/9/card.json', '{}')], [h.publishers['churn-team'].key], addSeconds(new Date(), 86_400));
  serveFiles(proxy, await forge([forged], ['churn-team']));
  await assert.rejects(pull({ home, hubUrl: proxy.url, ref: 'fraud@9', smoke: false }), (e: unknown) => e instanceof OutpostError && e.code === 'not-found' && /fraud@9 is not published \(published: 1\)/.test(e.message));
  assert.deepEqual(state(home, 'fraud').installed, []);
});

test('an alias pointing below the installed version is a rollback attempt and is refused', async () => {
  await publishAs('churn-team', 'churnx', 1);
  await publishAs('churn-team', 'churnx', 2, { alias: 'production' });
  const { proxy, home } = await device();
  assert.equal((await pull({ home, hubUrl: proxy.url, ref: 'churnx:production', smoke: false })).model.version, 2);
  // the alias moves back to 1 (validly signed by the publisher — or its stolen key)
  const p = h.publishers['churn-team'];
  const cur = await currentRole('churn-team');
  const doc = JSON.stringify({ name: 'churnx', alias: 'production', version: 1 });
  const sha = crypto.createHash('sha256').update(doc).digest('hex');
  const md = signPublisherTargets(cur, [tf('churnx/aliases/production.json', doc)], [p.key], addSeconds(new Date(), 86_400));
  await submitSigned(h.url, p.token, md, [{ sha256: sha, label: 'alias', bytes: Buffer.from(doc) }]);
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churnx:production', smoke: false }), 'alias', /rollback attempt/, 'churnx', 2);
});

test('a package with an extra or a missing file is refused', async () => {
  const { proxy, home } = await device();
  const p = h.publishers['churn-team'];
  const cur = await currentRole('churn-team');
  const extra = signPublisherTargets(cur, [tf('churn/30/model.onnx', 'm'), tf('churn/30/card.json', 'c'), tf('churn/30/run.sh', 'rm -rf /')], [p.key], addSeconds(new Date(), 86_400));
  serveFiles(proxy, await forge([extra], ['churn-team']));
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@30', smoke: false }), 'package-files', /extra file\(s\) run\.sh/);

  const { proxy: proxy2, home: home2 } = await device();
  const missing = signPublisherTargets(cur, [tf('churn/30/model.onnx', 'm')], [p.key], addSeconds(new Date(), 86_400));
  serveFiles(proxy2, await forge([missing], ['churn-team']));
  await expectRefused(home2, pull({ home: home2, hubUrl: proxy2.url, ref: 'churn@30', smoke: false }), 'package-files', /missing card\.json/);
});

test('path traversal: in signed target names (refused) and in what a user types (usage error)', async () => {
  const { proxy, home } = await device();
  const p = h.publishers['churn-team'];
  const cur = await currentRole('churn-team');
  const evil = signPublisherTargets(cur, [tf('churn/2/../../../../etc/cron.d/x', 'x')], [p.key], addSeconds(new Date(), 86_400));
  serveFiles(proxy, await forge([evil], ['churn-team']));
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), 'package-files', /unsafe target paths.*contains "\.\."/);
  for (const ref of ['../churn', 'churn@../1', '/etc/passwd', 'churn%2e%2e', 'churn\0', 'churn:../prod']) {
    await assert.rejects(pull({ home, hubUrl: proxy.url, ref, smoke: false }), (e: unknown) => e instanceof OutpostError && e.code === 'usage', JSON.stringify(ref));
  }
  assert.equal(state(home).active, 1);
});

test('a symlink planted where the download goes is not followed', async () => {
  const { proxy, home } = await device();
  const victim = path.join(work, 'victim.txt');
  fs.writeFileSync(victim, 'precious');
  const q = path.join(trustPaths(home, proxy.url).quarantine, 'churn-2');
  fs.mkdirSync(q, { recursive: true });
  fs.symlinkSync(victim, path.join(q, 'model.onnx.part'));
  const r = await pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false });
  assert.equal(r.model.version, 2);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
});

test('ONNX external data pointing outside the package is refused', async () => {
  const model = rewriteInitializers(encodeModel(logisticGraph()), [{ name: 'W', dims: [2, 2], external: { location: '../../../../etc/passwd', offset: '0', length: '16' } }]);
  await publishAs('churn-team', 'churnext', 1, { model });
  const { proxy, home } = await device();
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churnext', smoke: false }), 'model-safety', /external data location "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" contains "\.\."/, 'churnext', null);
  const abs = rewriteInitializers(encodeModel(logisticGraph()), [{ name: 'W', dims: [2, 2], external: { location: '/etc/passwd' } }]);
  await publishAs('churn-team', 'churnext', 2, { model: abs });
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churnext@2', smoke: false }), 'model-safety', /absolute path/, 'churnext', null);
});

test('oversized declared tensors are refused before anything allocates them', async () => {
  const model = rewriteInitializers(encodeModel(logisticGraph()), [{ name: 'huge', dims: [100000, 100000], raw: new Uint8Array(4) }]);
  await publishAs('churn-team', 'churnbig', 1, { model });
  const { proxy, home } = await device();
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churnbig', smoke: false }), 'model-safety', /declares 40000000000 bytes/, 'churnbig', null);
});

test('a model that fails smoke inference (in its own process) is refused; the CLI process lives on', async () => {
  const bad = encodeModel(logisticGraph([1, 1], { initializers: [{ name: 'W', type: 'float', dims: [3, 2], data: [1, 2, 3, 4, 5, 6] }, { name: 'B', type: 'float', dims: [2], data: [0, 0] }] }));
  await publishAs('churn-team', 'churnsmoke', 1, { model: bad });
  const { proxy, home } = await device();
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churnsmoke' }), 'smoke', /smoke inference on one row of zeros: the inference process failed/, 'churnsmoke', null);
  // a process that dies hard (as a native crash would) is contained the same way
  const crasher = path.join(work, 'crash.mjs');
  fs.writeFileSync(crasher, 'process.kill(process.pid, "SIGKILL");');
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@2', smokeScript: crasher }), 'smoke', /died \(SIGKILL\)/);
});

test('an installed file modified on disk is found by verify and refused on re-pull', async () => {
  const { proxy, home } = await device();
  const store = openStore(home);
  try {
    const m = getModel(store, 'churn@1');
    const f = path.join(m.dir, 'model.onnx');
    const b = fs.readFileSync(f);
    b[b.length - 3] ^= 1;
    fs.writeFileSync(f, b);
    const [report] = verifyModels(store, 'churn');
    assert.match(report.problems.join(), /modified on disk/);
    assert.equal(verifyModels(store, 'nothing-here').length, 0);
  } finally {
    store.close();
  }
  assert.equal(state(home).events.at(-1)?.kind, 'installed-modified');
  await expectRefused(home, pull({ home, hubUrl: proxy.url, ref: 'churn@1', smoke: false }), 'install', /modified on disk/);
});

test('hub killed mid-download: the download resumes with Range and verifies', async () => {
  const { proxy, home } = await device();
  let cuts = 0;
  proxy.hook = (p) => (isModelOf('churn', 2)(p) && cuts++ < 3 ? { kind: 'cut', after: 40 } : undefined);
  // three cuts: the in-call retries run out; the partial file stays for the next run
  await assert.rejects(pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false }), (e: unknown) => e instanceof PullUnavailable && /run the pull again to resume/.test(e.message) && /churn@1 stays active/.test(e.message));
  assert.equal(state(home).events.length, 0, 'an interrupted download is not a security event');
  const ranges: (string | undefined)[] = [];
  const r = await pull({ home, hubUrl: proxy.url, ref: 'churn@2', smoke: false, onRequest: (file, range) => { if (file === 'model.onnx') ranges.push(range); } });
  assert.equal(ranges[0], 'bytes=120-', 'resumed after the 3×40 bytes already there');
  assert.equal(r.model.version, 2);
  const store = openStore(home);
  try { assert.deepEqual(verifyModels(store, 'churn').flatMap((x) => x.problems), []); } finally { store.close(); }
  const modelReqs = proxy.requests.filter((q) => isModelOf('churn', 2)(q.path));
  assert.deepEqual(modelReqs.map((q) => q.range), [undefined, 'bytes=40-', 'bytes=80-', 'bytes=120-']);
});

test('offline: last-known-good served within the signed grace period with a warning, refused after it', async () => {
  const { proxy, home } = await device();
  const store = openStore(home);
  const model = getModel(store, 'churn');
  store.close();
  assert.deepEqual(checkServable(home, model), { ok: true });
  await proxy.close();
  await assert.rejects(pull({ home, hubUrl: proxy.url, ref: 'churn', smoke: false }), (e: unknown) => e instanceof PullUnavailable && /unreachable/.test(e.message) && /churn@1 stays active/.test(e.message));
  const ts = parseTimestamp(fs.readFileSync(path.join(trustPaths(home, proxy.url).metadata, 'timestamp.json'), 'utf8'));
  const expires = new Date(ts.signed.expires).getTime();
  const inGrace = checkServable(home, model, new Date(expires + 3600_000));
  assert.match(inGrace.warning ?? '', /serving the last-known-good version offline until/);
  assert.throws(() => checkServable(home, model, new Date(expires + 8 * 86_400_000)), /offline grace period ended/);
  await assert.rejects(pull({ home, hubUrl: proxy.url, ref: 'churn', smoke: false, now: () => new Date(expires + 8 * 86_400_000) }), /grace period ended/);
  assert.equal(state(home).events.length, 0);
});
