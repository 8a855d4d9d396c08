// Which keys a hub currently delegates to each publisher, as this device last verified it (offline:
// the top-level targets in the trust folder, re-verified against the trusted root), compared with
// the keys delegated when a version was installed: a team whose key changed since is shown in
// `models list` and the app, so a key swap is never silent.
import fs from 'node:fs';
import path from 'node:path';
import { Metadata, MetadataKind, type Targets } from '@tufjs/models';
import type { InstalledModel } from '../../store/node/models.ts';
import { readTrustedState, trustPaths } from './trust.ts';

/** publisher role → delegated key ids, from the device's verified copy of a hub's top-level targets. */
export function trustedDelegations(home: string, hubUrl: string): Map<string, string[]> | undefined {
  try {
    const { root } = readTrustedState(home, hubUrl);
    const file = path.join(trustPaths(home, hubUrl).metadata, 'targets.json');
    const md = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(fs.readFileSync(file, 'utf8')) as never) as Metadata<Targets>;
    root.verifyDelegate('targets', md);
    return new Map(Object.values(md.signed.delegations?.roles ?? {}).map((r) => [r.name, r.keyIDs]));
  } catch {
    return undefined;
  }
}

export type TeamKeyState = { kind: 'same' } | { kind: 'changed'; was: string[]; now: string[] } | { kind: 'no-longer-delegated' } | { kind: 'unknown' };

export function teamKeyState(model: InstalledModel, delegations: Map<string, string[]> | undefined): TeamKeyState {
  if (model.source !== 'hub' || !model.signerRole || !model.signerKeyIds || !delegations) return { kind: 'unknown' };
  const now = delegations.get(model.signerRole);
  if (!now) return { kind: 'no-longer-delegated' };
  const same = now.length === model.signerKeyIds.length && now.every((k) => model.signerKeyIds!.includes(k));
  return same ? { kind: 'same' } : { kind: 'changed', was: model.signerKeyIds, now };
}

/** Team key states for many models, reading each hub's trust folder once. */
export function teamKeyStates(home: string, models: InstalledModel[]): Map<InstalledModel, TeamKeyState> {
  const byHub = new Map<string, Map<string, string[]> | undefined>();
  const out = new Map<InstalledModel, TeamKeyState>();
  for (const m of models) {
    if (m.source !== 'hub' || !m.origin) { out.set(m, { kind: 'unknown' }); continue; }
    if (!byHub.has(m.origin)) byHub.set(m.origin, trustedDelegations(home, m.origin));
    out.set(m, teamKeyState(m, byHub.get(m.origin)));
  }
  return out;
}

export const shortKeys = (ids: string[]): string => ids.map((k) => k.slice(0, 16)).join(', ');

/** One line for a person, or undefined when there is nothing to say. */
export function describeTeamKeys(m: InstalledModel, s: TeamKeyState): string | undefined {
  if (s.kind === 'changed') return `${m.signerRole}'s signing key changed since this version was installed (was ${shortKeys(s.was)}, now ${shortKeys(s.now)})`;
  if (s.kind === 'no-longer-delegated') return `publisher ${m.signerRole} is no longer delegated by ${m.origin} (revoked)`;
  return undefined;
}
