// `outpost settings [get|set|reset]`: the appliance's settings, validated by the one settings schema
// (src/store/common/settings.ts) the app and the API use too.
import path from 'node:path';
import { OutpostError, usageError } from '../../common/errors.ts';
import { DEFAULT_SETTINGS, formatSetting, isSettingKey, parseSettingText, SETTINGS_INFO, SettingsError, type SettingKey, type Settings } from '../../store/common/settings.ts';
import { getSettings, openStore, resetSetting, updateSettings } from '../../store/node/store.ts';
import { flag, type CommandContext, type CommandSpec } from '../command.ts';

const KEYS = Object.keys(SETTINGS_INFO) as SettingKey[];

function checkKey(key: string): SettingKey {
  if (!isSettingKey(key)) throw usageError(`unknown setting "${key}" (settings: ${KEYS.join(', ')})`);
  return key;
}

function show(ctx: CommandContext, settings: Settings, keys: SettingKey[]): void {
  const width = Math.max(...keys.map((k) => k.length));
  for (const k of keys) {
    const isDefault = JSON.stringify(settings[k]) === JSON.stringify(DEFAULT_SETTINGS[k]);
    ctx.out.text(`${k.padEnd(width)}  ${formatSetting(k, settings[k])}${isDefault ? '  (default)' : ''}`);
    if (keys.length === 1) ctx.out.text(`${' '.repeat(width)}  ${SETTINGS_INFO[k].meaning}; allowed: ${SETTINGS_INFO[k].allowed}`);
  }
}

async function get(ctx: CommandContext, key: string | undefined): Promise<number> {
  const keys = key === undefined ? KEYS : [checkKey(key)];
  const store = openStore(ctx.home);
  try {
    const settings = getSettings(store);
    ctx.out.json(key === undefined ? { ok: true, home: ctx.home, settings } : { ok: true, key, value: settings[keys[0]], default: DEFAULT_SETTINGS[keys[0]] });
    show(ctx, settings, keys);
    return 0;
  } finally {
    store.close();
  }
}

export const settingsGetCommand: CommandSpec = {
  name: 'settings get',
  summary: 'Show the settings (all, or one with what it means and the values it takes)',
  usage: 'outpost settings get [<key>]',
  help: [`keys: ${KEYS.join(', ')}`],
  positionals: { min: 0, max: 1 },
  run: (ctx, args) => get(ctx, args.positionals[0]),
};

/** `outpost settings` alone shows them all. */
export const settingsCommand: CommandSpec = { ...settingsGetCommand, name: 'settings', usage: 'outpost settings [get [<key>] | set <key> <value> | reset <key>]', positionals: { min: 0, max: 0 } };

export const settingsSetCommand: CommandSpec = {
  name: 'settings set',
  summary: 'Change a setting (checked against the settings schema; units like 2GiB for sizes)',
  usage: 'outpost settings set <key> <value> [--force]',
  help: [...KEYS.map((k) => `${k.padEnd(28)} ${SETTINGS_INFO[k].allowed}`), '--force                      save a provider even though it cannot work on this machine now'],
  options: { force: { type: 'boolean' } },
  positionals: { min: 2, max: 2 },
  async run(ctx, args) {
    const [key, text] = args.positionals;
    let patch: Partial<Settings>;
    try {
      patch = parseSettingText(key, text, path.delimiter);
    } catch (e) {
      if (e instanceof SettingsError) throw usageError(e.message);
      throw e;
    }
    // like the app's Settings: a provider that cannot work here is refused when saved, not at the next run
    if (patch.provider !== undefined && patch.provider !== 'auto' && patch.provider !== 'cpu') {
      const { chooseProvider } = await import('../../inference/node/providers.ts');
      const { PROBE_CACHE_FILE } = await import('../../inference/node/probe-cache.ts');
      try {
        // a new provider preference probes again (a driver may have been installed) and refreshes the machine's cache
        await chooseProvider(patch.provider, { reprobe: true, cacheFile: path.join(ctx.home, PROBE_CACHE_FILE), home: ctx.home });
      } catch (e) {
        if (!flag(args, 'force')) throw new OutpostError('provider', `not saved: ${(e as Error).message}. Choose another provider (auto picks the best that works here), or pass --force to save it anyway`);
        ctx.out.warn(`outpost settings set: warning: ${(e as Error).message}; saved anyway (--force)`);
      }
    }
    const store = openStore(ctx.home);
    try {
      const settings = updateSettings(store, patch);
      const k = key as SettingKey;
      ctx.out.json({ ok: true, key: k, value: settings[k] });
      ctx.out.text(`${k} = ${formatSetting(k, settings[k])}`);
      return 0;
    } finally {
      store.close();
    }
  },
};

export const settingsResetCommand: CommandSpec = {
  name: 'settings reset',
  summary: 'Put a setting back to its default value',
  usage: 'outpost settings reset <key>',
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const k = checkKey(args.positionals[0]);
    const store = openStore(ctx.home);
    try {
      const settings = resetSetting(store, k);
      ctx.out.json({ ok: true, key: k, value: settings[k] });
      ctx.out.text(`${k} = ${formatSetting(k, settings[k])}  (default)`);
      return 0;
    } finally {
      store.close();
    }
  },
};
