// Staged rollout end to end on loopback (issue 9): a real hub (SQLite, and PostgreSQL when its
// server binaries exist) with published, signed
// versions of `churn`, three workstations enrolled in two groups, real syncs and real verified
// pulls (smoke inference included). The hub only names what to run; every install goes through
// TUF, so a tampered blob is refused by each device, which reports the stage, and the hub's
// status shows it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createEnrollment } from '../src/hub/node/devices.ts';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { createRollout, listRollouts, rolloutStatus } from '../src/hub/node/rollouts.ts';
import { acquirePullLock } from '../src/registry/node/pull-lock.ts';
import { listModels } from '../src/store/node/models.ts';
import { enqueue } from '../src/store/node/outbox.ts';
import { updateSettings } from '../src/store/node/store.ts';
import { hubConnection } from '../src/store/node/sync-state.ts';
import { signRequest, deviceKey } from '../src/sync/node/device.ts';
import { ASSIGNMENTS_PATH, listAssignments } from '../src/sync/node/rollout.ts';
import { runSync } from '../src/sync/node/sync.ts';
import { runMain } from './helpers/cli.ts';
import { hubBackends } from './helpers/hub-backends.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { stopPostgres } from './helpers/postgres.ts';
import { enrollWorkstation, type Workstation } from './helpers/sync-fleet.ts';

after(() => stopPostgres());

for (const backend of hubBackends()) {
  describe(`staged rollout on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestHub;
    let dir: string;
    const ws: Record<string, Workstation> = {};

    async function publish(version: number, alias?: string) {
      const p = t.publishers['churn-team'];
      return publishPackage({ packageDir: makePackage(dir, 'churn', version, { weights: [version, -version] }), hubUrl: t.url, keys: [p.key], token: p.token, alias, checks: 'none' });
    }

    const churn = (w: Workstation) => listModels(w.store).filter((m) => m.name === 'churn').map((m) => `${m.version}${m.active ? '*' : ''}`).join(',');
    const sync = (w: Workstation) => runSync(w.store, { refreshMetadata: false });
    const admin = async (method: string, p: string, body?: unknown, token: string | null = t.adminToken) => {
      const res = await fetch(`${t.url}${p}`, {
        method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      });
      return { status: res.status, body: await res.json() as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const reports = async (rollout: string) => (await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_rollout_reports WHERE rollout_id = ?', [rollout]))[0].n;

    before(async () => {
      t = await startTestHub({ db: await backend.db() });
      dir = tmpDir('outpost-rollout-');
      for (const [name, group] of [['ws-a', 'line-1'], ['ws-b', 'line-1'], ['ws-c', 'line-2']] as const) ws[name] = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, name, group);
      await publish(1, 'production');
    });
    after(async () => {
      for (const w of Object.values(ws)) w.store.close();
      await t.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    let first: string;

    test('a rollout to one group reaches exactly its devices, through the verified pull, and the hub counts them', async () => {
      const r = await runMain(['--json', 'hub', 'rollout', 'churn:production', '--group', 'line-1', '--dir', t.dir]);
      assert.equal(r.code, 0, r.err);
      const created = JSON.parse(r.out.trim().split('\n').at(-1)!) as { rollout: { id: string; targetVersion: number; counts: { devices: number; pending: number } } };
      first = created.rollout.id;
      assert.equal(created.rollout.targetVersion, 1);
      assert.deepEqual([created.rollout.counts.devices, created.rollout.counts.pending], [2, 2]);

      for (const w of Object.values(ws)) {
        const s = await sync(w);
        assert.equal(s.rollouts.checked, true, s.rollouts.error);
      }
      assert.equal(churn(ws['ws-a']), '1*');
      assert.equal(churn(ws['ws-b']), '1*');
      assert.equal(churn(ws['ws-c']), '', 'the other group got nothing');
      const installed = listModels(ws['ws-a'].store).find((m) => m.name === 'churn')!;
      assert.equal(installed.source, 'hub');
      assert.match(installed.signedBy ?? '', /churn-team/, 'installed through the signed pull');

      // the admin API shows the progress per device (same function as the CLI)
      const st = await admin('GET', `/api/v1/rollouts/${first}`);
      assert.equal(st.status, 200);
      assert.deepEqual(st.body.rollout.counts, { groupDevices: 2, devices: 2, running: 2, failed: 0, available: 0, pending: 0, stopped: 0, unaffected: 0 });
      assert.deepEqual(st.body.devices.map((d: { device: string; state: string; reportedVersion: number; previousVersion: number | null }) => [d.device, d.state, d.reportedVersion, d.previousVersion]),
        [['ws-a', 'running', 1, null], ['ws-b', 'running', 1, null]]);

      // reported exactly once: another sync adds no report and installs nothing again
      const before = await reports(first);
      const again = await sync(ws['ws-a']);
      assert.deepEqual(again.rollouts.handled, []);
      assert.equal(await reports(first), before);
      const [dev] = await t.hub.storage.fleet.all<{ id: string }>('SELECT id FROM fleet_devices WHERE name = ?', ['ws-a']);
      const items = await t.hub.storage.fleet.all<{ n: number }>("SELECT count(*) AS n FROM fleet_items WHERE device_id = ? AND kind = 'rollout'", [dev.id]);
      assert.equal(Number(items[0].n), 1, 'one rollout report item from ws-a');
    });

    test('a tampered blob: each device refuses at verify, keeps its version, reports the stage; the hub status shows why', async () => {
      await publish(2, 'production');
      const v2 = (await t.hub.storage.modelVersions('churn')).find((v) => Number(v.version) === 2)!;
      const blob = t.hub.blobs.path(v2.modelSha256);
      const good = fs.readFileSync(blob);
      const bad = Buffer.from(good);
      bad[bad.length - 5] ^= 0xff; // same length, other bytes
      fs.chmodSync(blob, 0o600);
      fs.writeFileSync(blob, bad);
      try {
        const ro = await createRollout(t.hub, { ref: 'churn:production', group: 'line-1' });
        assert.equal(ro.targetVersion, 2);
        for (const name of ['ws-a', 'ws-b']) {
          const s = await sync(ws[name]);
          assert.equal(s.rollouts.handled.length, 1);
          assert.equal(s.rollouts.handled[0].state, 'failed');
          assert.equal(s.rollouts.handled[0].stage, 'verify');
          assert.equal(churn(ws[name]), '1*', `${name} keeps churn@1 active`);
          const ev = ws[name].store.db.prepare("SELECT kind FROM security_events WHERE kind LIKE 'pull-refused:%' ORDER BY id DESC").get() as { kind: string };
          assert.equal(ev.kind, 'pull-refused:verify');
        }
        const st = await rolloutStatus(t.hub, ro.id);
        assert.equal(st.rollout.counts.failed, 2);
        for (const d of st.devices) {
          assert.equal(d.state, 'failed');
          assert.equal(d.stage, 'verify');
          assert.match(d.reason ?? '', /not the ones the publisher signed/);
          assert.equal(d.activeVersion, 1, 'the heartbeat says v1 still runs');
        }
        const cli = await runMain(['hub', 'rollout', 'status', ro.id, '--dir', t.dir]);
        assert.equal(cli.code, 0, cli.err);
        assert.match(cli.out, /ws-a\s+failed.*refused at verify/);
        // the superseded first rollout says so
        assert.equal((await rolloutStatus(t.hub, first)).rollout.state, 'superseded');
      } finally {
        fs.writeFileSync(blob, good);
      }
    });

    test('hostile or malformed assignments are refused with a clear reason and reported; nothing is installed', async () => {
      // the CLI refuses what is not published
      const unknown = await runMain(['hub', 'rollout', 'churn-ghost:production', '--group', 'line-2', '--dir', t.dir]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.err, /model "churn-ghost" is not published/);
      const noAlias = await runMain(['hub', 'rollout', 'churn:nightly', '--group', 'line-2', '--dir', t.dir]);
      assert.equal(noAlias.code, 1);
      assert.match(noAlias.err, /alias churn:nightly is not published on this hub \(its aliases: production\)/);
      const usage = await runMain(['hub', 'rollout', 'churn@2', '--group', 'line-2', '--dir', t.dir]);
      assert.equal(usage.code, 2);
      // the reference is what was typed first, and checked first: not "--group is required"
      const noGroup = await runMain(['hub', 'rollout', 'bogus', '--dir', t.dir]);
      assert.equal(noGroup.code, 2);
      assert.doesNotMatch(noGroup.err, /--group/);
      assert.match(noGroup.err, /bogus/);
      // a malformed model filter is bad usage (CLI exit 2, API 400), not "no device matches"
      for (const bad of ['churn@x', 'churn@', 'churn:production']) {
        const list = await runMain(['hub', 'devices', 'list', '--model', bad, '--dir', t.dir]);
        assert.equal(list.code, 2, `${bad}: ${list.err}`);
        assert.match(list.err, /the model filter .* is not <name> or <name>@<version>/);
        const api = await fetch(`${t.url}/api/v1/devices?model=${encodeURIComponent(bad)}`, { headers: { authorization: `Bearer ${t.adminToken}` } });
        assert.equal(api.status, 400, bad);
        await api.arrayBuffer();
      }

      // a hub whose database says otherwise (compromised, or edited by hand): the device still decides
      await publish(3, 'staging');
      const stagingDoc = fs.readdirSync(path.join(t.hub.blobs.root, 'sha256')).map((f) => path.join(t.hub.blobs.root, 'sha256', f))
        .find((f) => fs.statSync(f).size < 4096 && /"alias":\s*"staging"/.test(fs.readFileSync(f, 'utf8')))!;
      const doc = fs.readFileSync(stagingDoc, 'utf8');
      fs.chmodSync(stagingDoc, 0o600);
      fs.writeFileSync(stagingDoc, doc.replace(/"version":\s*3/, '"version":1')); // alias doc that does not verify
      const insert = async (id: string, model: string, alias: string, at: number) => t.hub.storage.fleetTransaction(undefined, (sql) => sql.run(
        'INSERT INTO fleet_rollouts (id, model, alias, grp, percent, seed, state, generation, version_at_create, rollback_to, created_at, updated_at, history) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [id, model, alias, 'line-2', 100, 's', 'active', 1, null, null, at, at, '[]']));
      const halt = (ids: string[]) => t.hub.storage.fleetTransaction(undefined, (sql) => sql.run(`UPDATE fleet_rollouts SET state = 'halted' WHERE id IN (${ids.map(() => '?').join(', ')})`, ids));
      try {
        await insert('ro_ghost000001', 'churn-ghost', 'production', Date.now()); // a model the hub never published
        await insert('ro_staging0001', 'churn', 'staging', Date.now()); // an alias whose signed document was changed
        let s = await sync(ws['ws-c']);
        let by = new Map(s.rollouts.handled.map((h) => [h.rollout, h]));
        assert.equal(by.get('ro_ghost000001')?.state, 'failed');
        assert.equal(by.get('ro_ghost000001')?.stage, 'resolve');
        assert.match(by.get('ro_ghost000001')?.reason ?? '', /churn-ghost/);
        assert.equal(by.get('ro_staging0001')?.state, 'failed');
        assert.equal(by.get('ro_staging0001')?.stage, 'verify');
        assert.equal(churn(ws['ws-c']), '', 'nothing installed');

        await halt(['ro_staging0001']);
        await insert('ro_hostile0001', 'churn', '../../../etc/passwd', Date.now() + 1); // malformed: not an alias name
        s = await sync(ws['ws-c']);
        by = new Map(s.rollouts.handled.map((h) => [h.rollout, h]));
        assert.equal(by.get('ro_hostile0001')?.state, 'failed');
        assert.equal(by.get('ro_hostile0001')?.stage, 'assignment');
        assert.match(by.get('ro_hostile0001')?.reason ?? '', /alias: an alias name/);
        assert.equal(by.has('ro_ghost000001'), false, 'the ghost was refused once and is not tried again');
        assert.equal(churn(ws['ws-c']), '', 'nothing installed');
        const sec = ws['ws-c'].store.db.prepare("SELECT kind FROM security_events WHERE kind = 'rollout-refused'").all();
        assert.equal(sec.length, 1);
        // a device of another group cannot move this rollout's progress with a report of its own
        enqueue(ws['ws-a'].store, 'rollout', { rollout: 'ro_hostile0001', generation: 1, outcome: 'installed', model: 'churn', ref: 'churn:production', version: 1, previousVersion: null, stage: null, reason: null, at: Date.now() });
        await sync(ws['ws-a']);
        const stray = await t.hub.storage.fleet.all("SELECT r.device_id FROM fleet_rollout_reports r JOIN fleet_devices d ON d.id = r.device_id WHERE r.rollout_id = 'ro_hostile0001' AND d.name = 'ws-a'");
        assert.deepEqual(stray, [], 'a report from outside the rollout\'s group is not filed under it');
        // and the hub's status shows each refusal with its stage
        for (const [id, stage] of [['ro_ghost000001', 'resolve'], ['ro_staging0001', 'verify'], ['ro_hostile0001', 'assignment']]) {
          const st = await rolloutStatus(t.hub, id);
          assert.deepEqual(st.devices.map((d) => [d.device, d.state, d.stage]), [['ws-c', 'failed', stage]], id);
        }
      } finally {
        await halt(['ro_ghost000001', 'ro_staging0001', 'ro_hostile0001']);
        fs.writeFileSync(stagingDoc, doc);
      }
    });

    test('the assignments request is signed: unsigned and replayed requests are refused', async () => {
      const unsigned = await fetch(`${t.url}${ASSIGNMENTS_PATH}`);
      assert.equal(unsigned.status, 401);
      const w = ws['ws-c'];
      const headers = signRequest(hubConnection(w.store)!, deviceKey(w.home, false), 'GET', ASSIGNMENTS_PATH, new Uint8Array(0));
      assert.equal((await fetch(`${t.url}${ASSIGNMENTS_PATH}`, { headers })).status, 200);
      const replay = await fetch(`${t.url}${ASSIGNMENTS_PATH}`, { headers });
      assert.equal(replay.status, 401);
      assert.equal(((await replay.json()) as { error: { code: string } }).error.code, 'replay');
    });

    test('admin API: 401 without the token; create, list, halt and rollback answer the CLI\'s shapes', async () => {
      const create = { ref: 'churn:production', group: 'line-2' };
      for (const [m, p, body] of [['GET', '/api/v1/rollouts', undefined], ['POST', '/api/v1/rollouts', create], ['GET', `/api/v1/rollouts/${first}`, undefined], ['POST', `/api/v1/rollouts/${first}/halt`, {}], ['POST', `/api/v1/rollouts/${first}/rollback`, {}]] as const) {
        const r = await admin(m, p, body, null);
        assert.equal(r.status, 401, `${m} ${p}`);
        const wrong = await admin(m, p, body, 'not-the-token');
        assert.equal(wrong.status, 401, `${m} ${p} with a wrong token`);
      }
      assert.equal((await rolloutStatus(t.hub, first)).rollout.state, 'superseded', 'nothing changed');
      const bad = await admin('POST', '/api/v1/rollouts', { ref: 'churn:production', group: 'line-2', percent: 150 });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /^body\/percent must be/, 'the API names its field, not the CLI option');
      const missing = await admin('GET', '/api/v1/rollouts/ro_doesnotexist0');
      assert.equal(missing.status, 404);
      const list = await admin('GET', '/api/v1/rollouts?group=line-1');
      assert.equal(list.status, 200);
      assert.ok(list.body.rollouts.length >= 2);
      assert.ok(list.body.rollouts.every((r: { group: string }) => r.group === 'line-1'));
    });

    test('a group no workstation is in and no enrollment code names is bad usage (CLI exit 2, API 400), unless staged on purpose', async () => {
      const before = (await listRollouts(t.hub)).length;
      const typo = await runMain(['hub', 'rollout', 'churn:production', '--group', 'line-9', '--dir', t.dir]);
      assert.equal(typo.code, 2, typo.err);
      assert.match(typo.err, /no workstation is in group "line-9" and no outstanding enrollment code names it, so the rollout would reach no one \(groups: line-1, line-2\)\. Check --group, or pass --allow-empty-group/);
      const api = await admin('POST', '/api/v1/rollouts', { ref: 'churn:production', group: 'line-9' });
      assert.equal(api.status, 400);
      assert.match(api.body.error.message, /no workstation is in group "line-9".*\(groups: line-1, line-2\)/);
      assert.equal((await listRollouts(t.hub)).length, before, 'nothing started');
      // an outstanding enrollment code makes the group known (staged before its workstation enrolls) …
      await createEnrollment(t.hub, { name: 'ws-staged', group: 'line-9' });
      const staged = await runMain(['hub', 'rollout', 'churn:production', '--group', 'line-9', '--dir', t.dir]);
      assert.equal(staged.code, 0, staged.err);
      assert.match(staged.err, /no workstation is in group "line-9" yet: devices enrolled into it later follow the rollout/);
      // … until it is cancelled; the group then lists nowhere, and only a deliberate start is taken
      assert.equal((await runMain(['hub', 'devices', 'codes', 'cancel', 'ws-staged', '--dir', t.dir])).code, 0);
      assert.equal((await admin('POST', '/api/v1/rollouts', { ref: 'churn:production', group: 'line-9' })).status, 400);
      assert.equal((await admin('POST', '/api/v1/rollouts', { ref: 'churn:production', group: 'line-9', allowEmptyGroup: true })).status, 200);
      const deliberate = await runMain(['hub', 'rollout', 'churn:production', '--group', 'line-10', '--allow-empty-group', '--dir', t.dir]);
      assert.equal(deliberate.code, 0, deliberate.err);
      assert.equal((await listRollouts(t.hub)).length, before + 3);
    });

    test('halt and rollback move devices: a halted rollout reaches no one new, a rollback returns devices to what they ran', async () => {
      const created = await admin('POST', '/api/v1/rollouts', { ref: 'churn:production', group: 'line-1' });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const id = created.body.rollout.id as string;
      await sync(ws['ws-a']);
      assert.equal(churn(ws['ws-a']), '1,2*', 'ws-a installed churn@2');

      const halted = await admin('POST', `/api/v1/rollouts/${id}/halt`);
      assert.equal(halted.body.rollout.state, 'halted');
      const s = await sync(ws['ws-b']);
      assert.deepEqual(s.rollouts.handled, [], 'halted: ws-b gets no assignment');
      assert.equal(churn(ws['ws-b']), '1*');
      let st = await rolloutStatus(t.hub, id);
      // ws-b will not get it: not "pending" but stopped where it is (churn@1)
      assert.deepEqual(st.devices.map((d) => [d.device, d.state, d.activeVersion]), [['ws-a', 'running', 2], ['ws-b', 'stopped', 1]]);
      assert.deepEqual([st.rollout.counts.running, st.rollout.counts.pending, st.rollout.counts.stopped], [1, 0, 1]);
      const shown = await runMain(['hub', 'rollout', 'status', id, '--dir', t.dir]);
      assert.match(shown.out, /running 1 · failed 0 · available 0 · pending 0 · stopped 1/);
      assert.match(shown.out, /ws-b\s+stopped\s+active 1/);

      const rb = await runMain(['--json', 'hub', 'rollout', 'rollback', id, '--dir', t.dir]);
      assert.equal(rb.code, 0, rb.err);
      for (const name of ['ws-a', 'ws-b']) await sync(ws[name]);
      assert.equal(churn(ws['ws-a']), '1*,2', 'ws-a back on churn@1 (its previous version), churn@2 kept installed');
      assert.equal(churn(ws['ws-b']), '1*', 'ws-b never moved');
      st = await rolloutStatus(t.hub, id);
      assert.equal(st.rollout.state, 'rolled-back');
      assert.equal(st.rollout.generation, 2);
      assert.deepEqual(st.devices.map((d) => [d.device, d.state, d.reportedVersion]), [['ws-a', 'running', 1], ['ws-b', 'unaffected', null]]);
      // halting a rolled-back rollout would stop the rollback: refused, nothing changes
      const h2 = await runMain(['hub', 'rollout', 'halt', id, '--dir', t.dir]);
      assert.equal(h2.code, 1, h2.err);
      assert.match(h2.err, /was rolled back: its devices are moving back to the versions they ran before, and a halt would stop that; nothing to halt/);
      const after = await rolloutStatus(t.hub, id);
      assert.equal(after.rollout.state, 'rolled-back');
      assert.equal(after.rollout.generation, 2);
    });

    test('policy ask: the update is offered and recorded, nothing installs until asked; then it installs verified and reports', async () => {
      const w = ws['ws-c'];
      updateSettings(w.store, { rolloutPolicy: 'ask' });
      const ro = await createRollout(t.hub, { ref: 'churn:production', group: 'line-2' });
      const s = await sync(w);
      assert.deepEqual(s.rollouts.handled.map((h) => [h.rollout, h.state, h.ref]), [[ro.id, 'available', 'churn:production']]);
      assert.equal(churn(w), '', 'nothing installed');
      await sync(w);
      assert.deepEqual(listAssignments(w.store, ['available']).map((a) => a.rollout), [ro.id], 'still offered, once');
      assert.equal(churn(w), '');
      let st = await rolloutStatus(t.hub, ro.id);
      assert.deepEqual(st.devices.map((d) => [d.device, d.state]), [['ws-c', 'available']]);

      const offered = await runMain(['--home', w.home, 'updates']);
      assert.match(offered.out, new RegExp(`${ro.id} .*UPDATE AVAILABLE: churn:production`));
      const done = await runMain(['--home', w.home, '--json', 'updates', 'install', ro.id]);
      assert.equal(done.code, 0, done.err);
      assert.equal((JSON.parse(done.out.trim().split('\n').at(-1)!) as { update: { state: string } }).update.state, 'installed');
      const again = await runMain(['--home', w.home, 'updates', 'install', ro.id]);
      assert.equal(again.code, 1, 'installed already: nothing to install');
      assert.match(again.err, /is installed; nothing to install/);
      assert.equal(churn(w), '2*', 'what the signed alias points to (churn:production → 2)');
      await sync(w);
      st = await rolloutStatus(t.hub, ro.id);
      assert.deepEqual(st.devices.map((d) => [d.device, d.state, d.reportedVersion]), [['ws-c', 'running', 2]]);
    });

    test('a device that already runs the target is running, not pending, while active, after a halt and after a rollback to that version', async () => {
      const w = ws['ws-c']; // runs churn@2 (installed when asked above); its last heartbeat says so
      const ro = await createRollout(t.hub, { ref: 'churn:production', group: 'line-2' });
      assert.equal(ro.targetVersion, 2);
      const states = async () => (await rolloutStatus(t.hub, ro.id)).devices.map((d) => [d.device, d.state, d.activeVersion]);
      assert.deepEqual(await states(), [['ws-c', 'running', 2]], 'active: nothing left to move');
      assert.equal((await runMain(['hub', 'rollout', 'halt', ro.id, '--dir', t.dir])).code, 0);
      await sync(w);
      assert.deepEqual(await states(), [['ws-c', 'running', 2]], 'halted: it runs the target and stays there');
      const halted = (await rolloutStatus(t.hub, ro.id)).rollout.counts;
      assert.deepEqual([halted.running, halted.pending, halted.stopped], [1, 0, 0]);
      const rb = await runMain(['hub', 'rollout', 'rollback', ro.id, '--to', '2', '--dir', t.dir]);
      assert.equal(rb.code, 0, rb.err);
      assert.deepEqual(await states(), [['ws-c', 'running', 2]], 'rolled back to the version it runs');
      // the rollout it superseded: ws-c installed it then
      const older = (await listRollouts(t.hub, { group: 'line-2' })).find((r) => r.state === 'superseded' && r.counts.running === 1);
      assert.ok(older, 'the superseded policy-ask rollout still counts ws-c as running');
    });

    test('rollouts created in the same millisecond list newest first, in the order they were created', async () => {
      const at = Date.UTC(2031, 0, 1); // later than every other rollout of this hub
      const groups = ['tie-1', 'tie-2', 'tie-3', 'tie-4', 'tie-5', 'tie-6'];
      const ids: string[] = [];
      for (const group of groups) ids.push((await createRollout(t.hub, { ref: 'churn:production', group, allowEmptyGroup: true, now: at })).id);
      const listed = (await listRollouts(t.hub)).filter((r) => r.createdAt === new Date(at).toISOString());
      assert.deepEqual(listed.map((r) => r.id), [...ids].reverse(), 'the latest created first, whatever their random ids');
      const api = await admin('GET', '/api/v1/rollouts');
      assert.deepEqual(api.body.rollouts.slice(0, groups.length).map((r: { id: string }) => r.id), [...ids].reverse(), 'the admin API lists the same order');
    });

    test('a device busy with another pull tries again at the next sync: nothing is reported until it has an outcome', async () => {
      const w = ws['ws-b'];
      const ro = await createRollout(t.hub, { ref: 'churn:staging', group: 'line-1' });
      const release = acquirePullLock(w.home, 'a pull the user started');
      try {
        const s = await sync(w);
        assert.deepEqual(s.rollouts.handled, []);
        assert.equal(s.rollouts.retry.length, 1);
        assert.match(s.rollouts.retry[0].reason, /another pull is running on this device/);
      } finally {
        release();
      }
      assert.equal(await reports(ro.id), 0, 'nothing reported yet');
      const s = await sync(w);
      assert.deepEqual(s.rollouts.handled.map((h) => [h.state, h.version]), [['installed', 3]]);
      assert.equal(churn(w), '1,3*');
      assert.equal(await reports(ro.id), 1);
    });

    test('the list costs a fixed number of queries however many rollouts there are, and shows what each status shows', async () => {
      const fleet = t.hub.storage.fleet;
      const storage = t.hub.storage as { aliases: typeof t.hub.storage.aliases };
      const [all, aliases] = [fleet.all, storage.aliases];
      let queries = 0;
      const counted = async (opts?: { model?: string; group?: string }) => {
        queries = 0;
        (fleet as { all: typeof all }).all = ((...a: Parameters<typeof all>) => { queries++; return all.apply(fleet, a); }) as typeof all;
        storage.aliases = (...a: Parameters<typeof aliases>) => { queries++; return aliases.apply(t.hub.storage, a); };
        try {
          return { list: await listRollouts(t.hub, opts), queries };
        } finally {
          (fleet as { all: typeof all }).all = all;
          storage.aliases = aliases;
        }
      };
      const before = await counted();
      assert.ok(before.list.length >= 10, `rollouts of every state from the tests above (${before.list.length})`);
      assert.ok(before.list.some((r) => r.counts.running + r.counts.failed + r.counts.available > 0), 'some with device reports');
      // each listed rollout is what its own status says (counts from the same reports, the alias's version now)
      for (const r of before.list) assert.deepEqual(r, (await rolloutStatus(t.hub, r.id)).rollout, r.id);
      for (let i = 0; i < 8; i++) await createRollout(t.hub, { ref: 'churn:production', group: `many-${i}`, allowEmptyGroup: true });
      const after = await counted();
      assert.equal(after.list.length, before.list.length + 8);
      assert.equal(after.queries, before.queries, `queries for ${before.list.length} rollouts vs ${after.list.length}`);
      const models = new Set(after.list.map((r) => r.model)).size;
      assert.equal(after.queries, 3 + models, `rollouts, reports, devices, and one alias read for each of the ${models} models`);
      const one = await counted({ group: 'line-1' });
      assert.deepEqual(one.list, after.list.filter((r) => r.group === 'line-1'), 'a group filter lists the same views');
      assert.deepEqual((await counted({ model: 'nope' })).list, []);
    });
  });
}
