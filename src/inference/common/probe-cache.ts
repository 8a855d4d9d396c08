// The provider probe's results, kept per machine so that `--ep auto` does not start ONNX Runtime
// in a probe worker on every run. A cache entry is valid only for the machine it was taken on: the
// fingerprint (gathered in node/ from files, without loading ORT) names the ORT build, the CPU, the
// GPUs, the driver and the GPU libraries the dynamic linker would load. Any difference throws the
// cache away. Pure: reading and writing the file is node/'s job.
import type { ProbeResult, ProviderName } from './providers.ts';

/** What the cache is keyed on; every value a plain string (or list) read from the machine. */
export type MachineFingerprint = Record<string, string | string[]>;

export interface ProbeCacheFile {
  format: 'outpost.probe-cache/v1';
  fingerprint: MachineFingerprint;
  /** ISO time of the oldest probe the file holds */
  probedAt: string;
  results: ProbeResult[];
}

/** Results that depend on timing, not on the machine: never cached. */
export function isTransient(r: ProbeResult): boolean {
  return r.outcome === 'probe-failed' && /^(no answer within|probe worker stopped)/.test(r.reason);
}

/** The fingerprint keys whose values differ (added, removed or changed). */
export function fingerprintChanges(a: MachineFingerprint, b: MachineFingerprint): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k] ?? null) !== JSON.stringify(b[k] ?? null)).sort();
}

/** The cached results when `data` is a cache of this machine (same fingerprint), else undefined. */
export function readCache(data: unknown, fingerprint: MachineFingerprint): { probedAt: string; results: Map<ProviderName, ProbeResult> } | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const c = data as Partial<ProbeCacheFile>;
  if (c.format !== 'outpost.probe-cache/v1' || typeof c.probedAt !== 'string' || !Array.isArray(c.results) || !c.fingerprint || typeof c.fingerprint !== 'object') return undefined;
  if (fingerprintChanges(c.fingerprint, fingerprint).length) return undefined;
  const results = new Map<ProviderName, ProbeResult>();
  for (const r of c.results) {
    if (r && typeof r.name === 'string' && typeof r.outcome === 'string' && typeof r.reason === 'string' && !isTransient(r)) results.set(r.name, { name: r.name, outcome: r.outcome, reason: r.reason });
  }
  return { probedAt: c.probedAt, results };
}

/** The file to write: earlier results of the same machine kept, new ones replacing them. */
export function mergeCache(previous: ReturnType<typeof readCache>, fingerprint: MachineFingerprint, fresh: ProbeResult[], now: Date): ProbeCacheFile {
  const results = new Map(previous?.results ?? []);
  for (const r of fresh) if (!isTransient(r)) results.set(r.name, r);
  return { format: 'outpost.probe-cache/v1', fingerprint, probedAt: previous?.probedAt ?? now.toISOString(), results: [...results.values()] };
}
