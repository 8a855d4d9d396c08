// `outpost models activate | rollback | remove` through the CLI entry point: rollback follows the
// recorded history (twice = two steps back, never forward), activate picks any installed version
// (refusing modified files), remove refuses the active version unless --force, removes files and
// records and keeps the prediction log.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { activationStack, rollbackTarget } from '../src/store/common/activation-history.ts';
import { countPredictions } from '../src/store/node/predictions.ts';
import { openStore } from '../src/store/node/store.ts';
import { lastJson, runMain as cli } from './helpers/cli.ts';
import { tempDir, tinyCard, writePackage } from './helpers/packages.ts';

const root = tempDir('outpost-models-manage-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

async function homeWith(versions: number[]): Promise<string> {
  const home = fs.mkdtempSync(path.join(root, 'home-'));
  for (const v of versions) {
    const pkg = writePackage(path.join(home, `pkg${v}`), tinyCard({ version: v }));
    const r = await cli(['--home', home, 'models', 'add', pkg, '--allow-unsigned']);
    assert.equal(r.code, 0, r.err);
  }
  return home;
}

const active = async (home: string): Promise<number | undefined> => {
  const r = await cli(['--home', home, 'models', 'list', '--json']);
  return (lastJson(r.out) as { models: { version: number; active: boolean }[] }).models.find((m) => m.active)?.version;
};

test('activation history: a stack where activating moves a version to the top and rollback pops', () => {
  const ev = (kind: string, version: number, detail = 'install') => ({ kind, version, detail });
  assert.deepEqual(activationStack([ev('activate', 1), ev('activate', 2), ev('activate', 3)]), [1, 2, 3]);
  assert.deepEqual(activationStack([ev('activate', 1), ev('activate', 2), ev('activate', 1, 'rollback from 2')]), [1]);
  assert.deepEqual(activationStack([ev('activate', 1), ev('activate', 2), ev('activate', 1, 'user'), ev('activate', 2, 'user')]), [1, 2]);
  assert.deepEqual(activationStack([ev('activate', 1), ev('activate', 2), ev('activate', 3), ev('remove', 2)]), [1, 3]);
  assert.equal(rollbackTarget([ev('activate', 1), ev('activate', 2), ev('activate', 3)], 3, new Set([1, 3])), 1, 'skips a version no longer installed');
  assert.equal(rollbackTarget([ev('activate', 1)], 1, new Set([1, 2])), undefined);
});

test('rollback twice goes two versions back, never toggles forward; a third has nowhere to go', async () => {
  const home = await homeWith([1, 2, 3]);
  assert.equal(await active(home), 3);
  const r1 = await cli(['--home', home, 'models', 'rollback', 'tiny']);
  assert.equal(r1.code, 0, r1.err);
  assert.match(r1.out, /tiny@2 is active again \(was tiny@3\)/);
  const r2 = await cli(['--home', home, 'models', 'rollback', 'tiny', '--json']);
  assert.equal(r2.code, 0, r2.err);
  assert.deepEqual(lastJson(r2.out), { ok: true, name: 'tiny', version: 1, previous: 2 });
  const r3 = await cli(['--home', home, 'models', 'rollback', 'tiny']);
  assert.equal(r3.code, 1);
  assert.match(r3.err, /tiny@1 has no earlier active version in its recorded history to roll back to \(installed: 2, 3; pick one with `outpost models activate tiny@<version>`\)/);
  assert.equal(await active(home), 1);
});

test('activate picks any installed version (recorded; rollback returns); refuses unknown, unversioned and modified ones', async () => {
  const home = await homeWith([1, 2, 3]);
  const a = await cli(['--home', home, 'models', 'activate', 'tiny@1']);
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /tiny@1 is active \(was tiny@3; `outpost models rollback tiny` goes back\)/);
  assert.equal(await active(home), 1);
  assert.equal((await cli(['--home', home, 'models', 'rollback', 'tiny'])).code, 0);
  assert.equal(await active(home), 3, 'rollback after activate returns to the version before it');
  assert.equal((await cli(['--home', home, 'models', 'rollback', 'tiny'])).code, 0);
  assert.equal(await active(home), 2);

  const missing = await cli(['--home', home, 'models', 'activate', 'tiny@9']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /tiny@9 is not installed \(installed versions: 1, 2, 3\)/);
  const bare = await cli(['--home', home, 'models', 'activate', 'tiny']);
  assert.equal(bare.code, 2);
  assert.match(bare.err, /which version\? outpost models activate tiny@<version>/);

  fs.appendFileSync(path.join(home, 'models', 'tiny', '1', 'model.onnx'), Buffer.from([0]));
  const modified = await cli(['--home', home, 'models', 'activate', 'tiny@1']);
  assert.equal(modified.code, 1);
  assert.match(modified.err, /do not match what was verified at install.*outpost pull tiny@1 --repair/);
  assert.equal(await active(home), 2);
});

test('remove: refuses the active version without --force; removes files and records, keeps the prediction log', async () => {
  const home = await homeWith([1, 2]);
  // a scored job with version 2 puts predictions in the log
  const csv = path.join(root, 'tiny.csv');
  fs.writeFileSync(csv, 'a,b,colour\n1,2,red\n3,,green\n');
  const s = await cli(['--home', home, 'score', csv, '--model', 'tiny@2', '--out', path.join(root, 'tiny.out.csv'), '--json']);
  assert.equal(s.code, 0, s.err);
  const jobId = (lastJson(s.out) as { job: { id: string } }).job.id;

  const refused = await cli(['--home', home, 'models', 'remove', 'tiny@2']);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /tiny@2 is the active version; activate another first .*`outpost models rollback tiny` to go back to 1.* or pass --force \(then tiny@1 becomes active\)/);
  assert.ok(fs.existsSync(path.join(home, 'models', 'tiny', '2', 'model.onnx')));
  const bare = await cli(['--home', home, 'models', 'remove', 'tiny']);
  assert.equal(bare.code, 2);

  const forced = await cli(['--home', home, 'models', 'remove', 'tiny@2', '--force', '--json']);
  assert.equal(forced.code, 0, forced.err);
  assert.deepEqual(lastJson(forced.out), { ok: true, name: 'tiny', version: 2, wasActive: true, nowActive: 1, predictionsKept: 2, jobs: [jobId] });
  assert.equal(fs.existsSync(path.join(home, 'models', 'tiny', '2')), false);
  assert.deepEqual(fs.readdirSync(path.join(home, 'models')).filter((n) => n.startsWith('.')), [], 'no temp folders left');
  assert.equal(await active(home), 1);
  const store = openStore(home);
  try {
    assert.equal(countPredictions(store, { model: 'tiny', version: 2 }), 2, 'the prediction log keeps what version 2 scored');
    const ev = store.db.prepare("SELECT kind, detail FROM model_events WHERE name = 'tiny' AND version = 2 ORDER BY id DESC LIMIT 1").get() as { kind: string; detail: string };
    assert.equal(ev.kind, 'remove');
  } finally {
    store.close();
  }
  const again = await cli(['--home', home, 'models', 'remove', 'tiny@2']);
  assert.equal(again.code, 1);
  assert.match(again.err, /tiny@2 is not installed/);
  // the last version, inactive after another is removed, goes without --force only when not active
  const last = await cli(['--home', home, 'models', 'remove', 'tiny@1', '--force']);
  assert.equal(last.code, 0, last.err);
  assert.match(last.out, /no version of tiny is active now/);
  assert.equal(fs.existsSync(path.join(home, 'models', 'tiny')), false);
  const reinstall = await cli(['--home', home, 'models', 'add', path.join(home, 'pkg2'), '--allow-unsigned']);
  assert.equal(reinstall.code, 0, reinstall.err);
  assert.equal(await active(home), 2, 'a removed version can be installed again');
});
