// Settings → GPU in Chromium against `outpost serve`, with a real hub on loopback: not connected →
// says so and Install is off; the runtime publisher's package (a stand-in of ONNX Runtime's NuGet GPU
// package) is offered by the hub, installed with TUF from the panel (the files land in the data
// folder; this running Outpost keeps its own ONNX Runtime until it restarts, and says so); a package
// changed on the hub after signing is refused naming the stage; a file modified in the installed
// runtime shows as modified and not used; Remove. Screenshots: test-artifacts/screenshots/gpu-*.png.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createEnrollment } from '../../src/hub/node/devices.ts';
import { checkRuntime, runtimeDir } from '../../src/inference/node/gpu-runtime.ts';
import { ortPackageVersion } from '../../src/inference/node/libraries.ts';
import { openStore } from '../../src/store/node/store.ts';
import { connect } from '../../src/sync/node/connect.ts';
import { launchChromium, SCREENSHOTS, serveInProcess, type Served } from '../helpers/app-browser.ts';
import { runMain } from '../helpers/cli.ts';
import { startTestHub, type TestHub } from '../helpers/hub-fixtures.ts';
import { tempDir } from '../helpers/packages.ts';
import { writeZip } from '../helpers/zip-writer.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the browser GPU tests: ${launched.skip}`);
const HERE = `${process.platform}-${process.arch}`;
const skip = 'skip' in launched ? launched.skip : HERE !== 'linux-x64' ? `GPU runtimes are published for linux-x64 only; this is ${HERE}` : false;
const ORT = ortPackageVersion();
const NATIVE = 'runtimes/linux-x64/native';

describe('Settings → GPU (Chromium, serve mode, hub on loopback)', { skip }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let served: Served;
  let hub: TestHub;
  let home: string;
  let work: string;
  const publish = async (release: number): Promise<Buffer> => {
    const file = path.join(work, `Microsoft.ML.OnnxRuntime.Gpu.Linux.${ORT}-r${release}.nupkg`);
    writeZip(file, [
      { name: 'Microsoft.ML.OnnxRuntime.Gpu.Linux.nuspec', data: Buffer.from('<package/>'), deflate: true },
      { name: `${NATIVE}/libonnxruntime_providers_shared.so`, data: crypto.randomBytes(8 * 1024), deflate: true },
      { name: `${NATIVE}/libonnxruntime_providers_cuda.so`, data: crypto.randomBytes(256 * 1024) },
    ]);
    const pub = hub.publishers['runtime-team'];
    const r = await runMain(['hub', 'runtime', 'publish', file, '--platform', 'linux-x64', '--ort', ORT, '--release', String(release), '--hub', hub.url, '--key', pub.key.file, '--home', path.join(work, 'publisher'), '--json'],
      { env: { OUTPOST_PUBLISH_TOKEN: pub.token } });
    assert.equal(r.code, 0, r.err);
    return fs.readFileSync(file);
  };
  const settings = async () => {
    await page.goto(`http://127.0.0.1:${served.port}/#/settings`);
    await page.reload();
    await page.getByTestId('gpu-ort').waitFor();
  };
  const section = () => page.locator('section', { has: page.locator('#set-gpu') });
  const shot = async (name: string) => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await section().screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
  };

  before(async () => {
    browser = (launched as { browser: Browser }).browser;
    work = tempDir('outpost-e2e-gpu-work-');
    hub = await startTestHub({ publishers: [{ name: 'runtime-team', glob: 'outpost-runtime-*' }] });
    home = tempDir('outpost-e2e-gpu-');
    served = await serveInProcess(home);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(served.url);
    await page.getByRole('heading', { name: 'Home' }).waitFor();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await served?.stop();
    await hub?.close();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('not connected: the ONNX Runtime, no runtime, the driver and CUDA libraries; Install waits for a hub', async () => {
    await settings();
    assert.equal(await page.getByTestId('gpu-ort').innerText(), `${ORT} (linux-x64) — this Outpost runs the app’s own`);
    assert.equal(await page.getByTestId('gpu-runtime').innerText(), 'not installed');
    assert.match(await page.getByTestId('gpu-driver').innerText(), /^(found|not found)/);
    assert.match(await page.getByTestId('gpu-hub').innerText(), /no hub: connect one under "Hub and sync"/);
    assert.equal(await page.getByTestId('gpu-install').isDisabled(), true);
    await shot('gpu-00-not-connected');
  });

  test('the hub offers the signed runtime; Install downloads, verifies and installs it; used from the next start', async () => {
    await publish(1);
    const store = openStore(home);
    try {
      const { code } = await createEnrollment(hub.hub, { name: 'desk-gpu' });
      await connect(store, { hubUrl: hub.url, rootFile: hub.trustRoot, code });
    } finally {
      store.close();
    }
    await settings();
    await page.getByTestId('gpu-check').click();
    await page.getByTestId('gpu-hub').filter({ hasText: 'offers release 1' }).waitFor();
    assert.match(await page.getByTestId('gpu-hub').innerText(), new RegExp(`offers release 1 \\(Microsoft\\.ML\\.OnnxRuntime\\.Gpu\\.Linux\\.${ORT.replaceAll('.', '\\.')}-r1\\.nupkg, `));
    await shot('gpu-01-offered');
    await page.getByTestId('gpu-install').click();
    await page.getByTestId('gpu-runtime').filter({ hasText: 'every file matches its manifest' }).waitFor();
    assert.match(await page.getByTestId('gpu-runtime').innerText(), new RegExp(`✓ installed, every file matches its manifest — release 1 from ${hub.url.replace(/[.:/]/g, '\\$&')}`));
    assert.match(await page.getByTestId('gpu-hub').innerText(), /offers release 1 .* — installed/);
    assert.equal(await page.getByTestId('gpu-note').innerText(), 'not in use by this running Outpost (installed after it started): it is used from the next start');
    assert.equal(checkRuntime(home).state, 'ok');
    assert.ok(fs.existsSync(path.join(runtimeDir(home), 'libonnxruntime_providers_cuda.so')));
    await shot('gpu-02-installed');
  });

  test('a package changed on the hub after signing is refused at its stage; the installed runtime stays', async () => {
    const bytes = await publish(2);
    const blob = hub.hub.blobs.path(crypto.createHash('sha256').update(bytes).digest('hex'));
    const evil = Buffer.from(bytes);
    evil[evil.length - 40] ^= 0xff;
    fs.chmodSync(blob, 0o600);
    fs.writeFileSync(blob, evil);
    await settings();
    await page.getByTestId('gpu-install').click();
    const alert = section().getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /^Install refused at (download|verify)\s+GPU runtime refused at (download|verify): .*nothing was installed/is);
    assert.match(await page.getByTestId('gpu-runtime').innerText(), /release 1 from/);
    await shot('gpu-03-refused');
  });

  test('a file modified in the installed runtime shows as modified and not used; Remove deletes it', async () => {
    const f = path.join(runtimeDir(home), 'libonnxruntime_providers_shared.so');
    const b = fs.readFileSync(f);
    b[10] ^= 0x01;
    fs.writeFileSync(f, b);
    await settings();
    assert.match(await page.getByTestId('gpu-modified').innerText(), /^modified, not used: libonnxruntime_providers_shared\.so has sha256 [0-9a-f]{12}…, the manifest says [0-9a-f]{12}…$/);
    await shot('gpu-04-modified');
    await page.getByTestId('gpu-remove').click();
    await page.getByTestId('gpu-runtime').filter({ hasText: 'not installed' }).waitFor();
    assert.equal(fs.existsSync(runtimeDir(home)), false);
    await shot('gpu-05-removed');
  });
});
