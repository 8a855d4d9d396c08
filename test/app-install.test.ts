// Installing a staged app update at quit (src/registry/node/app-install.ts), on real files: a fake
// AppImage (a shell script padded to 8 MiB, so the copy takes several chunks) is the running app.
// Applied: the new one runs, the old one is kept as .old. Tampered: refused, nothing replaced,
// recorded. Killed at each step of the apply (a real SIGKILL in a child process): the AppImage path
// always holds a complete, runnable old or new app, and the next apply finishes the job. A failed
// check after the swap rolls back. deb, NSIS and dmg as plans.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { applyOnQuit, applyPending, installPlan, readLastFailure, readLastInstall, readPending, scheduleInstall, stagedState, type ApplyStep } from '../src/registry/node/app-install.ts';
import type { PendingUpdate } from '../src/registry/node/app-update.ts';
import { openStore } from '../src/store/node/store.ts';
import { tempDir } from './helpers/packages.ts';

const work = tempDir('outpost-appinstall-');
after(() => fs.rmSync(work, { recursive: true, force: true }));
const CHILD = path.join(import.meta.dirname, 'helpers', 'app-install-child.ts');
const PAD = 8 * 1024 * 1024;

/** A runnable stand-in for an AppImage: prints its version, then 8 MiB the shell never reads. */
function appImageBytes(version: string): Buffer {
  return Buffer.concat([Buffer.from(`#!/bin/sh\necho "outpost ${version}"\nexit 0\n`), crypto.randomBytes(PAD)]);
}
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const runs = (file: string) => execFileSync(file, { encoding: 'utf8' }).trim();

let n = 0;
/** A workstation: a data folder, the running AppImage (1.0.0) and a staged 2.0.0 as `outpost app update` leaves it. */
function setup(file = 'Outpost-2.0.0-linux-x86_64.AppImage', version = '2.0.0') {
  const dir = path.join(work, `ws${++n}`);
  const home = path.join(dir, 'home');
  const apps = path.join(dir, 'Applications');
  fs.mkdirSync(apps, { recursive: true });
  const appImage = path.join(apps, 'Outpost.AppImage');
  const old = appImageBytes('1.0.0');
  fs.writeFileSync(appImage, old, { mode: 0o755 });
  const neu = appImageBytes(version);
  const staged = path.join(home, 'updates', '7', file);
  fs.mkdirSync(path.dirname(staged), { recursive: true });
  fs.writeFileSync(staged, neu, { mode: 0o700 });
  const pending: PendingUpdate = { app: 'outpost', platform: 'linux-x64', release: 7, version, file, hub: 'http://127.0.0.1:1', installer: staged, sha256: sha(neu), length: neu.length, stagedAt: new Date().toISOString() };
  fs.writeFileSync(path.join(home, 'updates', 'pending.json'), JSON.stringify(pending));
  return { home, appImage, staged, old, neu, env: { APPIMAGE: appImage } };
}
const leftovers = (dir: string) => fs.readdirSync(dir).filter((f) => f.includes('.outpost-update-'));
const events = (home: string) => {
  const s = openStore(home);
  try { return (s.db.prepare('SELECT kind, detail FROM security_events ORDER BY id').all() as { kind: string; detail: string }[]); } finally { s.close(); }
};

test('applied: the staged AppImage replaces the running one (old kept as .old); the next start has nothing left to do', async () => {
  const w = setup();
  const plan = installPlan(readPending(w.home)!, w.env);
  assert.deepEqual(plan, { kind: 'appimage', installer: w.staged, target: w.appImage, backup: `${w.appImage}.old`, summary: `replaces ${w.appImage} (the current one is kept as ${w.appImage}.old)` });
  assert.deepEqual(await applyPending({ home: w.home, currentVersion: '1.0.0', env: w.env }), { state: 'nothing', reason: '2.0.0 is staged but "install on restart" was not chosen' });
  assert.equal(runs(w.appImage), 'outpost 1.0.0');

  assert.equal((await scheduleInstall(w.home, true, w.env)).installOnRestart, true);
  const steps: ApplyStep[] = [];
  const r = await applyPending({ home: w.home, currentVersion: '1.0.0', env: w.env, onStep: (s) => { if (steps.at(-1) !== s) steps.push(s); } });
  assert.equal(r.state, 'installed');
  assert.deepEqual(steps, ['verify', 'copy', 'copied', 'backup', 'swap', 'check', 'done']);
  assert.equal(runs(w.appImage), 'outpost 2.0.0');
  assert.ok(fs.readFileSync(w.appImage).equals(w.neu));
  assert.equal(fs.statSync(w.appImage).mode & 0o777, 0o755, 'the AppImage keeps its mode');
  assert.equal(runs(`${w.appImage}.old`), 'outpost 1.0.0', 'the previous version is kept, runnable');
  assert.equal(fs.existsSync(path.join(w.home, 'updates', 'pending.json')), false);
  assert.equal(fs.existsSync(path.dirname(w.staged)), false, 'the staged copy is removed');
  assert.deepEqual(leftovers(path.dirname(w.appImage)), []);
  assert.deepEqual({ ...readLastInstall(w.home), at: 'x' }, { version: '2.0.0', release: 7, from: '1.0.0', kind: 'appimage', target: w.appImage, backup: `${w.appImage}.old`, at: 'x' });
  assert.deepEqual(await applyPending({ home: w.home, currentVersion: '2.0.0', env: w.env }), { state: 'nothing', reason: 'no update is staged' });
});

test('tampered: a staged file that no longer hashes to the signed sha256 is refused; nothing is replaced; recorded', async () => {
  const w = setup();
  await scheduleInstall(w.home, true, w.env);
  const evil = Buffer.from(w.neu);
  evil[evil.length - 10] ^= 0xff; // same size, one byte changed
  fs.writeFileSync(w.staged, evil);
  assert.deepEqual((await stagedState(readPending(w.home)!)).verified, false);
  await assert.rejects(applyPending({ home: w.home, currentVersion: '1.0.0', env: w.env }), (e: Error) => {
    assert.match(e.message, /^update to 2\.0\.0 refused: the staged installer .*Outpost-2\.0\.0-linux-x86_64\.AppImage does not match what was signed \(sha256 [0-9a-f]{16}…, (\d+) bytes; signed [0-9a-f]{16}…, \1 bytes\); nothing was replaced$/);
    return true;
  });
  assert.ok(fs.readFileSync(w.appImage).equals(w.old), 'the running AppImage is untouched');
  assert.equal(runs(w.appImage), 'outpost 1.0.0');
  assert.equal(fs.existsSync(`${w.appImage}.old`), false, 'no backup made: nothing was swapped');
  assert.deepEqual(leftovers(path.dirname(w.appImage)), []);
  assert.equal(readPending(w.home)!.installOnRestart, false, 'not tried again at every quit');
  assert.deepEqual(events(w.home).map((e) => e.kind), ['app-update-refused:staged']);
  // choosing it again is refused too, and so is a truncated file
  fs.writeFileSync(w.staged, w.neu.subarray(0, 1000));
  await assert.rejects(scheduleInstall(w.home, true, w.env), /not scheduled: the staged installer .* does not match what was signed .*1000 bytes; signed/);
  // applyOnQuit (what the app runs) never throws: it records the failure for Settings → Updates
  fs.writeFileSync(w.staged, evil);
  const r = await applyOnQuit({ home: w.home, currentVersion: '1.0.0', env: w.env, force: true });
  assert.equal(r.state, 'failed');
  assert.match(readLastFailure(w.home)!.message, /refused: the staged installer .* does not match what was signed/);
  assert.ok(fs.readFileSync(w.appImage).equals(w.old));
});

test('the staged file changing while it is copied: the copy is refused before the swap; nothing is replaced', async () => {
  const w = setup();
  let changed = false;
  await assert.rejects(applyPending({
    home: w.home, currentVersion: '1.0.0', env: w.env, force: true,
    onStep(step, d) {
      if (step !== 'copy' || changed || (d?.bytes ?? 0) === 0) return;
      changed = true;
      const fd = fs.openSync(w.staged, 'r+'); // a later chunk, not read yet
      try { fs.writeSync(fd, Buffer.from('X'), 0, 1, w.neu.length - 5); } finally { fs.closeSync(fd); }
    },
  }), /refused: the copy next to .*Outpost\.AppImage does not hash to the signed sha256 .*nothing was replaced/);
  assert.ok(changed);
  assert.ok(fs.readFileSync(w.appImage).equals(w.old));
  assert.deepEqual(leftovers(path.dirname(w.appImage)), [], 'the partial copy is removed');
  assert.equal(fs.existsSync(`${w.appImage}.old`), false);
});

for (const dieAt of ['copy', 'copied', 'backup', 'swap'] as const) {
  test(`killed (SIGKILL) at "${dieAt}": the AppImage is a complete runnable app, and the next apply finishes`, async () => {
    const w = setup();
    await scheduleInstall(w.home, true, w.env);
    const child = spawnSync(process.execPath, [CHILD, w.home, w.appImage, dieAt], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', `the child was killed at ${dieAt}: ${child.stdout}${child.stderr}`);
    const now = fs.readFileSync(w.appImage);
    const swapped = dieAt === 'swap';
    assert.ok(now.equals(swapped ? w.neu : w.old), `after a kill at ${dieAt} the AppImage is the complete ${swapped ? 'new' : 'old'} one`);
    assert.equal(runs(w.appImage), swapped ? 'outpost 2.0.0' : 'outpost 1.0.0');
    if (dieAt === 'copy') {
      const partial = leftovers(path.dirname(w.appImage));
      assert.equal(partial.length, 1, 'the kill left a partial copy beside it');
      const size = fs.statSync(path.join(path.dirname(w.appImage), partial[0])).size;
      assert.ok(size >= 2 * 1024 * 1024 && size < w.neu.length, `partial: ${size} bytes`);
    }
    // the next quit (of the version that runs now) finishes or tidies up
    const r = await applyPending({ home: w.home, currentVersion: swapped ? '2.0.0' : '1.0.0', env: w.env });
    assert.equal(r.state, swapped ? 'nothing' : 'installed');
    assert.equal(runs(w.appImage), 'outpost 2.0.0');
    assert.deepEqual(leftovers(path.dirname(w.appImage)), []);
    assert.equal(fs.existsSync(path.join(w.home, 'updates', 'pending.json')), false);
    assert.equal(runs(`${w.appImage}.old`), 'outpost 1.0.0');
  });
}

test('a failed check after the swap puts the old AppImage back', async () => {
  const w = setup();
  await scheduleInstall(w.home, true, w.env);
  let saw: Buffer | undefined;
  await assert.rejects(applyPending({
    home: w.home, currentVersion: '1.0.0', env: w.env,
    check: async (file) => { saw = fs.readFileSync(file); throw new Error('the new app did not start'); },
  }), /^OutpostError: update to 2\.0\.0 rolled back: the new app did not start; the previous AppImage is back at .*Outpost\.AppImage$/);
  assert.ok(saw?.equals(w.neu), 'the check ran on the new file in place');
  assert.ok(fs.readFileSync(w.appImage).equals(w.old));
  assert.equal(runs(w.appImage), 'outpost 1.0.0');
  assert.equal(readPending(w.home)!.installOnRestart, false);
  assert.deepEqual(leftovers(path.dirname(w.appImage)), []);
});

test('deb: the command is planned (pkexec apt-get in the staged folder), not run; NSIS and dmg are by hand; no AppImage here', async () => {
  const deb = setup('outpost_2.0.0_amd64.deb');
  const plan = installPlan(readPending(deb.home)!, {});
  assert.deepEqual(plan, {
    kind: 'deb', installer: deb.staged, command: ['pkexec', 'apt-get', 'install', '-y', '--no-remove', './outpost_2.0.0_amd64.deb'], cwd: path.dirname(deb.staged),
    summary: `runs pkexec apt-get install -y --no-remove ./outpost_2.0.0_amd64.deb in ${path.dirname(deb.staged)} (asks for an administrator password)`,
  });
  await scheduleInstall(deb.home, true, {});
  const r = await applyPending({ home: deb.home, currentVersion: '1.0.0', env: {}, run: false });
  assert.deepEqual(r, { state: 'planned', plan });
  assert.equal(readPending(deb.home)!.installOnRestart, true, 'planning changes nothing');

  const nsis = setup('Outpost-Setup-2.0.0.exe');
  assert.match(installPlan(readPending(nsis.home)!, {}).summary, /does not apply Windows \(NSIS\) installers itself: run it/);
  const dmg = setup('Outpost-2.0.0.dmg');
  assert.match(installPlan(readPending(dmg.home)!, {}).summary, /does not apply macOS \(dmg\) installers itself/);
  await assert.rejects(scheduleInstall(dmg.home, true, {}), /not scheduled: the app does not apply macOS/);

  const serve = setup();
  const p = installPlan(readPending(serve.home)!, {});
  assert.equal(p.kind, 'manual');
  assert.match(p.summary, /not running from an AppImage here \(\$APPIMAGE is not set\): replace your AppImage with .* by hand/);
});

test('a staged release not newer than the running one is dropped, not applied; a bad pending.json is named', async () => {
  const w = setup();
  await scheduleInstall(w.home, true, w.env);
  assert.deepEqual(await applyPending({ home: w.home, currentVersion: '2.0.0', env: w.env }), { state: 'nothing', reason: 'the staged 2.0.0 is not newer than the running 2.0.0' });
  assert.ok(fs.readFileSync(w.appImage).equals(w.old));
  assert.equal(readPending(w.home), undefined);

  const b = setup();
  const file = path.join(b.home, 'updates', 'pending.json');
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(file, JSON.stringify({ ...doc, sha256: undefined }));
  assert.throws(() => readPending(b.home), new RegExp(`${file.replace(/[.]/g, '\\.')} names no signed sha256`));
  fs.writeFileSync(file, JSON.stringify({ ...doc, installer: '/usr/bin/evil' }));
  assert.throws(() => readPending(b.home), /the installer path "\/usr\/bin\/evil" is not updates\/7\/Outpost-2\.0\.0-linux-x86_64\.AppImage/);
  fs.writeFileSync(file, '{');
  assert.throws(() => readPending(b.home), /pending\.json is not JSON/);
});
