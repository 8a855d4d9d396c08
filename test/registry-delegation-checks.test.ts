// A pull walks the same delegated roles several times (the alias, the probe, version bins, each
// file). tuf-js checks the signatures of a role it already holds again on every pass; the device's
// client checks each pair of delegator and role once (tuf-client.ts, verifyEachDelegationOnce).
// This test watches every signature check of a real pull: each pair is checked exactly once. That a
// role is still checked when it is first loaded (a forged or under-signed role is refused) is
// registry-adversarial.test.ts's "a compromised hub cannot forge a model" and threshold tests.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Metadata, type Targets } from '@tufjs/models';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { pull } from '../src/registry/node/pull.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';

let h: TestHub;
const work = tmpDir('outpost-delegation-checks-');
before(async () => { h = await startTestHub({ publishers: [{ name: 'churn-team', glob: 'churn*' }] }); });
after(async () => { await h.close(); fs.rmSync(work, { recursive: true, force: true }); });

/** Every `verifyDelegate` call while `run` runs: the delegator, the role name and the role object. */
async function watchChecks<T>(run: () => Promise<T>): Promise<{ result: T; checks: { delegator: object; role: string; metadata: object }[] }> {
  const checks: { delegator: object; role: string; metadata: object }[] = [];
  const original = Metadata.prototype.verifyDelegate;
  Metadata.prototype.verifyDelegate = function (this: Metadata<Targets>, role: string, metadata: Metadata<Targets>) {
    checks.push({ delegator: this, role, metadata });
    return original.call(this, role, metadata);
  };
  try {
    return { result: await run(), checks };
  } finally {
    Metadata.prototype.verifyDelegate = original;
  }
}

test('a pull through an alias checks each delegator and role pair once', async () => {
  const publisher = h.publishers['churn-team'];
  await publishPackage({ packageDir: makePackage(work, 'churn', 1), hubUrl: h.url, keys: [publisher.key], token: publisher.token, alias: 'production' });
  const home = path.join(work, 'device-a');
  const { result, checks } = await watchChecks(() => pull({ home, hubUrl: h.url, ref: 'churn:production', rootFile: h.trustRoot, smoke: false }));
  assert.equal(result.model.version, 1);
  const roles = new Set(checks.map((c) => c.role));
  for (const role of ['root', 'timestamp', 'snapshot', 'targets', 'churn-team']) assert.ok(roles.has(role), `${role} was never checked (checked: ${[...roles].join(', ')})`);
  // the same objects checked twice: tuf-js's re-check of a role it holds was not skipped
  const seen = new Map<object, Set<object>>();
  const repeated = checks.filter((c) => {
    const of = seen.get(c.delegator) ?? new Set();
    seen.set(c.delegator, of);
    if (of.has(c.metadata)) return true;
    of.add(c.metadata);
    return false;
  });
  assert.deepEqual(repeated.map((c) => c.role), [], `${checks.length} checks: ${checks.map((c) => c.role).join(', ')}`);
});
