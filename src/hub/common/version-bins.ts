// Version bins: a publisher's model files live in small delegated roles, one per model name and
// block of 100 version numbers, so a publish re-signs the one bin it adds to (≤ 200 targets) plus
// the publisher's own role (its aliases, yanks and the list of bins), and a device refresh fetches
// only the roles whose version the snapshot changed. A bin is delegated by the publisher's role with
// TUF path patterns on the version segment (minimatch `?` = one character; versions are canonical
// decimals):
//   block 0:  "<model>/?/*", "<model>/??/*"      versions 1–99
//   block k:  "<model>/<k>??/*"                   versions k·100 … k·100+99
// so a target path belongs to exactly one bin, decided from the path alone. Pure.
import { MODEL_NAME_RE } from './target-paths.ts';

export const BIN_VERSIONS = 100;

export const blockOf = (version: number): number => Math.floor(version / BIN_VERSIONS);

/** The delegated path patterns of a model's version block. */
export function binPaths(model: string, block: number): string[] {
  return block === 0 ? [`${model}/?/*`, `${model}/??/*`] : [`${model}/${block}??/*`];
}

/** The model and block a bin's paths describe, or undefined when they are not exactly that shape. */
export function parseBinPaths(paths: string[]): { model: string; block: number } | undefined {
  if (!paths.length) return undefined;
  const m = /^([^/]+)\/([1-9][0-9]{0,6})?\?\?\/\*$/.exec(paths[0]) ?? /^([^/]+)\/\?\/\*$/.exec(paths[0]);
  if (!m || !MODEL_NAME_RE.test(m[1])) return undefined;
  const block = m[2] === undefined ? 0 : Number(m[2]);
  const want = binPaths(m[1], block);
  return want.length === paths.length && want.every((p, i) => p === paths[i]) ? { model: m[1], block } : undefined;
}

/** A target path of the model's version block whose lookup makes a TUF client load that bin. */
export const binProbePath = (model: string, block: number): string => `${model}/${block === 0 ? 1 : block * BIN_VERSIONS}/card.json`;
