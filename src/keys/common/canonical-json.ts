// TUF/OLPC canonical JSON: the bytes that key ids and signatures are computed over. Sorted keys,
// no whitespace, strings escape only `"` and `\`. Pure.

export type CanonicalValue = null | boolean | number | string | CanonicalValue[] | { [k: string]: CanonicalValue };

export function canonicalize(value: CanonicalValue): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    // Canonical JSON has integers only; a float would make two encoders disagree on the bytes.
    if (!Number.isInteger(value)) throw new TypeError(`canonical JSON allows integers only, got ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${canonicalize(k)}:${canonicalize(value[k])}`).join(',')}}`;
}
