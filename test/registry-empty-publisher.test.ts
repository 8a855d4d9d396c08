// A publisher the hub operator has delegated to but who has signed nothing yet has no targets
// metadata on the hub, so the hub's signed snapshot does not list it. A device walking to that role
// must get a clear "nothing published", not a crash inside the TUF client ("Cannot read properties
// of undefined (reading 'length')"), and the other publishers' targets must still be found.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { lastJson, runMain } from './helpers/cli.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';

let h: TestHub;
const work = tmpDir('outpost-emptypub-');
const home = path.join(work, 'workstation');
before(async () => { h = await startTestHub({ publishers: [{ name: 'outpost-app', glob: 'outpost-app-*' }, { name: 'churn-team', glob: 'churn*' }] }); });
after(async () => { await h.close(); fs.rmSync(work, { recursive: true, force: true }); });

const snapshotRoles = async (): Promise<string[]> => {
  const res = await fetch(`${h.url}/metadata/snapshot.json`);
  assert.equal(res.status, 200);
  return Object.keys(((await res.json()) as { signed: { meta: Record<string, unknown> } }).signed.meta).sort();
};
const appCheck = () => runMain(['app', 'update', '--hub', h.url, '--platform', 'linux-x64', '--home', home, '--json', '--root', h.trustRoot, '--check']);

test('nothing published by any delegated publisher: app update --check says none, a pull says not published', async () => {
  assert.deepEqual(await snapshotRoles(), ['targets.json'], 'precondition: no delegated role is signed yet');
  const app = await appCheck();
  assert.equal(app.code, 0, app.err);
  assert.deepEqual(lastJson(app.out), { ok: true, state: 'none', hub: h.url, platform: 'linux-x64', current: lastJson(app.out).current });
  const text = await runMain(['app', 'update', '--hub', h.url, '--platform', 'linux-x64', '--home', home, '--check']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /has no signed Outpost release for linux-x64/);

  const pull = await runMain(['pull', 'churn', '--hub', h.url, '--home', home]);
  assert.equal(pull.code, 1, pull.out);
  assert.match(pull.err, /no versions of "churn" are published on this hub/);
  assert.doesNotMatch(pull.err, /undefined|reading 'length'/);
});

test('one publisher has published, the other not: both walks answer, the published model pulls', async () => {
  const pub = await runMain(['publish', makePackage(work, 'churn', 1), '--hub', h.url, '--key', h.publishers['churn-team'].key.file, '--home', path.join(work, 'publisher'), '--json'],
    { env: { OUTPOST_PUBLISH_TOKEN: h.publishers['churn-team'].token } });
  assert.equal(pub.code, 0, pub.err);
  const roles = await snapshotRoles();
  assert.ok(roles.includes('churn-team.json') && !roles.includes('outpost-app.json'), roles.join(', '));

  const app = await appCheck();
  assert.equal(app.code, 0, app.err);
  assert.equal(lastJson(app.out).state, 'none');
  const pull = await runMain(['pull', 'churn', '--hub', h.url, '--home', home, '--json']);
  assert.equal(pull.code, 0, pull.err);
  assert.equal(lastJson(pull.out).version, 1);
  const missing = await runMain(['pull', 'churn-other', '--hub', h.url, '--home', home]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no versions of "churn-other" are published on this hub/);
});
