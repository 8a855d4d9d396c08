// Issue 5's registry measurements, against ONE hub process (a child process on loopback, so the hub
// and the device do not share an event loop):
//   1. pull-and-verify throughput of a large signed model (200 MB; quick: 20 MB), smoke inference
//      excluded, as a ratio against the tightest sha256 of the same file (target ≥ 0.8), with the time
//      each pipeline stage takes so the limiting stage is visible;
//   2. publish latency (median, p95) with a near-empty catalog and with the full one;
//   3. metadata refresh (TUF refresh + the model's delegated role) with 1,000 published versions
//      (quick: 100), cold and warm, against the same refresh with one published version;
//   4. concurrent pulls served by the hub: the exact HTTP requests a pull makes, replayed by many
//      concurrent virtual devices (requests/s, pulls/s, hub CPU), plus full verified pulls in
//      parallel (pulls/s and hub CPU-seconds per pull).
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { TargetFile, type Metadata, type Targets } from '@tufjs/models';
import { encodeModel, type Graph } from '../../src/onnx/common/onnx.ts';
import { addPublisher, initHub, openHub } from '../../src/hub/node/repository.ts';
import { hubPaths } from '../../src/hub/node/hub-dir.ts';
import { offlineKeyPaths } from '../../src/hub/node/offline-keys.ts';
import { publishPackage, signPublisherTargets, submitSigned, type UploadFile } from '../../src/hub/node/publish-client.ts';
import { addSeconds, parseUntrustedTargets } from '../../src/hub/node/tuf-metadata.ts';
import { generateKeyFile, loadPrivateKey, type PrivateKeyHandle } from '../../src/keys/node/keys.ts';
import { pull } from '../../src/registry/node/pull.ts';
import { ringGet } from '../../src/registry/node/ring-get.ts';
import { connectHub } from '../../src/registry/node/tuf-client.ts';
import { pinRoot } from '../../src/registry/node/trust.ts';
import { cardFor } from '../../test/helpers/hub-fixtures.ts';
import { REPO, sha256FileStreamed, sha256FileTight, tempHome, time, type Timing } from '../lib.ts';

const HUB_CHILD = path.join(REPO, 'test', 'helpers', 'hub-serve-child.ts');

export interface HubBenchOptions { quick: boolean }

interface Stats { n: number; medianMs: number; p95Ms: number; minMs: number; maxMs: number; meanMs: number }

function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { n: s.length, medianMs: s[Math.floor(s.length / 2)], p95Ms: at(0.95), minMs: s[0], maxMs: s[s.length - 1], meanMs: s.reduce((a, b) => a + b, 0) / s.length };
}

const sha256 = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');
const mb = (bytes: number): number => bytes / 1e6;
const mbps = (bytes: number, t: Timing): number => mb(bytes) / (t.medianMs / 1000);

/** The 2-feature logistic model; `big` adds a float initializer of that many elements that the graph
 *  really uses (ReduceSum(E) × 0 added to the logits), so ONNX Runtime loads and runs all of it. */
export function modelGraph(w: number, big?: Float32Array): Graph {
  const g: Graph = {
    name: 'bench-logistic',
    nodes: [
      { op: 'Concat', inputs: ['a', 'b'], outputs: ['x'], attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: [big ? 'z0' : 'z'] },
      { op: 'Softmax', inputs: ['z'], outputs: ['probabilities'], attrs: { axis: 1 } },
      { op: 'ArgMax', inputs: ['probabilities'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
    ],
    inputs: [{ name: 'a', type: 'float', shape: ['N', 1] }, { name: 'b', type: 'float', shape: ['N', 1] }],
    outputs: [{ name: 'probabilities', type: 'float', shape: ['N', 2] }, { name: 'label', type: 'int64', shape: ['N'] }],
    initializers: [
      { name: 'W', type: 'float', dims: [2, 2], data: [w, -w, -1, 1] },
      { name: 'B', type: 'float', dims: [2], data: [0, 0] },
    ],
  };
  if (big) {
    g.nodes.splice(2, 0,
      { op: 'ReduceSum', inputs: ['E'], outputs: ['e'], attrs: { keepdims: 0 } },
      { op: 'Mul', inputs: ['e', 'zero'], outputs: ['e0'] },
      { op: 'Add', inputs: ['z0', 'e0'], outputs: ['z'] });
    g.initializers.push({ name: 'E', type: 'float', dims: [big.length], data: big }, { name: 'zero', type: 'float', dims: [], data: [0] });
  }
  return g;
}

function writePackage(parent: string, name: string, version: number, model: Uint8Array): string {
  const dir = path.join(parent, `${name}-${version}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.onnx'), model);
  fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(cardFor(name, version), null, 2));
  return dir;
}

/** A model file of about `bytes` bytes: one big float initializer of deterministic noise. */
export function bigModel(bytes: number): Uint8Array {
  const floats = new Float32Array(Math.floor(bytes / 4));
  let x = 0x9e3779b9;
  for (let i = 0; i < floats.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    floats[i] = (x | 0) / 2 ** 40;
  }
  return encodeModel(modelGraph(1, floats));
}

export interface HubProcess { url: string; child: ChildProcess; cpuSeconds(): number | undefined; stop(): Promise<void> }

/** Serve the hub folder from its own process (test/helpers/hub-serve-child.ts). */
export async function spawnHub(dir: string, db?: string): Promise<HubProcess> {
  const child = spawn(process.execPath, [HUB_CHILD, dir, ...(db ? [db] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); if (process.env.OUTPOST_BENCH_HUB_LOG) process.stderr.write(d); });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.once('line', (l) => { rl.close(); resolve(l); });
    child.once('exit', (code) => reject(new Error(`hub process exited (${code}): ${err}`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  const clk = 100; // USER_HZ on Linux
  return {
    url, child,
    cpuSeconds: () => {
      try {
        const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(f[11]) + Number(f[12])) / clk; // utime + stime
      } catch {
        return undefined;
      }
    },
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => { clearTimeout(t); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

async function api<T>(url: string, token: string, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(p, url), {
    method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

export async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/**
 * Publish many versions in one signed targets update (a publisher catching up a catalog): upload
 * both files of each version, extend the publisher's metadata, sign locally, post it. The same
 * checks run at the hub as for `outpost publish`.
 */
async function bulkPublish(url: string, token: string, key: PrivateKeyHandle, name: string, versions: number[]): Promise<void> {
  const me = await api<{ name: string; metadata: unknown }>(url, token, 'GET', '/api/v1/publishers/me');
  const prev: Metadata<Targets> | undefined = me.metadata ? parseUntrustedTargets(me.metadata) : undefined;
  const custom = { custom: { outpost: { publisher: me.name, signedAt: new Date().toISOString() } } };
  const add: TargetFile[] = [];
  const files: UploadFile[] = [];
  for (const v of versions) {
    const parts: [string, Uint8Array][] = [['model.onnx', encodeModel(modelGraph(v))], ['card.json', Buffer.from(JSON.stringify(cardFor(name, v), null, 2))]];
    for (const [file, bytes] of parts) {
      const sha = sha256(bytes);
      files.push({ sha256: sha, label: file, bytes });
      add.push(new TargetFile({ path: `${name}/${v}/${file}`, length: bytes.length, hashes: { sha256: sha }, unrecognizedFields: custom }));
    }
  }
  const md = signPublisherTargets(prev, add, [key], addSeconds(new Date(), 365 * 86_400));
  await submitSigned(url, token, md, files);
}

/** Run `fn` from `concurrency` workers for `durationMs`; completions and their latencies. */
async function load(concurrency: number, durationMs: number, fn: () => Promise<void>): Promise<{ done: number; seconds: number; latency: Stats }> {
  const lat: number[] = [];
  const start = performance.now();
  const until = start + durationMs;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      const t = performance.now();
      await fn();
      lat.push(performance.now() - t);
    }
  }));
  return { done: lat.length, seconds: (performance.now() - start) / 1000, latency: stats(lat) };
}

/** Observe every fetch() made while `fn` runs (the pull's HTTP requests, in order). */
async function recordFetches<T>(fn: () => Promise<T>): Promise<{ result: T; requests: { url: string; status: number; range?: string }[] }> {
  const orig = globalThis.fetch;
  const requests: { url: string; status: number; range?: string }[] = [];
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const res = await orig(input, init);
    const range = new Headers(init?.headers).get('range') ?? undefined;
    requests.push({ url: typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, status: res.status, ...(range ? { range } : {}) });
    return res;
  };
  try {
    return { result: await fn(), requests };
  } finally {
    globalThis.fetch = orig;
  }
}

/**
 * Pull-and-verify throughput of `big@1` (already published at `url`) against the tightest sha256 of
 * the same file (`sha256FileTight`; the older streamed baseline alongside) and against one download-hash-write pass over the same transport, all in this run.
 */
/** Wall time of each run, with the median CPU of this process (all threads) and of the hub process per run. */
async function timeCpu(runs: number, fn: () => Promise<unknown> | unknown, hubCpuSeconds?: () => number | undefined): Promise<Timing & { deviceCpuMs: number; hubCpuMs: number | null }> {
  const dev: number[] = [];
  const hub: number[] = [];
  const t = await time(runs, async () => {
    const h0 = hubCpuSeconds?.();
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    const h1 = hubCpuSeconds?.();
    dev.push((c.user + c.system) / 1000);
    if (h0 !== undefined && h1 !== undefined) hub.push((h1 - h0) * 1000);
  });
  return { ...t, deviceCpuMs: stats(dev).medianMs, hubCpuMs: hub.length ? stats(hub).medianMs : null };
}

/**
 * One GET of the target read by `ringGet` (the download's reader: recycled buffers), each chunk
 * hashed and, with `file`, written at its position — the bare transport loop, nothing else.
 */
async function ringLoop(url: string, digest: string, file?: string): Promise<void> {
  const a = await ringGet(url, {}, new AbortController().signal);
  if (a?.status !== 200 || !a.body) throw new Error(`ring download ${a?.status}`);
  const h = crypto.createHash('sha256');
  const fd = file ? fs.openSync(file, 'w') : -1;
  try {
    for (let c, at = 0; (c = await a.body.next()); at += c.length) {
      h.update(c);
      if (file) fs.writeSync(fd, c, 0, c.length, at);
      a.body.release(c);
    }
  } finally {
    if (file) { fs.closeSync(fd); fs.rmSync(file); }
  }
  if (h.digest('hex') !== digest) throw new Error('ring download hash differs');
}

export async function measurePull(o: { url: string; trustRoot: string; bigFile: string; runs: number; scratch: string; home: () => string; dropHome: (h: string) => void; hubCpuSeconds?: () => number | undefined }) {
  const { url, trustRoot, bigFile, home, dropHome } = o;
  const P = { runs: o.runs };
  const root = o.scratch;
  const bigBytes = fs.statSync(bigFile).size;
  // Baselines, same run. The headline is the tightest sha256 this process can do (one reused
  // buffer: `sha256FileTight`, shared with the bundle case); the streamed hash and readFileSync +
  // hash (the faster of the two was the baseline of runs before 2026-12-03) are kept alongside.
  const digest = sha256FileTight(bigFile);
  const shaTight = await timeCpu(P.runs, () => { if (sha256FileTight(bigFile) !== digest) throw new Error('sha256 differs'); });
  const shaStream = await time(P.runs, async () => { if (await sha256FileStreamed(bigFile) !== digest) throw new Error('sha256 differs'); });
  const shaWhole = await time(P.runs, () => { if (sha256(fs.readFileSync(bigFile)) !== digest) throw new Error('sha256 differs'); });
  const before = shaStream.medianMs <= shaWhole.medianMs ? { how: 'stream (1 MiB chunks)', t: shaStream } : { how: 'readFileSync + hash', t: shaWhole };

  // The best any pull could do over this transport: one pass that downloads the signed target,
  // hashes it and writes it to a file (no re-reading, no parsing, no install).
  const targetUrl = `${url}/targets/big/1/${digest}.model.onnx`;
  const dlDir = path.join(root, 'download');
  fs.mkdirSync(dlDir);
  const singlePass = await time(P.runs, async () => {
    const res = await fetch(targetUrl);
    if (!res.ok || !res.body) throw new Error(`download ${res.status}`);
    const fd = fs.openSync(path.join(dlDir, 'model.onnx'), 'w');
    const h = crypto.createHash('sha256');
    for await (const chunk of res.body) { h.update(chunk); fs.writeSync(fd, chunk); }
    fs.closeSync(fd);
    fs.rmSync(path.join(dlDir, 'model.onnx'));
    if (h.digest('hex') !== digest) throw new Error('single-pass download hash differs');
  });
  // The best this loopback transport does here (2026-12-03): the same answer read by the
  // download's own reader (ringGet: the socket reads into recycled buffers), hashed; and hashed and
  // written. Device and hub process CPU per run alongside.
  const ringHash = await timeCpu(P.runs, () => ringLoop(targetUrl, digest), o.hubCpuSeconds);
  const ringHashWrite = await timeCpu(P.runs, () => ringLoop(targetUrl, digest, path.join(dlDir, 'ring.onnx')), o.hubCpuSeconds);

  // A pull into a fresh data folder per run; preparing and removing the folder are not timed (as in
  // the bundle case; before 2026-12-03 12:05 the removal of the 200 MB model was inside the time).
  const stageRuns: Record<string, number>[] = [];
  const pullRuns: { wallMs: number; deviceCpuMs: number; hubCpuMs: number | undefined }[] = [];
  const pullOnce = async () => {
    const h = home();
    const marks: [string, number][] = [];
    let transferEnd = 0;
    const hub0 = o.hubCpuSeconds?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await pull({
      home: h, hubUrl: url, ref: 'big@1', rootFile: trustRoot, smoke: false,
      onProgress: (e) => {
        const label = e.stage === 'download' ? `download:${e.file}` : e.stage;
        if (marks[marks.length - 1]?.[0] !== label) marks.push([label, performance.now()]);
        if (e.stage === 'download' && e.file === 'model.onnx' && e.total !== undefined && e.received === e.total && e.total > 0) transferEnd = performance.now();
      },
    });
    const end = performance.now();
    const c = process.cpuUsage(c0);
    const hub1 = o.hubCpuSeconds?.();
    pullRuns.push({ wallMs: end - t0, deviceCpuMs: (c.user + c.system) / 1000, hubCpuMs: hub0 !== undefined && hub1 !== undefined ? (hub1 - hub0) * 1000 : undefined });
    if (r.model.modelSha256 !== digest) throw new Error('pulled model hash differs');
    // Stage durations: from each stage's first event to the next one; the model download is split
    // at its last byte into transfer and hash verification (tuf-js TargetFile.verify + rename).
    const d: Record<string, number> = { totalMs: end - t0 };
    marks.forEach(([label, at], i) => {
      const next = i + 1 < marks.length ? marks[i + 1][1] : end;
      if (label === 'download:model.onnx' && transferEnd) {
        d.transferMs = transferEnd - at;
        d.verifyHashMs = next - transferEnd;
      } else d[`${label}Ms`] = next - at;
    });
    stageRuns.push(d);
    dropHome(h);
  };
  await pullOnce(); // warm-up (module loading, JIT): not counted
  stageRuns.length = pullRuns.length = 0;
  for (let i = 0; i < P.runs; i++) await pullOnce();
  const pullT: Timing = { medianMs: stats(pullRuns.map((x) => x.wallMs)).medianMs, runsMs: pullRuns.map((x) => x.wallMs) };
  const pullHub = pullRuns.flatMap((x) => (x.hubCpuMs === undefined ? [] : [x.hubCpuMs]));
  const stageMedian: Record<string, number> = {};
  for (const k of Object.keys(stageRuns[0] ?? {})) stageMedian[k] = stats(stageRuns.map((s) => s[k] ?? 0)).medianMs;
  const pullMBps = mbps(bigBytes, pullT);
  const shaMBps = mbps(bigBytes, shaTight);
  const beforeMBps = mbps(bigBytes, before.t);
  return {
    sha256: {
      baseline: 'one reused 1 MiB buffer, synchronous reads (sha256FileTight, as in the bundle case)', mbPerSecond: shaMBps, medianMs: shaTight.medianMs,
      streamMs: shaStream.medianMs, readWholeMs: shaWhole.medianMs,
      before20261203: { baseline: `the faster of stream and readFileSync: ${before.how}`, mbPerSecond: beforeMBps },
    },
    singlePassDownloadHashWrite: { mbPerSecond: mbps(bigBytes, singlePass), medianMs: singlePass.medianMs, reader: 'fetch (web stream)' },
    transport: {
      what: 'the hub\'s answer read by ringGet (the download\'s reader: the socket reads into recycled 1 MiB buffers), hashed; and hashed and written — the bare loop, nothing else',
      hash: { mbPerSecond: mbps(bigBytes, ringHash), medianMs: ringHash.medianMs, deviceCpuMs: ringHash.deviceCpuMs, hubCpuMs: ringHash.hubCpuMs },
      hashWrite: { mbPerSecond: mbps(bigBytes, ringHashWrite), medianMs: ringHashWrite.medianMs, deviceCpuMs: ringHashWrite.deviceCpuMs, hubCpuMs: ringHashWrite.hubCpuMs },
    },
    cpuMedianMs: { sha256: shaTight.deviceCpuMs, pullDevice: stats(pullRuns.map((x) => x.deviceCpuMs)).medianMs, pullHub: pullHub.length ? stats(pullHub).medianMs : null, note: 'process CPU (all threads) per run, /proc for the hub (10 ms ticks)' },
    pullAndVerify: { mbPerSecond: pullMBps, medianMs: pullT.medianMs, runsMs: pullT.runsMs, stagesMedianMs: stageMedian, smoke: 'excluded (smoke: false)', timed: 'the pull alone, after one warm-up pull (from 2026-12-03 12:05; earlier runs included removing the data folder and had no warm-up)' },
    ratios: {
      pullOverSha256: pullMBps / shaMBps,
      singlePassOverSha256: mbps(bigBytes, singlePass) / shaMBps,
      pullOverSinglePass: pullMBps / mbps(bigBytes, singlePass),
      transportHashOverSha256: mbps(bigBytes, ringHash) / shaMBps,
      transportHashWriteOverSha256: mbps(bigBytes, ringHashWrite) / shaMBps,
      pullOverTransportHashWrite: pullMBps / mbps(bigBytes, ringHashWrite),
      pullOverSha256Before20261203: pullMBps / beforeMBps,
    },
    target: { pullOverSha256: 0.8, met: pullMBps / shaMBps >= 0.8 },
  };
}

export async function run(opts: HubBenchOptions): Promise<object> {
  const quick = opts.quick;
  const P = {
    modelBytes: quick ? 20e6 : 200e6,
    versions: quick ? 100 : 1000,
    batch: 100,
    earlyPublishes: quick ? 10 : 20,
    latePublishes: quick ? 5 : 10,
    runs: quick ? 2 : 3,
    refreshRuns: quick ? 3 : 5,
    loadMs: quick ? 1500 : 4000,
    concurrency: quick ? [16] : [8, 64],
    fullPulls: quick ? 8 : 24,
    fullPullConcurrency: 4,
  };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-bench-hub-'));
  const homes: string[] = [];
  const home = (): string => { const h = tempHome(); homes.push(h); return h; };
  const dropHome = (h: string): void => { fs.rmSync(h, { recursive: true, force: true }); };
  let hubProc: HubProcess | undefined;
  try {
    // ── the hub: three publishers, so each model's delegated role is its own ────────────────────
    const hubDir = path.join(root, 'hub');
    const offlineDir = path.join(root, 'offline-keys');
    await initHub(hubDir, { offlineKeysDir: offlineDir });
    const trustRoot = hubPaths(hubDir).trustRoot;
    const targetsKey = loadPrivateKey(offlineKeyPaths(offlineDir).targets);
    const hub = await openHub(hubDir);
    const pubs: Record<'big' | 'many' | 'fleet', { key: PrivateKeyHandle; token: string }> = {} as never;
    for (const name of ['big', 'many', 'fleet'] as const) {
      const key = generateKeyFile(path.join(root, 'keys', `${name}.key`));
      const { token } = await addPublisher(hub, { name: `${name}-team`, keys: [key.tufKey], modelsGlob: `${name}*`, targetsKey });
      pubs[name] = { key, token: token! };
    }
    await hub.close();
    hubProc = await spawnHub(hubDir);
    const url = hubProc.url;
    const pkgs = path.join(root, 'packages');

    // ── 1. pull-and-verify throughput of a large model vs plain sha256 ───────────────────────────
    const tBuild = performance.now();
    const bigDir = writePackage(pkgs, 'big', 1, bigModel(P.modelBytes));
    const buildMs = performance.now() - tBuild;
    const bigFile = path.join(bigDir, 'model.onnx');
    const bigBytes = fs.statSync(bigFile).size;
    const tPub = performance.now();
    await publishPackage({ packageDir: bigDir, hubUrl: url, keys: [pubs.big.key], token: pubs.big.token });
    const bigPublishMs = performance.now() - tPub;

    const pullResult = { model: { bytes: bigBytes, floats: Math.floor(P.modelBytes / 4), buildMs, publishMs: bigPublishMs, publishMBps: mb(bigBytes) / (bigPublishMs / 1000) }, ...await measurePull({ url, trustRoot, bigFile, runs: P.runs, scratch: root, home, dropHome, hubCpuSeconds: hubProc.cpuSeconds }) };

    // ── 2 + 3. publish latency and metadata refresh as the catalog grows ─────────────────────────
    const refresh = async (runs: number) => {
      const cold: number[] = [];
      const warm: number[] = [];
      let roleBytes = 0;
      let paths = 0;
      for (let i = 0; i < runs; i++) {
        const h = home();
        pinRoot(h, url, trustRoot);
        for (const list of [cold, warm]) {
          const t = performance.now();
          const c = await connectHub(h, url);
          const r = await c.listTargets('many');
          list.push(performance.now() - t);
          paths = r.paths.length;
          roleBytes = fs.statSync(path.join(c.metadataDir, 'many-team.json')).size;
        }
        dropHome(h);
      }
      return { targetPaths: paths, roleMetadataBytes: roleBytes, cold: stats(cold), warm: stats(warm) };
    };
    const publishOne = async (v: number): Promise<number> => {
      const dir = writePackage(pkgs, 'many', v, encodeModel(modelGraph(v)));
      const t = performance.now();
      await publishPackage({ packageDir: dir, hubUrl: url, keys: [pubs.many.key], token: pubs.many.token });
      const ms = performance.now() - t;
      fs.rmSync(dir, { recursive: true, force: true });
      return ms;
    };
    const early: number[] = [await publishOne(1)];
    const refreshAt1 = await refresh(P.refreshRuns);
    for (let v = 2; v <= P.earlyPublishes; v++) early.push(await publishOne(v));
    const tBulk = performance.now();
    const bulkLatency: number[] = [];
    for (let from = P.earlyPublishes + 1; from <= P.versions; from += P.batch) {
      const vs = Array.from({ length: Math.min(P.batch, P.versions - from + 1) }, (_, i) => from + i);
      const t = performance.now();
      await bulkPublish(url, pubs.many.token, pubs.many.key, 'many', vs);
      bulkLatency.push(performance.now() - t);
    }
    const bulkMs = performance.now() - tBulk;
    const refreshAtN = await refresh(P.refreshRuns);
    if (refreshAtN.targetPaths !== 2 * P.versions) throw new Error(`expected ${2 * P.versions} target paths, saw ${refreshAtN.targetPaths}`);
    const late: number[] = [];
    for (let v = P.versions + 1; v <= P.versions + P.latePublishes; v++) late.push(await publishOne(v));
    // a pull of the newest version out of the full catalog (small model, smoke excluded)
    const catalogPull: number[] = [];
    for (let i = 0; i < P.runs; i++) {
      const h = home();
      const t = performance.now();
      await pull({ home: h, hubUrl: url, ref: 'many', rootFile: trustRoot, smoke: false });
      catalogPull.push(performance.now() - t);
      dropHome(h);
    }
    const earlyS = stats(early);
    const lateS = stats(late);
    const publishResult = {
      what: 'outpost publish of a small package (upload 2 blobs, sign the publisher targets locally, hub checks and re-signs snapshot/timestamp), sequential',
      withFewVersions: { catalogVersions: `1..${P.earlyPublishes}`, ...earlyS },
      withFullCatalog: { catalogVersions: `${P.versions + 1}..${P.versions + P.latePublishes}`, ...lateS },
      bulk: { versions: P.versions - P.earlyPublishes, perSignedUpdate: P.batch, totalMs: bulkMs, perUpdate: stats(bulkLatency) },
      ratios: { fullCatalogOverFewMedian: lateS.medianMs / earlyS.medianMs, fullCatalogOverFewP95: lateS.p95Ms / earlyS.p95Ms },
    };
    const refreshResult = {
      what: 'connectHub (tuf-js refresh: root, timestamp, snapshot, targets) + the model\'s delegated role; cold = fresh device with only the pinned root, warm = same device again',
      publishedVersions: P.versions,
      atOneVersion: refreshAt1,
      atFullCatalog: refreshAtN,
      pullNewestFromFullCatalog: stats(catalogPull),
      ratios: {
        coldFullOverOne: refreshAtN.cold.medianMs / refreshAt1.cold.medianMs,
        warmFullOverOne: refreshAtN.warm.medianMs / refreshAt1.warm.medianMs,
      },
    };

    // ── 4. concurrent pulls served by one hub process ────────────────────────────────────────────
    const fleetDir = writePackage(pkgs, 'fleet', 1, encodeModel(modelGraph(3)));
    await publishPackage({ packageDir: fleetDir, hubUrl: url, keys: [pubs.fleet.key], token: pubs.fleet.token, alias: 'production' });
    const recHome = home();
    const { requests } = await recordFetches(() => pull({ home: recHome, hubUrl: url, ref: 'fleet:production', rootFile: trustRoot, smoke: false }));
    dropHome(recHome);
    // Replayed with node:http keep-alive connections (lighter than fetch, so the load generator,
    // which shares the machine with the hub, takes less of it).
    const replayRequests = requests.map((r) => ({ ...r, u: new URL(r.url) }));
    const replay = (agent: http.Agent) => async () => {
      for (const r of replayRequests) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.get({ agent, host: r.u.hostname, port: r.u.port, path: r.u.pathname, headers: r.range ? { range: r.range } : {} }, (res) => {
            res.on('data', () => undefined);
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          });
          req.on('error', reject);
        });
        if (status !== r.status) throw new Error(`${r.url}: ${status}, recorded ${r.status}`);
      }
    };
    const warmAgent = new http.Agent({ keepAlive: true });
    await load(4, 300, replay(warmAgent)); // warm-up (JIT, connections)
    warmAgent.destroy();
    const replayResults = [];
    for (const c of P.concurrency) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: c });
      const cpu0 = hubProc.cpuSeconds();
      const r = await load(c, P.loadMs, replay(agent));
      agent.destroy();
      const cpu1 = hubProc.cpuSeconds();
      const hubCpu = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
      replayResults.push({
        concurrentDevices: c, pulls: r.done, seconds: r.seconds,
        pullsPerSecond: r.done / r.seconds, requestsPerSecond: (r.done * requests.length) / r.seconds,
        pullLatency: r.latency,
        hubCpuUtilisation: hubCpu === undefined ? null : hubCpu / r.seconds,
        hubCpuMsPerPull: hubCpu === undefined ? null : (hubCpu * 1000) / r.done,
      });
    }
    // Full verified pulls (TUF, hashes, safety, card, install into a store; no smoke), in parallel.
    const cpu0 = hubProc.cpuSeconds();
    const fullLat: number[] = [];
    const tFull = performance.now();
    await pool(Array.from({ length: P.fullPulls }, (_, i) => i), P.fullPullConcurrency, async () => {
      const h = home();
      const t = performance.now();
      await pull({ home: h, hubUrl: url, ref: 'fleet:production', rootFile: trustRoot, smoke: false });
      fullLat.push(performance.now() - t);
      dropHome(h);
    });
    const fullSeconds = (performance.now() - tFull) / 1000;
    const cpu1 = hubProc.cpuSeconds();
    const fullHubCpu = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
    const concurrentResult = {
      requestsPerPull: requests.length,
      requestSequence: requests.map((r) => `${r.status} ${new URL(r.url).pathname.replace(/[0-9a-f]{64}/, '<sha256>')}`),
      httpReplay: replayResults,
      fullPulls: {
        pulls: P.fullPulls, concurrency: P.fullPullConcurrency, pullsPerSecond: P.fullPulls / fullSeconds, latency: stats(fullLat),
        hubCpuMsPerPull: fullHubCpu === undefined ? null : (fullHubCpu * 1000) / P.fullPulls,
        note: 'device-side work (tuf-js verification, store install) runs in this process on the same 2 cores; hub CPU per pull is the hub-side cost',
      },
      hubCapacityEstimatePullsPerCpuSecond: replayResults.at(-1)?.hubCpuMsPerPull ? 1000 / replayResults.at(-1)!.hubCpuMsPerPull! : null,
    };

    return {
      setup: { hub: 'one hub process (Fastify + SQLite), child process on 127.0.0.1', cpus: os.cpus().length, quick },
      pull: pullResult,
      publish: publishResult,
      metadataRefresh: refreshResult,
      concurrentPulls: concurrentResult,
    };
  } finally {
    await hubProc?.stop();
    for (const h of homes) dropHome(h);
    fs.rmSync(root, { recursive: true, force: true });
  }
}
