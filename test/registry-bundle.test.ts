// Air-gapped bundles (issue 9): `outpost hub bundle` against a real hub folder (served on loopback
// only while the bundle is made), then `outpost pull --bundle` on a device that has no hub to reach
// (the hub URL recorded in the bundle does not resolve). The offline install must equal a network
// pull, and a damaged or hostile bundle must be refused at the stage a network pull would refuse it.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Metadata, Timestamp } from '@tufjs/models';
import { generateKeyFile, signerFor } from '../src/keys/node/keys.ts';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { parseRoot, parseTimestamp, serialize, tufTime } from '../src/hub/node/tuf-metadata.ts';
import { BundleWriter, bundleFetch, openBundle } from '../src/registry/node/bundle.ts';
import { PullUnavailable } from '../src/registry/node/errors.ts';
import { pull } from '../src/registry/node/pull.ts';
import { readTrustedState } from '../src/registry/node/trust.ts';
import { getModel, listModels } from '../src/store/node/models.ts';
import { openStore } from '../src/store/node/store.ts';
import { runMain } from './helpers/cli.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';

// A name that cannot resolve (RFC 6761 .invalid): any network use by the device would fail.
const HUB_URL = 'https://outpost-hub.invalid:8443';
let h: TestHub;
const work = tmpDir('outpost-bundle-test-');
let bundleV1: string; // churn:production -> churn@1
let bundleV2: string; // churn:production -> churn@2, made later (newer timestamp)

const cli = (home: string, args: string[]) => runMain(['--home', home, '--json', ...args]);
const lastLine = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;

async function publish(version: number, alias?: string) {
  const p = h.publishers['churn-team'];
  return publishPackage({ packageDir: makePackage(work, 'churn', version, { weights: [version, -version] }), hubUrl: h.url, keys: [p.key], token: p.token, alias, checks: 'none' });
}

before(async () => {
  h = await startTestHub();
  await publish(1, 'production');
  bundleV1 = path.join(work, 'churn-v1.outpost');
  const r = await cli(work, ['hub', 'bundle', 'churn:production', '--dir', h.dir, '--out', bundleV1, '--url', HUB_URL]);
  assert.equal(r.code, 0, r.err);
  const j = lastLine(r.out);
  assert.equal(j.version, 1);
  assert.equal(j.hub, HUB_URL);
});
after(async () => {
  await h.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function state(home: string) {
  const store = openStore(home);
  try {
    const events = store.db.prepare('SELECT kind, detail FROM security_events ORDER BY id').all() as { kind: string; detail: string }[];
    return { models: listModels(store).map((m) => `${m.name}@${m.version}${m.active ? '*' : ''}`), events };
  } finally {
    store.close();
  }
}

/** Copy a bundle with some entries replaced (or dropped: null). */
function rewrite(src: string, dest: string, change: (p: string, bytes: Buffer) => Buffer | null, hub?: string | null): string {
  const b = openBundle(src);
  const all = fs.readFileSync(src);
  const w = new BundleWriter(dest);
  for (const e of b.manifest.entries) {
    const out = change(e.path, all.subarray(e.offset, e.offset + e.length));
    if (out) w.add(e.path, out);
  }
  const { format: _f, entries: _e, ...meta } = b.manifest;
  w.finish(hub === undefined ? meta : { ...meta, hub });
  return dest;
}

async function expectRefused(home: string, args: string[], stage: string, why: RegExp) {
  const before = state(home);
  const r = await cli(home, ['pull', ...args]);
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.out}${r.err}`);
  assert.match(r.err, new RegExp(`refused at ${stage}`), r.err);
  assert.match(r.err, why);
  const after = state(home);
  assert.deepEqual(after.models, before.models, 'nothing installed, the active version unchanged');
  assert.equal(after.events.length, before.events.length + 1, 'one security event');
  assert.equal(after.events.at(-1)?.kind, `pull-refused:${stage}`);
}

test('a bundle pulled offline installs exactly what a network pull installs', async () => {
  const offline = tmpDir('outpost-dev-offline-');
  const online = tmpDir('outpost-dev-online-');
  try {
    const r = await cli(offline, ['pull', '--bundle', bundleV1, '--root', h.trustRoot]);
    assert.equal(r.code, 0, r.err);
    const j = lastLine(r.out);
    assert.equal(j.name, 'churn');
    assert.equal(j.version, 1);
    assert.equal(j.hub, HUB_URL, 'installed as coming from the hub the bundle names');
    assert.equal(j.bundle, path.resolve(bundleV1));
    const net = await pull({ home: online, hubUrl: h.url, ref: 'churn:production', rootFile: h.trustRoot });

    const so = openStore(offline);
    const sn = openStore(online);
    try {
      const a = getModel(so, 'churn@1');
      const b = getModel(sn, 'churn@1');
      assert.equal(a.active, true);
      for (const f of ['model.onnx', 'card.json']) assert.deepEqual(fs.readFileSync(path.join(a.dir, f)), fs.readFileSync(path.join(b.dir, f)), `${f}: same bytes`);
      assert.deepEqual(a.card, b.card);
      assert.equal(a.modelSha256, b.modelSha256);
      assert.equal(a.cardSha256, b.cardSha256);
      assert.equal(a.source, 'hub');
      assert.equal(a.origin, HUB_URL);
      assert.equal(a.signedBy, net.signedBy);
      assert.equal(a.signedAt, b.signedAt);
      assert.equal(a.signerRole, 'churn-team');
      assert.deepEqual(a.signerKeyIds, b.signerKeyIds);
    } finally {
      so.close();
      sn.close();
    }
    // the same bundle again: already installed, files re-verified; nothing refused
    const again = await cli(offline, ['pull', '--bundle', bundleV1]);
    assert.equal(again.code, 0, again.err);
    assert.equal(lastLine(again.out).alreadyInstalled, true);
    assert.deepEqual(state(offline).events, []);
  } finally {
    fs.rmSync(offline, { recursive: true, force: true });
    fs.rmSync(online, { recursive: true, force: true });
  }
});

test('a bundle is verified against the root this device trusts: none pinned is a usage error, another hub\'s root refuses and is not kept', async () => {
  const home = tmpDir('outpost-dev-');
  const other = await startTestHub();
  try {
    const r = await cli(home, ['pull', '--bundle', bundleV1]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /does not trust https:\/\/outpost-hub\.invalid:8443 yet: pass --root/);
    // pinned to a different hub's root: the bundle's metadata does not chain to it
    const p = await cli(home, ['pull', '--bundle', bundleV1, '--root', other.trustRoot]);
    assert.equal(p.code, 1);
    assert.match(p.err, /refused at metadata/);
    assert.deepEqual(state(home).models, []);
    // that root verified nothing: it is not kept, so the operator can pass the right one
    assert.match(p.err, /the root given with --root was not kept \(https:\/\/outpost-hub\.invalid:8443's metadata is not signed by its keys\)/);
    assert.deepEqual(fs.readdirSync(path.join(home, 'trust'), { recursive: true }).filter((f) => /root\.json$|hub\.json$/.test(String(f))), [], 'no root pinned');
    const right = await cli(home, ['pull', '--bundle', bundleV1, '--root', h.trustRoot]);
    assert.equal(right.code, 0, right.err);
    assert.deepEqual(state(home).models, ['churn@1*']);
    // a root that has verified this hub's metadata stays pinned: another one is now a conflict
    const again = await cli(home, ['pull', '--bundle', bundleV1, '--root', other.trustRoot]);
    assert.equal(again.code, 1);
    assert.match(again.err, /already trusts a root/);
  } finally {
    await other.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('a tampered blob is refused at verify; nothing installed, the running version stays', async () => {
  const home = tmpDir('outpost-dev-');
  try {
    const bad = rewrite(bundleV1, path.join(work, 'tampered.outpost'), (p, bytes) => {
      if (!p.endsWith('.model.onnx')) return bytes;
      const copy = Buffer.from(bytes);
      copy[copy.length - 5] ^= 0xff;
      return copy;
    });
    await expectRefused(home, ['--bundle', bad, '--root', h.trustRoot], 'verify', /model\.onnx.*not the ones the publisher signed/);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('a model entry shorter than its signed length is refused at download naming the bundle, not retried as a dropped connection', async () => {
  const home = tmpDir('outpost-dev-');
  try {
    let signed = 0;
    const short = rewrite(bundleV1, path.join(work, 'short-entry.outpost'), (p, bytes) => {
      if (!p.endsWith('.model.onnx')) return bytes;
      signed = bytes.length;
      return bytes.subarray(0, bytes.length - 100);
    });
    const why = new RegExp(`short-entry\\.outpost holds ${signed - 100} bytes for churn/1/model\\.onnx, the signed metadata says ${signed}`);
    await expectRefused(home, ['--bundle', short, '--root', h.trustRoot], 'download', why);
    // the same answer again: nothing was kept to "resume"
    await expectRefused(home, ['--bundle', short], 'download', why);
    assert.deepEqual(fs.readdirSync(path.join(home, 'quarantine'), { recursive: true }), [], 'no partial kept, no empty folder left');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('a truncated or foreign file is refused at bundle, naming the file', async () => {
  const home = tmpDir('outpost-dev-');
  try {
    const all = fs.readFileSync(bundleV1);
    const cut = path.join(work, 'truncated.outpost');
    fs.writeFileSync(cut, all.subarray(0, Math.floor(all.length * 0.7)));
    const r = await cli(home, ['pull', '--bundle', cut, '--root', h.trustRoot]);
    assert.equal(r.code, 1);
    assert.match(r.err, /refused at bundle/);
    assert.match(r.err, /truncated\.outpost is truncated or damaged/);
    const notBundle = path.join(work, 'x.outpost');
    fs.writeFileSync(notBundle, 'PK\x03\x04 this is a zip file, not a bundle at all');
    const z = await cli(home, ['pull', '--bundle', notBundle, '--root', h.trustRoot]);
    assert.equal(z.code, 1);
    assert.match(z.err, /x\.outpost is not an Outpost bundle/);
    // an entry pointing outside the data section
    const b = openBundle(bundleV1);
    const man = { ...b.manifest, entries: b.manifest.entries.map((e, i) => (i === 0 ? { ...e, length: all.length } : e)) };
    const m = Buffer.from(JSON.stringify(man));
    const tail = Buffer.alloc(16);
    tail.writeBigUInt64BE(BigInt(m.length));
    tail.write('OPBUNDLE', 8);
    const manStart = all.length - 16 - Number(all.readBigUInt64BE(all.length - 16));
    const evil = path.join(work, 'evil.outpost');
    fs.writeFileSync(evil, Buffer.concat([all.subarray(0, manStart), m, tail]));
    const e = await cli(home, ['pull', '--bundle', evil, '--root', h.trustRoot]);
    assert.equal(e.code, 1);
    assert.match(e.err, /outside its data section/);
    // a hub URL in the manifest that is none: refused at bundle naming the file (it was a usage error naming nothing)
    for (const hub of ['not a url', 'ftp://hub.example', 'https://user:pw@hub.example']) {
      const badUrl = rewrite(bundleV1, path.join(work, 'bad-url.outpost'), (_p, bytes) => bytes, hub);
      const u = await cli(home, ['pull', '--bundle', badUrl, '--root', h.trustRoot]);
      assert.equal(u.code, 1, `${hub}: ${u.err}`);
      assert.match(u.err, /refused at bundle: .*bad-url\.outpost has a manifest whose hub is not a hub URL/, hub);
    }
    // no file there, a folder (it opens, then failed to read: an "internal error" with a stack), not a regular file
    for (const [file, why] of [[path.join(work, 'missing.outpost'), 'file not found'], [work, 'is a directory, not a file'], ['/dev/null', 'is not a regular file']] as const) {
      const x = await runMain(['--home', home, 'pull', '--bundle', file, '--root', h.trustRoot]);
      assert.equal(x.code, 1, x.err);
      assert.equal(x.err, `outpost pull: ${file}: cannot read the bundle: ${why}\n`);
    }
    assert.deepEqual(state(home).models, []);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('a bundle cut inside the model entry is refused at bundle; one cut while it is read stops the pull at download, naming the file, and resumes', async () => {
  const home = tmpDir('outpost-dev-');
  try {
    const b = openBundle(bundleV1);
    const model = b.manifest.entries.find((e) => e.path.endsWith('.model.onnx'))!;
    const all = fs.readFileSync(bundleV1);
    const at = model.offset + Math.floor(model.length / 2);
    const cut = path.join(work, 'cut-in-model.outpost');
    fs.writeFileSync(cut, all.subarray(0, at));
    const r = await cli(home, ['pull', '--bundle', cut, '--root', h.trustRoot]);
    assert.equal(r.code, 1);
    assert.match(r.err, /refused at bundle: .*cut-in-model\.outpost is truncated or damaged/);
    assert.deepEqual(state(home).models, []);

    // opened whole, then cut inside the model entry before its bytes are read (a copy still being
    // written, a removable disk pulled): the pull is interrupted, not refused, and says where the file ended
    const copy = path.join(work, 'shrinking.outpost');
    fs.writeFileSync(copy, all);
    const opened = openBundle(copy);
    fs.truncateSync(copy, at);
    await assert.rejects(pull({ home, hubUrl: HUB_URL, ref: 'churn:production', rootFile: h.trustRoot, fetch: bundleFetch(opened, HUB_URL) }),
      (e: unknown) => e instanceof PullUnavailable && e.stage === 'download' && e.message.includes(`${copy} ends at byte ${at}, inside the entry`));
    assert.deepEqual(state(home).models, [], 'nothing installed');
    // cut again, later in the entry: the resumed read says where the entry is, not the rest it resumed
    const at2 = model.offset + Math.floor(model.length * 0.75);
    fs.writeFileSync(copy, all);
    const reopened = openBundle(copy);
    fs.truncateSync(copy, at2);
    await assert.rejects(pull({ home, hubUrl: HUB_URL, ref: 'churn:production', fetch: bundleFetch(reopened, HUB_URL) }),
      (e: unknown) => e instanceof PullUnavailable && e.message.includes(`${copy} ends at byte ${at2}, inside the entry at ${model.offset}–${model.offset + model.length} `));
    // the whole bundle again: the partial is verified with the rest, and the install equals the bundle's bytes
    fs.writeFileSync(copy, all);
    const ok = await cli(home, ['pull', '--bundle', copy]);
    assert.equal(ok.code, 0, ok.err);
    assert.deepEqual(state(home).models, ['churn@1*']);
    const so = openStore(home);
    try {
      assert.deepEqual(fs.readFileSync(path.join(getModel(so, 'churn@1').dir, 'model.onnx')), all.subarray(model.offset, model.offset + model.length));
    } finally {
      so.close();
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('metadata re-signed with a key the root does not trust is refused at metadata', async () => {
  const home = tmpDir('outpost-dev-');
  try {
    const attacker = generateKeyFile(path.join(work, 'attacker.key'));
    const bad = rewrite(bundleV1, path.join(work, 'resigned.outpost'), (p, bytes) => {
      if (p !== 'metadata/timestamp.json') return bytes;
      const ts = parseTimestamp(bytes.toString('utf8'));
      const forged = new Metadata(new Timestamp({ version: ts.signed.version + 1, specVersion: ts.signed.specVersion, expires: tufTime(new Date(Date.now() + 365 * 86_400_000)), snapshotMeta: ts.signed.snapshotMeta }));
      forged.sign(signerFor(attacker));
      return Buffer.from(serialize(forged));
    });
    await expectRefused(home, ['--bundle', bad, '--root', h.trustRoot], 'metadata', /timestamp/);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('expired metadata (genuinely signed) and an older bundle after a newer one are refused at metadata', async () => {
  const home = tmpDir('outpost-dev-');
  try {
    // the hub's own timestamp key, an expiry in the past: an old bundle found in a drawer
    const root = parseRoot((await h.hub.storage.latestMetadata('root'))!.body);
    const expired = rewrite(bundleV1, path.join(work, 'expired.outpost'), (p, bytes) => {
      if (p !== 'metadata/timestamp.json') return bytes;
      const ts = parseTimestamp(bytes.toString('utf8'));
      const old = new Metadata(new Timestamp({ version: ts.signed.version, specVersion: ts.signed.specVersion, expires: tufTime(new Date(Date.now() - 86_400_000)), snapshotMeta: ts.signed.snapshotMeta }));
      old.sign(signerFor(h.hub.keys.for(root, 'timestamp')));
      return Buffer.from(serialize(old));
    });
    await expectRefused(home, ['--bundle', expired, '--root', h.trustRoot], 'metadata', /expired/i);

    // churn@2 published and promoted: a newer bundle, installed; then the old one is a rollback
    await publish(2, 'production');
    bundleV2 = path.join(work, 'churn-v2.outpost');
    const mk = await cli(work, ['hub', 'bundle', 'churn:production', '--dir', h.dir, '--out', bundleV2, '--url', HUB_URL]);
    assert.equal(mk.code, 0, mk.err);
    const r = await cli(home, ['pull', '--bundle', bundleV2]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(state(home).models, ['churn@2*']);
    await expectRefused(home, ['--bundle', bundleV1], 'metadata', /version|rollback/i);
    assert.deepEqual(state(home).models, ['churn@2*']);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('a newer bundle refreshes an air-gapped device\'s signed metadata, even for the version it already runs', async () => {
  const home = tmpDir('outpost-dev-');
  try {
    assert.equal((await cli(home, ['pull', '--bundle', bundleV1, '--root', h.trustRoot])).code, 0);
    const before = readTrustedState(home, HUB_URL).timestamp!.signed.version;
    const r = await cli(home, ['pull', '--bundle', bundleV2, 'churn@1']); // churn@1's files are not in it: none needed
    assert.equal(r.code, 0, r.err);
    assert.equal(lastLine(r.out).alreadyInstalled, true);
    const after = readTrustedState(home, HUB_URL).timestamp!.signed.version;
    assert.ok(after > before, `trusted timestamp v${before} → v${after}`);
    assert.deepEqual(state(home).models, ['churn@1*']);
    // on a device that does not have churn@1, the same request needs files the bundle lacks: said so, no security event
    const fresh = tmpDir('outpost-dev-');
    try {
      const x = await cli(fresh, ['pull', '--bundle', bundleV2, 'churn@1', '--root', h.trustRoot]);
      assert.equal(x.code, 1, x.err);
      assert.match(x.err, /churn\/1\/card\.json is not in .*churn-v2\.outpost \(a bundle holds one version's files\)/);
      assert.deepEqual(state(fresh), { models: [], events: [] });
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('a partial download left by a network pull resumes from the bundle (Range served from the file)', async () => {
  const b = openBundle(bundleV1);
  const model = b.manifest.entries.find((e) => e.path.endsWith('.model.onnx'))!;
  const f = bundleFetch(b, HUB_URL);
  const whole = Buffer.from(await (await f(`${HUB_URL}/${model.path}`)).arrayBuffer());
  assert.equal(whole.length, model.length);
  const part = await f(`${HUB_URL}/${model.path}`, { headers: { range: 'bytes=10-' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 10-${model.length - 1}/${model.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), whole.subarray(10));
  assert.equal((await f(`${HUB_URL}/${model.path}`, { headers: { range: `bytes=${model.length}-` } })).status, 416);
  assert.equal((await f(`${HUB_URL}/metadata/99.root.json`)).status, 404);
  assert.equal((await f(`https://elsewhere.invalid/${model.path}`)).status, 404, 'only the named hub\'s URLs are answered');
  assert.equal(crypto.createHash('sha256').update(whole).digest('hex'), model.path.split('/').at(-1)!.split('.')[0]);
});

test('a snapshot whose bytes differ from what the timestamp signs is refused at metadata, in words without tuf-js\'s wrappers', async () => {
  const home = tmpDir('outpost-dev-');
  try {
    const bad = rewrite(bundleV1, path.join(work, 'snapshot-flip.outpost'), (p, bytes) => {
      if (!/^metadata\/\d+\.snapshot\.json$/.test(p)) return bytes;
      const copy = Buffer.from(bytes);
      copy[copy.length - 3] ^= 0x01;
      return copy;
    });
    await expectRefused(home, ['--bundle', bad, '--root', h.trustRoot], 'metadata', /TUF metadata from https:\/\/outpost-hub\.invalid:8443 refused: snapshot metadata: Expected hash [0-9a-f]+ but got [0-9a-f]+/);
    const r = await cli(home, ['pull', '--bundle', bad]);
    assert.doesNotMatch(r.err, /Unable to load|error Error/);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('an installed file modified on disk: the bundle pull refuses and names --repair on the same pull, which repairs it from the bundle', async () => {
  const home = tmpDir('outpost-dev-');
  try {
    assert.equal((await cli(home, ['pull', '--bundle', bundleV1, '--root', h.trustRoot])).code, 0);
    const store = openStore(home);
    const file = path.join(getModel(store, 'churn@1').dir, 'model.onnx');
    store.close();
    const good = fs.readFileSync(file);
    fs.chmodSync(file, 0o600);
    fs.appendFileSync(file, 'x');
    const r = await cli(home, ['pull', '--bundle', bundleV1]);
    assert.equal(r.code, 1);
    assert.match(r.err, /was modified on disk: .*\(the same pull with --repair replaces it with a verified copy\)/);
    assert.doesNotMatch(r.err, /outpost pull churn@1 --repair/, 'not the network command');
    const fixed = await cli(home, ['pull', '--bundle', bundleV1, '--repair']);
    assert.equal(fixed.code, 0, fixed.err);
    assert.equal(lastLine(fixed.out).repaired, true);
    assert.deepEqual(fs.readFileSync(file), good);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('hub bundle says how a workstation installs it, the first time\'s --root included', async () => {
  const out = path.join(work, 'hint.outpost');
  const r = await runMain(['--home', work, 'hub', 'bundle', 'churn:production', '--dir', h.dir, '--out', out, '--url', HUB_URL]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /on the workstation: outpost pull --bundle hint\.outpost\n/);
  assert.ok(r.out.includes(`adds --root root.json once: this hub's is ${path.join(h.dir, 'root.json')}`), r.out);
  assert.ok(fs.existsSync(path.join(h.dir, 'root.json')), 'the root file it names exists');
});

test('bad usage exits 2', async () => {
  const home = tmpDir('outpost-dev-');
  try {
    const cases: [string[], RegExp][] = [
      [['pull'], /name the model to pull/],
      [['pull', '--bundle'], /--bundle|argument missing|option/i],
      [['pull', '--bundle', bundleV1, '--ca', 'x.pem'], /--ca is for network pulls/],
      [['hub', 'bundle', 'churn:production', '--dir', h.dir], /--out/],
      [['hub', 'bundle', '--dir', h.dir, '--out', path.join(work, 'u.outpost')], /./],
      [['hub', 'bundle', '../etc:x', '--dir', h.dir, '--out', path.join(work, 'u.outpost')], /./],
      [['hub', 'bundle', 'churn:production', '--out', path.join(work, 'u.outpost')], /--dir/],
    ];
    for (const [args, why] of cases) {
      const r = await cli(home, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, why, args.join(' '));
    }
    // a model or alias the bundle does not hold: a usage error saying what it holds (not "the hub answered 404", not a security event);
    // another version may be installed already (the bundle then refreshes its metadata: the test above)
    for (const ref of ['churn:staging', 'other', 'other:production', 'other@1']) {
      const r = await cli(home, ['pull', '--bundle', bundleV1, ref, '--root', h.trustRoot]);
      assert.equal(r.code, 2, `${ref}: ${r.err}`);
      assert.match(r.err, /churn-v1\.outpost holds churn@1 \(alias churn:production\), not /, ref);
    }
    assert.deepEqual(state(home), { models: [], events: [] }, 'nothing installed, no security event');
    // a bundle made without --url, pulled without --hub: usage error naming the fix
    const noUrl = rewrite(bundleV1, path.join(work, 'nourl.outpost'), (_p, b) => b, null);
    const u = await cli(home, ['pull', '--bundle', noUrl]);
    assert.equal(u.code, 2, u.err);
    assert.match(u.err, /nourl\.outpost does not name its hub: pass --hub/);
    const r = await runMain(['--home', home, 'hub', 'bundle', 'churn@9', '--dir', h.dir, '--out', path.join(work, 'none.outpost')]);
    assert.equal(r.code, 1, 'a version the hub does not have: the work failed');
    assert.equal(fs.existsSync(path.join(work, 'none.outpost')), false, 'no bundle file left behind');
    // the refusal names the hub folder, not the loopback address the command served it on for the pull
    const alias = await runMain(['--home', home, 'hub', 'bundle', 'churn:nope', '--dir', h.dir, '--out', path.join(work, 'none.outpost')]);
    assert.equal(alias.code, 1);
    assert.equal(alias.err, `outpost hub bundle: alias churn:nope is not published on the hub in ${h.dir}\n`);
    // a model the hub does not have at all: said so, not "its alias is not published"
    const unknown = await runMain(['--home', home, 'hub', 'bundle', 'nosuch:production', '--dir', h.dir, '--out', path.join(work, 'none.outpost')]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.err, `outpost hub bundle: no versions of "nosuch" are published on the hub in ${h.dir}\n`);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
