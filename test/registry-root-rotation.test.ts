// Root key rotation (TUF 5.3): a new root must be signed by the current root keys AND the new ones.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { Metadata, Root } from '@tufjs/models';
import { generateKeyFile, signerFor } from '../src/keys/node/keys.ts';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { rotateRoot } from '../src/hub/node/repository.ts';
import { parseRoot, serialize } from '../src/hub/node/tuf-metadata.ts';
import { PullRefused } from '../src/registry/node/errors.ts';
import { pull } from '../src/registry/node/pull.ts';
import { trustPaths } from '../src/registry/node/trust.ts';
import { openStore } from '../src/store/node/store.ts';
import { makePackage, startTestHub, tmpDir } from './helpers/hub-fixtures.ts';
import { startProxy } from './helpers/hub-proxy.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => { for (const c of cleanups) await c(); });

test('root rotation signed only by the new keys is refused; properly cross-signed is accepted', async () => {
  const h = await startTestHub();
  cleanups.push(() => h.close());
  const work = tmpDir('outpost-rot-');
  const p = h.publishers['churn-team'];
  await publishPackage({ packageDir: makePackage(work, 'churn', 1), hubUrl: h.url, keys: [p.key], token: p.token });
  const proxy = await startProxy(h.url);
  cleanups.push(() => proxy.close());
  const home = path.join(work, 'home');
  await pull({ home, hubUrl: proxy.url, ref: 'churn@1', rootFile: h.trustRoot, smoke: false });
  const pinned = () => parseRoot(fs.readFileSync(path.join(trustPaths(home, proxy.url).metadata, 'root.json'), 'utf8')).signed.version;
  assert.equal(pinned(), 1);

  const newKey = generateKeyFile(path.join(work, 'new-root.key'));
  // An attacker with a key of their own: a root v2 naming it, signed by it alone.
  const cur = parseRoot((await h.hub.storage.latestMetadata('root'))!.body);
  const json = cur.signed.toJSON() as Record<string, unknown>;
  const forged = new Metadata(Root.fromJSON({
    ...json, version: 2,
    keys: { ...(json.keys as object), [newKey.keyId]: newKey.tufKey.toJSON() },
    roles: { ...(json.roles as object), root: { keyids: [newKey.keyId], threshold: 1 } },
  } as never));
  forged.sign(signerFor(newKey));
  proxy.hook = (pth) => (pth === '/metadata/2.root.json' ? { kind: 'respond', body: Buffer.from(serialize(forged)) } : undefined);
  await assert.rejects(pull({ home, hubUrl: proxy.url, ref: 'churn@1', smoke: false }), (e: unknown) => e instanceof PullRefused && e.stage === 'metadata' && /root was signed by 0\/1 keys/.test(e.message));
  assert.equal(pinned(), 1, 'the device still trusts root v1');
  const store = openStore(home);
  assert.equal((store.db.prepare("SELECT count(*) AS n FROM security_events WHERE kind = 'pull-refused:metadata'").get() as { n: number }).n, 1);
  store.close();

  // The hub itself refuses to publish a rotation without the current root's signature.
  await assert.rejects(rotateRoot(h.hub, { newRootKey: newKey, currentRootKeys: [] }), /new root refused/);

  // Proper rotation: signed by the current root key and the new one.
  proxy.hook = () => undefined;
  assert.equal(await rotateRoot(h.hub, { newRootKey: newKey, currentRootKeys: [h.rootKey] }), 2);
  const r = await pull({ home, hubUrl: proxy.url, ref: 'churn@1', smoke: false });
  assert.equal(r.model.version, 1);
  assert.equal(pinned(), 2, 'the device now trusts root v2');

  // The retired key can no longer rotate anything.
  const v3 = new Metadata(Root.fromJSON({ ...(parseRoot((await h.hub.storage.latestMetadata('root'))!.body).signed.toJSON() as object), version: 3 } as never));
  v3.sign(signerFor(h.rootKey));
  proxy.hook = (pth) => (pth === '/metadata/3.root.json' ? { kind: 'respond', body: Buffer.from(serialize(v3)) } : undefined);
  await assert.rejects(pull({ home, hubUrl: proxy.url, ref: 'churn@1', smoke: false }), (e: unknown) => e instanceof PullRefused && /signed by 0\/1 keys/.test(e.message));
  assert.equal(pinned(), 2);
  fs.rmSync(work, { recursive: true, force: true });
});
