// The packaged app's smoke inference (RunAsNode fuse off: the core cannot spawn its binary as Node):
// the core's runner asks the main process, whose smoke host runs the real smoke child in a process
// of its own. Electron's utilityProcess.fork is stood in for by a Node child process (same stdout,
// stderr, kill and exit); the messages cross a real MessageChannel as they cross the utility port.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { isSmokeDone, smokeHost, type ForkLike } from '../electron/smoke-host.ts';
import { PullRefused } from '../src/registry/node/errors.ts';
import { SMOKE_CHILD, setSmokeRunner, smokeTest, type SmokeRun } from '../src/registry/node/smoke.ts';
import { DEMO_PACKAGE } from './helpers/app-harness.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
const { port1: core, port2: main } = new MessageChannel();
after(() => { setSmokeRunner(undefined); core.close(); fs.rmSync(root, { recursive: true, force: true }); });

const forked: string[][] = [];
const fork: ForkLike = (script, args, env) => {
  forked.push([script, ...args]);
  return spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
};
let script = SMOKE_CHILD;
const serve = smokeHost((s, a, e) => fork(s, a, e), script, (m) => main.postMessage(m));
main.on('message', (m) => { serve(m); });

// The core side, as core-host.ts installs it.
const waiting = new Map<number, (r: SmokeRun) => void>();
let next = 1;
core.on('message', (m) => { if (isSmokeDone(m)) { waiting.get(m.smokeDone.id)?.(m.smokeDone.run); waiting.delete(m.smokeDone.id); } });
setSmokeRunner((dir, { timeoutMs, signal }) => new Promise((resolve) => {
  const id = next++;
  waiting.set(id, resolve);
  core.postMessage({ smoke: { id, dir, timeoutMs } });
  signal?.addEventListener('abort', () => core.postMessage({ smokeCancel: id }), { once: true });
}));

test('a good package passes the smoke inference run by the main process\'s smoke host', async () => {
  await smokeTest(DEMO_PACKAGE);
  assert.deepEqual(forked.at(-1), [SMOKE_CHILD, DEMO_PACKAGE], 'the host runs its own fixed script on the folder');
});

test('a package whose model does not load is refused at the smoke stage, naming why', async () => {
  const bad = path.join(root, 'bad');
  fs.cpSync(DEMO_PACKAGE, bad, { recursive: true });
  fs.writeFileSync(path.join(bad, 'model.onnx'), Buffer.from('not an onnx model at all'));
  await assert.rejects(smokeTest(bad), (e: unknown) => e instanceof PullRefused && /smoke inference on one row of zeros: the inference process failed \(exit 1\)/.test(e.message));
});

test('a hanging child is killed at the time limit; cancelling kills it at once', async () => {
  script = path.join(root, 'hang.mjs');
  fs.writeFileSync(script, 'setInterval(() => {}, 1000);\n');
  const hang = smokeHost(fork, script, (m) => main.postMessage(m));
  main.removeAllListeners('message');
  main.on('message', (m) => { hang(m); });
  await assert.rejects(smokeTest(DEMO_PACKAGE, { timeoutMs: 300 }), /the inference process died \(SIGTERM\)/);
  const ac = new AbortController();
  const pending = smokeTest(DEMO_PACKAGE, { timeoutMs: 600_000, signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(pending, /the inference process failed \(exit null\)|died/);
  assert.equal(hang({ call: 'anything else' }), false, 'other messages are not the smoke host\'s');
});
