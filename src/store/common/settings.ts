// The appliance's settings: one set of rules that the store, the app's Settings screen (through the
// UI contract) and `outpost settings` all validate with, the defaults, what each key means, and how
// a value typed on a command line becomes a typed value. Pure.

const MiB = 1024 * 1024;

export const PROVIDER_PREFERENCES = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
export const LOG_INPUT_POLICIES = ['all', 'sampled', 'none'] as const;
/** What this workstation does with a rollout the hub assigns it (src/sync/node/rollout.ts). */
export const ROLLOUT_POLICIES = ['auto', 'ask'] as const;

/** "~", "~/…" (the user's home folder) or an absolute path (POSIX "/…" or Windows "C:\…", "\\server\…"). */
export const isFolderPath = (p: string): boolean => p === '~' || /^~[\\/]/.test(p) || /^\//.test(p) || /^[A-Za-z]:[\\/]/.test(p) || /^\\\\/.test(p);
const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const isUrlSetting = (u: string): boolean => u === '' || (/^https?:\/\//i.test(u) && URL.canParse(u));

export interface Settings {
  logInputs: (typeof LOG_INPUT_POLICIES)[number];
  logSampleRate: number;
  retentionMaxBytes: number;
  retentionMaxAgeDays: number;
  provider: (typeof PROVIDER_PREFERENCES)[number];
  uploadMaxBytes: number;
  allowedFolders: string[];
  csvSafe: boolean;
  syncPredictions: (typeof LOG_INPUT_POLICIES)[number];
  syncSampleRate: number;
  syncQuotaBytes: number;
  syncIntervalSeconds: number;
  syncBandwidthBytesPerSecond: number;
  retrainOnAlert: string[];
  rolloutPolicy: (typeof ROLLOUT_POLICIES)[number];
  driftWebhookUrl: string;
}
export type SettingKey = keyof Settings;

// The rules, written out without zod so that opening the store (every CLI command) does not load it;
// `SettingsSchema` (./settings-schema.ts, zod, for the UI contract) states the same rules and a test
// holds the two to the same verdicts.
const oneOf = (allowed: readonly string[]) => (v: unknown) => (typeof v === 'string' && allowed.includes(v) ? undefined : `expected one of ${allowed.map((a) => `"${a}"`).join('|')}`);
const num = (min: number, max: number, int: boolean) => (v: unknown) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'expected a number';
  if (int && !Number.isSafeInteger(v)) return 'expected an integer';
  if (v < min) return `too small: expected a number >= ${min}`;
  if (v > max) return `too big: expected a number <= ${max}`;
  return undefined;
};
const list = (max: number, item: (s: string) => boolean, what: string) => (v: unknown) => {
  if (!Array.isArray(v)) return 'expected an array';
  if (v.length > max) return `too many: expected at most ${max} items`;
  const bad = v.find((x) => typeof x !== 'string' || !item(x));
  return bad === undefined ? undefined : `${JSON.stringify(bad)} ${what}`;
};
const RULES: Record<SettingKey, (v: unknown) => string | undefined> = {
  logInputs: oneOf(LOG_INPUT_POLICIES),
  logSampleRate: num(0, 1, false),
  retentionMaxBytes: num(MiB, Infinity, true),
  retentionMaxAgeDays: num(1, 36500, true),
  provider: oneOf(PROVIDER_PREFERENCES),
  uploadMaxBytes: num(MiB, 1024 ** 4, true),
  allowedFolders: list(64, (p) => p.length >= 1 && p.length <= 4096 && isFolderPath(p), 'must be an absolute folder path or ~ (the home folder)'),
  csvSafe: (v) => (typeof v === 'boolean' ? undefined : 'expected a boolean'),
  syncPredictions: oneOf(LOG_INPUT_POLICIES),
  syncSampleRate: num(0, 1, false),
  syncQuotaBytes: num(0, Infinity, true),
  syncIntervalSeconds: num(0, 7 * 86400, true),
  syncBandwidthBytesPerSecond: num(0, Infinity, true),
  retrainOnAlert: list(256, (n) => MODEL_NAME.test(n), 'is not a model name'),
  rolloutPolicy: oneOf(ROLLOUT_POLICIES),
  driftWebhookUrl: (v) => (typeof v !== 'string' ? 'expected a string' : v.length > 2048 ? 'too long: at most 2048 characters' : isUrlSetting(v) ? undefined : 'must be an http:// or https:// URL, or empty (off)'),
};

/** Why `value` is not a valid value of `key`, or undefined when it is. */
export const settingProblem = (key: SettingKey, value: unknown): string | undefined => RULES[key](value);

export const DEFAULT_SETTINGS: Settings = {
  logInputs: 'sampled',
  logSampleRate: 0.01,
  retentionMaxBytes: 2 * 1024 ** 3,
  retentionMaxAgeDays: 90,
  provider: 'auto',
  uploadMaxBytes: 512 * MiB,
  allowedFolders: ['~'],
  csvSafe: false,
  syncPredictions: 'all',
  syncSampleRate: 0.01,
  syncQuotaBytes: 512 * MiB,
  syncIntervalSeconds: 300,
  syncBandwidthBytesPerSecond: 0,
  retrainOnAlert: [],
  rolloutPolicy: 'auto',
  driftWebhookUrl: '',
};

type Kind = 'enum' | 'fraction' | 'bytes' | 'days' | 'seconds' | 'boolean' | 'folders' | 'names' | 'url';

/** What each key is, for `outpost settings` and error messages. */
export const SETTINGS_INFO: Record<SettingKey, { kind: Kind; allowed: string; meaning: string }> = {
  logInputs: { kind: 'enum', allowed: LOG_INPUT_POLICIES.join(', '), meaning: 'which scored rows keep their inputs in the prediction log' },
  logSampleRate: { kind: 'fraction', allowed: 'a fraction from 0 to 1', meaning: 'share of rows whose inputs are logged when logInputs is sampled' },
  retentionMaxBytes: { kind: 'bytes', allowed: 'bytes, at least 1MiB (e.g. 2GiB)', meaning: 'prediction log size cap; the oldest predictions go first' },
  retentionMaxAgeDays: { kind: 'days', allowed: 'whole days from 1 to 36500', meaning: 'predictions and uploaded files older than this are removed' },
  provider: { kind: 'enum', allowed: PROVIDER_PREFERENCES.join(', '), meaning: 'execution provider preference for new scoring runs' },
  uploadMaxBytes: { kind: 'bytes', allowed: 'bytes, from 1MiB to 1TiB (e.g. 512MiB)', meaning: 'largest file the app accepts as an upload (serve mode)' },
  allowedFolders: { kind: 'folders', allowed: 'absolute folder paths or ~, separated by the path-list separator (":" or ";"), or a JSON array', meaning: 'folders whose files the app may read by path (uploads are always allowed; hidden folders never)' },
  csvSafe: { kind: 'boolean', allowed: 'true or false', meaning: 'neutralise spreadsheet formulas in CSV text cells (OWASP CSV injection)' },
  syncPredictions: { kind: 'enum', allowed: LOG_INPUT_POLICIES.join(', '), meaning: 'which logged predictions sync to the hub (sampled: the rows a deterministic sampler picks at syncSampleRate)' },
  syncSampleRate: { kind: 'fraction', allowed: 'a fraction from 0 to 1', meaning: 'share of predictions synced when syncPredictions is sampled' },
  syncQuotaBytes: { kind: 'bytes', allowed: 'bytes (e.g. 512MiB; 0 lets only security events, alerts and drop records wait)', meaning: 'most bytes waiting to sync; past it the oldest predictions are dropped from the queue (recorded, never alerts or security events)' },
  syncIntervalSeconds: { kind: 'seconds', allowed: 'whole seconds from 0 (off) to 604800', meaning: 'how often the app syncs with the hub in the background' },
  syncBandwidthBytesPerSecond: { kind: 'bytes', allowed: 'bytes per second, 0 for no cap (e.g. 1MiB)', meaning: 'upload cap of sync' },
  retrainOnAlert: { kind: 'names', allowed: 'model names separated by commas, or a JSON array (empty: none)', meaning: 'models retrained automatically (a proposal, never activated) when a drift or performance alert opens' },
  rolloutPolicy: { kind: 'enum', allowed: ROLLOUT_POLICIES.join(', '), meaning: 'a model version the hub rolls out to this workstation: auto = pull (verified) and activate it at the next sync; ask = show "update available" and install only when asked' },
  driftWebhookUrl: { kind: 'url', allowed: 'an http:// or https:// URL, or empty for off', meaning: 'POST a JSON message here for each new drift alert (retried with backoff; never delays scoring)' },
};

export const isSettingKey = (k: string): k is SettingKey => Object.hasOwn(SETTINGS_INFO, k);

/** Coded like src/common/errors.ts's OutpostError('usage') without importing node-side code. */
export class SettingsError extends Error {
  readonly code = 'usage';
  readonly location = {};
}

/** Validate a (partial) settings patch; the message names the key and its allowed values. */
export function validateSettingsPatch(patch: Record<string, unknown>): Partial<Settings> {
  for (const k of Object.keys(patch)) {
    if (!isSettingKey(k)) throw new SettingsError(`unknown setting "${k}" (settings: ${Object.keys(SETTINGS_INFO).join(', ')})`);
  }
  const valid: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch) as [SettingKey, unknown][]) {
    if (value === undefined) continue; // an absent key (as zod's .partial() reads it)
    const problem = settingProblem(key, value);
    if (problem) throw new SettingsError(`setting "${key}": ${problem}; allowed: ${SETTINGS_INFO[key].allowed}`);
    valid[key] = value;
  }
  return valid as Partial<Settings>;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: MiB, g: 1e9, gb: 1e9, gib: 1024 ** 3, t: 1e12, tb: 1e12, tib: 1024 ** 4 };

/** Read a byte count like "536870912", "512MiB", "2 GB" (SI and binary units); NaN when it is none. */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  return m && unit !== undefined ? Math.round(Number(m[1]) * unit) : NaN;
}

/**
 * A value typed on a command line as the key's type, validated like any other patch. Folder lists
 * are split on `listSeparator` (the platform's PATH separator) or given as a JSON array.
 */
export function parseSettingText(key: string, text: string, listSeparator: string): Partial<Settings> {
  if (!isSettingKey(key)) throw new SettingsError(`unknown setting "${key}" (settings: ${Object.keys(SETTINGS_INFO).join(', ')})`);
  const t = text.trim();
  let value: unknown;
  switch (SETTINGS_INFO[key].kind) {
    case 'enum': case 'url': value = t; break;
    case 'fraction': case 'days': case 'seconds': value = t === '' ? NaN : Number(t); break;
    case 'bytes': value = parseBytes(t); break;
    case 'boolean': value = t === 'true' ? true : t === 'false' ? false : t; break;
    case 'folders':
      if (t.startsWith('[')) {
        try { value = JSON.parse(t); } catch { throw new SettingsError(`setting "${key}": "${text}" is not a JSON array; allowed: ${SETTINGS_INFO[key].allowed}`); }
      } else value = t === '' ? [] : t.split(listSeparator).map((p) => p.trim()).filter(Boolean);
      break;
    case 'names':
      if (t.startsWith('[')) {
        try { value = JSON.parse(t); } catch { throw new SettingsError(`setting "${key}": "${text}" is not a JSON array; allowed: ${SETTINGS_INFO[key].allowed}`); }
      } else value = t === '' ? [] : t.split(',').map((p) => p.trim()).filter(Boolean);
      break;
  }
  if (typeof value === 'number' && Number.isNaN(value)) throw new SettingsError(`setting "${key}": "${text}" is not a number; allowed: ${SETTINGS_INFO[key].allowed}`);
  return validateSettingsPatch({ [key]: value });
}

/** Settings as stored (key → JSON text), over the defaults; unknown or invalid stored values fall back to the default. */
export function settingsFromStored(rows: { key: string; value: string }[]): Settings {
  const s: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const r of rows) {
    if (!isSettingKey(r.key)) continue;
    try {
      const value: unknown = JSON.parse(r.value);
      if (!settingProblem(r.key, value)) s[r.key] = value;
    } catch { /* unreadable: keep the default */ }
  }
  return s as unknown as Settings;
}

/** A value for people: bytes with binary units, folder lists joined. */
export function formatSetting(key: SettingKey, value: Settings[SettingKey]): string {
  if (SETTINGS_INFO[key].kind === 'bytes' && typeof value === 'number') {
    for (const [u, n] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', MiB]] as const) if (value >= n && value % n === 0) return `${value / n}${u}`;
    return String(value);
  }
  if (SETTINGS_INFO[key].kind === 'url' && value === '') return '(off)';
  return Array.isArray(value) ? (value.length ? value.join(', ') : '(none)') : String(value);
}
