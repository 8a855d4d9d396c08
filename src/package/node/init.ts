// `outpost models init`: make a package folder from a model exported elsewhere and a data sample.
// Profiles the sample in one streaming pass (two when some columns are text), guesses the card
// (src/package/common/infer-card.ts), writes model.onnx (the exported bytes, untouched) and
// card.json, checks them as `models add` would, then computes the drift baseline from the sample
// with the same code as `outpost baseline`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { CellStatus, type ColumnRequest, type InputFormat } from '../../io/common/table.ts';
import { openSource } from '../../io/node/open.ts';
import { computePackageBaseline, writeCardBaseline } from '../../monitor/node/baseline-file.ts';
import { inspectModel } from '../../onnx/common/onnx.ts';
import type { Card } from '../common/card.ts';
import { inferCard, MAX_DISTINCT, type ColumnProfile, type InitResult } from '../common/infer-card.ts';
import { CARD_FILE, loadPackage, MODEL_FILE } from './load.ts';

export interface InitOptions {
  model: string;
  sample: string;
  out: string;
  name: string;
  version?: number;
  target?: string;
  features?: string[];
  classes?: string[];
  ignore?: string[];
  format?: InputFormat;
  delimiter?: string;
  /** replace an existing card.json / model.onnx in `out` */
  force?: boolean;
  signal?: AbortSignal;
}

export interface InitOutcome extends InitResult {
  dir: string;
  card: Card;
  sampleRows: number;
  baselineRows: number;
  baselineRejected: number;
}

const BATCH_ROWS = 16384;

/** One pass per kind over the sample: numeric stats for every column, distinct texts where needed. */
async function profileSample(file: string, opts: Pick<InitOptions, 'format' | 'delimiter' | 'signal' | 'target'>): Promise<{ profiles: ColumnProfile[]; rows: number; sha256: string }> {
  const readOpts = { ...(opts.format ? { format: opts.format } : {}), ...(opts.delimiter ? { delimiter: opts.delimiter } : {}) };
  let source = await openSource(file, readOpts);
  const names = [...source.columns];
  const profiles: ColumnProfile[] = names.map((name) => ({ name, rows: 0, missing: 0, nonNumeric: 0, min: Infinity, max: -Infinity, integers: true }));
  let rows = 0;
  try {
    const req: ColumnRequest[] = names.map((name) => ({ name, kind: 'number' }));
    for await (const b of source.batches(req, { batchRows: BATCH_ROWS, ...(opts.signal ? { signal: opts.signal } : {}) })) {
      const p0 = b.rowProblems[0];
      if (p0) throw new OutpostError('input', `the sample must be readable throughout: ${p0.reason}`, { file, row: p0.row, ...(p0.field ? { field: p0.field } : {}) });
      rows += b.length;
      b.columns.forEach((col, c) => {
        if (col.kind !== 'number') return;
        const p = profiles[c];
        p.rows += b.length;
        for (let i = 0; i < b.length; i++) {
          const s = col.status[i];
          if (s === CellStatus.missing) p.missing++;
          else if (s === CellStatus.unparsable) {
            if (p.nonNumeric++ === 0) p.firstNonNumeric = { row: b.firstRow + i, text: col.bad?.get(i) ?? '' };
          } else {
            const v = col.values[i];
            if (v < p.min) p.min = v;
            if (v > p.max) p.max = v;
            if (!Number.isInteger(v)) p.integers = false;
          }
        }
      });
    }
  } finally {
    await source.close();
  }
  if (rows === 0) throw new OutpostError('input', 'the sample has no data rows: a card cannot be guessed from a header', { file });
  // text columns (and the target: class names) get their distinct values
  const text = profiles.filter((p) => p.nonNumeric > 0 || p.name === opts.target);
  if (text.length) {
    source = await openSource(file, readOpts);
    const seen = text.map(() => new Set<string>());
    try {
      for await (const b of source.batches(text.map((p) => ({ name: p.name, kind: 'string' as const })), { batchRows: BATCH_ROWS, ...(opts.signal ? { signal: opts.signal } : {}) })) {
        b.columns.forEach((col, c) => {
          if (col.kind !== 'string' || seen[c].size > MAX_DISTINCT) return;
          for (const v of col.values) if (v !== null && v !== '') seen[c].add(v);
        });
      }
    } finally {
      await source.close();
    }
    text.forEach((p, c) => { if (seen[c].size <= MAX_DISTINCT) p.distinct = [...seen[c]]; });
  }
  const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  return { profiles, rows, sha256 };
}

export async function initPackage(o: InitOptions): Promise<InitOutcome> {
  const modelFile = path.resolve(o.model);
  const sample = path.resolve(o.sample);
  const dir = path.resolve(o.out);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(modelFile);
  } catch (e) {
    throw new OutpostError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not-found' : 'package', `cannot read the model: ${(e as Error).message}`, { file: modelFile });
  }
  let graph;
  try {
    graph = inspectModel(bytes);
  } catch (e) {
    throw new OutpostError('package', `not a readable ONNX model: ${(e as Error).message}`, { file: modelFile });
  }
  if (graph.initializers.some((t) => t.external)) throw new OutpostError('package', 'the model keeps weights in external data files; save it as one file (onnx.save_model(m, f, save_as_external_data=False))', { file: modelFile });
  const existing = [MODEL_FILE, CARD_FILE].filter((f) => fs.existsSync(path.join(dir, f)));
  if (existing.length && !o.force) throw new OutpostError('conflict', `${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''} in the output folder; choose another --out or pass --force`, { file: dir });

  const { profiles, rows, sha256 } = await profileSample(sample, o);
  const guess = inferCard(graph, profiles, {
    name: o.name, version: o.version ?? 1, sampleFile: sample, sampleRows: rows, sampleSha256: sha256, modelFile,
    ...(o.target !== undefined ? { target: o.target } : {}), ...(o.features ? { features: o.features } : {}),
    ...(o.classes ? { classes: o.classes } : {}), ...(o.ignore ? { ignore: o.ignore } : {}),
  });

  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, MODEL_FILE), bytes);
  fs.writeFileSync(path.join(dir, CARD_FILE), JSON.stringify(guess.card, null, 2) + '\n');
  loadPackage(dir); // exactly the checks `models add` runs: a card we cannot install is our bug, said here
  const b = await computePackageBaseline({ packageDir: dir, reference: sample, ...(o.format ? { format: o.format } : {}), ...(o.delimiter ? { delimiter: o.delimiter } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  const card = writeCardBaseline(b.cardFile, b.baseline);
  return { ...guess, card, dir, sampleRows: rows, baselineRows: b.rowsUsed, baselineRejected: b.rowsRejected };
}
