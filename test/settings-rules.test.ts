// The store validates settings with plain rules (src/store/common/settings.ts: no zod on the CLI's
// start-up path); the UI contract uses the zod schema (settings-schema.ts). Both must give the same
// verdict on every value, valid and not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SettingsSchema } from '../src/store/common/settings-schema.ts';
import { DEFAULT_SETTINGS, settingProblem, settingsFromStored, SETTINGS_INFO, validateSettingsPatch, type SettingKey } from '../src/store/common/settings.ts';

const MiB = 1024 * 1024;
const common: unknown[] = [null, undefined, '', 'x', true, false, 0, -1, 0.5, 1, 1.5, NaN, Infinity, -Infinity, [], {}, ['~']];
const perKey: Record<SettingKey, unknown[]> = {
  logInputs: ['all', 'sampled', 'none', 'ALL', 'some'],
  logSampleRate: [0, 1, 0.01, 1.0001, -0.0001, '0.5'],
  retentionMaxBytes: [MiB, MiB - 1, 2 * 1024 ** 3, MiB + 0.5, 2 ** 53, 2 ** 53 + 2, 1e300],
  retentionMaxAgeDays: [1, 36500, 36501, 0, 90, 90.5],
  provider: ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml', 'tpu', 'Cuda'],
  uploadMaxBytes: [MiB, 1024 ** 4, 1024 ** 4 + 1, MiB - 1],
  allowedFolders: [['~'], ['~/data'], ['/srv', 'C:\\data', '\\\\server\\share', 'D:/x'], ['relative'], [''], ['~x'], ['/'.repeat(4097)], Array.from({ length: 64 }, () => '/a'), Array.from({ length: 65 }, () => '/a'), [1], '~'],
  csvSafe: [true, false, 'true', 1],
  syncPredictions: ['all', 'sampled', 'none', 'some'],
  syncSampleRate: [0, 1, 2],
  syncQuotaBytes: [0, 1, -1, 0.5, 512 * MiB],
  syncIntervalSeconds: [0, 300, 7 * 86400, 7 * 86400 + 1, -1],
  syncBandwidthBytesPerSecond: [0, MiB, -5, 1.25],
  retrainOnAlert: [[], ['seattle-weather'], ['a.b_c-9'], ['Upper'], ['-lead'], ['x'.repeat(64)], ['x'.repeat(65)], Array.from({ length: 257 }, () => 'm'), [7], 'name'],
  rolloutPolicy: ['auto', 'ask', 'AUTO', 'never'],
  driftWebhookUrl: ['', 'http://localhost:9/hook', 'https://example.org/x?y=1', 'ftp://example.org', 'http://', 'https://' + 'a'.repeat(2050), 'not a url'],
};

test('the plain settings rules and the zod schema agree on every value', () => {
  let checked = 0;
  for (const key of Object.keys(SETTINGS_INFO) as SettingKey[]) {
    for (const value of [...common, ...perKey[key]]) {
      if (value === undefined) continue; // absent, not a value
      const zodOk = SettingsSchema.shape[key].safeParse(value).success;
      const plainOk = settingProblem(key, value) === undefined;
      assert.equal(plainOk, zodOk, `${key} = ${JSON.stringify(value)}: plain ${plainOk}, zod ${zodOk} (${settingProblem(key, value)})`);
      checked++;
    }
  }
  assert.ok(checked > 300);
  assert.equal(SettingsSchema.safeParse(DEFAULT_SETTINGS).success, true);
});

test('a patch is refused with the key, the reason and the allowed values; absent keys are skipped', () => {
  assert.throws(() => validateSettingsPatch({ logSampleRate: 2 }), /setting "logSampleRate": too big: expected a number <= 1; allowed: a fraction from 0 to 1/);
  assert.throws(() => validateSettingsPatch({ allowedFolders: ['rel'] }), /setting "allowedFolders": "rel" must be an absolute folder path/);
  assert.throws(() => validateSettingsPatch({ nope: 1 }), /unknown setting "nope"/);
  assert.deepEqual(validateSettingsPatch({ provider: 'cpu', csvSafe: undefined }), { provider: 'cpu' });
});

test('stored values that break the rules fall back to the defaults', () => {
  const s = settingsFromStored([
    { key: 'logSampleRate', value: '0.5' },
    { key: 'provider', value: '"tpu"' },
    { key: 'retentionMaxAgeDays', value: 'not json' },
    { key: 'unknownKey', value: '1' },
  ]);
  assert.equal(s.logSampleRate, 0.5);
  assert.equal(s.provider, DEFAULT_SETTINGS.provider);
  assert.equal(s.retentionMaxAgeDays, DEFAULT_SETTINGS.retentionMaxAgeDays);
  assert.equal('unknownKey' in s, false);
});
