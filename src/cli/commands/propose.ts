// Upstream proposals: `outpost propose <model>@<version>` on a workstation sends a local retrained
// challenger to its hub; `outpost hub proposals list|show|accept|reject --dir D` is the hub side.
// Accepting publishes through the normal publisher path: --key is the publisher's key, which signs
// here (as in `outpost publish`); the device key that authenticated the upload never signs a model.
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import { acceptProposal, getProposal, listProposals, rejectProposal, type HubProposal, type ProposalStatus } from '../../hub/node/proposals.ts';
import { loadPrivateKey } from '../../keys/node/keys.ts';
import { propose } from '../../sync/node/propose.ts';
import { openStore } from '../../store/node/store.ts';
import { str, type CommandSpec } from '../command.ts';
import { allowHttp, ALLOW_HTTP_HELP, ALLOW_HTTP_OPTION, CA_HELP, CA_OPTION, hubTrust } from '../hub-access.ts';
import { HUB_HELP, HUB_OPTS, withHub } from './hub-fleet.ts';
import { passphraseFromEnv } from './keys.ts';

const num = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : v.toFixed(4));

export const proposeCommand: CommandSpec = {
  name: 'propose',
  summary: 'Send a local retrained challenger (model, card, comparison with the champion) to the connected hub as a proposal',
  usage: 'outpost propose <model>@<version> [--note TEXT]',
  help: [
    '<model>@<version>    a local unsigned version: normally a challenger activated with `outpost proposals activate`',
    '                     (its comparison with the champion on the held-out rows travels with it)',
    '--note TEXT          a note for the publisher',
  ],
  options: { note: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const r = await propose(store, args.positionals[0], { ...(str(args, 'note') !== undefined ? { note: str(args, 'note')! } : {}), signal: ctx.signal });
      ctx.out.json({ ...r });
      if (r.duplicate) ctx.out.text(`${r.name}@${r.localVersion} was already proposed to ${r.hub}: proposal ${r.id} (${r.status})`);
      else ctx.out.text(`proposed ${r.name}@${r.localVersion} to ${r.hub}: proposal ${r.id}`);
      ctx.out.text(r.comparison
        ? `  ${r.comparison.metric} on ${r.comparison.holdoutRows.toLocaleString('en-US')} held-out rows: challenger ${num(r.comparison.challengerScore)} vs champion ${r.name}@${r.comparison.championVersion} ${num(r.comparison.championScore)} — ${r.comparison.decision}`
        : '  no challenger-vs-champion comparison: this version was not activated from a retrain proposal');
      ctx.out.text('  a publisher accepts it on the hub with `outpost hub proposals accept`; it is published signed by the publisher\'s key');
      return 0;
    } finally {
      store.close();
    }
  },
};

function describe(p: HubProposal): string[] {
  const c = p.comparison;
  return [
    `${p.id}  ${p.model} (local v${p.localVersion} on ${p.device}${p.group ? ` [${p.group}]` : ''})  ${p.status}${p.publishedVersion !== null ? ` → published ${p.model}@${p.publishedVersion} by ${p.publishedBy}` : ''}${p.status === 'rejected' && p.reason ? `: ${p.reason}` : ''}`,
    `  received ${p.receivedAt} · ${p.sizeBytes.toLocaleString('en-US')} bytes · model sha256 ${p.modelSha256.slice(0, 16)}…`,
    c ? `  ${c.metric} on ${c.holdoutRows.toLocaleString('en-US')} held-out rows: challenger ${num(c.challengerScore)} vs champion v${c.championVersion} ${num(c.championScore)} — ${c.decision}` : '  no comparison sent (not a retrained challenger)',
  ];
}

export const hubProposalsListCommand: CommandSpec = {
  name: 'hub proposals list',
  summary: 'Proposals workstations sent (retrained challengers): device, comparison with the champion, status',
  usage: 'outpost hub proposals list --dir <d> [--status proposed|accepted|rejected] [--model NAME]',
  help: [...HUB_HELP, '--status S    only proposals with this status', '--model NAME  only this model'],
  options: { ...HUB_OPTS, status: { type: 'string' }, model: { type: 'string' } },
  async run(ctx, args) {
    const status = str(args, 'status');
    if (status !== undefined && !['proposed', 'accepted', 'rejected'].includes(status)) throw usageError(`--status must be proposed, accepted or rejected (got "${status}")`);
    const list = await withHub(ctx, args, (hub) => listProposals(hub, { ...(status ? { status: status as ProposalStatus } : {}), ...(str(args, 'model') ? { model: str(args, 'model')! } : {}) }));
    ctx.out.json({ ok: true, proposals: list.map(({ card: _card, ...p }) => p) });
    if (!list.length) ctx.out.text('no proposals');
    for (const p of list) for (const l of describe(p)) ctx.out.text(l);
    return 0;
  },
};

export const hubProposalsShowCommand: CommandSpec = {
  name: 'hub proposals show',
  summary: 'One proposal: the device, the card with its lineage, both models\' metrics on the held-out rows',
  usage: 'outpost hub proposals show <id> --dir <d>',
  help: HUB_HELP,
  options: HUB_OPTS,
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const p = await withHub(ctx, args, (hub) => getProposal(hub, args.positionals[0]));
    ctx.out.json({ ok: true, proposal: p });
    for (const l of describe(p)) ctx.out.text(l);
    if (p.note) ctx.out.text(`  note: ${p.note}`);
    const c = p.comparison;
    if (c) {
      ctx.out.text(`  metric        champion   challenger`);
      for (const k of Object.keys(c.challenger)) ctx.out.text(`  ${k.padEnd(12)}  ${num(c.champion[k]?.value).padStart(8)}   ${num(c.challenger[k]?.value).padStart(8)}`);
      ctx.out.text(`  trained on ${c.trainRows.toLocaleString('en-US')} rows (local proposal ${c.proposalId})`);
      for (const w of c.warnings) ctx.out.text(`  warning: ${w}`);
    }
    ctx.out.text(`  card: ${p.card.task}, inputs ${p.card.inputs.map((f) => f.name).join(', ')}`);
    const lin = p.card.lineage as Record<string, unknown> | undefined;
    if (lin) ctx.out.text(`  lineage: ${JSON.stringify({ trainingDataHash: lin.trainingDataHash, trainingRows: lin.trainingRows, codeVersion: lin.codeVersion, parent: lin.parent })}`);
    return 0;
  },
};

export const hubProposalsAcceptCommand: CommandSpec = {
  name: 'hub proposals accept',
  summary: 'Publish a proposal: signed by the publisher\'s key (as `outpost publish`), then pulled by the fleet like any version',
  usage: 'outpost hub proposals accept <id> --dir <d> --hub <url> --key <publisher key> --token <token> [--version N] [--alias A]',
  help: [
    ...HUB_HELP,
    '--hub URL             the hub\'s URL (the publish goes through its publish API, as `outpost publish` does)',
    '--key FILE            the publisher\'s private key (repeat when the delegation needs several signatures)',
    '--token T             the publisher\'s API token (or $OUTPOST_PUBLISH_TOKEN)',
    '--passphrase-env VAR  passphrase of the key(s)',
    '--version N           the published version (default: the hub\'s latest of the model + 1)',
    '--alias NAME          also point this alias at it',
    ...CA_HELP,
    ALLOW_HTTP_HELP,
  ],
  options: { ...HUB_OPTS, hub: { type: 'string' }, key: { type: 'string', multiple: true }, token: { type: 'string' }, 'passphrase-env': { type: 'string' }, version: { type: 'string' }, alias: { type: 'string' }, ...CA_OPTION, ...ALLOW_HTTP_OPTION },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const hubUrl = str(args, 'hub') ?? ctx.env.OUTPOST_HUB;
    const token = str(args, 'token') ?? ctx.env.OUTPOST_PUBLISH_TOKEN;
    const keyFiles = (args.values.key as string[] | undefined) ?? [];
    if (!hubUrl || !token || !keyFiles.length) throw usageError('accepting publishes the proposal: --hub, --token and --key (the publisher\'s) are required');
    const vText = str(args, 'version');
    const version = vText === undefined ? undefined : Number(vText);
    if (version !== undefined && (!/^\d+$/.test(vText!) || version < 1)) throw usageError(`--version must be a positive integer (got "${vText}")`);
    const pass = passphraseFromEnv(ctx.env, str(args, 'passphrase-env'));
    const keys = keyFiles.map((f) => loadPrivateKey(path.resolve(ctx.cwd, f), pass));
    hubTrust(ctx, args, hubUrl);
    const r = await withHub(ctx, args, (hub) => acceptProposal(hub, args.positionals[0], {
      hubUrl, keys, token, home: ctx.home, allowHttp: allowHttp(args), signal: ctx.signal,
      ...(version !== undefined ? { version } : {}), ...(str(args, 'alias') ? { alias: str(args, 'alias')! } : {}),
      onProgress: (e) => ctx.out.event({ event: 'progress', ...e }),
    }));
    ctx.out.text(`accepted ${r.proposal.id}: published ${r.proposal.model}@${r.version} as ${r.publisher} (signed by ${r.signedBy.map((k) => k.slice(0, 16)).join(', ')}); workstations pull it like any version`);
    const { card: _card, ...proposal } = r.proposal;
    ctx.out.json({ ok: true, proposal, version: r.version, publisher: r.publisher, signedBy: r.signedBy });
    return 0;
  },
};

export const hubProposalsRejectCommand: CommandSpec = {
  name: 'hub proposals reject',
  summary: 'Reject a proposal (kept, with the reason; nothing is published)',
  usage: 'outpost hub proposals reject <id> --dir <d> --reason TEXT',
  help: [...HUB_HELP, '--reason TEXT  why (kept with the proposal)'],
  options: { ...HUB_OPTS, reason: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const reason = str(args, 'reason');
    if (!reason || reason.length > 1000) throw usageError('--reason TEXT (1 to 1000 characters) is required');
    const p = await withHub(ctx, args, (hub) => rejectProposal(hub, args.positionals[0], reason));
    ctx.out.text(`rejected ${p.id} (${p.model} from ${p.device}): ${reason}`);
    const { card: _card, ...proposal } = p;
    ctx.out.json({ ok: true, proposal });
    return 0;
  },
};
