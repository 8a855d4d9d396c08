// `outpost predictions export`: the prediction log of a job, or of a model (all or one version)
// from a time on, as CSV, JSON Lines or Parquet — streamed, the file complete or absent.
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import type { OutputFormat } from '../../io/common/table.ts';
import { getJob } from '../../store/node/jobs.ts';
import { parseModelRef } from '../../store/node/models.ts';
import { checkOutputFile } from '../../io/node/output-file.ts';
import { exportPredictions } from '../../store/node/predictions-export.ts';
import type { PredictionQuery } from '../../store/node/predictions.ts';
import { getSettings, openStore } from '../../store/node/store.ts';
import { flag, str, type CommandSpec } from '../command.ts';

const FORMATS: readonly OutputFormat[] = ['csv', 'jsonl', 'parquet'];
const EXT: Record<string, OutputFormat> = { '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.parquet': 'parquet' };
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** An ISO 8601 date/time, or an age such as 30m, 24h, 7d, 2w (before now). */
export function parseTime(text: string, name: string, now = Date.now()): number {
  const age = /^(\d+)\s*([mhdw])$/.exec(text.trim());
  if (age) return now - Number(age[1]) * UNIT_MS[age[2]];
  const t = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t)) throw usageError(`--${name} must be an ISO 8601 date or time (2026-11-30, 2026-11-30T08:00:00Z) or an age (30m, 24h, 7d, 2w) (got "${text}")`);
  return t;
}

export const predictionsExportCommand: CommandSpec = {
  name: 'predictions export',
  summary: 'Export logged predictions (a job, or a model from a time on) as CSV, JSON Lines or Parquet',
  usage: 'outpost predictions export (--job <id> | --model <name>[@<version>]) [--since T] [--until T] --out FILE [--format csv|jsonl|parquet]',
  help: [
    '--job ID        the predictions of one job',
    '--model REF     of a model (every version) or one version (<name>@<version>)',
    '--since T       logged at or after T: ISO 8601 (2026-11-30, 2026-11-30T08:00Z) or an age (30m, 24h, 7d, 2w)',
    '--until T       logged at or before T (same forms)',
    '--out FILE      where to write (written to a temp file, renamed when complete)',
    '--format F      csv, jsonl or parquet (default: from --out\'s extension)',
    '--overwrite     replace --out if it exists',
    'columns: job, model, version, logged_at, row, the outputs (id, label, p_<class>… or value), logged inputs as input.<name>',
  ],
  options: { job: { type: 'string' }, model: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, overwrite: { type: 'boolean' } },
  async run(ctx, args) {
    const job = str(args, 'job');
    const model = str(args, 'model');
    if ((job === undefined) === (model === undefined)) throw usageError('give one of --job <id> or --model <name>[@<version>]');
    const outArg = str(args, 'out');
    if (outArg === undefined) throw usageError('--out FILE is required');
    const out = path.resolve(ctx.cwd, outArg); // checked below, once the format is known
    const formatArg = str(args, 'format');
    if (formatArg !== undefined && !FORMATS.includes(formatArg as OutputFormat)) throw usageError(`--format must be one of ${FORMATS.join(', ')} (got "${formatArg}")`);
    const byExt = EXT[path.extname(out).toLowerCase()];
    if (formatArg !== undefined && byExt !== undefined && byExt !== formatArg) throw usageError(`--format ${formatArg} does not match --out ${path.basename(out)} (a .${path.extname(out).slice(1)} name); name it .${formatArg} or leave out --format`);
    const format = (formatArg as OutputFormat | undefined) ?? byExt;
    if (!format) throw usageError(`cannot tell the format from ${path.basename(out)}: name it .csv, .jsonl or .parquet, or pass --format`);
    checkOutputFile(ctx.cwd, outArg, { option: '--out', overwrite: flag(args, 'overwrite') });
    const q: PredictionQuery = {};
    if (job !== undefined) q.jobId = job;
    if (model !== undefined) {
      const ref = parseModelRef(model);
      q.model = ref.name;
      if (ref.version !== undefined) q.version = ref.version;
    }
    if (str(args, 'since') !== undefined) q.since = parseTime(str(args, 'since')!, 'since');
    if (str(args, 'until') !== undefined) q.until = parseTime(str(args, 'until')!, 'until');
    const store = openStore(ctx.home);
    try {
      if (job !== undefined) getJob(store, job); // an unknown id says so, rather than "nothing matches"
      let last = 0;
      const r = await exportPredictions(store, q, out, {
        format, signal: ctx.signal, ...(getSettings(store).csvSafe && format === 'csv' ? { csvSafe: true } : {}),
        onProgress: (rows, total) => {
          const now = Date.now();
          if (now - last < 200 && rows < total) return;
          last = now;
          ctx.out.event({ event: 'progress', rows, total });
        },
      });
      ctx.out.json({ ok: true, out, format, rows: r.rows, columns: r.columns });
      ctx.out.text(`Exported ${r.rows.toLocaleString('en-US')} predictions to ${out} (${format}; columns ${r.columns.join(', ')})`);
      return 0;
    } finally {
      store.close();
    }
  },
};
