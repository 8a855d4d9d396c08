// Worker threads that start as quickly as the main thread. Node's compile cache (enabled by
// bin/outpost.js) is per thread: a worker that imports TypeScript directly strips and compiles every
// module again and first loads the type stripper itself (measured: ~450 ms of CPU per worker on the
// 2-core machines, ~140 ms through the cache). So a worker starts from a tiny CommonJS script that
// enables the same cache directory and then imports the real entry. When the caller's thread has no
// compile cache (tests, `NODE_DISABLE_COMPILE_CACHE=1`), the worker is started on its entry as is.
import module from 'node:module';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const dir = module.getCompileCacheDir?.();
  if (!dir || options.eval) return new Worker(entry, options);
  const boot = `require('node:module').enableCompileCache(${JSON.stringify(dir)}); import(${JSON.stringify(entry.href)}).catch((e) => { process.nextTick(() => { throw e; }); });`;
  return new Worker(boot, { ...options, eval: true });
}
