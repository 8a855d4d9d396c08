// `outpost demo`'s registry round trip: a throw-away hub with demo keys on loopback, the package
// published signed, then pulled through the full verified path into the real store. The demo never
// installs unsigned.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addPublisher, initHub, openHub } from '../../hub/node/repository.ts';
import { hubPaths } from '../../hub/node/hub-dir.ts';
import { offlineKeyPaths } from '../../hub/node/offline-keys.ts';
import { publishPackage } from '../../hub/node/publish-client.ts';
import { startHubServer } from '../../hub/node/server.ts';
import { generateKeyFile, loadPrivateKey } from '../../keys/node/keys.ts';
import { openStore, type Store } from '../../store/node/store.ts';
import { forgetOrigin, type InstalledModel } from '../../store/node/models.ts';
import { pull } from './pull.ts';
import { trustPaths } from './trust.ts';

export interface EmbeddedDemoResult {
  model: InstalledModel;
  hubUrl: string;
  publisher: string;
  signerKeyId: string;
  signedBy: string;
  alreadyInstalled: boolean;
}

export async function runEmbeddedDemoHub(opts: { packageDir: string; home: string; store?: Store; log?: (line: string) => void; signal?: AbortSignal; smoke?: boolean }): Promise<EmbeddedDemoResult> {
  const log = opts.log ?? (() => undefined);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-demo-hub-'));
  const dir = path.join(work, 'hub');
  const offline = path.join(work, 'offline-keys');
  try {
    await initHub(dir, { offlineKeysDir: offline });
    const hub = await openHub(dir);
    try {
      const key = generateKeyFile(path.join(dir, 'publisher', 'demo.key'));
      const { token } = await addPublisher(hub, { name: 'demo', keys: [key.tufKey], modelsGlob: '*', targetsKey: loadPrivateKey(offlineKeyPaths(offline).targets) });
      const server = await startHubServer(hub);
      try {
        log(`demo hub on ${server.url} (throw-away keys in ${dir})`);
        const pub = await publishPackage({ packageDir: opts.packageDir, hubUrl: server.url, keys: [key], token: token!, alias: 'production', signal: opts.signal, checks: opts.smoke === false ? 'static' : 'full' });
        const v = pub.versions[0] ?? { name: '', version: 0 };
        log(`published ${v.name}@${v.version} signed by publisher "demo" (key ${key.keyId.slice(0, 16)})`);
        const name = JSON.parse(fs.readFileSync(path.join(opts.packageDir, 'card.json'), 'utf8')).name as string;
        const r = await pull({ home: opts.home, store: opts.store, hubUrl: server.url, ref: `${name}:production`, rootFile: hubPaths(dir).trustRoot, signal: opts.signal, smoke: opts.smoke, switchHub: true });
        log(r.alreadyInstalled ? `${r.model.name}@${r.model.version} already installed; files re-verified` : `pulled ${r.model.name}@${r.model.version}: TUF metadata, hashes, model safety, card and smoke inference verified`);
        // The hub is gone after this: its trust folder would only be clutter, and there is no hub to
        // refresh the version's metadata from (so no offline-grace check applies to it).
        const store = opts.store ?? openStore(opts.home);
        try { forgetOrigin(store, r.model.name, r.model.version, `installed by \`outpost demo\` from a throw-away hub (${server.url}), verified at ${new Date().toISOString()}`); } finally { if (!opts.store) store.close(); }
        const t = trustPaths(opts.home, server.url);
        fs.rmSync(t.dir, { recursive: true, force: true });
        fs.rmSync(t.quarantine, { recursive: true, force: true });
        return { model: r.model, hubUrl: server.url, publisher: 'demo', signerKeyId: key.keyId, signedBy: r.signedBy, alreadyInstalled: r.alreadyInstalled };
      } finally {
        await server.close();
      }
    } finally {
      await hub.close();
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
