// App updates through the same trust as models: a release is published to a hub on loopback by the
// publisher delegated `outpost-app-*`, and a workstation checks, downloads and stages it through
// TUF like a model pull. Unsigned (wrong publisher), tampered (blob changed on the hub) and
// rolled-back (older version) releases are refused; nothing is staged for them.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { checkPublish } from '../src/hub/common/publish-policy.ts';
import { parseReleaseDocument, releaseDocumentBytes, updateDecision } from '../src/hub/common/app-release.ts';
import { compareVersions } from '../src/registry/node/app-update.ts';
import { OUTPOST_VERSION } from '../src/sync/node/device.ts';
import { openStore } from '../src/store/node/store.ts';
import { lastJson, runMain } from './helpers/cli.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { modelsOverview } from '../src/hub/node/fleet-models.ts';

let h: TestHub;
const work = tmpDir('outpost-appupd-');
const home = path.join(work, 'workstation');
const PLATFORM = 'linux-x64';
before(async () => { h = await startTestHub({ publishers: [{ name: 'outpost-app', glob: 'outpost-app-*' }, { name: 'churn-team', glob: 'churn*' }] }); });
after(async () => { await h.close(); fs.rmSync(work, { recursive: true, force: true }); });

function installer(name: string, size = 256 * 1024): { file: string; bytes: Buffer } {
  const bytes = crypto.randomBytes(size);
  const file = path.join(work, name);
  fs.writeFileSync(file, bytes);
  return { file, bytes };
}
const publish = (file: string, release: number, version: string, publisher = 'outpost-app') => runMain(
  ['hub', 'app', 'publish', file, '--platform', PLATFORM, '--release', String(release), '--app-version', version, '--hub', h.url, '--key', h.publishers[publisher].key.file, '--home', path.join(work, 'publisher'), '--json'],
  { env: { OUTPOST_PUBLISH_TOKEN: h.publishers[publisher].token } });
const update = (...extra: string[]) => runMain(['app', 'update', '--hub', h.url, '--platform', PLATFORM, '--home', home, '--json', ...extra]);
const securityEvents = (): string[] => {
  const store = openStore(home);
  try { return (store.db.prepare('SELECT kind FROM security_events ORDER BY id').all() as { kind: string }[]).map((r) => r.kind); } finally { store.close(); }
};

test('no release yet; then a newer signed release is reported, downloaded, verified and staged', async () => {
  const v2 = installer('Outpost-9.2.0-linux-x86_64.AppImage');
  const pub = await publish(v2.file, 1, '9.2.0');
  assert.equal(pub.code, 0, pub.err);
  assert.deepEqual(lastJson(pub.out).versions, [{ name: `outpost-app-${PLATFORM}`, version: 1 }]);

  const none = await runMain(['app', 'update', '--hub', h.url, '--platform', 'darwin-arm64', '--home', home, '--json', '--root', h.trustRoot, '--check']);
  assert.equal(none.code, 0, none.err);
  assert.equal(lastJson(none.out).state, 'none', 'nothing signed for that platform');

  const check = await update('--check');
  assert.equal(check.code, 0, check.err);
  assert.equal(lastJson(check.out).state, 'available');
  assert.equal(fs.existsSync(path.join(home, 'updates', 'pending.json')), false, '--check downloads nothing');

  const got = await update();
  assert.equal(got.code, 0, got.err);
  const r = lastJson(got.out) as { state: string; installer: string; release: { version: string; release: number; file: string } };
  assert.equal(r.state, 'staged');
  assert.deepEqual(r.release, { app: 'outpost', platform: PLATFORM, release: 1, version: '9.2.0', file: 'Outpost-9.2.0-linux-x86_64.AppImage' });
  assert.equal(r.installer, path.join(home, 'updates', '1', 'Outpost-9.2.0-linux-x86_64.AppImage'));
  assert.ok(fs.readFileSync(r.installer).equals(v2.bytes), 'the staged installer is the published one');
  const pending = JSON.parse(fs.readFileSync(path.join(home, 'updates', 'pending.json'), 'utf8')) as { installer: string; version: string; sha256: string; length: number };
  assert.equal(pending.installer, r.installer);
  assert.equal(pending.sha256, crypto.createHash('sha256').update(v2.bytes).digest('hex'), 'the signed sha256 is kept to check the file again before it is installed');
  assert.equal(pending.length, v2.bytes.length);
  assert.deepEqual(fs.readdirSync(path.join(home, 'updates')).filter((f) => f.startsWith('.quarantine')), []);

  // checking again keeps the staged copy (and "install on restart") while it still hashes right
  const file = path.join(home, 'updates', 'pending.json');
  fs.writeFileSync(file, JSON.stringify({ ...pending, installOnRestart: true }));
  const mtime = fs.statSync(r.installer).mtimeMs;
  const again = await update();
  assert.equal(again.code, 0, again.err);
  assert.equal(lastJson(again.out).state, 'staged');
  assert.equal((JSON.parse(fs.readFileSync(file, 'utf8')) as { installOnRestart?: boolean }).installOnRestart, true, 'the choice is kept');
  assert.equal(fs.statSync(r.installer).mtimeMs, mtime, 'not downloaded again');
  // a staged copy that no longer hashes right is downloaded afresh (and the choice is asked again)
  fs.appendFileSync(r.installer, 'x');
  assert.equal((await update()).code, 0);
  assert.ok(fs.readFileSync(r.installer).equals(v2.bytes), 'replaced by the signed bytes');
  assert.equal((JSON.parse(fs.readFileSync(file, 'utf8')) as { installOnRestart?: boolean }).installOnRestart, undefined);
});

test('unsigned: a publisher not delegated outpost-app-* cannot publish a release; release numbers only grow', async () => {
  const rogue = installer('Outpost-9.9.9-linux-x86_64.AppImage');
  const r = await publish(rogue.file, 2, '9.9.9', 'churn-team');
  assert.equal(r.code, 1);
  assert.match(r.err, /outside what publisher "churn-team" is delegated to sign/);
  const legit = installer('Outpost-9.2.1-linux-x86_64.AppImage');
  assert.equal((await publish(legit.file, 2, '9.2.1')).code, 0);
  const again = await publish(rogue.file, 2, '9.9.9');
  assert.equal(again.code, 1);
  assert.match(again.err, /already published with other contents/);
  const lower = await publish(rogue.file, 1, '9.9.9');
  assert.equal(lower.code, 1);
  assert.match(lower.err, /version numbers only grow \(latest published is 2\)/);
});

test('tampered: an installer changed on the hub after signing is refused at download; nothing new is staged', async () => {
  const v3 = installer('Outpost-9.3.0-linux-x86_64.AppImage');
  assert.equal((await publish(v3.file, 3, '9.3.0')).code, 0);
  const sha = crypto.createHash('sha256').update(v3.bytes).digest('hex');
  const blob = h.hub.blobs.path(sha);
  const evil = Buffer.from(v3.bytes);
  evil[1000] ^= 0xff;
  fs.chmodSync(blob, 0o600);
  fs.writeFileSync(blob, evil);
  const r = await update();
  assert.equal(r.code, 1);
  assert.match(r.err, /app update refused at (download|verify): .*(sha256|hash)/i);
  assert.equal(fs.existsSync(path.join(home, 'updates', '3')), false);
  assert.equal((JSON.parse(fs.readFileSync(path.join(home, 'updates', 'pending.json'), 'utf8')) as { release: number }).release, 1, 'the staged release stays');
  assert.ok(securityEvents().some((k) => /^app-update-refused:(download|verify)$/.test(k)), securityEvents().join(', '));
});

test('rolled back: a newest signed release older than the running version is refused and recorded', async () => {
  const old = installer('Outpost-0.0.1-linux-x86_64.AppImage');
  assert.equal((await publish(old.file, 4, '0.0.1')).code, 0, 'the hub takes it: release numbers grow');
  const r = await update();
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`app update refused at rollback: the newest signed release for ${PLATFORM} is 0\\.0\\.1 \\(release 4\\), older than the running ${OUTPOST_VERSION.replaceAll('.', '\\.')}`));
  assert.equal(fs.existsSync(path.join(home, 'updates', '4')), false);
  assert.ok(securityEvents().includes('app-update-refused:rollback'));
});

test('the model catalog (/api/v1/models, the console\'s models) leaves app releases out; app update still finds them', async () => {
  const pub = await runMain(['publish', makePackage(work, 'churn', 1), '--hub', h.url, '--key', h.publishers['churn-team'].key.file, '--home', path.join(work, 'publisher'), '--json'],
    { env: { OUTPOST_PUBLISH_TOKEN: h.publishers['churn-team'].token } });
  assert.equal(pub.code, 0, pub.err);
  const stored = [...new Set((await h.hub.storage.modelVersions()).map((v) => v.name))].sort();
  assert.deepEqual(stored, ['churn', `outpost-app-${PLATFORM}`], 'precondition: the hub holds both');
  const list = (await (await fetch(`${h.url}/api/v1/models`)).json()) as { models: { name: string }[] };
  assert.deepEqual(list.models.map((m) => m.name), ['churn']);
  const one = await fetch(`${h.url}/api/v1/models/outpost-app-${PLATFORM}`);
  assert.equal(one.status, 404);
  assert.equal((await fetch(`${h.url}/api/v1/models/churn`)).status, 200);
  assert.deepEqual((await modelsOverview(h.hub, { devices: [] })).map((m) => m.name), ['churn']);
  const check = await update('--check');
  assert.equal(check.code, 1, 'the newest release (4, 0.0.1) is still found and refused as a rollback');
  assert.match(check.err, /release 4/);
  // a release is not a model: pulling one is bad usage, not a refused (security-event) pull
  const events = securityEvents().length;
  const pull = await runMain(['pull', `outpost-app-${PLATFORM}`, '--hub', h.url, '--home', home]);
  assert.equal(pull.code, 2, pull.err);
  assert.match(pull.err, /"outpost-app-linux-x64" is an Outpost app release, not a model: use `outpost app update`/);
  assert.equal(securityEvents().length, events);
});

test('release documents, release files and version order (pure)', () => {
  const doc = { app: 'outpost' as const, platform: PLATFORM, release: 5, version: '1.2.3', file: 'Outpost.AppImage' };
  assert.deepEqual(parseReleaseDocument(releaseDocumentBytes(doc), { platform: PLATFORM, release: 5 }), { ok: true, doc });
  assert.match((parseReleaseDocument(releaseDocumentBytes(doc), { platform: 'win32-x64', release: 5 }) as { reason: string }).reason, /is for platform "linux-x64", published as win32-x64/);
  assert.match((parseReleaseDocument(releaseDocumentBytes(doc), { platform: PLATFORM, release: 6 }) as { reason: string }).reason, /says release 5, published as release 6/);
  assert.match((parseReleaseDocument(releaseDocumentBytes({ ...doc, file: '../x' }), { platform: PLATFORM, release: 5 }) as { reason: string }).reason, /not an installer file name/);
  assert.match((parseReleaseDocument('{', { platform: PLATFORM, release: 5 }) as { reason: string }).reason, /not JSON/);
  const entry = { length: 1, sha256: 'a'.repeat(64) };
  const next = (files: string[]) => Object.fromEntries(files.map((f) => [`outpost-app-linux-x64/1/${f}`, entry]));
  const policy = (files: string[]) => checkPublish({ publisher: 'outpost-app', previous: {}, next: next(files), isDelegated: () => true, latestVersion: () => undefined }).problems;
  assert.deepEqual(policy(['release.json', 'Outpost.AppImage']), []);
  assert.match(policy(['Outpost.AppImage']).join(), /missing release\.json/);
  assert.match(policy(['release.json', 'a.AppImage', 'b.deb']).join(), /exactly one installer \(it has 2\)/);
  assert.match(checkPublish({ publisher: 'x', previous: {}, next: { 'churn/1/release.json': entry, 'churn/1/x.bin': entry }, isDelegated: () => true, latestVersion: () => undefined }).problems.join(), /missing card\.json, model\.onnx/, 'only outpost-app-<platform> names hold releases');
  assert.equal(compareVersions('0.10.0', '0.9.9'), 1);
  assert.equal(compareVersions('1.0.0-rc.1', '1.0.0'), -1);
  assert.equal(compareVersions('1.0.0', '1.0.0'), 0);
  assert.equal(updateDecision(3, undefined), 'none');
  assert.equal(updateDecision(3, 4), 'newer');
});
