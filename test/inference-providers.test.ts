// Execution-provider choice: the pure rules with synthetic machines, then the real probe on this
// machine (which, in CI and on the dev boxes, has no GPU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutpostError } from '../src/common/errors.ts';
import ort from 'onnxruntime-node';
import { compareToReference, PROBE_INPUT, PROBE_OUTPUT, probeInput, probeInputDims, probeModel } from '../src/inference/common/probe-model.ts';
import { createSession } from '../src/inference/node/session.ts';
import {
  autoCandidates, decide, explainProbeFailure, precheck, summarizeDecision, tidyOrtMessage,
} from '../src/inference/common/providers.ts';
import type { PlatformFacts, ProbeResult } from '../src/inference/common/providers.ts';
import { gatherPlatformFacts } from '../src/inference/node/platform.ts';
import { probeProvider } from '../src/inference/node/probe.ts';
import { chooseProvider } from '../src/inference/node/providers.ts';

const gpuLinux: PlatformFacts = {
  platform: 'linux', arch: 'x64', ortVersion: '1.30.0', backends: ['cpu', 'webgpu', 'cuda', 'tensorrt'],
  linux: { cudaProviderLibsMissing: [], nvidiaDevices: ['/dev/nvidia0'], libcuda: '/usr/lib/x86_64-linux-gnu/libcuda.so.1', cudaRuntimeLibsMissing: [], vulkanLoader: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1' },
};
const bareLinux: PlatformFacts = {
  ...gpuLinux,
  linux: { cudaProviderLibsMissing: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'], nvidiaDevices: [], cudaRuntimeLibsMissing: ['libcudart.so.12', 'libcudnn.so.9'] },
};

// Messages onnxruntime-node 1.30 throws on a Linux x64 machine without a GPU (captured here).
const ORT_CUDA_FAILURE = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';
const ORT_WEBGPU_FAILURE = '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';

test('auto tries the platform GPU providers best first', () => {
  assert.deepEqual(autoCandidates('linux', 'x64'), ['cuda', 'webgpu']);
  assert.deepEqual(autoCandidates('win32', 'x64'), ['cuda', 'dml', 'webgpu']);
  assert.deepEqual(autoCandidates('darwin', 'arm64'), ['coreml', 'webgpu']);
  assert.deepEqual(autoCandidates('freebsd', 'x64'), []);
});

test('pre-checks rule providers out with a reason a person can act on', () => {
  assert.equal(precheck('cpu', bareLinux), undefined);
  assert.deepEqual(precheck('dml', bareLinux), { name: 'dml', outcome: 'not-on-platform', reason: 'onnxruntime-node 1.30.0 has no dml provider on linux/x64' });
  assert.deepEqual(precheck('cuda', bareLinux), { name: 'cuda', outcome: 'unavailable', reason: 'no NVIDIA driver found (no /dev/nvidia0, no libcuda.so.1)' });
  assert.deepEqual(precheck('webgpu', bareLinux), { name: 'webgpu', outcome: 'unavailable', reason: 'no Vulkan loader (libvulkan.so.1), which WebGPU needs on Linux' });
  // A driver but no provider libraries: the fix is the opt-in download.
  const noLibs = { ...gpuLinux, linux: { ...gpuLinux.linux!, cudaProviderLibsMissing: ['libonnxruntime_providers_cuda.so'] } };
  assert.deepEqual(precheck('cuda', noLibs), { name: 'cuda', outcome: 'unavailable', reason: 'CUDA provider libraries not installed (libonnxruntime_providers_cuda.so): run `outpost gpu install`' });
  // Everything present: only a real probe can tell.
  assert.equal(precheck('cuda', gpuLinux), undefined);
  assert.equal(precheck('webgpu', gpuLinux), undefined);
  const windows: PlatformFacts = { platform: 'win32', arch: 'x64', ortVersion: '1.30.0', backends: ['cpu', 'webgpu', 'dml'] };
  assert.equal(precheck('dml', windows), undefined);
  assert.match(precheck('cuda', windows)!.reason, /no cuda provider on win32\/x64/);
});

test('ORT failure messages become short reasons', () => {
  assert.equal(tidyOrtMessage(ORT_WEBGPU_FAILURE), 'Failed to get a WebGPU adapter: No supported adapters');
  assert.equal(tidyOrtMessage(ORT_CUDA_FAILURE), ORT_CUDA_FAILURE);
  assert.equal(tidyOrtMessage('first line\nsecond line'), 'first line');
  assert.equal(tidyOrtMessage('x'.repeat(500)).length, 240);
  assert.equal(explainProbeFailure('webgpu', ORT_WEBGPU_FAILURE, gpuLinux), 'no WebGPU adapter found (ORT: Failed to get a WebGPU adapter: No supported adapters)');
  const noRuntime = { ...gpuLinux, linux: { ...gpuLinux.linux!, cudaRuntimeLibsMissing: ['libcublasLt.so.12', 'libcudnn.so.9'] } };
  assert.match(explainProbeFailure('cuda', ORT_CUDA_FAILURE, noRuntime), /^CUDA provider could not load: CUDA 12 \/ cuDNN 9 libraries not found \(libcublasLt\.so\.12, libcudnn\.so\.9\)/);
  // With the libraries present, ORT's own words are all we have.
  assert.equal(explainProbeFailure('cuda', ORT_CUDA_FAILURE, gpuLinux), ORT_CUDA_FAILURE);
});

test('decisions place probe results and read well in one line', () => {
  const fell: ProbeResult[] = [
    { name: 'cuda', outcome: 'unavailable', reason: 'no NVIDIA driver found' },
    { name: 'webgpu', outcome: 'probe-failed', reason: 'no WebGPU adapter found' },
    { name: 'cpu', outcome: 'ok', reason: 'always available' },
  ];
  const d = decide('auto', fell, [])!;
  assert.equal(d.chosen, 'cpu');
  assert.deepEqual(d.candidates.map((c) => c.outcome), ['unavailable', 'probe-failed', 'chosen']);
  assert.equal(summarizeDecision(d), 'cpu (auto: cuda — no NVIDIA driver found; webgpu — no WebGPU adapter found)');

  const gpu = decide('auto', [{ name: 'cuda', outcome: 'ok', reason: 'probe model ran and matched CPU' }], ['webgpu'])!;
  assert.deepEqual(gpu.candidates, [
    { name: 'cuda', outcome: 'chosen', reason: 'probe model ran and matched CPU' },
    { name: 'webgpu', outcome: 'not-tried', reason: '' },
  ]);
  assert.equal(summarizeDecision(gpu), 'cuda (auto)');
  const second = decide('auto', [{ name: 'cuda', outcome: 'mismatch', reason: 'results differ from CPU' }, { name: 'webgpu', outcome: 'ok', reason: 'ok' }], [])!;
  assert.equal(summarizeDecision(second), 'webgpu (auto: cuda — results differ from CPU)');
  assert.equal(summarizeDecision(decide('cuda', [{ name: 'cuda', outcome: 'ok', reason: '' }], [])!), 'cuda (requested)');
  assert.equal(decide('cuda', [{ name: 'cuda', outcome: 'unavailable', reason: 'x' }], []), undefined);
});

test('a provider whose results are off is rejected', () => {
  const ref = Float32Array.from([0.25, 0.5, 0.125, 0.125]);
  assert.equal(compareToReference(ref, ref).ok, true);
  assert.equal(compareToReference(ref, [0.2502, 0.5004, 0.125, 0.1249]).ok, true); // TF32-sized noise
  const off = compareToReference(ref, [0.25, 0.4, 0.125, 0.125]);
  assert.equal(off.ok, false);
  assert.match(off.detail, /results differ from CPU \(value 1: 0\.4 vs 0\.5\)/);
  assert.equal(compareToReference(ref, [0.25, Number.NaN, 0.125, 0.125]).ok, false);
  assert.equal(compareToReference(ref, [0, 0, 0, 0]).ok, false);
  assert.match(compareToReference(ref, [0.25]).detail, /1 values, CPU gives 4/);
});

test('the probe model runs under the strict probe settings and gives four distributions', async () => {
  const session = await createSession(probeModel(), { ep: 'cpu', intraOpThreads: 1, strict: true });
  const out = (await session.run({ [PROBE_INPUT]: new ort.Tensor('float32', probeInput(), probeInputDims) }))[PROBE_OUTPUT];
  await session.release();
  assert.deepEqual(out.dims, [4, 4]);
  const p = out.data as Float32Array;
  for (let r = 0; r < 4; r++) assert.ok(Math.abs(p[r * 4] + p[r * 4 + 1] + p[r * 4 + 2] + p[r * 4 + 3] - 1) < 1e-6);
  assert.ok(new Set(Array.from(p, (v) => v.toFixed(3))).size > 4, 'not a constant output: a broken provider must be able to differ');
});

const facts = gatherPlatformFacts();
const hasNvidia = (facts.linux?.nvidiaDevices.length ?? 0) > 0;
const hasVulkan = facts.linux?.vulkanLoader !== undefined;
const noGpuHere = facts.platform === 'linux' && facts.arch === 'x64' && !hasNvidia && !hasVulkan;
const whyNotHere = 'this machine has a GPU driver or Vulkan, or is not linux/x64: the no-GPU expectations do not apply';

test('this machine\'s facts come from the real ORT build', () => {
  assert.equal(facts.ortVersion, '1.30.0');
  assert.ok(facts.backends.includes('cpu'));
  if (facts.platform === 'linux') assert.ok(facts.linux);
});

test('auto on a machine without a GPU chooses cpu and says why not cuda and webgpu', { timeout: 60_000, skip: noGpuHere ? false : whyNotHere }, async () => {
  const d = await chooseProvider('auto', { reprobe: true });
  assert.equal(d.chosen, 'cpu');
  assert.deepEqual(d.candidates.map((c) => [c.name, c.outcome]), [['cuda', 'unavailable'], ['webgpu', 'unavailable'], ['cpu', 'chosen']]);
  assert.match(d.candidates[0].reason, /^no NVIDIA driver found/);
  assert.match(d.candidates[1].reason, /Vulkan/);
  assert.match(summarizeDecision(d), /^cpu \(auto: cuda — no NVIDIA driver found \(.*\); webgpu — no Vulkan loader/);
  // Cached: asking again gives the same answer.
  assert.deepEqual(await chooseProvider('auto'), d);
});

test('an explicit provider that cannot work throws a provider error, never falls back', { timeout: 60_000, skip: noGpuHere ? false : whyNotHere }, async () => {
  await assert.rejects(chooseProvider('cuda'), (e: unknown) => {
    assert.ok(e instanceof OutpostError);
    assert.equal(e.code, 'provider');
    assert.match(e.message, /^execution provider cuda cannot be used: no NVIDIA driver found/);
    return true;
  });
  await assert.rejects(chooseProvider('dml'), { code: 'provider', message: /no dml provider on linux\/x64/ });
  await assert.rejects(chooseProvider('coreml'), { code: 'provider', message: /no coreml provider on linux\/x64/ });
});

test('cpu always works without a probe; unknown names are usage errors', { timeout: 60_000 }, async () => {
  assert.deepEqual(await chooseProvider('cpu'), { request: 'cpu', chosen: 'cpu', candidates: [{ name: 'cpu', outcome: 'chosen', reason: 'requested' }] });
  await assert.rejects(chooseProvider('tpu' as never), { code: 'usage', message: /unknown execution provider "tpu"/ });
});

test('the probe really asks ORT when the pre-checks pass (and reports its failure)', { timeout: 60_000, skip: noGpuHere ? false : whyNotHere }, async () => {
  // Pretend the driver and libraries are there: ORT itself must then fail to load CUDA here.
  const pretend: PlatformFacts = { ...facts, linux: { ...facts.linux!, nvidiaDevices: ['/dev/nvidia0'], libcuda: '/pretend/libcuda.so.1', cudaProviderLibsMissing: [] } };
  const r = await probeProvider('cuda', pretend);
  assert.equal(r.outcome, 'probe-failed');
  assert.match(r.reason, /Failed to load shared library/);
  assert.deepEqual(await probeProvider('cpu', facts), { name: 'cpu', outcome: 'ok', reason: 'always available' });
});

test('a probe that does not answer in time counts as failed', { timeout: 60_000 }, async () => {
  // Starting the probe worker alone (loading ORT) takes far longer than 1 ms.
  await assert.rejects(chooseProvider('webgpu', { reprobe: true, probeTimeoutMs: 1 }), { code: 'provider', message: /webgpu cannot be used: no answer within 1 ms/ });
  // The failure is cached until asked to probe again.
  await assert.rejects(chooseProvider('webgpu'), { message: /no answer within 1 ms/ });
  const again = await chooseProvider('auto', { reprobe: true });
  assert.ok(again.candidates.every((c) => !c.reason.includes('no answer')));
});
