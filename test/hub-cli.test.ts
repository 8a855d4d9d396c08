// The CLI surface end to end, in process: keys generate → hub init → add-publisher → hub serve →
// publish → pull → models verify / rollback; and the embedded demo hub.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { runMain as run } from './helpers/cli.ts';
import { runEmbeddedDemoHub } from '../src/registry/node/embedded-hub.ts';
import { openStore } from '../src/store/node/store.ts';
import { makePackage, tmpDir } from './helpers/hub-fixtures.ts';


const work = tmpDir('outpost-hubcli-');
after(() => fs.rmSync(work, { recursive: true, force: true }));


test('CLI: hub init → add-publisher → serve → publish → pull → verify → rollback', async () => {
  const hubDir = path.join(work, 'hub');
  const home = path.join(work, 'home');
  const offline = path.join(work, 'usb', 'offline-keys');
  assert.equal((await run(['hub', 'init', '--dir', hubDir, '--offline-keys', path.join(hubDir, 'k'), '--home', home])).code, 2, 'offline keys inside the hub folder are refused');
  const init = await run(['hub', 'init', '--dir', hubDir, '--offline-keys', offline, '--json', '--home', home]);
  assert.equal(init.code, 0, init.err);
  assert.match(init.err, /OFFLINE KEYS \(root, targets\) are in .*usb\/offline-keys, outside the hub folder/);
  assert.match(init.err, /off this machine/);
  const { trustRoot, offlineKeys } = JSON.parse(init.out) as { trustRoot: string; offlineKeys: string[] };
  assert.deepEqual(offlineKeys.map((f) => path.relative(offline, f)), ['root.key', 'targets.key']);
  const inHub = fs.readdirSync(hubDir, { recursive: true }).map(String);
  assert.ok(!inHub.some((f) => /root\.key|targets\.key/.test(f)), `no offline key in the hub folder: ${inHub.join(', ')}`);
  assert.equal((await run(['hub', 'init', '--dir', hubDir, '--offline-keys', path.join(work, 'other-keys'), '--home', home])).code, 1, 'a second init on the same folder fails');

  const key = path.join(work, 'team.key');
  assert.equal((await run(['keys', 'generate', '--out', key, '--home', home])).code, 0);
  const noKeys = await run(['hub', 'add-publisher', '--dir', hubDir, '--name', 'churn-team', '--key', `${key}.pub`, '--models', 'churn*', '--home', home]);
  assert.equal(noKeys.code, 2, 'a copy of the hub folder alone cannot delegate');
  assert.match(noKeys.err, /--offline-keys <folder> is required/);
  const add = await run(['hub', 'add-publisher', '--dir', hubDir, '--offline-keys', offline, '--name', 'churn-team', '--key', `${key}.pub`, '--models', 'churn*', '--json', '--home', home]);
  assert.equal(add.code, 0, add.err);
  const { tokens: [{ token }] } = JSON.parse(add.out) as { tokens: { token: string }[] };
  assert.match(token, /^oppub_/);
  const badKey = await run(['hub', 'add-publisher', '--dir', hubDir, '--offline-keys', offline, '--name', 'x', '--key', key, '--models', 'x', '--home', home]);
  assert.equal(badKey.code, 1);
  assert.match(badKey.err, /this is a private key/);

  const stop = new AbortController();
  let url = '';
  let listening!: () => void;
  const ready = new Promise<void>((r) => { listening = r; });
  const serving = run(['hub', 'serve', '--dir', hubDir, '--port', '0', '--json', '--home', home], {
    signal: stop.signal,
    onLine: (l) => { if (l.includes('"listening"')) { url = (JSON.parse(l) as { url: string }).url; listening(); } },
  });
  await ready;
  try {
    for (const v of [1, 2]) {
      const pub = await run(['publish', makePackage(work, 'churn', v), '--hub', url, '--key', key, '--alias', 'production', '--json', '--home', home], { env: { OUTPOST_PUBLISH_TOKEN: token } });
      assert.equal(pub.code, 0, pub.err);
    }
    const noRoot = await run(['pull', 'churn', '--hub', url, '--home', home]);
    assert.equal(noRoot.code, 2);
    assert.match(noRoot.err, /--root/);
    const p1 = await run(['pull', 'churn@1', '--hub', url, '--root', trustRoot, '--json', '--home', home]);
    assert.equal(p1.code, 0, p1.err);
    const p2 = await run(['pull', 'churn:production', '--hub', url, '--home', home]);
    assert.equal(p2.code, 0, p2.err);
    assert.match(p2.out, /installed churn@2[\s\S]*signed by churn-team[\s\S]*was churn@1, kept as last-known-good/);

    assert.equal((await run(['models', 'verify', '--home', home])).code, 0);
    const rb = await run(['models', 'rollback', 'churn', '--home', home]);
    assert.equal(rb.code, 0, rb.err);
    assert.match(rb.out, /churn@1 is active again/);

    const store = openStore(home);
    const dir = (store.db.prepare("SELECT dir FROM models WHERE name = 'churn' AND version = 2").get() as { dir: string }).dir;
    store.close();
    fs.appendFileSync(path.join(home, dir, 'card.json'), ' ');
    const ver = await run(['models', 'verify', 'churn', '--json', '--home', home]);
    assert.equal(ver.code, 1);
    assert.equal((JSON.parse(ver.out) as { ok: boolean }).ok, false);

    const bad = await run(['pull', '../etc', '--hub', url, '--home', home]);
    assert.equal(bad.code, 2);
  } finally {
    stop.abort();
    assert.equal((await serving).code, 0);
  }
});

test('embedded demo hub: publish signed, pull verified into the store; a re-run re-verifies', async () => {
  const home = path.join(work, 'demo-home');
  const pkg = makePackage(work, 'demo-model', 1);
  const lines: string[] = [];
  const r = await runEmbeddedDemoHub({ packageDir: pkg, home, log: (l) => lines.push(l), smoke: false });
  assert.equal(r.model.name, 'demo-model');
  assert.equal(r.model.source, 'hub');
  assert.equal(r.model.active, true);
  assert.match(r.signedBy, new RegExp(`^demo \\(${r.signerKeyId.slice(0, 16)}\\)$`));
  assert.match(lines.join('\n'), /published demo-model@1 signed/);
  assert.deepEqual(fs.readdirSync(path.join(home, 'trust')), [], 'no trust left behind for a hub that is gone');
  const again = await runEmbeddedDemoHub({ packageDir: pkg, home, smoke: false });
  assert.equal(again.alreadyInstalled, true);
});

test('CLI: --db malformed is a usage error (2); PostgreSQL unreachable fails (1) naming host:port and the reason', async () => {
  const home = path.join(work, 'db-home');
  const hubDir = path.join(work, 'db-hub');
  for (const bad of ['mysql://db.example/hub', 'postgres://hub:secret@db.example:99999/hub', 'postgres:hub', '']) {
    const r = await run(['hub', 'init', '--dir', hubDir, '--db', bad, '--home', home]);
    assert.equal(r.code, 2, `${JSON.stringify(bad)}: ${r.err}`);
    assert.match(r.err, /--db/);
    assert.doesNotMatch(r.err, /secret/, 'the password is never printed');
    assert.ok(!fs.existsSync(hubDir), 'nothing created');
  }
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port: p } = s.address() as net.AddressInfo; s.close(() => resolve(p)); });
  });
  const down = `postgres://hub:secret@127.0.0.1:${port}/hub`;
  const init = await run(['hub', 'init', '--dir', hubDir, '--db', down, '--home', home]);
  assert.equal(init.code, 1, init.err);
  assert.match(init.err, new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${port}/hub: .*ECONNREFUSED`));
  assert.doesNotMatch(init.err, /secret/);
  assert.ok(!fs.existsSync(hubDir), 'no hub left half-made');

  // a SQLite hub told to use an unreachable database for serve / add-publisher
  assert.equal((await run(['hub', 'init', '--dir', hubDir, '--home', home])).code, 0);
  const serve = await run(['hub', 'serve', '--dir', hubDir, '--port', '0', '--db', down, '--home', home]);
  assert.equal(serve.code, 1, serve.err);
  assert.match(serve.err, new RegExp(`127\\.0\\.0\\.1:${port}/hub: .*ECONNREFUSED`));
  const key = path.join(work, 'db-team.key');
  assert.equal((await run(['keys', 'generate', '--out', key, '--home', home])).code, 0);
  const add = await run(['hub', 'add-publisher', '--dir', hubDir, '--offline-keys', `${hubDir}.offline-keys`, '--db', down, '--name', 'x', '--key', `${key}.pub`, '--models', 'x', '--home', home]);
  assert.equal(add.code, 1, add.err);
  assert.match(add.err, new RegExp(`127\\.0\\.0\\.1:${port}/hub`));
  assert.equal((await run(['hub', 'serve', '--dir', hubDir, '--db', 'sqlite://x', '--home', home])).code, 2);
  // a mistyped SQLite --db path is refused, not made into a new, empty hub database
  const typo = path.join(work, 'typo-hub.db');
  for (const args of [['hub', 'devices', 'list'], ['hub', 'devices', 'add', '--name', 'zz'], ['hub', 'serve', '--port', '0']]) {
    const r = await run([...args, '--dir', hubDir, '--db', typo, '--home', home]);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /there is no hub database at .*typo-hub\.db: check --db/, args.join(' '));
    assert.equal(fs.existsSync(typo), false, `${args.join(' ')} made no database`);
  }
  // a port in use, an address not of this machine: one line saying what to change, no stack trace
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const busy = (taken.address() as net.AddressInfo).port;
    const inUse = await run(['hub', 'serve', '--dir', hubDir, '--port', String(busy), '--home', home]);
    assert.equal(inUse.code, 2, inUse.err);
    assert.equal(inUse.err, `outpost hub serve: port ${busy} on 127.0.0.1 is already in use (another hub or program): pick another with --port\n`);
  } finally {
    taken.close();
  }
  const foreign = await run(['hub', 'serve', '--dir', hubDir, '--host', '192.0.2.1', '--port', '0', '--home', home]);
  assert.equal(foreign.code, 2, foreign.err);
  assert.match(foreign.err, /--host 192\.0\.2\.1 is not an address of this machine/);
  assert.doesNotMatch(foreign.err, /\bat \w+.*\(|internal error/);
  const help = await run(['hub', 'serve', '--help', '--home', home]);
  assert.match(help.out, /--db .*postgres:\/\//);
  assert.match(help.out, /share one\s+postgres:\/\/ database and the same hub folder/);
});

test('CLI: a numeric option of the hub commands given a negative or out-of-range value names the value and the range (exit 2)', async () => {
  const dir = path.join(work, 'no-hub'); // the values are checked before the hub folder is opened
  const home = path.join(work, 'home-options');
  const cases: [string[], RegExp][] = [
    [['hub', 'rollout', 'churn:production', '--group', 'line-1', '--percent', '-5'], /^outpost hub rollout: --percent must be a number above 0 and at most 100, with at most two decimals \(got "-5"\)$/],
    [['hub', 'rollout', 'churn:production', '--group', 'line-1', '--percent', '0'], /--percent must be a number above 0 and at most 100, with at most two decimals \(got "0"\)/],
    [['hub', 'rollout', 'churn:production', '--group', 'line-1', '--percent', '-0.5'], /--percent must be .* \(got "-0\.5"\)/],
    [['hub', 'events', '--limit', '-3'], /^outpost hub events: --limit must be a whole number from 1 to 100000 \(got "-3"\)$/],
    [['hub', 'events', '--limit', '5x'], /--limit must be a whole number from 1 to 100000 \(got "5x"\)/],
    [['hub', 'devices', 'add', '--name', 'ws-1', '--expires', '-60'], /^outpost hub devices add: --expires must be a whole number of seconds from 60 to 2592000 \(got "-60"\)$/],
    [['hub', 'devices', 'add', '--name', 'ws-1', '--expires', '30'], /--expires must be a whole number of seconds from 60 to 2592000 \(got "30"\)/],
    [['hub', 'drift', 'churn', '--window', 'day', '--last', '-1'], /^outpost hub drift: --last must be a whole number from 1 to 1000 \(got "-1"\)$/],
    [['hub', 'serve', '--port', '-1'], /^outpost hub serve: --port must be a whole number from 0 to 65535 \(got "-1"\)$/],
    [['hub', 'targets', 'renew', '--expires-days', '-7', '--offline-keys', path.join(work, 'k')], /^outpost hub targets renew: --expires-days must be a whole number of days from 1 to 3650 \(got "-7"\)$/],
  ];
  for (const [argv, message] of cases) {
    const r = await run([...argv, '--dir', dir, '--home', home]);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err.trim().split('\n')[0], message, argv.join(' '));
  }
});
