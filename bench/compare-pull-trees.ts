// Old code against new for issue 13's network pull, in one run: one hub folder with a large signed
// model, served by a hub process of each checkout (its test/helpers/hub-serve-child.ts), pulled by
// each checkout's `pull` (smoke excluded), alternating, so changes in machine load hit both alike.
// Per pull: wall time, the device's CPU (this process, all threads), the hub process's CPU; and the
// tightest sha256 of the same file in between, for the ratio. On the shared 2-core machines CPU
// time says more than wall time.
//   node bench/compare-pull-trees.ts --baseline /work/main [--mb 200] [--runs 5]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import type { pull as pullFn } from '../src/registry/node/pull.ts';
import { bigModelHub } from './cases/pull.ts';
import { REPO, sha256FileTight, tempHome } from './lib.ts';

const { values } = parseArgs({ options: { baseline: { type: 'string' }, mb: { type: 'string', default: '200' }, runs: { type: 'string', default: '5' } } });
const mb = Number(values.mb);
const runs = Number(values.runs);
if (!values.baseline || !fs.existsSync(path.join(values.baseline, 'src/registry/node/pull.ts')) || !(mb > 0) || !(Number.isSafeInteger(runs) && runs > 0)) {
  console.error('usage: node bench/compare-pull-trees.ts --baseline <checkout of this repository> [--mb N] [--runs N]');
  process.exit(2);
}
const trees = [path.resolve(values.baseline), REPO.replace(/\/$/, '')];
const pulls: (typeof pullFn)[] = await Promise.all(trees.map(async (t) => (await import(path.join(t, 'src/registry/node/pull.ts'))).pull as typeof pullFn));

/** CPU ms (user + system) of a process, from /proc. */
function cpuMsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // USER_HZ 100
}

async function spawnHub(tree: string, dir: string) {
  const child = spawn(process.execPath, [path.join(tree, 'test/helpers/hub-serve-child.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.once('line', (l) => { rl.close(); resolve(l); });
    child.once('exit', (code) => reject(new Error(`hub of ${tree} exited (${code})`)));
  });
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

const root = tempHome();
const hubs: Awaited<ReturnType<typeof spawnHub>>[] = [];
try {
  const { dir, pkg, bigFile, key, token, trustRoot } = await bigModelHub(root, mb * 1e6);
  for (const t of trees) hubs.push(await spawnHub(t, dir));
  await publishPackage({ packageDir: pkg, hubUrl: hubs[1].url, keys: [key], token, checks: 'none' });
  const digest = sha256FileTight(bigFile);
  const rows: { wallMs: number[]; deviceCpuMs: number[]; hubCpuMs: number[] }[] = trees.map(() => ({ wallMs: [], deviceCpuMs: [], hubCpuMs: [] }));
  const sha: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const t0 = performance.now();
    if (sha256FileTight(bigFile) !== digest) throw new Error('sha256 differs');
    if (r) sha.push(performance.now() - t0);
    for (const i of r % 2 ? [1, 0] : [0, 1]) {
      const home = tempHome();
      const hub0 = cpuMsOf(hubs[i].child.pid!);
      const c0 = process.cpuUsage();
      const t = performance.now();
      const res = await pulls[i]({ home, hubUrl: hubs[i].url, ref: 'big@1', rootFile: trustRoot, smoke: false });
      const wall = performance.now() - t;
      const c = process.cpuUsage(c0);
      const hubMs = cpuMsOf(hubs[i].child.pid!) - hub0;
      fs.rmSync(home, { recursive: true, force: true });
      if (res.model.modelSha256 !== digest) throw new Error('pulled model differs');
      if (!r) continue; // warm-up
      rows[i].wallMs.push(wall);
      rows[i].deviceCpuMs.push((c.user + c.system) / 1000);
      rows[i].hubCpuMs.push(hubMs);
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const shaMs = median(sha);
  const out = {
    mb, runs, sha256TightMs: shaMs, loadavg: os.loadavg(),
    trees: trees.map((t, i) => ({
      tree: t, wallMedianMs: median(rows[i].wallMs), deviceCpuMedianMs: median(rows[i].deviceCpuMs), hubCpuMedianMs: median(rows[i].hubCpuMs),
      pullOverSha256: shaMs / median(rows[i].wallMs), runs: rows[i],
    })),
  };
  console.log(JSON.stringify(out, (k, v) => (k === "runs" && Array.isArray(v?.wallMs) ? undefined : v), 2));
} finally {
  for (const x of hubs) x.child.kill('SIGTERM');
  fs.rmSync(root, { recursive: true, force: true });
}
