// The newest signed release of a release name (an app release or a GPU runtime, see
// ../../hub/common/app-release.ts) on a hub already refreshed with TUF: its files as signed, its
// release.json downloaded through the verified path and checked against what its signed path and
// name promise, and a way to download its one other file the same way. Shared by `outpost app
// update` and `outpost gpu install`.
import path from 'node:path';
import { parseReleaseDocument, RELEASE_FILE, releaseFileProblems, type ReleaseDocument, type ReleaseExpectation } from '../../hub/common/app-release.ts';
import { fileTargetPath, parseTargetPath } from '../../hub/common/target-paths.ts';
import { readFileSync } from 'node:fs';
import { downloadTarget } from './download.ts';
import { PullRefused } from './errors.ts';
import type { HubClient } from './tuf-client.ts';

export interface FetchedFile { dest: string; sha256: string; length: number }

export interface SignedRelease {
  name: string;
  release: number;
  doc: ReleaseDocument;
  /** the signed sha256 and length of the release's file (release.json names it) */
  signed: { sha256: string; length: number };
  /** download one of the release's files into `dir` through the verified path (signed length and sha256) */
  fetchFile(file: string, dir: string, onProgress?: (received: number, total: number) => void): Promise<FetchedFile>;
}

/** The newest release of `name`, or undefined when the hub signs none. Refuses (PullRefused) anything not as signed. */
export async function newestSignedRelease(client: HubClient, name: string, expect: ReleaseExpectation, dir: string, signal?: AbortSignal): Promise<SignedRelease | undefined> {
  const { paths } = await client.listTargets(name);
  const releases = new Map<number, string[]>();
  for (const p of paths) {
    const t = parseTargetPath(p);
    if (!t.ok || t.path.kind !== 'file') throw new PullRefused('metadata', `signed target ${JSON.stringify(p)} is not <name>/<release>/<file>`);
    releases.set(t.path.version, [...(releases.get(t.path.version) ?? []), t.path.file]);
  }
  const release = Math.max(0, ...releases.keys());
  if (!release) return undefined;
  const files = releases.get(release)!;
  const problems = releaseFileProblems(`${name}@${release}`, files);
  if (problems.length) throw new PullRefused('release', problems.join('; '));
  const fetchFile = async (file: string, into: string, onProgress?: (received: number, total: number) => void): Promise<FetchedFile> => {
    signal?.throwIfAborted();
    const info = await client.updater.getTargetInfo(fileTargetPath(name, release, file));
    if (!info) throw new PullRefused('metadata', `${name}/${release}/${file} is not signed`);
    const dest = path.join(into, file);
    await downloadTarget({ url: client.targetUrl(info), target: info, dest, signal, fetch: client.fetch, onProgress });
    return { dest, sha256: info.hashes.sha256, length: info.length };
  };
  const doc = parseReleaseDocument(readFileSync((await fetchFile(RELEASE_FILE, dir)).dest, 'utf8'), { ...expect, release });
  if (!doc.ok) throw new PullRefused('release', `${name}@${release}: ${doc.reason}`);
  if (!files.includes(doc.doc.file)) throw new PullRefused('release', `${name}@${release}: release.json names ${doc.doc.file}, which is not signed with it`);
  const info = await client.updater.getTargetInfo(fileTargetPath(name, release, doc.doc.file));
  if (!info) throw new PullRefused('metadata', `${name}/${release}/${doc.doc.file} is not signed`);
  return { name, release, doc: doc.doc, signed: { sha256: info.hashes.sha256, length: info.length }, fetchFile };
}
