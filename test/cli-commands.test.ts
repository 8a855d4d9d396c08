import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { commands } from '../src/cli/commands/index.ts';
import { DEMO_PACKAGE } from './helpers/app-harness.ts';
import { jsonLines, lastJson, runMain as cli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';


test('the command index matches the modules it loads (name), and every command has help', async () => {
  for (const entry of commands) {
    const spec = await entry.load();
    assert.equal(spec.name, entry.name);
    assert.equal(spec.summary, entry.summary, `${entry.name}: the index summary must repeat the module's`);
    assert.ok(spec.usage.startsWith(`outpost ${entry.name}`), `${entry.name}: usage "${spec.usage}"`);
    const r = await cli([...entry.name.split(' '), '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`^Usage: outpost ${entry.name}`));
  }
});

test('no command: overall help and exit 2; --help alone: exit 0; unknown command: exit 2', async () => {
  const none = await cli([]);
  assert.equal(none.code, 2);
  assert.match(none.out, /Commands:/);
  assert.equal((await cli(['--help'])).code, 0);
  const bad = await cli(['nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown command "nope"/);
  const noHome = await cli(['models', 'list', '--home']);
  assert.equal(noHome.code, 2);
});

test('--json: stdout is line-delimited JSON from first line to last, results and errors included', async () => {
  const home = tempDir('outpost-json-lines-');
  try {
    const add = await cli(['--home', home, 'models', 'add', DEMO_PACKAGE, '--allow-unsigned', '--json']);
    const list = await cli(['--home', home, 'models', 'list', '--json']);
    const bad = await cli(['--home', home, 'models', 'show', 'nope', '--json']);
    assert.equal(bad.code, 1);
    for (const r of [add, list, bad]) {
      const lines = r.out.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one result line, got:\n${r.out}`);
      assert.doesNotThrow(() => jsonLines(r.out));
    }
    assert.equal((lastJson(list.out) as { models: unknown[] }).models.length, 1);
    assert.equal((lastJson(bad.out) as { error: { code: string } }).error.code, 'not-found');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
