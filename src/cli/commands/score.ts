import path from 'node:path';
import { formatCount } from '../../common/count.ts';
import { OutpostError, usageError } from '../../common/errors.ts';
import type { InputFormat, OutputFormat } from '../../io/common/table.ts';
import { listAlerts } from '../../monitor/node/alerts.ts';
import { resumeJob, scoreFile, type JobResult, type ScoreRequest } from '../../scoring/node/score-file.ts';
import type { Job } from '../../store/node/jobs.ts';
import { getSettings, openStore, DB_FILE } from '../../store/node/store.ts';
import { flag, str, wholeNumber, type CommandContext, type CommandSpec, type ParsedArgs } from '../command.ts';
import { formatRate, progressReporter } from '../progress.ts';

const FORMATS = ['csv', 'jsonl', 'parquet'] as const;
const EPS = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;

function oneOf<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T | undefined {
  const v = str(args, name);
  if (v !== undefined && !allowed.includes(v as T)) throw usageError(`--${name} must be one of ${allowed.join(', ')} (got "${v}")`);
  return v as T | undefined;
}

function number(args: ParsedArgs, name: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw usageError(`--${name} must be ${what} (got "${v}")`);
  return n;
}

/** Print what a finished job did; shared with `outpost demo`. */
export function reportJob(ctx: CommandContext, r: JobResult): void {
  const j = r.job;
  ctx.out.json({ ok: true, job: j, rejectsPath: r.rejectsPath, rejectReasons: r.rejectReasons, seconds: r.seconds, rowsPerSecond: r.rowsPerSecond, log: path.join(ctx.home, DB_FILE) });
  ctx.out.text(`Scored ${formatCount(j.rowsScored)} of ${formatCount(j.rowsRead)} rows with ${j.modelName}@${j.modelVersion} in ${r.seconds.toFixed(2)} s (${formatRate(r.rowsPerSecond)} rows/s)`);
  ctx.out.text(`  provider: ${j.providerSummary ?? j.provider}`);
  ctx.out.text(`  rejected: ${formatCount(j.rowsRejected)} row${j.rowsRejected === 1 ? '' : 's'}`);
  const shown = r.rejectReasons.slice(0, 5);
  for (const { reason, count } of shown) ctx.out.text(`            ${String(count).padStart(6)} × ${reason}`);
  const more = r.rejectReasons.slice(shown.length);
  if (more.length) {
    const rows = more.reduce((n, x) => n + x.count, 0);
    ctx.out.text(`            … and ${more.length} more kind${more.length === 1 ? '' : 's'} of reject (${formatCount(rows)} row${rows === 1 ? '' : 's'})${r.rejectsPath ? ': every row is in the rejects file' : ''}`);
  }
  ctx.out.text(`  output:   ${j.outputPath}`);
  if (r.rejectsPath) ctx.out.text(`  rejects:  ${r.rejectsPath}`);
  ctx.out.text(`  log:      ${path.join(ctx.home, DB_FILE)} (job ${j.id})`);
}

export const scoreCommand: CommandSpec = {
  name: 'score',
  summary: 'Score a CSV, JSONL or Parquet file with an installed model, offline',
  usage: 'outpost score <file> --model <name>[@<version>] [options]  |  outpost score --resume <job-id>',
  help: [
    '--model REF          installed model, <name> (active version) or <name>@<version>',
    '--out FILE           output file (default: <input>.scored.<format> next to the input; a fresh name -2, -3… when taken)',
    '--overwrite          replace --out (and its rejects file) when it already exists',
    '--format F           output format: csv, jsonl, parquet (default: from --out, else the input\'s)',
    '--id COL             copy this input column into the output as the row id (default: row number)',
    '--ep EP              execution provider: auto, cpu, cuda, webgpu, dml, coreml (default: settings, auto)',
    '--batch N            rows per inference batch (default 32768, fewer for rows of more than 32 inputs, at least 8192)',
    '--max-reject-rate R  stop when more than this fraction of the rows read so far is rejected, judged after each',
    '                     batch from 1,000 rows on (default 0.2)',
    '--delimiter D        CSV field delimiter (default ","; "\\t" for tab)',
    '--input-format F     read the input as csv, jsonl or parquet whatever its extension',
    '--resume JOB         continue a job that was stopped or killed, from its last checkpoint',
    '--checkpoint-rows N  commit output and log every N rows (default 262144; smaller = less redone after a crash)',
  ],
  options: {
    model: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, id: { type: 'string' }, ep: { type: 'string' },
    batch: { type: 'string' }, 'max-reject-rate': { type: 'string' }, delimiter: { type: 'string' }, 'input-format': { type: 'string' }, resume: { type: 'string' },
    'checkpoint-rows': { type: 'string' }, overwrite: { type: 'boolean' },
  },
  positionals: { min: 0, max: 1 },
  async run(ctx, args) {
    const resume = str(args, 'resume');
    if (resume !== undefined) {
      // the job remembers its file, model and options: another value here would be silently ignored (or change a resumed output)
      const given = ['model', 'out', 'format', 'id', 'ep', 'batch', 'max-reject-rate', 'delimiter', 'input-format', 'checkpoint-rows', 'overwrite'].filter((o) => args.values[o] !== undefined);
      if (args.positionals.length || given.length) throw usageError(`--resume takes only the job id (the job remembers its file, model and options)${given.length ? `; drop ${given.map((o) => `--${o}`).join(', ')}` : ''}`);
    }
    let req: ScoreRequest | undefined;
    if (resume === undefined) {
      const [file] = args.positionals;
      const model = str(args, 'model');
      if (!file) throw usageError('which file? outpost score <file> --model <name>');
      if (!model) throw usageError('--model is required (see `outpost models list`)');
      const delimiter = str(args, 'delimiter');
      if (delimiter !== undefined && delimiter !== '\\t' && delimiter.length !== 1) throw usageError('--delimiter must be a single character (or \\t)');
      const batchRows = wholeNumber(args, 'batch', 1, 1_048_576);
      req = {
        input: path.resolve(ctx.cwd, file),
        model,
        ...(str(args, 'out') !== undefined ? { out: path.resolve(ctx.cwd, str(args, 'out')!), existingOutput: flag(args, 'overwrite') ? 'replace' as const : 'refuse' as const } : {}),
        ...(oneOf(args, 'format', FORMATS) ? { format: oneOf(args, 'format', FORMATS) as OutputFormat } : {}),
        ...(oneOf(args, 'input-format', FORMATS) ? { inputFormat: oneOf(args, 'input-format', FORMATS) as InputFormat } : {}),
        ...(str(args, 'id') !== undefined ? { idColumn: str(args, 'id') } : {}),
        ...(oneOf(args, 'ep', EPS) ? { ep: oneOf(args, 'ep', EPS) } : {}),
        ...(batchRows !== undefined ? { batchRows } : {}),
        ...(number(args, 'max-reject-rate', (n) => n >= 0 && n <= 1, 'a fraction from 0 to 1') !== undefined ? { maxRejectRate: Number(str(args, 'max-reject-rate')) } : {}),
        ...(delimiter !== undefined ? { delimiter: delimiter === '\\t' ? '\t' : delimiter } : {}),
      };
    }
    const store = openStore(ctx.home);
    const bar = progressReporter(ctx);
    try {
      const checkpointRows = wholeNumber(args, 'checkpoint-rows', 1, Number.MAX_SAFE_INTEGER, 'rows');
      const opts = {
        ...(checkpointRows !== undefined ? { checkpointRows } : {}),
        signal: ctx.signal,
        onProgress: (p: Parameters<typeof bar.update>[0]) => bar.update(p),
        onStart: (job: Job) => {
          ctx.out.event({ event: 'started', jobId: job.id });
          ctx.out.text(`Job ${job.id}: ${job.inputPath} with ${job.modelName}@${job.modelVersion} → ${job.outputPath}`);
          ctx.out.text(`  (if it stops: outpost score --resume ${job.id}; see outpost jobs show ${job.id})`);
        },
        onWarning: (line: string) => ctx.out.warn(`outpost score: warning: ${line}`),
      };
      const result = req ? await scoreFile(store, req, opts) : await resumeJob(store, resume!, opts);
      bar.done();
      // a drift alert of this run retrains the model when the retrainOnAlert setting names it (the
      // retrain code, with the trainer, loads only then)
      const drifted = listAlerts(store, { model: result.job.modelName, version: result.job.modelVersion, scope: 'job', scopeKeys: [result.job.id], activeOnly: true });
      const auto = drifted.length > 0 && getSettings(store).retrainOnAlert.includes(result.job.modelName) ? (await import('../../retrain/node/auto.ts')).autoRetrain(store, result.job.modelName, 'drift-alert', `job ${result.job.id}: ${drifted.map((a) => a.feature).join(', ')} drifted`) : undefined;
      if (auto) ctx.out.event({ event: 'retrain', ...(auto.ran ? { proposal: auto.proposal.id, decision: auto.proposal.decision } : { skipped: auto.reason }) });
      reportJob(ctx, result);
      if (auto) ctx.out.warn(auto.ran ? `retrained on the drift alert (setting retrainOnAlert): proposal ${auto.proposal.id} — ${auto.proposal.decision}` : `no automatic retrain: ${auto.reason}`);
      return 0;
    } catch (e) {
      bar.done();
      if (e instanceof OutpostError && e.code === 'cancelled') {
        ctx.out.warn(`outpost score: ${e.message}`);
        ctx.out.json({ ok: false, cancelled: true, jobId: e.details.jobId });
        return 1; // the work did not complete (resumable); 130 would break the 0/1/2 contract
      }
      throw e;
    } finally {
      store.close();
    }
  },
};
