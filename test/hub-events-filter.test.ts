// `outpost hub events --model M` (and the console's /api/v1/events?model=M): M matches the model
// name exactly (or M@V). `_` and `%` in it are not LIKE wildcards: "my_model" must not match
// "myxmodel", and "%" matches nothing — on SQLite and PostgreSQL. The events come through the real
// path: models installed on an enrolled workstation, synced to the hub.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, test } from 'node:test';
import { listFleetEvents } from '../src/hub/node/fleet-query.ts';
import { installPackage } from '../src/store/node/models.ts';
import { runSync } from '../src/sync/node/sync.ts';
import { jsonLines, runMain } from './helpers/cli.ts';
import { hubBackends } from './helpers/hub-backends.ts';
import { makePackage, startTestHub, tmpDir } from './helpers/hub-fixtures.ts';
import { stopPostgres } from './helpers/postgres.ts';
import { enrollWorkstation } from './helpers/sync-fleet.ts';

after(() => stopPostgres());

for (const backend of hubBackends()) {
  describe(`hub events --model on ${backend.name}`, { skip: backend.skip }, () => {
    test('"_" and "%" in the model filter are literal characters, not wildcards', async () => {
      const t = await startTestHub({ db: await backend.db() });
      const dir = tmpDir('outpost-events-filter-');
      const ws = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'ws-a', 'line-1');
      try {
        for (const name of ['my_model', 'myxmodel', 'my_model2']) installPackage(ws.store, makePackage(dir, name, 1), { source: 'local', allowUnsigned: true });
        assert.deepEqual((await runSync(ws.store, { refreshMetadata: false })).rejected, []);
        const models = async (model: string) => [...new Set((await listFleetEvents(t.hub, { model, limit: 1000 })).map((e) => e.model))].sort();
        assert.deepEqual(await models('myxmodel'), ['myxmodel@1'], 'the events exist');
        assert.deepEqual(await models('my_model'), ['my_model@1'], '"_" matched only itself (not myxmodel, not my_model2)');
        assert.deepEqual(await models('my_model@1'), ['my_model@1']);
        assert.deepEqual(await models('my%'), [], '"%" is not a wildcard');
        assert.deepEqual(await models('%'), []);
        assert.deepEqual(await models('my\\_model'), [], 'a backslash is literal too');
        // the CLI and the admin API answer the same
        const cli = await runMain(['hub', 'events', '--dir', t.dir, '--json', '--model', 'my_model', '--limit', '1000']);
        assert.equal(cli.code, 0, cli.err);
        const viaCli = jsonLines(cli.out).find((l) => Array.isArray(l.events))!.events as { model: string }[];
        assert.ok(viaCli.length > 0 && viaCli.every((e) => e.model === 'my_model@1'), JSON.stringify(viaCli.map((e) => e.model)));
        const res = await fetch(`${t.url}/api/v1/events?model=my_model&limit=1000`, { headers: { authorization: `Bearer ${t.adminToken}` } });
        assert.equal(res.status, 200);
        assert.deepEqual(((await res.json()) as { events: unknown[] }).events, viaCli);
      } finally {
        ws.store.close();
        await t.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
