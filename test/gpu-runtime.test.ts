// The GPU runtime (ONNX Runtime's CUDA provider libraries, an opt-in download) through a hub on
// loopback: published once by the publisher delegated `outpost-runtime-*` as the NuGet package
// `npm run setup:cuda` downloads (a stand-in ZIP with the same member names: the real one is
// hundreds of MB behind the network), installed into the data folder with TUF, checked against its
// manifest before ONNX Runtime is loaded from it, and really loaded from it (the process's
// /proc/self/maps) with bit-identical scores. Refusals: tampered blob, unsigned publisher, rolled-back
// release, damaged package, modified file in the installed runtime. No NVIDIA GPU here, so the CUDA
// provider itself is never run (the provider files are stand-ins ORT loads only for CUDA).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { releaseExpectation, runtimeReleaseName } from '../src/hub/common/app-release.ts';
import { checkPublish } from '../src/hub/common/publish-policy.ts';
import { MANIFEST_FILE, parseManifest, PROVIDER_MEMBERS, type RuntimeManifest } from '../src/inference/common/gpu-runtime.ts';
import { checkRuntime, runtimeDir } from '../src/inference/node/gpu-runtime.ts';
import { ortBinDir, ortPackageVersion } from '../src/inference/node/libraries.ts';
import { extractZipEntry, listZip } from '../src/registry/node/zip.ts';
import { openStore } from '../src/store/node/store.ts';
import { lastJson, REPO, runCli, runMain } from './helpers/cli.ts';
import { startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { writeZip } from './helpers/zip-writer.ts';

const HERE = `${process.platform}-${process.arch}`;
const skip = HERE === 'linux-x64' ? false : `GPU runtimes are published for linux-x64 only; this is ${HERE}`;
if (skip) console.log(`# skipped: ${skip}`);
const ORT = ortPackageVersion();
const NAME = runtimeReleaseName('linux-x64', 'cuda12', ORT);
const work = tmpDir('outpost-gpu-');
const home = path.join(work, 'workstation');
const plain = path.join(work, 'no-runtime');
const publisherHome = path.join(work, 'publisher');
const NATIVE = 'runtimes/linux-x64/native';
let h: TestHub;

before(async () => {
  if (skip) return;
  h = await startTestHub({ publishers: [{ name: 'runtime-team', glob: 'outpost-runtime-*' }, { name: 'churn-team', glob: 'churn*' }] });
});
after(async () => {
  await h?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** A stand-in for Microsoft.ML.OnnxRuntime.Gpu.Linux.<ver>.nupkg: the members setup:cuda takes, and others. */
function nupkg(file: string, opts: { omit?: string; seed?: number; damage?: boolean } = {}): { file: string; shared: Buffer; cuda: Buffer } {
  const rand = (n: number, s: number) => crypto.createHash('sha512').update(`${s}`).digest().toString('hex').repeat(Math.ceil(n / 128)).slice(0, n);
  const shared = Buffer.from(`stand-in libonnxruntime_providers_shared.so ${rand(4000, opts.seed ?? 1)}`);
  const cuda = crypto.randomBytes(96 * 1024);
  const members = [
    { name: '[Content_Types].xml', data: Buffer.from('<Types/>'), deflate: true },
    { name: 'Microsoft.ML.OnnxRuntime.Gpu.Linux.nuspec', data: Buffer.from(`<package><metadata><version>${ORT}</version></metadata></package>`), deflate: true },
    { name: `${NATIVE}/libonnxruntime.so`, data: Buffer.from('not taken: the app has its own'), deflate: true },
    { name: `${NATIVE}/libonnxruntime_providers_shared.so`, data: shared, deflate: true },
    { name: `${NATIVE}/libonnxruntime_providers_cuda.so`, data: cuda, deflate: false },
    { name: `${NATIVE}/libonnxruntime_providers_tensorrt.so`, data: Buffer.from('not taken: Outpost does not use TensorRT'), deflate: true },
  ].filter((m) => m.name !== opts.omit);
  const p = path.join(work, file);
  writeZip(p, members);
  if (opts.damage) { // flip a byte inside the stored cuda member: the archive still lists it, its CRC-32 no longer matches
    const bytes = fs.readFileSync(p);
    const at = bytes.indexOf(cuda.subarray(0, 64));
    bytes[at + 1000] ^= 0xff;
    fs.writeFileSync(p, bytes);
  }
  return { file: p, shared, cuda };
}

const publish = (file: string, release: number, opts: { publisher?: string; extra?: string[] } = {}) => {
  const publisher = opts.publisher ?? 'runtime-team';
  return runMain(['hub', 'runtime', 'publish', file, '--platform', 'linux-x64', '--ort', ORT, '--release', String(release), '--hub', h.url, '--key', h.publishers[publisher].key.file, '--home', publisherHome, '--json', ...(opts.extra ?? [])],
    { env: { OUTPOST_PUBLISH_TOKEN: h.publishers[publisher].token } });
};
const gpu = (...args: string[]) => runMain(['gpu', ...args, '--home', home, '--json']);
const securityEvents = (): string[] => {
  const store = openStore(home);
  try { return (store.db.prepare('SELECT kind FROM security_events ORDER BY id').all() as { kind: string }[]).map((r) => r.kind); } finally { store.close(); }
};
const manifest = (): RuntimeManifest => JSON.parse(fs.readFileSync(path.join(runtimeDir(home), MANIFEST_FILE), 'utf8')) as RuntimeManifest;

interface ChildRun { selection: { dir: string | null; problem: string | null }; provider?: { chosen: string; candidates: { name: string; outcome: string; reason: string }[] }; outputs?: Record<string, string>; error?: string; mapped: string[] }
/** A scoring run in a fresh process, as `outpost score` makes it (test/helpers/gpu-runtime-child.ts). */
function scoreInChild(dataFolder: string, ep: string): Promise<ChildRun> {
  const child = spawn(process.execPath, [path.join(REPO, 'test/helpers/gpu-runtime-child.ts'), dataFolder, ep], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => child.on('close', (code) => {
    if (code !== 0) return reject(new Error(`child exited ${code}: ${err}`));
    resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildRun);
  }));
}
const appOrt = fs.realpathSync(ortBinDir());

test('the member names are onnxruntime-node\'s own (install-metadata.js); release names and manifests (pure)', { skip }, () => {
  const meta = createRequire(import.meta.url)('onnxruntime-node/script/install-metadata.js') as { manifests: Record<string, Record<string, { path: string }>> };
  const theirs = Object.fromEntries(Object.entries(meta.manifests['linux/x64:cuda12']).map(([f, m]) => [path.basename(f), m.path]));
  for (const [file, member] of Object.entries(PROVIDER_MEMBERS['linux-x64'])) assert.equal(theirs[file], member, `${file} sits where setup:cuda takes it from`);
  assert.deepEqual(releaseExpectation(NAME), { app: 'onnxruntime-cuda12', platform: 'linux-x64', version: ORT });
  assert.equal(releaseExpectation('outpost-runtime-linux-x64'), undefined, 'a runtime name says its flavor and ORT version');
  assert.equal(releaseExpectation('churn'), undefined);
  const entry = { length: 1, sha256: 'a'.repeat(64) };
  const policy = (files: string[]) => checkPublish({ publisher: 'runtime-team', previous: {}, next: Object.fromEntries(files.map((f) => [`${NAME}/1/${f}`, entry])), isDelegated: () => true, latestVersion: () => undefined }).problems;
  assert.deepEqual(policy(['release.json', 'x.nupkg']), []);
  assert.match(policy(['release.json', 'a.nupkg', 'b.nupkg']).join(), /exactly one package \(it has 2\)/);
  const good = { format: 'outpost.gpu-runtime/v1', ortVersion: ORT, platform: 'linux-x64', flavor: 'cuda12', source: {}, installedAt: '',
    files: ['onnxruntime_binding.node', 'libonnxruntime.so.1', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'].map((name) => ({ name, size: 1, sha256: 'b'.repeat(64), from: 'app' })) };
  assert.equal(parseManifest(JSON.stringify(good), { ortVersion: ORT, platform: 'linux-x64' }).ok, true);
  assert.match((parseManifest(JSON.stringify(good), { ortVersion: '9.9.9', platform: 'linux-x64' }) as { reason: string }).reason, /is for ONNX Runtime .* not 9\.9\.9/);
  assert.match((parseManifest(JSON.stringify({ ...good, files: good.files.slice(1) }), { ortVersion: ORT, platform: 'linux-x64' }) as { reason: string }).reason, /does not list onnxruntime_binding\.node/);
  assert.match((parseManifest(JSON.stringify({ ...good, files: [{ ...good.files[0], name: '../x' }, ...good.files] }), { ortVersion: ORT, platform: 'linux-x64' }) as { reason: string }).reason, /malformed file entry/);
});

test('every module that loads onnxruntime-node imports ort-binding.ts first, so each thread follows the process\'s choice', () => {
  const files = fs.readdirSync(path.join(REPO, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(REPO, 'src', f));
  const loaders = files.filter((f) => /^import ort from 'onnxruntime-node';$/m.test(fs.readFileSync(f, 'utf8')));
  assert.ok(loaders.length >= 5, loaders.join(', '));
  for (const f of loaders) {
    const imports = fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('import '));
    assert.match(imports[0], /^import '(\.\/|\.\.\/\.\.\/inference\/node\/)ort-binding\.ts';$/, `${path.relative(REPO, f)}: its first import must be ort-binding.ts`);
  }
});

test('the ZIP reader takes stored and deflated members out and refuses a damaged one', { skip }, async () => {
  const pkg = nupkg('zip-check.nupkg');
  const entries = listZip(pkg.file);
  assert.equal(entries.get(`${NATIVE}/libonnxruntime_providers_shared.so`)?.method, 8);
  assert.equal(entries.get(`${NATIVE}/libonnxruntime_providers_cuda.so`)?.method, 0);
  const dest = path.join(work, 'shared.so');
  const got = await extractZipEntry(pkg.file, entries.get(`${NATIVE}/libonnxruntime_providers_shared.so`)!, dest);
  assert.ok(fs.readFileSync(dest).equals(pkg.shared));
  assert.equal(got.sha256, crypto.createHash('sha256').update(pkg.shared).digest('hex'));
  const bad = nupkg('zip-damaged.nupkg', { damage: true });
  await assert.rejects(extractZipEntry(bad.file, listZip(bad.file).get(`${NATIVE}/libonnxruntime_providers_cuda.so`)!, path.join(work, 'cuda.so')), /libonnxruntime_providers_cuda\.so: CRC-32 mismatch/);
  fs.writeFileSync(path.join(work, 'not.zip'), 'plain text');
  assert.throws(() => listZip(path.join(work, 'not.zip')), /not a ZIP archive/);
});

test('bad arguments: exit 2 with the file and the reason; nothing is published', { skip }, async () => {
  const expect2 = async (r: Promise<{ code: number; err: string }>, re: RegExp) => {
    const got = await r;
    assert.equal(got.code, 2, got.err);
    assert.match(got.err, re);
  };
  fs.writeFileSync(path.join(work, 'readme.nupkg'), 'this is not a zip');
  await expect2(publish(path.join(work, 'readme.nupkg'), 1), /readme\.nupkg is not ONNX Runtime's GPU package \(\.nupkg\): not a ZIP archive/);
  const noCuda = nupkg('Microsoft.ML.OnnxRuntime.Gpu.Windows.nupkg', { omit: `${NATIVE}/libonnxruntime_providers_cuda.so` });
  await expect2(publish(noCuda.file, 1), /Windows\.nupkg is not ONNX Runtime's GPU package for linux-x64: it has no runtimes\/linux-x64\/native\/libonnxruntime_providers_cuda\.so/);
  await expect2(publish(path.join(work, 'missing.nupkg'), 1), /missing\.nupkg not found/);
  await expect2(publish(work, 1), /is not ONNX Runtime's GPU package \(\.nupkg\): it is a folder/);
  const pkg = nupkg('args.nupkg');
  await expect2(runMain(['hub', 'runtime', 'publish', pkg.file, '--platform', 'darwin-arm64', '--ort', ORT, '--release', '1', '--hub', h.url, '--key', h.publishers['runtime-team'].key.file, '--token', 't']), /--platform "darwin-arm64": GPU runtimes are published for linux-x64/);
  await expect2(runMain(['hub', 'runtime', 'publish', pkg.file, '--platform', 'linux-x64', '--ort', '1.30', '--release', '1', '--hub', h.url, '--key', h.publishers['runtime-team'].key.file, '--token', 't']), /--ort "1\.30" is not an ONNX Runtime version x\.y\.z/);
  await expect2(runMain(['hub', 'runtime', 'publish', pkg.file, '--platform', 'linux-x64', '--ort', ORT, '--release', '0', '--hub', h.url, '--key', h.publishers['runtime-team'].key.file, '--token', 't']), /--release must be a whole number from 1, not "0"/);
  await expect2(runMain(['hub', 'runtime', 'publish', pkg.file, '--platform', 'linux-x64', '--release', '1', '--hub', h.url, '--key', 'k', '--token', 't']), /--platform, --ort and --release are required/);
  await expect2(gpu('install'), /--hub <url> is required \(this workstation has no connected hub\)/);
  await expect2(gpu('install', '--hub', h.url), /does not trust .* yet: pass --root <root\.json> once/);
  assert.deepEqual((await h.hub.storage.modelVersions()).map((v) => v.name), [], 'nothing reached the hub');
});

let first: ReturnType<typeof nupkg>;
test('published once, installed from the hub with TUF: the files, the manifest, status; installing again changes nothing', { skip }, async () => {
  first = nupkg(`Microsoft.ML.OnnxRuntime.Gpu.Linux.${ORT}.nupkg`);
  const pub = await publish(first.file, 1);
  assert.equal(pub.code, 0, pub.err);
  assert.deepEqual(lastJson(pub.out).versions, [{ name: NAME, version: 1 }]);

  const check = await gpu('install', '--check', '--hub', h.url, '--root', h.trustRoot);
  assert.equal(check.code, 0, check.err);
  assert.equal(lastJson(check.out).state, 'available');
  assert.equal(fs.existsSync(runtimeDir(home)), false, '--check installs nothing');

  const got = await gpu('install', '--hub', h.url);
  assert.equal(got.code, 0, got.err);
  const r = lastJson(got.out) as { state: string; release: number; dir: string };
  assert.equal(r.state, 'installed');
  assert.equal(r.dir, runtimeDir(home));
  assert.ok(got.out.split('\n').some((l) => l.includes('"stage":"download"') && l.includes('"received"')), 'download progress is reported');
  const dir = runtimeDir(home);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['libonnxruntime.so.1', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', MANIFEST_FILE, 'onnxruntime_binding.node'].sort());
  assert.ok(fs.readFileSync(path.join(dir, 'libonnxruntime_providers_cuda.so')).equals(first.cuda), 'the provider library is the one in the signed package');
  assert.ok(fs.readFileSync(path.join(dir, 'libonnxruntime.so.1')).equals(fs.readFileSync(path.join(appOrt, 'libonnxruntime.so.1'))), 'libonnxruntime is a copy of the app\'s own');
  const m = manifest();
  assert.equal(m.source.sha256, crypto.createHash('sha256').update(fs.readFileSync(first.file)).digest('hex'), 'the signed package\'s sha256');
  assert.deepEqual({ name: m.source.name, release: m.source.release, hub: m.source.hub }, { name: NAME, release: 1, hub: h.url });
  for (const f of m.files) assert.equal(f.sha256, crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f.name))).digest('hex'), f.name);
  assert.deepEqual(fs.readdirSync(path.join(home, 'runtimes')).filter((n) => n.startsWith('.')), [], 'no quarantine left');

  const status = await gpu('status', '--hub', h.url);
  assert.equal(status.code, 0, status.err);
  const s = lastJson(status.out) as { ortVersion: string; runtime: { state: string; source: { release: number } }; hub: { state: string; release: number }; machine: { cudaLibsMissing: string[] } };
  assert.equal(s.ortVersion, ORT);
  assert.equal(s.runtime.state, 'ok');
  assert.equal(s.runtime.source.release, 1);
  assert.deepEqual({ state: s.hub.state, release: s.hub.release }, { state: 'current', release: 1 });
  assert.ok(Array.isArray(s.machine.cudaLibsMissing));
  const text = await runMain(['gpu', 'status', '--home', home, '--hub', h.url]);
  assert.match(text.out, new RegExp(`GPU runtime: installed, every file matches its manifest \\(${NAME.replaceAll('.', '\\.')} release 1 from`));
  assert.match(text.out, /NVIDIA driver: (found|not found)/);

  const again = await gpu('install', '--hub', h.url);
  assert.equal(again.code, 0, again.err);
  assert.equal(lastJson(again.out).state, 'current');
});

test('the check hashes each file once; a file rewritten (even with its old times put back) is hashed again', { skip }, () => {
  assert.deepEqual(checkRuntime(home).state, 'ok');
  assert.deepEqual((checkRuntime(home) as { hashed: string[] }).hashed, [], 'identities cached: nothing re-hashed');
  const f = path.join(runtimeDir(home), 'libonnxruntime_providers_shared.so');
  const st = fs.statSync(f);
  fs.writeFileSync(f, fs.readFileSync(f)); // same bytes, new ctime
  fs.utimesSync(f, st.atime, st.mtime);
  const c = checkRuntime(home) as { state: string; hashed: string[] };
  assert.equal(c.state, 'ok');
  assert.deepEqual(c.hashed, ['libonnxruntime_providers_shared.so']);
});

test('a scoring run with the runtime loads ONNX Runtime from the runtime folder, and scores bit-identically', { skip }, async () => {
  const withRt = await scoreInChild(home, 'cpu');
  const without = await scoreInChild(plain, 'cpu');
  assert.equal(withRt.error, undefined, withRt.error);
  assert.equal(without.error, undefined, without.error);
  const dir = fs.realpathSync(runtimeDir(home));
  assert.equal(withRt.selection.dir, runtimeDir(home));
  assert.deepEqual(withRt.mapped, [path.join(dir, 'libonnxruntime.so.1'), path.join(dir, 'onnxruntime_binding.node')], 'ORT came from the runtime, nothing from the app folder');
  assert.deepEqual(without.mapped, [path.join(appOrt, 'libonnxruntime.so.1'), path.join(appOrt, 'onnxruntime_binding.node')]);
  assert.ok(Object.keys(withRt.outputs!).length > 0);
  assert.deepEqual(withRt.outputs, without.outputs, 'the same bytes out');
  const auto = await scoreInChild(home, 'auto');
  assert.equal(auto.provider?.chosen, 'cpu', 'no NVIDIA GPU here');
  assert.deepEqual(auto.outputs, without.outputs);
  assert.ok(auto.mapped.every((p) => p.startsWith(dir)), auto.mapped.join(', '));

  // the real CLI: `outpost score` output files are byte-identical with and without the runtime
  const demo = path.join(REPO, 'models/demo/weather');
  const sample = path.join(REPO, 'models/demo/weather-2015.csv');
  const outs: Buffer[] = [];
  for (const hm of [home, plain]) {
    assert.equal((await runCli(['models', 'add', demo, '--allow-unsigned'], { home: hm })).code, 0);
    const out = path.join(work, `scored-${path.basename(hm)}.csv`);
    const r = await runCli(['score', sample, '--model', 'seattle-weather', '--out', out, '--id', 'date'], { home: hm });
    assert.equal(r.code, 0, r.stderr);
    outs.push(fs.readFileSync(out));
  }
  assert.ok(outs[0].equals(outs[1]), 'identical scored files');
});

test('a modified file in the installed runtime: not loaded; --ep cuda fails naming it, --ep auto scores on the app\'s CPU ORT and says why; recorded', { skip }, async () => {
  const f = path.join(runtimeDir(home), 'libonnxruntime_providers_cuda.so');
  const bytes = fs.readFileSync(f);
  bytes[500] ^= 0x01; // same size: only the hash tells
  fs.writeFileSync(f, bytes);
  const events = securityEvents().length;

  const cuda = await scoreInChild(home, 'cuda');
  assert.match(cuda.error ?? '', /execution provider cuda cannot be used: the GPU runtime onnxruntime-.*-cuda12 was modified \(libonnxruntime_providers_cuda\.so has sha256 [0-9a-f]{12}…, the manifest says [0-9a-f]{12}…\): reinstall it with `outpost gpu install`/);
  const auto = await scoreInChild(home, 'auto');
  assert.equal(auto.error, undefined, auto.error);
  assert.equal(auto.provider?.chosen, 'cpu');
  const c = auto.provider!.candidates.find((x) => x.name === 'cuda')!;
  assert.match(c.reason, /libonnxruntime_providers_cuda\.so has sha256 .*reinstall it with `outpost gpu install`/);
  assert.deepEqual(auto.mapped, [path.join(appOrt, 'libonnxruntime.so.1'), path.join(appOrt, 'onnxruntime_binding.node')], 'the app\'s own ORT, not the modified runtime');
  assert.ok(securityEvents().slice(events).includes('gpu-runtime-modified'), securityEvents().join(', '));

  const status = await gpu('status', '--offline');
  assert.equal(status.code, 0);
  assert.deepEqual((lastJson(status.out) as { runtime: { state: string; file: string } }).runtime.state, 'modified');
  assert.deepEqual((lastJson(status.out) as { runtime: { state: string; file: string } }).runtime.file, 'libonnxruntime_providers_cuda.so');
  // an extra file dropped into the folder is refused the same way
  fs.writeFileSync(f, fs.readFileSync(path.join(work, 'Microsoft.ML.OnnxRuntime.Gpu.Linux.' + ORT + '.nupkg')).subarray(0, 0));
  assert.equal(checkRuntime(home).state, 'modified');
  const repaired = await gpu('install', '--hub', h.url);
  assert.equal(repaired.code, 0, repaired.err);
  assert.equal(lastJson(repaired.out).state, 'installed', 'reinstalled over the modified one');
  assert.equal(checkRuntime(home).state, 'ok');
  fs.writeFileSync(path.join(runtimeDir(home), 'libevil.so'), 'x');
  assert.match((checkRuntime(home) as { reason: string }).reason, /libevil\.so is not part of the runtime/);
  fs.rmSync(path.join(runtimeDir(home), 'libevil.so'));
});

test('tampered on the hub, damaged package, unsigned publisher, rolled back: refused at their stage, recorded; the installed runtime stays', { skip }, async () => {
  const rogue = nupkg('rogue.nupkg', { seed: 9 });
  const unsigned = await publish(rogue.file, 2, { publisher: 'churn-team' });
  assert.equal(unsigned.code, 1);
  assert.match(unsigned.err, /outside what publisher "churn-team" is delegated to sign/);

  const second = nupkg('second.nupkg', { seed: 2 });
  assert.equal((await publish(second.file, 2)).code, 0);
  const blob = h.hub.blobs.path(crypto.createHash('sha256').update(fs.readFileSync(second.file)).digest('hex'));
  const evil = fs.readFileSync(second.file);
  evil[evil.length - 100] ^= 0xff;
  fs.chmodSync(blob, 0o600);
  fs.writeFileSync(blob, evil);
  const tampered = await gpu('install', '--hub', h.url);
  assert.equal(tampered.code, 1);
  assert.match(tampered.err, /GPU runtime refused at (download|verify): .*(sha256|hash).*nothing was installed/i);
  assert.equal(manifest().source.release, 1, 'release 1 stays installed');
  assert.equal(checkRuntime(home).state, 'ok');
  assert.ok(securityEvents().some((k) => /^gpu-runtime-refused:(download|verify)$/.test(k)), securityEvents().join(', '));

  const damaged = nupkg('damaged.nupkg', { damage: true });
  assert.equal((await publish(damaged.file, 3)).code, 0, 'names are right, so it signs');
  const bad = await gpu('install', '--hub', h.url);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /GPU runtime refused at package-files: damaged\.nupkg: runtimes\/linux-x64\/native\/libonnxruntime_providers_cuda\.so: CRC-32 mismatch/);
  assert.ok(securityEvents().includes('gpu-runtime-refused:package-files'));
  assert.equal(manifest().source.release, 1);

  const m = manifest();
  fs.writeFileSync(path.join(runtimeDir(home), MANIFEST_FILE), JSON.stringify({ ...m, source: { ...m.source, release: 99 } }));
  const back = await gpu('install', '--hub', h.url);
  assert.equal(back.code, 1);
  assert.match(back.err, /GPU runtime refused at rollback: the newest signed .* is release 3, older than the installed release 99/);
  assert.ok(securityEvents().includes('gpu-runtime-refused:rollback'));

  const pull = await runMain(['pull', NAME, '--hub', h.url, '--home', home]);
  assert.equal(pull.code, 2);
  assert.match(pull.err, /is a GPU runtime, not a model: use `outpost gpu install`/);
  const list = (await (await fetch(`${h.url}/api/v1/models`)).json()) as { models: { name: string }[] };
  assert.deepEqual(list.models, [], 'the hub\'s model catalog leaves runtimes out');
});

test('remove: the runtime is gone and ONNX Runtime loads from the app again', { skip }, async () => {
  const r = await gpu('remove');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual((lastJson(r.out) as { removed: string[] }).removed, [path.basename(runtimeDir(home))]);
  assert.equal(checkRuntime(home).state, 'absent');
  const run = await scoreInChild(home, 'cpu');
  assert.deepEqual(run.mapped, [path.join(appOrt, 'libonnxruntime.so.1'), path.join(appOrt, 'onnxruntime_binding.node')]);
  assert.equal((lastJson((await gpu('remove')).out) as { removed: string[] }).removed.length, 0);
});
