// Duplicate keys (and nesting past a limit) in JSON text. RFC 8259 §4 says names within an object SHOULD be unique and that
// with duplicates "the behavior of software that receives such an object is unpredictable":
// JSON.parse keeps the last value and drops the others without a word, so a record sent as
// {"temp": 12, "temp": 31} would be scored (and logged) as 31 although its sender may have meant
// 12. Outpost refuses such objects instead, naming the key and where it is.
//
// The check runs on text JSON.parse has already accepted. A fast path decides it without building
// anything: every key is followed by exactly one ':' outside strings and no other ':' is, so when
// the text holds as many ':' outside strings (strings are skipped with indexOf) as the parsed value
// has keys, no key was dropped. Only a real duplicate is then walked again, iteratively (no
// recursion: nesting as deep as JSON.parse takes is fine), to name the key and its path. Pure.

import { quote } from './errors.ts';

export interface DuplicateKey {
  /** the repeated key, decoded (so "a" and "\u0061" are the same key) */
  key: string;
  /** where the object is: '' for the top level, else e.g. records[2] or a.b[0] */
  path: string;
}

const COLON = 0x3a;

/** How many ':' the text holds outside strings: exactly one per key (strings are skipped whole). */
function keyColons(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = stringEnd(text, i);
    else if (c === COLON) n++;
  }
  return n;
}

/**
 * How many keys the parsed value's objects hold together (iterative: any depth), or -1 when an
 * object or array sits deeper than `maxDepth` (the top level is depth 1).
 */
function keyCount(value: unknown, maxDepth: number): number {
  let n = 0;
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  while (stack.length) {
    const v = stack.pop();
    const d = depths.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > maxDepth) return -1;
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && typeof x === 'object') { stack.push(x); depths.push(d + 1); }
      continue;
    }
    for (const k in v) {
      n++;
      const x = (v as Record<string, unknown>)[k];
      if (x !== null && typeof x === 'object') { stack.push(x); depths.push(d + 1); }
    }
  }
  return n;
}

interface Frame {
  parent: Frame | null;
  /** object: the keys seen so far; array: null */
  keys: Set<string> | null;
  /** the key (in the parent object) or index (in the parent array) this value sits at */
  at: string | number | null;
  /** array: the index of the current element; object: the last key read */
  index: number;
  last: string;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

function pathOf(f: Frame): string {
  const parts: string[] = [];
  for (let x: Frame | null = f; x && x.at !== null; x = x.parent) {
    parts.push(typeof x.at === 'number' ? `[${x.at}]` : IDENT.test(x.at) ? `.${x.at}` : `[${quote(x.at)}]`);
  }
  const p = parts.reverse().join('');
  return p.startsWith('.') ? p.slice(1) : p;
}

/** The end (index of the closing quote) of the string whose opening quote is at `start`. */
function stringEnd(text: string, start: number): number {
  let j = start;
  for (;;) {
    j = text.indexOf('"', j + 1);
    if (j === -1) return text.length; // not JSON: the caller parsed it first, so this does not happen
    let backslashes = 0;
    for (let k = j - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
}

/** The key of the top-level object under which frame `f` sits ('' for the top-level object itself). */
function topKeyOf(f: Frame): string {
  let x = f;
  while (x.parent?.parent) x = x.parent;
  return x.parent ? String(x.at) : '';
}

/**
 * Walk the text: the first key an object repeats, or null. With `read`, a repeat that lies outside
 * the top-level keys it names (a repeated top-level key not in it, or one nested in the value of
 * such a key) is no problem: it is added to `ignored` and the walk goes on.
 */
function scan(text: string, read?: ReadonlySet<string>, ignored?: DuplicateKey[]): DuplicateKey | null {
  let top = null as Frame | null; // (a declared type alone is narrowed to null here)
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (expectKey && top?.keys) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? JSON.parse(text.slice(i, end + 1)) as string : raw;
        if (top.keys.has(key)) {
          const d = { key, path: pathOf(top) };
          if (!read || read.has(top.parent ? topKeyOf(top) : key)) return d;
          ignored?.push(d);
        }
        top.keys.add(key);
        top.last = key;
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const at: string | number | null = top === null ? null : top.keys ? top.last : top.index;
      top = { parent: top, keys: c === 0x7b ? new Set() : null, at, index: 0, last: '' };
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      top = top?.parent ?? null;
      expectKey = false;
    } else if (c === 0x2c /* , */ && top) {
      if (top.keys) expectKey = true;
      else top.index++;
    } else if (c === COLON) {
      expectKey = false;
    }
  }
  return null;
}

/**
 * How deep a record's JSON may nest. Records are objects of values, so real input never comes
 * near it; deeper values are refused because the code that echoes a value (JSON.stringify in a
 * rejects line, a string cell holding an object's text) recurses and would overflow the stack on
 * a value nested tens of thousands of levels deep — which fits in a 64 KiB body.
 */
export const MAX_JSON_DEPTH = 64;

/** What is wrong with the shape of parsed JSON: a repeated key, or nesting past the limit. */
export type JsonShapeProblem = ({ kind: 'duplicate' } & DuplicateKey) | { kind: 'depth'; limit: number };

/**
 * The first key an object of `text` repeats, or nesting deeper than `maxDepth`, or null. `value`
 * must be `JSON.parse(text)` (the text is valid JSON); it lets most texts be decided without
 * walking them. `read` (a record of which only some top-level keys are read: a JSONL line): only a
 * repeat within those keys is a problem; the others are listed in `ignored`.
 */
export function jsonShapeProblem(text: string, value: unknown, maxDepth = MAX_JSON_DEPTH, read?: ReadonlySet<string>, ignored?: DuplicateKey[]): JsonShapeProblem | null {
  if (value === null || typeof value !== 'object') return null;
  const keys = keyCount(value, maxDepth);
  if (keys === -1) return { kind: 'depth', limit: maxDepth };
  if (keyColons(text) === keys) return null;
  const d = scan(text, read, ignored);
  return d ? { kind: 'duplicate', ...d } : null;
}

/** The first key an object of `text` repeats, or null (see jsonShapeProblem). */
export function duplicateJsonKey(text: string, value: unknown): DuplicateKey | null {
  const p = jsonShapeProblem(text, value, Infinity);
  return p?.kind === 'duplicate' ? { key: p.key, path: p.path } : null;
}

/** "the key "temp" twice in records[2]" — completes "… has …" / "… names …". */
export function describeDuplicate(d: DuplicateKey): string {
  return `the key ${quote(d.key)} twice${d.path ? ` in ${d.path}` : ''}`;
}
