// Worker threads are named after their entry (src/runtime/node/worker.ts): the OS thread carries
// the name, so per-thread CPU (/proc/<pid>/task/*/comm, top -H, perf) tells the workers apart.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startWorker, threadName } from '../src/runtime/node/worker.ts';

test('thread names come from the entry file: -worker dropped, a bare worker named after its area', () => {
  const src = pathToFileURL(path.resolve('src')).href;
  assert.equal(threadName(new URL(`${src}/inference/node/worker.ts`)), 'inference');
  assert.equal(threadName(new URL(`${src}/io/node/sink-worker.ts`)), 'sink');
  assert.equal(threadName(new URL(`${src}/store/node/wal-checkpoint-worker.ts`)), 'wal-checkpoint');
  assert.equal(threadName(new URL(`${src}/monitor/node/stats-worker.ts`)), 'stats');
  assert.equal(threadName(new URL('file:///opt/outpost/out/src/io/node/csv-span-worker.js')), 'csv-span');
  assert.equal(threadName(new URL('file:///opt/outpost/out/src/inference/node/probe-worker.mjs')), 'probe');
});

test('a started worker runs on an OS thread of that name (an explicit name wins)', async (t) => {
  if (!fs.existsSync('/proc/self/task')) {
    t.skip('no /proc/self/task on this platform: OS thread names are read there');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-worker-name-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const entry = path.join(dir, 'naming-check-worker.mjs');
  fs.writeFileSync(entry, "import { parentPort } from 'node:worker_threads'; parentPort.postMessage('up'); setInterval(() => {}, 1000);\n");
  const names = () => fs.readdirSync('/proc/self/task').map((tid) => {
    try {
      return fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
    } catch {
      return ''; // a thread that ended meanwhile
    }
  });
  for (const [options, expected] of [[{}, 'naming-check'], [{ name: 'chosen' }, 'chosen']] as const) {
    const worker = startWorker(pathToFileURL(entry), options);
    try {
      await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
      assert.ok(names().includes(expected), `a thread named ${expected} among ${names().join(', ')}`);
    } finally {
      await worker.terminate();
    }
  }
});
