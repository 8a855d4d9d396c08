// The retrain loop on the workstation: a challenger trained with the champion's recipe (its card's
// lineage) on recent labelled data — the inputs the prediction log kept joined to the labels — and
// compared with the champion on the same held-out, most recent slice. The challenger never replaces
// anything by itself: it becomes a proposal (a package folder under <home>/proposals/<id>/ and a row
// in `proposals` with both evaluations and the decision) that an operator may activate (installed
// as a local, unsigned version and made active, recorded) or dismiss.
//
// Data: the labels of the champion version (src/monitor/node/labels.ts), newest last in the order
// the predictions were logged; the inputs come from the prediction log's input blobs, which exist
// only for rows the input-logging policy kept (`logInputs`: all | sampled | none). Too few rows with
// inputs is an error that says so. Split: the newest `holdout` fraction is held out (neither model
// trained on it); of the rest, the newest `validFraction` is the trainer's own validation part (early
// stopping, candidate choice), the remainder trains. The champion is evaluated on the held-out rows
// with the predictions it logged for them (what its graph computed when it scored them); the
// challenger with its own predictions (what its graph computes) on the same rows' logged inputs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { classifierMetrics, lowerIsBetter, regressionMetrics, type ClassifierSample, type MetricValue } from '../../monitor/common/performance.ts';
import { parseCard, type Card, type PerformanceMetric } from '../../package/common/card.ts';
import { loadPackage } from '../../package/node/load.ts';
import { unpackColumns } from '../../store/common/packing.ts';
import { getModel, installPackage, recordModelEvent, type InstalledModel } from '../../store/node/models.ts';
import { DIR_MODE } from '../../store/node/permissions.ts';
import { getSettings, type Store } from '../../store/node/store.ts';
import { recipeFromCard, trainPackage, type TrainRecipe } from '../../train/common/pipeline.ts';
import type { TrainTable } from '../../train/common/table.ts';
import { writePackage } from '../../train/node/train-file.ts';

export const MIN_RETRAIN_ROWS = 50;
const ORDER = 'outpost/order';

export interface RetrainRequest {
  /** model name (the active version is the champion) */
  model: string;
  /** only labelled predictions logged at or after this time (epoch ms) */
  since?: number;
  /** newest fraction held out for the comparison (default 0.2) */
  holdout?: number;
  /** newest fraction of the rest that the trainer validates on (default 0.2) */
  validFraction?: number;
  trigger?: 'manual' | 'drift-alert' | 'performance-alert';
  triggerDetail?: string;
  now?: number;
  onStage?: (message: string) => void;
}

export interface Evaluation { rows: number; metrics: Record<string, MetricValue> }

export interface Proposal {
  id: string;
  model: string;
  championVersion: number;
  status: 'proposed' | 'activated' | 'dismissed';
  trigger: string;
  triggerDetail: string | null;
  dir: string;
  card: Card;
  modelSha256: string;
  metric: PerformanceMetric;
  championScore: number | null;
  challengerScore: number | null;
  /** 'challenger' when it is better on the held-out slice, else 'champion' */
  better: 'challenger' | 'champion';
  decision: string;
  evaluation: { holdoutRows: number; holdoutFrom: number; holdoutTo: number; champion: Evaluation; challenger: Evaluation; lowerIsBetter: boolean };
  data: {
    labelled: number; withInputs: number; logInputs: string; trainRows: number; validRows: number; holdoutRows: number;
    from: number; to: number; algo: string; warnings: string[]; trainerMetrics: Record<string, number>; driftedFeatures?: string[];
  };
  createdAt: number;
  activatedVersion: number | null;
  activatedAt: number | null;
}

interface LabelRow { job_id: string; row: number; predicted_at: number; truth: string; truth_value: number | null; predicted: string | null; scores_json: string | null; predicted_value: number | null }

/** The metric a decision is taken on: the card's monitoring metric, else AUC (binary), log-loss (multiclass), RMSE. */
export function decisionMetric(card: Card): PerformanceMetric {
  return card.monitoring?.performance?.metric ?? (card.task === 'binary' ? 'auc' : card.task === 'multiclass' ? 'logLoss' : 'rmse');
}

/** Labelled rows of the champion with their logged inputs, oldest first. */
function labelledRows(store: Store, champion: InstalledModel, since: number | undefined): { rows: LabelRow[]; inputs: Map<string, Record<string, number | string | null>>; labelled: number } {
  const all = store.db.prepare(`SELECT job_id, row, predicted_at, truth, truth_value, predicted, scores_json, predicted_value FROM labels
    WHERE model_name = ? AND model_version = ? ${since !== undefined ? 'AND predicted_at >= ?' : ''} ORDER BY predicted_at, job_id, row`)
    .all(...[champion.name, champion.version, ...(since !== undefined ? [since] : [])]) as LabelRow[];
  const wanted = new Map<string, Set<number>>();
  for (const r of all) {
    let s = wanted.get(r.job_id);
    if (!s) wanted.set(r.job_id, (s = new Set()));
    s.add(r.row);
  }
  const names = champion.card.inputs.map((f) => f.name);
  const inputs = new Map<string, Record<string, number | string | null>>();
  const batches = store.db.prepare('SELECT inputs FROM prediction_batches WHERE job_id = ? AND inputs IS NOT NULL ORDER BY seq');
  for (const [job, rowsWanted] of wanted) {
    for (const b of batches.iterate(job) as IterableIterator<{ inputs: Buffer }>) {
      const cols = unpackColumns(b.inputs);
      const rowCol = cols.find((c) => c.name === '#row');
      if (!rowCol) continue;
      const byName = new Map(cols.map((c) => [c.name, c]));
      for (let k = 0; k < rowCol.values.length; k++) {
        const row = Number(rowCol.values[k]);
        if (!rowsWanted.has(row)) continue;
        const rec: Record<string, number | string | null> = {};
        for (const n of names) {
          const c = byName.get(n);
          rec[n] = c ? (c.values[k] as number | string | null) : null;
        }
        inputs.set(`${job}\u0000${row}`, rec);
      }
    }
  }
  return { rows: all.filter((r) => inputs.has(`${r.job_id}\u0000${r.row}`)), inputs, labelled: all.length };
}

function tableOf(card: Card, target: string, rows: LabelRow[], inputs: Map<string, Record<string, number | string | null>>): TrainTable {
  const columns: TrainTable['columns'] = {};
  for (const f of card.inputs) {
    const values = rows.map((r) => inputs.get(`${r.job_id}\u0000${r.row}`)![f.name]);
    columns[f.name] = f.type === 'category' ? values.map((v) => (v === null ? null : String(v))) : Float64Array.from(values, (v) => (v === null || v === '' ? NaN : Number(v)));
  }
  columns[target] = card.task === 'regression' ? Float64Array.from(rows, (r) => r.truth_value ?? NaN) : rows.map((r) => r.truth);
  columns[ORDER] = Float64Array.from(rows, (_, i) => i);
  return { rows: rows.length, columns };
}

function evaluateRows(card: Card, rows: LabelRow[], pred: { classes?: readonly string[]; probabilities?: ArrayLike<number>; values?: ArrayLike<number> } | 'logged'): Evaluation {
  if (card.task === 'regression') {
    const truth = Float64Array.from(rows, (r) => r.truth_value ?? NaN);
    const predicted = pred === 'logged' ? Float64Array.from(rows, (r) => r.predicted_value ?? NaN) : Float64Array.from(pred.values!);
    return { rows: rows.length, metrics: regressionMetrics({ truth, predicted }) };
  }
  const classes = card.outputs.classes!;
  const index = new Map(classes.map((c, i) => [c, i]));
  const scores = classes.map(() => new Float64Array(rows.length));
  if (pred === 'logged') {
    rows.forEach((r, i) => { const p = JSON.parse(r.scores_json ?? 'null') as number[] | null; classes.forEach((_, c) => (scores[c][i] = p ? p[c] : NaN)); });
  } else {
    // the challenger's classes mapped onto the champion's (a class it never saw has probability 0)
    const k = pred.classes!.length;
    const to = pred.classes!.map((c) => index.get(c));
    for (let i = 0; i < rows.length; i++) for (let c = 0; c < k; c++) if (to[c] !== undefined) scores[to[c]!][i] = pred.probabilities![i * k + c];
  }
  const predicted = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    if (pred === 'logged' && rows[i].predicted !== null && index.has(rows[i].predicted!)) { predicted[i] = index.get(rows[i].predicted!)!; continue; }
    let best = 0;
    for (let c = 1; c < classes.length; c++) if (scores[c][i] > scores[best][i]) best = c;
    predicted[i] = best;
  }
  const sample: ClassifierSample = { classes, truth: Int32Array.from(rows, (r) => index.get(r.truth) ?? -1), predicted };
  if (scores.every((s) => s.every((x) => !Number.isNaN(x)))) sample.scores = scores;
  return { rows: rows.length, metrics: classifierMetrics(sample) as unknown as Record<string, MetricValue> };
}

const newId = (now: number): string => `p${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}-${crypto.randomBytes(4).toString('hex')}`;

export function retrain(store: Store, req: RetrainRequest): Proposal {
  const now = req.now ?? Date.now();
  const stage = req.onStage ?? (() => {});
  const champion = getModel(store, req.model);
  if (champion.card.task !== 'regression' && !champion.card.outputs.classes) throw new OutpostError('package', `${champion.name}@${champion.version} names no classes`);
  const base = recipeFromCard(champion.card);
  const holdout = req.holdout ?? 0.2;
  const validFraction = req.validFraction ?? 0.2;
  if (!(holdout > 0 && holdout < 1)) throw new OutpostError('usage', `the held-out fraction must be between 0 and 1 (got ${holdout})`);
  if (!(validFraction > 0 && validFraction < 1)) throw new OutpostError('usage', `the validation fraction must be between 0 and 1 (got ${validFraction})`);

  stage(`reading the labelled predictions of ${champion.name}@${champion.version} and their logged inputs`);
  const { rows, inputs, labelled } = labelledRows(store, champion, req.since);
  const settings = getSettings(store);
  const policy = settings.logInputs === 'sampled' ? `sampled (${settings.logSampleRate * 100} % of rows)` : settings.logInputs;
  if (labelled === 0) throw new OutpostError('input', `${champion.name}@${champion.version} has no labelled predictions${req.since !== undefined ? ' in that time' : ''}: join labels first (outpost labels add <file> --model ${champion.name} --id COL --label COL)`);
  if (rows.length < MIN_RETRAIN_ROWS) {
    throw new OutpostError('input', `only ${rows.length.toLocaleString('en-US')} of the ${labelled.toLocaleString('en-US')} labelled predictions of ${champion.name}@${champion.version} have their inputs in the prediction log (input-logging policy: ${policy}); a retrain needs at least ${MIN_RETRAIN_ROWS}. Inputs are kept only as \`logInputs\` says when the rows are scored: \`outpost settings set logInputs all\` before scoring keeps them all`);
  }
  const nHold = Math.max(1, Math.round(rows.length * holdout));
  const fitRows = rows.slice(0, rows.length - nHold);
  const holdRows = rows.slice(rows.length - nHold);
  const nValid = Math.max(1, Math.round(fitRows.length * validFraction));
  const recipe: TrainRecipe = { ...base, split: { kind: 'time', column: ORDER, validFrom: String(fitRows.length - nValid) }, schema: champion.card.inputs };
  stage(`training ${base.algo} on ${(fitRows.length - nValid).toLocaleString('en-US')} rows (validating on ${nValid.toLocaleString('en-US')}); ${nHold.toLocaleString('en-US')} newest rows held out`);
  const table = tableOf(champion.card, base.target, fitRows, inputs);
  const dataSha = crypto.createHash('sha256').update(JSON.stringify(fitRows.map((r) => [r.job_id, r.row, r.truth]))).digest('hex');
  const result = trainPackage(table, recipe, {
    name: champion.name, version: champion.version + 1,
    description: `challenger retrained from ${champion.name}@${champion.version} on ${fitRows.length} labelled predictions`,
    dataSha256: dataSha, dataSource: `prediction log + labels of ${champion.name}@${champion.version}`, createdAt: new Date(now).toISOString(),
  });

  stage('evaluating champion and challenger on the held-out rows');
  const holdTable = tableOf(champion.card, base.target, holdRows, inputs);
  const pred = result.model.predict(holdTable);
  const championEval = evaluateRows(champion.card, holdRows, 'logged');
  const challengerEval = evaluateRows(champion.card, holdRows, { classes: result.card.outputs.classes ?? [], ...(pred.probabilities ? { probabilities: pred.probabilities } : {}), ...(pred.values ? { values: pred.values } : {}) });
  const metric = decisionMetric(champion.card);
  const a = championEval.metrics[metric]?.value ?? null;
  const b = challengerEval.metrics[metric]?.value ?? null;
  const lower = lowerIsBetter(metric);
  const better: 'challenger' | 'champion' = a !== null && b !== null && (lower ? b < a : b > a) ? 'challenger' : 'champion';
  const f = (x: number | null) => (x === null ? '—' : x.toFixed(4));
  const decision = better === 'challenger'
    ? `challenger better on the ${nHold} newest labelled rows: ${metric} ${f(b)} vs champion ${f(a)} (${lower ? 'lower' : 'higher'} is better); proposed, not activated`
    : `champion as good or better on the ${nHold} newest labelled rows: ${metric} ${f(a)} vs challenger ${f(b)}; keep the champion (the challenger is kept for the record)`;

  // The challenger's card keeps the champion's monitoring and drift settings; lineage names its parent.
  const warnings = [...result.warnings];
  const cc = result.card.outputs.classes;
  const ch = champion.card.outputs.classes;
  if (cc && ch && cc.join('\u0000') !== ch.join('\u0000')) warnings.push(`the challenger's classes (${cc.join(', ')}) differ from the champion's (${ch.join(', ')}): the recent data did not hold every class`);
  const id = newId(now);
  const cardRaw = {
    ...result.card,
    ...(champion.card.monitoring ? { monitoring: champion.card.monitoring } : {}),
    ...(champion.card.drift ? { drift: champion.card.drift } : {}),
    lineage: { ...result.card.lineage, parent: { name: champion.name, version: champion.version, modelSha256: champion.modelSha256 }, proposal: id, retrainedOn: { labelled: fitRows.length, from: new Date(fitRows[0].predicted_at).toISOString(), to: new Date(fitRows[fitRows.length - 1].predicted_at).toISOString() } },
  };
  const parsed = parseCard(cardRaw);
  if (!parsed.ok) throw new OutpostError('package', `the challenger's card is invalid: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const rel = path.join('proposals', id);
  const dir = path.join(store.home, rel);
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: DIR_MODE });
  writePackage(dir, result.modelBytes, parsed.card);
  const modelSha256 = crypto.createHash('sha256').update(result.modelBytes).digest('hex');

  const proposal: Proposal = {
    id, model: champion.name, championVersion: champion.version, status: 'proposed', trigger: req.trigger ?? 'manual', triggerDetail: req.triggerDetail ?? null,
    dir, card: parsed.card, modelSha256, metric, championScore: a, challengerScore: b, better, decision,
    evaluation: { holdoutRows: nHold, holdoutFrom: holdRows[0].predicted_at, holdoutTo: holdRows[holdRows.length - 1].predicted_at, champion: championEval, challenger: challengerEval, lowerIsBetter: lower },
    data: {
      labelled, withInputs: rows.length, logInputs: policy, trainRows: result.trainRows, validRows: result.validRows, holdoutRows: nHold,
      from: rows[0].predicted_at, to: rows[rows.length - 1].predicted_at, algo: result.algo, warnings, trainerMetrics: result.metrics,
    },
    createdAt: now, activatedVersion: null, activatedAt: null,
  };
  try {
    store.db.prepare(`INSERT INTO proposals (id, model_name, champion_version, status, trigger, trigger_detail, dir, card_json, model_sha256, metric, champion_score, challenger_score, decision, evaluation_json, data_json, created_at)
      VALUES (?, ?, ?, 'proposed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      id, champion.name, champion.version, proposal.trigger, proposal.triggerDetail, rel, JSON.stringify(parsed.card), modelSha256, metric, a, b, decision,
      JSON.stringify({ ...proposal.evaluation, better }), JSON.stringify(proposal.data), now);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return proposal;
}

interface ProposalRow {
  id: string; model_name: string; champion_version: number; status: Proposal['status']; trigger: string; trigger_detail: string | null; dir: string; card_json: string;
  model_sha256: string; metric: PerformanceMetric; champion_score: number | null; challenger_score: number | null; decision: string; evaluation_json: string; data_json: string;
  created_at: number; activated_version: number | null; activated_at: number | null;
}

function toProposal(store: Store, r: ProposalRow): Proposal {
  const ev = JSON.parse(r.evaluation_json) as Proposal['evaluation'] & { better: Proposal['better'] };
  const { better, ...evaluation } = ev;
  return {
    id: r.id, model: r.model_name, championVersion: r.champion_version, status: r.status, trigger: r.trigger, triggerDetail: r.trigger_detail,
    dir: path.join(store.home, r.dir), card: JSON.parse(r.card_json) as Card, modelSha256: r.model_sha256, metric: r.metric,
    championScore: r.champion_score, challengerScore: r.challenger_score, better, decision: r.decision, evaluation,
    data: JSON.parse(r.data_json) as Proposal['data'], createdAt: r.created_at, activatedVersion: r.activated_version, activatedAt: r.activated_at,
  };
}

export function listProposals(store: Store, model?: string): Proposal[] {
  const rows = (model === undefined
    ? store.db.prepare('SELECT * FROM proposals ORDER BY created_at DESC, id').all()
    : store.db.prepare('SELECT * FROM proposals WHERE model_name = ? ORDER BY created_at DESC, id').all(model)) as ProposalRow[];
  return rows.map((r) => toProposal(store, r));
}

export function getProposal(store: Store, id: string): Proposal {
  const r = store.db.prepare('SELECT * FROM proposals WHERE id = ?').get(id) as ProposalRow | undefined;
  if (!r) throw new OutpostError('not-found', `no proposal "${id}" (outpost proposals list shows them)`);
  return toProposal(store, r);
}

/**
 * Install a proposal's challenger as a local, unsigned version (the next free version number of the
 * model) and make it active; recorded as a model event and on the proposal. A challenger the
 * evaluation did not find better needs `force`.
 */
export function activateProposal(store: Store, id: string, opts: { force?: boolean; now?: number } = {}): { proposal: Proposal; installed: InstalledModel } {
  const p = getProposal(store, id);
  if (p.status === 'activated') throw new OutpostError('conflict', `proposal ${id} was already activated as ${p.model}@${p.activatedVersion}`);
  if (p.status === 'dismissed') throw new OutpostError('conflict', `proposal ${id} was dismissed`);
  if (p.better !== 'challenger' && !opts.force) throw new OutpostError('usage', `the champion ${p.model}@${p.championVersion} did as well or better on the held-out rows (${p.decision}); pass --force to activate the challenger anyway`);
  // the package must be what was evaluated
  const bytes = fs.readFileSync(path.join(p.dir, 'model.onnx'));
  if (crypto.createHash('sha256').update(bytes).digest('hex') !== p.modelSha256) throw new OutpostError('package', `the proposal's model.onnx in ${p.dir} was modified since it was evaluated; refusing to install it`, { file: path.join(p.dir, 'model.onnx') });
  const versions = store.db.prepare('SELECT max(version) AS v FROM models WHERE name = ?').get(p.model) as { v: number | null };
  const version = (versions.v ?? p.championVersion) + 1;
  const staged = path.join(store.home, 'proposals', `.activate-${id}-${process.pid}`);
  fs.rmSync(staged, { recursive: true, force: true });
  writePackage(staged, bytes, { ...p.card, version });
  let installed: InstalledModel;
  try {
    installed = installPackage(store, loadPackage(staged), { source: 'local', allowUnsigned: true, origin: `proposal ${id} (retrained from ${p.model}@${p.championVersion})`, activate: true });
  } finally {
    fs.rmSync(staged, { recursive: true, force: true });
  }
  const now = opts.now ?? Date.now();
  store.db.transaction(() => {
    store.db.prepare("UPDATE proposals SET status = 'activated', activated_version = ?, activated_at = ? WHERE id = ?").run(version, now, id);
    recordModelEvent(store, p.model, version, 'proposal-activated', `local unsigned version from proposal ${id}: ${p.decision}`);
  })();
  return { proposal: getProposal(store, id), installed };
}

export function dismissProposal(store: Store, id: string): Proposal {
  const p = getProposal(store, id);
  if (p.status !== 'proposed') throw new OutpostError('conflict', `proposal ${id} is ${p.status}`);
  store.db.prepare("UPDATE proposals SET status = 'dismissed' WHERE id = ?").run(id);
  fs.rmSync(p.dir, { recursive: true, force: true });
  return getProposal(store, id);
}
