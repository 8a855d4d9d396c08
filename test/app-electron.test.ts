// The desktop shell's security logic, without Electron: URL/protocol policy, the IPC handlers'
// sender checks and argument validation (nothing invalid or untrusted reaches the core), and the
// preload exposing exactly the bridge.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { IPC } from '../src/api/common/contract.ts';
import type { CallOutcome } from '../src/api/common/dispatch.ts';
import { openAppLog } from '../electron/app-log.ts';
import { updateOnQuit } from '../electron/update-on-quit.ts';
import { registerIpc, type CoreBackend } from '../electron/ipc.ts';
import { APP_CSP, homeFromArgv, isAppUrl, isTrustedSender, navigationAllowed, profileDirFor, resolveAppFile } from '../electron/policy.ts';
import { APP_FRAME, FakeIpcMain } from './helpers/app-harness.ts';

test('only app://outpost URLs are the app', () => {
  for (const u of ['app://outpost/index.html', 'app://outpost/', 'app://outpost/index.html#/jobs/x']) assert.equal(isAppUrl(u), true, u);
  for (const u of ['https://outpost/', 'app://evil/index.html', 'app://outpost.evil/', 'app://user:pw@outpost/', 'file:///etc/passwd', 'http://127.0.0.1:8080/', 'javascript:alert(1)', '', 'not a url']) {
    assert.equal(isAppUrl(u), false, u);
    assert.equal(navigationAllowed(u), false, u);
  }
  assert.match(APP_CSP, /default-src 'none'/);
  assert.match(APP_CSP, /script-src 'self' 'wasm-unsafe-eval';/, 'WebAssembly for the what-if explorer');
  assert.doesNotMatch(APP_CSP.replace("'wasm-unsafe-eval'", ''), /unsafe|https?:/);
});

test('app:// requests map into the built renderer only', () => {
  const dist = path.resolve('/srv/outpost/renderer/dist');
  assert.equal(resolveAppFile(dist, 'app://outpost/'), path.join(dist, 'index.html'));
  assert.equal(resolveAppFile(dist, 'app://outpost/assets/index-1.js'), path.join(dist, 'assets', 'index-1.js'));
  // URL parsing may fold dot segments into the path; whatever survives must stay inside dist.
  for (const u of ['app://outpost/..%2f..%2fetc/passwd', 'app://outpost/%2e%2e/%2e%2e/etc/passwd', 'app://outpost/../../etc/passwd', 'app://outpost/assets/..%5c..%5csecret']) {
    const f = resolveAppFile(dist, u);
    assert.ok(f === null || f.startsWith(dist + path.sep), `${u} → ${f}`);
  }
  assert.equal(resolveAppFile(dist, 'app://outpost/..%2f..%2fetc/passwd'), null, 'an encoded separator that climbs out');
  for (const u of ['app://outpost/assets/..%5c..%5csecret', 'app://outpost/%00x', 'app://other/index.html', 'app://outpost/%E0%A4%A']) {
    assert.equal(resolveAppFile(dist, u), null, u);
  }
});

test('trusted senders: the live top-level app frame, nothing else', () => {
  assert.equal(isTrustedSender(APP_FRAME), true);
  assert.equal(isTrustedSender(null), false);
  assert.equal(isTrustedSender({ url: 'https://example.com/', parent: null }), false);
  assert.equal(isTrustedSender({ url: 'app://outpost/index.html', parent: APP_FRAME }), false, 'a subframe, even of app content');
  assert.equal(isTrustedSender({ url: 'app://outpost/index.html', parent: null, detached: true }), false);
});

function spyCore() {
  const calls: { method: string; params: unknown }[] = [];
  const core: CoreBackend = {
    async call(method, params): Promise<CallOutcome> { calls.push({ method, params }); return { ok: true, result: { echoed: params } }; },
    async reveal(jobId, which): Promise<CallOutcome> { calls.push({ method: 'reveal', params: { jobId, which } }); return { ok: true, result: { path: `/out/${jobId}.${which}` } }; },
  };
  return { core, calls };
}

test('IPC handlers refuse untrusted senders before the core sees anything', async () => {
  const ipc = new FakeIpcMain();
  const { core, calls } = spyCore();
  registerIpc(ipc, core);
  for (const frame of [null, { url: 'https://evil.example/', parent: null }, { url: 'app://outpost/index.html', parent: APP_FRAME }]) {
    const r = (await ipc.invoke(IPC.call, frame, 'status', {})) as CallOutcome;
    assert.ok(!r.ok && r.error.code === 'unauthorized', JSON.stringify(frame));
    const v = (await ipc.invoke(IPC.reveal, frame, { jobId: 'j1', which: 'output' })) as CallOutcome;
    assert.ok(!v.ok && v.error.code === 'unauthorized');
  }
  assert.equal(calls.length, 0);
});

test('IPC handlers validate arguments with the contract before passing them on', async () => {
  const ipc = new FakeIpcMain();
  const { core, calls } = spyCore();
  const shown: string[] = [];
  registerIpc(ipc, core, { showItem: (f) => shown.push(f) });
  const bad: [unknown, unknown][] = [
    ['nope', {}], [42, {}], ['__proto__', {}], ['constructor', {}], ['jobs.get', { jobId: '../x' }], ['jobs.get', {}], ['jobs.list', { limit: 1e9 }],
    ['models.add', { path: '/x' }], ['settings.update', { patch: { provider: 'quantum' } }], ['status', { extra: 1 }],
  ];
  for (const [method, params] of bad) {
    const r = (await ipc.invoke(IPC.call, APP_FRAME, method, params)) as CallOutcome;
    assert.ok(!r.ok && r.error.code === 'usage', `${String(method)} ${JSON.stringify(params)} → ${JSON.stringify(r)}`);
  }
  for (const raw of [{ jobId: 'j1', which: 'passwd' }, { jobId: '/etc', which: 'output' }, 'j1', null]) {
    const r = (await ipc.invoke(IPC.reveal, APP_FRAME, raw)) as CallOutcome;
    assert.ok(!r.ok && r.error.code === 'usage', JSON.stringify(raw));
  }
  assert.equal(calls.length, 0, 'nothing invalid reached the core');
  assert.deepEqual(shown, []);

  const good = (await ipc.invoke(IPC.call, APP_FRAME, 'jobs.list', {})) as CallOutcome;
  assert.deepEqual(good, { ok: true, result: { echoed: { limit: 50 } } }, 'defaults filled in by the schema');
  const rev = (await ipc.invoke(IPC.reveal, APP_FRAME, { jobId: 'j1', which: 'output' })) as CallOutcome;
  assert.equal(rev.ok, true);
  assert.deepEqual(shown, ['/out/j1.output']);
});

test('the preload exposes exactly the bridge, and events without Electron\'s event object', () => {
  const exposed: Record<string, Record<string, (...a: unknown[]) => unknown>> = {};
  const invoked: unknown[][] = [];
  const handlers = new Map<string, (...a: unknown[]) => void>();
  const electron = {
    contextBridge: { exposeInMainWorld: (name: string, api: Record<string, (...a: unknown[]) => unknown>) => { exposed[name] = api; } },
    ipcRenderer: {
      invoke: (...a: unknown[]) => { invoked.push(a); return Promise.resolve(null); },
      on: (ch: string, l: (...a: unknown[]) => void) => handlers.set(ch, l),
      removeListener: (ch: string, l: unknown) => { if (handlers.get(ch) === l) handlers.delete(ch); },
    },
    webUtils: { getPathForFile: (f: { p: string }) => f.p },
  };
  const code = fs.readFileSync(new URL('../electron/preload.cjs', import.meta.url), 'utf8');
  new Function('require', code)((m: string) => { if (m !== 'electron') throw new Error(`preload required ${m}`); return electron; });
  const api = exposed.outpost;
  assert.deepEqual(Object.keys(api).sort(), ['call', 'onEvent', 'pathForFile', 'reveal']);
  assert.ok(Object.isFrozen(api));
  void api.call('status', {});
  void api.reveal('j1', 'output');
  assert.deepEqual(invoked, [[IPC.call, 'status', {}], [IPC.reveal, { jobId: 'j1', which: 'output' }]]);
  const got: unknown[] = [];
  const off = api.onEvent((e: unknown) => got.push(e)) as () => void;
  handlers.get(IPC.event)!({ sender: 'secret ipcRenderer' }, { type: 'job-progress' });
  assert.deepEqual(got, [{ type: 'job-progress' }]);
  off();
  assert.equal(handlers.has(IPC.event), false, 'unsubscribe removes the listener');
  assert.equal(api.pathForFile({ p: '/data/a.csv' }), '/data/a.csv');
});

test('the app\'s data folder: --home DIR / --home=DIR anywhere in argv, else OUTPOST_HOME, else the OS default', () => {
  const env = { OUTPOST_HOME: '/srv/env-home', XDG_DATA_HOME: '/x' };
  assert.equal(homeFromArgv(['out', '--remote-debugging-port=0', '--home', '/data/a'], env), '/data/a');
  assert.equal(homeFromArgv(['--home=/data/b', 'out'], env), '/data/b');
  assert.equal(homeFromArgv(['out'], env), '/srv/env-home');
  if (process.platform === 'linux') assert.equal(homeFromArgv(['out'], { XDG_DATA_HOME: '/x' }), '/x/outpost');
  assert.equal(homeFromArgv(['--home', 'rel'], {}), path.resolve('rel'));
  assert.throws(() => homeFromArgv(['out', '--home'], env), /--home needs a folder/);
  assert.throws(() => homeFromArgv(['--home', '--inspect'], env), /--home needs a folder/);
  assert.throws(() => homeFromArgv(['--home='], env), /--home needs a folder/);
});

test('Chromium\'s profile (and so the single-instance lock) is one per data folder, outside it', () => {
  const a = profileDirFor('/cfg', '/data/a');
  assert.equal(a, profileDirFor('/cfg', '/data/a/'));
  assert.notEqual(a, profileDirFor('/cfg', '/data/b'));
  assert.match(a, /^\/cfg\/Outpost\/profiles\/[0-9a-f]{16}$/);
  assert.ok(!a.startsWith('/data/a'));
});

test('the app log: <data folder>/logs/app.log, owner-only, appended, one older generation kept', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-applog-'));
  try {
    const log = openAppLog(home, 64);
    log.line('first start');
    log.write(Buffer.from('core says hello\n'));
    log.close();
    log.write('after close is ignored\n');
    const file = path.join(home, 'logs', 'app.log');
    assert.equal(log.file, file);
    assert.match(fs.readFileSync(file, 'utf8'), /^\d{4}-\d\d-\d\dT[\d:.]+Z first start\ncore says hello\n$/);
    if (process.platform !== 'win32') {
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    }
    const again = openAppLog(home, 64); // still under 64 bytes: appended
    again.line('second start');
    again.write('x'.repeat(100));
    again.close();
    assert.match(fs.readFileSync(file, 'utf8'), /first start[\s\S]*second start/);
    const third = openAppLog(home, 64); // over the limit: rotated
    third.line('third start');
    third.close();
    assert.match(fs.readFileSync(`${file}.1`, 'utf8'), /second start/);
    assert.match(fs.readFileSync(file, 'utf8'), /^\S+ third start\n$/);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('quit hook: an update marked "install on restart" is applied (real files) before the app exits; otherwise the quit goes on', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-quit-'));
  try {
    const home = path.join(dir, 'home');
    const appImage = path.join(dir, 'Outpost.AppImage');
    const script = (v: string) => Buffer.from(`#!/bin/sh\necho "outpost ${v}"\n`);
    fs.writeFileSync(appImage, script('1.0.0'), { mode: 0o755 });
    const file = 'Outpost-2.0.0-linux-x86_64.AppImage';
    const staged = path.join(home, 'updates', '3', file);
    fs.mkdirSync(path.dirname(staged), { recursive: true });
    const bytes = script('2.0.0');
    fs.writeFileSync(staged, bytes, { mode: 0o700 });
    const pending = { app: 'outpost', platform: 'linux-x64', release: 3, version: '2.0.0', file, hub: 'http://127.0.0.1:1', installer: staged, sha256: crypto.createHash('sha256').update(bytes).digest('hex'), length: bytes.length, stagedAt: 'x' };
    const pendingFile = path.join(home, 'updates', 'pending.json');
    const run = (pend: object | string | undefined) => {
      if (pend === undefined) fs.rmSync(pendingFile, { force: true });
      else fs.writeFileSync(pendingFile, typeof pend === 'string' ? pend : JSON.stringify(pend));
      const seen = { lines: [] as string[], stopped: 0, prevented: 0, exited: undefined as number | undefined };
      const hook = updateOnQuit({ home, version: '1.0.0', log: { line: (l) => seen.lines.push(l) }, stopCore: () => seen.stopped++, exit: (c) => { seen.exited = c; }, env: { APPIMAGE: appImage } });
      hook.onWillQuit({ preventDefault: () => seen.prevented++ });
      return { seen, hook };
    };
    const unmarked = run(pending);
    assert.deepEqual(unmarked.seen, { lines: [], stopped: 1, prevented: 0, exited: undefined }, 'not marked: the quit goes on');
    const broken = run('{');
    assert.equal(broken.seen.prevented, 0);
    assert.match(broken.seen.lines.join(), /staged update not usable: .*pending\.json is not JSON/);

    const marked = run({ ...pending, installOnRestart: true });
    assert.equal(marked.seen.prevented, 1, 'the quit waits for the install');
    marked.hook.onWillQuit({ preventDefault: () => marked.seen.prevented++ }); // a second will-quit does not start a second install
    await marked.hook.done();
    assert.equal(marked.seen.exited, 0);
    assert.equal(marked.seen.stopped, 2, 'the core is stopped first');
    assert.equal(execFileSync(appImage, { encoding: 'utf8' }).trim(), 'outpost 2.0.0');
    assert.equal(execFileSync(`${appImage}.old`, { encoding: 'utf8' }).trim(), 'outpost 1.0.0');
    assert.deepEqual(marked.seen.lines, ['installing Outpost 2.0.0 (release 3) before quitting', `installed Outpost 2.0.0: replaces ${fs.realpathSync(appImage)} (the current one is kept as ${fs.realpathSync(appImage)}.old)`]);
    assert.equal(fs.existsSync(pendingFile), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
