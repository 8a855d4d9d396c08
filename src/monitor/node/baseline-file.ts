// `outpost baseline`: compute a package's drift baseline from a reference data file and write it
// into the package's card.json atomically. Rows are validated exactly as scoring validates them
// (invalid rows are left out and reported); the outputs are the package's own graph run by ONNX
// Runtime on the accepted rows, so prediction drift compares the same computation.
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import type { Baseline, BaselineColumn } from '../../drift/common/index.ts';
import { InferenceEngine, intraOpThreadsHere } from '../../inference/node/engine.ts';
import { adaptModel } from '../../onnx/common/adapt.ts';
import type { InputFormat } from '../../io/common/table.ts';
import { openSource } from '../../io/node/open.ts';
import { parseCard, type Card } from '../../package/common/card.ts';
import { CARD_FILE, loadPackage } from '../../package/node/load.ts';
import { readOutputs, type ScoredColumns } from '../../scoring/common/outputs.ts';
import { columnRequests, validateBatch, type Reject } from '../../scoring/common/validate.ts';
import { showWritten } from '../../scoring/node/written-rejects.ts';
import { escapeControls } from '../../io/common/control-chars.ts';
import { acceptedBooleans, acceptedNumbers, acceptedStrings } from '../common/collect.ts';
import { modelMonitoring, monitoredFeatures } from '../common/features.ts';
import { computeModelBaseline } from '../common/model-baseline.ts';

export interface BaselineRequest {
  packageDir: string;
  reference: string;
  format?: InputFormat;
  delimiter?: string;
  /** refuse the file when more than this share of its rows is invalid (default 0.2, as scoring) */
  maxRejectRate?: number;
  signal?: AbortSignal;
}

export interface BaselineResult {
  cardFile: string;
  baseline: Baseline;
  rowsRead: number;
  rowsUsed: number;
  rowsRejected: number;
  /** the first few rejects (row, column, reason) */
  rejects: Reject[];
}

const MAX_LISTED_REJECTS = 5;
const BATCH_ROWS = 8192;

/** Accepted rows of the reference file, column by column, and the model's outputs on them. */
interface Collected { numbers: Map<string, { values: Float64Array[]; status: Uint8Array[] }>; strings: Map<string, (string | null)[]>; outputs: { labels: Int32Array[]; probabilities: Float64Array[][]; value: Float64Array[] } }

export async function computePackageBaseline(req: BaselineRequest): Promise<BaselineResult> {
  const pkg = loadPackage(req.packageDir); // refuses an invalid card or a card/graph mismatch
  const card = pkg.card;
  try {
    monitoredFeatures(card);
  } catch (e) {
    throw new OutpostError('package', (e as Error).message, { file: path.join(pkg.dir, CARD_FILE) });
  }
  const source = await openSource(path.resolve(req.reference), { ...(req.format ? { format: req.format } : {}), ...(req.delimiter ? { delimiter: req.delimiter } : {}) });
  const file = source.path;
  const missing = card.inputs.map((f) => f.name).filter((n) => !source.columns.includes(n));
  if (missing.length) {
    await source.close();
    throw new OutpostError('input', `missing required column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (the file has: ${source.columns.map(escapeControls).join(', ')})`, { file });
  }
  const engine = await InferenceEngine.open(adaptModel(pkg.modelBytes, pkg.graph).bytes, { ep: 'cpu', intraOpThreads: intraOpThreadsHere(pkg.graph) }).catch(async (e: unknown) => { await source.close(); throw e; });
  const graphTypes = new Map(pkg.graph.inputs.map((i) => [i.name, i.type]));
  const graphRanks = new Map(pkg.graph.inputs.map((i) => [i.name, i.shape.length]));
  const got: Collected = { numbers: new Map(), strings: new Map(), outputs: { labels: [], probabilities: [], value: [] } };
  let rowsRead = 0;
  let rowsRejected = 0;
  const rejects: Reject[] = [];
  try {
    for await (const batch of source.batches(columnRequests(card.inputs), { batchRows: BATCH_ROWS, ...(req.signal ? { signal: req.signal } : {}) })) {
      const v = validateBatch(batch, card.inputs, graphTypes, graphRanks, card.tensors);
      rowsRead += batch.length;
      rowsRejected += v.rejectedRows;
      const listed = v.rejects.slice(0, MAX_LISTED_REJECTS - rejects.length);
      await showWritten(source, batch, listed); // a listed number as written in the file
      rejects.push(...listed);
      const m = v.accepted.length;
      if (m === 0) continue;
      card.inputs.forEach((f, c) => {
        const col = batch.columns[c];
        if (f.type === 'category') {
          if (col.kind !== 'string') return;
          const list = got.strings.get(f.name) ?? [];
          for (const s of acceptedStrings(col, v.accepted)) list.push(s);
          got.strings.set(f.name, list);
          return;
        }
        const values = new Float64Array(m);
        const status = new Uint8Array(m);
        if (col.kind === 'number') acceptedNumbers(col, v.accepted, values, status);
        else acceptedBooleans(col, v.accepted, values, status);
        const acc = got.numbers.get(f.name) ?? { values: [], status: [] };
        acc.values.push(values);
        acc.status.push(status);
        got.numbers.set(f.name, acc);
      });
      addOutputs(got, readOutputs(card, await engine.run(v.feeds, { transferInputs: true }), m));
    }
    if (req.signal?.aborted) throw new OutpostError('cancelled', 'cancelled; the card was not changed');
  } finally {
    await engine.close();
    await source.close();
  }
  const maxRate = req.maxRejectRate ?? 0.2;
  const rowsUsed = rowsRead - rowsRejected;
  const first = rejects[0];
  if (rowsUsed === 0) throw new OutpostError('input', `no valid rows to compute a baseline from (${rowsRead} read${first ? `; first problem: row ${first.row}${first.column ? `, column "${first.column}"` : ''}: ${first.reason}` : ''})`, { file });
  if (rowsRejected / rowsRead > maxRate) {
    throw new OutpostError('reject-rate', `${rowsRejected} of ${rowsRead} rows are invalid (limit ${(maxRate * 100).toFixed(1)}%); first: row ${first.row}${first.column ? `, column "${first.column}"` : ''}: ${first.reason}`, { file, row: first.row, ...(first.column ? { field: first.column } : {}) });
  }
  const inputs: Record<string, BaselineColumn> = {};
  for (const f of card.inputs) {
    const n = got.numbers.get(f.name);
    inputs[f.name] = n ? { values: concat(n.values, Float64Array), status: concat(n.status, Uint8Array) } : (got.strings.get(f.name) ?? []);
  }
  const o = got.outputs;
  const scored: ScoredColumns = card.task === 'regression'
    ? { value: concat(o.value, Float64Array) }
    : { labelCodes: concat(o.labels, Int32Array), ...(card.outputs.probabilities ? { probabilities: o.probabilities.map((chunks) => concat(chunks, Float64Array)) } : {}) };
  const baseline = computeModelBaseline(card, inputs, scored);
  return { cardFile: path.join(pkg.dir, CARD_FILE), baseline, rowsRead, rowsUsed, rowsRejected, rejects };
}

function addOutputs(got: Collected, s: ScoredColumns): void {
  if (s.labelCodes) got.outputs.labels.push(s.labelCodes);
  s.probabilities?.forEach((p, c) => (got.outputs.probabilities[c] ??= []).push(Float64Array.from(p)));
  if (s.value) got.outputs.value.push(Float64Array.from(s.value));
}

function concat<T extends Float64Array | Uint8Array | Int32Array>(chunks: readonly T[], Kind: { new (n: number): T }): T {
  const out = new Kind(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { out.set(c as never, at); at += c.length; }
  return out;
}

/**
 * Put `baseline` into the package's card.json, keeping everything else as written, after checking
 * that the resulting card is valid and its drift settings fit the baseline. Atomic: a temp file in
 * the same folder, flushed, then renamed over the card.
 */
export function writeCardBaseline(cardFile: string, baseline: Baseline): Card {
  const raw = JSON.parse(fs.readFileSync(cardFile, 'utf8')) as Record<string, unknown>;
  const next = { ...raw, baseline };
  const parsed = parseCard(next);
  if (!parsed.ok) throw new OutpostError('package', `the card would be invalid: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { file: cardFile });
  const m = modelMonitoring(parsed.card);
  if (m.status !== 'ok') throw new OutpostError('package', m.status === 'invalid' ? `the card's drift settings do not fit the new baseline: ${m.problems.join('; ')}` : m.reason, { file: cardFile });
  const tmp = `${cardFile}.tmp-${process.pid}`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, JSON.stringify(next, null, 2) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, cardFile);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new OutpostError('package', `cannot write the card: ${(e as Error).message}`, { file: cardFile });
  }
  return parsed.card;
}
