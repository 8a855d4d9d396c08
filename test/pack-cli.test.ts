// The CLI alone installs with no network: `npm run pack:cli` makes one tarball with every runtime
// dependency bundled; `npm install -g <tarball> --offline` into a temporary prefix, with an EMPTY npm
// cache (nothing to fall back on), then `<prefix>/bin/outpost demo` must work on Node 24.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { packCli, productionPackages, stageDependencies } from '../scripts/pack.ts';
import { REPO } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
// npm's `#!/usr/bin/env node` and the installed launcher both run the project's Node 24.
const PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`;
const { NODE_TEST_CONTEXT: _nested, ...inherited } = process.env;
const env = { ...inherited, PATH, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('npm pack → npm install -g --offline (empty cache, temp prefix) → outpost demo', async () => {
  const tarball = await packCli({ out: path.join(root, 'dist'), cliOnly: true });
  assert.match(path.basename(tarball), new RegExp(`^outpost-\\d+\\.\\d+\\.\\d+-${process.platform}-${process.arch}\\.tgz$`));
  const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }).split('\n');
  console.log(`# ${path.basename(tarball)}: ${(fs.statSync(tarball).size / 2 ** 20).toFixed(1)} MiB, ${listing.length} entries`);
  assert.ok(listing.includes('package/bin/outpost.js'));
  assert.deepEqual(listing.filter((f) => /^package\/(src|bin)\/.*\.ts$/.test(f)), [], 'no TypeScript of ours');
  assert.ok(listing.includes('package/node_modules/better-sqlite3/prebuilds/linux-x64.node') || process.platform !== 'linux');
  assert.deepEqual(listing.filter((f) => /onnxruntime-node\/bin\/napi-v6\//.test(f) && !f.includes(`/napi-v6/${process.platform}/${process.arch}/`) && !f.endsWith('/')), [],
    'only this platform\'s ONNX Runtime binaries');

  const prefix = path.join(root, 'prefix');
  const cache = path.join(root, 'empty-npm-cache');
  fs.mkdirSync(cache);
  const install = await run('npm', ['install', '-g', tarball, '--offline', '--prefix', prefix, '--cache', cache]);
  assert.equal(install.code, 0, `offline install failed:\n${install.stdout}\n${install.stderr}`);
  const outpost = path.join(prefix, process.platform === 'win32' ? 'outpost.cmd' : 'bin/outpost');
  const demo = await run(outpost, ['--home', path.join(root, 'home'), 'demo']);
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout, /Scored 365 of 365 rows with seattle-weather@1/);
  const bad = await run(outpost, ['--home', path.join(root, 'home'), 'nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command "nope"/);
});

test('staging refuses a runtime dependency that is not installed, naming it', () => {
  const fake = path.join(root, 'fake');
  fs.mkdirSync(path.join(fake, 'node_modules', 'present'), { recursive: true });
  fs.writeFileSync(path.join(fake, 'node_modules', 'present', 'package.json'), '{"name":"present","version":"1.0.0"}');
  fs.writeFileSync(path.join(fake, 'package-lock.json'), JSON.stringify({ packages: {
    '': {}, 'node_modules/present': {}, 'node_modules/absent': {}, 'node_modules/optional-absent': { optional: true }, 'node_modules/devtool': { dev: true },
  } }));
  assert.throws(() => stageDependencies(path.join(root, 'fake-stage'), { repo: fake }), /runtime dependencies missing from node_modules \(run npm ci\): node_modules\/absent$/);
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, object> };
  const prod = productionPackages(lock as never).map((p) => p.path);
  assert.ok(prod.includes('node_modules/onnxruntime-node') && prod.includes('node_modules/better-sqlite3'));
  assert.ok(!prod.includes('node_modules/esbuild') && !prod.includes('node_modules/electron'), 'no devDependency is bundled');
});
