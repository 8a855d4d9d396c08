// Pure policy: target names, selectors, model-file safety, package file sets, alias rollback,
// offline freshness, HTTP ranges, publish rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPublish } from '../src/hub/common/publish-policy.ts';
import { parseRange } from '../src/hub/common/range.ts';
import { parseSelector, parseTargetPath } from '../src/hub/common/target-paths.ts';
import type { ModelInfo } from '../src/onnx/common/onnx.ts';
import { checkModelSafety } from '../src/registry/common/model-safety.ts';
import { aliasRollbackProblem, chooseVersion, freshness, packageFileProblems } from '../src/registry/common/pull-policy.ts';

test('target paths: valid forms parse, every traversal/encoding trick is refused', () => {
  assert.deepEqual(parseTargetPath('churn/3/model.onnx'), { ok: true, path: { kind: 'file', name: 'churn', version: 3, file: 'model.onnx' } });
  assert.deepEqual(parseTargetPath('churn/aliases/production.json'), { ok: true, path: { kind: 'alias', name: 'churn', alias: 'production' } });
  for (const bad of ['churn/../x/model.onnx', '/churn/1/model.onnx', 'C:/x/1/a', 'churn/%2e%2e/a', 'churn/1/a\0', 'churn/1/a\\b', 'churn//1/a', 'churn/./a', 'churn/01/a', 'churn/1/.hidden', 'Churn/1/a', 'churn/1/x/y']) {
    assert.equal(parseTargetPath(bad).ok, false, JSON.stringify(bad));
  }
  assert.deepEqual(parseSelector('churn@3'), { ok: true, selector: { name: 'churn', version: 3 } });
  assert.deepEqual(parseSelector('churn:staging'), { ok: true, selector: { name: 'churn', alias: 'staging' } });
  for (const bad of ['../churn', 'churn@x', 'churn@1:a', 'churn:', '%2e%2e', '', 'a:b:c', ':production', '/churn', 'C:\\churn']) assert.equal(parseSelector(bad).ok, false, bad);
  // ":" separates the alias: a one-letter model name is not a drive letter
  assert.deepEqual(parseSelector('c:production'), { ok: true, selector: { name: 'c', alias: 'production' } });
  assert.deepEqual(parseSelector('c@2'), { ok: true, selector: { name: 'c', version: 2 } });
  assert.match((parseSelector('../churn') as { reason: string }).reason, /contains "\.\."/);
  assert.match((parseSelector('') as { reason: string }).reason, /empty/);
  assert.match((parseSelector('a:b:c') as { reason: string }).reason, /is not <name>, <name>@<version> or <name>:<alias>/);
});

const info = (initializers: ModelInfo['initializers']): ModelInfo => ({ irVersion: 8, producer: '', producerVersion: '', opsets: [], inputs: [], outputs: [], initializers, nodes: [], metadata: {} });

test('model safety: external data stays inside the package, in range, unique; sizes capped', () => {
  const ok = checkModelSafety(info([{ name: 'W', type: 'float', dims: [2, 2], external: { tensor: 'W', location: 'weights.bin', offset: 0, length: 16 } }]), 100, { 'weights.bin': 16 });
  assert.deepEqual(ok, []);
  const cases: [ModelInfo['initializers'], RegExp][] = [
    [[{ name: 'W', type: 'float', dims: [2], external: { tensor: 'W', location: '../w.bin' } }], /contains "\.\."/],
    [[{ name: 'W', type: 'float', dims: [2], external: { tensor: 'W', location: '/etc/passwd' } }], /absolute/],
    [[{ name: 'W', type: 'float', dims: [2], external: { tensor: 'W', location: 'sub/./w.bin' } }], /not a plain relative path/],
    [[{ name: 'W', type: 'float', dims: [2], external: { tensor: 'W', location: 'other.bin' } }], /not a file of this package/],
    [[{ name: 'W', type: 'float', dims: [4], external: { tensor: 'W', location: 'weights.bin', offset: 8, length: 16 } }], /runs past the end/],
    [[{ name: 'W', type: 'float', dims: [4], external: { tensor: 'W', location: 'weights.bin', offset: 0, length: 8 } }], /differs from the 16 bytes/],
    [[{ name: 'A', type: 'float', dims: [2], external: { tensor: 'A', location: 'weights.bin', offset: 0, length: 8 } }, { name: 'B', type: 'float', dims: [2], external: { tensor: 'B', location: 'weights.bin', offset: 4, length: 8 } }], /overlaps tensor "A"/],
    [[{ name: 'A', type: 'float', dims: [1] }, { name: 'A', type: 'float', dims: [1] }], /declared twice/],
    [[{ name: 'A', type: 'float', dims: [-1] }], /invalid dimensions/],
    [[{ name: 'A', type: 'double', dims: [1e6, 1e6] }], /above the cap/],
    [[{ name: 'A', type: 'float', dims: [1000] }], /inline but the model file has only 100/],
  ];
  for (const [inits, re] of cases) assert.match(checkModelSafety(info(inits), 100, { 'weights.bin': 16 }).join('; '), re);
});

test('package files, version choice, alias rollback, freshness', () => {
  assert.deepEqual(packageFileProblems(['m/1/model.onnx', 'm/1/card.json', 'm/2/model.onnx'], 'm', 1), []);
  assert.match(packageFileProblems(['m/2/model.onnx'], 'm', 2).join(), /missing card\.json/);
  assert.match(packageFileProblems(['m/2/model.onnx', 'm/2/card.json', 'm/2/x.py'], 'm', 2).join(), /extra file\(s\) x\.py/);
  assert.deepEqual(chooseVersion({ name: 'm' }, [1, 4]), { ok: true, version: 4 });
  assert.equal(chooseVersion({ name: 'm', version: 3 }, [1, 4]).ok, false);
  assert.match(aliasRollbackProblem('production', 1, [1, 2]) ?? '', /rollback attempt/);
  assert.equal(aliasRollbackProblem('production', 2, [1, 2]), undefined);
  const exp = new Date('2030-01-01T00:00:00Z');
  assert.equal(freshness(new Date('2029-12-31T00:00:00Z'), exp, 86_400).state, 'fresh');
  assert.equal(freshness(new Date('2030-01-01T12:00:00Z'), exp, 86_400).state, 'grace');
  assert.equal(freshness(new Date('2030-01-02T00:00:01Z'), exp, 86_400).state, 'expired');
  assert.equal(freshness(new Date('2030-01-01T00:00:01Z'), exp, 0).state, 'expired');
});

test('HTTP Range parsing', () => {
  assert.deepEqual(parseRange(undefined, 10), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=2-', 10), { kind: 'partial', start: 2, end: 9 });
  assert.deepEqual(parseRange('bytes=2-4', 10), { kind: 'partial', start: 2, end: 4 });
  assert.deepEqual(parseRange('bytes=-3', 10), { kind: 'partial', start: 7, end: 9 });
  assert.deepEqual(parseRange('bytes=10-', 10), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=0-1,3-4', 10), { kind: 'full' });
});

test('publish policy: immutability, growth, delegation', () => {
  const e = (s: string) => ({ length: 1, sha256: s.repeat(64).slice(0, 64) });
  const base = { publisher: 'p', isDelegated: (p: string) => p.startsWith('m/'), latestVersion: (n: string) => (n === 'm' ? 2 : undefined) };
  const prev = { 'm/2/model.onnx': e('a'), 'm/2/card.json': e('b') };
  assert.deepEqual(checkPublish({ ...base, previous: prev, next: { ...prev, 'm/3/model.onnx': e('c'), 'm/3/card.json': e('d') } }).problems, []);
  assert.match(checkPublish({ ...base, previous: prev, next: { ...prev, 'm/1/model.onnx': e('c'), 'm/1/card.json': e('d') } }).problems.join(), /only grow/);
  assert.match(checkPublish({ ...base, previous: prev, next: { 'm/2/model.onnx': e('f'), 'm/2/card.json': e('b') } }).problems.join(), /immutable/);
  assert.match(checkPublish({ ...base, previous: {}, next: { 'x/3/model.onnx': e('c') } }).problems.join(), /outside what publisher/);
  const moved = checkPublish({ ...base, previous: { ...prev, 'm/aliases/prod.json': e('1') }, next: { ...prev, 'm/aliases/prod.json': e('2') } });
  assert.deepEqual(moved.problems, []);
  assert.equal(moved.change.aliases.length, 1);
});
