// A request body read as JSON text. JSON is UTF-8 (RFC 8259 §8.1): bytes that are not UTF-8 are
// refused, naming where, instead of being decoded to U+FFFD — a record would otherwise be scored
// (and logged) with a value its sender never wrote. A leading byte order mark is ignored, as §8.1
// allows (Windows tools such as PowerShell write one). An object that names a key twice is refused
// naming the key (src/common/json-duplicates.ts): JSON.parse would keep the last value silently;
// and one nested deeper than a record can be (JSON.stringify of such a value overflows the stack).

import { describeDuplicate, jsonShapeProblem, type DuplicateKey } from '../../common/json-duplicates.ts';

/** `text`: the body as sent, for echoing a value as it was written (a JSON number's digits) */
export type JsonBody = { ok: true; value: unknown; text: string } | { ok: false; reason: string };

/** The byte offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes); // lossy: U+FFFD where bytes are bad
  let at = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0xfffd && !(bytes[at] === 0xef && bytes[at + 1] === 0xbf && bytes[at + 2] === 0xbd)) return at;
    at += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return -1;
}

/** A body's text, strictly UTF-8 (one leading BOM dropped): `reason` completes "the request body …". */
export function decodeUtf8Body(bytes: Uint8Array): { ok: true; text: string } | { ok: false; reason: string } {
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { ok: false, reason: `is not UTF-8 (byte ${firstInvalidUtf8(bytes)} starts an invalid sequence); JSON must be UTF-8` };
  }
}

/** Parse a body: `reason` completes "the request body …" when it is not UTF-8 JSON. */
export function parseJsonBody(bytes: Uint8Array): JsonBody {
  const d = decodeUtf8Body(bytes);
  if (!d.ok) return d;
  let value: unknown;
  try {
    value = JSON.parse(d.text);
  } catch (e) {
    return { ok: false, reason: `is not valid JSON (${(e as Error).message})` };
  }
  const shape = jsonShapeProblem(d.text, value);
  if (shape?.kind === 'duplicate') return { ok: false, reason: duplicateReason(shape) };
  if (shape) return { ok: false, reason: `is nested more than ${shape.limit} levels deep (a record is an object of values)` };
  return { ok: true, value, text: d.text };
}

/** Completes "the request body …" for an object that repeats a key. */
export function duplicateReason(dup: DuplicateKey): string {
  return `names ${describeDuplicate(dup)}: a JSON object must name each key once (which value was meant cannot be known)`;
}

/**
 * Completes "the request body …" for parsed JSON that names `__proto__`, or `constructor` holding
 * `prototype` (keys that could change what every object inherits once merged into one; the hub's
 * parser refuses them), naming the first and where; undefined when there is none.
 */
export function prototypeKeyReason(value: unknown): string | undefined {
  const walk = (v: unknown, at: string): string | undefined => {
    if (v === null || typeof v !== 'object') return undefined;
    for (const [k, x] of Object.entries(v)) {
      const here = Array.isArray(v) ? `${at}[${k}]` : at ? `${at}.${k}` : k;
      if (!Array.isArray(v) && (k === '__proto__' || (k === 'constructor' && x !== null && typeof x === 'object' && Object.hasOwn(x, 'prototype')))) {
        return `names the key "${k}"${at ? ` (in ${at})` : ''}: a key that could change the prototype of objects is refused`;
      }
      const inner = walk(x, here);
      if (inner) return inner;
    }
    return undefined;
  };
  return walk(value, '');
}
