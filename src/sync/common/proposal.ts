// Upstream proposals (docs/SYNC-PROTOCOL.md, "Proposals"): a workstation sends a retrained
// challenger — its model.onnx, its card (lineage included) and the challenger-vs-champion comparison
// from the retrain — to its hub as an UNSIGNED upload, in one request signed with the device key like
// every sync request. The device key only authenticates the upload; it never signs a model. A
// publisher accepts the proposal and publishes it through the normal signing path. Pure.
import { z } from 'zod';

export const PROPOSALS_PATH = '/api/v1/proposals';
export const PROPOSAL_CONTENT_TYPE = 'application/x-outpost-proposal+json';
export const PROPOSAL_FORMAT = 'outpost-proposal/1';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex SHA-256');
const Metrics = z.record(z.string(), z.object({
  value: z.number().nullable(),
  ci: z.object({ low: z.number(), high: z.number() }).strict().nullable(),
  method: z.string().max(200),
  note: z.string().max(2000).optional(),
}).strict());

/** What the retrain measured: both models on the same held-out newest rows. */
export const ProposalComparisonSchema = z.object({
  proposalId: z.string().max(100),
  metric: z.string().max(40),
  championVersion: z.number().int().positive(),
  championScore: z.number().nullable(),
  challengerScore: z.number().nullable(),
  better: z.enum(['challenger', 'champion']),
  decision: z.string().max(2000),
  holdoutRows: z.number().int().nonnegative(),
  trainRows: z.number().int().nonnegative(),
  champion: Metrics,
  challenger: Metrics,
  warnings: z.array(z.string().max(2000)).max(50),
}).strict();
export type ProposalComparison = z.infer<typeof ProposalComparisonSchema>;

export const ProposalUploadSchema = z.object({
  format: z.literal(PROPOSAL_FORMAT),
  /** the model's name and the local version it has on the device */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  localVersion: z.number().int().positive(),
  /** card.json's exact text (its SHA-256 is cardSha256) */
  card: z.string().min(2),
  cardSha256: Sha256,
  /** model.onnx, base64 (its SHA-256 is modelSha256) */
  model: z.string().min(1),
  modelSha256: Sha256,
  /** null: the version was not activated from a retrain proposal (no measured comparison) */
  comparison: ProposalComparisonSchema.nullable(),
  note: z.string().max(2000).optional(),
}).strict();
export type ProposalUpload = z.infer<typeof ProposalUploadSchema>;

export interface ProposalReceipt { ok: true; id: string; status: string; duplicate: boolean }
