// Scoring-API tokens through the one app contract, over both transports (HTTP as `outpost serve`
// hosts it, and the Electron IPC bridge with the core behind a MessageChannel): list, create (the
// secret is in the create answer only), revoke; the same store as `outpost tokens` (a token made by
// the CLI is listed, one made in the app is refused by the CLI's name rule the same way), and a
// token the app revokes stops authenticating at once for any other connection to the store.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { ApiTokenView, NewApiToken } from '../src/api/common/contract.ts';
import { authenticateApiToken } from '../src/store/node/api-tokens.ts';
import { openStore } from '../src/store/node/store.ts';
import { httpTransport, ipcTransport, ok, type Transport } from './helpers/app-harness.ts';
import { lastJson, runMain } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

for (const make of [httpTransport, ipcTransport]) {
  describe(`tokens over ${make === httpTransport ? 'HTTP' : 'IPC'}`, () => {
    let t: Transport;
    let home: string;
    /** what a `serve --api` process sees: its own connection to the store */
    const authenticates = (secret: string): string | undefined => {
      const store = openStore(home);
      try { return authenticateApiToken(store, secret)?.name; } finally { store.close(); }
    };
    before(async () => {
      home = tempDir('outpost-app-tokens-');
      t = await make(home);
    });
    after(async () => {
      await t?.close();
      fs.rmSync(home, { recursive: true, force: true });
    });

    test('none at first; create shows the secret once; the list never carries it', async () => {
      assert.deepEqual(await ok<ApiTokenView[]>(t, 'tokens.list'), []);
      const made = await ok<NewApiToken>(t, 'tokens.create', { name: 'my-script' });
      assert.match(made.secret, /^outpost_[A-Za-z0-9_-]{43}$/);
      assert.match(made.id, /^t[0-9a-f]{8}$/);
      assert.deepEqual([made.name, made.state, made.lastUsedAt, made.revokedAt], ['my-script', 'live', null, null]);
      assert.ok(Math.abs(Date.parse(made.createdAt) - Date.now()) < 60_000);
      assert.equal(authenticates(made.secret), 'my-script', 'the secret works for the scoring API');
      const list = await ok<ApiTokenView[]>(t, 'tokens.list');
      assert.deepEqual(list.map((x) => [x.id, x.name, x.state]), [[made.id, 'my-script', 'live']]);
      assert.ok(list[0].lastUsedAt !== null, 'its use is recorded');
      assert.ok(!JSON.stringify(list).includes(made.secret.slice(8)), 'no secret in the list');
      assert.deepEqual(Object.keys(list[0]).sort(), ['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'state']);
    });

    test('bad names and a second live token of one name are refused, naming why', async () => {
      const dup = await t.call('tokens.create', { name: 'my-script' });
      assert.ok(!dup.ok && dup.error.code === 'conflict' && /a token named "my-script" already exists/.test(dup.error.message), JSON.stringify(dup));
      const bad = await t.call('tokens.create', { name: '../etc' });
      assert.ok(!bad.ok && bad.error.code === 'usage' && /1 to 64 letters, digits/.test(bad.error.message) && /"\.\.\/etc"/.test(bad.error.message), JSON.stringify(bad));
      const empty = await t.call('tokens.create', { name: '' });
      assert.ok(!empty.ok && empty.error.code === 'usage' && /tokens\.create: name:/.test(empty.error.message), JSON.stringify(empty));
      const extra = await t.call('tokens.create', { name: 'x', scope: 'admin' });
      assert.ok(!extra.ok && extra.error.code === 'usage' && /scope/.test(extra.error.message), JSON.stringify(extra));
      assert.equal((await ok<ApiTokenView[]>(t, 'tokens.list')).length, 1, 'nothing was made');
    });

    test('the CLI and the app share the tokens; revoke is immediate, once, by id', async () => {
      const cli = await runMain(['--home', home, 'tokens', 'create', '--name', 'cli-made', '--json']);
      assert.equal(cli.code, 0, cli.err);
      const cliSecret = String(lastJson(cli.out).token);
      const list = await ok<ApiTokenView[]>(t, 'tokens.list');
      assert.deepEqual(list.map((x) => x.name), ['cli-made', 'my-script'], 'newest first');
      const target = list.find((x) => x.name === 'cli-made')!;
      const revoked = await ok<ApiTokenView>(t, 'tokens.revoke', { id: target.id });
      assert.equal(revoked.state, 'revoked');
      assert.ok(revoked.revokedAt !== null);
      assert.equal(authenticates(cliSecret), undefined, 'refused from now on');
      const again = await t.call('tokens.revoke', { id: target.id });
      assert.ok(!again.ok && again.error.code === 'not-found' && /no live token with id/.test(again.error.message), JSON.stringify(again));
      const unknown = await t.call('tokens.revoke', { id: 't00000000' });
      assert.ok(!unknown.ok && unknown.error.code === 'not-found', JSON.stringify(unknown));
      const byName = await t.call('tokens.revoke', { id: 'my-script' });
      assert.ok(!byName.ok && byName.error.code === 'usage' && /id: a token id/.test(byName.error.message), JSON.stringify(byName));
      // the CLI lists the app's revocation; a revoked name can be used again
      const cliList = lastJson((await runMain(['--home', home, 'tokens', 'list', '--json'])).out) as { tokens: { name: string; state: string }[] };
      assert.deepEqual(cliList.tokens.map((x) => `${x.name}:${x.state}`), ['cli-made:revoked', 'my-script:live']);
      const reused = await ok<NewApiToken>(t, 'tokens.create', { name: 'cli-made' });
      assert.equal(authenticates(reused.secret), 'cli-made');
      assert.deepEqual((await ok<ApiTokenView[]>(t, 'tokens.list')).map((x) => `${x.name}:${x.state}`), ['cli-made:live', 'cli-made:revoked', 'my-script:live']);
    });
  });
}
