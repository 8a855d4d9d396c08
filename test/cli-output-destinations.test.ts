// Output files the user names (`--out`, `--receipt`) on the commands that write one: an unusable
// destination (missing folder, a folder, `-`) is refused with exit 2 before any work is done, an
// existing file is refused (exit 1) unless --overwrite, a refusal is one JSON error object with
// --json, and no `.partial-` temp file is ever left behind. Real hub folder (SQLite), a real
// workstation that scored the demo sample, the real CLI (main()).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, mock, test } from 'node:test';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { OUTBOX_MAGIC } from '../src/sync/common/outbox-file.ts';
import { runMain } from './helpers/cli.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { enrollWorkstation, SAMPLE, score, type Workstation } from './helpers/sync-fleet.ts';

let t: TestHub;
let dir: string;
let ws: Workstation;
let exported: string;

const cli = (home: string, args: string[]) => runMain(['--home', home, '--json', ...args]);
const last = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as { ok: boolean; error?: { code: string; message: string; file?: string } } & Record<string, unknown>;
const outboxRows = () => (ws.store.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
const ledger = async () => Number((await t.hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_items'))[0].n);
/** temp files (`.<name>.partial-…`) anywhere under the test folder or the working directory */
const partials = (): string[] => [
  ...fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)),
  ...fs.readdirSync(process.cwd()).map((f) => path.join(process.cwd(), f)),
].filter((f) => /\.partial-/.test(path.basename(f)));

before(async () => {
  t = await startTestHub();
  dir = tmpDir('outpost-output-dest-');
  ws = await enrollWorkstation(t.hub, t.url, t.trustRoot, dir, 'ws-out');
  await score(ws, SAMPLE, { batchRows: 200 });
  const p = t.publishers['churn-team'];
  await publishPackage({ packageDir: makePackage(dir, 'churn', 1, { weights: [1, -1] }), hubUrl: t.url, keys: [p.key], token: p.token, alias: 'production', checks: 'none' });
  exported = path.join(dir, 'first.outpost-sync');
  const r = await cli(ws.home, ['sync', 'export', '--out', exported]);
  assert.equal(r.code, 0, r.err);
});
after(async () => { ws.store.close(); await t.close(); fs.rmSync(dir, { recursive: true, force: true }); });

/**
 * The refusals every output option shares, for a command run as `run(destination)`: exit code,
 * message naming the path, a JSON error object, the existing file untouched, no temp file; `done`
 * says nothing was done (called after each refusal).
 */
async function refusesBadDestinations(label: string, option: string, run: (dest: string, extra?: string[]) => Promise<{ code: number; out: string; err: string }>, done: () => Promise<void> | void) {
  const adir = fs.mkdtempSync(path.join(dir, 'adir-'));
  const missing = path.join(dir, 'missing-folder', 'x.out');
  const keep = path.join(dir, `keep-${label}.bin`);
  fs.writeFileSync(keep, 'keep me');
  const cases: [string, number, RegExp, string][] = [
    [missing, 2, /the output folder .*missing-folder does not exist/, missing],
    [adir, 2, /is a directory, not a file/, adir],
    [path.join(keep, 'x.out'), 2, /the output folder .*keep-.* is not a folder/, path.join(keep, 'x.out')],
    [keep, 1, /already exists; pass --overwrite to replace it/, keep],
    ['-', 2, new RegExp(`${option} -: this command writes a file, not standard output`), ''],
  ];
  for (const [dest, code, why, named] of cases) {
    const r = await run(dest);
    assert.equal(r.code, code, `${label} ${option} ${dest}: ${r.err}`);
    assert.match(r.err, why, label);
    assert.doesNotMatch(r.err, /internal error|\n\s+at /, `${label}: no stack trace`);
    assert.equal(r.err.trim().split('\n').length, 1, `${label}: one line: ${r.err}`);
    if (named) assert.ok(r.err.includes(named), `${label}: the message names ${named}: ${r.err}`);
    const j = last(r.out);
    assert.equal(j.ok, false);
    assert.equal(j.error?.code, code === 2 ? 'usage' : 'conflict');
    await done();
  }
  assert.equal(fs.readFileSync(keep, 'utf8'), 'keep me', 'the existing file is untouched');
  assert.deepEqual(fs.readdirSync(adir), [], 'nothing written into the folder');
  assert.equal(fs.existsSync(path.dirname(missing)), false, 'the missing folder is not created');
  assert.equal(fs.existsSync(path.join(process.cwd(), '-')), false, 'no file named "-"');
  assert.deepEqual(partials(), [], 'no temp file left');
  return keep;
}

test('sync export: a bad --out is refused before anything is queued; --overwrite replaces a file', async () => {
  const rows = outboxRows();
  const keep = await refusesBadDestinations('sync-export', '--out', (dest) => cli(ws.home, ['sync', 'export', '--out', dest]), () => {
    assert.equal(outboxRows(), rows, 'nothing queued (no heartbeat)');
  });
  const r = await cli(ws.home, ['sync', 'export', '--out', keep, '--overwrite']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(fs.readFileSync(keep).subarray(0, OUTBOX_MAGIC.length), Buffer.from(OUTBOX_MAGIC));
  assert.deepEqual(partials(), []);
});

test('hub import: a bad --receipt is refused before anything is imported; --overwrite replaces a file', async () => {
  const held = await ledger();
  const keep = await refusesBadDestinations('hub-import', '--receipt', (dest) => cli(dir, ['hub', 'import', exported, '--dir', t.dir, '--receipt', dest]), async () => {
    assert.equal(await ledger(), held, 'nothing imported');
  });
  assert.equal(held, 0, 'the hub held nothing before');
  const r = await cli(dir, ['hub', 'import', exported, '--dir', t.dir, '--receipt', keep, '--overwrite']);
  assert.equal(r.code, 0, r.err);
  assert.ok(await ledger() > 0);
  assert.ok(JSON.parse(fs.readFileSync(keep, 'utf8')).signatures, 'a signed receipt replaced the file');
  assert.deepEqual(partials(), []);
  const alone = await cli(dir, ['hub', 'import', exported, '--dir', t.dir, '--overwrite']);
  assert.equal(alone.code, 2);
  assert.match(alone.err, /--overwrite applies to --receipt/);
});

test('hub bundle: a bad --out is refused before the pull; --overwrite replaces a file', async () => {
  const keep = await refusesBadDestinations('hub-bundle', '--out', (dest) => cli(dir, ['hub', 'bundle', 'churn:production', '--dir', t.dir, '--out', dest]), () => {});
  const r = await cli(dir, ['hub', 'bundle', 'churn:production', '--dir', t.dir, '--out', keep, '--overwrite']);
  assert.equal(r.code, 0, r.err);
  assert.equal(last(r.out).version, 1);
  assert.notEqual(fs.readFileSync(keep, 'utf8'), 'keep me');
  assert.deepEqual(partials(), []);
});

test('hub export predictions and the offline-key commands (--hub … --out) check --out the same way', async () => {
  // --out must name a .parquet file here, so the shared cases are run by name
  const adir = path.join(dir, 'folder.parquet');
  fs.mkdirSync(adir);
  const existing = path.join(dir, 'existing.parquet');
  fs.writeFileSync(existing, 'keep me');
  for (const [dest, code, why] of [[path.join(dir, 'nope', 'x.parquet'), 2, /the output folder .* does not exist/], [adir, 2, /is a directory, not a file/], [existing, 1, /already exists; pass --overwrite/]] as const) {
    const r = await cli(dir, ['hub', 'export', 'predictions', '--dir', t.dir, '--model', 'seattle-weather', '--out', dest]);
    assert.equal(r.code, code, r.err);
    assert.match(r.err, why);
    assert.equal(last(r.out).ok, false);
  }
  const replaced = await cli(dir, ['hub', 'export', 'predictions', '--dir', t.dir, '--model', 'seattle-weather', '--out', existing, '--overwrite']);
  assert.equal(replaced.code, 0, replaced.err);
  assert.equal(fs.readFileSync(existing).subarray(0, 4).toString(), 'PAR1');

  // signing for upload: refused before the hub is read or anything is signed (the URL is never reached)
  const unreachable = 'http://127.0.0.1:9';
  const signed = await refusesBadDestinations('targets-renew', '--out', (dest) => cli(dir, ['hub', 'targets', 'renew', '--offline-keys', t.offlineKeysDir, '--hub', unreachable, '--out', dest]), () => {});
  const ok = await cli(dir, ['hub', 'targets', 'renew', '--offline-keys', t.offlineKeysDir, '--hub', t.url, '--out', signed, '--overwrite']);
  assert.equal(ok.code, 0, ok.err);
  assert.ok(JSON.parse(fs.readFileSync(signed, 'utf8')).changes, 'the signed update replaced the file');
  assert.deepEqual(partials(), []);
});

test('hub import and sync ack name the file and say why it cannot be read, as pull does', async () => {
  const missing = path.join(dir, 'no-such-file');
  const folder = fs.mkdtempSync(path.join(dir, 'read-'));
  for (const [args, home, what] of [[['hub', 'import'], dir, 'the exported outbox'], [['sync', 'ack'], ws.home, 'the receipt']] as const) {
    for (const [file, why] of [[missing, 'file not found'], [folder, 'is a directory, not a file']] as const) {
      const r = await cli(home, [...args, file, ...(args[0] === 'hub' ? ['--dir', t.dir] : [])]);
      assert.equal(r.code, 1, r.err);
      assert.equal(r.err.trim(), `outpost ${args.join(' ')}: ${file}: cannot read ${what}: ${why}`);
      assert.deepEqual(last(r.out).error, { code: 'input', message: `cannot read ${what}: ${why}`, file });
    }
  }
});

test('a failure while writing removes the temp file; with --json an internal error is still a JSON error object', async () => {
  const out = path.join(dir, 'fails.outpost-sync');
  const rename = fs.renameSync;
  const m = mock.method(fs, 'renameSync', (from: fs.PathLike, to: fs.PathLike) => {
    if (String(to) === out) throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
    return rename(from, to);
  });
  try {
    const r = await cli(ws.home, ['sync', 'export', '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.err, /internal error: Error: EIO/);
    const j = last(r.out);
    assert.equal(j.ok, false);
    assert.equal(j.error?.code, 'internal');
    assert.match(j.error!.message, /EIO/);
  } finally {
    m.mock.restore();
  }
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(partials(), []);
});
