// Outpost policy carried inside root metadata (signed by the offline root keys, so neither the hub
// nor a mirror can change it): how long devices keep serving after metadata expires offline. Pure.

export const ROOT_POLICY_FIELD = 'x-outpost';
export interface RootPolicy { offlineGraceSeconds: number }

export function rootPolicyFrom(unrecognizedFields: Record<string, unknown>): RootPolicy {
  const p = unrecognizedFields[ROOT_POLICY_FIELD] as Partial<RootPolicy> | undefined;
  const g = p?.offlineGraceSeconds;
  return { offlineGraceSeconds: typeof g === 'number' && Number.isFinite(g) && g >= 0 ? g : 0 };
}
