// `npm run build` → plain JavaScript: built once into a temp folder, then the demo and a set of the
// CLI's own test files run against the built CLI (OUTPOST_CLI, see test/helpers/cli.ts) with type
// stripping switched off, so nothing in the shipped tree can load TypeScript. The sources run the
// whole suite anyway; this file proves the build is the same program.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { build, rewriteSpecifiers } from '../scripts/build.ts';
import { REPO } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

/** The CLI test files also run against the build: every command's help and --json shape (all
 * command modules load), single-record inference in worker threads, jobs/settings with a CLI
 * killed mid-run, signing keys. Together about 40 s on an idle 2-core machine. */
export const CLI_TESTS_ON_BUILD = ['cli-commands', 'cli-predict', 'cli-jobs', 'keys-generate'];

const root = tempDir();
const out = path.join(root, 'out');
after(() => fs.rmSync(root, { recursive: true, force: true }));

before(async () => {
  await build({ out, cliOnly: true });
  // Dependencies resolve from the checkout's node_modules, as an installed package resolves its own.
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'), 'dir');
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // NODE_TEST_CONTEXT would make a nested `node --test` report to this runner instead of printing.
  const { NODE_TEST_CONTEXT: _nested, ...inherited } = process.env;
  const child = spawn(cmd, args, { cwd: REPO, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

test('the built tree is JavaScript with source maps: no .ts file, every module has its map, ESM package.json', () => {
  const files = walk(out).filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`));
  assert.deepEqual(files.filter((f) => f.endsWith('.ts')), []);
  const js = files.filter((f) => f.endsWith('.js'));
  assert.ok(js.length > 200, `${js.length} built modules`);
  for (const f of js) {
    assert.ok(fs.existsSync(`${f}.map`), `${f} has a source map`);
    assert.match(fs.readFileSync(f, 'utf8'), /\/\/# sourceMappingURL=\S+\.js\.map\n?$/);
  }
  for (const must of ['bin/outpost.js', 'electron/main.js', 'electron/core-host.js', 'electron/preload.cjs', 'src/api/node/job-worker.js', 'src/inference/node/worker.js', 'src/registry/node/smoke-child.js', 'models/demo/weather-2015.csv']) {
    assert.ok(fs.existsSync(path.join(out, must)), must);
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(out, 'package.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(pkg.type, 'module');
  assert.deepEqual(pkg.bin, { outpost: 'bin/outpost.js' });
  assert.equal(pkg.main, 'electron/main.js');
  const map = JSON.parse(fs.readFileSync(path.join(out, 'src/cli/main.js.map'), 'utf8')) as { sources: string[]; sourcesContent: string[] };
  assert.deepEqual(map.sources.map((s) => path.basename(s)), ['main.ts'], 'the map points at the TypeScript source');
  assert.ok(map.sourcesContent[0].includes('export async function main'));
});

test('outpost demo runs from the build with type stripping off', async () => {
  const home = path.join(root, 'demo-home');
  const r = await run(process.execPath, ['--no-experimental-strip-types', path.join(out, 'bin/outpost.js'), '--home', home, 'demo']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Scored 365 of 365 rows with seattle-weather@1/);
  assert.match(r.stdout, /pulled seattle-weather@1: TUF metadata, hashes, model safety, card and smoke inference verified/);
});

test(`the CLI test files ${CLI_TESTS_ON_BUILD.join(', ')} pass against the built CLI`, async () => {
  const files = CLI_TESTS_ON_BUILD.map((t) => `test/${t}.test.ts`);
  const r = await run(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { OUTPOST_CLI: path.join(out, 'bin/outpost.js') });
  assert.equal(r.code, 0, `CLI tests against the build failed:\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /ℹ fail 0/);
  const passed = Number(/ℹ pass (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(passed >= 15, `${passed} tests passed`);
});

test('the build refuses code that would still load TypeScript, and a full build without the UI', async () => {
  assert.equal(rewriteSpecifiers(`import a from './a.ts'; import("../b/c.ts"); new URL('./w.ts', u); x('vite.config.ts')`),
    `import a from './a.js'; import("../b/c.js"); new URL('./w.js', u); x('vite.config.ts')`);
  const fake = path.join(root, 'fake');
  fs.mkdirSync(path.join(fake, 'src'), { recursive: true });
  fs.cpSync(path.join(REPO, 'bin'), path.join(fake, 'bin'), { recursive: true });
  fs.cpSync(path.join(REPO, 'electron'), path.join(fake, 'electron'), { recursive: true });
  fs.cpSync(path.join(REPO, 'models/demo'), path.join(fake, 'models/demo'), { recursive: true });
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(fake, 'package.json'));
  fs.writeFileSync(path.join(fake, 'src', 'bad.ts'), `export const w = new URL('worker.ts', import.meta.url);\n`);
  await assert.rejects(build({ out: path.join(root, 'fake-out'), cliOnly: true, repo: fake }), /built code still loads TypeScript:\n {2}src\/bad\.js: worker\.ts/);
  await assert.rejects(build({ out: path.join(root, 'fake-out'), repo: fake }), /the UI is not built .*npm run build:renderer/);
});
