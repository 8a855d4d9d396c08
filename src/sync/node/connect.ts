// `outpost connect`: enroll this workstation with a hub. Pins the hub's root of trust (as `pull
// --root` does), creates the device key pair, redeems the one-time code with the public key (and a
// proof that this workstation holds the private key), and records the hub as this workstation's hub.
// From then on the outbox is written; the installed models and a heartbeat are queued first so the
// hub knows what this workstation runs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { connectionFailure, prepareHubTrust, requireSafeTransport } from '../../registry/node/hub-tls.ts';
import { generateKeyFile, publicKeyFile } from '../../keys/node/keys.ts';
import { hubBase, hubId, isEnrolled, pinRoot } from '../../registry/node/trust.ts';
import { listModels } from '../../store/node/models.ts';
import { enqueue } from '../../store/node/outbox.ts';
import { setHubSetting, type Store } from '../../store/node/store.ts';
import { hubConnection, setHubConnection, type HubConnection } from '../../store/node/sync-state.ts';
import { normalizeCode } from '../common/signature.ts';
import { DEVICE_KEY_FILE, deviceKey, enrollProofText, OUTPOST_VERSION, publicKeyPem } from './device.ts';
import { hubFailure } from './http.ts';
import { refreshHubMetadata } from './metadata.ts';

export interface ConnectOptions {
  hubUrl: string; rootFile?: string; code: string; signal?: AbortSignal; timeoutMs?: number;
  /** send the enrollment code over plain http to another machine (a trusted network only) */
  allowHttp?: boolean;
  /**
   * enroll again although connected (the hub revoked this workstation, or it moves to another
   * hub): a new device key, the new enrollment replacing the old one once the hub accepted it
   */
  replace?: boolean;
}

export async function connect(store: Store, opts: ConnectOptions): Promise<HubConnection> {
  const base = hubBase(opts.hubUrl);
  requireSafeTransport(base, 'enrollment code', opts.allowHttp ?? false);
  const code = normalizeCode(opts.code);
  if (!code) throw new OutpostError('usage', 'the enrollment code is not valid (16 characters, like ABCD-EFGH-JKMN-PQRS, from `outpost hub devices add`)');
  const existing = hubConnection(store);
  if (existing && !opts.replace) {
    throw new OutpostError('conflict', `this workstation is already connected to ${existing.url} as "${existing.name}" (to enroll it again — revoked by its hub, or moving to another — give a new code with --replace)`);
  }
  // A key made here is kept only once the hub accepted the enrollment (not after a used or expired
  // code, an unreachable hub). The root pinned stays, as after a pull the hub could not answer: the
  // enrollment does not test it (its first sync's metadata refresh does), and a retry needs it.
  if (opts.rootFile) pinRoot(store.home, base, opts.rootFile);
  const keyFile = path.join(store.home, DEVICE_KEY_FILE);
  const fresh = opts.replace || !fs.existsSync(keyFile);
  const pending = `${keyFile}.pending`;
  let d: { deviceId: string; name: string; group: string };
  try {
    if (!isEnrolled(store.home, base)) throw new OutpostError('usage', `this workstation does not trust ${base} yet: pass --root <root.json> (the hub operator's root.json)`);
    prepareHubTrust(store.home, base);
    // a new enrollment gets a new key (the hub refuses a key it already holds, e.g. a revoked device's)
    for (const f of [pending, publicKeyFile(pending)]) fs.rmSync(f, { force: true });
    fs.mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 }); // owner-only, as deviceKey makes it
    const key = fresh ? generateKeyFile(pending, { type: 'ed25519' }) : deviceKey(store.home, false);
    const pem = publicKeyPem(key);
    const proof = crypto.sign(null, Buffer.from(enrollProofText(code, pem)), key.privateKey).toString('base64');
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1/enroll`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code, publicKey: pem, proof, outpostVersion: OUTPOST_VERSION }),
        signal: AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? 30_000), ...(opts.signal ? [opts.signal] : [])]),
      });
    } catch (e) {
      throw new OutpostError('input', connectionFailure(base, e).message);
    }
    if (!res.ok) throw await hubFailure(res, 'enrollment');
    d = await res.json() as { deviceId: string; name: string; group: string };
    if (fresh) {
      // the hub holds the new public key: it becomes this workstation's key (the old one is of no use to the hub any more)
      fs.renameSync(publicKeyFile(pending), publicKeyFile(keyFile));
      fs.renameSync(pending, keyFile);
    }
  } catch (e) {
    for (const f of [pending, publicKeyFile(pending)]) fs.rmSync(f, { force: true });
    throw e;
  }
  const conn: HubConnection = { url: base, trustId: hubId(base), deviceId: d.deviceId, name: d.name, group: d.group, keyFile: DEVICE_KEY_FILE, connectedAt: new Date().toISOString() };
  store.db.transaction(() => {
    setHubConnection(store, conn);
    setHubSetting(store, { url: base, trustId: conn.trustId }); // this workstation's hub (pull, models check)
    // what this workstation runs: every installed version with its card (the hub needs baselines)
    for (const m of listModels(store)) {
      enqueue(store, 'model', {
        event: 'install', name: m.name, version: m.version, detail: `installed before connecting (${m.source})`, at: m.installedAt,
        cardSha256: m.cardSha256, modelSha256: m.modelSha256, source: m.source, signedBy: m.signedBy, card: readCard(m.dir),
      });
      if (m.active) enqueue(store, 'model', { event: 'activate', name: m.name, version: m.version, detail: 'active when connecting', at: m.installedAt, cardSha256: m.cardSha256 });
    }
  })();
  await refreshHubMetadata(store, base, opts.signal).catch(() => undefined); // `sync` reports a failure
  return conn;
}

function readCard(dir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, 'card.json'), 'utf8');
  } catch {
    return undefined;
  }
}
