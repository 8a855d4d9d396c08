// Both of Outpost's HTTP servers in one child process, for tests that attack them: serve mode (the
// app's API over a data folder with the demo model, a tiny UI folder) and a hub with one publisher.
// Prints one JSON line {serve, token, hub, publisherToken, adminToken}; serves until SIGTERM. A
// request that crashes either server ends this process, which is what the tests look for.
import fs from 'node:fs';
import path from 'node:path';
import { startHttp } from '../../src/api/node/http.ts';
import { createService } from '../../src/api/node/service.ts';
import { DEMO_PACKAGE } from './app-harness.ts';
import crypto from 'node:crypto';
import { publishPackage } from '../../src/hub/node/publish-client.ts';
import { makePackage, startTestHub } from './hub-fixtures.ts';
import { tempDir } from './packages.ts';

const home = tempDir('outpost-fuzz-home-');
const ui = tempDir('outpost-fuzz-ui-');
fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>ui</title>');
const service = createService({ home });
await service.handlers['models.add']({ path: DEMO_PACKAGE, allowUnsigned: true });
// A short body idle timeout so a stalled body's 408 arrives within the test.
const serve = await startHttp({ service, staticDir: ui, bodyIdleMs: 1000 });
const hub = await startTestHub({ serverOptions: { idleTimeoutMs: 1000 } });
// One published model, so the hub has a real target file (served with Range) to attack.
const publisher = Object.values(hub.publishers)[0];
const pkg = makePackage(ui, 'churn', 1);
await publishPackage({ packageDir: pkg, hubUrl: hub.url, keys: [publisher.key], token: publisher.token });
const sha = crypto.createHash('sha256').update(fs.readFileSync(path.join(pkg, 'model.onnx'))).digest('hex');
process.stdout.write(`${JSON.stringify({
  target: `/targets/churn/1/${sha}.model.onnx`,
  serve: `http://127.0.0.1:${serve.port}`, token: serve.token, home,
  hub: hub.url, publisherToken: publisher.token, adminToken: hub.adminToken,
})}\n`);
process.on('SIGTERM', () => {
  void (async () => {
    await serve.close();
    await service.close();
    await hub.close();
    for (const d of [home, ui]) fs.rmSync(d, { recursive: true, force: true });
    process.exit(0);
  })();
});
