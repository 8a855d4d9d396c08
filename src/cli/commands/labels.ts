// `outpost labels add|list`: join ground truth to logged predictions by id (src/monitor/node/labels.ts),
// then evaluate the card's performance bound over the windows the labels fall in.
import { formatCount as n } from '../../common/count.ts';
import { usageError } from '../../common/errors.ts';
import type { InputFormat } from '../../io/common/table.ts';
import { addLabels, DEFAULT_LATE_AFTER_DAYS, listLabelImports, type LabelImportSummary } from '../../monitor/node/labels.ts';
import { evaluatePerformanceAlerts, type PerformanceAlert } from '../../monitor/node/performance.ts';
import { autoRetrain } from '../../retrain/node/auto.ts';
import { openStore } from '../../store/node/store.ts';
import { flag, str, type CommandContext, type CommandSpec } from '../command.ts';

const FORMATS = ['csv', 'jsonl', 'parquet'] as const;

export function alertText(a: PerformanceAlert): string {
  const ci = a.ci ? ` [${a.ci.low.toFixed(3)}, ${a.ci.high.toFixed(3)}]` : '';
  return `${a.model}@${a.version} ${a.scope} ${a.scopeKey}: ${a.metric} ${a.value.toFixed(4)}${ci} ${a.direction === 'min' ? 'below' : 'above'} ${a.threshold} (n ${n(a.n)})${a.clearedAt !== null ? `, cleared ${new Date(a.clearedAt).toISOString()}` : ''}`;
}

function report(ctx: CommandContext, s: LabelImportSummary): void {
  ctx.out.text(`Labels for ${s.model} from ${s.file}: ${n(s.rows)} rows read`);
  ctx.out.text(`  joined:            ${n(s.joined)} label${s.joined === 1 ? '' : 's'} (${n(s.idsJoined)} ids; ${Object.entries(s.byVersion).map(([v, k]) => `@${v}: ${n(k)}`).join(', ') || 'none'})`);
  const lines: [string, number, string][] = [
    ['late', s.late, `joined, but more than ${s.lateAfterDays} days after the prediction`],
    ['replaced', s.replaced, 'stored labels replaced (--replace)'],
    ['rejoined', s.rejoined, 'same label, moved to the id\'s newer prediction (scored again since)'],
    ['duplicates', s.duplicatesInFile, 'same id again in the file with the same label (counted once)'],
    ['conflicts in file', s.conflictsInFile, 'same id with different labels in the file (none stored)'],
    ['already labelled', s.alreadyLabelled, 'same label already stored'],
    ['conflicts stored', s.conflictsWithStored, 'a different label is stored: kept (--replace to replace)'],
    ['unknown ids', s.unknown, 'no logged prediction with this id (not scored with --id, or removed by retention)'],
    ['invalid rows', s.invalid, 'missing id or label, unknown class, not a number, unreadable row'],
    ['rescored ids', s.rescored, 'scored more than once by one version: the latest prediction joined'],
  ];
  for (const [what, count, meaning] of lines) if (count) ctx.out.text(`  ${`${what}:`.padEnd(19)}${n(count)} — ${meaning}`);
  if (s.jobsWithoutIds) ctx.out.warn(`note: ${s.jobsWithoutIds} job${s.jobsWithoutIds > 1 ? 's' : ''} of ${s.model} logged no ids (scored without --id); their predictions cannot take labels`);
  if (s.examples.length) {
    ctx.out.text('  examples:');
    for (const e of s.examples.slice(0, 12)) ctx.out.text(`    row ${e.row}${e.id !== null ? ` id ${JSON.stringify(e.id)}` : ''}: ${e.reason}: ${e.detail}`);
  }
  if (s.issuesPath) ctx.out.text(`  every row that did not join: ${s.issuesPath}`);
}

export const labelsAddCommand: CommandSpec = {
  name: 'labels add',
  summary: 'Join ground-truth labels to logged predictions by the id the scoring run used (score --id)',
  usage: 'outpost labels add <file> --model <name> --id <column> --label <column> [--replace] [--late-after DAYS]',
  help: [
    '--model NAME         the model whose logged predictions the labels belong to (every version)',
    '--id COL             the column holding the id the scoring run logged (score --id)',
    '--label COL          the column holding the true class (classifiers) or value (regression)',
    '--replace            a label for an id labelled before replaces it (default: kept, counted as a conflict)',
    `--late-after DAYS    labels arriving later than this after their prediction count as late (default ${DEFAULT_LATE_AFTER_DAYS})`,
    '--format csv|jsonl|parquet, --delimiter D   as for score',
    'Late, duplicate, conflicting, unknown and invalid rows are counted and listed in an issues CSV.',
    'Exit status 0 when at least one label joined, 1 when none did.',
  ],
  options: { model: { type: 'string' }, id: { type: 'string' }, label: { type: 'string' }, replace: { type: 'boolean' }, 'late-after': { type: 'string' }, format: { type: 'string' }, delimiter: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const model = str(args, 'model');
    const id = str(args, 'id');
    const label = str(args, 'label');
    const missing = [model === undefined && '--model', id === undefined && '--id', label === undefined && '--label'].filter(Boolean);
    if (missing.length) throw usageError(`labels add needs ${missing.join(', ')}`);
    const format = str(args, 'format');
    if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) throw usageError(`--format must be one of ${FORMATS.join(', ')} (got "${format}")`);
    const lateText = str(args, 'late-after');
    const lateAfterDays = lateText === undefined ? undefined : Number(lateText);
    if (lateAfterDays !== undefined && (lateText!.trim() === '' || !Number.isFinite(lateAfterDays) || lateAfterDays < 0)) throw usageError(`--late-after must be a number of days ≥ 0 (got "${lateText}")`);
    const store = openStore(ctx.home);
    try {
      const s = await addLabels(store, {
        file: args.positionals[0], model: model!, idColumn: id!, labelColumn: label!, replace: flag(args, 'replace'),
        ...(lateAfterDays !== undefined ? { lateAfterDays } : {}), ...(format !== undefined ? { format: format as InputFormat } : {}),
        ...(str(args, 'delimiter') !== undefined ? { delimiter: str(args, 'delimiter')! } : {}),
      });
      const opened = evaluatePerformanceAlerts(store, s.model, Object.keys(s.byVersion).map(Number));
      ctx.out.json({ ok: s.joined + s.rejoined > 0, ...s, alertsOpened: opened });
      report(ctx, s);
      for (const a of opened) ctx.out.warn(`performance alert: ${alertText(a)}`);
      const auto = opened.length ? autoRetrain(store, s.model, 'performance-alert', opened.map(alertText).join('; ')) : undefined;
      if (auto) {
        ctx.out.event({ event: 'retrain', ...(auto.ran ? { proposal: auto.proposal.id, decision: auto.proposal.decision } : { skipped: auto.reason }) });
        ctx.out.warn(auto.ran ? `retrained on the alert (setting retrainOnAlert): proposal ${auto.proposal.id} — ${auto.proposal.decision}` : `no automatic retrain: ${auto.reason}`);
      }
      if (s.joined + s.rejoined === 0) ctx.out.warn('no label joined');
      return s.joined + s.rejoined > 0 ? 0 : 1;
    } finally {
      store.close();
    }
  },
};

export const labelsListCommand: CommandSpec = {
  name: 'labels list',
  summary: 'Label imports (newest first) with what joined and what did not',
  usage: 'outpost labels list [<model>]',
  positionals: { min: 0, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const imports = listLabelImports(store, args.positionals[0]);
      ctx.out.json({ ok: true, imports });
      if (!imports.length) ctx.out.text('No labels imported yet (outpost labels add <file> --model M --id COL --label COL)');
      for (const i of imports) {
        const s = i.summary;
        ctx.out.text(`#${i.id} ${new Date(i.at).toISOString()} ${i.model} ${i.file}: ${n(s.rows)} rows, ${n(s.joined)} joined (${n(s.late)} late), ${n(s.unknown)} unknown, ${n(s.invalid)} invalid, ${n(s.duplicatesInFile + s.alreadyLabelled)} duplicate, ${n(s.conflictsInFile + s.conflictsWithStored)} conflicting${i.issuesPath ? ` — ${i.issuesPath}` : ''}`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
