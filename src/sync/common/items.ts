// The payload of each sync item kind, as the hub validates it (zod). A new kind is one schema here,
// one writer on the device (a call to the outbox's enqueue) and one handler in src/hub/node/ingest.ts.
// Pure.
import { z } from 'zod';

const Name = z.string().min(1).max(256);
const Version = z.number().int().positive().max(2 ** 31);
const Epoch = z.number().int().min(0).max(8.64e15);
const Text = (n: number) => z.string().max(n);
/** a drift number: ±∞ as "Infinity" / "-Infinity" (JSON has no ∞), null when not computed */
const WireNumber = z.union([z.number(), z.enum(['Infinity', '-Infinity'])]).nullable();

export const SecurityPayload = z.object({ kind: Text(200), model: Text(300).nullable(), detail: Text(20_000), at: Text(40) });

export const AlertPayload = z.object({
  state: z.enum(['opened', 'cleared']), model: Name, version: Version, scope: z.enum(['job', 'hour', 'day']), scopeKey: Text(100), feature: Text(300),
  method: Text(100), statistic: WireNumber, score: WireNumber, threshold: z.number(), nReference: z.number().int(), nCurrent: z.number().int(), at: Epoch,
});

export const DroppedPayload = z.object({
  droppedKind: Text(40), reason: Text(500), rows: z.number().int().min(0), bytes: z.number().int().min(0), createdAt: Epoch, droppedAt: Epoch,
  jobId: Text(100).optional(), batches: z.tuple([z.number().int(), z.number().int()]).optional(), model: Name.optional(), version: Version.optional(),
});

export const ModelPayload = z.object({
  event: Text(40), name: Name, version: Version.nullable(), detail: Text(5_000), at: Text(40),
  cardSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(), modelSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  source: Text(40).optional(), signedBy: Text(500).nullable().optional(),
  /** the installed card.json's exact text (install events): the hub checks it against cardSha256 */
  card: z.string().max(16 * 1024 * 1024).optional(),
});

export const JobPayload = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/), model: Name, version: Version, status: z.enum(['running', 'completed', 'failed', 'cancelled']),
  input: Text(1000).optional(), inputFormat: Text(20).optional(), inputSize: z.number().optional(),
  rowsRead: z.number().int().min(0), rowsScored: z.number().int().min(0), rowsRejected: z.number().int().min(0),
  provider: Text(100).nullable().optional(), error: Text(5_000).nullable().optional(),
  createdAt: Text(40).optional(), updatedAt: Text(40).optional(), finishedAt: Text(40).nullable().optional(),
});

export const DriftPayload = z.object({
  model: Name, version: Version, cardSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** hour windows (start: epoch ms, a whole hour) → feature → statistics JSON (src/drift) */
  hours: z.array(z.object({ start: Epoch.refine((t) => t % 3_600_000 === 0, 'a window start must be a whole UTC hour'), features: z.record(z.string().max(300), z.unknown()) })).min(1).max(1000),
});

export const HeartbeatPayload = z.object({
  outpostVersion: Text(40), provider: Text(100).nullable(), rowsScored: z.number().int().min(0),
  models: z.array(z.object({ name: Name, version: Version, active: z.boolean(), source: Text(40).optional() })).max(10_000),
  waiting: z.number().int().min(0), waitingSince: Epoch.nullable(), openAlerts: z.number().int().min(0), at: Epoch,
});

export const PredictionsPayload = z.object({
  jobId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/), model: Name, version: Version, sampleRate: z.number().min(0).max(1).optional(),
  /** one entry per log batch; blobs follow in order: outputs, then inputs when `inputs` is true */
  batches: z.array(z.object({ seq: z.number().int().min(0), firstRow: z.number().int().min(0), rowCount: z.number().int().min(0), loggedAt: Epoch, inputs: z.boolean() })).max(4096),
});

/**
 * What a device did with a rollout assignment (src/sync/common/assignments.ts), once per
 * (rollout, generation): installed (and which version is active), failed (the pull stage that
 * refused, or `assignment` for a malformed one, and why), or available (policy `ask`: waiting for
 * the workstation's user).
 */
export const RolloutPayload = z.object({
  rollout: z.string().regex(/^ro_[a-z0-9]{8,40}$/), generation: z.number().int().min(1).max(1_000_000),
  outcome: z.enum(['installed', 'failed', 'available']), model: Name, ref: Text(300),
  version: Version.nullable(), previousVersion: Version.nullable(), stage: Text(40).nullable(), reason: Text(5_000).nullable(), at: Epoch,
});

export type RolloutItem = z.infer<typeof RolloutPayload>;
export type PredictionsItem = z.infer<typeof PredictionsPayload>;
export type HeartbeatItem = z.infer<typeof HeartbeatPayload>;
