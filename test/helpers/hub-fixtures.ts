// Test fixtures for hub and registry tests: tiny valid model packages, a hub in a temp folder
// with publishers, served on loopback.
import fs from 'node:fs';
import path from 'node:path';
import { encodeModel, type Graph } from '../../src/onnx/common/onnx.ts';
import { CARD_FORMAT } from '../../src/package/common/card.ts';
import { generateKeyFile, loadPrivateKey, loadPublicKey, type PrivateKeyHandle } from '../../src/keys/node/keys.ts';
import { addPublisher, initHub, openHub, type Hub } from '../../src/hub/node/repository.ts';
import type { HubConfig } from '../../src/hub/node/hub-dir.ts';
import { offlineKeyPaths } from '../../src/hub/node/offline-keys.ts';
import { startHubServer, type HubServerOptions, type RunningHub } from '../../src/hub/node/server.ts';
import { tempDir } from './packages.ts';

export const tmpDir = (prefix = 'outpost-hub-'): string => tempDir(prefix);

/** The 2-feature logistic model: a,b float [N,1] → Concat → Gemm → Softmax probabilities + ArgMax label. */
export function logisticGraph(w: [number, number] = [1, -1], extra: Partial<Graph> = {}): Graph {
  return {
    name: 'logistic',
    nodes: [
      { op: 'Concat', inputs: ['a', 'b'], outputs: ['x'], attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['z'] },
      { op: 'Softmax', inputs: ['z'], outputs: ['probabilities'], attrs: { axis: 1 } },
      { op: 'ArgMax', inputs: ['probabilities'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
    ],
    inputs: [{ name: 'a', type: 'float', shape: ['N', 1] }, { name: 'b', type: 'float', shape: ['N', 1] }],
    outputs: [{ name: 'probabilities', type: 'float', shape: ['N', 2] }, { name: 'label', type: 'int64', shape: ['N'] }],
    initializers: [
      { name: 'W', type: 'float', dims: [2, 2], data: [w[0], -w[0], w[1], -w[1]] },
      { name: 'B', type: 'float', dims: [2], data: [0, 0] },
    ],
    ...extra,
  };
}

export function cardFor(name: string, version: number): Record<string, unknown> {
  return {
    format: CARD_FORMAT, name, version, task: 'binary',
    inputs: [{ name: 'a', type: 'float' }, { name: 'b', type: 'float' }],
    outputs: { label: 'label', probabilities: 'probabilities', classes: ['no', 'yes'] },
  };
}

/** Write a valid package folder; `model` overrides the model bytes. */
export function makePackage(parent: string, name: string, version: number, opts: { model?: Uint8Array; weights?: [number, number] } = {}): string {
  const dir = path.join(parent, `${name}-${version}-${Math.random().toString(36).slice(2, 8)}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.onnx'), opts.model ?? encodeModel(logisticGraph(opts.weights ?? [version, -1])));
  fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(cardFor(name, version), null, 2));
  return dir;
}

export interface TestPublisher { name: string; key: PrivateKeyHandle; token: string; glob: string }
export interface TestHub {
  dir: string;
  hub: Hub;
  server: RunningHub;
  url: string;
  adminToken: string;
  trustRoot: string;
  /** the offline root and targets keys (outside the hub folder) */
  offlineKeysDir: string;
  targetsKey: PrivateKeyHandle;
  rootKey: PrivateKeyHandle;
  publishers: Record<string, TestPublisher>;
  /** restart the server on the same port (after stop) */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** `db`: the hub's database (undefined: SQLite in the hub folder; a postgres:// URL: that database). */
export async function startTestHub(opts: { publishers?: { name: string; glob: string; threshold?: number; extraKeys?: number }[]; config?: Partial<HubConfig>; now?: () => Date; db?: string; serverOptions?: HubServerOptions } = {}): Promise<TestHub & { extraKeys: Record<string, PrivateKeyHandle[]> }> {
  const dir = tmpDir();
  const offlineKeysDir = tmpDir('outpost-offline-');
  const init = await initHub(dir, { offlineKeysDir, config: { ...opts.config, ...(opts.db === undefined ? {} : { db: opts.db }) }, now: opts.now?.() });
  const hub = await openHub(dir, { now: opts.now });
  const off = offlineKeyPaths(offlineKeysDir);
  const targetsKey = loadPrivateKey(off.targets);
  const publishers: Record<string, TestPublisher> = {};
  const extraKeys: Record<string, PrivateKeyHandle[]> = {};
  for (const pub of opts.publishers ?? [{ name: 'churn-team', glob: 'churn*' }]) {
    const key = generateKeyFile(path.join(dir, 'publishers', `${pub.name}.key`));
    const extra = Array.from({ length: pub.extraKeys ?? 0 }, (_, i) => generateKeyFile(path.join(dir, 'publishers', `${pub.name}-${i}.key`)));
    extraKeys[pub.name] = extra;
    const { token } = await addPublisher(hub, { name: pub.name, keys: [loadPublicKey(`${key.file}.pub`), ...extra.map((k) => k.tufKey)], threshold: pub.threshold, modelsGlob: pub.glob, targetsKey });
    publishers[pub.name] = { name: pub.name, key, token: token!, glob: pub.glob };
  }
  const server = await startHubServer(hub, opts.serverOptions);
  const t = {
    dir, hub, server, url: server.url, adminToken: init.adminToken, trustRoot: init.trustRoot, offlineKeysDir, targetsKey, rootKey: loadPrivateKey(off.root), publishers, extraKeys,
    stop: () => server.close(),
    close: async () => {
      await server.close().catch(() => undefined);
      await hub.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(offlineKeysDir, { recursive: true, force: true });
    },
  };
  return t;
}
