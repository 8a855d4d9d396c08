// Upstream proposals end to end on loopback, through the real CLI: a hub publishes wx@1; workstation
// A pulls it, scores Seattle weather 2015 with ids, joins the labels, retrains and activates the
// challenger as local wx@2, then `outpost propose wx@2`. The hub lists it with the comparison; a
// publisher accepts it (signed with the publisher's key through the publish path) and workstation B
// pulls wx@2 and verifies it like any version. Also: reject; a revoked device refused; tampered or
// malformed uploads refused with nothing stored; a hub-signed version is not proposable.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createEnrollment, revokeDevice } from '../src/hub/node/devices.ts';
import { listProposals } from '../src/hub/node/proposals.ts';
import { publishPackage } from '../src/hub/node/publish-client.ts';
import { getModel } from '../src/store/node/models.ts';
import { openStore } from '../src/store/node/store.ts';
import { PROPOSAL_CONTENT_TYPE, PROPOSAL_FORMAT, PROPOSALS_PATH } from '../src/sync/common/proposal.ts';
import { connect } from '../src/sync/node/connect.ts';
import { deviceKey, signRequest } from '../src/sync/node/device.ts';
import { lastJson, REPO, runMain } from './helpers/cli.ts';
import { startTestHub, tmpDir, type TestHub } from './helpers/hub-fixtures.ts';

const SEATTLE = path.join(REPO, 'node_modules/vega-datasets/data/seattle-weather.csv');
const SAMPLE = path.join(REPO, 'models/demo/weather-2015.csv');
const FEATURES = 'precipitation,temp_max,temp_min,wind';

describe('upstream proposals', () => {
  let t: TestHub;
  let dir: string;
  const homeA = () => path.join(dir, 'ws-a');
  const homeB = () => path.join(dir, 'ws-b');
  let deviceA = '';
  let proposalId = '';
  const pub = () => t.publishers['wx-team'];
  const cli = async (home: string, ...argv: string[]) => runMain(['--home', home, ...argv]);
  const ok = async (home: string, ...argv: string[]) => {
    const r = await cli(home, '--json', ...argv);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
    return lastJson(r.out);
  };
  const enroll = async (home: string, name: string) => {
    const s = openStore(home);
    try {
      const { code } = await createEnrollment(t.hub, { name });
      return (await connect(s, { hubUrl: t.url, rootFile: t.trustRoot, code })).deviceId;
    } finally {
      s.close();
    }
  };
  const hubList = async () => (await ok(dir, 'hub', 'proposals', 'list', '--dir', t.dir)).proposals as { id: string; status: string; device: string; publishedVersion: number | null; comparison: { metric: string; championVersion: number } | null }[];

  before(async () => {
    t = await startTestHub({ publishers: [{ name: 'wx-team', glob: 'wx*' }] });
    dir = tmpDir('outpost-proposals-');
    // the champion, trained and published by the team
    await ok(dir, 'train', SEATTLE, '--target', 'weather', '--name', 'wx', '--features', FEATURES, '--algo', 'logreg', '--time-col', 'date', '--valid-from', '2014-01-01', '--out', path.join(dir, 'wx1'));
    await publishPackage({ packageDir: path.join(dir, 'wx1'), hubUrl: t.url, keys: [pub().key], token: pub().token, checks: 'static' });
    // workstation A: pull, score with ids, labels, retrain, activate the challenger locally
    deviceA = await enroll(homeA(), 'ws-a');
    await ok(homeA(), 'pull', 'wx');
    await ok(homeA(), 'settings', 'set', 'logInputs', 'all');
    await ok(homeA(), 'score', SAMPLE, '--model', 'wx', '--id', 'date', '--out', path.join(dir, 'scored.csv'));
    await ok(homeA(), 'labels', 'add', SAMPLE, '--model', 'wx', '--id', 'date', '--label', 'weather');
    const rt = await ok(homeA(), 'retrain', 'wx') as { proposal: { id: string } };
    await ok(homeA(), 'proposals', 'activate', rt.proposal.id, '--force');
  });
  after(async () => {
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('propose → list → accept (publisher key signs) → another workstation pulls and verifies it', async () => {
    const r = await ok(homeA(), 'propose', 'wx@2', '--note', 'retrained on 2015') as { id: string; duplicate: boolean; comparison: { metric: string; championVersion: number; holdoutRows: number } };
    proposalId = r.id;
    assert.equal(r.duplicate, false);
    assert.equal(r.comparison.championVersion, 1);
    assert.ok(r.comparison.holdoutRows > 0);
    // sending it again is the same proposal
    const again = await ok(homeA(), 'propose', 'wx@2') as { id: string; duplicate: boolean };
    assert.deepEqual([again.id, again.duplicate], [proposalId, true]);

    const list = await hubList();
    assert.equal(list.length, 1);
    assert.deepEqual([list[0].id, list[0].status, list[0].device, list[0].comparison?.metric], [proposalId, 'proposed', 'ws-a', r.comparison.metric]);
    const shown = await cli(dir, 'hub', 'proposals', 'show', proposalId, '--dir', t.dir);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, /champion\s+challenger/);
    assert.match(shown.out, /note: retrained on 2015/);

    const acc = await ok(dir, 'hub', 'proposals', 'accept', proposalId, '--dir', t.dir, '--hub', t.url, '--key', pub().key.file, '--token', pub().token) as { version: number; publisher: string; signedBy: string[] };
    assert.deepEqual([acc.version, acc.publisher], [2, 'wx-team']);
    assert.deepEqual(acc.signedBy, [pub().key.keyId], 'the publisher\'s key signed it');
    const [p] = (await hubList()).filter((x) => x.id === proposalId);
    assert.deepEqual([p.status, p.publishedVersion], ['accepted', 2]);
    const twice = await cli(dir, 'hub', 'proposals', 'accept', proposalId, '--dir', t.dir, '--hub', t.url, '--key', pub().key.file, '--token', pub().token);
    assert.equal(twice.code, 1);
    assert.match(twice.err, /already accepted/);

    // workstation B pulls it through TUF like any version: same model bytes as A's challenger
    await enroll(homeB(), 'ws-b');
    await ok(homeB(), 'pull', 'wx');
    const sa = openStore(homeA());
    const sb = openStore(homeB());
    try {
      const local = getModel(sa, 'wx@2');
      const pulled = getModel(sb, 'wx@2');
      assert.equal(pulled.source, 'hub');
      assert.match(pulled.signedBy ?? '', /^wx-team \(/, 'signed by the publisher');
      assert.equal(pulled.modelSha256, local.modelSha256, 'the proposed model.onnx, unchanged');
      assert.equal((pulled.card.lineage as { proposal?: { hubProposal: string; device: string } }).proposal?.hubProposal, proposalId);
      assert.equal((pulled.card.lineage as { proposal?: { device: string } }).proposal?.device, 'ws-a');
      assert.equal(pulled.card.lineage?.trainingDataHash, local.card.lineage?.trainingDataHash, 'the lineage travels');
    } finally {
      sa.close();
      sb.close();
    }
    const verify = await cli(homeB(), 'models', 'verify', 'wx@2');
    assert.equal(verify.code, 0, verify.err);
  });

  test('reject: kept with the reason, nothing published, and it cannot be accepted afterwards', async () => {
    await ok(dir, 'train', SEATTLE, '--target', 'weather', '--name', 'wx', '--features', FEATURES, '--algo', 'gbdt', '--seed', '5', '--version', '3', '--out', path.join(dir, 'wx3'));
    await ok(homeA(), 'models', 'add', path.join(dir, 'wx3'), '--allow-unsigned');
    const r = await ok(homeA(), 'propose', 'wx@3') as { id: string; comparison: unknown };
    assert.equal(r.comparison, null, 'trained here, not retrained: no comparison');
    const rej = await ok(dir, 'hub', 'proposals', 'reject', r.id, '--dir', t.dir, '--reason', 'not better than v2 on our data') as { proposal: { status: string; reason: string } };
    assert.deepEqual([rej.proposal.status, rej.proposal.reason], ['rejected', 'not better than v2 on our data']);
    const acc = await cli(dir, 'hub', 'proposals', 'accept', r.id, '--dir', t.dir, '--hub', t.url, '--key', pub().key.file, '--token', pub().token);
    assert.equal(acc.code, 1);
    assert.match(acc.err, /already rejected/);
    assert.equal(await t.hub.storage.latestVersion('wx'), 2, 'nothing published');
    const noReason = await cli(dir, 'hub', 'proposals', 'reject', r.id, '--dir', t.dir);
    assert.equal(noReason.code, 2);
    const unknown = await cli(dir, 'hub', 'proposals', 'show', 'prop_nope', '--dir', t.dir);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no proposal prop_nope/);
  });

  test('a revoked workstation\'s proposal is refused and nothing is stored', async () => {
    await ok(homeB(), 'models', 'add', path.join(dir, 'wx3'), '--allow-unsigned');
    await revokeDevice(t.hub, 'ws-b');
    const before = (await listProposals(t.hub)).length;
    const r = await cli(homeB(), 'propose', 'wx@3');
    assert.equal(r.code, 1);
    assert.match(r.err, /revoked/);
    assert.equal((await listProposals(t.hub)).length, before);
  });

  test('tampered and malformed uploads are refused with nothing stored; a hub-signed version is not proposable', async () => {
    const before = (await listProposals(t.hub)).length;
    const key = deviceKey(homeA(), false);
    const s = openStore(homeA());
    const m = getModel(s, 'wx@3');
    s.close();
    const model = fs.readFileSync(path.join(m.dir, 'model.onnx'));
    const card = fs.readFileSync(path.join(m.dir, 'card.json'), 'utf8');
    const sha = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex');
    const upload = (over: Record<string, unknown> = {}) => ({ format: PROPOSAL_FORMAT, name: 'wx', localVersion: 3, card, cardSha256: sha(card), model: model.toString('base64'), modelSha256: sha(model), comparison: null, ...over });
    const send = async (body: Buffer, signed = body) => {
      const res = await fetch(`${t.url}${PROPOSALS_PATH}`, { method: 'POST', body, headers: { 'content-type': PROPOSAL_CONTENT_TYPE, ...signRequest({ deviceId: deviceA }, key, 'POST', PROPOSALS_PATH, signed) } });
      return { status: res.status, body: await res.json() as { error?: { code: string; message: string } } };
    };
    const json = (o: unknown) => Buffer.from(JSON.stringify(o));

    // the body changed after it was signed
    const good = json(upload({ note: 'x' }));
    const altered = Buffer.from(good);
    altered[altered.length - 3] ^= 1;
    const a = await send(altered, good);
    assert.deepEqual([a.status, a.body.error?.code], [401, 'bad-digest']);
    // a model byte flipped by the sender (signed as sent): its SHA-256 no longer matches
    const flipped = Buffer.from(model);
    flipped[flipped.length - 10] ^= 0xff;
    const b = await send(json(upload({ model: flipped.toString('base64') })));
    assert.equal(b.status, 400);
    assert.match(b.body.error!.message, /model\.onnx does not match its SHA-256/);
    // a card edited without its hash
    const c = await send(json(upload({ card: card.replace('"version": 3', '"version": 4') })));
    assert.equal(c.status, 400);
    assert.match(c.body.error!.message, /card\.json does not match its SHA-256/);
    // consistent hashes, but not an ONNX model: the device checks refuse it
    const junk = Buffer.from('not an onnx model at all');
    const d = await send(json(upload({ model: junk.toString('base64'), modelSha256: sha(junk) })));
    assert.equal(d.status, 422);
    assert.match(d.body.error!.message, /model-safety/);
    // a card that does not fit its graph (an input the graph does not have)
    const badCard = JSON.stringify({ ...JSON.parse(card), inputs: [...(JSON.parse(card) as { inputs: unknown[] }).inputs, { name: 'humidity', type: 'float', nullable: false }] });
    const e = await send(json(upload({ card: badCard, cardSha256: sha(badCard) })));
    assert.equal(e.status, 422);
    assert.match(e.body.error!.message, /humidity/);
    // malformed: not JSON; a field missing
    assert.equal((await send(Buffer.from('{"format":'))).status, 400);
    assert.equal((await send(json({ ...upload(), modelSha256: undefined }))).status, 400);
    // unsigned
    const u = await fetch(`${t.url}${PROPOSALS_PATH}`, { method: 'POST', body: good, headers: { 'content-type': PROPOSAL_CONTENT_TYPE } });
    assert.equal(u.status, 401);
    assert.equal((await listProposals(t.hub)).length, before, 'nothing stored');

    // wx@1 came from the hub, signed: there is nothing to propose
    const r = await cli(homeA(), 'propose', 'wx@1');
    assert.equal(r.code, 2);
    assert.match(r.err, /signed by wx-team/);
  });
});
