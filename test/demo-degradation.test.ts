// `outpost demo --degradation` end to end on the real flights data (small sample per month): a
// January model, five scored months with labels joined, performance per month, alerts, a
// retrained challenger compared with the champion. Numbers of the full run are in the README.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { lastJson, runMain } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('the degradation demo reports every month, the alerts and champion vs challenger; refuses a used data folder', async () => {
  const home = path.join(root, 'home');
  const r = await runMain(['--home', home, '--json', 'demo', '--degradation', '--rows-per-month', '1000']);
  assert.equal(r.code, 0, r.err);
  const out = lastJson(r.out) as {
    januaryValidation: { auc: number }; bound: number;
    monthly: { month: string; n: number; auc: number; accuracy: number }[];
    alerts: { worstDrift: { month: string; feature: string | null }[] };
    proposal: { id: string; champion: number; challenger: number; better: string; decision: string; holdoutRows: number };
  };
  assert.deepEqual(out.monthly.map((m) => m.month), ['Feb', 'Mar', 'Apr', 'May', 'Jun']);
  for (const m of out.monthly) {
    assert.ok(m.n > 800 && m.n <= 1000, `${m.month}: ${m.n} labelled`);
    assert.ok(m.auc > 0.3 && m.auc < 0.9 && m.accuracy > 0.5);
  }
  assert.equal(out.bound, Math.floor((out.januaryValidation.auc - 0.01) * 100) / 100);
  assert.equal(out.alerts.worstDrift.length, 5);
  assert.ok(Number.isFinite(out.proposal.champion) && Number.isFinite(out.proposal.challenger));
  assert.equal(out.proposal.better, out.proposal.challenger > out.proposal.champion ? 'challenger' : 'champion');
  const shown = await runMain(['--home', home, 'proposals', 'show', out.proposal.id]);
  assert.equal(shown.code, 0);
  assert.match(shown.out, /auc/);
  const again = await runMain(['--home', home, 'demo', '--degradation']);
  assert.equal(again.code, 1);
  assert.match(again.err, /already installed .* fresh data folder/);
  assert.equal((await runMain(['--home', home, 'demo', '--rows-per-month', '5000'])).code, 2);
});
