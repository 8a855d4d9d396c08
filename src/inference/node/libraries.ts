// Where onnxruntime-node's native files are and where the dynamic linker would find a library:
// plain file-system lookups, without loading ORT (the probe cache's fingerprint reads them on every
// run; platform.ts, which does load ORT, uses them inside the probe worker).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Folder holding onnxruntime-node's native binding for this platform. */
export function ortBinDir(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** The folders searched for a library, in order: LD_LIBRARY_PATH, `extraDirs`, the usual ones. */
export function libraryDirs(extraDirs: string[] = []): string[] {
  const multiarch = process.arch === 'x64' ? 'x86_64-linux-gnu' : process.arch === 'arm64' ? 'aarch64-linux-gnu' : '';
  return [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    ...extraDirs,
    `/lib/${multiarch}`, `/usr/lib/${multiarch}`, '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib',
    '/usr/lib/wsl/lib', '/usr/local/nvidia/lib64', '/usr/local/cuda/lib64',
  ];
}

/** Where the dynamic linker would find a library: those folders, then ld.so.cache. */
export function makeLibraryFinder(extraDirs: string[] = []): (name: string) => string | undefined {
  const dirs = libraryDirs(extraDirs);
  let cache: string | undefined;
  try {
    cache = readFileSync('/etc/ld.so.cache', 'latin1');
  } catch {
    cache = undefined;
  }
  return (name) => {
    for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
    if (cache) {
      // The cache's string table holds full paths, NUL-terminated: find ".../<name>\0".
      const at = cache.indexOf(`/${name}\0`);
      if (at >= 0) return cache.slice(cache.lastIndexOf('\0', at) + 1, at + name.length + 1);
    }
    return undefined;
  };
}
