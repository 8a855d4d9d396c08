// The zod schema of a card's `drift` settings as it stood before the rules were written out without
// zod (src/drift/common/config.ts, 2026-12-03), frozen here as the reference the plain rules are
// held to (test/drift-config-rules.test.ts): same verdicts, messages, issue order and output.
import { z } from 'zod';
import { driftMethods, type DriftConfig, type DriftConfigProblem } from '../../src/drift/common/config.ts';

const RuleSchema = z.object({
  method: z.enum(driftMethods).optional(),
  threshold: z.number().positive().optional(),
  enabled: z.boolean().optional(),
}).strict();

export const DriftConfigSchema = z.object({
  method: z.enum(driftMethods).optional(),
  threshold: z.number().positive().optional(),
  numeric: RuleSchema.optional(),
  categorical: RuleSchema.optional(),
  features: z.record(z.string(), RuleSchema).optional(),
  datasetShare: z.number().gt(0).max(1).optional(),
  minCurrent: z.union([z.number().int().nonnegative(), z.object({ test: z.number().int().nonnegative().optional(), distance: z.number().int().nonnegative().optional(), psi: z.number().int().nonnegative().optional() }).strict()]).optional(),
  psi: z.object({ warn: z.number().positive(), alert: z.number().positive() }).strict().refine((p) => p.warn <= p.alert, 'psi.warn must not exceed psi.alert').optional(),
}).strict();

// both directions: the schema's type is exactly the plain DriftConfig interface
const _same: DriftConfig extends z.infer<typeof DriftConfigSchema> ? (z.infer<typeof DriftConfigSchema> extends DriftConfig ? true : never) : never = true;
void _same;

/** parseDriftConfig as it was, with zod. */
export function parseDriftConfigZod(raw: unknown): { ok: true; config: DriftConfig } | { ok: false; problems: DriftConfigProblem[] } {
  const r = DriftConfigSchema.safeParse(raw ?? {});
  if (r.success) return { ok: true, config: r.data };
  return { ok: false, problems: r.error.issues.map((i) => ({ path: ['drift', ...i.path.map(String)].join('.'), message: i.message })) };
}
