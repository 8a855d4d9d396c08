// `outpost drift <model>[@<version>]`: how the data scored with a model version compares with its
// baseline — per feature and for the dataset, for everything, one job, a time span or the last
// windows. A report: exit 0 whether or not drift is found (1 with --fail-on-drift when it is); 1
// without a baseline or without data; 2 on bad usage.
import fs from 'node:fs';
import { OutpostError, usageError } from '../../common/errors.ts';
import { binsOf } from '../../monitor/common/bins.ts';
import { renderHtmlReport } from '../../monitor/common/html.ts';
import { checkOutputFile, writeFileAtomic } from '../../io/node/output-file.ts';
import { renderWorstFeatures, stringifyDrift } from '../../drift/common/index.ts';
import { num, renderReport, renderSeries } from '../../monitor/common/render.ts';
import type { WindowWidth } from '../../monitor/common/windows.ts';
import type { DriftAlert } from '../../monitor/node/alerts.ts';
import { driftForModel, type DriftScope } from '../../monitor/node/query.ts';
import { openStore } from '../../store/node/store.ts';
import { flag, str, type CommandSpec, type ParsedArgs } from '../command.ts';

const DEFAULT_LAST: Record<WindowWidth, number> = { hour: 24, day: 30 };

function scopeOf(args: ParsedArgs): DriftScope {
  const job = str(args, 'job');
  const since = str(args, 'since');
  const window = str(args, 'window');
  const last = str(args, 'last');
  if ([job, since, window].filter((x) => x !== undefined).length > 1) throw usageError('choose one of --job, --since and --window');
  if (last !== undefined && window === undefined) throw usageError('--last goes with --window');
  if (job !== undefined) return { kind: 'job', jobId: job };
  if (since !== undefined) {
    const t = Date.parse(since);
    if (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(t)) throw usageError(`--since must be an ISO time such as 2025-06-01 or 2025-06-01T08:00Z (got "${since}")`);
    return { kind: 'since', since: t };
  }
  if (window !== undefined) {
    if (window !== 'hour' && window !== 'day') throw usageError(`--window must be hour or day (got "${window}")`);
    const n = last === undefined ? DEFAULT_LAST[window] : Number(last);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw usageError(`--last must be a whole number of windows from 1 to 1000 (got "${last}")`);
    return { kind: 'windows', width: window, last: n };
  }
  return { kind: 'all' };
}

function alertLine(a: DriftAlert): string {
  const score = a.report.feature.scoreKind === 'p-value' ? `p ${num(a.score)}` : num(a.score);
  // ∞ is stored as such; null means not computed
  const state = a.clearedAt === null ? '' : `, cleared ${new Date(a.clearedAt).toISOString()}`;
  return `  ${a.scope} ${a.scopeKey}  ${a.feature}: ${a.method} ${score} (threshold ${num(a.threshold)}), n ${a.nReference}/${a.nCurrent}, first ${new Date(a.firstAt).toISOString()}${state}`;
}

export const driftCommand: CommandSpec = {
  name: 'drift',
  summary: 'Report feature and prediction drift of a model version against its baseline',
  usage: 'outpost drift <model>[@<version>] [--job <id> | --since <ISO time> | --window hour|day [--last N]] [--fail-on-drift] [--html FILE]',
  help: [
    '(no scope)           everything scored with the version',
    '--job ID             one scoring job',
    '--since TIME         scored since an ISO time (rounded down to the hour; to the day beyond 31 days)',
    '--window hour|day    the metric over the last N UTC windows, and the report of the latest one',
    '--last N             how many windows (default 24 hours or 30 days)',
    '--fail-on-drift      exit 1 when drift is detected (input drift or prediction drift), for scripts and CI',
    '--html FILE          also write the report as one self-contained HTML file (inline SVG charts, opens offline)',
    'Exit status 0 whether or not drift is found (unless --fail-on-drift); 1 when the model has no baseline or no',
    'data in scope; 2 on bad usage.',
  ],
  options: { job: { type: 'string' }, since: { type: 'string' }, window: { type: 'string' }, last: { type: 'string' }, 'fail-on-drift': { type: 'boolean' }, html: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const scope = scopeOf(args);
    const htmlOpt = str(args, 'html');
    if (htmlOpt !== undefined && htmlOpt.trim() === '') throw usageError('--html needs a file name');
    // a report is regenerated in place: an existing file is replaced, but its folder must exist and it must not be one
    const htmlFile = htmlOpt === undefined ? undefined : checkOutputFile(ctx.cwd, htmlOpt, { option: '--html', overwrite: true });
    const store = openStore(ctx.home);
    try {
      const { current, features, ...r } = driftForModel(store, args.positionals[0], scope);
      const failOnDrift = flag(args, 'fail-on-drift');
      const exit = failOnDrift && r.report.detected === true ? 1 : 0;
      if (htmlFile !== undefined) {
        const html = renderHtmlReport({
          ...r, description: r.scope.description, bins: features.map((f) => binsOf(f, current.get(f.name))), generatedAt: new Date().toISOString(),
          alerts: r.alerts.map((a) => ({ ...a, score: a.score })),
        });
        try {
          writeFileAtomic(htmlFile, (fd) => { fs.writeSync(fd, html); });
        } catch (e) {
          throw new OutpostError('input', `cannot write the HTML report: ${(e as Error).message}`, { file: htmlFile });
        }
      }
      // ±∞ as "Infinity" (plain JSON.stringify would write null, which means "not computed")
      ctx.out.json(JSON.parse(stringifyDrift({ ok: true, ...r, ...(failOnDrift ? { exitCode: exit } : {}), ...(htmlFile ? { html: htmlFile } : {}) })));
      ctx.out.text(`Drift of ${r.model}@${r.version} — ${r.scope.description}: ${r.rows.toLocaleString('en-US')} rows scored vs ${r.referenceRows.toLocaleString('en-US')} reference rows`);
      if (r.windows) {
        const latest = [...r.windows].reverse().find((w) => w.report)!;
        ctx.out.text('');
        for (const line of renderSeries(r.windows)) ctx.out.text(`  ${line}`);
        ctx.out.text('');
        ctx.out.text(`Latest window with data, starting ${latest.start} (${latest.rows.toLocaleString('en-US')} rows):`);
      }
      ctx.out.text('');
      for (const line of renderReport(r.report)) ctx.out.text(line);
      ctx.out.text('');
      ctx.out.text('Worst features (severity: score relative to its threshold; ≥ 1× is drift):');
      for (const line of renderWorstFeatures(r.report)) ctx.out.text(`  ${line}`);
      if (r.alerts.length) {
        ctx.out.text('');
        ctx.out.text(`Alerts recorded in this scope (${r.alerts.length}):`);
        for (const a of r.alerts.slice(0, 20)) ctx.out.text(alertLine(a));
      }
      if (htmlFile) {
        ctx.out.text('');
        ctx.out.text(`HTML report: ${htmlFile}`);
      }
      if (failOnDrift) {
        ctx.out.text('');
        ctx.out.text(exit ? 'Drift detected: exit status 1 (--fail-on-drift).' : `No drift detected${r.report.detected === null ? ' (no verdict: too little data)' : ''}: exit status 0.`);
      }
      return exit;
    } finally {
      store.close();
    }
  },
};

