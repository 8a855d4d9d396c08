// What a publish may change, decided on plain data: the hub calls it after signatures check out.
// Published versions are immutable and version numbers only grow; aliases may move. Pure.
import { isReleaseName, releaseFileProblems } from './app-release.ts';
import { PACKAGE_FILES, parseTargetPath } from './target-paths.ts';

export interface TargetEntry { length: number; sha256: string }

export interface PublishChange {
  versions: { name: string; version: number; files: Record<string, TargetEntry> }[];
  aliases: { name: string; alias: string; path: string; entry: TargetEntry }[];
  yanks: { name: string; version: number; path: string; entry: TargetEntry }[];
}

export interface PublishInput {
  publisher: string;
  previous: Record<string, TargetEntry>;
  next: Record<string, TargetEntry>;
  /** does the delegation cover this path? (TUF path-pattern match) */
  isDelegated: (path: string) => boolean;
  /** highest version of a model published so far, by any publisher */
  latestVersion: (name: string) => number | undefined;
}

export function checkPublish(input: PublishInput): { problems: string[]; change: PublishChange } {
  const problems: string[] = [];
  const change: PublishChange = { versions: [], aliases: [], yanks: [] };
  for (const [p, prev] of Object.entries(input.previous)) {
    const now = input.next[p];
    const parsed = parseTargetPath(p);
    if (!now) { problems.push(`"${p}" was published before and cannot be removed`); continue; }
    if (parsed.ok && parsed.path.kind !== 'alias' && (now.sha256 !== prev.sha256 || now.length !== prev.length)) {
      problems.push(parsed.path.kind === 'yank'
        ? `${parsed.path.name}@${parsed.path.version} is already yanked; a yank is final`
        : `"${p}" is already published with other contents; published versions are immutable (publish a new version number)`);
    }
  }
  const newVersions = new Map<string, { name: string; version: number; files: Record<string, TargetEntry> }>();
  for (const [p, entry] of Object.entries(input.next)) {
    const parsed = parseTargetPath(p);
    if (!parsed.ok) { problems.push(parsed.reason); continue; }
    if (!input.isDelegated(p)) { problems.push(`"${p}" is outside what publisher "${input.publisher}" is delegated to sign`); continue; }
    if (!/^[0-9a-f]{64}$/.test(entry.sha256) || !Number.isSafeInteger(entry.length) || entry.length < 0) { problems.push(`"${p}" has no valid sha256 and length`); continue; }
    const prev = input.previous[p];
    const t = parsed.path;
    if (t.kind === 'alias') {
      if (!prev || prev.sha256 !== entry.sha256) change.aliases.push({ name: t.name, alias: t.alias, path: p, entry });
      continue;
    }
    if (prev) continue;
    if (t.kind === 'yank') { change.yanks.push({ name: t.name, version: t.version, path: p, entry }); continue; }
    const key = `${t.name}@${t.version}`;
    let v = newVersions.get(key);
    if (!v) { v = { name: t.name, version: t.version, files: {} }; newVersions.set(key, v); }
    v.files[t.file] = entry;
  }
  for (const v of newVersions.values()) {
    const latest = input.latestVersion(v.name);
    if (latest !== undefined && v.version <= latest) problems.push(`${v.name}@${v.version}: version numbers only grow (latest published is ${latest})`);
    const files = Object.keys(v.files).sort();
    if (isReleaseName(v.name)) { // a release (app or GPU runtime): release.json and its one file, not a model package
      problems.push(...releaseFileProblems(`${v.name}@${v.version}`, files));
      change.versions.push(v);
      continue;
    }
    const missing = PACKAGE_FILES.filter((f) => !files.includes(f));
    const extra = files.filter((f) => !(PACKAGE_FILES as readonly string[]).includes(f));
    if (missing.length) problems.push(`${v.name}@${v.version}: package is missing ${missing.join(', ')}`);
    if (extra.length) problems.push(`${v.name}@${v.version}: package has extra file(s) ${extra.join(', ')} (a package holds exactly ${PACKAGE_FILES.join(' and ')})`);
    change.versions.push(v);
  }
  change.versions.sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
  return { problems, change };
}
