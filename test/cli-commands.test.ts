import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { commands } from '../src/cli/commands/index.ts';
import { DEMO_PACKAGE } from './helpers/app-harness.ts';
import { jsonLines, lastJson, runMain as cli } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';
import { quote } from '../src/common/errors.ts';


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

test('a word that groups commands (hub, hub devices, models) lists that group; a command with subcommands names them', async () => {
  for (const words of [['hub'], ['hub', 'devices'], ['models']]) {
    const group = words.join(' ');
    const members = commands.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name);
    assert.ok(members.length > 1, group);
    const help = await cli([...words, '--help']);
    assert.equal(help.code, 0, help.err);
    assert.match(help.out, new RegExp(`^Usage: outpost ${group} <command>`));
    for (const m of members) assert.ok(help.out.includes(`  ${m} `), `${group} --help lists ${m}`);
    // only that group: a command outside it is not listed
    assert.ok(!help.out.includes('  score '), `${group} --help lists only its group`);
    const bare = await cli(words);
    assert.equal(bare.code, 2);
    assert.equal(bare.out, help.out);
  }
  const typo = await cli(['hub', 'nope']);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /unknown command "hub nope"\n\nUsage: outpost hub <command>/);
  const sync = await cli(['sync', '--help']);
  assert.equal(sync.code, 0);
  for (const sub of ['sync export', 'sync ack', 'sync status']) assert.ok(sync.out.includes(`  ${sub} `), `sync --help names ${sub}`);
});

test('option help is in one column whatever spacing a command wrote', async () => {
  for (const name of ['hub bundle', 'score', 'sync', 'pull']) {
    const r = await cli([...name.split(' '), '--help']);
    const lines = r.out.split('\n\nOptions:\n')[1].split('\n\n')[0].split('\n');
    const options = lines.filter((l) => l.startsWith('  -'));
    const columns = new Set(options.map((l) => /^  -\S.*?\s{2,}(?=\S)/.exec(l)?.[0].length));
    assert.equal(columns.size, 1, `${name}: ${options.join('\n')}`);
    // a continued description starts in the same column
    for (const l of lines.filter((x) => /^\s{3,}\S/.test(x))) assert.equal(/^\s+/.exec(l)![0].length, [...columns][0], `${name}: ${l}`);
  }
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

test('quote: controls and bidirectional characters of a user-supplied name are shown as \\uXXXX, nothing else changes', () => {
  assert.equal(quote('churn-v2'), '"churn-v2"');
  assert.equal(quote('über 名前 🙂'), '"über 名前 🙂"', 'printable non-ASCII stays as it is');
  assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"', 'quotes and backslashes are escaped, so the text is unambiguous');
  assert.equal(quote('\u202e'), '"\\u202e"');
  assert.equal(quote('x\u001b[2J\r\nforged line\u0000\u007f\u0085\u009b'), '"x\\u001b[2J\\u000d\\u000aforged line\\u0000\\u007f\\u0085\\u009b"');
  assert.equal(quote('\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u061c\u2028\u2029'),
    '"\\u200e\\u200f\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u061c\\u2028\\u2029"');
  assert.equal(quote('a\ud800b\udc00'), '"a\\ud800b\\udc00"', 'unpaired surrogates');
});

test('a model reference with control or bidi characters is echoed escaped by the CLI', async () => {
  const home = tempDir('outpost-quote-');
  try {
    const show = await cli(['--home', home, 'models', 'show', 'evil\u202egpj.exe\u001b[2J']);
    assert.equal(show.code, 1, show.err);
    assert.match(show.err, /no model "evil\\u202egpj\.exe\\u001b\[2J" is installed/);
    assert.doesNotMatch(show.err, /[\u001b\u202e]/, 'no raw escape or override reaches the terminal');
    const bad = await cli(['--home', home, 'models', 'show', 'a b\u2067']);
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /"a b\\u2067" is not a model reference/);
    const cmd = await cli(['nope\u001b]0;owned\u0007']);
    assert.equal(cmd.code, 2);
    assert.match(cmd.err, /unknown command "nope\\u001b\]0;owned\\u0007"/);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
