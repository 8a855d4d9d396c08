// Hub processes hold no state of their own: two of them on one database and blob store serve one
// consistent repository under concurrent publishes (SQLite here; the storage contract is the same
// for PostgreSQL).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { parseSnapshot, parseTimestamp } from '../src/hub/node/tuf-metadata.ts';
import { pull } from '../src/registry/node/pull.ts';
import { makePackage, startTestHub, tmpDir } from './helpers/hub-fixtures.ts';

const children: ChildProcess[] = [];
after(() => { for (const c of children) c.kill('SIGTERM'); });

function startChild(dir: string): Promise<string> {
  const c = spawn(process.execPath, [fileURLToPath(new URL('./helpers/hub-serve-child.ts', import.meta.url)), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  return new Promise((resolve, reject) => {
    c.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    c.once('exit', (code) => reject(new Error(`hub process exited ${code}`)));
  });
}

test('two hub processes, one database: concurrent publishes give one consistent repository', async () => {
  const h = await startTestHub({ publishers: [{ name: 'churn-team', glob: 'churn*' }, { name: 'risk-team', glob: 'risk*' }] });
  await h.stop(); // only the two child processes serve
  const work = tmpDir('outpost-mp-');
  try {
    const [a, b] = await Promise.all([startChild(h.dir), startChild(h.dir)]);
    const churn = h.publishers['churn-team'];
    const risk = h.publishers['risk-team'];
    const jobs: Promise<unknown>[] = [];
    for (let v = 1; v <= 3; v++) {
      // the same team on both hubs at once: one of each pair loses the metadata-version race and retries
      jobs.push(publishPackage({ packageDir: makePackage(work, `churn${v}`, 1), hubUrl: v % 2 ? a : b, keys: [churn.key], token: churn.token }));
      jobs.push(publishPackage({ packageDir: makePackage(work, 'risk', v), hubUrl: v % 2 ? b : a, keys: [risk.key], token: risk.token }).catch((e: Error) => e));
    }
    const results = await Promise.all(jobs);
    // risk versions race each other: a lower version landing after a higher one is refused (versions only grow)
    const riskErrors = results.filter((r) => r instanceof Error) as Error[];
    for (const e of riskErrors) assert.match(e.message, /only grow|does not grow/);

    // both processes serve the same, linear history
    const tsA = parseTimestamp(await (await fetch(`${a}/metadata/timestamp.json`)).text());
    const tsB = parseTimestamp(await (await fetch(`${b}/metadata/timestamp.json`)).text());
    assert.equal(tsA.signed.version, tsB.signed.version);
    const snap = parseSnapshot(await (await fetch(`${b}/metadata/${tsA.signed.snapshotMeta.version}.snapshot.json`)).text());
    const churnRole = snap.signed.meta['churn-team.json'];
    assert.equal(churnRole.version, 3, 'three churn publishes, three metadata versions, none lost');
    for (let s = 1; s <= tsA.signed.snapshotMeta.version; s++) assert.equal((await fetch(`${a}/metadata/${s}.snapshot.json`)).status, 200, `snapshot ${s}`);

    const home = path.join(work, 'home');
    for (let v = 1; v <= 3; v++) {
      const r = await pull({ home, hubUrl: v % 2 ? a : b, ref: `churn${v}`, rootFile: h.trustRoot, smoke: false });
      assert.equal(r.model.name, `churn${v}`);
    }
    const risks = (await (await fetch(`${a}/api/v1/models/risk`)).json()) as { versions: { version: number }[] };
    assert.equal(risks.versions.length, 3 - riskErrors.length);
  } finally {
    for (const c of children.splice(0)) c.kill('SIGTERM');
    await h.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
