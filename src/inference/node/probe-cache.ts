// The provider probe cache's file side (format and rules: ../common/probe-cache.ts): the machine's
// fingerprint, read from files without loading ONNX Runtime or any GPU library, and the cache file
// (`<home>/cache/provider-probe.json`, written atomically).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mergeCache, readCache, type MachineFingerprint } from '../common/probe-cache.ts';
import type { ProbeResult } from '../common/providers.ts';
import { libraryDirs, ortPackageVersion } from './libraries.ts';
import { ortLibraryDir } from './ort-binding.ts';

export const PROBE_CACHE_FILE = path.join('cache', 'provider-probe.json');

const read = (file: string): string => {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
};
const mtime = (file: string): string => {
  try {
    const st = fs.statSync(file);
    return `${Math.round(st.mtimeMs)} ${st.size}`;
  } catch {
    return '-';
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
 * What a probe's answer depends on: the ORT build (version, its native folder's files — a GPU
 * runtime's when one is in use, so installing or removing one probes again), the OS and
 * CPU, and on Linux the NVIDIA driver (version file, GPUs, device nodes, libcuda), the CUDA/cuDNN
 * and Vulkan libraries the linker would load, and the DRM devices (WebGPU). A few milliseconds.
 */
export function machineFingerprint(): MachineFingerprint {
  // the folder this process loads ORT from: the app's, or a GPU runtime's (./ort-binding.ts)
  const bin = ortLibraryDir();
  const cpus = os.cpus();
  const fp: MachineFingerprint = {
    ort: ortPackageVersion(),
    ortBin: list(bin).map((f) => libId(path.join(bin, f))),
    os: `${process.platform} ${process.arch} ${os.release()}`,
    cpu: `${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`,
  };
  if (process.platform === 'linux') {
    fp.nvidiaDriver = read('/proc/driver/nvidia/version').split('\n')[0] ?? '';
    fp.gpus = list('/proc/driver/nvidia/gpus').map((id) => `${id} ${read(path.join('/proc/driver/nvidia/gpus', id, 'information')).split('\n')[0] ?? ''}`);
    fp.devices = [...list('/dev').filter((d) => /^(nvidia\d+|nvidiactl|dxg)$/.test(d)), ...list('/dev/dri')];
    // The GPU libraries the linker would find (libcuda, CUDA 12, cuDNN 9, Vulkan): rather than
    // looking each up (a hundred file checks), the places they come from — ld.so.cache (rewritten by
    // ldconfig on every library install), LD_LIBRARY_PATH and the library folders — by modification
    // time. Any library installed or removed there probes again: conservative, and a few stat calls.
    fp.libraryPath = process.env.LD_LIBRARY_PATH ?? '';
    fp.libraryDirs = ['/etc/ld.so.cache', ...libraryDirs()].map((d) => `${d} ${mtime(d)}`);
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
