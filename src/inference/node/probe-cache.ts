// The provider probe cache's file side (format and rules: ../common/probe-cache.ts): the machine's
// fingerprint, read from files without loading ONNX Runtime or any GPU library, and the cache file
// (`<home>/cache/provider-probe.json`, written atomically).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { mergeCache, readCache, type MachineFingerprint } from '../common/probe-cache.ts';
import type { ProbeResult } from '../common/providers.ts';
import { makeLibraryFinder, ortBinDir } from './libraries.ts';

export const PROBE_CACHE_FILE = path.join('cache', 'provider-probe.json');

const read = (file: string): string => {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
};
const list = (dir: string): string[] => {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
};
/** A library's identity: its real (versioned) path, size and modification time. */
const libId = (file: string | undefined): string => {
  if (!file) return '';
  try {
    const real = fs.realpathSync(file);
    const st = fs.statSync(real);
    return `${real} ${st.size} ${Math.round(st.mtimeMs)}`;
  } catch {
    return file;
  }
};

/**
 * What a probe's answer depends on: the ORT build (version, its native folder's files), the OS and
 * CPU, and on Linux the NVIDIA driver (version file, GPUs, device nodes, libcuda), the CUDA/cuDNN
 * and Vulkan libraries the linker would load, and the DRM devices (WebGPU). A few milliseconds.
 */
export function machineFingerprint(): MachineFingerprint {
  const require = createRequire(import.meta.url);
  const ortPkg = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'package.json'), 'utf8')) as { version?: string };
  const bin = ortBinDir();
  const cpus = os.cpus();
  const fp: MachineFingerprint = {
    ort: String(ortPkg.version ?? 'unknown'),
    ortBin: list(bin).map((f) => libId(path.join(bin, f))),
    os: `${process.platform} ${process.arch} ${os.release()}`,
    cpu: `${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`,
  };
  if (process.platform === 'linux') {
    const find = makeLibraryFinder([bin]);
    fp.nvidiaDriver = read('/proc/driver/nvidia/version').split('\n')[0] ?? '';
    fp.gpus = list('/proc/driver/nvidia/gpus').map((id) => `${id} ${read(path.join('/proc/driver/nvidia/gpus', id, 'information')).split('\n')[0] ?? ''}`);
    fp.devices = [...list('/dev').filter((d) => /^(nvidia\d+|nvidiactl|dxg)$/.test(d)), ...list('/dev/dri')];
    fp.libs = ['libcuda.so.1', 'libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcudnn.so.9', 'libvulkan.so.1'].map((l) => `${l}: ${libId(find(l))}`);
  }
  return fp;
}

export function loadProbeCache(file: string, fingerprint: MachineFingerprint): ReturnType<typeof readCache> {
  try {
    return readCache(JSON.parse(fs.readFileSync(file, 'utf8')), fingerprint);
  } catch {
    return undefined; // missing or unreadable: probe again
  }
}

/** Adds fresh results to the cache file (temp file + rename). A cache that cannot be written is only slower next time. */
export function saveProbeCache(file: string, fingerprint: MachineFingerprint, fresh: ProbeResult[], now = new Date()): void {
  try {
    const next = mergeCache(loadProbeCache(file, fingerprint), fingerprint, fresh, now);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(next, null, 1) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch { /* read-only data folder: no cache */ }
}
