// Training from the app (the Train screen): runs of the same pipeline as `outpost train`, each on its
// own worker thread (`trainFile`), so the thread that serves the UI only relays progress. A run keeps
// its result (model bytes + card) in memory until it is installed as the next local version of its
// name; cancelling terminates the worker and nothing is written anywhere. Runs live as long as the
// service (they are not stored: an installed model is, with its card's lineage).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { openSource } from '../../io/node/open.ts';
import type { Card } from '../../package/common/card.ts';
import { loadPackage } from '../../package/node/load.ts';
import { installPackage, type InstalledModel } from '../../store/node/models.ts';
import type { Store } from '../../store/node/store.ts';
import type { Algo } from '../../train/common/learner.ts';
import { trainFile, writePackage, type TrainFileEvent, type TrainFileResult } from '../../train/node/train-file.ts';
import { toApiError } from '../common/dispatch.ts';
import type { FileColumns, ParsedParams, TrainRun, TrainRunDetail } from '../common/contract.ts';

const SAMPLE_ROWS = 2000;
const MAX_CURVE_POINTS = 500;
const MAX_RUNS = 20;
const EVENT_EVERY_MS = 200;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** The columns of a file with a kind guessed from its first rows. */
export async function fileColumns(abs: string): Promise<FileColumns> {
  const source = await openSource(abs, {});
  try {
    const names = [...source.columns];
    const stats = names.map(() => ({ numbers: 0, times: 0, other: 0, missing: 0, distinct: new Set<string>(), examples: [] as string[] }));
    let sampled = 0;
    for await (const batch of source.batches(names.map((name) => ({ name, kind: 'string' as const })), { batchRows: SAMPLE_ROWS })) {
      const n = Math.min(batch.length, SAMPLE_ROWS - sampled);
      batch.columns.forEach((col, c) => {
        const values = (col as { values: (string | null)[] }).values;
        const s = stats[c];
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v === null || v.trim() === '') { s.missing++; continue; }
          const t = v.trim();
          if (Number.isFinite(Number(t))) s.numbers++;
          else if (ISO_TIME.test(t) && !Number.isNaN(Date.parse(t))) s.times++;
          else s.other++;
          if (s.distinct.size < 10_000) s.distinct.add(t);
          if (s.examples.length < 3 && !s.examples.includes(t)) s.examples.push(t);
        }
      });
      sampled += n;
      if (sampled >= SAMPLE_ROWS) break;
    }
    return {
      path: abs, name: path.basename(abs), format: source.format, sizeBytes: source.sizeBytes, sampled,
      columns: names.map((name, c) => {
        const s = stats[c];
        const kind = s.other === 0 && s.times === 0 && s.numbers > 0 ? 'number' as const : s.other === 0 && s.times > 0 && s.numbers === 0 ? 'time' as const : 'text' as const;
        return { name, kind, distinct: s.distinct.size, missing: s.missing, examples: s.examples };
      }),
    };
  } finally {
    await source.close();
  }
}

interface Run {
  view: TrainRun;
  result: TrainFileResult | null;
  abort: AbortController;
  lastEmit: number;
}

export interface TrainRuns {
  start(p: ParsedParams<'train.start'>, input: string): TrainRun;
  cancel(id: string): boolean;
  list(): TrainRun[];
  get(id: string): TrainRunDetail;
  install(id: string): { run: TrainRun; installed: InstalledModel };
  /** cancel every running run and wait for their workers */
  close(): Promise<void>;
}

export function createTrainRuns(store: Store, emit: (e: { type: 'train-progress' | 'train-finished'; run: TrainRun }) => void): TrainRuns {
  const runs = new Map<string, Run>();
  const pending = new Set<Promise<unknown>>();

  const find = (id: string): Run => {
    const r = runs.get(id);
    if (!r) throw new OutpostError('not-found', `no training run ${id} in this session (runs are kept until the app restarts; installed models stay)`);
    return r;
  };
  const snapshot = (r: Run): TrainRun => ({
    ...r.view,
    seconds: r.view.finishedAt ? r.view.seconds : (Date.now() - Date.parse(r.view.startedAt)) / 1000,
    curves: Object.fromEntries(Object.entries(r.view.curves).map(([k, v]) => [k, [...v]])),
    candidates: [...r.view.candidates], messages: [...r.view.messages],
  });

  const onEvent = (r: Run, e: TrainFileEvent) => {
    const v = r.view;
    let important = false;
    if (e.event === 'read') { v.read = { rows: e.rows, fraction: e.fraction }; v.stage = `reading ${v.inputName}`; }
    else if (e.event === 'stage') { v.stage = e.message; v.messages.push(e.message); important = true; }
    else if (e.event === 'step') {
      v.step = { algo: e.algo, unit: e.unit, step: e.step, of: e.of, trainLoss: e.trainLoss ?? null, validLoss: e.validLoss ?? null };
      v.stage = `${e.algo}: ${e.unit} ${e.step} of ${e.of}`;
      const curve = (v.curves[e.algo] ??= []);
      curve.push({ step: e.step, trainLoss: e.trainLoss ?? null, validLoss: e.validLoss ?? null });
      // keep the chart bounded: thin to every other point, keeping the newest
      if (curve.length > MAX_CURVE_POINTS) v.curves[e.algo] = curve.filter((_, i) => i % 2 === 1 || i === curve.length - 1);
    } else if (e.event === 'candidate') {
      v.candidates.push({ algo: e.algo, metrics: e.metrics, fitSeconds: e.fitSeconds });
      important = true;
    }
    const t = Date.now();
    if (important || t - r.lastEmit >= EVENT_EVERY_MS) {
      r.lastEmit = t;
      emit({ type: 'train-progress', run: snapshot(r) });
    }
  };

  return {
    start(p, input) {
      const id = `t-${crypto.randomBytes(6).toString('hex')}`;
      const abort = new AbortController();
      const view: TrainRun = {
        id, status: 'running', name: p.name, input, inputName: path.basename(input), target: p.target, features: p.features, algo: p.algo,
        split: p.split, seed: p.seed, provider: p.provider ?? null, startedAt: new Date().toISOString(), finishedAt: null, seconds: 0,
        stage: 'starting', read: null, step: null, curves: {}, candidates: [], messages: [], result: null, error: null, installed: null,
      };
      const run: Run = { view, result: null, abort, lastEmit: 0 };
      runs.set(id, run);
      // forget the oldest finished runs beyond MAX_RUNS (their model bytes are in memory)
      for (const [k, r] of runs) {
        if (runs.size <= MAX_RUNS) break;
        if (r.view.status !== 'running') runs.delete(k);
      }
      const done = trainFile({
        file: input,
        recipe: { target: p.target, features: p.features, algo: p.algo as Algo | 'auto', split: p.split, seed: p.seed },
        ...(p.provider ? { ep: p.provider } : {}),
        info: { name: p.name, version: 1, ...(p.description ? { description: p.description } : {}), createdAt: view.startedAt },
      }, { onEvent: (e) => onEvent(run, e), signal: abort.signal }).then(
        (result) => {
          run.result = result;
          view.status = 'completed';
          view.stage = `done: ${result.algo}`;
          view.result = {
            algo: result.algo, task: result.task, metrics: result.metrics, trainRows: result.trainRows, validRows: result.validRows, rowsRead: result.rowsRead,
            dataSha256: result.sha256, modelSha256: crypto.createHash('sha256').update(result.modelBytes).digest('hex'), sizeBytes: result.modelBytes.length,
            warnings: result.warnings,
          };
        },
        (e: unknown) => {
          const err = toApiError(e);
          view.status = err.code === 'cancelled' ? 'cancelled' : 'failed';
          view.stage = err.code === 'cancelled' ? 'cancelled: nothing was written' : 'failed';
          view.error = err;
        },
      ).finally(() => {
        view.finishedAt = new Date().toISOString();
        view.seconds = (Date.parse(view.finishedAt) - Date.parse(view.startedAt)) / 1000;
        pending.delete(done);
        emit({ type: 'train-finished', run: snapshot(run) });
      });
      pending.add(done);
      return snapshot(run);
    },
    cancel(id) {
      const r = find(id);
      if (r.view.status !== 'running') return false;
      r.abort.abort(new OutpostError('cancelled', 'training cancelled from the app: nothing was written'));
      return true;
    },
    list() {
      return [...runs.values()].map(snapshot).reverse();
    },
    get(id) {
      const r = find(id);
      return { ...snapshot(r), card: (r.result?.card ?? null) as Card | null };
    },
    install(id) {
      const r = find(id);
      if (r.view.status !== 'completed' || !r.result) throw new OutpostError('conflict', `training run ${id} is ${r.view.status}: only a completed run can be installed`);
      if (r.view.installed) throw new OutpostError('conflict', `training run ${id} was already installed as ${r.view.installed.name}@${r.view.installed.version}`);
      const name = r.view.name;
      const { v } = store.db.prepare('SELECT max(version) AS v FROM models WHERE name = ?').get(name) as { v: number | null };
      const version = (v ?? 0) + 1;
      const staged = path.join(store.modelsDir, `.train-${id}-${process.pid}`);
      fs.rmSync(staged, { recursive: true, force: true });
      writePackage(staged, r.result.modelBytes, { ...r.result.card, version });
      let installed: InstalledModel;
      try {
        installed = installPackage(store, loadPackage(staged), { source: 'local', allowUnsigned: true, origin: `trained in the app from ${r.view.input} (run ${id})` });
      } finally {
        fs.rmSync(staged, { recursive: true, force: true });
      }
      r.view.installed = { name, version };
      r.result = { ...r.result, modelBytes: new Uint8Array(0) }; // the store holds it now
      return { run: snapshot(r), installed };
    },
    async close() {
      for (const r of runs.values()) if (r.view.status === 'running') r.abort.abort();
      await Promise.allSettled([...pending]);
    },
  };
}
