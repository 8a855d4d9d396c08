// Ground truth: `outpost labels add`. A label file (CSV, JSONL or Parquet, read with the scoring
// readers) gives an id and the true class (or value) per row; each is joined to the predictions the
// model logged under that id (`score --id`). Nothing is dropped silently: every row ends up joined or
// counted under a reason, and every row that did not join is listed in an issues CSV in the data
// folder. Rules:
// - invalid rows (no id, no label, a class the model does not know, a number that does not parse,
//   a row the reader could not read) are counted and listed;
// - the same id twice in the file with the same label: the first counts, the repeat is a duplicate;
//   with different labels: a conflict — none of them is stored (the file does not say which is right);
// - an id already labelled for a version: the same label is a duplicate (nothing changes); a
//   different one is a conflict that keeps the stored label unless `replace`;
// - an id with no logged prediction (never scored with an id, or removed by retention) is unknown;
// - a label arriving more than `lateAfterDays` after its prediction was logged is late: it is joined
//   (and counts in the window of its prediction) and counted as late;
// - an id scored several times by the same version joins its latest prediction (counted as rescored);
//   importing the same label again after the id was scored again moves it to that prediction (rejoined).
// Each (model version, id) holds one label; labels for several versions of a model join each.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { csvQuote } from '../../io/common/csv-encode.ts';
import { openSource, type OpenSourceOptions } from '../../io/node/open.ts';
import type { InputFormat } from '../../io/common/table.ts';
import { unpackColumns } from '../../store/common/packing.ts';
import { getModel, parseModelRef } from '../../store/node/models.ts';
import { enqueue } from '../../store/node/outbox.ts';
import { LABELS_PER_ITEM } from '../../sync/common/items.ts';
import { DIR_MODE, FILE_MODE } from '../../store/node/permissions.ts';
import type { Store } from '../../store/node/store.ts';

export const DEFAULT_LATE_AFTER_DAYS = 7;

export interface AddLabelsRequest {
  file: string;
  /** model name (labels join every logged version of it) */
  model: string;
  idColumn: string;
  labelColumn: string;
  format?: InputFormat;
  delimiter?: string;
  /** a label for an already labelled id replaces the stored one (otherwise kept, counted as a conflict) */
  replace?: boolean;
  lateAfterDays?: number;
  now?: number;
}

export type IssueReason = 'invalid' | 'duplicate-in-file' | 'conflict-in-file' | 'already-labelled' | 'conflict-with-stored' | 'unknown-id';

export interface LabelIssue { row: number; id: string | null; reason: IssueReason; detail: string }

export interface LabelImportSummary {
  importId: number;
  model: string;
  file: string;
  rows: number;
  /** labels stored (one per model version and id; replaced ones included) */
  joined: number;
  /** distinct ids that found a prediction */
  idsJoined: number;
  /** joined labels that arrived more than lateAfterDays after their prediction */
  late: number;
  lateAfterDays: number;
  /** stored labels this import replaced (replace) */
  replaced: number;
  /** stored labels (same truth) moved to a newer prediction of the same id (scored again since) */
  rejoined: number;
  duplicatesInFile: number;
  conflictsInFile: number;
  alreadyLabelled: number;
  conflictsWithStored: number;
  unknown: number;
  invalid: number;
  /** ids scored more than once by the same version: the latest prediction was joined */
  rescored: number;
  /** versions that got labels, with how many */
  byVersion: Record<string, number>;
  /** jobs of this model whose predictions carry no id (scored without --id): they cannot be joined */
  jobsWithoutIds: number;
  issuesPath: string | null;
  /** a few issues per reason, for the report */
  examples: LabelIssue[];
}

interface FileLabel { row: number; truth: string; value: number | null }

interface Match {
  version: number;
  jobId: string;
  row: number;
  loggedAt: number;
  predicted: string | null;
  scores: number[] | null;
  value: number | null;
  times: number;
}

const MAX_EXAMPLES_PER_REASON = 5;

export async function addLabels(store: Store, req: AddLabelsRequest): Promise<LabelImportSummary> {
  const now = req.now ?? Date.now();
  const lateAfterDays = req.lateAfterDays ?? DEFAULT_LATE_AFTER_DAYS;
  const { name, version: refVersion } = parseModelRef(req.model);
  if (refVersion !== undefined) throw new OutpostError('usage', `labels join every version of a model: give the name only ("${name}", not "${req.model}")`);
  const model = getModel(store, name); // the active version's card says the task and classes
  const card = model.card;
  const regression = card.task === 'regression';
  const classes = card.outputs.classes ?? [];
  const classSet = new Set(classes);
  if (req.idColumn === req.labelColumn) throw new OutpostError('usage', `--id and --label name the same column "${req.idColumn}"`);

  // 1. read the file: id → label (first occurrence), with every problem listed
  const issues: LabelIssue[] = [];
  const fileLabels = new Map<string, FileLabel>();
  const conflicted = new Set<string>();
  let rows = 0;
  const abs = path.resolve(req.file);
  const sourceOpts: OpenSourceOptions = {};
  if (req.format !== undefined) sourceOpts.format = req.format;
  if (req.delimiter !== undefined) sourceOpts.delimiter = req.delimiter;
  const source = await openSource(abs, sourceOpts);
  try {
    const missing = [req.idColumn, req.labelColumn].filter((c) => !source.columns.includes(c));
    if (missing.length) throw new OutpostError('input', `no column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(' and ')} in the label file (it has: ${source.columns.join(', ')})`, { file: abs, field: missing[0] });
    for await (const batch of source.batches([{ name: req.idColumn, kind: 'string' }, { name: req.labelColumn, kind: regression ? 'number' : 'string' }], { batchRows: 65_536 })) {
      const idCol = batch.columns[0];
      const labelCol = batch.columns[1];
      const bad = new Map(batch.rowProblems.map((p) => [p.row, p]));
      for (let i = 0; i < batch.length; i++) {
        const row = batch.firstRow + i;
        rows++;
        const problem = bad.get(row);
        if (problem) { issues.push({ row, id: null, reason: 'invalid', detail: `${problem.field ? `column "${problem.field}": ` : ''}${problem.reason}` }); continue; }
        const id = idCol.kind === 'string' ? idCol.values[i] : null;
        if (id === null || id === '') { issues.push({ row, id: null, reason: 'invalid', detail: `column "${req.idColumn}": missing id` }); continue; }
        let label: FileLabel;
        if (labelCol.kind === 'number') {
          if (labelCol.status[i] === 1) { issues.push({ row, id, reason: 'invalid', detail: `column "${req.labelColumn}": missing label` }); continue; }
          if (labelCol.status[i] !== 0 || !Number.isFinite(labelCol.values[i])) {
            issues.push({ row, id, reason: 'invalid', detail: `column "${req.labelColumn}": not a number: ${JSON.stringify(labelCol.bad?.get(i) ?? String(labelCol.values[i]))}` });
            continue;
          }
          label = { row, truth: String(labelCol.values[i]), value: labelCol.values[i] };
        } else {
          const t = labelCol.kind === 'string' ? labelCol.values[i] : null;
          if (t === null || t === '') { issues.push({ row, id, reason: 'invalid', detail: `column "${req.labelColumn}": missing label` }); continue; }
          if (!classSet.has(t)) { issues.push({ row, id, reason: 'invalid', detail: `column "${req.labelColumn}": "${t}" is not a class of ${name} (classes: ${classes.join(', ')})` }); continue; }
          label = { row, truth: t, value: null };
        }
        const prev = fileLabels.get(id);
        if (!prev) { fileLabels.set(id, label); continue; }
        if (prev.truth === label.truth) issues.push({ row, id, reason: 'duplicate-in-file', detail: `same label as row ${prev.row}` });
        else {
          if (!conflicted.has(id)) issues.push({ row: prev.row, id, reason: 'conflict-in-file', detail: `"${prev.truth}" here, "${label.truth}" at row ${row}: neither is stored` });
          issues.push({ row, id, reason: 'conflict-in-file', detail: `"${label.truth}" here, "${prev.truth}" at row ${prev.row}: neither is stored` });
          conflicted.add(id);
        }
      }
    }
  } finally {
    await source.close();
  }
  if (rows === 0) throw new OutpostError('input', 'the label file has no rows', { file: abs });
  for (const id of conflicted) fileLabels.delete(id);

  // 2. join: every logged prediction of the model carrying one of these ids; per version the latest
  const matches = new Map<string, Map<number, Match>>(); // id → version → match
  let jobsWithoutIds = 0;
  let rescored = 0;
  const jobsSeen = new Map<string, boolean>();
  const batches = store.db.prepare('SELECT job_id, model_version, first_row, row_count, logged_at, outputs FROM prediction_batches WHERE model_name = ? ORDER BY logged_at, job_id, seq')
    .iterate(name) as IterableIterator<{ job_id: string; model_version: number; first_row: number; row_count: number; logged_at: number; outputs: Buffer }>;
  for (const b of batches) {
    const cols = unpackColumns(b.outputs);
    const ids = cols.find((c) => c.name === 'id');
    if (!jobsSeen.has(b.job_id)) jobsSeen.set(b.job_id, ids !== undefined);
    if (!ids || ids.type !== 'str') continue;
    const rowCol = cols.find((c) => c.name === '#row');
    const labelCol = cols.find((c) => c.name === 'label');
    const valueCol = cols.find((c) => c.name === 'value');
    const probCols = classes.map((c) => cols.find((x) => x.name === `p_${c}`));
    const haveProbs = probCols.every((c) => c !== undefined);
    for (let i = 0; i < b.row_count; i++) {
      const id = ids.values[i];
      if (id === null || !fileLabels.has(id)) continue;
      let perVersion = matches.get(id);
      if (!perVersion) matches.set(id, (perVersion = new Map()));
      const prev = perVersion.get(b.model_version);
      if (prev) rescored++;
      perVersion.set(b.model_version, {
        version: b.model_version, jobId: b.job_id, row: rowCol ? Number(rowCol.values[i]) : b.first_row + i, loggedAt: b.logged_at,
        predicted: labelCol ? (labelCol.values[i] as string | null) : null,
        scores: haveProbs ? probCols.map((c) => Number(c!.values[i])) : null,
        value: valueCol ? Number(valueCol.values[i]) : null,
        times: (prev?.times ?? 0) + 1,
      });
    }
  }
  for (const has of jobsSeen.values()) if (!has) jobsWithoutIds++;
  const anyIds = [...jobsSeen.values()].some(Boolean);
  if (!anyIds) {
    throw new OutpostError('input', jobsSeen.size
      ? `no prediction of ${name} was logged with an id (${jobsSeen.size} job${jobsSeen.size > 1 ? 's' : ''} scored without --id): score with --id COL so labels can be joined by that column`
      : `${name} has no logged predictions to join labels to (score a file with --id COL first)`, { file: abs });
  }

  // 3. store, in one transaction with the import record
  const summary: LabelImportSummary = {
    importId: 0, model: name, file: abs, rows, joined: 0, idsJoined: 0, late: 0, lateAfterDays, replaced: 0, rejoined: 0,
    duplicatesInFile: 0, conflictsInFile: 0, alreadyLabelled: 0, conflictsWithStored: 0, unknown: 0, invalid: 0, rescored,
    byVersion: {}, jobsWithoutIds, issuesPath: null, examples: [],
  };
  const lateMs = lateAfterDays * 86_400_000;
  const sha = await fileSha256(abs);
  store.db.transaction(() => {
    const imp = store.db.prepare('INSERT INTO label_imports (model_name, at, file, file_sha256, id_column, label_column, summary_json) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(name, now, abs, sha, req.idColumn, req.labelColumn, '{}');
    const importId = Number(imp.lastInsertRowid);
    summary.importId = importId;
    const existing = store.db.prepare('SELECT truth, predicted_at FROM labels WHERE model_name = ? AND model_version = ? AND id = ?');
    const put = store.db.prepare(`INSERT INTO labels (model_name, model_version, id, job_id, row, predicted_at, truth, truth_value, predicted, scores_json, predicted_value, late, import_id, labelled_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (model_name, model_version, id) DO UPDATE SET job_id = excluded.job_id, row = excluded.row, predicted_at = excluded.predicted_at, truth = excluded.truth,
        truth_value = excluded.truth_value, predicted = excluded.predicted, scores_json = excluded.scores_json, predicted_value = excluded.predicted_value,
        late = excluded.late, import_id = excluded.import_id, labelled_at = excluded.labelled_at`);
    for (const [id, label] of fileLabels) {
      const perVersion = matches.get(id);
      if (!perVersion) { issues.push({ row: label.row, id, reason: 'unknown-id', detail: `no logged prediction of ${name} has this id` }); continue; }
      let joinedHere = false;
      for (const m of [...perVersion.values()].sort((a, b) => a.version - b.version)) {
        const stored = existing.get(name, m.version, id) as { truth: string; predicted_at: number } | undefined;
        if (stored && stored.truth === label.truth) {
          if (m.loggedAt > stored.predicted_at) {
            // the id was scored again since: the label follows its latest prediction (counted)
            put.run(name, m.version, id, m.jobId, m.row, m.loggedAt, label.truth, label.value, m.predicted, m.scores ? JSON.stringify(m.scores) : null, m.value, now - m.loggedAt > lateMs ? 1 : 0, importId, now);
            summary.rejoined++;
            continue;
          }
          issues.push({ row: label.row, id, reason: 'already-labelled', detail: `${name}@${m.version} already has this label` });
          continue;
        }
        if (stored && !req.replace) { issues.push({ row: label.row, id, reason: 'conflict-with-stored', detail: `${name}@${m.version} has "${stored.truth}" stored; kept (--replace to replace)` }); continue; }
        const late = now - m.loggedAt > lateMs;
        put.run(name, m.version, id, m.jobId, m.row, m.loggedAt, label.truth, label.value, m.predicted, m.scores ? JSON.stringify(m.scores) : null, m.value, late ? 1 : 0, importId, now);
        if (stored) summary.replaced++;
        if (late) summary.late++;
        summary.joined++;
        summary.byVersion[String(m.version)] = (summary.byVersion[String(m.version)] ?? 0) + 1;
        joinedHere = true;
      }
      if (joinedHere) summary.idsJoined++;
    }
    for (const i of issues) {
      switch (i.reason) {
        case 'invalid': summary.invalid++; break;
        case 'duplicate-in-file': summary.duplicatesInFile++; break;
        case 'conflict-in-file': summary.conflictsInFile++; break;
        case 'already-labelled': summary.alreadyLabelled++; break;
        case 'conflict-with-stored': summary.conflictsWithStored++; break;
        case 'unknown-id': summary.unknown++; break;
      }
    }
    if (issues.length) {
      summary.issuesPath = writeIssues(store, importId, issues);
      store.db.prepare('UPDATE label_imports SET issues_path = ? WHERE id = ?').run(path.relative(store.home, summary.issuesPath), importId);
    }
    const perReason = new Map<string, number>();
    for (const i of issues) {
      const n = perReason.get(i.reason) ?? 0;
      if (n < MAX_EXAMPLES_PER_REASON) summary.examples.push(i);
      perReason.set(i.reason, n + 1);
    }
    const { examples: _e, ...counts } = summary;
    store.db.prepare('UPDATE label_imports SET summary_json = ? WHERE id = ?').run(JSON.stringify(counts), importId);
    queueLabels(store, name, importId, now);
  })();
  return summary;
}

/**
 * The rows this import wrote or replaced, as `labels` outbox items (in the import's transaction, so
 * they go to the hub exactly once with the import; nothing is queued when not connected).
 */
function queueLabels(store: Store, model: string, importId: number, now: number): void {
  const rows = store.db.prepare('SELECT model_version, id, job_id, row, predicted_at, truth, truth_value, predicted, scores_json, predicted_value, late, labelled_at FROM labels WHERE model_name = ? AND import_id = ? ORDER BY predicted_at, id')
    .all(model, importId) as { model_version: number; id: string; job_id: string; row: number; predicted_at: number; truth: string; truth_value: number | null; predicted: string | null; scores_json: string | null; predicted_value: number | null; late: number; labelled_at: number }[];
  const parts = Math.ceil(rows.length / LABELS_PER_ITEM);
  for (let part = 0; part < parts; part++) {
    const chunk = rows.slice(part * LABELS_PER_ITEM, (part + 1) * LABELS_PER_ITEM);
    enqueue(store, 'labels', {
      model, importId, part, parts,
      labels: chunk.map((r) => ({
        version: r.model_version, id: r.id, jobId: r.job_id, row: r.row, predictedAt: r.predicted_at, truth: r.truth, truthValue: r.truth_value, predicted: r.predicted,
        predictedValue: r.predicted_value, scores: r.scores_json ? JSON.parse(r.scores_json) as (number | null)[] : null, late: r.late === 1, labelledAt: r.labelled_at,
      })),
    }, { rows: chunk.length, at: now });
  }
}

function writeIssues(store: Store, importId: number, issues: LabelIssue[]): string {
  const dir = path.join(store.home, 'labels');
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const file = path.join(dir, `import-${importId}-issues.csv`);
  const sorted = [...issues].sort((a, b) => a.row - b.row);
  const lines = ['row,id,reason,detail', ...sorted.map((i) => [String(i.row), csvQuote(i.id ?? '', ','), i.reason, csvQuote(i.detail, ',')].join(','))];
  const tmp = `${file}.part`;
  fs.writeFileSync(tmp, lines.join('\n') + '\n', { mode: FILE_MODE });
  fs.renameSync(tmp, file);
  return file;
}

async function fileSha256(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface LabelImportRecord { id: number; model: string; at: number; file: string; summary: Omit<LabelImportSummary, 'examples'>; issuesPath: string | null }

export function listLabelImports(store: Store, model?: string, limit = 50): LabelImportRecord[] {
  const rows = (model === undefined
    ? store.db.prepare('SELECT * FROM label_imports ORDER BY id DESC LIMIT ?').all(limit)
    : store.db.prepare('SELECT * FROM label_imports WHERE model_name = ? ORDER BY id DESC LIMIT ?').all(model, limit)) as { id: number; model_name: string; at: number; file: string; summary_json: string; issues_path: string | null }[];
  return rows.map((r) => ({ id: r.id, model: r.model_name, at: r.at, file: r.file, summary: JSON.parse(r.summary_json) as LabelImportRecord['summary'], issuesPath: r.issues_path && path.join(store.home, r.issues_path) }));
}
