// A GPU runtime: ONNX Runtime's CUDA provider libraries for one ORT version, installed in the data
// folder (the app folder is read-only once packaged) beside copies of the app's own ORT binding and
// libonnxruntime, so that the binding (RUNPATH $ORIGIN) links the copy and ORT finds the providers
// next to it. `manifest.json` names every file with its size and sha256; the loader checks the files
// against it before ORT is loaded from the folder. Names, file lists and the manifest: pure.

export const RUNTIME_FLAVOR = 'cuda12';
export const MANIFEST_FILE = 'manifest.json';

/**
 * Where each provider library sits in the NuGet package `npm run setup:cuda` downloads
 * (Microsoft.ML.OnnxRuntime.Gpu.Linux; onnxruntime-node's script/install-metadata.js, manifest
 * `linux/x64:cuda12`, less TensorRT, which Outpost does not use). A test keeps the two equal.
 */
export const PROVIDER_MEMBERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'linux-x64': {
    'libonnxruntime_providers_shared.so': 'runtimes/linux-x64/native/libonnxruntime_providers_shared.so',
    'libonnxruntime_providers_cuda.so': 'runtimes/linux-x64/native/libonnxruntime_providers_cuda.so',
  },
};

/** The app's own ORT files copied into the runtime (the binding and the library it needs). */
export const APP_ORT_FILES: Readonly<Record<string, readonly string[]>> = {
  'linux-x64': ['onnxruntime_binding.node', 'libonnxruntime.so.1'],
};

export const runtimePlatforms = (): string[] => Object.keys(PROVIDER_MEMBERS);
export const runtimeFolderName = (ortVersion: string, platform: string): string => `onnxruntime-${ortVersion}-${platform}-${RUNTIME_FLAVOR}`;

export interface RuntimeFile { name: string; size: number; sha256: string; from: 'app' | 'package' }

export interface RuntimeManifest {
  format: 'outpost.gpu-runtime/v1';
  ortVersion: string;
  platform: string;
  flavor: string;
  files: RuntimeFile[];
  /** where the provider libraries came from: the hub, the signed release and its package */
  source: { hub: string; name: string; release: number; file: string; sha256: string };
  installedAt: string;
}

const SHA_RE = /^[0-9a-f]{64}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Parse manifest.json and check it is for the runtime its folder says it is. */
export function parseManifest(text: string, expect: { ortVersion: string; platform: string }): { ok: true; manifest: RuntimeManifest } | { ok: false; reason: string } {
  let m: Partial<RuntimeManifest>;
  try {
    m = JSON.parse(text) as Partial<RuntimeManifest>;
  } catch {
    return { ok: false, reason: `${MANIFEST_FILE} is not JSON` };
  }
  if (!m || typeof m !== 'object' || m.format !== 'outpost.gpu-runtime/v1') return { ok: false, reason: `${MANIFEST_FILE} is not an outpost.gpu-runtime/v1 manifest` };
  if (m.ortVersion !== expect.ortVersion || m.platform !== expect.platform) return { ok: false, reason: `${MANIFEST_FILE} is for ONNX Runtime ${String(m.ortVersion)} on ${String(m.platform)}, not ${expect.ortVersion} on ${expect.platform}` };
  if (!Array.isArray(m.files) || !m.source || typeof m.source !== 'object') return { ok: false, reason: `${MANIFEST_FILE} lists no files or no source` };
  const needed = [...(APP_ORT_FILES[expect.platform] ?? []), ...Object.keys(PROVIDER_MEMBERS[expect.platform] ?? {})];
  for (const f of m.files) {
    if (!f || typeof f.name !== 'string' || !NAME_RE.test(f.name) || !Number.isSafeInteger(f.size) || f.size < 0 || typeof f.sha256 !== 'string' || !SHA_RE.test(f.sha256)) {
      return { ok: false, reason: `${MANIFEST_FILE} has a malformed file entry ${JSON.stringify(f)}` };
    }
  }
  const missing = needed.filter((n) => !m.files!.some((f) => f.name === n));
  if (missing.length) return { ok: false, reason: `${MANIFEST_FILE} does not list ${missing.join(', ')}` };
  return { ok: true, manifest: m as RuntimeManifest };
}
