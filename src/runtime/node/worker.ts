// Worker threads that start as quickly as the main thread. Node's compile cache (enabled by
// bin/outpost.js) is per thread: a worker that imports TypeScript directly strips and compiles every
// module again and first loads the type stripper itself (measured: ~450 ms of CPU per worker on the
// 2-core machines, ~140 ms through the cache). So a worker starts from a tiny CommonJS script that
// enables the same cache directory and then imports the real entry. When the caller's thread has no
// compile cache (tests, `NODE_DISABLE_COMPILE_CACHE=1`), the worker is started on its entry as is.
//
// Every worker is named after its entry (threadName): Node gives the OS thread that name, so
// /proc/<pid>/task/*/comm, `top -H`, perf and gdb tell the inference worker, the output writer,
// the statistics worker… apart (all were "WorkerThread"), which is how per-thread CPU is measured
// (bench/results/README.md, "Session 7: rows/s").
import module from 'node:module';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker's thread name from its entry file: the file's name without its extension and a
 * `-worker` suffix (sink-worker.ts → sink), or for a file named just `worker` its area's folder
 * (inference/node/worker.ts → inference). Linux shows the first 15 characters.
 */
export function threadName(entry: URL): string {
  const parts = entry.pathname.split('/');
  const base = (parts.at(-1) ?? '').replace(/\.[cm]?[jt]s$/, '').replace(/-worker$/, '');
  return base === 'worker' && parts.length >= 3 ? parts[parts.length - 3] : base;
}

export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const named = { name: threadName(entry), ...options };
  const dir = module.getCompileCacheDir?.();
  if (!dir || options.eval) return new Worker(entry, named);
  const boot = `require('node:module').enableCompileCache(${JSON.stringify(dir)}); import(${JSON.stringify(entry.href)}).catch((e) => { process.nextTick(() => { throw e; }); });`;
  return new Worker(boot, { ...named, eval: true });
}
