// The settings as a zod schema, for the UI contract (src/api/common/contract.ts). The store and the
// CLI validate with the plain rules in ./settings.ts (no zod on the CLI's start-up path); the two
// state the same rules and test/settings-rules.test.ts holds them to the same verdicts. Pure.
import { z } from 'zod';
import { isFolderPath, LOG_INPUT_POLICIES, PROVIDER_PREFERENCES, ROLLOUT_POLICIES, type Settings } from './settings.ts';

const MiB = 1024 * 1024;

const FolderPath = z.string().min(1).max(4096).refine(isFolderPath, 'must be an absolute folder path or ~ (the home folder)');

export const SettingsSchema = z.object({
  logInputs: z.enum(LOG_INPUT_POLICIES),
  logSampleRate: z.number().min(0).max(1),
  retentionMaxBytes: z.number().int().min(MiB),
  retentionMaxAgeDays: z.number().int().min(1).max(36500),
  provider: z.enum(PROVIDER_PREFERENCES),
  uploadMaxBytes: z.number().int().min(MiB).max(1024 ** 4),
  allowedFolders: z.array(FolderPath).max(64),
  csvSafe: z.boolean(),
  syncPredictions: z.enum(LOG_INPUT_POLICIES),
  syncSampleRate: z.number().min(0).max(1),
  syncQuotaBytes: z.number().int().min(0),
  syncIntervalSeconds: z.number().int().min(0).max(7 * 86400),
  syncBandwidthBytesPerSecond: z.number().int().min(0),
  retrainOnAlert: z.array(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a model name')).max(256),
  rolloutPolicy: z.enum(ROLLOUT_POLICIES),
  driftWebhookUrl: z.string().max(2048).refine((u) => u === '' || (/^https?:\/\//i.test(u) && URL.canParse(u)), 'must be an http:// or https:// URL, or empty (off)'),
}) satisfies z.ZodType<Settings>;

// both directions: the schema's type is exactly the plain Settings interface
const _same: Settings extends z.infer<typeof SettingsSchema> ? (z.infer<typeof SettingsSchema> extends Settings ? true : never) : never = true;
void _same;
