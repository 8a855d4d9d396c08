// The desktop app end to end through Playwright's Electron support, run from the BUILT app (`npm run
// build` into a temp folder: plain JavaScript, as packaged): the hardened window, the preload bridge
// and the core in its utility process, scoring the demo file, one instance per data folder. Runs
// where the Electron binary is installed (ELECTRON_OVERRIDE_DIST_PATH, or electron's own path.txt);
// elsewhere (no binary download here) it skips with the reason.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ElectronApplication, Page } from 'playwright-core';
import { build } from '../../scripts/build.ts';
import { ensureRenderer } from '../../src/api/node/renderer-build.ts';
import { listJobs } from '../../src/store/node/jobs.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore, updateSettings } from '../../src/store/node/store.ts';
import { DEMO_CSV, DEMO_PACKAGE } from '../helpers/app-harness.ts';
import { REPO } from '../helpers/cli.ts';
import { shot } from '../helpers/app-browser.ts';
import { tempDir } from '../helpers/packages.ts';

/**
 * Where the Electron binary is, read the way node_modules/electron/index.js does it, but without
 * calling it: this Electron's require('electron') starts a download when the binary is missing.
 */
function electronBinary(): { path: string } | { skip: string } {
  const pkg = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const pathTxt = path.join(pkg, 'path.txt');
  if (!override && !fs.existsSync(pathTxt)) return { skip: `the Electron binary is not installed (${pathTxt} is missing: its download is disabled here)` };
  const exe = override ? path.join(override, process.platform === 'win32' ? 'electron.exe' : 'electron') : path.join(pkg, 'dist', fs.readFileSync(pathTxt, 'utf8').trim());
  return fs.existsSync(exe) ? { path: exe } : { skip: `the Electron binary is not installed (${exe} is missing)` };
}

const bin = electronBinary();
if ('skip' in bin) console.log(`# skipping the Electron e2e tests: ${bin.skip}`);

describe('the Electron app', { skip: 'skip' in bin ? bin.skip : false }, () => {
  let app: ElectronApplication;
  let win: Page;
  let home: string;
  let files: string;
  let out: string;

  before(async () => {
    await ensureRenderer();
    out = tempDir('outpost-electron-build-');
    await build({ out });
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'), 'dir');
    home = tempDir('outpost-electron-home-');
    files = tempDir('outpost-electron-files-');
    const store = openStore(home);
    installPackage(store, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
    updateSettings(store, { allowedFolders: [files] }); // the app reads files by path only in configured folders
    store.close();
    const { _electron } = await import('playwright-core');
    app = await _electron.launch({ executablePath: (bin as { path: string }).path, args: [out], env: { ...process.env, OUTPOST_HOME: home } });
    win = await app.firstWindow();
    win.setDefaultTimeout(30_000);
  });
  after(async () => {
    await app?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
    if (files) fs.rmSync(files, { recursive: true, force: true });
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  test('the window shows app:// content, sandboxed, with only the bridge exposed', async () => {
    assert.match(win.url(), /^app:\/\/outpost\//);
    assert.equal(await win.evaluate('typeof require'), 'undefined');
    assert.equal(await win.evaluate('typeof process'), 'undefined');
    assert.deepEqual(await win.evaluate('Object.keys(window.outpost).sort()'), ['call', 'onEvent', 'pathForFile', 'reveal']);
    assert.equal(await win.evaluate('window.open("https://example.com") === null'), true, 'window.open is denied');
  });

  test('score the demo file through the bridge and the utility process', async () => {
    const input = path.join(files, 'weather-2015.csv');
    fs.copyFileSync(DEMO_CSV, input);
    await win.evaluate('location.hash = "#/score"');
    await win.getByTestId('path-input').fill(input);
    await win.getByRole('button', { name: 'Use this path' }).click();
    await win.getByTestId('schema-ok').waitFor();
    await win.getByTestId('start').click();
    await win.locator('[data-testid=job-view][data-status=completed]').waitFor();
    assert.equal((await win.getByTestId('stat-read').innerText()).replace(/\D/g, ''), '365');
    await win.getByRole('button', { name: 'Show output in folder' }).waitFor();
    await shot(win, 'electron-score-result');
    const store = openStore(home);
    try {
      const [job] = listJobs(store, 1);
      assert.equal(job.status, 'completed');
      assert.equal(job.rowsRead, 365);
    } finally {
      store.close();
    }
  });

  test('a second instance on the same data folder hands over and exits; the first stays', async () => {
    const exe = (bin as { path: string }).path;
    const second = spawn(exe, [out, '--home', home], { stdio: 'ignore', env: { ...process.env, OUTPOST_HOME: '' } });
    const code = await new Promise<number | null>((resolve) => second.on('exit', (c) => resolve(c)));
    assert.equal(code, 0);
    assert.match(win.url(), /^app:\/\/outpost\//, 'the first window is still there');
  });

  test('--home with no folder is a usage error (exit 2)', async () => {
    const exe = (bin as { path: string }).path;
    const bad = spawn(exe, [out, '--home'], { stdio: 'ignore' });
    assert.equal(await new Promise<number | null>((resolve) => bad.on('exit', (c) => resolve(c))), 2);
  });
});
