// Benchmark helpers: repeated timing with the median kept (the machines are noisy), temp homes
// with a model installed, and generated inputs cached under bench/data/ (gitignored).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../src/train/common/index.ts';
import { tempDir } from '../test/helpers/packages.ts';

export const REPO = fileURLToPath(new URL('../', import.meta.url));
export const DATA_DIR = path.join(REPO, 'bench', 'data');

export interface Timing { medianMs: number; runsMs: number[] }

export async function time(runs: number, fn: () => Promise<unknown> | unknown): Promise<Timing> {
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    runsMs.push(performance.now() - t);
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)], runsMs };
}

export const perSecond = (count: number, t: Timing): number => count / (t.medianMs / 1000);

export const tempHome = (): string => tempDir('outpost-bench-');

/** A CSV of `rows` rows × `features` standard-normal floats (f0..), 6 significant digits; cached. */
export function floatCsv(rows: number, features: number, seed = 7): string {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const file = path.join(DATA_DIR, `floats-${rows}x${features}-${seed}.csv`);
  if (fs.existsSync(file)) return file;
  const rng = createRng(seed);
  const tmp = `${file}.partial`;
  const fd = fs.openSync(tmp, 'w');
  fs.writeSync(fd, Array.from({ length: features }, (_, i) => `f${i}`).join(',') + '\n');
  let chunk = '';
  for (let r = 0; r < rows; r++) {
    let line = '';
    for (let f = 0; f < features; f++) line += (f ? ',' : '') + rng.normal().toPrecision(6);
    chunk += line + '\n';
    if (chunk.length > 1 << 22) { fs.writeSync(fd, chunk); chunk = ''; }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  return file;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
