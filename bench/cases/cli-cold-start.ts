// Issue 13's CLI cold-start targets, as a user meets them: fresh `outpost` processes (the launcher
// in bin/, Node's compile cache warm as after the first run), timed from spawn to exit.
//   `outpost models list` ≤ 150 ms; `outpost score` of a 1,000-row file ≤ 400 ms including the
//   provider choice (`--ep auto`, answered from the machine's probe cache after the first run).
// Baseline in the same run: a bare `node -e 0`. The machines here are shared, so each figure is the
// median of `runs`, with the CPU time (user + system) of the child beside the wall time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childCpuMs, REPO, tempHome } from '../lib.ts';

const NODE = process.execPath;
const BIN = path.join(REPO, 'bin', 'outpost.js');

/** One spawn, waited for; its wall time in ms. */
function once(args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(NODE, args, { env, encoding: 'utf8' });
  const wallMs = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return wallMs;
}

/** Median wall time of `runs` spawns, and the children's CPU time per run (from /proc when available). */
function measure(runs: number, args: string[], env: NodeJS.ProcessEnv): { medianMs: number; minMs: number; cpuMs: number; runsMs: number[] } {
  const runsMs: number[] = [];
  const cpu0 = childCpuMs();
  for (let i = 0; i < runs; i++) runsMs.push(once(args, env));
  const cpuMs = (childCpuMs() - cpu0) / runs;
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(runs / 2)], minMs: sorted[0], cpuMs, runsMs };
}

export async function run(opts: { runs: number }) {
  const home = tempHome();
  const env: NodeJS.ProcessEnv = { ...process.env, OUTPOST_HOME: home };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  try {
    const demo = path.join(REPO, 'models', 'demo', 'weather');
    once([BIN, 'models', 'add', demo, '--allow-unsigned'], env);
    const csv = fs.readFileSync(path.join(REPO, 'models', 'demo', 'weather-2015.csv'), 'utf8').trimEnd().split('\n');
    const rows = Array.from({ length: 1000 }, (_, i) => csv[1 + (i % (csv.length - 1))]);
    const input = path.join(home, 'in-1000.csv');
    fs.writeFileSync(input, [csv[0], ...rows].join('\n') + '\n');
    const out = path.join(home, 'out.csv');
    const score = (ep: string) => [BIN, 'score', input, '--model', 'seattle-weather', '--out', out, '--overwrite', '--ep', ep];

    // first runs: fill the compile cache and the probe cache, as any first use does
    const firstAuto = measure(1, score('auto'), env);
    const bare = measure(opts.runs, ['-e', '0'], env);
    const help = measure(opts.runs, [BIN, '--help'], env);
    const list = measure(opts.runs, [BIN, 'models', 'list'], env);
    const scoreCpu = measure(opts.runs, score('cpu'), env);
    const scoreAuto = measure(opts.runs, score('auto'), env);
    const noCache = { ...env, NODE_DISABLE_COMPILE_CACHE: '1' };
    const listNoCompileCache = measure(opts.runs, [BIN, 'models', 'list'], noCache);
    fs.rmSync(path.join(home, 'cache'), { recursive: true, force: true });
    const scoreAutoUncached = measure(1, score('auto'), env); // probes again (then caches)
    return {
      input: { rows: 1000, model: 'seattle-weather (demo)', runs: opts.runs },
      wallMs: {
        bareNode: bare.medianMs, help: help.medianMs, modelsList: list.medianMs, modelsListWithoutCompileCache: listNoCompileCache.medianMs,
        score1kCpu: scoreCpu.medianMs, score1kAuto: scoreAuto.medianMs, score1kAutoFirstRun: firstAuto.medianMs, score1kAutoProbeCacheCleared: scoreAutoUncached.medianMs,
      },
      minWallMs: { bareNode: bare.minMs, modelsList: list.minMs, score1kAuto: scoreAuto.minMs },
      cpuMs: { bareNode: bare.cpuMs, help: help.cpuMs, modelsList: list.cpuMs, modelsListWithoutCompileCache: listNoCompileCache.cpuMs, score1kCpu: scoreCpu.cpuMs, score1kAuto: scoreAuto.cpuMs },
      overBareNodeMs: { modelsList: list.medianMs - bare.medianMs, score1kAuto: scoreAuto.medianMs - bare.medianMs },
      targets: {
        modelsListMs: { target: 150, met: list.medianMs <= 150, medianOverTarget: list.medianMs / 150 },
        score1kAutoMs: { target: 400, met: scoreAuto.medianMs <= 400, medianOverTarget: scoreAuto.medianMs / 400 },
      },
      runsMs: { bare: bare.runsMs, list: list.runsMs, scoreAuto: scoreAuto.runsMs },
    };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}
