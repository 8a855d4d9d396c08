// Which ONNX Runtime native files this process loads: the app's own (onnxruntime-node's bin folder)
// or a verified GPU runtime's from the data folder (./ort-runtime.ts decides, in the main thread).
// Native libraries load once per process and are matched by soname, so the choice is process-wide
// and must be made before any thread loads onnxruntime-node: the binding module is placed in this
// thread's require cache under the path onnxruntime-node requires it by, loaded from the runtime
// folder. Its RUNPATH ($ORIGIN) then links the runtime's libonnxruntime, and ORT loads its provider
// libraries from beside that. Worker threads inherit the choice through the environment; a main
// thread never takes it from there (only ort-runtime.ts sets it, after checking the files).
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { ortBinDir } from './libraries.ts';

export const ORT_RUNTIME_ENV = 'OUTPOST_ORT_RUNTIME';
const BINDING = 'onnxruntime_binding.node';

/** The folder this process loads (or will load) ONNX Runtime's native files from. */
export function ortLibraryDir(): string {
  return process.env[ORT_RUNTIME_ENV] || ortBinDir();
}

/** Whether this thread has loaded onnxruntime-node's binding already (then the choice is made). */
export function bindingLoadedHere(): boolean {
  const require = createRequire(import.meta.url);
  return fs.existsSync(path.join(ortBinDir(), BINDING)) && require.cache[fs.realpathSync(path.join(ortBinDir(), BINDING))] !== undefined;
}

/** Load the binding from `dir` into this thread's require cache, where onnxruntime-node will find it. */
export function useBindingFrom(dir: string): void {
  const require = createRequire(import.meta.url);
  const key = fs.realpathSync(path.join(ortBinDir(), BINDING));
  const had = require.cache[key];
  if (had) {
    if ((had as Module & { outpostFrom?: string }).outpostFrom !== dir) throw new Error(`ONNX Runtime was already loaded in this thread from ${path.dirname(had.filename)}`);
    return;
  }
  const m = new Module(key) as Module & { outpostFrom?: string };
  m.filename = key;
  process.dlopen(m, path.join(dir, BINDING));
  m.loaded = true;
  m.outpostFrom = dir;
  require.cache[key] = m;
}

// On import: a main thread clears what it inherited; a worker follows its process's choice.
if (isMainThread) delete process.env[ORT_RUNTIME_ENV];
else if (process.env[ORT_RUNTIME_ENV]) useBindingFrom(process.env[ORT_RUNTIME_ENV]);
