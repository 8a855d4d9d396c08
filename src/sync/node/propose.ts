// `outpost propose <model>@<version>`: send a local (unsigned) version — normally a retrained
// challenger activated from a proposal — to the connected hub as a proposal: model.onnx, card.json
// (with its lineage) and the challenger-vs-champion comparison the retrain measured. One request,
// signed with the device key like a sync request; the hub checks the package as a device would and
// keeps it for a publisher to accept (publish, signed by the publisher's key) or reject.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { prepareHubTrust } from '../../registry/node/hub-tls.ts';
import { listProposals } from '../../retrain/node/retrain.ts';
import { getModel, recordModelEvent, verifyInstalled } from '../../store/node/models.ts';
import type { Store } from '../../store/node/store.ts';
import { PROPOSAL_CONTENT_TYPE, PROPOSAL_FORMAT, PROPOSALS_PATH, type ProposalComparison, type ProposalReceipt, type ProposalUpload } from '../common/proposal.ts';
import { deviceKey, signRequest } from './device.ts';
import { hubFailure, networkFailure } from './http.ts';
import { requireConnection } from './sync.ts';

export interface ProposeResult extends ProposalReceipt { hub: string; name: string; localVersion: number; modelSha256: string; comparison: ProposalComparison | null }

export async function propose(store: Store, ref: string, o: { note?: string; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ProposeResult> {
  const conn = requireConnection(store);
  if (!/^[^@\s]+@\d+$/.test(ref)) throw new OutpostError('usage', `name the local version to propose as <model>@<version> (got "${ref}")`);
  const m = getModel(store, ref);
  if (m.source !== 'local-unsigned') {
    throw new OutpostError('usage', `${m.name}@${m.version} came from ${m.signedBy ? `the hub, signed by ${m.signedBy}` : m.source}: only a local version (a retrained challenger activated with \`outpost proposals activate\`, or a model trained here) can be proposed`);
  }
  const problems = verifyInstalled(store, m);
  if (problems.length) throw new OutpostError('package', `${m.name}@${m.version} was modified on disk, not proposing it: ${problems[0]}`);
  const model = fs.readFileSync(path.join(m.dir, 'model.onnx'));
  const card = fs.readFileSync(path.join(m.dir, 'card.json'), 'utf8');
  const p = listProposals(store, m.name).find((x) => x.activatedVersion === m.version);
  const comparison: ProposalComparison | null = p ? {
    proposalId: p.id, metric: p.metric, championVersion: p.championVersion, championScore: p.championScore, challengerScore: p.challengerScore,
    better: p.better, decision: p.decision, holdoutRows: p.evaluation.holdoutRows, trainRows: p.data.trainRows,
    champion: p.evaluation.champion.metrics, challenger: p.evaluation.challenger.metrics, warnings: p.data.warnings,
  } : null;
  const upload: ProposalUpload = {
    format: PROPOSAL_FORMAT, name: m.name, localVersion: m.version, card, cardSha256: m.cardSha256,
    model: model.toString('base64'), modelSha256: crypto.createHash('sha256').update(model).digest('hex'), comparison,
    ...(o.note !== undefined ? { note: o.note } : {}),
  };
  const body = Buffer.from(JSON.stringify(upload), 'utf8');
  prepareHubTrust(store.home, conn.url);
  let res: Response;
  try {
    res = await fetch(`${conn.url}${PROPOSALS_PATH}`, {
      method: 'POST', body,
      headers: { 'content-type': PROPOSAL_CONTENT_TYPE, ...signRequest(conn, deviceKey(store.home, false), 'POST', PROPOSALS_PATH, body) },
      signal: AbortSignal.any([AbortSignal.timeout(o.timeoutMs ?? 120_000), ...(o.signal ? [o.signal] : [])]),
    });
  } catch (e) {
    if (o.signal?.aborted) throw new OutpostError('cancelled', 'propose stopped: nothing was sent');
    throw networkFailure(conn.url, e);
  }
  if (!res.ok) throw await hubFailure(res, `proposing ${m.name}@${m.version}`);
  const receipt = await res.json() as ProposalReceipt;
  if (!receipt.duplicate) recordModelEvent(store, m.name, m.version, 'proposed', `sent to ${conn.url} as proposal ${receipt.id}${comparison ? ` (${comparison.decision})` : ''}`);
  return { ...receipt, hub: conn.url, name: m.name, localVersion: m.version, modelSha256: upload.modelSha256, comparison };
}
