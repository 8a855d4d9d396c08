// Defects found in first real use of `outpost score` (issue 12 §3), each reproduced as found:
// outputs silently overwritten, reject-rate stops that kept nothing, JSONL keys that appear late,
// a 16 MB number cell, orphan temp files after a resume, failed jobs from a bad --out, "NaN" shown
// as "", UTF-16 called binary, no hint for ';' files or near-miss headers, --format vs --out.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { listJobs } from '../src/store/node/jobs.ts';
import { openStore } from '../src/store/node/store.ts';
import { reasonKind } from '../src/scoring/node/score-file.ts';
import { cannotParseReason, outOfRangeReason, TOO_LARGE_FOR_DOUBLE, TOO_LARGE_FOR_FLOAT32, tooLongReason } from '../src/io/common/number-reasons.ts';
import { jsonLines, lastJson, onEvents, runMain as cli, startCli } from './helpers/cli.ts';
import { tempDir, tinyCard, writePackage } from './helpers/packages.ts';

const root = tempDir('outpost-score-defects-');
const home = path.join(root, 'home');
after(() => fs.rmSync(root, { recursive: true, force: true }));

before(async () => {
  const r = await cli(['--home', home, 'models', 'add', writePackage(path.join(root, 'pkg'), tinyCard()), '--allow-unsigned']);
  assert.equal(r.code, 0, r.err);
});

const write = (name: string, text: string | Buffer): string => {
  const file = path.join(root, name);
  fs.writeFileSync(file, text);
  return file;
};
const jobsIn = (h = home) => {
  const s = openStore(h);
  try {
    return listJobs(s, 1000);
  } finally {
    s.close();
  }
};
const score = (args: string[]) => cli(['--home', home, 'score', ...args, '--model', 'tiny']);

test('a second job on the same input never overwrites the first one\'s output: a fresh name, said on stderr', async () => {
  const input = write('same.csv', 'a,b,colour\n1,2,red\n3,,green\n');
  const first = await score([input, '--json']);
  assert.equal(first.code, 0, first.err);
  const firstOut = path.join(root, 'same.scored.csv');
  const firstJob = (lastJson(first.out) as { job: { id: string; outputPath: string } }).job;
  assert.equal(firstJob.outputPath, firstOut);
  const before = fs.readFileSync(firstOut);
  const second = await score([input, '--json']);
  assert.equal(second.code, 0, second.err);
  const secondOut = (lastJson(second.out) as { job: { outputPath: string } }).job.outputPath;
  assert.equal(secondOut, path.join(root, 'same.scored-2.csv'));
  assert.match(second.err, new RegExp(`same\\.scored\\.csv already exists \\(the output of job ${firstJob.id}, completed\\); writing .*same\\.scored-2\\.csv instead`));
  assert.deepEqual(fs.readFileSync(firstOut), before, 'the first output is untouched');
  const third = await score([input, '--json']);
  assert.equal((lastJson(third.out) as { job: { outputPath: string } }).job.outputPath, path.join(root, 'same.scored-3.csv'));
});

test('an explicit --out that exists is refused unless --overwrite, which says what it replaces', async () => {
  const input = write('explicit.csv', 'a,b,colour\n1,2,red\n');
  const out = path.join(root, 'explicit.out.csv');
  fs.writeFileSync(out, 'precious\n');
  const refused = await score([input, '--out', out]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /explicit\.out\.csv already exists; pass --overwrite to replace it, or choose another --out/);
  assert.equal(fs.readFileSync(out, 'utf8'), 'precious\n');
  const replaced = await score([input, '--out', out, '--overwrite']);
  assert.equal(replaced.code, 0, replaced.err);
  assert.match(replaced.err, /warning: replacing .*explicit\.out\.csv/);
  assert.match(fs.readFileSync(out, 'utf8'), /^row,label,p_x,p_y,p_z\n1,/);
  const again = await score([input, '--out', out]);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists \(the output of job j\d{8}-[0-9a-f]{8}, completed\); pass --overwrite/);
});

test('a reject-rate stop stores the real counters and keeps the rejects file (no output)', async () => {
  const rows = ['a,b,colour'];
  for (let i = 0; i < 200; i++) rows.push(i % 4 === 0 ? `${i % 50},1,red` : `x${i},1,blue`);
  const input = write('garbage.csv', rows.join('\n') + '\n');
  const out = path.join(root, 'garbage.out.csv');
  const r = await score([input, '--out', out, '--json']);
  assert.equal(r.code, 1);
  assert.match(r.err, /150 of 200 rows rejected \(75\.0%, limit 20\.0%.*; the rejected rows are in .*garbage\.out\.rejects\.csv/);
  assert.equal(fs.existsSync(out), false);
  const rejects = fs.readFileSync(path.join(root, 'garbage.out.rejects.csv'), 'utf8').trim().split('\n');
  assert.equal(rejects[0], 'row,column,reason,value');
  assert.equal(new Set(rejects.slice(1).map((l) => l.split(',')[0])).size, 150);
  assert.deepEqual(fs.readdirSync(root).filter((n) => n.includes('garbage.out') && n.includes('partial')), [], 'no temp files');
  const job = jobsIn().find((j) => j.inputPath === input)!;
  assert.equal(job.status, 'failed');
  assert.deepEqual([job.rowsRead, job.rowsScored, job.rowsRejected], [200, 50, 150]);
  const shown = await cli(['--home', home, 'jobs', 'show', job.id]);
  assert.match(shown.out, /read 200, scored 50, rejected 150/);
  assert.match(shown.out, /colour: … is not in the vocabulary/);
});

test('JSONL: a nullable key absent from the first 1,000 records is read (null until it appears); a required one is named', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 1500; i++) lines.push(JSON.stringify(i < 1200 ? { a: i % 90, colour: 'red' } : { a: 1, b: i, colour: 'green' }));
  const input = write('late-key.jsonl', lines.join('\n') + '\n');
  const r = await score([input, '--json']);
  assert.equal(r.code, 0, r.err);
  const res = lastJson(r.out) as { job: { rowsScored: number; outputPath: string } };
  assert.equal(res.job.rowsScored, 1500);
  const out = fs.readFileSync(res.job.outputPath, 'utf8').trim().split('\n');
  assert.equal(out.length, 1500, 'JSONL in, JSONL out: one line per row');
  assert.deepEqual(Object.keys(JSON.parse(out[1400]) as object), ['row', 'label', 'p_x', 'p_y', 'p_z']);

  const noA = write('no-a.jsonl', Array.from({ length: 1100 }, (_, i) => JSON.stringify({ b: i, colour: 'red' })).join('\n') + '\n');
  const bad = await score([noA]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /missing required column "a" \(the first 1,000 records have: b, colour\)/);
});

test('one 16 MB digit string in a number cell rejects that row with the reason; the other rows are scored', async () => {
  const big = '1'.repeat(16 * 1024 * 1024);
  const input = write('huge-cell.csv', `a,b,colour\n1,2,red\n${big},2,red\n3,4,green\n`);
  const r = await score([input, '--json', '--max-reject-rate', '0.5']);
  assert.equal(r.code, 0, r.err);
  const res = lastJson(r.out) as { job: { rowsScored: number; rowsRejected: number }; rejectsPath: string };
  assert.deepEqual([res.job.rowsScored, res.job.rowsRejected], [2, 1]);
  const rejects = fs.readFileSync(res.rejectsPath, 'utf8');
  assert.match(rejects, /^2,a,"16,777,216 characters is too long for a number \(at most 4,096\)",1{200}…$/m);
  assert.ok(rejects.length < 1000, 'the rejects file keeps a bounded excerpt');
  // the same bound for JSONL text cells
  const jl = write('huge-cell.jsonl', `{"a":1,"colour":"red"}\n{"a":"${big}","colour":"red"}\n{"a":2,"colour":"red"}\n`);
  const j = await score([jl, '--json', '--max-reject-rate', '0.5']);
  assert.equal(j.code, 0, j.err);
  assert.match(fs.readFileSync((lastJson(j.out) as { rejectsPath: string }).rejectsPath, 'utf8'), /too long for a number/);
  // a huge first record (longer than the 1 MiB column sample), and a JSON number beyond a double
  const first = write('huge-first.jsonl', `{"a":"${big}","colour":"red"}\n{"a":1e999,"colour":"red"}\n{"a":2,"colour":"red"}\n`);
  const f = await score([first, '--json', '--max-reject-rate', '1']);
  assert.equal(f.code, 0, f.err);
  const fr = fs.readFileSync((lastJson(f.out) as { rejectsPath: string }).rejectsPath, 'utf8');
  assert.match(fr, /^1,a,"16,777,216 characters is too long for a number/m);
  assert.match(fr, /^2,a,number too large for a double \(beyond ±1\.8e308\),1e999$/m, 'the number as written, not the parser\'s Infinity');
});

test('resuming a job killed before its first checkpoint leaves no orphan .partial files', async () => {
  const body = Array.from({ length: 2000 }, (_, i) => `${i % 90},${i},${i % 2 ? 'red' : 'green'}`).join('\n');
  const input = write('killed.csv', 'a,b,colour\n' + `${body}\n`.repeat(20));
  const out = path.join(root, 'killed.out.csv');
  const child = startCli(['score', input, '--model', 'tiny', '--out', out, '--json', '--batch', '256'], { home });
  const exited = new Promise((r) => child.on('close', r));
  const id = await new Promise<string>((resolve) => onEvents(child, (ev) => { if (ev.event === 'progress') { child.kill('SIGKILL'); resolve(ev.jobId); } }));
  await exited;
  // whatever the killed run left, plus one more left by an earlier crash of the same job
  fs.writeFileSync(path.join(root, '.killed.out.csv.partial-0123456789ab'), 'half a row');
  const job = jobsIn().find((j) => j.id === id)!;
  assert.equal(job.checkpoint, null, 'killed before its first checkpoint');
  const r = await cli(['--home', home, 'score', '--resume', id, '--json']);
  assert.equal(r.code, 0, r.err);
  assert.equal((lastJson(r.out) as { job: { rowsScored: number } }).job.rowsScored, 40_000);
  assert.deepEqual(fs.readdirSync(root).filter((n) => n.includes('killed.out') && n.includes('.partial-')), []);
  assert.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, 40_001);
});

test('output-path problems are found before a job exists: no failed jobs left in the store', async () => {
  const input = write('ok.csv', 'a,b,colour\n1,2,red\n');
  const count = jobsIn().length;
  const noDir = await score([input, '--out', path.join(root, 'no-such-folder', 'x.csv')]);
  assert.equal(noDir.code, 2);
  assert.match(noDir.err, /the output folder .*no-such-folder does not exist/);
  fs.mkdirSync(path.join(root, 'a-folder.csv'));
  const isDir = await score([input, '--out', path.join(root, 'a-folder.csv')]);
  assert.equal(isDir.code, 2);
  assert.match(isDir.err, /the output path is a folder/);
  const mismatch = await score([input, '--format', 'jsonl', '--out', path.join(root, 'x.csv')]);
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.err, /--format jsonl does not match the output file x\.csv \(a \.csv name\); name it \.jsonl or leave out --format/);
  assert.equal(jobsIn().length, count);
  assert.ok(!jobsIn().some((j) => j.status === 'failed' && j.inputPath === input));
});

test('rejects show the missing marker ("NaN", "NA") of a non-nullable column, not ""', async () => {
  const input = write('nan.csv', 'a,b,colour\nNaN,1,red\n2,NA,red\nNA,1,green\n,1,red\n1,1,red\n');
  const r = await score([input, '--json', '--max-reject-rate', '1']);
  assert.equal(r.code, 0, r.err);
  const rejects = fs.readFileSync((lastJson(r.out) as { rejectsPath: string }).rejectsPath, 'utf8').trim().split('\n');
  assert.deepEqual(rejects.slice(1), [
    '1,a,"missing value (""NaN"") in a non-nullable column",NaN',
    '3,a,"missing value (""NA"") in a non-nullable column",NA',
    '4,a,missing value in a non-nullable column,""',
  ]);
  const jl = write('nan.jsonl', '{"a":"NaN","colour":"red"}\n{"a":null,"colour":"red"}\n{"a":1,"colour":"red"}\n');
  const j = await score([jl, '--json', '--max-reject-rate', '1']);
  const jr = fs.readFileSync((lastJson(j.out) as { rejectsPath: string }).rejectsPath, 'utf8');
  assert.match(jr, /^1,a,"missing value \(""NaN""\) in a non-nullable column",NaN$/m);
});

test('UTF-16 input is called UTF-16 with how to fix it; ";" files get a --delimiter hint; near-miss headers are named', async () => {
  const text = 'a,b,colour\n1,2,red\n';
  for (const [name, bytes, kind] of [
    ['le-bom.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'UTF-16LE'],
    ['le.csv', Buffer.from(text, 'utf16le'), 'UTF-16LE'],
    ['be.jsonl', Buffer.from(Buffer.from('{"a":1,"colour":"red"}\n', 'utf16le')).swap16(), 'UTF-16BE'],
  ] as const) {
    const r = await score([write(name, bytes)]);
    assert.equal(r.code, 1, name);
    assert.match(r.err, new RegExp(`${name}: the file is ${kind} text: save it as UTF-8`));
    assert.doesNotMatch(r.err, /binary/);
  }
  const semi = await score([write('semi.csv', 'a;b;colour\n1;2;red\n')]);
  assert.equal(semi.code, 1);
  assert.match(semi.err, /missing required columns "a", "b", "colour" \(the file has: a;b;colour\); the header looks ";"-separated: pass --delimiter ';'/);
  assert.equal((await score([path.join(root, 'semi.csv'), '--delimiter', ';'])).code, 0);
  const near = await score([write('near.csv', 'A, b ,Colour\n1,2,red\n')]);
  assert.equal(near.code, 1);
  assert.match(near.err, /near matches \(names must match exactly, case and spaces included\): file "A" for "a", file " b " for "b", file "Colour" for "colour"/);
  const nearId = await score([write('near-id.csv', 'a,b,colour,Row ID\n1,2,red,7\n'), '--id', 'row id']);
  assert.equal(nearId.code, 2);
  assert.match(nearId.err, /file "Row ID" for "row id"/);
});

test('--json is line-delimited JSON from first line to last for every command, results, events and errors', async () => {
  const input = write('lines.csv', 'a,b,colour\n1,2,red\n');
  const runs = [
    ['score', input, '--model', 'tiny', '--out', path.join(root, 'lines.out.csv')],
    ['score', input, '--model', 'nope'],
    ['score', '--model', 'tiny'],
    ['score', input, '--model', 'tiny', '--bogus'],
    ['drift', 'tiny'],
    ['models', 'list'], ['models', 'show', 'tiny'], ['models', 'verify'], ['models', 'rollback', 'tiny'],
    ['jobs'], ['jobs', 'show', 'nope'], ['settings'], ['settings', 'set', 'nope', '1'],
    ['sync', 'status'], ['sync'], ['pull', 'tiny'],
    ['nope'], [],
  ];
  for (const args of runs) {
    const r = await cli(['--home', home, ...args, '--json']);
    const lines = jsonLines(r.out); // throws on any line that is not JSON
    assert.ok(lines.length >= 1, `${args.join(' ')}: at least the result line (exit ${r.code}; stderr ${r.err})`);
    const last = lines.at(-1) as { ok?: boolean; error?: { code: string } };
    assert.equal(typeof last.ok, 'boolean', `${args.join(' ')}: the last line is the result`);
    if (r.code !== 0) assert.equal(last.ok, false, `${args.join(' ')}: a failure says so`);
    if (r.code === 2) assert.equal(last.error?.code, 'usage', args.join(' '));
  }
});

test('the grouped reject summary elides the row\'s own values, keeps what is the same for every row (limits, a type\'s range, "UTF-8", a code point)', () => {
  const kind = (reason: string) => reasonKind({ row: 1, column: 'date', reason, value: '' });
  assert.equal(kind('invalid UTF-8 in column "date"'), 'date: invalid UTF-8 in column "date"');
  assert.equal(kind('the id contains a NUL byte (U+0000): the file is probably damaged'), 'date: the id contains a NUL byte (U+0000): the file is probably damaged');
  assert.equal(kind(tooLongReason(1048576)), 'date: … characters is too long for a number (at most 4,096)');
  assert.equal(kind(cannotParseReason('1e4x"0')), 'date: cannot parse … as a number');
  assert.equal(kind('-1 is below the minimum 0'), 'date: … is below the minimum 0');
  assert.equal(kind('1.5 is not an integer'), 'date: … is not an integer');
  assert.equal(kind('missing value ("NA") in a non-nullable column'), 'date: missing value in a non-nullable column', 'a marker groups with the empty cells');
  assert.equal(kind('missing value in a non-nullable column'), 'date: missing value in a non-nullable column');
  assert.equal(kind('"te\\"al" is not in the vocabulary ("red", "green")'), 'date: … is not in the vocabulary ("red", "green")');
  assert.equal(kind('"maybe" is not a boolean (true/false, 1/0, yes/no)'), 'date: … is not a boolean (true/false, 1/0, yes/no)');
  assert.equal(kind('expected 5 fields, found 3'), 'date: expected 5 fields, found …');
  assert.equal(kind('invalid JSON: Expected \',\' or \'}\' after property value in JSON at position 24 (line 1 column 25)'), 'date: invalid JSON: Expected … or … after property value in JSON at position … (line … column …)');
  // the token the parser met is the line's own
  assert.equal(kind('invalid JSON: Unexpected token \'o\', "not json" is not valid JSON'), kind('invalid JSON: Unexpected token \'x\', "xyz" is not valid JSON'));
  // fixed reasons stay whole: their numbers are the type's limits
  for (const fixed of [TOO_LARGE_FOR_DOUBLE, TOO_LARGE_FOR_FLOAT32, outOfRangeReason('int32'), outOfRangeReason('int64')]) assert.equal(kind(fixed), `date: ${fixed}`);
  // the same kind for different values: one group
  assert.equal(kind('61 is above the maximum 60'), kind('75.5 is above the maximum 60'));
  assert.equal(kind('61 is above the maximum 60'), 'date: … is above the maximum 60');
  assert.notEqual(kind('61 is above the maximum 60'), kind('61 is above the maximum 70'));
});
