// Benchmark helpers: repeated timing with the median kept (the machines are noisy), temp homes
// with a model installed, and generated inputs cached under bench/data/ (gitignored).
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultOfflineKeysDir } from '../src/hub/node/offline-keys.ts';
import { sha256FileSync } from '../src/package/node/files.ts';
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

/**
 * sha256 (hex) of a file, the fastest way this process can: one reused 1 MiB buffer, synchronous
 * reads. The baseline of every "verify at ≥ 0.8× sha256" ratio (network pull, bundle pull).
 */
export const sha256FileTight = (file: string): string => sha256FileSync(file, 1 << 20);

/**
 * sha256 (hex) of a file streamed through `fs.createReadStream` (1 MiB chunks, a fresh buffer per
 * chunk): the baseline of pull ratios before 2026-12-03, kept alongside for continuity — it is
 * several times slower than `sha256FileTight` on the bench VM.
 */
export async function sha256FileStreamed(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const c of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

export const perSecond = (count: number, t: Timing): number => count / (t.medianMs / 1000);

export const tempHome = (): string => tempDir('outpost-bench-');

/** Remove a hub folder made by `initHub(dir)` and the offline keys it keeps beside it (`<dir>.offline-keys`). */
export function removeHub(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(defaultOfflineKeysDir(dir), { recursive: true, force: true });
}

/**
 * CPU time per thread of this process while it runs (Linux: /proc/self/task/<tid>/stat, sampled every
 * 50 ms so threads that end are counted), summed by thread name: MainThread, each worker by the
 * name startWorker gives it (sink, inference, … — an unnamed WorkerThread numbered in start order),
 * V8Worker (V8's helpers: GC, compilation). Empty elsewhere.
 */
export function threadCpu(): { stop: () => Record<string, number> } {
  const msPerTick = 10; // USER_HZ = 100
  const first = new Map<string, number>();
  const last = new Map<string, { name: string; ms: number }>();
  const sample = () => {
    let tids: string[] = [];
    try {
      tids = fs.readdirSync('/proc/self/task');
    } catch {
      return;
    }
    for (const tid of tids) {
      try {
        const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ms = (Number(f[11]) + Number(f[12])) * msPerTick;
        if (!first.has(tid)) first.set(tid, ms);
        last.set(tid, { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ms: ms - first.get(tid)! });
      } catch {
        // the thread ended between the listing and the read: its last sample stands
      }
    }
  };
  sample();
  const timer = setInterval(sample, 50);
  return {
    stop: () => {
      sample();
      clearInterval(timer);
      const out: Record<string, number> = {};
      let worker = 0;
      for (const [, { name, ms }] of [...last].sort((a, b) => Number(a[0]) - Number(b[0]))) {
        if (ms === 0) continue;
        const key = name === 'WorkerThread' ? `WorkerThread ${++worker}` : name;
        out[key] = (out[key] ?? 0) + ms;
      }
      return out;
    },
  };
}

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

/** Resident set of a process in bytes (Linux /proc; 0 where unavailable or gone). */
function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Wait for `child` to exit, sampling its resident set every `everyMs`: its exit code and peak RSS in bytes. */
export async function waitSamplingRss(child: ChildProcess, everyMs: number): Promise<{ code: number | null; peakBytes: number }> {
  let peakBytes = 0;
  const timer = setInterval(() => (peakBytes = Math.max(peakBytes, rssBytes(child.pid!))), everyMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  return { code, peakBytes };
}

/** The bytes of `b` as an ArrayBuffer of their own (hyparquet takes ArrayBuffers). */
export function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** CPU time of waited-for children (user + system), from /proc/self/stat (Linux); NaN elsewhere. */
export function childCpuMs(): number {
  try {
    const f = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    // fields[13], fields[14] = cutime, cstime (clock ticks, usually 100 per second)
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}
