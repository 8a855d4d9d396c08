// Hub: init, delegation, publish from a signed package, catalog, metadata and Range serving,
// concurrent publishes, and every publish the hub must refuse — the same suite on SQLite and on
// PostgreSQL (skipped with a printed reason where no PostgreSQL server binaries are installed).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TargetFile, type Metadata, type Targets } from '@tufjs/models';
import { OutpostError } from '../src/common/errors.ts';
import { generateKeyFile, type PrivateKeyHandle } from '../src/keys/node/keys.ts';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { binsToResign, signBinned } from '../src/hub/node/bins.ts';
import { hubPaths } from '../src/hub/node/hub-dir.ts';
import { openHub } from '../src/hub/node/repository.ts';
import { startHubServer } from '../src/hub/node/server.ts';
import { parseSnapshot, parseTimestamp, addSeconds } from '../src/hub/node/tuf-metadata.ts';
import { hubBackends } from './helpers/hub-backends.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { stopPostgres } from './helpers/postgres.ts';

after(stopPostgres);

for (const backend of hubBackends()) {
  describe(`hub on ${backend.name}`, { skip: backend.skip }, () => {
    let h: TestHub & { extraKeys: Record<string, PrivateKeyHandle[]> };
    const work = tmpDir('outpost-hubpub-');

    before(async () => {
      h = await startTestHub({ db: await backend.db(), publishers: [{ name: 'churn-team', glob: 'churn*' }, { name: 'fraud-team', glob: 'fraud', threshold: 2, extraKeys: 1 }] });
    });
    after(async () => { await h?.close(); fs.rmSync(work, { recursive: true, force: true }); });

    const get = async (p: string, headers: Record<string, string> = {}) => fetch(new URL(p, h.url), { headers });

    test('hub init: owner-only admin token and offline keys, root pinned file, signed metadata served', async () => {
      const p = hubPaths(h.dir);
      if (process.platform !== 'win32') {
        assert.equal(fs.statSync(p.adminToken).mode & 0o777, 0o600);
        assert.equal(fs.statSync(h.rootKey.file).mode & 0o777, 0o600);
        assert.ok(!fs.existsSync(p.legacyOfflineKeys) && !fs.readdirSync(p.onlineKeys).some((f) => /root|targets/.test(f)), 'no offline key in the hub folder');
      }
      const root = await get('/metadata/1.root.json');
      assert.equal(root.status, 200);
      assert.equal(await root.text(), fs.readFileSync(p.trustRoot, 'utf8'));
      const ts = parseTimestamp(await (await get('/metadata/timestamp.json')).text());
      const snap = parseSnapshot(await (await get(`/metadata/${ts.signed.snapshotMeta.version}.snapshot.json`)).text());
      assert.ok(snap.signed.meta['targets.json'] && snap.signed.meta['churn-team.json'] === undefined, 'no publisher metadata before the first publish');
      assert.equal((await get('/metadata/99.snapshot.json')).status, 404);
      assert.equal((await get('/metadata/..%2Froot.json')).status, 400);
    });

    test('publish: signed locally, checked, served; catalog says who signed; Range on blobs', async () => {
      const pkg = makePackage(work, 'churn', 1);
      const r = await publishPackage({ packageDir: pkg, hubUrl: h.url, keys: [h.publishers['churn-team'].key], token: h.publishers['churn-team'].token, alias: 'production' });
      assert.deepEqual(r.versions, [{ name: 'churn', version: 1 }]);
      assert.deepEqual(r.aliases, [{ name: 'churn', alias: 'production', version: 1 }]);
      const cat = await (await get('/api/v1/models/churn')).json() as { latest: number; aliases: Record<string, number>; versions: { publisher: string; signedBy: string[] }[] };
      assert.equal(cat.latest, 1);
      assert.equal(cat.aliases.production, 1);
      assert.equal(cat.versions[0].publisher, 'churn-team');
      assert.deepEqual(cat.versions[0].signedBy, [h.publishers['churn-team'].key.keyId]);

      const model = fs.readFileSync(path.join(pkg, 'model.onnx'));
      const sha = crypto.createHash('sha256').update(model).digest('hex');
      const full = await get(`/targets/churn/1/${sha}.model.onnx`);
      assert.equal(full.status, 200);
      assert.deepEqual(Buffer.from(await full.arrayBuffer()), model);
      const part = await get(`/targets/churn/1/${sha}.model.onnx`, { range: 'bytes=10-' });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 10-${model.length - 1}/${model.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), model.subarray(10));
      assert.equal((await get(`/targets/churn/1/${sha}.model.onnx`, { range: `bytes=${model.length}-` })).status, 416);

      // a second version; the alias moves
      const r2 = await publishPackage({ packageDir: makePackage(work, 'churn', 2), hubUrl: h.url, keys: [h.publishers['churn-team'].key], token: h.publishers['churn-team'].token, alias: 'production' });
      assert.equal(r2.roleVersion, 2);
      const cat2 = await (await get('/api/v1/models/churn')).json() as { latest: number; aliases: Record<string, number> };
      assert.equal(cat2.aliases.production, 2);
    });

    test('refused: a team delegated churn* cannot publish fraud', async () => {
      await assert.rejects(
        publishPackage({ packageDir: makePackage(work, 'fraud', 1), hubUrl: h.url, keys: [h.publishers['churn-team'].key], token: h.publishers['churn-team'].token }),
        (e: unknown) => e instanceof OutpostError && /outside what publisher "churn-team" is delegated/.test(e.message),
      );
      assert.equal((await get('/api/v1/models/fraud')).status, 404);
    });

    test('refused: fraud metadata signed below the threshold (1 of 2), accepted with both keys', async () => {
      const pkg = makePackage(work, 'fraud', 1);
      const fraud = h.publishers['fraud-team'];
      await assert.rejects(
        publishPackage({ packageDir: pkg, hubUrl: h.url, keys: [fraud.key], token: fraud.token }),
        (e: unknown) => e instanceof OutpostError && /signed by 1\/2 keys/.test(e.message),
      );
      const ok = await publishPackage({ packageDir: pkg, hubUrl: h.url, keys: [fraud.key, h.extraKeys['fraud-team'][0]], token: fraud.token });
      assert.deepEqual(ok.versions, [{ name: 'fraud', version: 1 }]);
    });

    test('refused: a key that is not delegated, even with the right token', async () => {
      const stranger = generateKeyFile(path.join(work, 'stranger.key'));
      await assert.rejects(
        publishPackage({ packageDir: makePackage(work, 'churn', 9), hubUrl: h.url, keys: [stranger], token: h.publishers['churn-team'].token }),
        /none of the given keys is delegated/,
      );
    });

    /** Post raw signed metadata (what a malicious or buggy client could send). */
    /** A publisher's signed request as `outpost publish` makes it: its role plus the version bins it re-signs. */
    async function signedBody(add: TargetFile[], opts: { version?: number; keys?: PrivateKeyHandle[]; dropPrevious?: boolean } = {}) {
      const churn = h.publishers['churn-team'];
      const me = await (await fetch(new URL('/api/v1/publishers/me', h.url), { headers: { authorization: `Bearer ${churn.token}` } })).json() as { metadata: unknown };
      const { parseUntrustedTargets } = await import('../src/hub/node/tuf-metadata.ts');
      const prev = me.metadata ? parseUntrustedTargets(me.metadata) : undefined;
      const plan = { publisher: 'churn-team', prev: opts.dropPrevious ? undefined : prev, add, keys: opts.keys ?? [churn.key], threshold: 1, expires: addSeconds(new Date(), 86_400), version: opts.version };
      const current = new Map<string, Metadata<Targets>>();
      for (const n of binsToResign(plan)) current.set(n, parseUntrustedTargets(await (await fetch(new URL(`/metadata/${n}.json`, h.url))).json()));
      const signed = signBinned({ ...plan, prevBin: (n) => current.get(n) });
      return { metadata: signed.publisher.toJSON(), bins: signed.bins.map((b) => ({ name: b.name, metadata: b.metadata.toJSON() })) };
    }

    async function postRaw(add: TargetFile[], opts: { version?: number; keys?: PrivateKeyHandle[]; dropPrevious?: boolean } = {}) {
      const churn = h.publishers['churn-team'];
      const body = await signedBody(add, opts);
      return fetch(new URL('/api/v1/publish', h.url), { method: 'POST', headers: { authorization: `Bearer ${churn.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    }

    const tf = (p: string, content = 'x') => new TargetFile({ path: p, length: Buffer.byteLength(content), hashes: { sha256: crypto.createHash('sha256').update(content).digest('hex') } });

    test('refused: path traversal and encoding tricks in target names', async () => {
      for (const bad of ['churn/3/../../fraud/1/model.onnx', '/etc/passwd', 'churn/%2e%2e/model.onnx', 'churn/3/model.onnx\0.txt', 'churn/3/a\\b']) {
        const res = await postRaw([tf(bad)]);
        assert.equal(res.status, 422, `${JSON.stringify(bad)} must be refused`);
        const j = await res.json() as { error: { message: string } };
        assert.match(j.error.message, /publish refused|not a valid|outside/);
      }
    });

    test('refused: versions do not grow, published versions are immutable, metadata version must grow', async () => {
      // churn@1 and @2 exist (earlier test): a new churn@1 with other bytes
      const res = await postRaw([tf('churn/1/model.onnx', 'other')]);
      assert.equal(res.status, 422);
      assert.match((await res.json() as { error: { message: string } }).error.message, /immutable/);
      // dropping previously published targets
      const res2 = await postRaw([tf('churn/7/model.onnx'), tf('churn/7/card.json')], { dropPrevious: true, version: 99 });
      assert.equal(res2.status, 422);
      assert.match((await res2.json() as { error: { message: string } }).error.message, /cannot be removed/);
      // replayed metadata version
      const res3 = await postRaw([], { version: 1 });
      assert.equal(res3.status, 409);
    });

    test('refused: package with missing or extra files; blobs not uploaded; bad token', async () => {
      const missing = await postRaw([tf('churn/5/model.onnx')]);
      assert.match((await missing.json() as { error: { message: string } }).error.message, /missing card\.json/);
      const extra = await postRaw([tf('churn/5/model.onnx'), tf('churn/5/card.json'), tf('churn/5/run.sh')]);
      assert.match((await extra.json() as { error: { message: string } }).error.message, /extra file\(s\) run\.sh/);
      const noBlob = await postRaw([tf('churn/5/model.onnx', 'never uploaded'), tf('churn/5/card.json', 'nor this')]);
      assert.equal(noBlob.status, 400);
      assert.match((await noBlob.json() as { error: { message: string } }).error.message, /was not uploaded/);
      const unauth = await fetch(new URL('/api/v1/publish', h.url), { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{"metadata":{}}' });
      assert.equal(unauth.status, 401);
      const admin = await fetch(new URL('/api/v1/publishers', h.url), { headers: { authorization: `Bearer ${h.adminToken}` } });
      assert.equal(admin.status, 200);
      assert.equal((await fetch(new URL('/api/v1/publishers', h.url), { headers: { authorization: `Bearer ${h.publishers['churn-team'].token}` } })).status, 401);
    });

    test('blobs: only files of a checked publish request, exactly as declared; a failed publish leaves nothing', async () => {
      const churn = h.publishers['churn-team'];
      const auth = { authorization: `Bearer ${churn.token}` };
      const begin = async (add: TargetFile[]) => {
        const res = await fetch(new URL('/api/v1/uploads', h.url), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(await signedBody(add)) });
        return { res, json: await res.json() as { id: string; needed: { sha256: string; length: number }[]; error?: { message: string } } };
      };
      const put = (id: string, sha: string, body: string, token = churn.token, opts: { chunked?: boolean } = {}) => fetch(new URL(`/api/v1/uploads/${id}/${sha}`, h.url), {
        method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        // chunked: no Content-Length, so only the bytes themselves can tell the hub the size
        body: opts.chunked ? new ReadableStream({ start(c) { c.enqueue(Buffer.from(body)); c.close(); } }) : body, duplex: 'half',
      } as RequestInit);
      const sha = (t: string) => crypto.createHash('sha256').update(t).digest('hex');
      const uploads = () => fs.readdirSync(path.join(h.dir, 'blobs', 'uploads'));

      // a request the hub refuses outright gets no upload session at all
      const refused = await begin([tf('fraud/9/model.onnx', 'm'), tf('fraud/9/card.json', 'c')]);
      assert.equal(refused.res.status, 422);
      assert.match(refused.json.error!.message, /outside what publisher "churn-team" is delegated/);

      const card = JSON.stringify({ format: 'outpost.card/v1', name: 'churn', version: 20 });
      const { res, json } = await begin([tf('churn/20/model.onnx', 'model-bytes'), tf('churn/20/card.json', card)]);
      assert.equal(res.status, 201, JSON.stringify(json));
      assert.deepEqual(json.needed.map((n) => n.sha256).sort(), [sha('model-bytes'), sha(card)].sort());
      // not a file of this request; a wrong hash; longer or shorter than declared; another team's token
      assert.match((await (await put(json.id, sha('anything else'), 'anything else')).json() as { error: { message: string } }).error.message, /not a file of this publish request/);
      assert.match((await (await put(json.id, sha('model-bytes'), 'model-bytez')).json() as { error: { message: string } }).error.message, /not the announced/);
      assert.match((await (await put(json.id, sha('model-bytes'), 'model-bytes and more')).json() as { error: { message: string } }).error.message, /announced as 20 bytes, but its signed metadata declares 11/);
      assert.match((await (await put(json.id, sha('model-bytes'), 'model-bytes and more', churn.token, { chunked: true })).json() as { error: { message: string } }).error.message, /larger than the 11 bytes/);
      assert.match((await (await put(json.id, sha('model-bytes'), 'model', churn.token, { chunked: true })).json() as { error: { message: string } }).error.message, /has 5 bytes, not the 11/);
      assert.equal((await put(json.id, sha('model-bytes'), 'model-bytes', h.publishers['fraud-team'].token)).status, 404);
      assert.equal((await put(json.id, sha('model-bytes'), 'model-bytes')).status, 201);
      assert.equal((await put(json.id, sha(card), card)).status, 201);
      assert.deepEqual(uploads(), [json.id]);
      // nothing uploaded is served before a commit
      assert.equal((await get(`/targets/churn/20/${sha('model-bytes')}.model.onnx`)).status, 404);
      // the commit fails (the model bytes are no ONNX model... the card is incomplete): the files are gone
      const commit = await fetch(new URL(`/api/v1/uploads/${json.id}/commit`, h.url), { method: 'POST', headers: auth });
      assert.equal(commit.status, 422);
      assert.match((await commit.json() as { error: { message: string } }).error.message, /card\.json is not a valid card/);
      assert.deepEqual(uploads(), [], 'the failed publish left no files');
      assert.ok(!fs.existsSync(path.join(h.dir, 'blobs', 'sha256', sha('model-bytes'))));
      assert.equal((await get(`/targets/churn/20/${sha('model-bytes')}.model.onnx`)).status, 404);
      // a published blob is served only under its own path
      const cat = await (await get('/api/v1/models/churn')).json() as { versions: { version: number; modelSha256: string }[] };
      const m1 = cat.versions.find((v) => v.version === 1)!.modelSha256;
      assert.equal((await get(`/targets/churn/1/${m1}.model.onnx`)).status, 200);
      for (const other of [`/targets/churn/2/${m1}.model.onnx`, `/targets/churn/1/${m1}.card.json`, `/targets/fraud/77/${m1}.model.onnx`, `/targets/x/${m1}.model.onnx`]) {
        assert.equal((await get(other)).status, 404, other);
      }
    });

    test('refused: a publish package with a symlinked model file', async () => {
      const pkg = makePackage(work, 'churn', 11);
      const outside = path.join(work, 'outside.onnx');
      fs.renameSync(path.join(pkg, 'model.onnx'), outside);
      fs.symlinkSync(outside, path.join(pkg, 'model.onnx'));
      await assert.rejects(publishPackage({ packageDir: pkg, hubUrl: h.url, keys: [h.publishers['churn-team'].key], token: h.publishers['churn-team'].token }), /symbolic link/);
    });

    test('concurrent publishes through two hub instances on one database: one linear repository, nothing lost', async () => {
      // a second hub on the same folder and database, with its own connections (as another process would have)
      const other = await openHub(h.dir);
      assert.equal(other.storage.kind, backend.name);
      const srv = await startHubServer(other);
      try {
        const latestTs = async (url: string) => parseTimestamp(await (await fetch(`${url}/metadata/timestamp.json`)).text());
        const snapAt = async (url: string, v: number) => (await fetch(`${url}/metadata/${v}.snapshot.json`)).text();
        const before = (await latestTs(h.url)).signed.snapshotMeta.version;
        const churn = h.publishers['churn-team'];
        const fraud = h.publishers['fraud-team'];
        const urls = [h.url, srv.url];
        // three publishes by one team at once race for its metadata version (the client signs again on top of
        // the winner, at most twice), one by another team races for the snapshot
        const results = await Promise.all([
          ...[1, 2, 3].map((i) => publishPackage({ packageDir: makePackage(work, `churnx${i}`, 1), hubUrl: urls[i % 2], keys: [churn.key], token: churn.token })),
          publishPackage({ packageDir: makePackage(work, 'fraud', 2), hubUrl: srv.url, keys: [fraud.key, h.extraKeys['fraud-team'][0]], token: fraud.token }),
        ]);
        assert.deepEqual(results.map((r) => r.versions), [[{ name: 'churnx1', version: 1 }], [{ name: 'churnx2', version: 1 }], [{ name: 'churnx3', version: 1 }], [{ name: 'fraud', version: 2 }]]);

        const [tsA, tsB] = [await latestTs(h.url), await latestTs(srv.url)];
        assert.equal(tsA.signed.version, tsB.signed.version, 'both hubs serve the same timestamp');
        assert.equal(tsA.signed.snapshotMeta.version, before + 4, 'four publishes, four new snapshots: none forked or lost');
        // every snapshot version exists once, identical through both hubs, and each one changes exactly one
        // role by exactly one version on top of the one before (a lost update would drop a role's change)
        let prev = parseSnapshot(await snapAt(h.url, before)).signed.meta;
        for (let v = before + 1; v <= before + 4; v++) {
          const body = await snapAt(h.url, v);
          assert.equal(await snapAt(srv.url, v), body, `snapshot ${v} is the same through both hubs`);
          const meta = parseSnapshot(body).signed.meta;
          assert.equal(parseSnapshot(body).signed.version, v);
          const changed = Object.keys(meta).filter((role) => meta[role].version !== prev[role]?.version);
          // a publish changes its publisher's role and the version bin it added to
          const bins = changed.filter((r) => r !== 'churn-team.json' && r !== 'fraud-team.json');
          assert.equal(changed.length - bins.length, 1, `snapshot ${v} changes one publisher's role (${changed.join(', ')})`);
          assert.ok(bins.length <= 1, `snapshot ${v} changes at most one version bin (${changed.join(', ')})`);
          for (const r of changed) assert.equal(meta[r].version, (prev[r]?.version ?? 0) + 1, `snapshot ${v}: ${r} grows by one`);
          for (const role of Object.keys(prev)) assert.ok(meta[role], `snapshot ${v} keeps ${role}`);
          prev = meta;
        }
        assert.equal((await fetch(`${h.url}/metadata/${before + 5}.snapshot.json`)).status, 404);
        const cat = await (await fetch(`${srv.url}/api/v1/models`)).json() as { models: { name: string; latest: number }[] };
        for (const [name, latest] of [['churnx1', 1], ['churnx2', 1], ['churnx3', 1], ['fraud', 2]] as const) {
          assert.equal(cat.models.find((m) => m.name === name)?.latest, latest, `${name} in the catalog`);
        }
      } finally {
        await srv.close();
        await other.close();
      }
    });

    test('metadata versions beyond 32 bits are stored, ordered and served exactly', async () => {
      const big = 3_000_000_000;
      const res = await postRaw([], { version: big });
      assert.equal(res.status, 200, await res.clone().text());
      const role = await get(`/metadata/${big}.churn-team.json`);
      assert.equal(role.status, 200);
      const ts = parseTimestamp(await (await get('/metadata/timestamp.json')).text());
      const snap = parseSnapshot(await (await get(`/metadata/${ts.signed.snapshotMeta.version}.snapshot.json`)).text());
      assert.equal(snap.signed.meta['churn-team.json'].version, big);
      const next = await publishPackage({ packageDir: makePackage(work, 'churn', 12), hubUrl: h.url, keys: [h.publishers['churn-team'].key], token: h.publishers['churn-team'].token });
      assert.equal(next.roleVersion, big + 1, 'the next publish signs on top of the latest (a numeric, not textual, maximum)');
    });
  });
}
