// POST /api/v1/proposals: a workstation's retrained challenger, in a request signed with its device
// key (the same profile as sync requests: known, unrevoked device, digest, time, nonce). The body is
// checked before anything is stored; the nonce and the proposal are written in one fleet transaction.
import type { FastifyPluginAsync } from 'fastify';
import { RequestRefusal } from '../../api/common/request-errors.ts';
import { PROPOSAL_CONTENT_TYPE, PROPOSALS_PATH } from '../../sync/common/proposal.ts';
import { checkProposalUpload, storeProposal } from './proposals.ts';
import type { Hub } from './repository.ts';
import { claimNonce, verifySignedRequest } from './sync-auth.ts';

export const proposalRoutes: FastifyPluginAsync<{ hub: Hub }> = async (app, { hub }) => {
  app.addContentTypeParser(PROPOSAL_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: hub.config.syncMaxBodyBytes }, (_req, body, done) => done(null, body));
  app.post(PROPOSALS_PATH, { config: { bodyType: PROPOSAL_CONTENT_TYPE } }, async (req, reply) => {
    const body = req.body;
    if (!Buffer.isBuffer(body)) throw new RequestRefusal(415, `send a proposal as ${PROPOSAL_CONTENT_TYPE}`);
    const v = await verifySignedRequest(hub, { method: req.method, path: req.url, headers: req.headers, body });
    const checked = await checkProposalUpload(body);
    const receipt = await hub.storage.fleetTransaction(v.device.id, async (sql) => {
      await claimNonce(sql, v);
      return storeProposal(sql, v.device, checked);
    });
    return reply.send(receipt);
  });
};
