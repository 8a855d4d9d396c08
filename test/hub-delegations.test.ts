// Delegation rules as plain data: glob overlap (exact), the shapes a delegation may take, and the
// words an operator reads about a change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delegationChanges, delegationProblems, globOfPaths } from '../src/hub/common/delegations.ts';
import { globsOverlap, overlapExample } from '../src/hub/common/globs.ts';

test('glob overlap is decided exactly, with a witness name', () => {
  const cases: [string, string, boolean][] = [
    ['churn*', 'c*', true], ['churn*', 'fraud*', false], ['churn', 'churn', true], ['churn', 'churn2', false],
    ['*', 'anything', true], ['a?c', 'abc', true], ['a?c', 'ab', false], ['*x', 'y*', true], ['a*b', 'b*a', false],
    ['ch*rn', 'c*n', true], ['churn-?', 'churn-ab', false], ['*-eu', '*-us', false], ['m?', '?n', true],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(globsOverlap(a, b), want, `${a} vs ${b}`);
    assert.equal(globsOverlap(b, a), want, `${b} vs ${a}`);
    const w = overlapExample(a, b);
    if (!want) { assert.equal(w, undefined); continue; }
    const re = (g: string) => new RegExp(`^${g.replace(/[.]/g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    assert.ok(w !== undefined && re(a).test(w) && re(b).test(w), `${a} vs ${b}: witness ${w}`);
  }
});

test('delegations: one glob each, keys listed, reachable threshold, no overlaps', () => {
  const ok = { name: 'churn-team', keyIds: ['k1'], threshold: 1, paths: ['churn*/*/*'] };
  assert.deepEqual(delegationProblems([ok], new Set(['k1'])), []);
  assert.equal(globOfPaths(['churn*/*/*']), 'churn*');
  assert.equal(globOfPaths(['churn*/*']), undefined);
  assert.equal(globOfPaths(['../*/*']), undefined);
  const problems = delegationProblems([
    ok,
    { name: 'c-team', keyIds: ['k2'], threshold: 1, paths: ['c*/*/*'] },
    { name: 'root', keyIds: ['k9'], threshold: 2, paths: ['x/*/*', 'y/*/*'] },
  ], new Set(['k1', 'k2']));
  assert.match(problems.join('\n'), /"root" is not a valid publisher name/);
  assert.match(problems.join('\n'), /are not one model-name glob/);
  assert.match(problems.join('\n'), /key k9… is not in the delegation's keys/);
  assert.match(problems.join('\n'), /threshold 2 is not between 1 and its 1 key/);
  assert.match(problems.join('\n'), /"churn-team" \(churn\*\) and "c-team" \(c\*\) overlap/);
});

test('changes are spelled out: new, key change, threshold, glob, revoked', () => {
  const a = { name: 'churn-team', keyIds: ['aaaa'], threshold: 1, paths: ['churn*/*/*'] };
  const lines = delegationChanges([a, { name: 'old-team', keyIds: ['cccc'], threshold: 1, paths: ['old/*/*'] }], [
    { ...a, keyIds: ['bbbb'], threshold: 1, paths: ['churn/*/*'] },
    { name: 'fraud-team', keyIds: ['dddd'], threshold: 1, paths: ['fraud/*/*'] },
  ]);
  assert.deepEqual(lines, [
    'KEY CHANGE for publisher "churn-team": adds bbbb; REMOVES aaaa (now bbbb); devices will show that this team\'s signing key changed',
    'publisher "churn-team": models churn* → churn',
    'NEW publisher "fraud-team": models fraud, keys dddd, threshold 1',
    'REVOKED publisher "old-team" (models old): devices will no longer install its models',
  ]);
});
