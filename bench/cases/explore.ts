// The what-if explorer's inference in Chromium (onnxruntime-web, WebAssembly, as many threads as the
// cross-origin isolated page gets) against onnxruntime-node in this process on the same bytes and
// feeds (the same-run baseline): loading a model into the window, one record, and a sweep as ONE
// batched inference vs the same points run one by one. "Within a frame" = 16.7 ms.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { Browser } from 'playwright-core';
import { RENDERER_DIST } from '../../src/api/node/renderer-build.ts';
import { adaptModel } from '../../src/onnx/common/adapt.ts';
import type { Card } from '../../src/package/common/card.ts';
import { checkRecord, graphInputs, stackFeeds } from '../../src/scoring/common/record.ts';
import type { Feed } from '../../src/scoring/common/validate.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore } from '../../src/store/node/store.ts';
import { launchChromium, serveInProcess } from '../../test/helpers/app-browser.ts';
import { handCard, HELD_OUT, modelBytes, readCsv } from '../../test/helpers/byo.ts';
import { tempDir, writePackage } from '../../test/helpers/packages.ts';
import { REPO } from '../lib.ts';

type Wire = Record<string, { type: string; data: (number | string)[]; dims: number[] }>;
const toWire = (feeds: Record<string, Feed>): Wire => Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, { type: f.type, data: Array.from(f.data as ArrayLike<number | string>), dims: f.dims }]));
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

export async function run(opts: { repeats: number }) {
  const launched = await launchChromium();
  if ('skip' in launched) return { skipped: launched.skip };
  const browser: Browser = launched.browser;
  const home = tempDir('outpost-bench-explore-');
  const pkgs = tempDir('outpost-bench-explore-pkgs-');
  const store = openStore(home);
  const demo = path.join(REPO, 'models/demo/weather');
  installPackage(store, demo, { source: 'local', allowUnsigned: true, origin: demo });
  installPackage(store, writePackage(path.join(pkgs, 'forest'), handCard('forest'), modelBytes('forest')), { source: 'local', allowUnsigned: true, origin: 'forest' });
  store.close();
  const served = await serveInProcess(home);
  try {
    const context = await browser.newContext();
    const runtime = `/assets/${fs.readdirSync(path.join(RENDERER_DIST, 'assets')).find((f) => /^runtime-.*\.js$/.test(f))}`;
    const results: Record<string, unknown> = {};
    for (const threads of [undefined, 1]) for (const [model, csv] of [['seattle-weather', path.join(REPO, 'models/demo/weather-2015.csv')], ['byo-forest', HELD_OUT]] as const) {
      const installed = path.join(home, 'models', model, '1');
      const card = JSON.parse(fs.readFileSync(path.join(installed, 'card.json'), 'utf8')) as Card;
      const adapted = adaptModel(fs.readFileSync(path.join(installed, 'model.onnx')));
      const graph = graphInputs(adapted.info.inputs);
      const { header, rows } = readCsv(csv);
      const one = (r: string[], over?: [string, number]) => {
        const rec = Object.fromEntries(card.inputs.map((f) => [f.name, f.type === 'category' ? r[header.indexOf(f.name)] : Number(r[header.indexOf(f.name)])]));
        if (over) rec[over[0]] = over[1];
        const c = checkRecord(card, graph, JSON.stringify(rec), 1, csv);
        if (!c.ok) throw new Error(JSON.stringify(c.errors));
        return c.feeds;
      };
      const single = one(rows[10]);
      const sweep = (n: number) => stackFeeds(Array.from({ length: n }, (_, i) => one(rows[10], ['temp_max', -5 + (40 * i) / (n - 1)])));
      const s200 = sweep(200);
      const s1000 = sweep(1000);

      // onnxruntime-node, same bytes and feeds (intra-op threads as the browser gets: up to 4)
      const session = await ort.InferenceSession.create(adapted.bytes);
      const nodeRun = (f: Record<string, Feed>) => session.run(Object.fromEntries(Object.entries(f).map(([k, x]) => [k, new ort.Tensor(x.type, x.data as never, x.dims)])));
      const time = async (f: () => Promise<unknown>, n: number) => { const t: number[] = []; for (let i = 0; i < n; i++) { const s = performance.now(); await f(); t.push(performance.now() - s); } return t; };
      await time(() => nodeRun(single), 50);
      const node = { singleP50Ms: q(await time(() => nodeRun(single), opts.repeats * 10), 0.5), sweep200P50Ms: q(await time(() => nodeRun(s200), opts.repeats), 0.5), sweep1000P50Ms: q(await time(() => nodeRun(s1000), opts.repeats), 0.5) };
      await session.release();

      // a fresh page per model: each load is a first load of this page (the browser's code cache aside)
      const page = await context.newPage();
      page.setDefaultTimeout(300_000);
      await page.goto(served.url);
      await page.getByRole('heading', { name: 'Home' }).waitFor();
      const web = await page.evaluate(async ({ url, model, single, s200, s1000, repeats, threads }) => {
        type Run = { run(f: unknown): Promise<unknown>; release(): Promise<void>; threads: number; backend: string };
        const typed = (w: Record<string, { type: string; data: unknown[]; dims: number[] }>) => Object.fromEntries(Object.entries(w).map(([k, f]) => [k, { type: f.type, dims: f.dims, data: f.type === 'float32' ? Float32Array.from(f.data as number[]) : f.type === 'float64' ? Float64Array.from(f.data as number[]) : f.data }]));
        const t0 = performance.now();
        const m = await import(url) as { createRuntime(b: Uint8Array, p: 'auto', threads?: number): Promise<Run> };
        const t1 = performance.now();
        const r = await fetch('/api/call/models.explore', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model }) });
        const body = await r.json() as { result: { model: string } };
        const t2 = performance.now();
        const bin = atob(body.result.model);
        const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
        const t3 = performance.now();
        const rt = await m.createRuntime(bytes, 'auto', threads ?? undefined);
        const t4 = performance.now();
        const one = typed(single);
        const b200 = typed(s200);
        const b1000 = typed(s1000);
        const time = async (f: () => Promise<unknown>, n: number) => { const t: number[] = []; for (let i = 0; i < n; i++) { const s = performance.now(); await f(); t.push(performance.now() - s); } return t; };
        const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))];
        await time(() => rt.run(one), 50);
        const singles = await time(() => rt.run(one), repeats * 10);
        const sweep200 = await time(() => rt.run(b200), repeats);
        const sweep1000 = await time(() => rt.run(b1000), repeats);
        // the same 200 points one inference each, one after another
        const oneByOne = await time(async () => { for (let i = 0; i < 200; i++) await rt.run(one); }, Math.max(1, Math.floor(repeats / 4)));
        await rt.release();
        return {
          backend: rt.backend, threads: rt.threads, crossOriginIsolated: (globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated,
          loadMs: { runtimeChunk: t1 - t0, modelsExploreCall: t2 - t1, base64Decode: t3 - t2, createSession: t4 - t3, total: t4 - t0 },
          singleP50Ms: med(singles), singleP99Ms: p99(singles), sweep200P50Ms: med(sweep200), sweep1000P50Ms: med(sweep1000), sweep200OneByOneP50Ms: med(oneByOne),
        };
      }, { url: runtime, model, single: toWire(single), s200: toWire(s200), s1000: toWire(s1000), repeats: opts.repeats, threads: threads ?? null });
      await page.close();
      results[`${model}${threads ? ` (${threads} thread forced)` : ''}`] = {
        web, node,
        ratios: {
          batchedVsOneByOne200: web.sweep200OneByOneP50Ms / web.sweep200P50Ms,
          webOverNodeSingle: web.singleP50Ms / node.singleP50Ms,
          webOverNodeSweep200: web.sweep200P50Ms / node.sweep200P50Ms,
          webOverNodeSweep1000: web.sweep1000P50Ms / node.sweep1000P50Ms,
        },
        targets: { sweep200WithinAFrame: { targetMs: 16.7, met: web.sweep200P50Ms <= 16.7 }, sweep1000WithinAFrame: { targetMs: 16.7, met: web.sweep1000P50Ms <= 16.7 } },
      };
    }
    return { wasmBytes: fs.statSync(path.join(RENDERER_DIST, 'assets', fs.readdirSync(path.join(RENDERER_DIST, 'assets')).find((f) => f.endsWith('.wasm'))!)).size, models: results };
  } finally {
    await browser.close();
    await served.stop();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(pkgs, { recursive: true, force: true });
  }
}
