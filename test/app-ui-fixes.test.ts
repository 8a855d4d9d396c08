// Defects found in first real use of the app (issue 12 §3), checked at the service (the one
// implementation both transports host): the provider card never waits forever, a running job's
// counters are live, a provider that cannot work is refused when saved, rollback names its target
// and refuses a stale confirmation; and which model Score and Drift open on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ApiEvent, JobSummary, ModelSummary } from '../src/api/common/contract.ts';
import { createService, type Service } from '../src/api/node/service.ts';
import { getJob } from '../src/store/node/jobs.ts';
import { getSettings, openStore, updateSettings } from '../src/store/node/store.ts';
import { defaultModelRef } from '../renderer/src/default-model.ts';
import { bigCsv, DEMO_PACKAGE } from './helpers/app-harness.ts';
import { BIN, CLI_NODE_FLAGS } from './helpers/cli.ts';
import { tempDir, tinyCard, writePackage } from './helpers/packages.ts';

/** A provider that can never work on this platform (no probe needed to know). */
const IMPOSSIBLE = process.platform === 'darwin' ? 'dml' : 'coreml';

describe('service fixes', () => {
  let home: string;
  let files: string;
  let svc: Service;
  before(() => {
    home = tempDir('outpost-ui-fixes-');
    files = tempDir('outpost-ui-fixes-files-');
    // status answers at once ("checking") instead of waiting for the probe: the UI must ask again
    svc = createService({ home, providerWaitMs: 0 });
    const store = openStore(home);
    updateSettings(store, { allowedFolders: [files] });
    store.close();
  });
  after(async () => {
    await svc?.close();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(files, { recursive: true, force: true });
  });

  test('the provider card says "checking" while the probe runs, then the decision — never checking forever', async () => {
    const first = await svc.handlers.status({});
    assert.equal(first.provider.state, 'checking', JSON.stringify(first.provider));
    assert.equal(first.provider.chosen, null);
    let s = first;
    for (let i = 0; i < 600 && s.provider.state === 'checking'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await svc.handlers.status({});
    }
    assert.equal(s.provider.state, 'decided', JSON.stringify(s.provider));
    assert.ok(s.provider.chosen, 'a provider was chosen');
  });

  test('a provider check that fails is reported with its reason (state "failed"), not as "checking"', async () => {
    const store = openStore(home);
    updateSettings(store, { provider: IMPOSSIBLE }); // e.g. set before this machine changed
    store.close();
    let s = await svc.handlers.status({});
    for (let i = 0; i < 600 && s.provider.state === 'checking'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await svc.handlers.status({});
    }
    assert.equal(s.provider.state, 'failed', JSON.stringify(s.provider));
    assert.equal(s.provider.chosen, null);
    assert.match(s.provider.summary, new RegExp(`${IMPOSSIBLE} cannot be used`));
    const store2 = openStore(home);
    updateSettings(store2, { provider: 'auto' });
    store2.close();
  });

  test('saving a provider that cannot work here is refused with the reason, and nothing is saved', async () => {
    const before = (await svc.handlers['settings.get']({})).settings;
    await assert.rejects(svc.handlers['settings.update']({ patch: { provider: IMPOSSIBLE, retentionMaxAgeDays: 12 } }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'provider');
      assert.match(e.message, new RegExp(`not saved: execution provider ${IMPOSSIBLE} cannot be used: .+`));
      return true;
    });
    assert.deepEqual((await svc.handlers['settings.get']({})).settings, before, 'neither the provider nor the other fields of that save were stored');
    const ok = await svc.handlers['settings.update']({ patch: { provider: 'cpu' } });
    assert.equal(ok.settings.provider, 'cpu');
    await svc.handlers['settings.update']({ patch: { provider: 'auto' } });
  });

  test('a running job reports live counters (not the last checkpoint\'s) in jobs.get and jobs.list', async () => {
    await svc.handlers['models.add']({ path: DEMO_PACKAGE, allowUnsigned: true });
    const file = bigCsv(path.join(files, 'big.csv'), 300_000);
    const seen: { progress: Extract<ApiEvent, { type: 'job-progress' }>['progress']; detail: Promise<JobSummary>; listed: Promise<JobSummary[]> }[] = [];
    let finished: (e: ApiEvent) => void;
    const done = new Promise<ApiEvent>((r) => { finished = r; });
    const unsubscribe = svc.subscribe((e) => {
      // Ask the service in the same turn as the event: it answers from the same live state.
      if (e.type === 'job-progress' && seen.length < 3 && e.progress.rowsRead > 0) {
        seen.push({ progress: e.progress, detail: svc.handlers['jobs.get']({ jobId: e.progress.jobId }), listed: svc.handlers['jobs.list']({ limit: 5 }) });
      }
      if (e.type === 'job-finished') finished(e);
    });
    const job = await svc.handlers['jobs.start']({ input: file, model: 'seattle-weather' });
    await done;
    unsubscribe();
    assert.ok(seen.length > 0, 'progress was reported');
    const store = openStore(home);
    try {
      for (const s of seen) {
        const d = await s.detail;
        assert.equal(d.rowsRead, s.progress.rowsRead, 'jobs.get: rows read as the progress panel shows them');
        assert.equal(d.rowsScored, s.progress.rowsScored);
        assert.equal(d.rowsRejected, s.progress.rowsRejected);
        const l = (await s.listed).find((j) => j.id === job.id)!;
        assert.equal(l.rowsRead, s.progress.rowsRead, 'jobs.list too');
      }
      assert.equal(getJob(store, job.id).rowsRead, 300_000);
    } finally {
      store.close();
    }
  });

  test('models.show names the rollback target; a confirmation for a version no longer active is refused', async () => {
    const pkgs = tempDir('outpost-ui-fixes-pkgs-');
    try {
      await svc.handlers['models.add']({ path: writePackage(path.join(pkgs, 'v1'), tinyCard({ version: 1 })), allowUnsigned: true });
      assert.equal((await svc.handlers['models.show']({ name: 'tiny' })).rollback, null, 'one version: nothing to roll back to');
      await svc.handlers['models.add']({ path: writePackage(path.join(pkgs, 'v2'), tinyCard({ version: 2 })), allowUnsigned: true });
      assert.deepEqual((await svc.handlers['models.show']({ name: 'tiny' })).rollback, { from: 2, to: 1 });
      await assert.rejects(svc.handlers['models.rollback']({ name: 'tiny', from: 1 }), (e: Error & { code?: string }) => e.code === 'conflict' && /tiny@1 is no longer the active version \(tiny@2 is\)/.test(e.message));
      assert.equal((await svc.handlers['models.list']({})).find((m) => m.name === 'tiny')?.activeVersion, 2, 'the stale confirmation changed nothing');
      const back = await svc.handlers['models.rollback']({ name: 'tiny', from: 2 });
      assert.equal(back.activeVersion, 1);
    } finally {
      fs.rmSync(pkgs, { recursive: true, force: true });
    }
  });

  test('settings are still readable after all that', () => {
    const store = openStore(home);
    assert.equal(getSettings(store).provider, 'auto');
    store.close();
  });
});

test('closing the service while a job\'s worker is still starting neither crashes nor leaves the job running', async () => {
  const home = tempDir('outpost-close-start-');
  const files = tempDir('outpost-close-start-files-');
  try {
    const svc = createService({ home, providerWaitMs: 0 });
    const store = openStore(home);
    updateSettings(store, { allowedFolders: [files] });
    await svc.handlers['models.add']({ path: DEMO_PACKAGE, allowUnsigned: true });
    const started = svc.handlers['jobs.start']({ input: bigCsv(path.join(files, 'big.csv'), 200_000), model: 'seattle-weather' });
    const outcome = started.then(() => 'started', (e: Error) => e.message);
    await svc.close(); // before the worker has said its job exists: it used to read the closed store then (an uncaught error)
    assert.match(await outcome, /^(started|the service is shutting down)$/);
    const jobs = store.db.prepare('SELECT status FROM jobs').all() as { status: string }[];
    assert.ok(jobs.every((j) => j.status !== 'running' && j.status !== 'completed'), `the job stopped: ${JSON.stringify(jobs)}`);
    store.close();
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(files, { recursive: true, force: true });
  }
});

test('a job removed (`outpost jobs rm`) the moment its worker lets go of it: the serving thread reports it and keeps serving', async () => {
  const home = tempDir('outpost-rm-finish-');
  const files = tempDir('outpost-rm-finish-files-');
  const svc = createService({ home, providerWaitMs: 0 });
  try {
    const store = openStore(home);
    updateSettings(store, { allowedFolders: [files] });
    store.close();
    await svc.handlers['models.add']({ path: DEMO_PACKAGE, allowUnsigned: true });
    const events: ApiEvent[] = [];
    svc.subscribe((e) => events.push(e));
    const job = await svc.handlers['jobs.start']({ input: bigCsv(path.join(files, 'small.csv'), 5_000), model: 'seattle-weather' });
    // This thread is held (spawnSync) while the worker scores: `jobs rm` is refused while the job
    // runs, and goes through once the worker has finished and let go of the job, before this
    // thread has heard that the worker ended. Its exit handler then finds no job: that threw on the
    // serving thread (an uncaught error that ended `outpost serve`).
    let removed = false;
    for (let i = 0; i < 200 && !removed; i++) {
      const r = spawnSync(process.execPath, [...CLI_NODE_FLAGS, BIN, '--home', home, 'jobs', 'rm', job.id, '--yes'], { encoding: 'utf8' });
      removed = r.status === 0;
      if (!removed) assert.match(r.stderr, /is running/, r.stderr);
    }
    assert.ok(removed, 'the job was removed once its worker let go of it');
    // what the serving thread throws is an uncaught error (it ended `outpost serve`): caught here to fail the test with it
    let onUncaught: ((e: Error) => void) | undefined;
    const finished = await new Promise<ApiEvent>((resolve, reject) => {
      onUncaught = (e) => reject(new Error(`the serving thread threw: ${e.message}`));
      process.once('uncaughtException', onUncaught);
      const seen = events.find((e) => e.type === 'job-finished');
      if (seen) resolve(seen); else svc.subscribe((e) => { if (e.type === 'job-finished') resolve(e); });
    }).finally(() => process.removeListener('uncaughtException', onUncaught!));
    assert.ok(finished.type === 'job-finished');
    assert.equal(finished.job.id, job.id);
    assert.equal(finished.error?.code, 'not-found');
    assert.match(finished.error?.message ?? '', new RegExp(`no job "${job.id}"`));
    assert.deepEqual(await svc.handlers['jobs.list']({ limit: 50 }), [], 'still serving: the job is gone');
  } finally {
    await svc.close();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(files, { recursive: true, force: true });
  }
});

describe('which model Score and Drift open on', () => {
  const model = (name: string, versions: number[], active: number | null): ModelSummary => ({
    name, activeVersion: active, versions, task: 'binary', description: null, inputs: [], source: 'local', signedBy: null, installedAt: '2026-01-01T00:00:00Z', provider: null, providerSummary: null,
  });
  const job = (modelName: string, modelVersion: number, createdAt: string) => ({ modelName, modelVersion, createdAt }) as JobSummary;
  const models = [model('zeta', [1, 2, 3], 3), model('alpha', [1], 1), model('beta', [1, 2], null)];

  test('the model of the latest job: Score its active version, Drift the version that job scored', () => {
    const jobs = [job('alpha', 1, '2026-01-01T10:00:00Z'), job('zeta', 2, '2026-01-02T10:00:00Z')];
    assert.equal(defaultModelRef(models, jobs, 'score'), 'zeta@3');
    assert.equal(defaultModelRef(models, jobs, 'drift'), 'zeta@2');
    // the same answer whatever order the lists come in
    assert.equal(defaultModelRef([...models].reverse(), [...jobs].reverse(), 'drift'), 'zeta@2');
  });

  test('jobs of removed models or versions are passed over', () => {
    const jobs = [job('alpha', 1, '2026-01-01T10:00:00Z'), job('gone', 1, '2026-01-03T10:00:00Z'), job('zeta', 9, '2026-01-02T10:00:00Z')];
    assert.equal(defaultModelRef(models, jobs, 'drift'), 'alpha@1', 'zeta@9 is not installed');
    assert.equal(defaultModelRef(models, jobs, 'score'), 'zeta@3', 'score offers the active version of the model used last');
  });

  test('no jobs: the first model by name that has an active version; nothing when there is none', () => {
    assert.equal(defaultModelRef(models, [], 'score'), 'alpha@1');
    assert.equal(defaultModelRef(models, [], 'drift'), 'alpha@1');
    assert.equal(defaultModelRef([model('beta', [1, 2], null)], [], 'score'), undefined);
    assert.equal(defaultModelRef([model('beta', [1, 2], null)], [], 'drift'), 'beta@2');
    assert.equal(defaultModelRef([], [], 'score'), undefined);
  });
});
