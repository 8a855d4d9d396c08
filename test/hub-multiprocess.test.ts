// Hub processes hold no state of their own: two of them on one database and one hub folder (keys,
// blobs) serve one consistent repository under concurrent publishes. On SQLite (one file) and on
// PostgreSQL (one database, the processes started through `outpost hub serve --db`); the PostgreSQL
// variant skips with a printed reason where no PostgreSQL server binaries are installed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateKeyFile, type PrivateKeyHandle } from '../src/keys/node/keys.ts';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { parseSnapshot, parseTimestamp } from '../src/hub/node/tuf-metadata.ts';
import { pull } from '../src/registry/node/pull.ts';
import { runMain as cli, startCli } from './helpers/cli.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';
import { freshPostgresDatabase, postgresSkipReason, prewarmPostgres, stopPostgres } from './helpers/postgres.ts';

const pgSkip = postgresSkipReason();
prewarmPostgres(); // boots while the SQLite variant runs

const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) c.kill('SIGTERM');
  await stopPostgres();
});

function waitForLine(c: ChildProcess, match: (line: string) => string | undefined, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const got = match(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (got !== undefined) { c.stdout!.off('data', onData); resolve(got); return; }
      }
    };
    c.stdout!.on('data', onData);
    c.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    c.once('exit', (code) => reject(new Error(`${what} exited ${code} before it was ready\n${err}`)));
  });
}

/** SQLite: the minimal hub-serve child (opens the hub folder's database). */
function startChild(dir: string): Promise<{ url: string; storage: string }> {
  const c = spawn(process.execPath, [fileURLToPath(new URL('./helpers/hub-serve-child.ts', import.meta.url)), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  return waitForLine(c, (l) => l.trim() || undefined, 'hub process').then((l) => JSON.parse(l) as { url: string; storage: string });
}

/** The real CLI: `outpost hub serve --dir D --port 0 --json [--db URL]`. */
function startCliHub(dir: string, home: string, db?: string): { child: ChildProcess; ready: Promise<{ url: string; storage: string; db: string }> } {
  const child = startCli(['hub', 'serve', '--dir', dir, '--port', '0', '--json', ...(db ? ['--db', db] : [])], { home });
  children.push(child);
  const ready = waitForLine(child, (l) => {
    if (!l.startsWith('{')) return undefined;
    const e = JSON.parse(l) as { event?: string };
    return e.event === 'listening' ? l : undefined;
  }, '`outpost hub serve`').then((l) => JSON.parse(l) as { url: string; storage: string; db: string });
  return { child, ready };
}

/**
 * Publish concurrently through hubs a and b, then check both serve the same linear history with
 * every publish in it, and that devices pull through each.
 */
async function publishConcurrentlyAndCheck(h: Pick<TestHub, 'trustRoot' | 'publishers'>, a: string, b: string, work: string): Promise<void> {
  const latestTs = async (url: string) => parseTimestamp(await (await fetch(`${url}/metadata/timestamp.json`)).text());
  const startSnap = (await latestTs(a)).signed.snapshotMeta.version;
  const churn = h.publishers['churn-team'];
  const risk = h.publishers['risk-team'];
  const jobs: Promise<unknown>[] = [];
  for (let v = 1; v <= 3; v++) {
    // the same team on both hubs at once: the losers of the metadata-version race sign again on top (at most twice)
    jobs.push(publishPackage({ packageDir: makePackage(work, `churn${v}`, 1), hubUrl: v % 2 ? a : b, keys: [churn.key], token: churn.token }));
    jobs.push(publishPackage({ packageDir: makePackage(work, 'risk', v), hubUrl: v % 2 ? b : a, keys: [risk.key], token: risk.token }).catch((e: Error) => e));
  }
  const results = await Promise.all(jobs);
  // risk versions race each other: a lower version landing after a higher one is refused (versions only grow)
  const riskErrors = results.filter((r) => r instanceof Error) as Error[];
  for (const e of riskErrors) assert.match(e.message, /only grow|does not grow/);
  const publishes = 6 - riskErrors.length;

  // both processes serve the same, linear history
  const tsA = await latestTs(a);
  const tsB = await latestTs(b);
  assert.equal(tsA.signed.version, tsB.signed.version);
  const endSnap = tsA.signed.snapshotMeta.version;
  assert.equal(tsB.signed.snapshotMeta.version, endSnap);
  assert.equal(endSnap, startSnap + publishes, 'one new snapshot per accepted publish: none forked, none lost');
  let prev = parseSnapshot(await (await fetch(`${a}/metadata/${startSnap}.snapshot.json`)).text()).signed.meta;
  for (let s = startSnap + 1; s <= endSnap; s++) {
    const bodyA = await (await fetch(`${a}/metadata/${s}.snapshot.json`)).text();
    assert.equal(await (await fetch(`${b}/metadata/${s}.snapshot.json`)).text(), bodyA, `snapshot ${s} is the same through both hubs`);
    const meta = parseSnapshot(bodyA).signed.meta;
    const changed = Object.keys(meta).filter((role) => meta[role].version !== prev[role]?.version);
    // one publish: its publisher's role and at most the one version bin it added to (a 64-character role name)
    const teams = changed.filter((role) => role.length < 64 + '.json'.length);
    assert.equal(teams.length, 1, `snapshot ${s} records exactly one publish (${changed.join(', ')})`);
    assert.ok(changed.length - teams.length <= 1, `snapshot ${s} re-signs at most one bin (${changed.join(', ')})`);
    for (const role of changed) assert.equal(meta[role].version, (prev[role]?.version ?? 0) + 1, `snapshot ${s}: ${role} grows by one`);
    prev = meta;
  }
  assert.equal(prev['churn-team.json'].version, 3, 'three churn publishes, three metadata versions, none lost');
  assert.equal(prev['risk-team.json']?.version ?? 0, 3 - riskErrors.length);

  const home = path.join(work, 'home');
  for (let v = 1; v <= 3; v++) {
    const r = await pull({ home, hubUrl: v % 2 ? a : b, ref: `churn${v}`, rootFile: h.trustRoot, smoke: false });
    assert.equal(r.model.name, `churn${v}`);
  }
  const [risksA, risksB] = await Promise.all([a, b].map(async (u) => (await (await fetch(`${u}/api/v1/models/risk`)).json()) as { versions: { version: number }[] }));
  assert.deepEqual(risksA, risksB, 'both hubs list the same risk versions');
  const versions = risksA.versions.map((x) => x.version);
  assert.equal(versions.length, 3 - riskErrors.length);
  for (let i = 1; i < versions.length; i++) assert.ok(versions[i] > versions[i - 1], 'versions strictly increasing');
  const latestRisk = versions.at(-1)!;
  for (const [i, u] of [a, b].entries()) {
    const r = await pull({ home: path.join(work, `risk-device-${i}`), hubUrl: u, ref: 'risk', rootFile: h.trustRoot, smoke: false });
    assert.equal(r.model.version, latestRisk, `a device pulling through hub ${i ? 'b' : 'a'} gets the latest risk`);
  }
}

const publishers = [{ name: 'churn-team', glob: 'churn*' }, { name: 'risk-team', glob: 'risk*' }];

test('two hub processes, one SQLite database: concurrent publishes give one consistent repository', async () => {
  const h = await startTestHub({ publishers });
  await h.stop(); // only the two child processes serve
  const work = tmpDir('outpost-mp-');
  try {
    const [a, b] = await Promise.all([startChild(h.dir), startChild(h.dir)]);
    assert.deepEqual([a.storage, b.storage], ['sqlite', 'sqlite']);
    await publishConcurrentlyAndCheck(h, a.url, b.url, work);
  } finally {
    for (const c of children.splice(0)) c.kill('SIGTERM');
    await h.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});


test('two `outpost hub serve` processes, one PostgreSQL database: concurrent publishes give one consistent repository', { skip: pgSkip }, async () => {
  const db = await freshPostgresDatabase('outpost_mp');
  const work = tmpDir('outpost-mp-pg-');
  const dir = path.join(work, 'hub');
  const home = path.join(work, 'cli-home');
  const procs: ChildProcess[] = [];
  try {
    // hub init and add-publisher through the CLI, on the PostgreSQL database
    const offline = path.join(work, 'offline-keys');
    const init = await cli(['hub', 'init', '--dir', dir, '--offline-keys', offline, '--db', db, '--json', '--home', home]);
    assert.equal(init.code, 0, init.err);
    const { trustRoot, db: recorded } = JSON.parse(init.out) as { trustRoot: string; db: string };
    assert.equal(recorded, db);
    assert.equal((JSON.parse(fs.readFileSync(path.join(dir, 'hub.json'), 'utf8')) as { db: string }).db, db, 'hub.json records the database');
    assert.ok(!fs.existsSync(path.join(dir, 'hub.db')), 'no SQLite database made');
    const pubs: Record<string, { key: PrivateKeyHandle; token: string }> = {};
    for (const p of publishers) {
      const key = generateKeyFile(path.join(work, `${p.name}.key`));
      const add = await cli(['hub', 'add-publisher', '--dir', dir, '--offline-keys', offline, '--db', db, '--name', p.name, '--key', `${key.file}.pub`, '--models', p.glob, '--json', '--home', home]);
      assert.equal(add.code, 0, add.err);
      pubs[p.name] = { key, token: (JSON.parse(add.out) as { tokens: { token: string }[] }).tokens[0].token };
    }
    // one process told the database with --db, the other reading it from hub.json
    const hubs = [startCliHub(dir, path.join(work, 'home-a'), db), startCliHub(dir, path.join(work, 'home-b'))];
    procs.push(...hubs.map((x) => x.child));
    const [a, b] = await Promise.all(hubs.map((x) => x.ready));
    assert.deepEqual([a.storage, b.storage], ['postgres', 'postgres']);
    assert.deepEqual([a.db, b.db], [db, db]);
    await publishConcurrentlyAndCheck({ trustRoot, publishers: pubs as TestHub['publishers'] }, a.url, b.url, work);
    // both stop cleanly (their connections closed) on SIGTERM
    const exits = procs.map((c) => new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code))));
    for (const c of procs) c.kill('SIGTERM');
    assert.deepEqual(await Promise.all(exits), [0, 0]);
  } finally {
    for (const c of procs) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  }
});
