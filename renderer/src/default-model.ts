// Which model version a screen opens on when the user has not picked one. Deterministic, from what
// the appliance knows (no browser state): the model of the most recent job that is still installed,
// else the first model by name. Score offers that model's *active* version (what a new job should
// use); Drift shows the version that job actually scored (where the statistics are). Pure: no DOM.
import type { JobSummary, ModelSummary } from '../../src/api/common/contract.ts';

export type DefaultFor = 'score' | 'drift';

/** `name@version`, or undefined when nothing fits (no models, or none with an active version for Score). */
export function defaultModelRef(models: readonly ModelSummary[], jobs: readonly JobSummary[], forScreen: DefaultFor): string | undefined {
  const byName = new Map(models.map((m) => [m.name, m]));
  // jobs come newest first; the latest one whose model (and, for drift, version) is still installed wins
  const recent = [...jobs].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  for (const j of recent) {
    const m = byName.get(j.modelName);
    if (!m) continue;
    if (forScreen === 'drift' && m.versions.includes(j.modelVersion)) return `${m.name}@${j.modelVersion}`;
    if (forScreen === 'score' && m.activeVersion !== null) return `${m.name}@${m.activeVersion}`;
  }
  const sorted = [...models].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const first = sorted.find((m) => m.activeVersion !== null);
  if (first) return `${first.name}@${first.activeVersion}`;
  if (forScreen === 'drift' && sorted[0]?.versions.length) return `${sorted[0].name}@${Math.max(...sorted[0].versions)}`;
  return undefined;
}
