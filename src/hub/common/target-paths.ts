// Names of things in the TUF repository: target paths for model files and aliases, publisher
// (delegated role) names and model-name globs. Hub and device apply the same rules, so a path the
// hub accepted is one the device can parse, and anything else (traversal, encoding tricks) is refused
// on both sides. Pure.

export const MODEL_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/; // same as the card's `name`
export const VERSION_RE = /^[1-9][0-9]{0,8}$/;
/** The largest version VERSION_RE admits. */
export const MAX_VERSION = 999_999_999;
export const FILE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const ALIAS_RE = /^[a-z][a-z0-9-]{0,31}$/;
export const PUBLISHER_RE = /^[a-z][a-z0-9-]{0,31}$/;
export const MODEL_GLOB_RE = /^[a-z0-9*?][a-z0-9._*?-]{0,63}$/;

/** TUF's own role names cannot be publisher names. */
export const RESERVED_ROLES = new Set(['root', 'targets', 'snapshot', 'timestamp']);

/** The files a version of a model package consists of. */
export const PACKAGE_FILES = ['card.json', 'model.onnx'] as const;

export type TargetPath =
  | { kind: 'file'; name: string; version: number; file: string }
  | { kind: 'alias'; name: string; alias: string }
  | { kind: 'yank'; name: string; version: number };

export const fileTargetPath = (name: string, version: number, file: string): string => `${name}/${version}/${file}`;
export const aliasTargetPath = (name: string, alias: string): string => `${name}/aliases/${alias}.json`;
/** A publisher's signed statement that a version must no longer be installed (and why). */
export const yankTargetPath = (name: string, version: number): string => `${name}/yanked/${version}.json`;

/** Why a string is not a safe repository path, or undefined when it is. */
export function unsafePathReason(p: string): string | undefined {
  if (p.length === 0) return 'empty path';
  if (p.length > 512) return 'path longer than 512 characters';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (p.includes('\\')) return 'contains a backslash';
  if (p.includes('%')) return 'contains "%" (percent-encoding is not allowed in names)';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'is absolute';
  const segments = p.split('/');
  if (segments.some((s) => s === '..')) return 'contains ".."';
  if (segments.some((s) => s === '.' || s === '')) return 'contains an empty or "." segment';
  if (/[\u0000-\u001f\u007f]/.test(p)) return 'contains control characters';
  return undefined;
}

export function parseTargetPath(p: string): { ok: true; path: TargetPath } | { ok: false; reason: string } {
  const unsafe = unsafePathReason(p);
  if (unsafe) return { ok: false, reason: `target path ${JSON.stringify(p)} ${unsafe}` };
  const parts = p.split('/');
  if (parts.length !== 3) return { ok: false, reason: `target path "${p}" is not <model>/<version>/<file>, <model>/aliases/<alias>.json or <model>/yanked/<version>.json` };
  const [name, mid, last] = parts;
  if (!MODEL_NAME_RE.test(name)) return { ok: false, reason: `target path "${p}": "${name}" is not a valid model name` };
  if (mid === 'aliases') {
    const m = /^(.+)\.json$/.exec(last);
    if (!m || !ALIAS_RE.test(m[1])) return { ok: false, reason: `target path "${p}": "${last}" is not <alias>.json with a valid alias name` };
    return { ok: true, path: { kind: 'alias', name, alias: m[1] } };
  }
  if (mid === 'yanked') {
    const m = /^(.+)\.json$/.exec(last);
    if (!m || !VERSION_RE.test(m[1])) return { ok: false, reason: `target path "${p}": "${last}" is not <version>.json` };
    return { ok: true, path: { kind: 'yank', name, version: Number(m[1]) } };
  }
  if (!VERSION_RE.test(mid)) return { ok: false, reason: `target path "${p}": "${mid}" is not a version number` };
  if (!FILE_NAME_RE.test(last)) return { ok: false, reason: `target path "${p}": "${last}" is not a valid file name` };
  return { ok: true, path: { kind: 'file', name, version: Number(mid), file: last } };
}

/** The TUF delegation path pattern for a model-name glob (segment-wise match, see TUF spec 4.5). */
export const delegationPathsFor = (modelGlob: string): string[] => [`${modelGlob}/*/*`];

/** Parse `name`, `name@3` or `name:production` as typed by a user. */
export type ModelSelector = { name: string; version?: number; alias?: string };

export function parseSelector(ref: string): { ok: true; selector: ModelSelector } | { ok: false; reason: string } {
  const forms = '<name>, <name>@<version> or <name>:<alias>';
  if (ref === '') return { ok: false, reason: `the model reference is empty: give ${forms}` };
  const m = /^([^@:]+)(?:@([^@:]+)|:([^@:]+))?$/.exec(ref);
  if (!m) return { ok: false, reason: `${JSON.stringify(ref)} is not ${forms}` };
  const [, name, version, alias] = m;
  // each part on its own: here ":" separates the alias, so "c:production" is model "c", not a drive letter
  for (const part of [name, version, alias]) {
    const unsafe = part === undefined ? undefined : unsafePathReason(part);
    if (unsafe) return { ok: false, reason: `${JSON.stringify(ref)} ${unsafe}` };
  }
  if (!MODEL_NAME_RE.test(name)) return { ok: false, reason: `"${name}" is not a valid model name (lower-case letters, digits, ".", "_", "-")` };
  if (version !== undefined && !VERSION_RE.test(version)) return { ok: false, reason: `"${version}" is not a version number` };
  if (alias !== undefined && !ALIAS_RE.test(alias)) return { ok: false, reason: `"${alias}" is not a valid alias name` };
  return { ok: true, selector: { name, ...(version !== undefined ? { version: Number(version) } : {}), ...(alias !== undefined ? { alias } : {}) } };
}

/**
 * `<name>` or `<name>@<version>` as the hub's fleet commands and queries take a model (drift,
 * prediction export, event filters), or why not. The name is taken as devices report it; a version
 * must be one the hub can hold (VERSION_RE): digits past 2^53 would otherwise be read, and looked
 * up, as another number.
 */
export function parseModelVersion(ref: string): { ok: true; name: string; version?: number } | { ok: false; reason: string } {
  const m = /^([^@\s]+)(?:@([^@\s]*))?$/.exec(ref);
  if (!m) return { ok: false, reason: `${JSON.stringify(ref.slice(0, 200))} is not a model reference (expected <name> or <name>@<version>)` };
  if (m[2] === undefined) return { ok: true, name: m[1] };
  if (!VERSION_RE.test(m[2])) return { ok: false, reason: `the version in ${JSON.stringify(ref.slice(0, 200))} must be a whole number from 1 to ${MAX_VERSION} (got ${JSON.stringify(m[2].slice(0, 40))})` };
  return { ok: true, name: m[1], version: Number(m[2]) };
}

/** The body of an alias target: a small JSON document pointing at a version. */
export interface AliasDocument { name: string; alias: string; version: number }

export function parseAliasDocument(text: string, expect: { name: string; alias: string }): { ok: true; doc: AliasDocument } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'alias document is not JSON' };
  }
  const d = raw as Partial<AliasDocument>;
  if (typeof d !== 'object' || d === null || d.name !== expect.name || d.alias !== expect.alias || typeof d.version !== 'number' || !Number.isInteger(d.version) || d.version < 1) {
    return { ok: false, reason: `alias document does not say {"name":"${expect.name}","alias":"${expect.alias}","version":<n>}` };
  }
  return { ok: true, doc: { name: d.name, alias: d.alias, version: d.version } };
}

export const aliasDocumentBytes = (doc: AliasDocument): string => JSON.stringify({ name: doc.name, alias: doc.alias, version: doc.version });

/** The body of a yank target: which version, and the publisher's reason (shown on devices). */
export interface YankDocument { name: string; version: number; reason: string }

export function parseYankDocument(text: string, expect: { name: string; version: number }): { ok: true; doc: YankDocument } | { ok: false; reason: string } {
  let d: Partial<YankDocument>;
  try {
    d = JSON.parse(text) as Partial<YankDocument>;
  } catch {
    return { ok: false, reason: 'yank document is not JSON' };
  }
  if (typeof d !== 'object' || d === null || d.name !== expect.name || d.version !== expect.version || typeof d.reason !== 'string' || !d.reason.trim() || d.reason.length > 1000) {
    return { ok: false, reason: `yank document does not say {"name":"${expect.name}","version":${expect.version},"reason":"<1 to 1000 characters>"}` };
  }
  return { ok: true, doc: { name: d.name, version: d.version, reason: d.reason } };
}

export const yankDocumentBytes = (doc: YankDocument): string => JSON.stringify({ name: doc.name, version: doc.version, reason: doc.reason });
