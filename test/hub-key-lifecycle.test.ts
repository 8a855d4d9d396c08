// Issue 10: the hub's key lifecycle as an operator runs it, with devices that stay offline across
// each change: offline keys kept apart from the hub (signed away from it, uploaded with the admin
// token), overlapping delegations refused, publisher key rotation (old and new valid during the
// transition, threshold respected, installed versions stay valid), revocation, targets/root renewal,
// root/targets key rotation and online-key rotation recovering from a fast-forward attack.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Metadata, Timestamp } from '@tufjs/models';
import { generateKeyFile, signerFor } from '../src/keys/node/keys.ts';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { expiringRoles } from '../src/hub/node/repository.ts';
import { parseRoot, parseTargets, parseTimestamp, serialize, SPEC_VERSION, tufTime, addSeconds } from '../src/hub/node/tuf-metadata.ts';
import { PullRefused } from '../src/registry/node/errors.ts';
import { pull } from '../src/registry/node/pull.ts';
import { trustPaths } from '../src/registry/node/trust.ts';
import { verifyModels } from '../src/registry/node/verify.ts';
import { openStore } from '../src/store/node/store.ts';
import { runMain as run } from './helpers/cli.ts';
import { hubBackends } from './helpers/hub-backends.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { startProxy, type Proxy } from './helpers/hub-proxy.ts';
import { stopPostgres } from './helpers/postgres.ts';

const work = tmpDir('outpost-keys-');
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  fs.rmSync(work, { recursive: true, force: true });
  await stopPostgres();
});

async function hubFor(opts: Parameters<typeof startTestHub>[0] = {}): Promise<Awaited<ReturnType<typeof startTestHub>>> {
  const h = await startTestHub(opts);
  cleanups.push(() => h.close());
  return h;
}

/** `outpost hub …` against a test hub's folder (same database), in process. */
const cli = (args: string[], env: Record<string, string> = {}) => run([...args, '--home', path.join(work, 'operator-home')], { env });
const dbArgs = (db: string | undefined) => (db ? ['--db', db] : []);

function key(name: string) {
  return generateKeyFile(path.join(work, 'keys', `${name}-${Math.random().toString(36).slice(2, 8)}.key`));
}

async function publish(h: TestHub, name: string, version: number, keys: ReturnType<typeof key>[], token: string, home?: string) {
  return publishPackage({ packageDir: makePackage(work, name, version), hubUrl: h.url, keys, token, home });
}

/** A device that installs `ref` now and then stays offline (its hub link is a proxy we can close). */
async function device(h: TestHub, ref: string): Promise<{ home: string; proxy: Proxy }> {
  const proxy = await startProxy(h.url);
  cleanups.push(() => proxy.close());
  const home = tmpDir('outpost-dev-');
  cleanups.push(async () => fs.rmSync(home, { recursive: true, force: true }));
  await pull({ home, hubUrl: proxy.url, ref, rootFile: h.trustRoot, smoke: false });
  return { home, proxy };
}

const trusted = (home: string, url: string, role: string) => JSON.parse(fs.readFileSync(path.join(trustPaths(home, url).metadata, `${role}.json`), 'utf8')) as { signed: { version: number; expires: string } };

for (const backend of hubBackends()) {
  describe(`offline keys on ${backend.name}`, { skip: backend.skip }, () => {
    test('delegations are signed away from the hub and uploaded with the admin token; overlaps and forgeries refused', async () => {
      const db = await backend.db();
      const h = await hubFor({ db });
      const fraudKey = key('fraud');
      const signed = path.join(work, `add-fraud-${backend.name}.json`);
      const add = await cli(['hub', 'add-publisher', '--hub', h.url, '--out', signed, '--offline-keys', h.offlineKeysDir, '--name', 'fraud-team', '--key', `${fraudKey.file}.pub`, '--models', 'fraud']);
      assert.equal(add.code, 0, add.err);
      assert.match(add.out, /NEW publisher "fraud-team": models fraud/);
      assert.match(add.out, /upload it: outpost hub upload-metadata/);

      const wrong = await cli(['hub', 'upload-metadata', signed, '--hub', h.url, '--token', 'opadm_nope']);
      assert.equal(wrong.code, 2, wrong.err);
      assert.match(wrong.err, /refused the admin token/);
      const up = await cli(['hub', 'upload-metadata', signed, '--hub', h.url, '--json'], { OUTPOST_ADMIN_TOKEN: h.adminToken });
      assert.equal(up.code, 0, up.err);
      const { tokens } = JSON.parse(up.out) as { tokens: { name: string; token: string }[] };
      assert.equal(tokens[0].name, 'fraud-team');
      const pub = await publish(h, 'fraud', 1, [fraudKey], tokens[0].token);
      assert.deepEqual(pub.versions, [{ name: 'fraud', version: 1 }]);
      const again = await cli(['hub', 'upload-metadata', signed, '--hub', h.url, '--token', h.adminToken]);
      assert.equal(again.code, 1, 'a replayed update is refused');
      assert.match(again.err, /version \d+, but this hub is at version/);

      // signed with a key that is not the hub's targets key (e.g. a copy of the hub folder's keys)
      const forged = JSON.parse(fs.readFileSync(signed, 'utf8')) as { targets: { signed: { version: number }; signatures: unknown[] } };
      const md = Metadata.fromJSON('targets' as never, forged.targets as never) as Metadata<never>;
      const rogue = key('rogue');
      (md as unknown as { signatures: Record<string, unknown> }).signatures = {};
      const bumped = { ...(md.toJSON() as { signed: Record<string, unknown> }) };
      bumped.signed.version = (bumped.signed.version as number) + 1;
      const re = Metadata.fromJSON('targets' as never, bumped as never) as Metadata<never>;
      re.sign(signerFor(rogue));
      const forgedFile = path.join(work, `forged-${backend.name}.json`);
      fs.writeFileSync(forgedFile, JSON.stringify({ ...forged, targets: re.toJSON() }));
      const f = await cli(['hub', 'upload-metadata', forgedFile, '--hub', h.url, '--token', h.adminToken]);
      assert.equal(f.code, 1);
      assert.match(f.err, /new targets metadata refused: .*signed by 0\/1 keys/);

      // overlapping globs: refused where they are signed, and by the hub
      const other = key('other');
      const overlap = await cli(['hub', 'add-publisher', '--dir', h.dir, ...dbArgs(db), '--offline-keys', h.offlineKeysDir, '--name', 'c-team', '--key', `${other.file}.pub`, '--models', 'c*']);
      assert.equal(overlap.code, 2, overlap.err);
      assert.match(overlap.err, /"churn-team" \(churn\*\) and "c-team" \(c\*\) overlap \(both match "churn"\)/);
      const listed = await cli(['hub', 'publishers', '--dir', h.dir, ...dbArgs(db), '--json']);
      assert.equal(listed.code, 0, listed.err);
      const pubs = (JSON.parse(listed.out) as { publishers: { name: string; models: string; terminating: boolean }[] }).publishers;
      assert.deepEqual(pubs.map((p) => [p.name, p.models, p.terminating]), [['churn-team', 'churn*', true], ['fraud-team', 'fraud', true]]);
    });
  });
}

test('publisher key rotation: old and new valid in the transition, threshold respected, a device offline across it keeps its models', async () => {
  const h = await hubFor({ publishers: [{ name: 'churn-team', glob: 'churn*' }, { name: 'fraud-team', glob: 'fraud', threshold: 2, extraKeys: 1 }] });
  const team = h.publishers['churn-team'];
  await publish(h, 'churn', 1, [team.key], team.token);
  const dev = await device(h, 'churn@1');
  // the device makes no request from here until it comes back below
  const fresh = key('churn-new');
  const opKeys = ['--dir', h.dir, '--offline-keys', h.offlineKeysDir, '--name', 'churn-team', '--models', 'churn*'];

  // The new key alone would strand what the old key signed: refused, saying how to rotate.
  const straight = await cli(['hub', 'add-publisher', ...opKeys, '--key', `${fresh.file}.pub`]);
  assert.equal(straight.code, 1);
  assert.match(straight.err, /not signed by 1 of the keys this update delegates[\s\S]*--key old\.pub --key new\.pub/);
  const both = await cli(['hub', 'add-publisher', ...opKeys, '--key', `${team.key.file}.pub`, '--key', `${fresh.file}.pub`]);
  assert.equal(both.code, 0, both.err);
  assert.match(both.err, /RE-DELEGATION of existing publisher "churn-team"/);
  assert.match(both.err, new RegExp(`KEY CHANGE for publisher "churn-team": adds ${fresh.keyId.slice(0, 16)}`));

  // The team signs with the new key on top of metadata the old key signed: only once the delegation is verified.
  const teamHome = tmpDir('outpost-team-');
  cleanups.push(async () => fs.rmSync(teamHome, { recursive: true, force: true }));
  await assert.rejects(publish(h, 'churn', 2, [fresh], team.token, teamHome), /not signed by the given key; refusing to sign on top of it\. After a key rotation, pass the hub's root/);
  const pinned = await run(['publish', makePackage(work, 'churn', 2), '--hub', h.url, '--key', fresh.file, '--root', h.trustRoot, '--home', teamHome], { env: { OUTPOST_PUBLISH_TOKEN: team.token } });
  assert.equal(pinned.code, 0, pinned.err);
  const only = await cli(['hub', 'add-publisher', ...opKeys, '--key', `${fresh.file}.pub`]);
  assert.equal(only.code, 0, only.err);
  assert.match(only.err, new RegExp(`REMOVES ${team.key.keyId.slice(0, 16)}`));
  await assert.rejects(publish(h, 'churn', 3, [team.key], team.token), /none of the given keys is delegated/);

  // The device comes back: the new version installs, the old one re-verifies, the key change is shown.
  const back = dev.proxy;
  const r2 = await pull({ home: dev.home, hubUrl: back.url, ref: 'churn', smoke: false });
  assert.equal(r2.model.version, 2);
  assert.match(r2.signedBy, new RegExp(fresh.keyId.slice(0, 16)));
  const r1 = await pull({ home: dev.home, hubUrl: back.url, ref: 'churn@1', smoke: false });
  assert.equal(r1.alreadyInstalled, true, 'churn@1 stays valid: its bytes are still what the team signs');
  const store = openStore(dev.home);
  try { assert.deepEqual(verifyModels(store).flatMap((x) => x.problems), []); } finally { store.close(); }
  const list = await run(['models', 'list', '--home', dev.home]);
  assert.match(list.out, new RegExp(`churn@1[^\\n]*\\n    KEY CHANGE: churn-team's signing key changed since this version was installed \\(was ${team.key.keyId.slice(0, 16)}, now ${fresh.keyId.slice(0, 16)}\\)`));
  assert.doesNotMatch(list.out, /churn@2[^\n]*\n    KEY CHANGE/);

  // Threshold 2 during a rotation of one of two keys: the new key counts as one signature, never two.
  const fraud = h.publishers['fraud-team'];
  const [second] = h.extraKeys['fraud-team'];
  await publishPackage({ packageDir: makePackage(work, 'fraud', 1), hubUrl: h.url, keys: [fraud.key, second], token: fraud.token });
  const third = key('fraud-third');
  const rot = await cli(['hub', 'add-publisher', '--dir', h.dir, '--offline-keys', h.offlineKeysDir, '--name', 'fraud-team', '--models', 'fraud', '--threshold', '2', '--key', `${fraud.key.file}.pub`, '--key', `${second.file}.pub`, '--key', `${third.file}.pub`]);
  assert.equal(rot.code, 0, rot.err);
  await assert.rejects(publishPackage({ packageDir: makePackage(work, 'fraud', 2), hubUrl: h.url, keys: [third], token: fraud.token }), /signed by 1\/2 keys|refusing to sign on top of it/);
  const ok = await publishPackage({ packageDir: makePackage(work, 'fraud', 2), hubUrl: h.url, keys: [fraud.key, third], token: fraud.token });
  assert.deepEqual(ok.versions, [{ name: 'fraud', version: 2 }]);
});

test('revoking a publisher: its token stops working, devices stop installing its models and say so', async () => {
  const h = await hubFor();
  const team = h.publishers['churn-team'];
  await publish(h, 'churn', 1, [team.key], team.token);
  await publish(h, 'churn', 2, [team.key], team.token);
  const dev = await device(h, 'churn@1');
  const r = await cli(['hub', 'revoke-publisher', '--dir', h.dir, '--offline-keys', h.offlineKeysDir, '--name', 'churn-team']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /REVOKED publisher "churn-team"/);
  await assert.rejects(publish(h, 'churn', 3, [team.key], team.token), /401/);
  await assert.rejects(pull({ home: dev.home, hubUrl: dev.proxy.url, ref: 'churn@2', smoke: false }), /no versions of "churn" are published|not signed/);
  const list = await run(['models', 'list', '--home', dev.home]);
  assert.match(list.out, /KEY CHANGE: publisher churn-team is no longer delegated by .* \(revoked\)/);
  const check = await run(['models', 'check', '--home', dev.home]);
  assert.equal(check.code, 0, check.err);
  assert.match(check.out, /churn@1: REVOKED: .* no longer signs churn@1/);
  const missing = await cli(['hub', 'revoke-publisher', '--dir', h.dir, '--offline-keys', h.offlineKeysDir, '--name', 'churn-team']);
  assert.equal(missing.code, 1);
});

test('targets and root renewed before they expire (hub serve warns first); a device offline across it follows', async () => {
  const h = await hubFor({ config: { targetsExpirySeconds: 10 * 86_400, rootExpirySeconds: 20 * 86_400 } });
  const team = h.publishers['churn-team'];
  await publish(h, 'churn', 1, [team.key], team.token);
  const dev = await device(h, 'churn@1');
  assert.deepEqual((await expiringRoles(h.hub)).map((e) => e.role).sort(), ['root', 'targets']);

  const stop = new AbortController();
  const served = await run(['hub', 'serve', '--dir', h.dir, '--port', '0', '--json', '--home', path.join(work, 'operator-home')], {
    signal: stop.signal, onLine: (l) => { if (l.includes('"listening"')) stop.abort(); },
  });
  assert.equal(served.code, 0, served.err);
  assert.match(served.err, /WARNING: root metadata v1 expires .* \(within 30 days\): devices refuse expired metadata; renew it: outpost hub root renew/);
  assert.match(served.err, /WARNING: targets metadata v\d+ expires .*renew it: outpost hub targets renew/);

  // --dir applies in place: an --out beside it would be ignored, so it is bad usage and nothing is signed
  for (const extra of [['--out', path.join(work, 'ignored.json')], ['--overwrite']]) {
    const both = await cli(['hub', 'targets', 'renew', '--dir', h.dir, '--offline-keys', h.offlineKeysDir, ...extra]);
    assert.equal(both.code, 2, both.err);
    assert.match(both.err, /--dir applies the update to the hub folder; --out and --overwrite go with --hub/);
  }
  assert.equal(fs.existsSync(path.join(work, 'ignored.json')), false);
  assert.notDeepEqual(await expiringRoles(h.hub), [], 'nothing renewed by the refused commands');
  const t = await cli(['hub', 'targets', 'renew', '--dir', h.dir, '--offline-keys', h.offlineKeysDir, '--expires-days', '365']);
  assert.equal(t.code, 0, t.err);
  const rr = await cli(['hub', 'root', 'renew', '--dir', h.dir, '--offline-keys', h.offlineKeysDir, '--expires-days', '365']);
  assert.equal(rr.code, 0, rr.err);
  assert.match(rr.out, /root is now v2/);
  assert.deepEqual(await expiringRoles(h.hub), []);

  const before = trusted(dev.home, dev.proxy.url, 'targets').signed.expires;
  const r = await pull({ home: dev.home, hubUrl: dev.proxy.url, ref: 'churn@1', smoke: false });
  assert.equal(r.alreadyInstalled, true);
  assert.equal(trusted(dev.home, dev.proxy.url, 'root').signed.version, 2);
  const after = trusted(dev.home, dev.proxy.url, 'targets').signed.expires;
  assert.ok(new Date(after).getTime() - new Date(before).getTime() > 300 * 86_400_000, `${before} → ${after}`);
});

test('hub serve keeps checking while it runs: a role that comes within 30 days is warned without a restart; a hub that lost an online key says it cannot re-sign', { timeout: 180_000 }, async () => {
  const h = await hubFor();
  const serve = (onLine: (l: string, stop: () => void) => void) => {
    const stop = new AbortController();
    return run(['hub', 'serve', '--dir', h.dir, '--port', '0', '--json', '--home', path.join(work, 'operator-home')], {
      env: { OUTPOST_HUB_EXPIRY_CHECK_SECONDS: '0.2' }, signal: stop.signal, onLine: (l) => onLine(l, () => stop.abort()),
    });
  };
  // the timestamp key is gone from the hub folder: the hub cannot re-sign timestamps
  const keyFile = path.join(h.dir, 'keys', 'timestamp.key');
  fs.renameSync(keyFile, `${keyFile}.away`);
  let lost: Awaited<ReturnType<typeof run>>;
  try {
    lost = await serve((l, stop) => { if (l.includes('"listening"')) stop(); });
  } finally {
    fs.renameSync(`${keyFile}.away`, keyFile);
  }
  assert.equal(lost.code, 0, lost.err);
  assert.match(lost.err, /WARNING: timestamp metadata v\d+ expires .*: devices refuse expired metadata; this hub holds no timestamp key that root v1 names, so it cannot re-sign timestamp metadata: restore .*timestamp\.key from a backup, or rotate the online keys/);
  assert.doesNotMatch(lost.err, /snapshot metadata|targets metadata|root metadata/, 'nothing else is near expiry; the snapshot key is there, so the hub re-signs snapshots itself');

  // while the hub runs, the targets are renewed with too short a lifetime: the next check warns, once
  let renewal: Promise<Awaited<ReturnType<typeof cli>>> | undefined;
  const served = await serve((l, stop) => {
    if (l.includes('"listening"')) renewal ??= cli(['hub', 'targets', 'renew', '--dir', h.dir, '--offline-keys', h.offlineKeysDir, '--expires-days', '10']);
    if (l.includes('"expiring"') && l.includes('"role":"targets"')) void renewal!.then(() => setTimeout(stop, 600));
  });
  assert.equal((await renewal!).code, 0);
  assert.equal(served.code, 0, served.err);
  const lines = served.out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event?: string; role?: string });
  const listening = lines.findIndex((e) => e.event === 'listening');
  assert.ok(listening >= 0 && lines.findIndex((e) => e.event === 'expiring' && e.role === 'targets') > listening, 'the warning came while serving, after the renewal');
  assert.equal(served.err.match(/WARNING: targets metadata v\d+ expires .* \(within 30 days\): devices refuse expired metadata; renew it: outpost hub targets renew/g)?.length, 1, `warned once although checked every 0.2 s:\n${served.err}`);
});

test('root and targets keys rotated (cross-signed, signed away from the hub, uploaded); a device offline across it follows', async () => {
  const h = await hubFor();
  const team = h.publishers['churn-team'];
  await publish(h, 'churn', 1, [team.key], team.token);
  const dev = await device(h, 'churn@1');
  const oldRoot = h.rootKey.keyId;
  const file = path.join(work, 'rotate-root.json');
  const rot = await cli(['hub', 'root', 'rotate', '--new-root-key', '--new-targets-key', '--hub', h.url, '--out', file, '--offline-keys', h.offlineKeysDir]);
  assert.equal(rot.code, 0, rot.err);
  assert.match(rot.out, /root key .* → .*\n.*targets key/);
  const retired = fs.readdirSync(path.join(h.offlineKeysDir, 'retired'));
  assert.deepEqual(retired.filter((f) => f.endsWith('.key')).map((f) => f.replace(/-.*/, '')).sort(), ['root', 'targets']);
  // before the upload, the hub still names the retired keys: signing again still works with them
  const renewEarly = await cli(['hub', 'targets', 'renew', '--hub', h.url, '--out', path.join(work, 'renew-early.json'), '--offline-keys', h.offlineKeysDir]);
  assert.equal(renewEarly.code, 0, renewEarly.err);
  const up = await cli(['hub', 'upload-metadata', file, '--hub', h.url, '--token', h.adminToken]);
  assert.equal(up.code, 0, up.err);
  const root2 = parseRoot((await h.hub.storage.latestMetadata('root'))!.body);
  assert.equal(root2.signed.version, 2);
  assert.ok(!root2.signed.roles.root.keyIDs.includes(oldRoot));
  assert.ok(root2.signatures[oldRoot], 'cross-signed by the old root key');

  await publish(h, 'churn', 2, [team.key], team.token);
  const r = await pull({ home: dev.home, hubUrl: dev.proxy.url, ref: 'churn', smoke: false });
  assert.equal(r.model.version, 2);
  assert.equal(trusted(dev.home, dev.proxy.url, 'root').signed.version, 2);
  // the new keys sign from now on; the old root key signs nothing the device accepts
  const add = await cli(['hub', 'add-publisher', '--dir', h.dir, '--offline-keys', h.offlineKeysDir, '--name', 'fraud-team', '--key', `${key('f').file}.pub`, '--models', 'fraud']);
  assert.equal(add.code, 0, add.err);
  assert.equal(parseTargets((await h.hub.storage.latestMetadata('targets'))!.body).signed.delegations?.roles?.['fraud-team']?.name, 'fraud-team');
});

test('online keys rotated: a device that accepted a fast-forwarded timestamp (stolen online key) recovers', async () => {
  const h = await hubFor();
  const team = h.publishers['churn-team'];
  await publish(h, 'churn', 1, [team.key], team.token);
  await publish(h, 'churn', 2, [team.key], team.token);
  const dev = await device(h, 'churn@1');

  // The attacker holds a copy of the online timestamp key: timestamp version 1022 over the real snapshot.
  const root1 = parseRoot((await h.hub.storage.latestMetadata('root'))!.body);
  const stolen = h.hub.keys.for(root1, 'timestamp');
  const real = parseTimestamp((await h.hub.storage.latestMetadata('timestamp'))!.body);
  const ff = new Metadata(new Timestamp({ version: 1022, specVersion: SPEC_VERSION, expires: tufTime(addSeconds(new Date(), 86_400)), snapshotMeta: real.signed.snapshotMeta }));
  ff.sign(signerFor(stolen));
  dev.proxy.hook = (p) => (p === '/metadata/timestamp.json' ? { kind: 'respond', body: Buffer.from(serialize(ff)) } : undefined);
  await pull({ home: dev.home, hubUrl: dev.proxy.url, ref: 'churn@1', smoke: false });
  assert.equal(trusted(dev.home, dev.proxy.url, 'timestamp').signed.version, 1022, 'the device took the fast-forwarded timestamp');
  dev.proxy.hook = () => undefined;
  await assert.rejects(pull({ home: dev.home, hubUrl: dev.proxy.url, ref: 'churn@2', smoke: false }), (e: unknown) => e instanceof PullRefused && /less than current version 1022/.test(e.message));

  const rot = await cli(['hub', 'root', 'rotate', '--new-online-keys', '--dir', h.dir, '--offline-keys', h.offlineKeysDir]);
  assert.equal(rot.code, 0, rot.err);
  assert.match(rot.out, /online keys rotated: devices drop their stored timestamp and snapshot/);
  const r = await pull({ home: dev.home, hubUrl: dev.proxy.url, ref: 'churn@2', smoke: false });
  assert.equal(r.model.version, 2, 'recovered: the rotated timestamp key made the device drop the forged timestamp');
  assert.ok(trusted(dev.home, dev.proxy.url, 'timestamp').signed.version < 1022);

  // the stolen key is worthless now
  const ff2 = new Metadata(new Timestamp({ version: 5000, specVersion: SPEC_VERSION, expires: tufTime(addSeconds(new Date(), 86_400)), snapshotMeta: real.signed.snapshotMeta }));
  ff2.sign(signerFor(stolen));
  dev.proxy.hook = (p) => (p === '/metadata/timestamp.json' ? { kind: 'respond', body: Buffer.from(serialize(ff2)) } : undefined);
  await assert.rejects(pull({ home: dev.home, hubUrl: dev.proxy.url, ref: 'churn@2', smoke: false }), (e: unknown) => e instanceof PullRefused && /timestamp/i.test(e.message));
  // the hub keeps serving with the new keys (publish re-signs snapshot and timestamp)
  dev.proxy.hook = () => undefined;
  await publish(h, 'churn', 3, [team.key], team.token);
  assert.equal((await pull({ home: dev.home, hubUrl: dev.proxy.url, ref: 'churn', smoke: false })).model.version, 3);
});
