// npm run bench [-- --quick] [-- --big] [-- --only NAME]: runs the benchmark cases one after another
// and records each result as JSON in bench/results/ (the machines are noisy: every speed figure is
// a ratio against a baseline measured in the same run, plus the absolute numbers for context).
import fs from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO } from './lib.ts';

// as bin/outpost.js does: the benchmarks measure the code a user runs, not Node's type stripping
// of it in every worker thread (src/runtime/node/worker.ts)
module.enableCompileCache?.();

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, big: { type: 'boolean' }, only: { type: 'string' } } });
const quick = values.quick === true;

const cases: { name: string; run: () => Promise<unknown>; optIn?: boolean }[] = [
  { name: 'scoring', run: async () => (await import('./cases/scoring.ts')).run({ rows: quick ? 200_000 : 1_000_000, runs: quick ? 1 : 5 }) },
  { name: 'cli-cold-start', run: async () => (await import('./cases/cli-cold-start.ts')).run({ runs: quick ? 3 : 9 }) },
  { name: 'throughput', run: async () => (await import('./cases/throughput.ts')).run({ rows: quick ? 200_000 : 1_000_000, runs: quick ? 1 : 3 }) },
  { name: 'csv-writer', run: async () => (await import('./cases/csv-writer.ts')).run({ rows: quick ? 200_000 : 1_000_000, runs: quick ? 3 : 7 }) },
  { name: 'ascii-text', run: async () => (await import('./cases/ascii-text.ts')).run({ rows: quick ? 200_000 : 1_000_000, runs: quick ? 3 : 7 }) },
  { name: 'byo-tensor', run: async () => (await import('./cases/byo-tensor.ts')).run({ rows: quick ? 200_000 : 1_000_000, runs: quick ? 1 : 3 }) },
  { name: 'single-record', run: async () => (await import('./cases/single-record.ts')).run({ calls: quick ? 2_000 : 20_000 }) },
  { name: 'explore', run: async () => (await import('./cases/explore.ts')).run({ repeats: quick ? 10 : 40 }) },
  { name: 'scoring-api', run: async () => (await import('./cases/scoring-api.ts')).run({ requests: quick ? 1_000 : 10_000 }) },
  { name: 'drift-overhead', run: async () => (await import('./cases/drift-overhead.ts')).run({ rows: quick ? 200_000 : 1_000_000, runs: quick ? 1 : 3 }) },
  { name: 'serve-thread', run: async () => (await import('./cases/serve-thread.ts')).run({ quick }) },
  { name: 'app-serve', run: async () => (await import('./cases/app-serve.ts')).benchAppServe({ rows: quick ? 200_000 : 1_000_000 }) },
  { name: 'parquet', run: async () => (await import('./cases/parquet.ts')).run({ runs: quick ? 1 : 3 }) },
  { name: 'hub', run: async () => (await import('./cases/hub.ts')).run({ quick }) },
  { name: 'pull', run: async () => (await import('./cases/pull.ts')).run({ quick }) },
  { name: 'tuf-scale', run: async () => (await import('./cases/tuf-scale.ts')).run({ quick }) },
  { name: 'bundle', run: async () => (await import('./cases/bundle.ts')).run({ quick }) },
  { name: 'sync', run: async () => (await import('./cases/sync.ts')).run({ quick }) },
  { name: 'hub-console', run: async () => (await import('./cases/hub-console.ts')).run({ quick }) },
  { name: 'fleet-drift', run: async () => (await import('./cases/fleet-drift.ts')).run({ quick }) },
  { name: 'train', run: async () => (await import('./cases/train.ts')).run({ quick }) },
  { name: 'rss-big-file', optIn: true, run: async () => (await import('./cases/rss-big-file.ts')).run({ bytes: quick ? 1e9 : 5e9 }) },
];

const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` };
const resultsDir = path.join(REPO, 'bench', 'results');
fs.mkdirSync(resultsDir, { recursive: true });

for (const c of cases) {
  if (values.only ? values.only !== c.name : c.optIn && !values.big) continue;
  process.stderr.write(`bench ${c.name}…\n`);
  const started = new Date();
  const loadBefore = os.loadavg();
  const result = await c.run();
  // the 1/5/15-minute load averages when the case started and ended: other work on the machine skews wall times
  const record = { case: c.name, at: started.toISOString(), quick, machine, loadAverage: { start: loadBefore.map((x) => Number(x.toFixed(2))), end: os.loadavg().map((x) => Number(x.toFixed(2))) }, result };
  const file = path.join(resultsDir, `${c.name}${quick ? '-quick' : ''}.json`);
  fs.writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  process.stdout.write(`${c.name}: ${JSON.stringify(result, (k, v) => (k === 'runsMs' ? undefined : typeof v === 'number' ? Number(v.toPrecision(4)) : v), 2)}\n`);
}
