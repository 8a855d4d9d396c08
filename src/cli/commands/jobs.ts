// `outpost jobs [list|show|rm]`: the scoring jobs in the store — what ran, how far it got, where its
// files are, and removing one (its record, logged predictions, output and rejects files).
import fs from 'node:fs';
import path from 'node:path';
import { formatCount as count } from '../../common/count.ts';
import { OutpostError, usageError } from '../../common/errors.ts';
import { LIKE_ESCAPE, likeLiteral } from '../../common/sql-like.ts';
import { uploadFolderOf, UPLOADS_DIR } from '../../api/node/uploads.ts';
import { jobLockOwner } from '../../scoring/node/job-lock.ts';
import { deleteJob, getJob, listJobs, RECORDS_FORMAT, type Job, type JobFilter, type JobStatus } from '../../store/node/jobs.ts';
import { parseModelRef } from '../../store/node/model-list.ts';
import { openStore, type Store } from '../../store/node/store.ts';
import { flag, str, wholeNumber, type CommandContext, type CommandSpec } from '../command.ts';

const STATUSES: readonly JobStatus[] = ['running', 'completed', 'failed', 'cancelled'];

/** What a job's status means right now: a `running` job whose process is gone was killed (resumable). */
function stateOf(store: Store, j: Job): { state: string; pid?: number } {
  if (j.status !== 'running') return { state: j.status };
  const pid = jobLockOwner(lockFile(store, j.id));
  return pid ? { state: 'running', pid } : { state: 'stopped' };
}

const lockFile = (store: Store, id: string): string => path.join(store.jobsDir, `${id}.lock`);

const reasonsOf = (j: Job): { reason: string; count: number }[] =>
  Object.entries((j.checkpoint as { reasons?: Record<string, number> } | null)?.reasons ?? {}).map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);

/** The temp files of a job that has not finished: its checkpoint's, and any `.partial-` beside its targets. */
function partialFiles(j: Job): string[] {
  const files = new Set<string>();
  const cp = j.checkpoint as { output?: { tempPath?: string }; rejects?: { tempPath?: string } } | null;
  for (const t of [cp?.output?.tempPath, cp?.rejects?.tempPath]) if (typeof t === 'string') files.add(t);
  for (const target of [j.outputPath, j.rejectsPath].filter((t) => t !== '')) {
    const prefix = `.${path.basename(target)}.partial-`;
    try {
      for (const n of fs.readdirSync(path.dirname(target))) if (n.startsWith(prefix)) files.add(path.join(path.dirname(target), n));
    } catch { /* the folder is gone */ }
  }
  return [...files];
}

export function resumeHint(j: Job, state: string): string | undefined {
  return state === 'stopped' || state === 'cancelled' ? `resume with: outpost score --resume ${j.id}` : undefined;
}

function jobJson(store: Store, j: Job) {
  const { state, pid } = stateOf(store, j);
  const { checkpoint: _cp, ...rest } = j;
  return {
    ...rest, state, ...(pid ? { pid } : {}), rejectReasons: reasonsOf(j),
    outputExists: fs.existsSync(j.outputPath), rejectsExist: fs.existsSync(j.rejectsPath), resumable: state === 'stopped' || state === 'cancelled',
  };
}


function parseFilter(status: string | undefined, model: string | undefined): JobFilter {
  if (status !== undefined && !STATUSES.includes(status as JobStatus) && status !== 'stopped') throw usageError(`--status must be one of ${[...STATUSES, 'stopped'].join(', ')} (got "${status}")`);
  const ref = model !== undefined ? parseModelRef(model) : undefined;
  return {
    ...(status !== undefined ? { status: (status === 'stopped' ? 'running' : status) as JobStatus } : {}),
    ...(ref ? { model: ref.name, ...(ref.version !== undefined ? { version: ref.version } : {}) } : {}),
  };
}

async function list(ctx: CommandContext, status: string | undefined, model: string | undefined, limit: number): Promise<number> {
  const filter = parseFilter(status, model);
  const store = openStore(ctx.home);
  try {
    const split = status === 'stopped' || status === 'running'; // both are status "running" in the store; the lock tells them apart
    let jobs = listJobs(store, split ? 1_000_000 : limit, filter).map((j) => ({ j, s: stateOf(store, j) }));
    if (split) jobs = jobs.filter((x) => x.s.state === status).slice(0, limit);
    ctx.out.json({ ok: true, jobs: jobs.map(({ j }) => jobJson(store, j)) });
    if (!jobs.length) ctx.out.text(status || model ? 'No jobs match.' : 'No jobs yet. Score a file with `outpost score <file> --model <name>`.');
    for (const { j, s } of jobs) {
      ctx.out.text(`${j.id}  ${s.state.padEnd(9)}  ${`${j.modelName}@${j.modelVersion}`.padEnd(22)}  ${j.createdAt.slice(0, 19).replace('T', ' ')}  read ${count(j.rowsRead)}, scored ${count(j.rowsScored)}, rejected ${count(j.rowsRejected)}`);
      ctx.out.text(j.inputFormat === RECORDS_FORMAT ? `    ${j.inputPath} (single records, UTC day ${j.createdAt.slice(0, 10)})` : `    ${j.inputPath} → ${j.outputPath}`);
    }
    return 0;
  } finally {
    store.close();
  }
}

export const jobsListCommand: CommandSpec = {
  name: 'jobs list',
  summary: 'List scoring jobs, newest first: status, rows read/scored/rejected, model, input and output',
  usage: 'outpost jobs list [--status S] [--model <name>[@<version>]] [--limit N]',
  help: [
    '--status S     only jobs in this state: running, stopped (killed; resumable), cancelled, completed, failed',
    '--model REF    only jobs of this model (<name>) or version (<name>@<version>)',
    '--limit N      at most N jobs (default 50)',
  ],
  options: { status: { type: 'string' }, model: { type: 'string' }, limit: { type: 'string' } },
  run: (ctx, args) => list(ctx, str(args, 'status'), str(args, 'model'), wholeNumber(args, 'limit', 1, 100_000) ?? 50),
};

/** `outpost jobs` alone lists (the same options). */
export const jobsCommand: CommandSpec = { ...jobsListCommand, name: 'jobs', usage: 'outpost jobs [list|show|rm] …  (alone: jobs list)' };

export const jobsShowCommand: CommandSpec = {
  name: 'jobs show',
  summary: 'Show one job: status, counters, model, provider, files, reject reasons, how to resume it',
  usage: 'outpost jobs show <job-id>',
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const j = getJob(store, args.positionals[0]);
      const info = jobJson(store, j);
      ctx.out.json({ ok: true, job: info });
      ctx.out.text(`${j.id}  ${info.state}${info.pid ? ` (process ${info.pid})` : ''}`);
      ctx.out.text(`  model:    ${j.modelName}@${j.modelVersion}`);
      ctx.out.text(`  provider: ${j.providerSummary ?? j.provider ?? '(not chosen yet)'}`);
      if (j.inputFormat === RECORDS_FORMAT) {
        ctx.out.text(`  input:    ${j.inputPath} (single records from outpost predict or the local API, UTC day ${j.createdAt.slice(0, 10)}; no output files: the outputs went back to the caller)`);
      } else {
        ctx.out.text(`  input:    ${j.inputPath} (${j.inputFormat}, ${count(j.inputSize)} bytes)`);
        ctx.out.text(`  output:   ${j.outputPath} (${j.outputFormat})${info.outputExists ? '' : ' — not present'}`);
        ctx.out.text(`  rejects:  ${j.rejectsPath}${info.rejectsExist ? '' : ' — not present'}`);
      }
      ctx.out.text(`  rows:     read ${count(j.rowsRead)}, scored ${count(j.rowsScored)}, rejected ${count(j.rowsRejected)}`);
      for (const { reason, count: n } of info.rejectReasons.slice(0, 10)) ctx.out.text(`            ${String(n).padStart(6)} × ${reason}`);
      ctx.out.text(`  started:  ${j.createdAt}${j.finishedAt ? `; finished ${j.finishedAt}` : `; last update ${j.updatedAt}`}`);
      if (j.error) ctx.out.text(`  error:    ${j.error}`);
      const hint = resumeHint(j, info.state);
      if (hint) ctx.out.text(`  ${hint}`);
      return 0;
    } finally {
      store.close();
    }
  },
};

export const jobsRmCommand: CommandSpec = {
  name: 'jobs rm',
  summary: 'Remove a job: its record, logged predictions, output and rejects files (needs --yes)',
  usage: 'outpost jobs rm <job-id>… --yes [--keep-files]',
  help: [
    '--yes          really remove (without it, only says what would go)',
    '--keep-files   remove the record and its logged predictions, keep the output and rejects files (and an uploaded input)',
  ],
  options: { yes: { type: 'boolean' }, 'keep-files': { type: 'boolean' } },
  positionals: { min: 1, max: 100 },
  async run(ctx, args) {
    const store = openStore(ctx.home);
    try {
      const plans = args.positionals.map((id) => {
        const j = getJob(store, id);
        const { state, pid } = stateOf(store, j);
        if (state === 'running') throw new OutpostError('conflict', `job ${id} is running (process ${pid}); stop it first`);
        const files = flag(args, 'keep-files') ? [] : [j.outputPath, j.rejectsPath, ...partialFiles(j)].filter((f) => fs.existsSync(f));
        // an input the app uploaded for this job alone goes with it
        const upload = uploadFolderOf(path.join(store.home, UPLOADS_DIR), j.inputPath);
        const shared = upload !== undefined && (store.db.prepare(`SELECT count(*) AS n FROM jobs WHERE id != ? AND input_path LIKE ? ${LIKE_ESCAPE}`).get(id, `${likeLiteral(upload + path.sep)}%`) as { n: number }).n > 0;
        if (upload && !shared && !flag(args, 'keep-files') && fs.existsSync(upload)) files.push(upload);
        const predictions = (store.db.prepare('SELECT coalesce(sum(row_count), 0) AS n FROM prediction_batches WHERE job_id = ?').get(id) as { n: number }).n;
        return { j, files, predictions };
      });
      if (!flag(args, 'yes')) {
        for (const p of plans) ctx.out.warn(`would remove job ${p.j.id}, its ${count(p.predictions)} logged predictions${p.files.length ? ` and ${p.files.join(', ')}` : ''}`);
        throw usageError('removing a job cannot be undone: add --yes to remove it');
      }
      const removed = [];
      for (const p of plans) {
        const { predictions } = deleteJob(store, p.j.id);
        for (const f of p.files) fs.rmSync(f, { force: true, recursive: true });
        fs.rmSync(lockFile(store, p.j.id), { force: true });
        removed.push({ id: p.j.id, predictions, files: p.files });
        ctx.out.text(`Removed job ${p.j.id}: ${count(predictions)} logged predictions${p.files.length ? `, ${p.files.join(', ')}` : ''}`);
      }
      ctx.out.json({ ok: true, removed });
      return 0;
    } finally {
      store.close();
    }
  },
};
