// The process-wide choice of ONNX Runtime files (see ./ort-binding.ts): when this platform's GPU
// runtime is installed in the data folder and every file matches its manifest, this process loads
// ORT from it (the runtime's libonnxruntime is a copy of the app's, so CPU results are identical);
// otherwise from the app. Made once, in the main thread, before any thread loads ORT: by the CLI
// before a scoring command starts its worker, by the app's core when it starts, and by
// chooseProvider for anything else. A runtime whose files were modified is not loaded: `--ep cuda`
// fails naming the file, `--ep auto` says why CUDA was passed over, and a security event is recorded.
import fs from 'node:fs';
import path from 'node:path';
import type { RuntimeManifest } from '../common/gpu-runtime.ts';
import { checkRuntime } from './gpu-runtime.ts';
import { ORT_RUNTIME_ENV, bindingLoadedHere, useBindingFrom } from './ort-binding.ts';

export interface OrtSelection {
  /** the GPU runtime this process loads ORT from */
  runtime?: { dir: string; manifest: RuntimeManifest; hashed: string[] };
  /** why the installed GPU runtime is not used */
  problem?: string;
  /** the runtime file that failed its check (a security event is recorded for it) */
  modified?: { file: string; reason: string };
}

const chosen = new Map<string, OrtSelection>();
let active: string | undefined;

/** Where libonnxruntime is mapped in this process already, if anywhere (Linux; elsewhere: this thread's require cache). */
function ortLoadedFrom(): string | undefined {
  try {
    const line = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => /\/libonnxruntime\.so[.\d]*$/.test(l));
    return line ? path.dirname(line.slice(line.indexOf('/'))) : undefined;
  } catch {
    return bindingLoadedHere() ? 'this thread' : undefined;
  }
}

export function selectOrtRuntime(home: string): OrtSelection {
  const key = path.resolve(home);
  const had = chosen.get(key);
  if (had) return had;
  const check = checkRuntime(home);
  let sel: OrtSelection = {};
  if (check.state === 'modified') {
    sel = { problem: `the GPU runtime ${path.basename(check.dir)} was modified (${check.reason}): reinstall it with \`outpost gpu install\``, modified: { file: check.file, reason: check.reason } };
  } else if (check.state === 'ok') {
    const loaded = active ?? ortLoadedFrom();
    if (loaded && loaded !== check.dir) sel = { problem: `ONNX Runtime was already loaded in this process from ${loaded}, before the GPU runtime could be chosen: restart to use it` };
    else {
      useBindingFrom(check.dir);
      process.env[ORT_RUNTIME_ENV] = check.dir;
      active = check.dir;
      sel = { runtime: { dir: check.dir, manifest: check.manifest, hashed: check.hashed } };
    }
  }
  chosen.set(key, sel);
  return sel;
}

/** The runtime this process loads ORT from (undefined: the app's own). */
export const activeRuntimeDir = (): string | undefined => active;

const recorded = new Set<string>();
/** Record a modified runtime as a security event, once per process and data folder. */
export async function recordRuntimeProblem(home: string, sel: OrtSelection): Promise<void> {
  if (!sel.modified || recorded.has(path.resolve(home))) return;
  recorded.add(path.resolve(home));
  const { openStore } = await import('../../store/node/store.ts');
  const { recordSecurityEvent } = await import('../../store/node/models.ts');
  const store = openStore(home);
  try { recordSecurityEvent(store, 'gpu-runtime-modified', null, sel.problem ?? sel.modified.reason); } finally { store.close(); }
}
