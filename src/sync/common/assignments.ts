// Staged rollout, the shared part (docs/SYNC-PROTOCOL.md "Rollout assignments"). Pure.
//
// A rollout on the hub says which devices of a group should run what a signed alias points to.
// A device learns its assignments with a signed request after it syncs; an assignment only NAMES a
// model and an alias (install) or a version (activate, after a rollback). It never carries bytes or
// hashes: the device installs through its normal verified pull, so TUF decides what is installed
// and an assignment cannot get round a signature. Every assignment is validated here before the
// device acts on it; a malformed one is refused with the reason.
import { z } from 'zod';
import { ALIAS_RE, MAX_VERSION, MODEL_NAME_RE } from '../../hub/common/target-paths.ts';

export const ROLLOUT_ID_RE = /^ro_[a-z0-9]{8,40}$/;

/**
 * One assignment. `generation` grows when the hub moves the rollout's assignment (rollback), so a
 * device acts once per (rollout, generation) and reports once.
 * - `install`: pull `model:alias` (verified, activates what the signed alias names);
 * - `activate`: pull `model@version` (verified, re-verifies an installed copy) and make it active.
 */
export const AssignmentSchema = z.discriminatedUnion('action', [
  z.object({
    rollout: z.string().regex(ROLLOUT_ID_RE, 'a rollout id (ro_…)'), generation: z.number().int().min(1).max(1_000_000),
    action: z.literal('install'), model: z.string().regex(MODEL_NAME_RE, 'a model name'), alias: z.string().regex(ALIAS_RE, 'an alias name'),
  }).strict(),
  z.object({
    rollout: z.string().regex(ROLLOUT_ID_RE, 'a rollout id (ro_…)'), generation: z.number().int().min(1).max(1_000_000),
    action: z.literal('activate'), model: z.string().regex(MODEL_NAME_RE, 'a model name'), version: z.number().int().min(1).max(MAX_VERSION),
  }).strict(),
]);
export type Assignment = z.infer<typeof AssignmentSchema>;

/** At most this many assignments in one answer (one per model the device is assigned). */
export const MAX_ASSIGNMENTS = 256;

/** The selector an assignment pulls (`name:alias` or `name@version`). */
export const assignmentRef = (a: Assignment): string => (a.action === 'install' ? `${a.model}:${a.alias}` : `${a.model}@${a.version}`);

/**
 * Validate the hub's answer. Returns the valid assignments and, for each invalid entry, the reason
 * (with the rollout id when it could be read, so the refusal can be reported against it).
 */
export function parseAssignments(body: unknown): { ok: Assignment[]; refused: { rollout?: string; generation?: number; model?: string; reason: string }[] } {
  if (!body || typeof body !== 'object' || !Array.isArray((body as { assignments?: unknown }).assignments)) {
    return { ok: [], refused: [{ reason: 'the hub\'s answer has no "assignments" list' }] };
  }
  const list = (body as { assignments: unknown[] }).assignments;
  if (list.length > MAX_ASSIGNMENTS) return { ok: [], refused: [{ reason: `the hub sent ${list.length} assignments (at most ${MAX_ASSIGNMENTS})` }] };
  const ok: Assignment[] = [];
  const refused: { rollout?: string; generation?: number; model?: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of list.entries()) {
    const r = AssignmentSchema.safeParse(raw);
    const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const rollout = typeof o.rollout === 'string' && ROLLOUT_ID_RE.test(o.rollout) ? o.rollout : undefined;
    const generation = Number.isSafeInteger(o.generation) && (o.generation as number) >= 1 ? o.generation as number : undefined;
    const model = typeof o.model === 'string' && MODEL_NAME_RE.test(o.model) ? o.model : undefined;
    if (!r.success) {
      const issue = r.error.issues[0];
      refused.push({ rollout, generation, model, reason: `assignment ${i + 1} is malformed: ${issue.path.join('.') || '(root)'}: ${issue.message}` });
      continue;
    }
    if (seen.has(r.data.model)) {
      refused.push({ rollout, generation, model, reason: `assignment ${i + 1} names ${r.data.model} a second time (one assignment per model)` });
      continue;
    }
    seen.add(r.data.model);
    ok.push(r.data);
  }
  return { ok, refused };
}

/** 32-bit FNV-1a of a string's UTF-16 code units (stable across platforms; for bucketing, not security). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Is a device in a rollout's percentage? Stable for a seed: the same devices are chosen every time,
 * and a larger percentage with the same seed keeps every device a smaller one chose (a device's
 * bucket 0–9999 is fixed; P % takes the buckets below P·100).
 */
export function inPercent(seed: string, deviceId: string, percent: number): boolean {
  if (percent >= 100) return true;
  return fnv1a(`${seed}\n${deviceId}`) % 10_000 < Math.round(percent * 100);
}

/** What a device reports about an assignment (the `rollout` outbox item's payload). */
export const ROLLOUT_OUTCOMES = ['installed', 'failed', 'available'] as const;
export type RolloutOutcome = (typeof ROLLOUT_OUTCOMES)[number];
