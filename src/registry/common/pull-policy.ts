// Device-side decisions for a pull, on plain data: which version a selector means, whether the
// signed file set of a version is exactly a package, whether an alias is a rollback attempt, and how
// fresh the trusted metadata is (offline grace). Pure.
import { PACKAGE_FILES, parseTargetPath, type ModelSelector } from '../../hub/common/target-paths.ts';

/** Versions of `name` listed in signed target paths. */
export function publishedVersions(targetPaths: string[], name: string): number[] {
  const vs = new Set<number>();
  for (const p of targetPaths) {
    const t = parseTargetPath(p);
    if (t.ok && t.path.kind === 'file' && t.path.name === name) vs.add(t.path.version);
  }
  return [...vs].sort((a, b) => a - b);
}

/** Versions of `name` its publisher has yanked (signed `<name>/yanked/<v>.json` targets). */
export function yankedVersions(targetPaths: string[], name: string): Set<number> {
  const vs = new Set<number>();
  for (const p of targetPaths) {
    const t = parseTargetPath(p);
    if (t.ok && t.path.kind === 'yank' && t.path.name === name) vs.add(t.path.version);
  }
  return vs;
}

/** Files of name@version that the metadata signs: must be exactly the package files. */
export function packageFileProblems(targetPaths: string[], name: string, version: number): string[] {
  const files = targetPaths.map(parseTargetPath).flatMap((t) => (t.ok && t.path.kind === 'file' && t.path.name === name && t.path.version === version ? [t.path.file] : []));
  const missing = PACKAGE_FILES.filter((f) => !files.includes(f));
  const extra = files.filter((f) => !(PACKAGE_FILES as readonly string[]).includes(f));
  const problems: string[] = [];
  if (missing.length) problems.push(`${name}@${version} is missing ${missing.join(', ')} in the signed metadata`);
  if (extra.length) problems.push(`${name}@${version} has extra file(s) ${extra.join(', ')} (a package holds exactly ${PACKAGE_FILES.join(' and ')})`);
  return problems;
}

/** Resolve a selector without an alias to a version (latest when none is given). */
export function chooseVersion(sel: ModelSelector, versions: number[], yanked: Set<number> = new Set()): { ok: true; version: number } | { ok: false; reason: string } {
  if (!versions.length) return { ok: false, reason: `no versions of "${sel.name}" are published on this hub` };
  if (sel.version === undefined) {
    const usable = versions.filter((v) => !yanked.has(v));
    if (!usable.length) return { ok: false, reason: `every published version of "${sel.name}" (${versions.join(', ')}) is yanked` };
    return { ok: true, version: usable[usable.length - 1] };
  }
  if (!versions.includes(sel.version)) return { ok: false, reason: `${sel.name}@${sel.version} is not published (published: ${versions.join(', ')})` };
  return { ok: true, version: sel.version };
}

/** An alias must never move a device backwards: refuse one pointing below what it already runs. */
export function aliasRollbackProblem(alias: string, target: number, installedHubVersions: number[]): string | undefined {
  const highest = installedHubVersions.length ? Math.max(...installedHubVersions) : undefined;
  if (highest !== undefined && target < highest) return `alias "${alias}" points at version ${target}, below version ${highest} already installed from this hub (rollback attempt; roll back explicitly with \`outpost models rollback\` if intended)`;
  return undefined;
}

export type Freshness =
  | { state: 'fresh'; expires: Date }
  | { state: 'grace'; expires: Date; graceUntil: Date }
  | { state: 'expired'; expires: Date; graceUntil: Date };

/** Trusted metadata past its expiry is tolerated offline for the grace period the root declares. */
export function freshness(now: Date, expires: Date, graceSeconds: number): Freshness {
  if (now.getTime() <= expires.getTime()) return { state: 'fresh', expires };
  const graceUntil = new Date(expires.getTime() + graceSeconds * 1000);
  return now.getTime() <= graceUntil.getTime() ? { state: 'grace', expires, graceUntil } : { state: 'expired', expires, graceUntil };
}
