// The provider probe's per-machine cache: `--ep auto` answers from it (and says so) instead of
// starting ONNX Runtime in a probe worker every run; a different ORT build, driver, GPU list or CPU
// throws it away; timeouts are never cached; changing the provider setting probes again.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fingerprintChanges, mergeCache, readCache, type ProbeCacheFile } from '../src/inference/common/probe-cache.ts';
import { summarizeDecision, type ProbeResult } from '../src/inference/common/providers.ts';
import { loadProbeCache, machineFingerprint, PROBE_CACHE_FILE } from '../src/inference/node/probe-cache.ts';
import { chooseProvider } from '../src/inference/node/providers.ts';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

const fp = { ort: '1.30.0', os: 'linux x64 6.1', cpu: 'AMD EPYC × 2', gpus: [], libs: ['libcuda.so.1: '] };
const noCuda: ProbeResult = { name: 'cuda', outcome: 'unavailable', reason: 'no NVIDIA driver found (no /dev/nvidia0, no libcuda.so.1)' };
const hung: ProbeResult = { name: 'webgpu', outcome: 'probe-failed', reason: 'no answer within 60 s (session creation hung?)' };

test('a cache is read only on the machine it was written on', () => {
  const file = mergeCache(undefined, fp, [noCuda], new Date('2026-12-02T16:00:00Z'));
  assert.deepEqual(readCache(file, fp)?.results.get('cuda'), noCuda);
  assert.equal(readCache(file, fp)?.probedAt, '2026-12-02T16:00:00.000Z');
  // each thing the answer depends on invalidates it
  for (const changed of [{ ...fp, ort: '1.31.0' }, { ...fp, cpu: 'Intel Xeon × 8' }, { ...fp, gpus: ['0000:01:00.0 Model: NVIDIA L4'] }, { ...fp, libs: ['libcuda.so.1: /usr/lib/libcuda.so.550.54 123 456'] }, { ...fp, nvidiaDriver: 'NVRM version: 550.54' }]) {
    assert.equal(readCache(file, changed), undefined, JSON.stringify(fingerprintChanges(fp, changed)));
    assert.equal(fingerprintChanges(fp, changed).length, 1);
  }
  assert.equal(readCache({ ...file, format: 'other' }, fp), undefined);
  assert.equal(readCache('garbage', fp), undefined);
  assert.equal(readCache(null, fp), undefined);
});

test('timeouts are not cached; newer results replace older ones of the same machine', () => {
  const first = mergeCache(undefined, fp, [noCuda, hung], new Date('2026-12-02T16:00:00Z'));
  assert.deepEqual(first.results, [noCuda]);
  const found: ProbeResult = { name: 'cuda', outcome: 'ok', reason: 'probe model ran and matched CPU' };
  const second = mergeCache(readCache(first, fp), fp, [found], new Date('2026-12-02T17:00:00Z'));
  assert.deepEqual(second.results, [found]);
  // a hand-edited file holding a timeout does not make it stick either
  const edited: ProbeCacheFile = { ...first, results: [hung] };
  assert.equal(readCache(edited, fp)?.results.size, 0);
});

test('chooseProvider answers auto from the machine cache and says so; a changed machine probes again', { timeout: 120_000 }, async () => {
  const file = path.join(root, 'h1', PROBE_CACHE_FILE);
  const probed = await chooseProvider('auto', { cacheFile: file });
  assert.equal(probed.cachedAt, undefined);
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as ProbeCacheFile;
  assert.deepEqual(stored.fingerprint, machineFingerprint());
  assert.ok(stored.results.length >= 1);

  const cached = await chooseProvider('auto', { cacheFile: file });
  assert.equal(cached.chosen, probed.chosen);
  assert.deepEqual(cached.candidates, probed.candidates);
  assert.equal(cached.cachedAt, stored.probedAt);
  assert.match(summarizeDecision(cached), /cached probe from \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

  // the same file on a machine with another ORT build (as after an upgrade): not used, rewritten
  fs.writeFileSync(file, JSON.stringify({ ...stored, fingerprint: { ...stored.fingerprint, ort: '0.0.1' }, probedAt: '2020-01-01T00:00:00.000Z' }));
  const again = await chooseProvider('auto', { cacheFile: file });
  assert.equal(again.cachedAt, undefined);
  assert.deepEqual(loadProbeCache(file, machineFingerprint())?.results.size, stored.results.length);
  assert.notEqual(loadProbeCache(file, machineFingerprint())?.probedAt, '2020-01-01T00:00:00.000Z');

  // reprobe (a new provider setting) ignores the cache and refreshes it
  const fresh = await chooseProvider('auto', { cacheFile: file, reprobe: true });
  assert.equal(fresh.cachedAt, undefined);
});

test('outpost score says where its provider choice came from', { timeout: 180_000 }, async () => {
  const home = path.join(root, 'h2');
  const demo = path.resolve('models/demo/weather');
  assert.equal((await runCli(['models', 'add', demo, '--allow-unsigned'], { home })).code, 0);
  const input = path.resolve('models/demo/weather-2015.csv');
  const score = (out: string) => runCli(['score', input, '--model', 'seattle-weather', '--out', path.join(root, out), '--ep', 'auto'], { home });
  const first = await score('a.csv');
  assert.equal(first.code, 0, first.stderr);
  assert.doesNotMatch(first.stdout, /cached probe/);
  assert.ok(fs.existsSync(path.join(home, PROBE_CACHE_FILE)));
  const second = await score('b.csv');
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /provider: cpu \(cached probe from \d{4}-\d\d-\d\d \d\d:\d\d UTC[^)]*\)?/);
  assert.equal(fs.readFileSync(path.join(root, 'a.csv'), 'utf8'), fs.readFileSync(path.join(root, 'b.csv'), 'utf8'));
});
