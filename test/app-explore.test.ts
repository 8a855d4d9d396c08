// `models.explore`, the contract method the app's what-if explorer loads a model through: over both
// transports (HTTP and the Electron IPC bridge) it hands over the installed model's verified bytes
// with the same ZipMap rewrite as scoring, and the card; it refuses a model whose file was modified
// on disk (recorded as a security event, as scoring does), an unknown model, and — over HTTP — a
// caller without the session token or from another origin.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ExploreModel } from '../src/api/common/contract.ts';
import { adaptModel, findZipMaps } from '../src/onnx/common/adapt.ts';
import { inspectModel } from '../src/onnx/common/onnx.ts';
import { openStore } from '../src/store/node/store.ts';
import { DEMO_PACKAGE, httpTransport, ipcTransport, ok, type HttpTransport, type Transport } from './helpers/app-harness.ts';
import { handCard, modelBytes } from './helpers/byo.ts';
import { tempDir, writePackage } from './helpers/packages.ts';

const decode = (b64: string): Buffer => Buffer.from(b64, 'base64');

for (const make of [httpTransport, ipcTransport]) {
  describe(`models.explore over ${make === httpTransport ? 'HTTP' : 'IPC'}`, () => {
    let t: Transport;
    let home: string;
    let pkgs: string;

    before(async () => {
      home = tempDir('outpost-explore-home-');
      pkgs = tempDir('outpost-explore-pkgs-');
      t = await make(home);
      await ok(t, 'models.add', { path: DEMO_PACKAGE, allowUnsigned: true });
      await ok(t, 'models.add', { path: writePackage(path.join(pkgs, 'logreg'), handCard('logreg'), modelBytes('logreg')), allowUnsigned: true });
    });
    after(async () => {
      await t?.close();
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(pkgs, { recursive: true, force: true });
    });

    test('the demo model: its file as installed (no ZipMap to rewrite), its card and graph inputs', async () => {
      const m = await ok<ExploreModel>(t, 'models.explore', { model: 'seattle-weather' });
      const file = fs.readFileSync(path.join(DEMO_PACKAGE, 'model.onnx'));
      assert.deepEqual(decode(m.model), file, 'the bytes are the package file, byte for byte');
      assert.equal(m.sizeBytes, file.length);
      assert.deepEqual([m.name, m.version, m.zipmapsRemoved, m.warning], ['seattle-weather', 1, [], null]);
      assert.deepEqual(m.card, JSON.parse(fs.readFileSync(path.join(DEMO_PACKAGE, 'card.json'), 'utf8')));
      assert.deepEqual(m.inputs.map((i) => `${i.name}:${i.type}`), ['precipitation:float', 'temp_max:float', 'temp_min:float', 'wind:float', 'season:string']);
    });

    test('a scikit-learn export: the ZipMap is rewritten exactly as scoring rewrites it; the tensors mapping rides on the card', async () => {
      const m = await ok<ExploreModel>(t, 'models.explore', { model: 'byo-logreg@1' });
      const original = modelBytes('logreg');
      assert.equal(findZipMaps(inspectModel(original)).length, 1, 'the fixture ends in a ZipMap');
      assert.deepEqual(decode(m.model), Buffer.from(adaptModel(original).bytes), 'the bytes scoring creates its session from');
      assert.equal(findZipMaps(inspectModel(decode(m.model))).length, 0);
      assert.deepEqual(m.zipmapsRemoved, ['ZipMap']);
      assert.deepEqual(m.card.tensors, [{ input: 'float_input', features: ['precipitation', 'temp_max', 'temp_min', 'wind'] }]);
      assert.deepEqual(m.inputs, [{ name: 'float_input', type: 'float', shape: ['?', 4] }], 'the dynamic batch axis, as the graph declares it');
    });

    test('a model file modified on disk is refused, and the refusal is recorded as a security event', async () => {
      const installed = path.join(home, 'models', 'byo-logreg', '1', 'model.onnx');
      const good = fs.readFileSync(installed);
      const bad = Buffer.from(good);
      bad[bad.length - 10] ^= 0xff;
      fs.writeFileSync(installed, bad);
      try {
        const r = await t.call('models.explore', { model: 'byo-logreg' });
        assert.ok(!r.ok, 'refused');
        assert.equal(r.error.code, 'package');
        assert.match(r.error.message, /modified on disk.*refusing to run it/);
        assert.equal(r.error.file, installed);
        const store = openStore(home);
        try {
          const events = store.db.prepare("SELECT kind, model FROM security_events WHERE kind = 'installed-file-modified'").all();
          assert.deepEqual(events.at(-1), { kind: 'installed-file-modified', model: 'byo-logreg@1' });
        } finally {
          store.close();
        }
      } finally {
        fs.writeFileSync(installed, good);
      }
      await ok(t, 'models.explore', { model: 'byo-logreg' }); // the restored file is served again
    });

    test('unknown models and bad references are refused with the reason', async () => {
      const unknown = await t.call('models.explore', { model: 'nope' });
      assert.ok(!unknown.ok && unknown.error.code === 'not-found' && /nope/.test(unknown.error.message), JSON.stringify(unknown));
      const version = await t.call('models.explore', { model: 'seattle-weather@9' });
      assert.ok(!version.ok && /seattle-weather@9|version 9/.test(version.error.message), JSON.stringify(version));
      const bad = await t.call('models.explore', { model: 'a b' });
      assert.ok(!bad.ok && bad.error.code === 'usage' && /model/.test(bad.error.message), JSON.stringify(bad));
      const extra = await t.call('models.explore', { model: 'seattle-weather', log: true });
      assert.ok(!extra.ok && extra.error.code === 'usage', JSON.stringify(extra));
    });

    if (make === httpTransport) {
      test('over HTTP the route answers only a caller holding the session (token or its cookie), from this origin', async () => {
        const { server } = t as HttpTransport;
        const url = `http://127.0.0.1:${server.port}/api/call/models.explore`;
        const body = JSON.stringify({ model: 'seattle-weather' });
        const json = { 'Content-Type': 'application/json' };
        const none = await fetch(url, { method: 'POST', headers: json, body });
        assert.equal(none.status, 401);
        assert.doesNotMatch(await none.text(), /"model":"[A-Za-z0-9+/]{100}/, 'no bytes without a session');
        const wrong = await fetch(url, { method: 'POST', headers: { ...json, Authorization: 'Bearer not-the-token' }, body });
        assert.equal(wrong.status, 401);
        const wrongCookie = await fetch(url, { method: 'POST', headers: { ...json, Cookie: `outpost_token_${server.port}=nope` }, body });
        assert.equal(wrongCookie.status, 401);
        const foreign = await fetch(url, { method: 'POST', headers: { ...json, Authorization: `Bearer ${server.token}`, Origin: 'http://evil.example' }, body });
        assert.equal(foreign.status, 401);
        const cookie = await fetch(url, { method: 'POST', headers: { ...json, Cookie: `outpost_token_${server.port}=${encodeURIComponent(server.token)}` }, body });
        assert.equal(cookie.status, 200);
        assert.equal(cookie.headers.get('cache-control'), 'no-store');
        const got = (await cookie.json()) as { ok: true; result: ExploreModel };
        assert.deepEqual(decode(got.result.model), fs.readFileSync(path.join(DEMO_PACKAGE, 'model.onnx')));
      });
    }
  });
}
