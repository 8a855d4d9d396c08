// Observes what the provider pre-checks need: which backends this onnxruntime-node build has,
// whether ORT's CUDA provider libraries were downloaded, whether an NVIDIA driver and the CUDA /
// Vulkan libraries are where the dynamic linker will look. Only file-system checks: loading a GPU
// library here could crash or hang the process, which is what the probe worker is for.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import type { PlatformFacts } from '../common/providers.ts';

/** Installed by the opt-in CUDA setup (see script/install-metadata.js in onnxruntime-node). */
const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
/** What ORT 1.30's CUDA provider links against (CUDA 12.x, cuDNN 9.x). */
const CUDA_RUNTIME_LIBS = ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcudnn.so.9'];

/** Folder holding onnxruntime-node's native binding for this platform. */
export function ortBinDir(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** Where the dynamic linker would find a library: LD_LIBRARY_PATH, ld.so.cache, usual folders. */
export function makeLibraryFinder(extraDirs: string[] = []): (name: string) => string | undefined {
  const multiarch = process.arch === 'x64' ? 'x86_64-linux-gnu' : process.arch === 'arm64' ? 'aarch64-linux-gnu' : '';
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    ...extraDirs,
    `/lib/${multiarch}`, `/usr/lib/${multiarch}`, '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib',
    '/usr/lib/wsl/lib', '/usr/local/nvidia/lib64', '/usr/local/cuda/lib64',
  ];
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

export function gatherPlatformFacts(): PlatformFacts {
  const facts: PlatformFacts = {
    platform: process.platform,
    arch: process.arch,
    ortVersion: ort.env.versions.node ?? 'unknown',
    backends: ort.listSupportedBackends().map((b) => b.name),
  };
  if (process.platform === 'linux') {
    const bin = ortBinDir();
    const find = makeLibraryFinder([bin]);
    facts.linux = {
      cudaProviderLibsMissing: CUDA_PROVIDER_LIBS.filter((f) => !existsSync(join(bin, f))),
      nvidiaDevices: ['/dev/nvidia0', '/dev/nvidiactl', '/dev/dxg'].filter((d) => existsSync(d)),
      libcuda: find('libcuda.so.1'),
      cudaRuntimeLibsMissing: CUDA_RUNTIME_LIBS.filter((f) => !find(f)),
      vulkanLoader: find('libvulkan.so.1'),
    };
  }
  return facts;
}
