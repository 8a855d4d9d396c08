// Observes what the provider pre-checks need: which backends this onnxruntime-node build has,
// whether ORT's CUDA provider libraries were downloaded, whether an NVIDIA driver and the CUDA /
// Vulkan libraries are where the dynamic linker will look. Only file-system checks: loading a GPU
// library here could crash or hang the process, which is what the probe worker is for.
// first: a GPU runtime chosen for this process is what onnxruntime-node loads (./ort-binding.ts)
import './ort-binding.ts';
import ort from 'onnxruntime-node';
import type { PlatformFacts } from '../common/providers.ts';
import { linuxGpuFacts } from './libraries.ts';
import { ortLibraryDir } from './ort-binding.ts';

export { makeLibraryFinder, ortBinDir } from './libraries.ts';

export function gatherPlatformFacts(): PlatformFacts {
  const facts: PlatformFacts = {
    platform: process.platform,
    arch: process.arch,
    ortVersion: ort.env.versions.node ?? 'unknown',
    backends: ort.listSupportedBackends().map((b) => b.name),
  };
  // the app's ORT folder, or the GPU runtime's this process loads
  if (process.platform === 'linux') facts.linux = linuxGpuFacts(ortLibraryDir());
  return facts;
}
