// Issue 10: yanking (signed by the publisher; devices refuse new installs, flag installed copies,
// aliases can never point at a yanked version), metadata refresh that installs nothing
// (`models check` / refreshMetadata), hub unavailability that is not a security event, and the
// offline grace check failing closed.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TargetFile } from '@tufjs/models';
import { OutpostError } from '../src/common/errors.ts';
import { publishPackage, signPublisherTargets, submitSigned } from '../src/hub/node/publish-client.ts';
import { addSeconds, parseTargets } from '../src/hub/node/tuf-metadata.ts';
import { PullUnavailable } from '../src/registry/node/errors.ts';
import { checkServable, pull } from '../src/registry/node/pull.ts';
import { refreshMetadata } from '../src/registry/node/refresh.ts';
import { trustPaths } from '../src/registry/node/trust.ts';
import { getModel } from '../src/store/node/models.ts';
import { openStore } from '../src/store/node/store.ts';
import { runMain as run } from './helpers/cli.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { startProxy, type Proxy } from './helpers/hub-proxy.ts';

let h: TestHub;
const work = tmpDir('outpost-fresh-');
const proxies: Proxy[] = [];
after(async () => {
  for (const p of proxies) await p.close();
  await h.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const team = () => h.publishers['churn-team'];
const publish = (version: number, alias?: string) => publishPackage({ packageDir: makePackage(work, 'churn', version), hubUrl: h.url, keys: [team().key], token: team().token, alias });
const yank = (ref: string, reason: string) => run(['hub', 'yank', ref, '--reason', reason, '--hub', h.url, '--key', team().key.file, '--home', path.join(work, 'team-home')], { env: { OUTPOST_PUBLISH_TOKEN: team().token } });

async function device(ref: string) {
  const proxy = await startProxy(h.url);
  proxies.push(proxy);
  const home = path.join(work, `dev-${proxies.length}`);
  await pull({ home, hubUrl: proxy.url, ref, rootFile: h.trustRoot, smoke: false });
  return { home, proxy };
}

function events(home: string): string[] {
  const store = openStore(home);
  try { return (store.db.prepare('SELECT kind FROM security_events').all() as { kind: string }[]).map((e) => e.kind); } finally { store.close(); }
}

before(async () => {
  h = await startTestHub();
  await publish(1);
  await publish(2, 'production');
});

test('yank: refused while an alias points at it; then devices refuse new installs, flag installed copies with the reason, skip it for "latest"', async () => {
  const dev = await device('churn@2');
  const blocked = await yank('churn@2', 'wrong scaler in preprocessing');
  assert.equal(blocked.code, 1);
  assert.match(blocked.err, /alias churn:production points at churn@2, which is yanked: move the alias to another version first/);
  await publish(3, 'production');
  const ok = await yank('churn@2', 'wrong scaler in preprocessing');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /yanked churn@2/);
  const again = await yank('churn@2', 'changed my mind');
  assert.equal(again.code, 1);
  assert.match(again.err, /already yanked; a yank is final/);
  assert.equal((await yank('churn@9', 'never published')).code, 1);

  // the device that runs churn@2: `models check` installs nothing and flags it
  const check = await run(['models', 'check', '--home', dev.home, '--json']);
  assert.equal(check.code, 0, check.err);
  const hubs = (JSON.parse(check.out) as { hubs: { state: string; models: { name: string; version: number; status: string; detail?: string }[] }[] }).hubs;
  assert.equal(hubs[0].state, 'ok');
  assert.deepEqual(hubs[0].models, [{ name: 'churn', version: 2, status: 'yanked', detail: 'wrong scaler in preprocessing' }]);
  const list = await run(['models', 'list', '--home', dev.home]);
  assert.match(list.out, /\* churn@2 .*\n    YANKED by its publisher: wrong scaler in preprocessing/);
  const store = openStore(dev.home);
  try { assert.deepEqual(store.db.prepare('SELECT version FROM models').all(), [{ version: 2 }], 'the check installed nothing'); } finally { store.close(); }

  // a fresh device: churn@2 is refused (not a security event), `churn` means the newest unyanked version
  const fresh = await device('churn@1');
  await assert.rejects(pull({ home: fresh.home, hubUrl: fresh.proxy.url, ref: 'churn@2', smoke: false }), (e: unknown) => e instanceof OutpostError && e.code === 'conflict' && /churn@2 was yanked by its publisher: wrong scaler in preprocessing/.test(e.message));
  await publish(4);
  assert.equal((await yank('churn@4', 'leaks the label')).code, 0);
  assert.equal((await pull({ home: fresh.home, hubUrl: fresh.proxy.url, ref: 'churn', smoke: false })).model.version, 3);
  assert.deepEqual(events(fresh.home), []);

  // an alias signed to point at a yanked version is refused by the hub
  const cur = parseTargets((await h.hub.storage.latestMetadata('churn-team'))!.body);
  const doc = Buffer.from(JSON.stringify({ name: 'churn', alias: 'production', version: 4 }));
  const sha = crypto.createHash('sha256').update(doc).digest('hex');
  const md = signPublisherTargets(cur, [new TargetFile({ path: 'churn/aliases/production.json', length: doc.length, hashes: { sha256: sha } })], [team().key], addSeconds(new Date(), 86_400));
  await assert.rejects(submitSigned(h.url, team().token, md, [{ sha256: sha, label: 'alias', bytes: doc }]), /points at churn@4, which is yanked/);
});

test('a hub answering 5xx (or gone) is unavailability, not a security event', async () => {
  const dev = await device('churn@1');
  dev.proxy.hook = (p) => (p.startsWith('/metadata/') ? { kind: 'respond', status: 503, body: Buffer.from('{"ok":false}') } : undefined);
  await assert.rejects(pull({ home: dev.home, hubUrl: dev.proxy.url, ref: 'churn@3', smoke: false }), (e: unknown) => e instanceof PullUnavailable && /answered 503/.test(e.message));
  const [r] = await refreshMetadata({ home: dev.home });
  assert.equal(r.state, 'unavailable');
  await dev.proxy.close();
  const check = await run(['models', 'check', '--home', dev.home]);
  assert.equal(check.code, 0, check.err);
  assert.match(check.out, /unavailable \(.*unreachable.*\); installed models keep being served within their offline grace period/);
  assert.deepEqual(events(dev.home), []);
});

test('offline grace fails closed: no verified timestamp, no serving; a refresh restores it', async () => {
  const dev = await device('churn@1');
  const store = openStore(dev.home);
  const model = getModel(store, 'churn@1');
  store.close();
  assert.deepEqual(checkServable(dev.home, model), { ok: true });
  fs.rmSync(path.join(trustPaths(dev.home, dev.proxy.url).metadata, 'timestamp.json'));
  assert.throws(() => checkServable(dev.home, model), /holds no verified timestamp .*refusing to serve it until metadata is refreshed \(`outpost models check`/);
  const [r] = await refreshMetadata({ home: dev.home });
  assert.equal(r.state, 'ok');
  assert.deepEqual(checkServable(dev.home, model), { ok: true });
  // a timestamp file someone edited (signature no longer verifies) counts as none
  const ts = path.join(trustPaths(dev.home, dev.proxy.url).metadata, 'timestamp.json');
  fs.writeFileSync(ts, fs.readFileSync(ts, 'utf8').replace(/"expires":"[^"]+"/, '"expires":"2099-01-01T00:00:00Z"'));
  assert.throws(() => checkServable(dev.home, model), /holds no verified timestamp/);
});
