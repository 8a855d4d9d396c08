// Duplicate JSON keys (src/common/json-duplicates.ts): JSON.parse keeps the last of a repeated key
// silently; Outpost refuses such objects naming the key and where it is. The fast path (':' count
// equal to the parsed key count) must never hide a duplicate, and the walk must not invent one
// (colons, quotes and backslashes in strings; the same key in sibling objects; escaped keys).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeDuplicate, duplicateJsonKey, jsonShapeProblem, MAX_JSON_DEPTH } from '../src/common/json-duplicates.ts';

const dup = (text: string) => duplicateJsonKey(text, JSON.parse(text));

test('no duplicate: flat, nested, sibling objects with the same keys, colons/quotes/backslashes in strings', () => {
  for (const text of [
    '{}', '[]', '1', '"a:b"', 'null', '{"a":1,"b":2}',
    '{"records":[{"a":1,"b":2},{"a":3,"b":4}]}',
    '{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}',
    '{"t":"2024-01-01T10:00:00","u":"x:y:z","a":1}',
    '{"q":"say \\"a\\": 1, \\"a\\": 2","a":1}',
    '{"bs":"\\\\","a":"\\\\\\"","b":1}',
    '{"a\\"b":1,"a":2,"b":3}',
    '{ "a" : 1 , "b" : [ 1 , 2 , { "a" : 3 } ] }',
    '{"":1,"x":{"":2}}',
  ]) assert.equal(dup(text), null, text);
});

test('a repeated key is found at any depth, with its path; escaped spellings are the same key', () => {
  assert.deepEqual(dup('{"a":1,"a":2}'), { key: 'a', path: '' });
  assert.deepEqual(dup('{"records":[{"a":1},{"a":1,"b":2,"a":3}]}'), { key: 'a', path: 'records[1]' });
  assert.deepEqual(dup('{"x":{"y":[0,[1,{"k":1,"k":1}]]}}'), { key: 'k', path: 'x.y[1][1]' });
  assert.deepEqual(dup('{"temp_max":1,"temp\\u005fmax":2}'), { key: 'temp_max', path: '' });
  assert.deepEqual(dup('{"odd key":{"z":1,"z":1}}'), { key: 'z', path: '["odd key"]' });
  // the fast path would be fooled if it counted only one side: a ':' in a string AND a dropped key
  assert.deepEqual(dup('{"t":"10:00","a":1,"a":2}'), { key: 'a', path: '' });
  assert.deepEqual(dup('{"__proto__":1,"__proto__":2}'), { key: '__proto__', path: '' });
  // the key is shown escaped (controls, bidi overrides), like every request-supplied name
  assert.equal(describeDuplicate(dup('{"a\\u202eb":1,"a\\u202eb":2}')!), 'the key "a\\u202eb" twice');
  assert.equal(describeDuplicate(dup('{"r":[{"a":1,"a":2}]}')!), 'the key "a" twice in r[0]');
});

test('nesting as deep as JSON.parse takes: no stack overflow, the duplicate at the bottom found', () => {
  const depth = 100_000;
  const text = `${'{"n":'.repeat(depth)}{"a":1,"a":2}${'}'.repeat(depth)}`;
  const d = dup(text);
  assert.equal(d?.key, 'a');
  assert.equal(d?.path.split('.').length, depth);
  assert.equal(dup(`${'['.repeat(depth)}1${']'.repeat(depth)}`), null);
});

test('nesting past the record limit is a problem of its own (found before anything recurses into the value)', () => {
  const nest = (n: number) => `{"a":${'['.repeat(n - 1)}1${']'.repeat(n - 1)}}`;
  const shape = (text: string) => jsonShapeProblem(text, JSON.parse(text));
  assert.equal(shape(nest(MAX_JSON_DEPTH)), null, 'the top object and 63 arrays: at the limit');
  assert.deepEqual(shape(nest(MAX_JSON_DEPTH + 1)), { kind: 'depth', limit: MAX_JSON_DEPTH });
  assert.deepEqual(shape(`{"r":[${'{"x":'.repeat(200_000)}1${'}'.repeat(200_000)}]}`), { kind: 'depth', limit: MAX_JSON_DEPTH });
  assert.deepEqual(shape('{"a":1,"a":[[1]]}'), { kind: 'duplicate', key: 'a', path: '' });
  assert.equal(shape('[[[]]]'), null);
});

test('with the keys read: a repeat under them is a problem, one elsewhere is listed and the walk goes on', () => {
  const shape = (text: string, read: string[]) => {
    const ignored: { key: string; path: string }[] = [];
    return { problem: jsonShapeProblem(text, JSON.parse(text), MAX_JSON_DEPTH, new Set(read), ignored), ignored };
  };
  assert.deepEqual(shape('{"a":1,"n":1,"n":2,"m":{"k":1,"k":2}}', ['a']), { problem: null, ignored: [{ key: 'n', path: '' }, { key: 'k', path: 'm' }] });
  assert.deepEqual(shape('{"n":1,"n":2,"a":1,"a":2}', ['a']), { problem: { kind: 'duplicate', key: 'a', path: '' }, ignored: [{ key: 'n', path: '' }] });
  assert.deepEqual(shape('{"a":{"x":[{"k":1,"k":2}]}}', ['a']).problem, { kind: 'duplicate', key: 'k', path: 'a.x[0]' });
  assert.deepEqual(shape('{"a":1,"b":[1,{"k":1,"k":2}]}', ['a']), { problem: null, ignored: [{ key: 'k', path: 'b[1]' }] });
});
