// Per-model drift settings (the model card's `drift` field): a default method/threshold, per-kind
// and per-feature overrides, the dataset-level share, the PSI levels and the minimum current sample.
// Defaults follow Evidently's data drift preset.
import { z } from 'zod';

export const driftMethods = ['auto', 'ks', 'wasserstein', 'chisquare', 'z', 'jensenshannon', 'psi'] as const;
export type DriftMethodSetting = (typeof driftMethods)[number];
export type DriftMethod = Exclude<DriftMethodSetting, 'auto'>;

/** Methods whose score is a p-value (drift when small); the others are distances (drift when large). */
export const pValueMethods: readonly DriftMethod[] = ['ks', 'chisquare', 'z'];

/** Evidently's default thresholds. */
export const DEFAULT_THRESHOLDS: Readonly<Record<DriftMethod, number>> = { ks: 0.05, chisquare: 0.05, z: 0.05, wasserstein: 0.1, jensenshannon: 0.1, psi: 0.1 };

/**
 * Smallest current sample that gets a verdict. Tests: p-values account for sample size, but below
 * ~30 values KS/chi-square have almost no power and chi-square's approximation is poor. Distances:
 * measured on a standard normal reference of 5000 and current samples from the same distribution
 * (400 trials each): normed Wasserstein >= 0.1 in 68 % of trials at n = 100 and 37 % at n = 200,
 * 0 % at n = 500; Jensen-Shannon >= 0.1 in 60 % / 26 % / 0 %. Below 500, a distance verdict would be
 * mostly sampling noise.
 */
export const DEFAULT_MIN_CURRENT = { test: 30, distance: 500, psi: 300 } as const;
// PSI (10 reference-decile bins) on a standard normal reference of 1,096 rows (the demo's size) and
// current samples from the same distribution, 400 trials each (scipy/numpy): PSI >= 0.1 ("warn") in
// 49 % of trials at n = 100, 8.5 % at 200, 0.75 % at 300, 0 % at 500; >= 0.25 ("alert") in 1.3 % at
// 100. So PSI gets a level from 300 current values on and is "insufficient" below.

const RuleSchema = z.object({
  method: z.enum(driftMethods).optional(),
  threshold: z.number().positive().optional(),
  /** false: report the feature's statistics but give no verdict and leave it out of the share */
  enabled: z.boolean().optional(),
}).strict();
export type DriftRule = z.infer<typeof RuleSchema>;

export const DriftConfigSchema = z.object({
  method: z.enum(driftMethods).optional(),
  threshold: z.number().positive().optional(),
  numeric: RuleSchema.optional(),
  categorical: RuleSchema.optional(),
  features: z.record(z.string(), RuleSchema).optional(),
  /** dataset drift when the share of drifted features is at least this */
  datasetShare: z.number().gt(0).max(1).optional(),
  /** minimum current values for a verdict: one number for all methods, or per family */
  minCurrent: z.union([z.number().int().nonnegative(), z.object({ test: z.number().int().nonnegative().optional(), distance: z.number().int().nonnegative().optional(), psi: z.number().int().nonnegative().optional() }).strict()]).optional(),
  psi: z.object({ warn: z.number().positive(), alert: z.number().positive() }).strict().refine((p) => p.warn <= p.alert, 'psi.warn must not exceed psi.alert').optional(),
}).strict();
export type DriftConfig = z.infer<typeof DriftConfigSchema>;

export interface DriftConfigProblem { path: string; message: string }

/** Validate an untrusted `drift` card field. */
export function parseDriftConfig(raw: unknown): { ok: true; config: DriftConfig } | { ok: false; problems: DriftConfigProblem[] } {
  const r = DriftConfigSchema.safeParse(raw ?? {});
  if (r.success) return { ok: true, config: r.data };
  return { ok: false, problems: r.error.issues.map((i) => ({ path: ['drift', ...i.path.map(String)].join('.'), message: i.message })) };
}

export interface ResolvedRule { method: DriftMethodSetting; threshold?: number; enabled: boolean; source: 'auto' | 'default' | 'kind' | 'feature' }

/** Feature rule > kind rule > top-level default > auto (the most specific setting wins, per field). */
export function resolveRule(config: DriftConfig, feature: string, kind: 'numeric' | 'categorical'): ResolvedRule {
  const layers: [DriftRule | undefined, ResolvedRule['source']][] = [
    [config.features?.[feature], 'feature'],
    [config[kind], 'kind'],
    [{ method: config.method, threshold: config.threshold }, 'default'],
  ];
  let method: DriftMethodSetting = 'auto';
  let source: ResolvedRule['source'] = 'auto';
  let threshold: number | undefined;
  let enabled = true;
  for (const [rule, src] of [...layers].reverse()) {
    if (!rule) continue;
    if (rule.method !== undefined) { method = rule.method; source = src; }
    if (rule.threshold !== undefined) threshold = rule.threshold;
    if (rule.enabled !== undefined) enabled = rule.enabled;
  }
  return { method, threshold, enabled, source };
}

/** The minimum current sample for a verdict with `method`, or ('psi-level') for PSI's ok/warn/alert level. */
export function minCurrentFor(config: DriftConfig, method: DriftMethod | 'psi-level'): number {
  const family = method === 'psi-level' ? 'psi' : pValueMethods.includes(method) ? 'test' : 'distance';
  const m = config.minCurrent;
  if (typeof m === 'number') return m;
  return m?.[family] ?? DEFAULT_MIN_CURRENT[family];
}
