// The local scoring API under load: 1, 8 and 64 concurrent clients, each sending one-record
// predict requests back to back over keep-alive HTTP to `serve --api` running in its own process
// (bench/cases/scoring-api-server.ts). Baseline, same run, same concurrency: the same records
// through RecordScorer in this process (validation, the engine, logging — everything but HTTP,
// JSON and the token), and the bare engine (runOne on prepared feeds). Throughput and p50/p99
// latency; ratios API ÷ in-process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { InferenceEngine } from '../../src/inference/node/engine.ts';
import { RecordScorer } from '../../src/scoring/node/predict.ts';
import { createApiToken } from '../../src/store/node/api-tokens.ts';
import { getModel, installPackage } from '../../src/store/node/models.ts';
import { openStore } from '../../src/store/node/store.ts';
import { REPO, tempHome } from '../lib.ts';

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

interface Level { clients: number; requests: number; perSecond: number; p50us: number; p99us: number }

/** `clients` loops, each awaiting `call` back to back, until `total` calls were made. */
async function load(clients: number, total: number, call: (i: number) => Promise<void>): Promise<Level> {
  for (let i = 0; i < Math.min(200, total); i++) await call(i); // warm-up
  const lat: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    for (let i = next++; i < total; i = next++) {
      const t = performance.now();
      await call(i);
      lat.push((performance.now() - t) * 1000);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  return { clients, requests: total, perSecond: total / seconds, p50us: quantile(lat, 0.5), p99us: quantile(lat, 0.99) };
}

/** One request; resolves when the whole answer arrived (a non-200 answer is an error). */
function post(agent: http.Agent, url: string, headers: Record<string, string>, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function run(opts: { requests: number }) {
  const home = tempHome();
  const pkg = path.join(REPO, 'models/demo/weather');
  const store = openStore(home);
  installPackage(store, pkg, { source: 'local', allowUnsigned: true });
  const { token } = createApiToken(store, 'bench');
  const csv = fs.readFileSync(path.join(REPO, 'models/demo/weather-2015.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const [header, ...rows] = csv;
  const FIELDS = ['precipitation', 'temp_max', 'temp_min', 'wind', 'season'];
  const records = rows.map((r) => Object.fromEntries(FIELDS.map((f) => [f, f === 'season' ? r[header.indexOf(f)] : Number(r[header.indexOf(f)])])));
  const bodies = records.map((r) => JSON.stringify(r));

  const child = spawn(process.execPath, [path.join(REPO, 'bench/cases/scoring-api-server.ts'), home], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the API server exited (${code})`)));
  });
  const { port } = JSON.parse(first) as { port: number };
  const url = `http://127.0.0.1:${port}/v1/models/seattle-weather/predict`;
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const levels = [1, 8, 64];
  const result: Record<string, unknown> = { loadAverage1m: os.loadavg()[0], requests: opts.requests, model: 'demo seattle-weather MLP (5 inputs incl. one-hot category)', levels: {} };
  const scorer = await RecordScorer.open(store, getModel(store, 'seattle-weather'), 'cpu');
  const engine = await InferenceEngine.open(fs.readFileSync(path.join(pkg, 'model.onnx')), { ep: 'cpu' });
  const feeds = () => ({
    precipitation: { type: 'float32' as const, data: Float32Array.of(1.5), dims: [1, 1] },
    temp_max: { type: 'float32' as const, data: Float32Array.of(12), dims: [1, 1] },
    temp_min: { type: 'float32' as const, data: Float32Array.of(4), dims: [1, 1] },
    wind: { type: 'float32' as const, data: Float32Array.of(3.1), dims: [1, 1] },
    season: { type: 'string' as const, data: ['winter'], dims: [1, 1] },
  });
  try {
    for (const c of levels) {
      // node:http with keep-alive connections, one per client (fetch costs the client several times more CPU)
      const agent = new http.Agent({ keepAlive: true, maxSockets: c });
      const api = await load(c, opts.requests, (i) => post(agent, url, headers, bodies[i % bodies.length]));
      agent.destroy();
      const inProcess = await load(c, opts.requests, async (i) => {
        const [o] = await scorer.score([{ value: records[i % records.length] }], 'bench-in-process');
        if (!o.ok) throw new Error(JSON.stringify(o.errors));
      });
      const bareEngine = await load(c, opts.requests, async () => { await engine.runOne(feeds()); });
      (result.levels as Record<string, unknown>)[c] = {
        api, inProcess, bareEngine,
        throughputRatio: api.perSecond / inProcess.perSecond,
        p50Ratio: api.p50us / inProcess.p50us,
        p99Ratio: api.p99us / inProcess.p99us,
        throughputVsBareEngine: api.perSecond / bareEngine.perSecond,
      };
      process.stderr.write(`  ${c} clients: API ${Math.round(api.perSecond)}/s p50 ${Math.round(api.p50us)} µs p99 ${Math.round(api.p99us)} µs; in-process ${Math.round(inProcess.perSecond)}/s p50 ${Math.round(inProcess.p50us)} µs\n`);
    }
    return result;
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await scorer.close();
    await engine.close();
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
