// Issue 13: a network pull verifies at ≥ 0.8× the sha256 speed of the same bytes (one pass: hash
// while downloading; model-safety and card checks from that pass). One hub process (a child on
// loopback) serves a large signed model (200 MB; quick: 20 MB); the device pulls it into fresh data
// folders (smoke inference excluded, as in the `hub` case). Baselines in the same run: the tightest
// sha256 of the file (`sha256FileTight`, shared with the bundle case; the streamed one of runs before
// 2026-12-03 alongside), and one fetch-hash-write pass over the same loopback transport.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addPublisher, initHub, openHub } from '../../src/hub/node/repository.ts';
import { hubPaths } from '../../src/hub/node/hub-dir.ts';
import { offlineKeyPaths } from '../../src/hub/node/offline-keys.ts';
import { publishPackage } from '../../src/hub/node/publish-client.ts';
import { generateKeyFile, loadPrivateKey } from '../../src/keys/node/keys.ts';
import { cardFor } from '../../test/helpers/hub-fixtures.ts';
import { tempHome } from '../lib.ts';
import { bigModel, measurePull, spawnHub, type HubProcess } from './hub.ts';

/** A hub folder with one publisher allowed `big`, and a package of a `bytes`-byte model `big@1` (not yet published). */
export async function bigModelHub(root: string, bytes: number) {
  const dir = path.join(root, 'hub');
  const off = path.join(root, 'offline');
  await initHub(dir, { offlineKeysDir: off });
  const h = await openHub(dir);
  const key = generateKeyFile(path.join(root, 'pub.key'));
  const { token } = await addPublisher(h, { name: 'big-team', keys: [key.tufKey], modelsGlob: 'big', targetsKey: loadPrivateKey(offlineKeyPaths(off).targets) });
  await h.close();
  const pkg = path.join(root, 'pkg');
  fs.mkdirSync(pkg);
  fs.writeFileSync(path.join(pkg, 'model.onnx'), bigModel(bytes));
  fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify(cardFor('big', 1), null, 2));
  return { dir, pkg, bigFile: path.join(pkg, 'model.onnx'), key, token: token!, trustRoot: hubPaths(dir).trustRoot };
}

export async function run(opts: { quick: boolean }) {
  const root = tempHome();
  const homes: string[] = [];
  let hub: HubProcess | undefined;
  try {
    const b = await bigModelHub(root, opts.quick ? 20e6 : 200e6);
    hub = await spawnHub(b.dir);
    await publishPackage({ packageDir: b.pkg, hubUrl: hub.url, keys: [b.key], token: b.token, checks: 'none' });
    const r = await measurePull({
      url: hub.url, trustRoot: b.trustRoot, bigFile: b.bigFile, runs: opts.quick ? 3 : 5, scratch: root, hubCpuSeconds: hub.cpuSeconds,
      home: () => { const x = tempHome(); homes.push(x); return x; },
      dropHome: (x) => fs.rmSync(x, { recursive: true, force: true }),
    });
    return { ...r, load: { loadavg1: os.loadavg()[0], cpus: os.cpus().length }, note: 'the hub process shares the CPUs with the device here; singlePass* is one fetch-hash-write pass over the same loopback transport; transport.* the same with the download\'s own reader (ringGet)' };
  } finally {
    await hub?.stop();
    for (const x of homes) fs.rmSync(x, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
}
