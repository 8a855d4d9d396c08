// Safety checks on a downloaded model file before anything parses it for real (ONNX Runtime) or
// trusts its declared sizes: external-data references must stay inside the package, be unique and
// lie inside their files; declared tensor sizes are capped. A signed model can still be hostile or
// broken — the signature says who made it, not that it is harmless. Pure.
import type { ModelInfo } from '../../onnx/common/onnx.ts';

export interface SafetyCaps {
  /** largest single tensor a package may declare, in bytes */
  maxTensorBytes: number;
  /** largest total of declared tensor bytes */
  maxTotalTensorBytes: number;
}

export const DEFAULT_SAFETY_CAPS: SafetyCaps = { maxTensorBytes: 2 * 1024 ** 3, maxTotalTensorBytes: 8 * 1024 ** 3 };

const ELEM_BYTES: Record<string, number> = { float: 4, uint8: 1, int8: 1, int32: 4, int64: 8, bool: 1, double: 8 };

/** Declared byte size of a tensor, or undefined for strings (variable size). Unknown types count as 8 bytes (upper bound). */
export function declaredBytes(type: string, dims: number[]): number | undefined {
  if (type === 'string') return undefined;
  const elems = dims.reduce((n, d) => n * d, 1);
  return elems * (ELEM_BYTES[type] ?? 8);
}

/** Why an external-data location is unsafe, or undefined. */
export function unsafeLocation(location: string): string | undefined {
  if (location === '') return 'has an empty location';
  if (location.includes('\0')) return 'location contains a NUL byte';
  if (location.startsWith('/') || location.startsWith('\\') || /^[A-Za-z]:/.test(location)) return `location "${location}" is an absolute path`;
  const parts = location.split(/[\\/]/);
  if (parts.includes('..')) return `location "${location}" contains ".."`;
  if (parts.some((p) => p === '' || p === '.')) return `location "${location}" is not a plain relative path`;
  if (location.includes('%')) return `location "${location}" contains "%"`;
  return undefined;
}

/**
 * Problems with a model's declared data. `files` maps package-relative file names (other than the
 * model itself) to their sizes; an external reference to anything else points outside the package.
 */
export function checkModelSafety(info: ModelInfo, modelBytes: number, files: Record<string, number>, caps: SafetyCaps = DEFAULT_SAFETY_CAPS): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const ranges = new Map<string, { tensor: string; start: number; end: number }[]>();
  let total = 0;
  for (const t of info.initializers) {
    const label = `tensor "${t.name}"`;
    if (names.has(t.name)) problems.push(`${label} is declared twice`);
    names.add(t.name);
    if (t.dims.some((d) => !Number.isSafeInteger(d) || d < 0)) { problems.push(`${label} has invalid dimensions [${t.dims.join(', ')}]`); continue; }
    const bytes = declaredBytes(t.type, t.dims);
    if (bytes !== undefined) {
      total += bytes;
      if (!Number.isSafeInteger(bytes) || bytes > caps.maxTensorBytes) problems.push(`${label} declares ${bytes} bytes ([${t.dims.join(', ')}] ${t.type}), above the cap of ${caps.maxTensorBytes}`);
      else if (!t.external && bytes > modelBytes) problems.push(`${label} declares ${bytes} bytes inline but the model file has only ${modelBytes}`);
    }
    if (!t.external) continue;
    const ext = t.external;
    const bad = unsafeLocation(ext.location);
    if (bad) { problems.push(`${label}: external data ${bad}`); continue; }
    const size = files[ext.location];
    if (size === undefined) { problems.push(`${label}: external data "${ext.location}" is not a file of this package (outside the package or missing)`); continue; }
    const offset = ext.offset ?? 0;
    const length = ext.length ?? bytes ?? size - offset;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) { problems.push(`${label}: invalid external offset/length`); continue; }
    if (offset + length > size) problems.push(`${label}: external data ${offset}+${length} runs past the end of "${ext.location}" (${size} bytes)`);
    if (bytes !== undefined && ext.length !== undefined && ext.length !== bytes) problems.push(`${label}: external length ${ext.length} differs from the ${bytes} bytes its shape declares`);
    const list = ranges.get(ext.location) ?? [];
    for (const r of list) if (offset < r.end && r.start < offset + length) problems.push(`${label}: external data overlaps tensor "${r.tensor}" in "${ext.location}"`);
    list.push({ tensor: t.name, start: offset, end: offset + length });
    ranges.set(ext.location, list);
  }
  if (total > caps.maxTotalTensorBytes) problems.push(`tensors declare ${total} bytes in total, above the cap of ${caps.maxTotalTensorBytes}`);
  return problems;
}
