// Observes what the provider pre-checks need: which backends this onnxruntime-node build has,
// whether ORT's CUDA provider libraries were downloaded, whether an NVIDIA driver and the CUDA /
// Vulkan libraries are where the dynamic linker will look. Only file-system checks: loading a GPU
// library here could crash or hang the process, which is what the probe worker is for.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { PlatformFacts } from '../common/providers.ts';
import { makeLibraryFinder, ortBinDir } from './libraries.ts';

export { makeLibraryFinder, ortBinDir } from './libraries.ts';

/** Installed by the opt-in CUDA setup (see script/install-metadata.js in onnxruntime-node). */
const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
/** What ORT 1.30's CUDA provider links against (CUDA 12.x, cuDNN 9.x). */
const CUDA_RUNTIME_LIBS = ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcudnn.so.9'];

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
