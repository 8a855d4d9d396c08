// The pure rules of staged rollout (src/sync/common/assignments.ts): which devices a percentage
// takes (stable, nested as the percentage grows, close to the asked share), and what a device
// accepts as an assignment from its hub (anything else is refused with the reason).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignmentRef, fnv1a, inPercent, parseAssignments } from '../src/sync/common/assignments.ts';
import { isRolloutPercent, percentFromText } from '../src/hub/common/rollout-input.ts';

const devices = Array.from({ length: 4000 }, (_, i) => `dev_${i.toString(36).padStart(20, 'a')}`);

test('a percentage is stable, nested as it grows, and takes about the share asked', () => {
  const pick = (seed: string, p: number) => devices.filter((d) => inPercent(seed, d, p));
  const ten = pick('churn/line-1', 10);
  assert.deepEqual(pick('churn/line-1', 10), ten, 'the same devices every time');
  const fifty = new Set(pick('churn/line-1', 50));
  assert.ok(ten.every((d) => fifty.has(d)), '50 % keeps every device 10 % took');
  // binomial: 4000 × 0.1 = 400 ± 19 (1 sd); allow 5 sd
  assert.ok(Math.abs(ten.length - 400) < 95, `10 % took ${ten.length} of 4000`);
  assert.ok(Math.abs(fifty.size - 2000) < 160, `50 % took ${fifty.size} of 4000`);
  assert.equal(pick('churn/line-1', 100).length, devices.length);
  assert.equal(pick('churn/line-1', 0.01).length < 10, true);
  const other = new Set(pick('churn/line-2', 10));
  assert.ok(ten.filter((d) => other.has(d)).length < ten.length / 2, 'another seed takes other devices');
  assert.equal(fnv1a('a'), 0xe40c292c, 'FNV-1a 32 reference value');
});

test('assignments: valid ones pass; malformed, hostile and duplicate ones are refused with the reason', () => {
  const ok = { rollout: 'ro_0123456789abcdef0123', generation: 1, action: 'install', model: 'churn', alias: 'production' };
  const back = { rollout: 'ro_aaaaaaaaaaaaaaaaaaaa', generation: 2, action: 'activate', model: 'fraud', version: 3 };
  const r = parseAssignments({ assignments: [ok, back] });
  assert.deepEqual(r.refused, []);
  assert.deepEqual(r.ok.map(assignmentRef), ['churn:production', 'fraud@3']);

  const bad = parseAssignments({
    assignments: [
      { ...ok, alias: '../../etc/passwd' },
      { ...ok, model: 'Churn Model' },
      { ...ok, rollout: 'x' },
      { ...ok, action: 'exec', command: 'rm -rf /' },
      { ...ok, sha256: 'ab'.repeat(32) }, // an assignment never carries hashes the device would trust
      { ...back, version: 0 },
      { ...ok, rollout: 'ro_bbbbbbbbbbbbbbbbbbbb', alias: 'canary' },
      { ...ok, rollout: 'ro_cccccccccccccccccccc', model: 'churn', alias: 'staging' }, // a second assignment for churn
      null,
    ],
  });
  assert.deepEqual(bad.ok.map(assignmentRef), ['churn:canary']);
  const reasons = bad.refused.map((x) => x.reason);
  assert.equal(reasons.length, 8);
  assert.match(reasons[0], /assignment 1 is malformed: alias: an alias name/);
  assert.match(reasons[1], /assignment 2 is malformed: model: a model name/);
  assert.match(reasons[2], /assignment 3 is malformed: rollout/);
  assert.match(reasons[3], /assignment 4 is malformed: action/);
  assert.match(reasons[4], /assignment 5 is malformed: .*sha256|Unrecognized key/);
  assert.match(reasons[5], /assignment 6 is malformed: version/);
  assert.match(reasons[6], /assignment 8 names churn a second time/);
  assert.match(reasons[7], /assignment 9 is malformed/);
  assert.equal(bad.refused[0].rollout, ok.rollout, 'reported against the rollout id it names');
  assert.equal(bad.refused[2].rollout, undefined, 'an unreadable id is not reported against');

  assert.match(parseAssignments({}).refused[0].reason, /no "assignments" list/);
  assert.match(parseAssignments({ assignments: Array(300).fill(ok) }).refused[0].reason, /at most 256/);
});

test('a rollout percentage takes every number of hundredths from 0.01 to 100, as typed or as a JSON number, and nothing finer', () => {
  for (let h = 1; h <= 10_000; h++) {
    const text = (h / 100).toFixed(2);
    assert.equal(percentFromText(text), Number(text), text); // 1.10, 2.20, 0.07 … (110.00000000000001 hundredths as doubles)
    assert.equal(isRolloutPercent(h / 100), true, String(h / 100));
  }
  for (const bad of ['0', '0.001', '1.105', '100.01', '-5', 'NaN', '1e3', '1e1', '0x10', '']) assert.throws(() => percentFromText(bad), /at most two decimals/, bad);
  for (const bad of [0, 0.001, 1.105, 100.01, -5, NaN, Infinity]) assert.equal(isRolloutPercent(bad), false, String(bad));
});
