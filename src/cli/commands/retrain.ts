// `outpost retrain <model>` and `outpost proposals [list|show|activate|dismiss]`: the challenger
// trained with the champion's recipe on recent labelled data, compared on the newest held-out rows,
// kept as a proposal until an operator activates (local, unsigned version) or dismisses it.
import { usageError } from '../../common/errors.ts';
import type { MetricValue } from '../../monitor/common/performance.ts';
import { activateProposal, dismissProposal, getProposal, listProposals, retrain, type Proposal } from '../../retrain/node/retrain.ts';
import { openStore } from '../../store/node/store.ts';
import { flag, str, type CommandContext, type CommandSpec } from '../command.ts';

const n = (x: number): string => x.toLocaleString('en-US');
const v = (m: MetricValue | undefined): string => (!m || m.value === null ? '—' : m.ci ? `${m.value.toFixed(4)} [${m.ci.low.toFixed(3)}, ${m.ci.high.toFixed(3)}]` : m.value.toFixed(4));

export function showProposal(ctx: CommandContext, p: Proposal): void {
  ctx.out.text(`Proposal ${p.id} — ${p.model}: challenger (${p.data.algo}) vs champion @${p.championVersion} — ${p.status}${p.activatedVersion !== null ? ` as @${p.activatedVersion}` : ''}`);
  ctx.out.text(`  trigger:   ${p.trigger}${p.triggerDetail ? ` (${p.triggerDetail})` : ''}; created ${new Date(p.createdAt).toISOString()}`);
  ctx.out.text(`  data:      ${n(p.data.withInputs)} of ${n(p.data.labelled)} labelled predictions have logged inputs (logInputs: ${p.data.logInputs}), ${new Date(p.data.from).toISOString()} → ${new Date(p.data.to).toISOString()}`);
  ctx.out.text(`             trained on ${n(p.data.trainRows)}, validated on ${n(p.data.validRows)}, held out the newest ${n(p.data.holdoutRows)}`);
  ctx.out.text(`  decision:  ${p.decision}`);
  ctx.out.text(`  on the held-out rows (95% intervals):`);
  const names = Object.keys(p.evaluation.champion.metrics);
  ctx.out.text(`    ${'metric'.padEnd(10)}${'champion'.padEnd(30)}challenger`);
  for (const k of names) ctx.out.text(`    ${k.padEnd(10)}${v(p.evaluation.champion.metrics[k]).padEnd(30)}${v(p.evaluation.challenger.metrics[k])}`);
  for (const w of p.data.warnings) ctx.out.text(`  warning:   ${w}`);
  ctx.out.text(`  package:   ${p.dir}`);
}

export const retrainCommand: CommandSpec = {
  name: 'retrain',
  summary: 'Train a challenger with the champion\'s recipe on recent labelled data and propose it (never activates it)',
  usage: 'outpost retrain <model> [--since TIME] [--holdout F]',
  help: [
    '--since TIME    only predictions logged since this ISO time (default: every labelled prediction of the active version)',
    '--holdout F     the newest fraction of labelled rows held out to compare champion and challenger (default 0.2)',
    'Data: inputs the prediction log kept (setting logInputs) joined to labels (outpost labels add).',
    'The challenger becomes a proposal: outpost proposals show/activate/dismiss ID.',
  ],
  options: { since: { type: 'string' }, holdout: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const sinceText = str(args, 'since');
    const since = sinceText === undefined ? undefined : Date.parse(sinceText);
    if (since !== undefined && (!/^\d{4}-\d{2}-\d{2}/.test(sinceText!) || Number.isNaN(since))) throw usageError(`--since must be an ISO time such as 2025-06-01 (got "${sinceText}")`);
    const hText = str(args, 'holdout');
    const holdout = hText === undefined ? undefined : Number(hText);
    if (holdout !== undefined && !(holdout > 0 && holdout < 1)) throw usageError(`--holdout must be a fraction between 0 and 1 (got "${hText}")`);
    const store = openStore(ctx.home);
    try {
      const p = retrain(store, {
        model: args.positionals[0], trigger: 'manual', ...(since !== undefined ? { since } : {}), ...(holdout !== undefined ? { holdout } : {}),
        onStage: (m) => { ctx.out.event({ event: 'stage', message: m }); if (ctx.interactive) ctx.out.warn(m); },
      });
      ctx.out.json({ ok: true, proposal: p });
      showProposal(ctx, p);
      ctx.out.text('');
      ctx.out.text(p.better === 'challenger' ? `Activate it with: outpost proposals activate ${p.id}` : `Nothing to do; outpost proposals dismiss ${p.id} removes it`);
      return 0;
    } finally {
      store.close();
    }
  },
};

export const proposalsListCommand: CommandSpec = {
  name: 'proposals list',
  summary: 'Retrained challengers awaiting a decision, and what became of earlier ones',
  usage: 'outpost proposals list [<model>]',
  positionals: { min: 0, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const ps = listProposals(store, args.positionals[0]);
      ctx.out.json({ ok: true, proposals: ps });
      if (!ps.length) ctx.out.text('No proposals (outpost retrain <model> makes one)');
      for (const p of ps) {
        const f = (x: number | null) => (x === null ? '—' : x.toFixed(4));
        ctx.out.text(`${p.id}  ${p.model}@${p.championVersion} → challenger  ${p.status.padEnd(9)}  ${p.metric} ${f(p.championScore)} → ${f(p.challengerScore)}  ${p.better === 'challenger' ? 'better' : 'not better'}  ${p.trigger}  ${new Date(p.createdAt).toISOString()}`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};

export const proposalsCommand: CommandSpec = { ...proposalsListCommand, name: 'proposals', usage: 'outpost proposals [<model>]   (same as proposals list)' };

export const proposalsShowCommand: CommandSpec = {
  name: 'proposals show',
  summary: 'One proposal: data, champion vs challenger on the held-out rows, the decision',
  usage: 'outpost proposals show <id>',
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const p = getProposal(store, args.positionals[0]);
      ctx.out.json({ ok: true, proposal: p });
      showProposal(ctx, p);
      return 0;
    } finally {
      store.close();
    }
  },
};

export const proposalsActivateCommand: CommandSpec = {
  name: 'proposals activate',
  summary: 'Install a proposal\'s challenger as a local unsigned version and make it active (recorded)',
  usage: 'outpost proposals activate <id> [--force]',
  help: ['--force    activate a challenger the evaluation did not find better'],
  options: { force: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const { proposal, installed } = activateProposal(store, args.positionals[0], { force: flag(args, 'force') });
      ctx.out.json({ ok: true, proposal, installed: { name: installed.name, version: installed.version, source: installed.source, active: installed.active } });
      ctx.out.text(`${installed.name}@${installed.version} installed from proposal ${proposal.id} (local, unsigned) and active; the champion @${proposal.championVersion} stays installed (outpost models rollback ${installed.name} returns to it)`);
      return 0;
    } finally {
      store.close();
    }
  },
};

export const proposalsDismissCommand: CommandSpec = {
  name: 'proposals dismiss',
  summary: 'Dismiss a proposal (its package is removed; the record stays)',
  usage: 'outpost proposals dismiss <id>',
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const p = dismissProposal(store, args.positionals[0]);
      ctx.out.json({ ok: true, proposal: p });
      ctx.out.text(`proposal ${p.id} dismissed`);
      return 0;
    } finally {
      store.close();
    }
  },
};
