// Where onnxruntime-node's native files are and where the dynamic linker would find a library:
// plain file-system lookups, without loading ORT (the probe cache's fingerprint reads them on every
// run; platform.ts, which does load ORT, uses them inside the probe worker).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PlatformFacts } from '../common/providers.ts';

/** Folder holding onnxruntime-node's native binding for this platform. */
export function ortBinDir(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** The installed onnxruntime-node's version (its package.json), without loading it. */
export function ortPackageVersion(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version?: unknown };
  return String(pkg.version ?? 'unknown');
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

/** Installed by the opt-in CUDA setup (see script/install-metadata.js in onnxruntime-node) or a GPU runtime. */
const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
/** What ORT 1.30's CUDA provider links against (CUDA 12.x, cuDNN 9.x). */
const CUDA_RUNTIME_LIBS = ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcudnn.so.9'];

/** The GPU side of a Linux machine, from files only: the provider libraries beside ORT in `ortDir`, the NVIDIA driver, CUDA 12 / cuDNN 9, Vulkan. */
export function linuxGpuFacts(ortDir: string): NonNullable<PlatformFacts['linux']> {
  const find = makeLibraryFinder([ortDir]);
  return {
    cudaProviderLibsMissing: CUDA_PROVIDER_LIBS.filter((f) => !existsSync(join(ortDir, f))),
    nvidiaDevices: ['/dev/nvidia0', '/dev/nvidiactl', '/dev/dxg'].filter((d) => existsSync(d)),
    libcuda: find('libcuda.so.1'),
    cudaRuntimeLibsMissing: CUDA_RUNTIME_LIBS.filter((f) => !find(f)),
    vulkanLoader: find('libvulkan.so.1'),
  };
}
