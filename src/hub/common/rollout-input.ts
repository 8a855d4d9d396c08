// What an operator types for a rollout, read the same way by `outpost hub rollout …` (options) and
// the hub console's Rollouts screen (form fields): the same checks, the same messages. The range of
// the percentage, the group's spelling and whether the alias or version is published are checked
// by src/hub/node/rollouts.ts, behind both (the admin API answers those as 400/404).
import { OutpostError } from '../../common/errors.ts';

/** A rollout id as the hub makes them (`ro_` and 20 hex digits; the API accepts 8-40). */
export const ROLLOUT_ID_RE = /^ro_[a-z0-9]{8,40}$/;

/**
 * A rollout percentage: above 0, at most 100, with at most two decimals (devices are chosen in
 * hundredths of a percent). "Two decimals" means n is the double nearest a number of hundredths:
 * n · 100 itself is not whole for most of them (1.1 · 100 = 110.00000000000001).
 */
export const isRolloutPercent = (n: number): boolean => Number.isFinite(n) && n > 0 && n <= 100 && Number(n.toFixed(2)) === n;

/** `--percent P` as typed: undefined when not given; a usage error naming the value and the range (rollouts.ts checks it again behind the API). */
export function percentFromText(p: string | undefined): number | undefined {
  if (p === undefined) return undefined;
  const n = Number(p);
  // decimal text only: Number() would take 0x10 or 1e1 too
  if (!/^\s*\d+(\.\d+)?\s*$/.test(p) || !isRolloutPercent(n)) {
    throw new OutpostError('usage', `--percent must be a number above 0 and at most 100, with at most two decimals (got "${p}")`);
  }
  return n;
}

/** `--to V` (rollback target) as typed: undefined when not given; a usage error unless a version number. */
export function versionFromText(t: string | undefined): number | undefined {
  if (t === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(t)) throw new OutpostError('usage', `--to must be a version number (got "${t}")`);
  return Number(t);
}

/** A rollout id as typed: a usage error naming where to find ids. */
export function rolloutIdFromText(id: string): string {
  if (!ROLLOUT_ID_RE.test(id)) throw new OutpostError('usage', `"${id}" is not a rollout id (ro_…; see \`outpost hub rollout list\`)`);
  return id;
}

/** `--group G` as typed: required (a rollout targets one group; its spelling is checked behind). */
export function groupFromText(group: string | undefined): string {
  if (!group) throw new OutpostError('usage', '--group is required (the group whose workstations should run it)');
  return group;
}
