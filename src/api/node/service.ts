// The core side of the UI contract, implemented once on the store and the scoring pipeline; the HTTP
// server and the Electron utility process both host it. Scoring jobs run in this process's event
// loop only for reading and validating batches (inference is in the engine's worker threads), and
// every job reports through one event stream.
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { summarizeDecision } from '../../inference/common/providers.ts';
import { recordRuntimeProblem, selectOrtRuntime } from '../../inference/node/ort-runtime.ts';
import { createGpuRuntime } from './gpu-runtime.ts';
import { chooseProvider } from '../../inference/node/providers.ts';
import { PROBE_CACHE_FILE } from '../../inference/node/probe-cache.ts';
import { unreadRepeats } from '../../io/common/request.ts';
import { openSource } from '../../io/node/open.ts';
import { getJob, listJobs, setJobStatus, type Job } from '../../store/node/jobs.ts';
import { getModel, installPackage, listModels, rollback, rollbackPlan, verifyInstalled, type InstalledModel } from '../../store/node/models.ts';
import { countPredictions, loggedInputNames, logSize, pagePredictions, type PredictionQuery } from '../../store/node/predictions.ts';
import { getHubSetting, getSettings, openStore, updateSettings } from '../../store/node/store.ts';
import { pull } from '../../registry/node/pull.ts';
import { resumeWebhookDelivery } from '../../monitor/node/webhook.ts';
import { dataFolderUsage } from '../../store/node/usage.ts';
import { EXPLORE_MAX_BYTES } from '../common/contract.ts';
import { loadVerifiedModel } from '../../scoring/node/verified-model.ts';
import { createApiToken, listApiTokens, revokeApiToken, type ApiToken } from '../../store/node/api-tokens.ts';
import type { ApiEvent, ApiTokenView, Attention, Distribution, Handlers, HomeStatus, JobDetail, JobSummary, ModelSummary, ParsedParams, Progress, Result, UploadResult } from '../common/contract.ts';
import { toApiError } from '../common/dispatch.ts';
import { startWorker } from '../../runtime/node/worker.ts';
import { createLogQueries } from './log-queries.ts';
import type { FromWorker, WorkerTask } from './job-worker.ts';
import { readRejects } from './rejects.ts';
import { driftView, toAlert } from './drift-view.ts';
import { listAlerts } from '../../monitor/node/index.ts';
import { performanceForModel } from '../../monitor/node/performance.ts';
import { activateProposal, getProposal, listProposals, type Proposal } from '../../retrain/node/retrain.ts';
import type { ProposalView } from '../common/contract.ts';
import { createSyncRunner } from './sync-runner.ts';
import { checkReadable } from './readable-paths.ts';
import { receiveUpload, sweepUploads, uploadFolderOf, UPLOADS_DIR } from './uploads.ts';
import { createTrainRuns, fileColumns } from './train-runs.ts';
import { createAppUpdates } from './app-updates.ts';

export interface ServiceOptions {
  home: string;
  /** rows per inference batch for jobs started from the UI (default: the pipeline's) */
  batchRows?: number;
  /** how long `status` waits for the first provider check before answering "checking" (default 1.5 s) */
  providerWaitMs?: number;
  /** how long the provider check may take per candidate before it counts as failed (default 20 s) */
  providerProbeTimeoutMs?: number;
}

interface LiveJob { cancel: () => void; progress: Progress | null; done: Promise<unknown> }

export interface Service {
  readonly home: string;
  readonly handlers: Handlers;
  readonly uploadsDir: string;
  subscribe(listener: (e: ApiEvent) => void): () => void;
  /** the largest upload accepted now (the `uploadMaxBytes` setting) */
  uploadLimit(): number;
  /** store an uploaded file (serve mode) under the uploads folder */
  receiveUpload(name: string, body: AsyncIterable<Buffer>, declaredBytes?: number): Promise<UploadResult>;
  /** a job's output or rejects file, for download / show in folder (throws when there is none) */
  fileOf(jobId: string, which: 'output' | 'rejects'): string;
  /** cancel running jobs (they checkpoint and stay resumable), then close the store */
  close(): Promise<void>;
}

const WORKER_URL = new URL('./job-worker.ts', import.meta.url);

const isoOrNull = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const tokenView = (t: ApiToken): ApiTokenView => ({
  id: t.id, name: t.name, models: t.models, state: t.revokedAt === null ? 'live' : 'revoked', createdAt: new Date(t.createdAt).toISOString(), lastUsedAt: isoOrNull(t.lastUsedAt), revokedAt: isoOrNull(t.revokedAt),
});

/** A proposal as the app shows it: both evaluations' metrics, the decision, what it trained on. */
function proposalView(p: Proposal): ProposalView {
  return {
    id: p.id, model: p.model, championVersion: p.championVersion, status: p.status, trigger: p.trigger, triggerDetail: p.triggerDetail, metric: p.metric,
    championScore: p.championScore, challengerScore: p.challengerScore, better: p.better, decision: p.decision, holdoutRows: p.evaluation.holdoutRows,
    trainRows: p.data.trainRows, algo: p.data.algo, champion: p.evaluation.champion.metrics, challenger: p.evaluation.challenger.metrics,
    warnings: p.data.warnings, createdAt: p.createdAt, activatedVersion: p.activatedVersion,
  };
}

export function createService(opts: ServiceOptions): Service {
  const store = openStore(opts.home);
  // the process's ONNX Runtime files, before any job or engine thread loads them: the data folder's
  // GPU runtime when it is installed and intact (a modified one is recorded and not used)
  const ortChoice = selectOrtRuntime(store.home);
  void recordRuntimeProblem(store.home, ortChoice).catch(() => undefined);
  const uploadsDir = path.join(store.home, UPLOADS_DIR);
  const listeners = new Set<(e: ApiEvent) => void>();
  const live = new Map<string, LiveJob>();
  /** workers launched whose job does not exist yet (close waits for them too) */
  const starting = new Set<LiveJob>();
  // sorted pages and distributions: decoding the log happens in the log-query worker, not here
  const logQueries = createLogQueries(store.home);
  const appUpdates = createAppUpdates({ store });
  const gpu = createGpuRuntime(store, (progress) => emit({ type: 'gpu-progress', progress }));
  let closed = false;
  // drift-alert webhook messages: whatever an earlier run left pending, then retries (jobs queue
  // theirs from the job worker, which sends the first attempt itself)
  resumeWebhookDelivery(store.home);
  const webhookTimer = setInterval(() => resumeWebhookDelivery(store.home), 60_000);
  webhookTimer.unref();

  const emit = (e: ApiEvent) => {
    for (const l of listeners) {
      try { l(e); } catch { /* a failing listener must not stop the others or the job */ }
    }
  };

  const summary = (stored: Job): JobSummary => {
    const isLive = live.has(stored.id);
    // A running job's stored counters move only at checkpoints; its live progress is the truth.
    const p = live.get(stored.id)?.progress;
    const j = p && p.rowsRead > stored.rowsRead ? { ...stored, rowsRead: p.rowsRead, rowsScored: p.rowsScored, rowsRejected: p.rowsRejected } : stored;
    const busySeconds = j.busyMs / 1000;
    return {
      id: j.id, modelName: j.modelName, modelVersion: j.modelVersion, status: j.status, live: isLive,
      resumable: !isLive && (j.status === 'cancelled' || j.status === 'running'),
      inputPath: j.inputPath, inputName: path.basename(j.inputPath), inputFormat: j.inputFormat, inputSize: j.inputSize,
      inputFingerprint: j.inputFingerprint, outputPath: j.outputPath, outputFormat: j.outputFormat, rejectsPath: j.rejectsPath,
      provider: j.provider, providerSummary: j.providerSummary, rowsRead: j.rowsRead, rowsScored: j.rowsScored, rowsRejected: j.rowsRejected,
      busySeconds, rowsPerSecond: p && isLive ? p.rowsPerSecond : busySeconds > 0 ? j.rowsRead / busySeconds : 0, error: j.error, createdAt: j.createdAt, finishedAt: j.finishedAt,
    };
  };

  const reasonsOf = (j: Job): { reason: string; count: number }[] => {
    const stored = (j.checkpoint as { reasons?: Record<string, number> } | null)?.reasons ?? {};
    return Object.entries(stored).map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
  };

  const modelSummary = (versions: InstalledModel[], jobs: Job[]): ModelSummary => {
    const active = versions.find((v) => v.active) ?? null;
    const shown = active ?? versions[versions.length - 1];
    const last = jobs.find((j) => j.modelName === shown.name && j.provider);
    return {
      name: shown.name, activeVersion: active?.version ?? null, versions: versions.map((v) => v.version), task: shown.card.task,
      description: shown.card.description ?? null, inputs: shown.card.inputs.map((f) => f.name), source: shown.source, signedBy: shown.signedBy,
      installedAt: shown.installedAt, provider: last?.provider ?? null, providerSummary: last?.providerSummary ?? null,
    };
  };

  const groupModels = (): Map<string, InstalledModel[]> => {
    const byName = new Map<string, InstalledModel[]>();
    for (const m of listModels(store)) byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
    return byName;
  };

  // The provider decision is probed once per process (in a worker); status never waits long for it:
  // it answers "checking" and the UI asks again. A probe that hangs fails after providerProbeTimeoutMs
  // (per candidate), and a check that fails says why — the card never waits forever.
  const probeTimeoutMs = opts.providerProbeTimeoutMs ?? 20_000;
  let providerProbe: { request: string; info: Promise<HomeStatus['provider']> } | undefined;
  const providerInfo = async (): Promise<HomeStatus['provider']> => {
    const request = getSettings(store).provider;
    if (providerProbe?.request !== request) {
      const started = Date.now();
      providerProbe = {
        request,
        info: withTimeout(chooseProvider(request, { probeTimeoutMs, cacheFile: path.join(store.home, PROBE_CACHE_FILE), home: store.home }), probeTimeoutMs * 3, () => new OutpostError('provider', `the provider check did not finish within ${Math.round((probeTimeoutMs * 3) / 1000)} s`)).then(
          (d) => ({ state: 'decided' as const, request, chosen: d.chosen, summary: summarizeDecision(d), candidates: d.candidates.map((c) => ({ name: c.name, outcome: c.outcome, reason: c.reason })) }),
          (e: unknown) => ({ state: 'failed' as const, request, chosen: null, summary: `the provider check failed after ${((Date.now() - started) / 1000).toFixed(1)} s: ${(e as Error).message}`, candidates: [] }),
        ),
      };
    }
    const pending = { state: 'checking' as const, request, chosen: null, summary: 'checking which execution providers work here…', candidates: [] };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const info = await Promise.race([providerProbe.info, new Promise<typeof pending>((r) => { timer = setTimeout(() => r(pending), opts.providerWaitMs ?? 1500); })]);
    clearTimeout(timer);
    return info;
  };

  /** Only files under the configured folders (and the app's uploads) may be read by path. */
  const readable = (file: string): string => checkReadable(file, { home: store.home, uploadsDir, allowedFolders: getSettings(store).allowedFolders });

  /** Remove uploads no job needs any more (see uploads.ts); runs at start and after every job. */
  const sweep = () => {
    const lastUse = new Map<string, number>();
    for (const j of listJobs(store, 100_000)) {
      const dir = uploadFolderOf(uploadsDir, j.inputPath);
      if (!dir) continue;
      const unfinished = j.status === 'running' || j.status === 'cancelled';
      const t = unfinished ? Infinity : Date.parse(j.finishedAt ?? j.updatedAt);
      lastUse.set(dir, Math.max(lastUse.get(dir) ?? 0, t));
    }
    try {
      sweepUploads(uploadsDir, { lastUse }, getSettings(store).retentionMaxAgeDays * 86_400_000);
    } catch { /* best effort: a locked or vanished file is tried again next time */ }
  };
  sweep();

  const attention = (jobs: Job[], models: Map<string, InstalledModel[]>, log: { bytes: number }, maxBytes: number): Attention[] => {
    const items: Attention[] = [];
    for (const j of jobs) {
      if (j.status === 'running' && !live.has(j.id)) items.push({ level: 'warning', jobId: j.id, message: `Job ${j.id} (${path.basename(j.inputPath)}) was interrupted after ${j.rowsRead.toLocaleString('en-US')} rows; resume it to finish.` });
      else if (j.status === 'cancelled') items.push({ level: 'info', jobId: j.id, message: `Job ${j.id} (${path.basename(j.inputPath)}) was cancelled after ${j.rowsRead.toLocaleString('en-US')} rows and can be resumed.` });
      else if (j.status === 'failed') items.push({ level: 'error', jobId: j.id, message: `Job ${j.id} (${path.basename(j.inputPath)}) failed: ${j.error ?? 'unknown error'}` });
    }
    for (const [name, versions] of models) {
      const active = versions.find((v) => v.active);
      if (!active) { items.push({ level: 'warning', model: name, message: `Model ${name} has no active version.` }); continue; }
      const problems = verifyInstalled(store, active);
      if (problems.length) items.push({ level: 'error', model: name, message: `Model ${name}@${active.version} was modified on disk: ${problems[0]}` });
    }
    // Open drift alerts, one line per model version.
    const open = new Map<string, { model: string; version: number; features: Set<string>; n: number }>();
    for (const a of listAlerts(store, { activeOnly: true, limit: 500 })) {
      const key = `${a.model}@${a.version}`;
      const g = open.get(key) ?? { model: a.model, version: a.version, features: new Set<string>(), n: 0 };
      g.features.add(a.feature);
      g.n++;
      open.set(key, g);
    }
    for (const [key, g] of open) {
      items.push({ level: 'warning', model: g.model, version: g.version, message: `Drift in ${key}: ${[...g.features].sort().join(', ')} drifted from the baseline (${g.n} open alert${g.n === 1 ? '' : 's'}).` });
    }
    if (log.bytes > 0.8 * maxBytes) items.push({ level: 'warning', message: `The prediction log uses ${Math.round((log.bytes / maxBytes) * 100)} % of its size limit; the oldest predictions are dropped beyond it.` });
    return items;
  };

  /**
   * Run a scoring job in a worker thread (its own store connection); resolves once the job exists,
   * rejects with the up-front check's error if it never starts.
   */
  const launch = (task: WorkerTask): Promise<JobSummary> => {
    if (closed) throw new OutpostError('conflict', 'the service is shutting down');
    return new Promise((resolve, reject) => {
      const worker = startWorker(WORKER_URL, { workerData: task });
      let jobId: string | undefined;
      let outcome: FromWorker | undefined;
      /** the job as last shown (job-started): what job-finished says when the store cannot say more */
      let shown: JobSummary | undefined;
      /** why this thread could not follow the job (a read of the store that threw): stored as the job's error at its end */
      let lost: unknown;
      const entry: LiveJob = { cancel: () => worker.postMessage({ kind: 'cancel' }), progress: null, done: new Promise((r) => worker.once('exit', r)) };
      starting.add(entry);
      // The handlers run on the serving thread: whatever they throw would end the whole server, so a
      // failure here fails this job (stopped, its reason stored) and the server goes on serving.
      worker.on('message', (m: FromWorker) => {
        try {
          if (m.type === 'started') {
            jobId = m.jobId;
            starting.delete(entry);
            // the service closed while the worker started: the job stops (resumable) and nothing reads the closed store
            if (closed) { entry.cancel(); return; }
            live.set(jobId, entry);
            shown = summary(getJob(store, jobId));
            emit({ type: 'job-started', job: shown });
            resolve(shown);
          } else if (m.type === 'progress') {
            entry.progress = m.progress;
            emit({ type: 'job-progress', progress: m.progress });
          } else outcome = m;
        } catch (e) {
          lost ??= e;
          entry.cancel(); // the worker stops at its next batch; the job is failed with the reason when it has
          reject(e);
        }
      });
      worker.on('error', (e) => { outcome = { type: 'failed', error: toApiError(e) }; });
      worker.once('exit', () => {
        starting.delete(entry);
        if (closed) { reject(new OutpostError('conflict', 'the service is shutting down')); if (jobId !== undefined) live.delete(jobId); return; }
        let error = outcome?.type === 'failed' ? outcome.error : outcome ? null : { code: 'internal' as const, message: 'the scoring worker stopped unexpectedly' };
        if (jobId === undefined) return reject(Object.assign(new Error(error?.message ?? 'the job did not start'), { code: error?.code ?? 'internal', location: { file: error?.file, row: error?.row, field: error?.field } }));
        live.delete(jobId);
        sweep();
        try {
          if (lost !== undefined) {
            error = toApiError(lost);
            setJobStatus(store, jobId, 'failed', { error: `the serving process could not follow this job: ${error.message}` });
          }
          emit({ type: 'job-finished', job: summary(getJob(store, jobId)), error });
        } catch (e) {
          // e.g. the job was removed (`outpost jobs rm`) the moment its worker let go of it
          if (shown) emit({ type: 'job-finished', job: { ...shown, live: false, resumable: false }, error: toApiError(e) });
        }
      });
    });
  };

  /** A job's distribution is computed in the log-query worker and cached here until the job's log changes. */
  const distributions = new Map<string, Distribution>();
  const distribution = async (jobId: string, bins: number): Promise<Distribution> => {
    const key = `${jobId}:${bins}:${JSON.stringify(store.db.prepare('SELECT count(*) AS b, coalesce(sum(row_count), 0) AS n FROM prediction_batches WHERE job_id = ?').get(jobId))}`;
    const hit = distributions.get(key);
    if (hit) return hit;
    const d = await logQueries.distribution(jobId, bins);
    if (distributions.size > 50) distributions.clear();
    distributions.set(key, d);
    return d;
  };

  /** Run a one-shot task (retrain) in the job worker; resolves with its result, rejects with its error. */
  const inWorker = (task: WorkerTask): Promise<unknown> => new Promise((resolve, reject) => {
    if (closed) { reject(new OutpostError('conflict', 'the service is shutting down')); return; }
    const worker = startWorker(WORKER_URL, { workerData: task });
    let answered = false;
    worker.once('message', (m: FromWorker) => {
      answered = true;
      if (m.type === 'done') resolve(m.result);
      else if (m.type === 'failed') reject(Object.assign(new Error(m.error.message), { code: m.error.code, location: { file: m.error.file, row: m.error.row, field: m.error.field } }));
    });
    worker.once('error', reject);
    worker.once('exit', () => { if (!answered) reject(new Error('the worker stopped unexpectedly')); });
  });
  const retraining = new Set<string>();

  const sync = createSyncRunner(store, (v) => emit({ type: 'sync-finished', sync: v }));
  let pulling: AbortController | undefined;
  const training = createTrainRuns(store, emit);

  const handlers: Handlers = {
    async status() {
      const jobs = listJobs(store, 50);
      const models = groupModels();
      const settings = getSettings(store);
      const log = logSize(store);
      const usage = dataFolderUsage(store.home);
      return {
        home: store.home, storeBytes: usage.total, storage: usage, log, retentionMaxBytes: settings.retentionMaxBytes, provider: await providerInfo(),
        models: [...models.values()].map((v) => modelSummary(v, jobs)), recentJobs: jobs.slice(0, 8).map(summary),
        attention: attention(jobs.slice(0, 20), models, log, settings.retentionMaxBytes),
      };
    },
    async 'models.list'() {
      const jobs = listJobs(store, 200);
      return [...groupModels().values()].map((v) => modelSummary(v, jobs));
    },
    async 'models.show'({ name }) {
      const versions = groupModels().get(name);
      if (!versions) getModel(store, name); // throws the store's "not installed (installed: …)" error
      const target = rollbackPlan(store, name);
      return {
        name, rollback: target && target.to !== null ? { from: target.from, to: target.to } : null,
        versions: (versions ?? []).map((m) => ({
          version: m.version, active: m.active, source: m.source, signedBy: m.signedBy, signedAt: m.signedAt, origin: m.origin,
          installedAt: m.installedAt, sizeBytes: m.sizeBytes, modelSha256: m.modelSha256, card: m.card, problems: verifyInstalled(store, m),
        })).reverse(),
      };
    },
    async 'models.explore'({ model: ref }) {
      const m = getModel(store, ref);
      if (m.sizeBytes > EXPLORE_MAX_BYTES) throw new OutpostError('input', `${m.name}@${m.version} is ${(m.sizeBytes / 2 ** 20).toFixed(0)} MiB; the app explores models up to ${EXPLORE_MAX_BYTES / 2 ** 20} MiB (use \`outpost predict\` for this one)`);
      let warning: string | null = null;
      const adapted = await loadVerifiedModel(store, m, (w) => { warning = w; });
      return {
        name: m.name, version: m.version, modelSha256: m.modelSha256, card: m.card,
        inputs: adapted.info.inputs.map((i) => ({ name: i.name, type: i.type, shape: i.shape })),
        zipmapsRemoved: adapted.zipmaps.map((z) => z.node),
        model: Buffer.from(adapted.bytes.buffer, adapted.bytes.byteOffset, adapted.bytes.byteLength).toString('base64'),
        sizeBytes: adapted.bytes.byteLength, warning,
      };
    },
    async 'models.add'({ path: dir }) {
      const m = installPackage(store, path.resolve(dir), { source: 'local', allowUnsigned: true, origin: path.resolve(dir) });
      return modelSummary(groupModels().get(m.name)!, listJobs(store, 200));
    },
    async 'models.rollback'({ name, from }) {
      const target = rollbackPlan(store, name);
      if (from !== undefined && target && target.from !== from) throw new OutpostError('conflict', `${name}@${from} is no longer the active version (${name}@${target.from} is): nothing was rolled back`);
      const m = rollback(store, name);
      return modelSummary(groupModels().get(m.name)!, listJobs(store, 200));
    },
    async 'models.pull'({ ref }) {
      const hub = getHubSetting(store);
      if (!hub) throw new OutpostError('usage', 'this workstation is not connected to a hub: connect it in Settings (or with `outpost connect`), then pull');
      if (pulling) throw new OutpostError('conflict', 'a pull is already running here; wait for it or cancel it');
      const ac = new AbortController();
      pulling = ac;
      try {
        // the same pipeline as `outpost pull`: TUF refresh, download, hashes, model-file safety, card,
        // smoke inference in a child process, atomic install; a refusal is recorded as a security event
        const r = await pull({
          home: store.home, hubUrl: hub.url, ref, store, signal: ac.signal,
          onProgress: (e) => emit({ type: 'pull-progress', progress: { ref, stage: e.stage, ...(e.file !== undefined ? { file: e.file } : {}), ...(e.received !== undefined ? { received: e.received } : {}), ...(e.total !== undefined ? { total: e.total } : {}) } }),
        });
        const m = r.model;
        return {
          name: m.name, version: m.version, active: m.active, previousActive: r.previousActive ?? null, alreadyInstalled: r.alreadyInstalled,
          signedBy: r.signedBy, signedAt: r.signedAt, hub: r.hub, model: modelSummary(groupModels().get(m.name)!, listJobs(store, 200)),
        };
      } catch (e) {
        if (ac.signal.aborted) throw new OutpostError('cancelled', `pull of ${ref} cancelled: nothing was installed (what was downloaded is kept and the next pull resumes it)`);
        throw e;
      } finally {
        pulling = undefined;
      }
    },
    async 'models.pullCancel'() {
      const running = pulling !== undefined;
      pulling?.abort();
      return { cancelled: running };
    },
    async 'files.inspect'({ path: file, model: ref }) {
      const abs = readable(file);
      const model = getModel(store, ref);
      // as scoring: a column named twice is refused only when the model reads it
      const source = await openSource(abs, { allowRepeatedColumns: true });
      try {
        unreadRepeats(abs, source.columns, new Set(model.card.inputs.map((f) => f.name)));
        const have = new Set(source.columns);
        const fields = model.card.inputs.map((f) => ({
          name: f.name, type: f.type, nullable: f.nullable, present: have.has(f.name),
          detail: f.type === 'category' ? `one of ${(f.vocabulary ?? []).join(', ')}`
            : f.range ? `${f.range.min ?? '−∞'} … ${f.range.max ?? '∞'}${f.unit ? ` ${f.unit}` : ''}` : (f.unit ?? ''),
        }));
        const wanted = new Set(model.card.inputs.map((f) => f.name));
        // JSONL keys are sampled from the first records: a nullable one may appear later (missing until then)
        const missing = fields.filter((f) => !f.present && !(source.openColumns && f.nullable)).map((f) => f.name);
        return {
          path: abs, name: path.basename(abs), format: source.format, sizeBytes: source.sizeBytes, columns: [...source.columns],
          model: `${model.name}@${model.version}`, fields, missing, extra: source.columns.filter((c: string) => !wanted.has(c)), ok: missing.length === 0,
        };
      } finally {
        await source.close();
      }
    },
    async 'jobs.start'(p: ParsedParams<'jobs.start'>) {
      return launch({
        kind: 'start', home: store.home,
        request: {
          input: readable(p.input), model: p.model, ...(opts.batchRows !== undefined ? { batchRows: opts.batchRows } : {}),
          ...(p.idColumn !== undefined ? { idColumn: p.idColumn } : {}), ...(p.format !== undefined ? { format: p.format } : {}),
        },
      });
    },
    async 'jobs.cancel'({ jobId }) {
      const j = live.get(jobId);
      if (!j) {
        getJob(store, jobId); // unknown id → not-found
        return { cancelled: false };
      }
      j.cancel();
      return { cancelled: true };
    },
    async 'jobs.resume'({ jobId }) {
      if (live.has(jobId)) throw new OutpostError('conflict', `job ${jobId} is already running`);
      return launch({ kind: 'resume', home: store.home, jobId });
    },
    async 'jobs.list'({ limit }) {
      return listJobs(store, limit).map(summary);
    },
    async 'jobs.get'({ jobId }): Promise<JobDetail> {
      const j = getJob(store, jobId);
      return {
        ...summary(j), rejectReasons: reasonsOf(j), outputExists: fs.existsSync(j.outputPath), rejectsExist: fs.existsSync(j.rejectsPath),
        progress: live.get(jobId)?.progress ?? null,
      };
    },
    async 'jobs.rejects'({ jobId, offset, limit }) {
      const j = getJob(store, jobId);
      const { total, rows } = live.has(jobId) ? { total: 0, rows: [] } : readRejects(j.rejectsPath, offset, limit);
      return { jobId, total, offset, rows, reasons: reasonsOf(j) };
    },
    async 'jobs.distribution'({ jobId, bins }) {
      getJob(store, jobId);
      return distribution(jobId, bins);
    },
    async 'predictions.page'(p): Promise<Result<'predictions.page'>> {
      const q: PredictionQuery = {
        ...(p.jobId !== undefined ? { jobId: p.jobId } : {}), ...(p.model !== undefined ? { model: p.model } : {}),
        ...(p.version !== undefined ? { version: p.version } : {}), ...(p.since !== undefined ? { since: p.since } : {}), ...(p.until !== undefined ? { until: p.until } : {}),
      };
      const total = countPredictions(store, q);
      // the log's unsorted first page comes before any sort: the sorting worker starts meanwhile
      if (!p.sort) logQueries.warm();
      const rows = p.sort ? await logQueries.sortedPage(q, p.sort.column, p.sort.descending, p.offset, p.limit, total) : pagePredictions(store, { ...q, offset: p.offset, limit: p.limit });
      // Columns from the first page of the query (stable while paging), outputs before logged inputs.
      const sample = p.offset === 0 && !p.sort ? rows : pagePredictions(store, { ...q, offset: 0, limit: 50 });
      const names = new Set<string>();
      for (const r of sample) for (const k of Object.keys(r.values)) names.add(k);
      for (const n of loggedInputNames(store, q)) names.add(`input.${n}`); // sampled inputs may start past the first page
      const columns = [...names].sort((a, b) => rank(a) - rank(b) || 0);
      return { total, offset: p.offset, columns, sortable: ['row', ...columns.filter((c) => !c.startsWith('input.'))], rows };
    },
    async 'drift.report'(p) {
      return driftView(store, p);
    },
    async 'drift.alerts'({ model, version, activeOnly, limit }) {
      return listAlerts(store, { ...(model !== undefined ? { model } : {}), ...(version !== undefined ? { version } : {}), activeOnly, limit }).map(toAlert);
    },
    async 'performance.report'({ model, scope }) {
      return performanceForModel(store, model, scope);
    },
    async 'proposals.list'({ model }) {
      return listProposals(store, model).map(proposalView);
    },
    async 'proposals.retrain'({ model, holdout }) {
      getModel(store, model); // not installed → not-found, before a worker starts
      if (retraining.has(model)) throw new OutpostError('conflict', `a retrain of ${model} is already running`);
      retraining.add(model);
      try {
        const id = await inWorker({ kind: 'retrain', home: store.home, model, ...(holdout !== undefined ? { holdout } : {}) }) as string;
        return proposalView(getProposal(store, id));
      } finally {
        retraining.delete(model);
      }
    },
    async 'proposals.activate'({ id, force }) {
      return proposalView(activateProposal(store, id, { force }).proposal);
    },
    async 'files.columns'({ path: file }) {
      return fileColumns(readable(file));
    },
    async 'train.start'(p) {
      if (closed) throw new OutpostError('conflict', 'the service is shutting down');
      return training.start(p, readable(p.input));
    },
    async 'train.cancel'({ id }) {
      return { cancelled: training.cancel(id) };
    },
    async 'train.list'() {
      return training.list();
    },
    async 'train.get'({ id }) {
      return training.get(id);
    },
    async 'train.install'({ id }) {
      const { run, installed } = training.install(id);
      return { run, model: modelSummary(groupModels().get(installed.name)!, listJobs(store, 200)) };
    },
    async 'gpu.status'({ hub }) {
      return gpu.view(hub);
    },
    async 'gpu.install'() {
      return gpu.install();
    },
    async 'gpu.remove'() {
      return gpu.remove();
    },
    async 'appUpdate.status'() {
      return appUpdates.view();
    },
    async 'appUpdate.check'() {
      return appUpdates.check();
    },
    async 'appUpdate.installOnRestart'({ enabled }) {
      return appUpdates.installOnRestart(enabled);
    },
    async 'tokens.list'() {
      return listApiTokens(store).map(tokenView);
    },
    async 'tokens.create'({ name, models }) {
      const { token, info } = createApiToken(store, name, Date.now(), models ? { models } : {});
      return { ...tokenView(info), secret: token };
    },
    async 'tokens.revoke'({ id }) {
      // by id only: a name is not unique over time (a revoked token's name can be reused)
      if (!listApiTokens(store).some((t) => t.id === id && t.revokedAt === null)) throw new OutpostError('not-found', `no live token with id ${id}`);
      return tokenView(revokeApiToken(store, id));
    },
    async 'settings.get'() {
      return { home: store.home, settings: getSettings(store) };
    },
    async 'settings.update'({ patch }) {
      // A provider that cannot work here is refused when it is saved, with the reason — not at the
      // next Start. CPU always works; auto always finds something.
      if (patch.provider !== undefined && patch.provider !== 'auto' && patch.provider !== 'cpu' && patch.provider !== getSettings(store).provider) {
        try {
          await chooseProvider(patch.provider, { reprobe: true, probeTimeoutMs, cacheFile: path.join(store.home, PROBE_CACHE_FILE), home: store.home });
        } catch (e) {
          throw new OutpostError('provider', `not saved: ${(e as Error).message}. Choose another provider (auto picks the best that works here).`);
        }
      }
      const settings = updateSettings(store, patch);
      sync.reschedule();
      return { home: store.home, settings };
    },
    async 'sync.status'() {
      return sync.view();
    },
    async 'sync.connect'(p) {
      // The trust root and CA are files read by path, so the same folder rules as scoring apply.
      return sync.connect({ ...p, ...(p.rootPath ? { rootPath: readable(p.rootPath) } : {}), ...(p.caPath ? { caPath: readable(p.caPath) } : {}) });
    },
    async 'sync.now'() {
      return sync.syncNow();
    },
    async 'sync.installUpdate'(p) {
      return sync.installUpdate(p.rollout);
    },
  };

  return {
    home: store.home,
    handlers,
    uploadsDir,
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    uploadLimit: () => getSettings(store).uploadMaxBytes,
    receiveUpload: (name, body, declared) => receiveUpload(uploadsDir, name, body, declared),
    fileOf(jobId, which) {
      const j = getJob(store, jobId);
      const file = which === 'output' ? j.outputPath : j.rejectsPath;
      if (j.status !== 'completed' || !fs.existsSync(file)) throw new OutpostError('not-found', `job ${jobId} has no ${which === 'output' ? 'output' : 'rejects'} file${j.status !== 'completed' ? ` (it is ${j.status})` : ''}`);
      return file;
    },
    async close() {
      clearInterval(webhookTimer);
      if (closed) return;
      closed = true;
      const running = [...live.values(), ...starting];
      for (const j of running) j.cancel();
      pulling?.abort();
      await Promise.allSettled([...running.map((j) => j.done), training.close(), logQueries.close()]);
      await sync.close();
      listeners.clear();
      store.close();
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(error()), ms); timer.unref?.(); })]).finally(() => clearTimeout(timer));
}

/** Display order of prediction columns: id, label, probabilities / value, then logged inputs. */
function rank(c: string): number {
  if (c === 'id') return 0;
  if (c === 'label') return 1;
  if (c.startsWith('p_')) return 2;
  if (c === 'value') return 3;
  return 4;
}
