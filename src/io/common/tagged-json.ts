// JSON that survives what plain JSON drops: bigints, byte arrays, -0, NaN and ±Infinity. Used to
// keep Parquet row-group metadata (full of bigints) inside a JSON-serialisable SinkState.

type Tagged = { $bigint: string } | { $bytes: string } | { $number: string };

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function unhex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A plain-JSON value that fromTaggedJson turns back into `value`. Drops undefined members. */
export function toTaggedJson(value: unknown): unknown {
  if (typeof value === 'bigint') return { $bigint: value.toString() } satisfies Tagged;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0) ? value : ({ $number: Object.is(value, -0) ? '-0' : String(value) } satisfies Tagged);
  if (value instanceof Uint8Array) return { $bytes: hex(value) } satisfies Tagged;
  if (Array.isArray(value)) return value.map(toTaggedJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toTaggedJson(v);
    return out;
  }
  return value;
}

export function fromTaggedJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromTaggedJson);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o[keys[0]] === 'string') {
      if (keys[0] === '$bigint') return BigInt(o.$bigint as string);
      if (keys[0] === '$bytes') return unhex(o.$bytes as string);
      if (keys[0] === '$number') return o.$number === '-0' ? -0 : Number(o.$number);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = fromTaggedJson(v);
    return out;
  }
  return value;
}
