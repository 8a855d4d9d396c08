// The installer configuration as data: `npm run dist` cannot run here (no Electron binary can be
// downloaded), so this loads electron-builder.yml through electron-builder's own loader and schema,
// runs its own file matchers over the real files, and flips the fuses with its own fuse code on a
// stand-in binary carrying Electron's fuse wire — every requirement of the packaged app, checked
// on what electron-builder will actually use.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const require = createRequire(import.meta.url);
type Config = Record<string, unknown> & {
  files: unknown; asar: unknown; asarUnpack: string[]; extraMetadata: { main: string }; electronFuses: Record<string, boolean>;
  linux: { target: string[]; files: unknown }; win: { target: string[]; files: unknown }; mac: { target: string[]; files: unknown; hardenedRuntime: boolean };
  nsis: Record<string, unknown>; npmRebuild: boolean; publish: unknown;
};
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<Config>;
  validateConfiguration(config: Config, logger: { isEnabled: boolean; add(): void }): Promise<void>;
};
const { FileMatcher } = require('app-builder-lib/out/fileMatcher.js') as {
  FileMatcher: new (from: string, to: string, expand: (s: string) => string, patterns: string[]) => { createFilter(): (file: string, stat: fs.Stats) => boolean };
};
const { PlatformPackager } = require('app-builder-lib') as {
  PlatformPackager: { prototype: { generateFuseConfig(fuses: Record<string, boolean>): Promise<Record<string, unknown>> } };
};
const fuses = require('@electron/fuses') as {
  FuseV1Options: Record<string, number>; FuseVersion: { V1: string };
  flipFuses(file: string, config: Record<string, unknown>): Promise<number>; getCurrentFuseWire(file: string): Promise<Record<string, number>>;
};

// What `electron-builder` (no --config: its default electron-builder.yml in the project) loads.
const config = await getConfig(REPO, null, null);

/** electron-builder's FileSet entries flattened to their patterns. */
function patterns(value: unknown): string[] {
  const sets = Array.isArray(value) ? value : [value];
  return sets.flatMap((s) => (typeof s === 'string' ? [s] : (s as { filter?: string[] }).filter ?? []));
}

/** electron-builder's own matcher over paths relative to the project (the app directory). */
function matcher(pats: string[]): (rel: string) => boolean {
  const filter = new FileMatcher(REPO, '/app', (s) => s, pats).createFilter();
  const fileStat = { isDirectory: () => false } as fs.Stats;
  return (rel) => filter(path.join(REPO, rel), fileStat);
}

function filesUnder(dir: string): string[] {
  const real = fs.realpathSync(path.join(REPO, dir));
  return fs.readdirSync(real, { withFileTypes: true, recursive: true }).filter((e) => e.isFile())
    .map((e) => path.join(dir, path.relative(real, path.join(e.parentPath, e.name))).split(path.sep).join('/'));
}

const NATIVE = /\.(node|so(\.\d+)*|dylib|dll)$/;

test('electron-builder loads electron-builder.yml and its schema accepts it', async () => {
  await validateConfiguration(config, { isEnabled: false, add() {} });
  assert.equal(config.appId, 'org.outpost.appliance');
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.win.target, ['nsis']);
  assert.deepEqual(config.mac.target, ['dmg']);
  assert.equal(config.mac.hardenedRuntime, true);
  assert.equal(config.publish, null, 'no electron-updater feed: app updates come from the hub through TUF');
  assert.equal(config.nsis.deleteAppDataOnUninstall, false, 'uninstalling keeps the data folder');
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
  assert.match(pkg.scripts.dist, /^npm run build && electron-builder\b/);
  assert.ok(pkg.devDependencies['electron-builder']);
});

test('the app is the built JavaScript: out/** in, TypeScript sources and tests out', () => {
  assert.equal(config.extraMetadata.main, 'out/electron/main.js');
  const files = matcher(patterns(config.files));
  for (const inApp of ['package.json', 'out/electron/main.js', 'out/electron/core-host.js', 'out/electron/preload.cjs', 'out/src/inference/node/worker.js', 'out/renderer/dist/index.html', 'out/models/demo/weather-2015.csv']) {
    assert.ok(files(inApp), `${inApp} is packaged`);
  }
  const tracked = fs.globSync(['src/**', 'electron/**', 'test/**', 'bin/**', 'renderer/src/**', 'scripts/**', 'docs/**'], { cwd: REPO })
    .filter((f) => fs.statSync(path.join(REPO, f)).isFile());
  assert.ok(tracked.length > 100);
  assert.deepEqual(tracked.filter((f) => files(f)), [], 'no source file is packaged');
});

test('asar on, and only native binaries unpacked from it (never the core code)', () => {
  assert.ok(config.asar === true || (typeof config.asar === 'object' && (config.asar as { smartUnpack?: boolean }).smartUnpack === false),
    'asar on, without smartUnpack unpacking whole packages');
  const unpack = matcher(config.asarUnpack);
  const candidates = [...filesUnder('node_modules/better-sqlite3'), ...filesUnder('node_modules/onnxruntime-node'),
    'out/src/inference/node/worker.js', 'out/electron/main.js', 'out/src/store/node/store.js', 'src/inference/node/worker.ts'];
  const unpacked = candidates.filter(unpack);
  assert.deepEqual(unpacked.filter((f) => !NATIVE.test(f)), [], 'nothing but native binaries is unpacked');
  const natives = candidates.filter((f) => NATIVE.test(f) && !f.includes('/deps/'));
  assert.ok(natives.some((f) => f.endsWith('better-sqlite3/prebuilds/linux-x64.node')));
  assert.ok(natives.some((f) => f.endsWith('linux/x64/libonnxruntime.so.1')));
  assert.deepEqual(natives.filter((f) => !unpack(f)), [], 'every native binary is unpacked');
});

test('each installer carries only its own OS\'s native binaries (ONNX Runtime, better-sqlite3)', () => {
  const ort = 'node_modules/onnxruntime-node/bin/napi-v6';
  const sq = 'node_modules/better-sqlite3/prebuilds';
  for (const [os, keep, drop] of [['linux', 'linux', ['darwin', 'win32']], ['win', 'win32', ['darwin', 'linux']], ['mac', 'darwin', ['linux', 'win32']]] as const) {
    // Production dependencies are collected by electron-builder; the `files` exclusions then apply to them.
    const exclusions = [...patterns(config.files), ...patterns(config[os].files)].filter((p) => p.startsWith('!'));
    const files = matcher(['node_modules/**', ...exclusions]);
    assert.ok(files(`${ort}/${keep}/x64/onnxruntime_binding.node`) || files(`${ort}/${keep}/arm64/onnxruntime_binding.node`), `${os} keeps ${keep}`);
    assert.ok(files(`${sq}/${keep}-x64.node`) || files(`${sq}/${keep}-arm64.node`), `${os} keeps better-sqlite3 ${keep}`);
    assert.ok(files('node_modules/better-sqlite3/lib/index.js') && files('node_modules/onnxruntime-node/dist/index.js'));
    for (const d of drop) {
      assert.equal(files(`${ort}/${d}/x64/onnxruntime_binding.node`), false, `${os} drops ORT ${d}`);
      assert.equal(files(`${sq}/${d}-x64.node`), false, `${os} drops better-sqlite3 ${d}`);
    }
  }
});

test('native modules are Node-API, so the binaries are taken for Electron as built (npmRebuild off)', () => {
  assert.equal(config.npmRebuild, false);
  const gyp = fs.readFileSync(path.join(REPO, 'node_modules/better-sqlite3/binding.gyp'), 'utf8');
  assert.match(gyp, /NAPI_VERSION=\d+/, 'better-sqlite3 builds against Node-API (ABI-stable across Node and Electron)');
  assert.ok(fs.existsSync(path.join(REPO, 'node_modules/onnxruntime-node/bin/napi-v6')), 'onnxruntime-node ships Node-API binaries');
});

test('the fuses electron-builder flips: RunAsNode, NODE_OPTIONS and --inspect off; cookie encryption, asar integrity, asar-only on', async () => {
  const { FuseV1Options: F, FuseVersion } = fuses;
  const fuseConfig = await PlatformPackager.prototype.generateFuseConfig.call({}, config.electronFuses);
  assert.equal(fuseConfig.version, FuseVersion.V1);
  const want: Record<string, boolean> = {
    RunAsNode: false, EnableNodeOptionsEnvironmentVariable: false, EnableNodeCliInspectArguments: false,
    EnableCookieEncryption: true, EnableEmbeddedAsarIntegrityValidation: true, OnlyLoadAppFromAsar: true,
    GrantFileProtocolExtraPrivileges: false,
  };
  for (const [name, on] of Object.entries(want)) assert.equal(fuseConfig[F[name]], on, name);

  // A stand-in binary with Electron's fuse wire in its default state (RunAsNode, NODE_OPTIONS,
  // --inspect and file:// privileges on; the rest off), flipped by @electron/fuses as at pack time.
  const dir = tempDir();
  try {
    const exe = path.join(dir, 'electron');
    const wire = [F.RunAsNode, F.EnableCookieEncryption, F.EnableNodeOptionsEnvironmentVariable, F.EnableNodeCliInspectArguments,
      F.EnableEmbeddedAsarIntegrityValidation, F.OnlyLoadAppFromAsar, F.LoadBrowserProcessSpecificV8Snapshot, F.GrantFileProtocolExtraPrivileges];
    const defaults = [1, 0, 1, 1, 0, 0, 0, 1];
    fs.writeFileSync(exe, Buffer.concat([Buffer.alloc(64, 7), Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'), Buffer.from([1, wire.length]),
      Buffer.from(defaults.map((d) => (d ? 49 : 48))), Buffer.alloc(64, 7)]));
    await fuses.flipFuses(exe, fuseConfig);
    const flipped = await fuses.getCurrentFuseWire(exe);
    for (const [name, on] of Object.entries(want)) assert.equal(flipped[F[name]], on ? 49 : 48, `${name} in the flipped binary`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the main process: DevTools only unpackaged, one instance per data folder, --home honoured', () => {
  const main = fs.readFileSync(path.join(REPO, 'electron/main.ts'), 'utf8');
  assert.match(main, /devTools: !app\.isPackaged/);
  assert.match(main, /app\.requestSingleInstanceLock\(\)/);
  assert.match(main, /homeFromArgv\(process\.argv\.slice\(1\), process\.env\)/);
  assert.match(main, /OUTPOST_HOME: home/, 'the core in the utility process opens the same data folder');
});
