// Old CLI against new for issue 13's cold start: `outpost score` of a 1,000-row demo file (or
// `outpost models list`) spawned from two checkouts of this repository, runs alternating (so changes
// in machine load hit both alike), each tree with its own data folder. Prints per tree the median and
// minimum wall time, the children's CPU (user + system, all threads, from /proc), the load average,
// and checks the two trees' output files are byte-identical:
//   node bench/compare-cli.ts --baseline /path/to/other/checkout [--runs 11] [--command score|list]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { childCpuMs, REPO, tempHome } from './lib.ts';

const { values } = parseArgs({ options: { baseline: { type: 'string' }, runs: { type: 'string', default: '11' }, command: { type: 'string', default: 'score' } } });
const runs = Number(values.runs);
if (!values.baseline || !fs.existsSync(path.join(values.baseline, 'bin', 'outpost.js')) || !['score', 'list'].includes(values.command!) || !(Number.isSafeInteger(runs) && runs > 0)) {
  console.error('usage: node bench/compare-cli.ts --baseline <checkout of this repository> [--runs N] [--command score|list]');
  process.exit(2);
}

const trees = [path.resolve(values.baseline), REPO.replace(/\/$/, '')];
const setups = trees.map((tree) => {
  const home = tempHome();
  const env: NodeJS.ProcessEnv = { ...process.env, OUTPOST_HOME: home };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  const bin = path.join(tree, 'bin', 'outpost.js');
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${tree}: outpost ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  };
  run(['models', 'add', path.join(REPO, 'models', 'demo', 'weather'), '--allow-unsigned']);
  const csv = fs.readFileSync(path.join(REPO, 'models', 'demo', 'weather-2015.csv'), 'utf8').trimEnd().split('\n');
  const input = path.join(home, 'in-1000.csv');
  fs.writeFileSync(input, [csv[0], ...Array.from({ length: 1000 }, (_, i) => csv[1 + (i % (csv.length - 1))])].join('\n') + '\n');
  const out = path.join(home, 'out.csv');
  const args = values.command === 'list' ? ['models', 'list'] : ['score', input, '--model', 'seattle-weather', '--out', out, '--overwrite', '--ep', 'auto'];
  run(args); // warm-up: compile cache and probe cache, as after a first use
  return { tree, home, out, run: () => run(args), wallMs: [] as number[], cpuMs: [] as number[] };
});
const load = [os.loadavg()[0]];
try {
  for (let i = 0; i < runs; i++) {
    for (const s of i % 2 ? setups : [...setups].reverse()) {
      const cpu0 = childCpuMs();
      const t = performance.now();
      s.run();
      s.wallMs.push(performance.now() - t);
      s.cpuMs.push(childCpuMs() - cpu0);
    }
  }
  load.push(os.loadavg()[0]);
  if (values.command === 'score' && !fs.readFileSync(setups[0].out).equals(fs.readFileSync(setups[1].out))) throw new Error('the two trees wrote different output bytes');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const result = {
    command: values.command, runs, loadAverage: load.map((l) => Number(l.toFixed(2))), outputsIdentical: values.command === 'score' ? true : undefined,
    trees: setups.map((s) => ({ tree: s.tree, wallMedianMs: median(s.wallMs), wallMinMs: Math.min(...s.wallMs), cpuMeanMs: mean(s.cpuMs) })),
  };
  console.log(JSON.stringify(result, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v), 2));
} finally {
  for (const s of setups) fs.rmSync(s.home, { recursive: true, force: true });
}
