// The retrain loop end to end through the CLI: a model trained by `outpost train` scores data with
// ids, labels are joined, `outpost retrain` trains a challenger with the champion's recipe on the
// logged inputs and proposes it (nothing is installed), `proposals activate` installs it as a local
// unsigned version and makes it active (recorded). Failure paths: inputs not logged (the policy is
// named), a champion without a recipe, a tampered proposal package, activating twice, dismissing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openStore } from '../src/store/node/store.ts';
import { lastJson, REPO, runMain } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
const WEATHER = path.join(REPO, 'node_modules/vega-datasets/data/seattle-weather.csv');
const SAMPLE = path.join(REPO, 'models/demo/weather-2015.csv');
const home = path.join(root, 'home');
const cli = (...argv: string[]) => runMain(['--home', home, ...argv]);
const json = async (...argv: string[]) => {
  const r = await cli('--json', ...argv);
  return { ...r, result: r.out ? lastJson(r.out) : {} };
};
const db = <T>(sql: string, ...args: unknown[]): T => {
  const s = openStore(home);
  try { return s.db.prepare(sql).all(...args) as T; } finally { s.close(); }
};

interface P { id: string; status: string; better: string; metric: string; championScore: number; challengerScore: number; decision: string; dir: string; card: { version: number; lineage: { parent: { name: string; version: number; modelSha256: string } } }; data: { withInputs: number; labelled: number; holdoutRows: number; trainRows: number; validRows: number }; evaluation: { holdoutRows: number; champion: { metrics: Record<string, { value: number }> }; challenger: { metrics: Record<string, { value: number }> } } }

before(async () => {
  const pkg = path.join(root, 'wx');
  const t = await cli('train', WEATHER, '--target', 'weather', '--name', 'wx', '--time-col', 'date', '--valid-from', '2014-01-01', '--features', 'precipitation,temp_max,temp_min,wind', '--algo', 'logreg', '--out', pkg);
  assert.equal(t.code, 0, t.err);
  assert.equal((await cli('models', 'add', pkg, '--allow-unsigned')).code, 0);
});

test('inputs the logging policy did not keep: retrain says how many rows it has and why', async () => {
  // default policy: sampled at 1 %
  assert.equal((await cli('score', SAMPLE, '--model', 'wx', '--id', 'date', '--out', path.join(root, 's1.csv'))).code, 0);
  assert.equal((await cli('labels', 'add', SAMPLE, '--model', 'wx', '--id', 'date', '--label', 'weather')).code, 0);
  const r = await cli('retrain', 'wx');
  assert.equal(r.code, 1);
  assert.match(r.err, /only \d+ of the 365 labelled predictions of wx@1 have their inputs in the prediction log \(input-logging policy: sampled \(1 % of rows\)\); a retrain needs at least 50/);
  assert.match(r.err, /outpost settings set logInputs all/);
  assert.equal(db<{ n: number }[]>('SELECT count(*) AS n FROM proposals')[0].n, 0);
  assert.equal(fs.existsSync(path.join(home, 'proposals')), false);
});

let proposal: P;

test('retrain proposes a challenger evaluated against the champion on the same newest rows; nothing is installed', async () => {
  assert.equal((await cli('settings', 'set', 'logInputs', 'all')).code, 0);
  assert.equal((await cli('score', SAMPLE, '--model', 'wx', '--id', 'date', '--out', path.join(root, 's2.csv'))).code, 0);
  // the same labels again: each id moves to its latest prediction (the one with inputs)
  const again = await json('labels', 'add', SAMPLE, '--model', 'wx', '--id', 'date', '--label', 'weather');
  assert.equal(again.code, 0, again.err);
  assert.equal((again.result as { rejoined: number }).rejoined, 365);
  const latest = db<{ id: string }[]>('SELECT id FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT 1')[0].id;
  assert.equal(db<{ n: number }[]>('SELECT count(*) AS n FROM labels WHERE job_id = ?', latest)[0].n, 365);
  const before = db<{ name: string; version: number }[]>('SELECT name, version FROM models');
  const r = await json('retrain', 'wx');
  assert.equal(r.code, 0, r.err);
  proposal = (r.result as { proposal: P }).proposal;
  assert.equal(proposal.status, 'proposed');
  assert.equal(proposal.data.withInputs, 365);
  assert.equal(proposal.evaluation.holdoutRows, 73); // the newest 20 %
  assert.equal(proposal.data.trainRows + proposal.data.validRows + proposal.data.holdoutRows, 365);
  assert.equal(proposal.metric, 'logLoss');
  assert.equal(proposal.championScore, proposal.evaluation.champion.metrics.logLoss.value);
  assert.equal(proposal.challengerScore, proposal.evaluation.challenger.metrics.logLoss.value);
  assert.ok(Number.isFinite(proposal.championScore) && Number.isFinite(proposal.challengerScore));
  assert.equal(proposal.better, proposal.challengerScore < proposal.championScore ? 'challenger' : 'champion');
  assert.match(proposal.decision, /logLoss/);
  assert.equal(proposal.card.lineage.parent.name, 'wx');
  assert.equal(proposal.card.lineage.parent.version, 1);
  assert.equal(proposal.card.lineage.parent.modelSha256, db<{ h: string }[]>("SELECT model_sha256 AS h FROM models WHERE name = 'wx' AND version = 1")[0].h);
  assert.ok(fs.existsSync(path.join(proposal.dir, 'model.onnx')) && fs.existsSync(path.join(proposal.dir, 'card.json')));
  assert.deepEqual(db<{ name: string; version: number }[]>('SELECT name, version FROM models'), before, 'nothing installed');
  const list = await json('proposals');
  assert.equal((list.result as { proposals: P[] }).proposals.length, 1);
  const show = await cli('proposals', 'show', proposal.id);
  assert.match(show.out, /decision: +(challenger better|champion as good)/);
  assert.match(show.out, /accuracy +\d\.\d{4} \[/);
});

test('activating installs the challenger as the next local unsigned version and makes it active, recorded', async () => {
  if (proposal.better !== 'challenger') {
    const refused = await cli('proposals', 'activate', proposal.id);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /--force/);
  }
  // a modified package is refused
  const onnx = path.join(proposal.dir, 'model.onnx');
  const good = fs.readFileSync(onnx);
  fs.writeFileSync(onnx, Buffer.concat([good, Buffer.from([0])]));
  const tampered = await cli('proposals', 'activate', proposal.id, '--force');
  assert.equal(tampered.code, 1);
  assert.match(tampered.err, /modified since it was evaluated/);
  fs.writeFileSync(onnx, good);
  const r = await json('proposals', 'activate', proposal.id, '--force');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual((r.result as { installed: unknown }).installed, { name: 'wx', version: 2, source: 'local-unsigned', active: true });
  const events = db<{ kind: string; version: number; detail: string }[]>("SELECT kind, version, detail FROM model_events WHERE name = 'wx' AND kind = 'proposal-activated'");
  assert.equal(events.length, 1);
  assert.match(events[0].detail, new RegExp(proposal.id));
  assert.equal(db<{ status: string; activated_version: number }[]>('SELECT status, activated_version FROM proposals')[0].activated_version, 2);
  // the new version scores
  assert.equal((await cli('score', SAMPLE, '--model', 'wx', '--id', 'date', '--out', path.join(root, 's3.csv'))).code, 0);
  assert.equal(db<{ v: number }[]>("SELECT model_version AS v FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT 1")[0].v, 2);
  const again = await cli('proposals', 'activate', proposal.id);
  assert.equal(again.code, 1);
  assert.match(again.err, /already activated as wx@2/);
  // back to the champion is the ordinary rollback
  assert.equal((await cli('models', 'rollback', 'wx')).code, 0);
});

test('dismissing removes the package and keeps the record; a model without a recipe cannot be retrained', async () => {
  const r = await json('retrain', 'wx', '--holdout', '0.3');
  assert.equal(r.code, 0, r.err);
  const p = (r.result as { proposal: P }).proposal;
  assert.equal(p.evaluation.holdoutRows, Math.round(365 * 0.3));
  assert.equal((await cli('proposals', 'dismiss', p.id)).code, 0);
  assert.equal(fs.existsSync(p.dir), false);
  assert.equal((await cli('proposals', 'activate', p.id)).code, 1);
  assert.equal((await cli('retrain', 'wx', '--holdout', '2')).code, 2);
  assert.equal((await cli('proposals', 'show', 'p-nope')).code, 1);
  const h2 = path.join(root, 'home-2');
  assert.equal((await runMain(['--home', h2, 'models', 'add', path.join(REPO, 'models/demo/weather'), '--allow-unsigned'])).code, 0);
  const demo = await runMain(['--home', h2, 'retrain', 'seattle-weather']);
  assert.equal(demo.code, 1);
  assert.match(demo.err, /carries no training recipe Outpost can rerun/);
});

test('retrainOnAlert: a performance alert from a label import retrains once and proposes; the setting is validated', async () => {
  assert.equal((await cli('settings', 'set', 'retrainOnAlert', 'Not A Name')).code, 2);
  const pkg = path.join(root, 'wx2');
  assert.equal((await cli('train', WEATHER, '--target', 'weather', '--name', 'wx2', '--time-col', 'date', '--valid-from', '2014-01-01', '--features', 'precipitation,temp_max,temp_min,wind', '--algo', 'logreg', '--out', pkg)).code, 0);
  const cardFile = path.join(pkg, 'card.json');
  const card = JSON.parse(fs.readFileSync(cardFile, 'utf8')) as Record<string, unknown>;
  card.monitoring = { performance: { metric: 'accuracy', min: 0.99, minSamples: 100 } };
  fs.writeFileSync(cardFile, JSON.stringify(card));
  assert.equal((await cli('models', 'add', pkg, '--allow-unsigned')).code, 0);
  assert.equal((await cli('settings', 'set', 'retrainOnAlert', 'wx2,other')).code, 0);
  assert.equal((await cli('score', SAMPLE, '--model', 'wx2', '--id', 'date', '--out', path.join(root, 's4.csv'))).code, 0);
  const r = await cli('labels', 'add', SAMPLE, '--model', 'wx2', '--id', 'date', '--label', 'weather');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /performance alert: wx2@1 job .* accuracy 0\.\d+ .*below 0\.99/);
  assert.match(r.err, /retrained on the alert \(setting retrainOnAlert\): proposal p\d{8}-[0-9a-f]{8}/);
  const ps = db<{ trigger: string; status: string; model_name: string }[]>("SELECT trigger, status, model_name FROM proposals WHERE model_name = 'wx2'");
  assert.deepEqual(ps, [{ trigger: 'performance-alert', status: 'proposed', model_name: 'wx2' }]);
  assert.deepEqual(db<{ version: number }[]>("SELECT version FROM models WHERE name = 'wx2'"), [{ version: 1 }], 'nothing activated');
  // a second alert while that proposal waits: no second retrain, and it says why
  assert.equal((await cli('score', SAMPLE, '--model', 'wx2', '--id', 'date', '--out', path.join(root, 's5.csv'))).code, 0);
  const flipped = path.join(root, 'flipped.csv');
  const lines = fs.readFileSync(SAMPLE, 'utf8').trim().split('\n');
  fs.writeFileSync(flipped, [lines[0], ...lines.slice(1).map((l) => l.replace(/,(sun|rain)$/, (_m, w: string) => `,${w === 'sun' ? 'rain' : 'sun'}`))].join('\n') + '\n');
  const r2 = await cli('labels', 'add', flipped, '--model', 'wx2', '--id', 'date', '--label', 'weather', '--replace');
  assert.equal(r2.code, 0, r2.err);
  assert.match(r2.err, /no automatic retrain: proposal p\d{8}-[0-9a-f]{8} from an alert in the last day is still undecided/);
  assert.equal(db<{ n: number }[]>("SELECT count(*) AS n FROM proposals WHERE model_name = 'wx2'")[0].n, 1);
  assert.equal((await cli('settings', 'reset', 'retrainOnAlert')).code, 0);
});
