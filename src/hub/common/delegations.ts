// The publisher delegations in a hub's top-level targets metadata, as plain data: which shapes are
// allowed (one model-name glob per publisher, no two publishers' globs sharing a name, keys listed,
// a reachable threshold) and what an update changes, in words an operator reads before signing. Pure.
import { overlapExample } from './globs.ts';
import { delegationPathsFor, MODEL_GLOB_RE, PUBLISHER_RE, RESERVED_ROLES } from './target-paths.ts';

export interface DelegationInfo { name: string; keyIds: string[]; threshold: number; paths: string[] }

/** The model-name glob of a delegation's paths (`<glob>/*\/*`), or undefined when they are not that shape. */
export function globOfPaths(paths: string[]): string | undefined {
  if (paths.length !== 1) return undefined;
  const m = /^(.+)\/\*\/\*$/.exec(paths[0]);
  return m && MODEL_GLOB_RE.test(m[1]) && delegationPathsFor(m[1])[0] === paths[0] ? m[1] : undefined;
}

/** Why a set of delegations cannot be signed or accepted (empty when it can). */
export function delegationProblems(roles: DelegationInfo[], knownKeyIds: Set<string>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const r of roles) {
    if (!PUBLISHER_RE.test(r.name) || RESERVED_ROLES.has(r.name)) problems.push(`"${r.name}" is not a valid publisher name`);
    if (seen.has(r.name)) problems.push(`publisher "${r.name}" is delegated twice`);
    seen.add(r.name);
    if (globOfPaths(r.paths) === undefined) problems.push(`publisher "${r.name}": paths ${JSON.stringify(r.paths)} are not one model-name glob`);
    if (!r.keyIds.length) problems.push(`publisher "${r.name}" has no keys`);
    for (const id of r.keyIds) if (!knownKeyIds.has(id)) problems.push(`publisher "${r.name}": key ${id.slice(0, 12)}… is not in the delegation's keys`);
    if (!Number.isInteger(r.threshold) || r.threshold < 1 || r.threshold > new Set(r.keyIds).size) problems.push(`publisher "${r.name}": threshold ${r.threshold} is not between 1 and its ${r.keyIds.length} key(s)`);
  }
  for (let i = 0; i < roles.length; i++) {
    for (let j = i + 1; j < roles.length; j++) {
      const a = globOfPaths(roles[i].paths);
      const b = globOfPaths(roles[j].paths);
      if (a === undefined || b === undefined) continue;
      const both = overlapExample(a, b);
      if (both !== undefined) {
        problems.push(`the model names of "${roles[i].name}" (${a}) and "${roles[j].name}" (${b}) overlap (both match "${both}"): one team could publish, shadow or burn the version numbers of the other's models; give them disjoint globs`);
      }
    }
  }
  return problems;
}

const short = (ids: string[]) => ids.map((k) => k.slice(0, 16)).join(', ');

/** What changes between two delegation sets, one line per publisher affected. */
export function delegationChanges(prev: DelegationInfo[], next: DelegationInfo[]): string[] {
  const out: string[] = [];
  const before = new Map(prev.map((r) => [r.name, r]));
  const after = new Map(next.map((r) => [r.name, r]));
  for (const r of next) {
    const p = before.get(r.name);
    const glob = globOfPaths(r.paths) ?? r.paths.join(' ');
    if (!p) { out.push(`NEW publisher "${r.name}": models ${glob}, keys ${short(r.keyIds)}, threshold ${r.threshold}`); continue; }
    const pglob = globOfPaths(p.paths) ?? p.paths.join(' ');
    const added = r.keyIds.filter((k) => !p.keyIds.includes(k));
    const removed = p.keyIds.filter((k) => !r.keyIds.includes(k));
    if (added.length || removed.length) {
      out.push(`KEY CHANGE for publisher "${r.name}": ${added.length ? `adds ${short(added)}` : ''}${added.length && removed.length ? '; ' : ''}${removed.length ? `REMOVES ${short(removed)}` : ''} (now ${short(r.keyIds)}); devices will show that this team's signing key changed`);
    }
    if (r.threshold !== p.threshold) out.push(`publisher "${r.name}": threshold ${p.threshold} → ${r.threshold}`);
    if (glob !== pglob) out.push(`publisher "${r.name}": models ${pglob} → ${glob}`);
  }
  for (const p of prev) if (!after.has(p.name)) out.push(`REVOKED publisher "${p.name}" (models ${globOfPaths(p.paths) ?? p.paths.join(' ')}): devices will no longer install its models`);
  return out;
}
