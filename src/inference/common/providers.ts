// Execution-provider choice, the pure half: which providers each platform tries and in what order,
// the cheap pre-checks that rule one out before ORT is asked (with a reason a person can act on),
// turning ORT's failure messages into short reasons, and the one-line summary of a decision.
// The facts the checks read (files present, devices, the ORT build) are gathered in node/.

export const providerNames = ['cuda', 'webgpu', 'dml', 'coreml', 'cpu'] as const;
export type ProviderName = (typeof providerNames)[number];
export type ProviderRequest = 'auto' | ProviderName;

export type CandidateOutcome = 'chosen' | 'not-on-platform' | 'unavailable' | 'probe-failed' | 'mismatch' | 'not-tried';

export interface Candidate {
  name: ProviderName;
  outcome: CandidateOutcome;
  /** Why it was rejected (or, for the chosen one, how it was accepted). Empty for not-tried. */
  reason: string;
}

export interface ProviderDecision {
  request: ProviderRequest;
  chosen: ProviderName;
  /** In the order they were considered. */
  candidates: Candidate[];
  /** Set when the reasons come from the machine's probe cache: when that probe ran (ISO time). */
  cachedAt?: string;
}

/** What a probe of one provider found, before it is placed in a decision. */
export interface ProbeResult {
  name: ProviderName;
  outcome: 'ok' | 'not-on-platform' | 'unavailable' | 'probe-failed' | 'mismatch';
  reason: string;
}

/** What installs ORT's CUDA provider libraries (opt-in: they are large): a GPU runtime from the hub. */
export const CUDA_SETUP_COMMAND = 'outpost gpu install';

/** GPU providers `auto` tries, best first; cpu always closes the list. */
export function autoCandidates(platform: string, arch: string): ProviderName[] {
  if (platform === 'linux' && arch === 'x64') return ['cuda', 'webgpu'];
  if (platform === 'linux') return ['webgpu']; // onnxruntime-node ships no CUDA build for arm64
  if (platform === 'win32') return ['cuda', 'dml', 'webgpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu'];
  return [];
}

export function isProviderRequest(s: string): s is ProviderRequest {
  return s === 'auto' || (providerNames as readonly string[]).includes(s);
}

/** What node/ found out about this machine; every field is a plain observation. */
export interface PlatformFacts {
  platform: string;
  arch: string;
  ortVersion: string;
  /** Backends compiled into this onnxruntime-node binary (`ort.listSupportedBackends()`). */
  backends: string[];
  /** Linux only (undefined elsewhere). */
  linux?: {
    /** ORT's CUDA provider libraries missing from its bin folder (downloaded by the opt-in setup). */
    cudaProviderLibsMissing: string[];
    /** NVIDIA device nodes seen (/dev/nvidia0, /dev/nvidiactl, /dev/dxg on WSL2). */
    nvidiaDevices: string[];
    /** Where libcuda.so.1 (the driver's user-space library) was found, if anywhere. */
    libcuda?: string;
    /** CUDA 12 / cuDNN 9 runtime libraries the CUDA provider links to and that were not found. */
    cudaRuntimeLibsMissing: string[];
    /** Where libvulkan.so.1 was found: Dawn (ORT's WebGPU) needs Vulkan on Linux. */
    vulkanLoader?: string;
  };
}

/** ORT's name for a provider in `listSupportedBackends()`. */
const backendName: Record<ProviderName, string> = { cpu: 'cpu', cuda: 'cuda', webgpu: 'webgpu', dml: 'dml', coreml: 'coreml' };

/**
 * Rules a provider out without asking ORT, when the answer is certain. Returns undefined when the
 * provider is worth a probe. Checks go from the root cause outward: no GPU driver beats missing
 * libraries, because installing the libraries would not help.
 */
export function precheck(name: ProviderName, facts: PlatformFacts): ProbeResult | undefined {
  if (name === 'cpu') return undefined;
  if (!facts.backends.includes(backendName[name])) {
    return { name, outcome: 'not-on-platform', reason: `onnxruntime-node ${facts.ortVersion} has no ${name} provider on ${facts.platform}/${facts.arch}` };
  }
  const linux = facts.linux;
  if (name === 'cuda' && linux) {
    if (linux.nvidiaDevices.length === 0 || !linux.libcuda) {
      const missing = [linux.nvidiaDevices.length === 0 ? 'no /dev/nvidia0' : '', linux.libcuda ? '' : 'no libcuda.so.1'].filter(Boolean).join(', ');
      return { name, outcome: 'unavailable', reason: `no NVIDIA driver found (${missing})` };
    }
    if (linux.cudaProviderLibsMissing.length > 0) {
      return { name, outcome: 'unavailable', reason: `CUDA provider libraries not installed (${linux.cudaProviderLibsMissing.join(', ')}): run \`${CUDA_SETUP_COMMAND}\`` };
    }
  }
  if (name === 'webgpu' && linux && !linux.vulkanLoader) {
    return { name, outcome: 'unavailable', reason: 'no Vulkan loader (libvulkan.so.1), which WebGPU needs on Linux' };
  }
  return undefined;
}

/**
 * A short reason from the error ORT threw while creating or running a probe session. ORT's own
 * text is often a C++ source location plus an unhelpful summary ("Failed to load shared library"),
 * so the facts add what is most likely wrong.
 */
export function explainProbeFailure(name: ProviderName, ortMessage: string, facts: PlatformFacts): string {
  const said = tidyOrtMessage(ortMessage);
  if (name === 'cuda' && facts.linux && facts.linux.cudaRuntimeLibsMissing.length > 0 && /load/i.test(ortMessage)) {
    return `CUDA provider could not load: CUDA 12 / cuDNN 9 libraries not found (${facts.linux.cudaRuntimeLibsMissing.join(', ')}); onnxruntime-node ${facts.ortVersion} needs CUDA 12.x and cuDNN 9.x on the library path (ORT: ${said})`;
  }
  if (name === 'webgpu' && /adapter/i.test(ortMessage)) return `no WebGPU adapter found (ORT: ${said})`;
  return said;
}

/** First line of an ORT message without the "/onnxruntime_src/…cc:123 fn(…) " prefix. */
export function tidyOrtMessage(message: string): string {
  let m = message.trim().split('\n')[0] ?? '';
  // ORT prefixes many messages with the throwing source location and function signature.
  const loc = /^\S*\.(?:cc|cpp|h):\d+\s+/.exec(m);
  if (loc) {
    m = m.slice(loc[0].length);
    // Drop the C++ function signature: everything up to the last ')' followed by a space that
    // precedes the actual text.
    const sig = /^[^\s].*?\)(?:::<lambda\(\)>)?\s+(?=[a-zA-Z])/.exec(m);
    if (sig) m = m.slice(sig[0].length);
    // ORT_ENFORCE messages start with the failed condition; the sentence after it is the news.
    m = m.replace(/^.*? was false\.\s*/, '');
  }
  return m.length > 240 ? `${m.slice(0, 237)}...` : m;
}

/**
 * Places probe results in a decision: the first `ok` is chosen, later candidates are not tried.
 * Returns undefined when nothing was chosen (every candidate rejected).
 */
export function decide(request: ProviderRequest, results: ProbeResult[], untried: ProviderName[]): ProviderDecision | undefined {
  const candidates: Candidate[] = [];
  let chosen: ProviderName | undefined;
  for (const r of results) {
    if (chosen === undefined && r.outcome === 'ok') {
      chosen = r.name;
      candidates.push({ name: r.name, outcome: 'chosen', reason: r.reason });
    } else if (chosen !== undefined) {
      candidates.push({ name: r.name, outcome: 'not-tried', reason: '' });
    } else {
      candidates.push({ name: r.name, outcome: r.outcome as Exclude<ProbeResult['outcome'], 'ok'>, reason: r.reason });
    }
  }
  for (const name of untried) candidates.push({ name, outcome: 'not-tried', reason: '' });
  return chosen === undefined ? undefined : { request, chosen, candidates };
}

/**
 * One line for logs and `--json`-less output, e.g.
 * `cpu (auto: cuda — no NVIDIA driver found (…); webgpu — no Vulkan loader found …)`.
 */
/** When a cached probe ran, for people: "2026-12-02 16:20 UTC". */
export const cacheDate = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

export function summarizeDecision(d: ProviderDecision): string {
  const cached = d.cachedAt ? `cached probe from ${cacheDate(d.cachedAt)}` : '';
  if (d.request !== 'auto') return `${d.chosen} (requested${cached ? `; ${cached}` : ''})`;
  const rejected = d.candidates.filter((c) => c.outcome !== 'chosen' && c.outcome !== 'not-tried' && c.name !== d.chosen);
  if (rejected.length === 0) return `${d.chosen} (auto${cached ? `; ${cached}` : ''})`;
  return `${d.chosen} (auto${cached ? `, ${cached}` : ''}: ${rejected.map((c) => `${c.name} — ${c.reason}`).join('; ')})`;
}
