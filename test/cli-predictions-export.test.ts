// `outpost predictions export` and the csvSafe setting: the log of a job or a model, streamed to
// CSV / JSONL / Parquet with the same numbers the output file has; bad usage exits 2; with csvSafe
// on, text cells a spreadsheet would run as formulas are neutralised in score output, rejects and
// exports (OWASP CSV injection).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { csvSafeText } from '../src/io/common/csv-encode.ts';
import { parseTime } from '../src/cli/commands/predictions.ts';
import { DEMO_CSV, DEMO_PACKAGE } from './helpers/app-harness.ts';
import { jsonLines, lastJson, runMain as cli } from './helpers/cli.ts';
import { tempDir, tinyCard, writePackage } from './helpers/packages.ts';

const root = tempDir('outpost-export-');
const home = path.join(root, 'home');
let jobA = '';
let jobB = '';
after(() => fs.rmSync(root, { recursive: true, force: true }));

before(async () => {
  assert.equal((await cli(['--home', home, 'models', 'add', DEMO_PACKAGE, '--allow-unsigned'])).code, 0);
  assert.equal((await cli(['--home', home, 'settings', 'set', 'logInputs', 'all'])).code, 0);
  const a = await cli(['--home', home, 'score', DEMO_CSV, '--model', 'seattle-weather', '--id', 'date', '--out', path.join(root, 'a.csv'), '--json']);
  assert.equal(a.code, 0, a.err);
  jobA = (lastJson(a.out) as { job: { id: string } }).job.id;
  const b = await cli(['--home', home, 'score', DEMO_CSV, '--model', 'seattle-weather', '--out', path.join(root, 'b.csv'), '--json']);
  assert.equal(b.code, 0, b.err);
  jobB = (lastJson(b.out) as { job: { id: string } }).job.id;
});

const exp = (args: string[]) => cli(['--home', home, 'predictions', 'export', ...args]);

test('a job\'s predictions as CSV: the same labels and probabilities as its output file, inputs as input.<name>', async () => {
  const out = path.join(root, 'job.csv');
  const r = await exp(['--job', jobA, '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Exported 365 predictions to .*job\.csv \(csv; columns job, model, version, logged_at, row, id, label, p_drizzle/);
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines.length, 366);
  const header = lines[0].split(',');
  assert.deepEqual(header.slice(0, 12), ['job', 'model', 'version', 'logged_at', 'row', 'id', 'label', 'p_drizzle', 'p_fog', 'p_rain', 'p_snow', 'p_sun']);
  assert.ok(header.includes('input.precipitation') && header.includes('input.season'));
  const scored = fs.readFileSync(path.join(root, 'a.csv'), 'utf8').trim().split('\n');
  for (const i of [1, 100, 365]) {
    const e = lines[i].split(',');
    assert.equal(e[0], jobA);
    assert.equal(e[4], String(i));
    assert.equal(e.slice(5, 12).join(','), scored[i], `row ${i}: the log says what the output file says`);
  }
});

test('a model as JSONL and Parquet (both jobs, one schema); --since/--until filter; the parquet reads back', async () => {
  const jl = path.join(root, 'model.jsonl');
  const r = await exp(['--model', 'seattle-weather@1', '--out', jl, '--json']);
  assert.equal(r.code, 0, r.err);
  assert.equal(jsonLines(r.out).length >= 1, true);
  const rows = fs.readFileSync(jl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rows.length, 730);
  assert.deepEqual(new Set(rows.map((x) => x.job)), new Set([jobA, jobB]));
  assert.equal(rows.find((x) => x.job === jobB)!.id, null, 'job B had no --id: its id cells are empty');

  const pq = path.join(root, 'model.parquet');
  assert.equal((await exp(['--model', 'seattle-weather', '--out', pq])).code, 0);
  const buf = fs.readFileSync(pq);
  const read = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) });
  assert.equal(read.length, 730);
  const jlA = rows.filter((x) => x.job === jobA);
  const pqA = read.filter((x) => x.job === jobA);
  assert.equal(pqA[10].label, jlA[10].label);
  assert.equal(Math.fround(Number(pqA[10].p_rain)), Math.fround(Number(jlA[10].p_rain)));

  const future = await exp(['--model', 'seattle-weather', '--since', '2999-01-01', '--out', path.join(root, 'none.csv')]);
  assert.equal(future.code, 1);
  assert.match(future.err, /no logged predictions match/);
  assert.equal(fs.existsSync(path.join(root, 'none.csv')), false);
  const recent = await exp(['--model', 'seattle-weather', '--since', '1h', '--until', '2999-01-01T00:00:00Z', '--out', path.join(root, 'recent.csv')]);
  assert.equal(recent.code, 0, recent.err);
});

test('export usage errors exit 2; an unknown job, an existing --out are refused', async () => {
  for (const [args, message] of [
    [['--out', path.join(root, 'x.csv')], /give one of --job <id> or --model/],
    [['--job', jobA, '--model', 'seattle-weather', '--out', path.join(root, 'x.csv')], /give one of/],
    [['--job', jobA], /--out FILE is required/],
    [['--job', jobA, '--out', path.join(root, 'x.csv'), '--format', 'parquet'], /--format parquet does not match --out x\.csv/],
    [['--job', jobA, '--out', path.join(root, 'x.txt')], /cannot tell the format/],
    [['--job', jobA, '--out', path.join(root, 'x.csv'), '--since', 'yesterday'], /--since must be an ISO 8601 date/],
    [['--job', jobA, '--out', path.join(root, 'nowhere', 'x.csv')], /the output folder .* does not exist/],
  ] as const) {
    const r = await exp([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, message);
  }
  const unknown = await exp(['--job', 'j20200101-00000000', '--out', path.join(root, 'u.csv')]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /no job "j20200101-00000000"/);
  const existing = path.join(root, 'exists.csv');
  fs.writeFileSync(existing, 'keep');
  const refused = await exp(['--job', jobA, '--out', existing]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /already exists; pass --overwrite/);
  assert.equal(fs.readFileSync(existing, 'utf8'), 'keep');
  assert.equal((await exp(['--job', jobA, '--out', existing, '--overwrite'])).code, 0);
  assert.equal(parseTime('2d', 'since', 10 * 86_400_000), 8 * 86_400_000);
});

test('csvSafe: formula-looking text cells get a leading quote in score output, rejects and exports; off by default', () => {
  for (const t of ['=1+1', '+1', '-cmd', '@SUM(A1)', '\t=x', '\r=x']) assert.equal(csvSafeText(t), `'${t}`);
  for (const t of ['plain', '1=1', '', 'a-b']) assert.equal(csvSafeText(t), t);
});

test('csvSafe end to end: ids starting with = + - @ are neutralised when the setting is on, kept as they are when off', async () => {
  const h = path.join(root, 'safe-home');
  assert.equal((await cli(['--home', h, 'models', 'add', writePackage(path.join(root, 'tiny-pkg'), tinyCard()), '--allow-unsigned'])).code, 0);
  const input = path.join(root, 'hostile.csv');
  fs.writeFileSync(input, 'id,a,b,colour\n=HYPERLINK("http://x"),1,2,red\n+1,2,3,green\n-2,3,4,red\n@x,4,5,red\nok,500,1,=bad\n');
  const off = await cli(['--home', h, 'score', input, '--model', 'tiny', '--id', 'id', '--out', path.join(root, 'off.csv'), '--max-reject-rate', '1']);
  assert.equal(off.code, 0, off.err);
  assert.match(fs.readFileSync(path.join(root, 'off.csv'), 'utf8'), /^"=HYPERLINK\(""http:\/\/x""\)",/m);

  assert.equal((await cli(['--home', h, 'settings', 'set', 'csvSafe', 'true'])).code, 0);
  const on = await cli(['--home', h, 'score', input, '--model', 'tiny', '--id', 'id', '--out', path.join(root, 'on.csv'), '--max-reject-rate', '1', '--json']);
  assert.equal(on.code, 0, on.err);
  const text = fs.readFileSync(path.join(root, 'on.csv'), 'utf8');
  assert.match(text, /^"'=HYPERLINK\(""http:\/\/x""\)",/m);
  assert.match(text, /^'\+1,/m);
  assert.match(text, /^'-2,/m);
  assert.match(text, /^'@x,/m);
  const rejects = fs.readFileSync((lastJson(on.out) as { rejectsPath: string }).rejectsPath, 'utf8');
  assert.match(rejects, /,'=bad$/m, 'the rejected cell value is neutralised too');
  const job = (lastJson(on.out) as { job: { id: string } }).job.id;
  const ex = path.join(root, 'safe-export.csv');
  assert.equal((await cli(['--home', h, 'predictions', 'export', '--job', job, '--out', ex])).code, 0);
  assert.match(fs.readFileSync(ex, 'utf8'), /,'\+1,/);
  // JSON Lines output is data, not a spreadsheet: left as it is
  const jl = await cli(['--home', h, 'score', input, '--model', 'tiny', '--id', 'id', '--out', path.join(root, 'on-lines.jsonl'), '--max-reject-rate', '1']);
  assert.equal(jl.code, 0, jl.err);
  assert.match(fs.readFileSync(path.join(root, 'on-lines.jsonl'), 'utf8'), /"id":"\+1"/);
});
