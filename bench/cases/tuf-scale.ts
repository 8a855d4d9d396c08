// Issue 13: publish and metadata refresh at 1,000 and 10,000 versions of one model ≤ 100 ms each
// (version bins: a publish re-signs the publisher's role and one bin; a refresh fetches only the
// roles whose version changed). One hub process (a child on loopback). The catalog is grown in
// signed requests of 100 versions (one bin each; the model file is shared, every card is its own
// blob); at each size: `outpost publish` of a small package (median of 5, sequential), and a device's
// metadata refresh (tuf-js refresh + the model's roles: `connectHub` + `listTargets`), cold (fresh
// data folder, pinned root only) and warm (the same device again after one more publish). The
// baseline of each figure is the same measurement with 20 published versions, in the same run.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TargetFile, type Metadata, type Targets } from '@tufjs/models';
import { encodeModel } from '../../src/onnx/common/onnx.ts';
import { addPublisher, initHub, openHub } from '../../src/hub/node/repository.ts';
import { hubPaths } from '../../src/hub/node/hub-dir.ts';
import { offlineKeyPaths } from '../../src/hub/node/offline-keys.ts';
import { binsToResign, signBinned } from '../../src/hub/node/bins.ts';
import { publishPackage } from '../../src/hub/node/publish-client.ts';
import { addSeconds, parseUntrustedTargets } from '../../src/hub/node/tuf-metadata.ts';
import { generateKeyFile, loadPrivateKey, type PrivateKeyHandle } from '../../src/keys/node/keys.ts';
import { connectHub } from '../../src/registry/node/tuf-client.ts';
import { pinRoot } from '../../src/registry/node/trust.ts';
import { cardFor } from '../../test/helpers/hub-fixtures.ts';
import { tempHome } from '../lib.ts';
import { modelGraph, pool, spawnHub, type HubProcess } from './hub.ts';

const sha256 = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function api<T>(url: string, token: string, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(p, url), { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Publish `versions` (one block) in one signed request, as `outpost publish` signs (bins), uploading blobs 8 at a time. */
async function bulk(url: string, token: string, key: PrivateKeyHandle, name: string, versions: number[], model: Uint8Array): Promise<void> {
  const me = await api<{ name: string; threshold: number; metadata: unknown }>(url, token, 'GET', '/api/v1/publishers/me');
  const prev = me.metadata ? parseUntrustedTargets(me.metadata) : undefined;
  const custom = { custom: { outpost: { publisher: me.name, signedAt: new Date().toISOString() } } };
  const blobs = new Map<string, Uint8Array>([[sha256(model), model]]);
  const add: TargetFile[] = [];
  for (const v of versions) {
    const card = Buffer.from(JSON.stringify(cardFor(name, v), null, 2));
    blobs.set(sha256(card), card);
    add.push(new TargetFile({ path: `${name}/${v}/model.onnx`, length: model.length, hashes: { sha256: sha256(model) }, unrecognizedFields: custom }));
    add.push(new TargetFile({ path: `${name}/${v}/card.json`, length: card.length, hashes: { sha256: sha256(card) }, unrecognizedFields: custom }));
  }
  const plan = { publisher: me.name, prev, add, keys: [key], threshold: me.threshold, expires: addSeconds(new Date(), 365 * 86_400) };
  const current = new Map<string, Metadata<Targets>>();
  for (const n of binsToResign(plan)) current.set(n, parseUntrustedTargets(await (await fetch(new URL(`/metadata/${n}.json`, url))).json()));
  const s = signBinned({ ...plan, prevBin: (n) => current.get(n) });
  const begin = await api<{ id: string; needed: { sha256: string }[] }>(url, token, 'POST', '/api/v1/uploads', { metadata: s.publisher.toJSON(), bins: s.bins.map((b) => ({ name: b.name, metadata: b.metadata.toJSON() })) });
  await pool(begin.needed, 8, async (n) => {
    const res = await fetch(new URL(`/api/v1/uploads/${begin.id}/${n.sha256}`, url), { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: blobs.get(n.sha256)! });
    if (res.status !== 201) throw new Error(`upload ${res.status}`);
  });
  await api(url, token, 'POST', `/api/v1/uploads/${begin.id}/commit`);
}

export async function run(opts: { quick: boolean }) {
  const sizes = opts.quick ? [200, 1000] : [1000, 10_000];
  const root = tempHome();
  const homes: string[] = [];
  let hub: HubProcess | undefined;
  try {
    const dir = path.join(root, 'hub');
    const off = path.join(root, 'offline');
    await initHub(dir, { offlineKeysDir: off });
    const h = await openHub(dir);
    const key = generateKeyFile(path.join(root, 'pub.key'));
    const { token } = await addPublisher(h, { name: 'many-team', keys: [key.tufKey], modelsGlob: 'many', targetsKey: loadPrivateKey(offlineKeyPaths(off).targets) });
    await h.close();
    hub = await spawnHub(dir);
    const url = hub.url;
    const trustRoot = hubPaths(dir).trustRoot;
    const model = encodeModel(modelGraph(1));
    const pkgs = path.join(root, 'pkgs');
    let published = 0;
    const publishOne = async (): Promise<number> => {
      const v = ++published;
      const pkg = path.join(pkgs, String(v));
      fs.mkdirSync(pkg, { recursive: true });
      fs.writeFileSync(path.join(pkg, 'model.onnx'), model);
      fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify(cardFor('many', v), null, 2));
      const t = performance.now();
      await publishPackage({ packageDir: pkg, hubUrl: url, keys: [key], token: token!, checks: 'none' });
      const ms = performance.now() - t;
      fs.rmSync(pkg, { recursive: true, force: true });
      return ms;
    };
    const growTo = async (n: number) => {
      while (published < n) {
        const from = published + 1;
        const to = Math.min(n, Math.floor(from / 100) * 100 + 99); // to the end of its block: one bin per request
        await bulk(url, token!, key, 'many', Array.from({ length: to - from + 1 }, (_, i) => from + i), model);
        published = to;
      }
    };
    const measure = async (label: string) => {
      const publish: number[] = [];
      for (let i = 0; i < 5; i++) publish.push(await publishOne());
      const cold: number[] = [];
      const warm: number[] = [];
      let fetched = { roles: 0, bytes: 0, targetPaths: 0 };
      for (let i = 0; i < 3; i++) {
        const home = tempHome();
        homes.push(home);
        pinRoot(home, url, trustRoot);
        let t = performance.now();
        let c = await connectHub(home, url);
        let r = await c.listTargets('many');
        cold.push(performance.now() - t);
        fetched = { roles: r.roles.length, bytes: r.roles.reduce((n, x) => n + JSON.stringify(x.metadata.toJSON()).length, 0), targetPaths: r.paths.length };
        await publishOne();
        t = performance.now();
        c = await connectHub(home, url);
        r = await c.listTargets('many');
        warm.push(performance.now() - t);
      }
      return { label, versions: published, publishMs: { median: median(publish), runs: publish }, refreshColdMs: { median: median(cold), runs: cold }, refreshWarmMs: { median: median(warm), runs: warm }, rolesRead: fetched };
    };
    await growTo(20);
    const base = await measure('baseline (20 versions)');
    const at: Awaited<ReturnType<typeof measure>>[] = [];
    for (const n of sizes) {
      const t = performance.now();
      await growTo(n);
      const growMs = performance.now() - t;
      at.push({ ...(await measure(`${n} versions`)), growMs } as never);
    }
    return {
      what: 'publish = `outpost publish` of a small package (checks none), sequential; refresh = connectHub + listTargets(model) on a device, cold (fresh data folder) and warm (after one more publish)',
      baseline: base,
      at,
      ratios: Object.fromEntries(at.map((a) => [a.label, { publishOverBaseline: a.publishMs.median / base.publishMs.median, refreshColdOverBaseline: a.refreshColdMs.median / base.refreshColdMs.median, refreshWarmOverBaseline: a.refreshWarmMs.median / base.refreshWarmMs.median }])),
      target: { msEach: 100, metAt1000: at.filter((a) => a.versions >= 1000 && a.versions < 2000).every((a) => a.publishMs.median <= 100 && a.refreshColdMs.median <= 100 && a.refreshWarmMs.median <= 100) },
      load: { loadavg1: os.loadavg()[0], cpus: os.cpus().length },
    };
  } finally {
    await hub?.stop();
    for (const x of homes) fs.rmSync(x, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
}
