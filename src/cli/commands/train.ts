// `outpost train <file> --target COL --name NAME [...]`: train a model from a data file and write a
// model package (model.onnx with the preprocessing inside, card.json with schema, metrics, drift
// baseline and lineage). Reading and fitting run on a worker thread; Ctrl-C stops it and nothing is
// written (the package folder appears only complete, by rename).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError, usageError } from '../../common/errors.ts';
import type { InputFormat } from '../../io/common/table.ts';
import type { InputField } from '../../package/common/card.ts';
import { InputFieldSchema } from '../../package/common/card.ts';
import { isProviderRequest, providerNames, type ProviderRequest } from '../../inference/common/providers.ts';
import type { Algo } from '../../train/common/learner.ts';
import type { Split, TrainRecipe } from '../../train/common/pipeline.ts';
import type { Task } from '../../train/common/model.ts';
import { trainFile, writePackage, type TrainFileEvent } from '../../train/node/train-file.ts';
import { flag, str, type CommandSpec } from '../command.ts';
import { formatDuration } from '../progress.ts';

const ALGOS = ['logreg', 'mlp', 'gbdt', 'auto'] as const;
const TASKS = ['binary', 'multiclass', 'regression'] as const;
const FORMATS = ['csv', 'jsonl', 'parquet'] as const;

const list = (v: string | undefined): string[] | undefined => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== ''));

function readTemplate(file: string): InputField[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new OutpostError('input', `cannot read the schema template: ${(e as Error).message}`, { file });
  }
  const inputs = Array.isArray(raw) ? raw : (raw as { inputs?: unknown })?.inputs;
  if (!Array.isArray(inputs)) throw new OutpostError('input', 'a schema template is a card (with "inputs") or an array of input fields', { file });
  return inputs.map((f, i) => {
    const p = InputFieldSchema.safeParse(f);
    if (!p.success) throw new OutpostError('input', `input ${i + 1}: ${p.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`, { file });
    return p.data;
  });
}

function metricText(m: Record<string, number>): string {
  return Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ');
}

export const trainCommand: CommandSpec = {
  name: 'train',
  summary: 'Train a model from a CSV, JSONL or Parquet file and write a model package',
  usage: 'outpost train <file> --target COL --name NAME [options]',
  help: [
    '--target COL         the column to predict (text or two values: a classifier; numbers: regression)',
    '--name NAME          model name for the card (lower-case letters, digits, . _ -)',
    '--features a,b,c     feature columns (default: every column but the target and the time column)',
    '--categorical a,b    read these columns as categories even where every value is a number',
    '--algo A             logreg | mlp | gbdt | auto (default gbdt; auto fits each and keeps the best validation loss)',
    '--task T             binary | multiclass | regression (default: from the target)',
    '--time-col COL       split by time: rows with COL ≥ --valid-from validate, earlier rows train',
    '--valid-from T       the first validation time (an ISO date/time, or a number for a numeric column)',
    '--valid-frac F       otherwise: a seeded random fraction of rows validates (default 0.2)',
    '--ep P               logreg/mlp: train with ONNX Runtime graph steps on auto | cpu | cuda | webgpu | dml | coreml (auto probes like scoring); default: the TypeScript trainer on CPU',
    '--threads N          gbdt: threads building histograms (default: the available cores, one under 20,000 rows; 1 = no extra threads); the model is the same for any N',
    '--seed N             seed of every random choice (default 1): same data + seed → same model.onnx',
    '--params JSON        algorithm settings, e.g. \'{"gbdt":{"maxIter":300,"learningRate":0.05}}\'',
    '--schema FILE        input-schema template (a card.json or an array of inputs) overriding what is inferred',
    '--version N          version number on the card (default 1)',
    '--description TEXT   description on the card',
    '--out DIR            package folder to write (default ./NAME); refused if it exists unless --force',
    '--force              replace an existing --out folder',
    '--input-format F     csv | jsonl | parquet whatever the extension',
    '--delimiter D        CSV delimiter (default ","; "\\t" for tab)',
  ],
  options: {
    target: { type: 'string' }, name: { type: 'string' }, features: { type: 'string' }, categorical: { type: 'string' },
    algo: { type: 'string' }, task: { type: 'string' }, 'time-col': { type: 'string' }, 'valid-from': { type: 'string' },
    'valid-frac': { type: 'string' }, seed: { type: 'string' }, params: { type: 'string' }, schema: { type: 'string' },
    version: { type: 'string' }, description: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' },
    'input-format': { type: 'string' }, delimiter: { type: 'string' }, ep: { type: 'string' },
    threads: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const target = str(args, 'target');
    if (!target) throw usageError('--target is required: the column to predict');
    const name = str(args, 'name');
    if (!name) throw usageError('--name is required: the model\'s name on its card');
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw usageError(`--name "${name}": lower-case letters, digits, ".", "_" or "-", starting with a letter or digit, at most 64`);
    const algo = str(args, 'algo') ?? 'gbdt';
    if (!(ALGOS as readonly string[]).includes(algo)) throw usageError(`--algo must be one of ${ALGOS.join(', ')} (got "${algo}")`);
    const task = str(args, 'task');
    if (task !== undefined && !(TASKS as readonly string[]).includes(task)) throw usageError(`--task must be one of ${TASKS.join(', ')} (got "${task}")`);
    const format = str(args, 'input-format');
    if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) throw usageError(`--input-format must be one of ${FORMATS.join(', ')} (got "${format}")`);
    const seedText = str(args, 'seed') ?? '1';
    const seed = Number(seedText);
    if (!/^-?\d+$/.test(seedText) || !Number.isSafeInteger(seed)) throw usageError(`--seed must be an integer (got "${seedText}")`);
    const versionText = str(args, 'version') ?? '1';
    const version = Number(versionText);
    if (!/^\d+$/.test(versionText) || !(version >= 1) || !Number.isSafeInteger(version)) throw usageError(`--version must be a positive integer (got "${versionText}")`);
    const timeCol = str(args, 'time-col');
    const validFrom = str(args, 'valid-from');
    const fracText = str(args, 'valid-frac');
    let split: Split;
    if (timeCol !== undefined || validFrom !== undefined) {
      if (timeCol === undefined || validFrom === undefined) throw usageError('--time-col and --valid-from go together');
      if (fracText !== undefined) throw usageError('give either --time-col/--valid-from or --valid-frac, not both');
      split = { kind: 'time', column: timeCol, validFrom };
    } else {
      const fraction = Number(fracText ?? '0.2');
      if (!(fraction > 0 && fraction < 1)) throw usageError(`--valid-frac must be a fraction between 0 and 1 (got "${fracText}")`);
      split = { kind: 'fraction', fraction };
    }
    let params: TrainRecipe['params'];
    const paramsText = str(args, 'params');
    if (paramsText !== undefined) {
      try { params = JSON.parse(paramsText) as TrainRecipe['params']; } catch (e) { throw usageError(`--params is not JSON: ${(e as Error).message}`); }
      if (typeof params !== 'object' || params === null || Array.isArray(params)) throw usageError('--params is a JSON object keyed by algorithm, e.g. {"gbdt":{"maxIter":300}}');
      for (const k of Object.keys(params)) if (!(ALGOS as readonly string[]).includes(k) || k === 'auto') throw usageError(`--params: unknown algorithm "${k}"`);
    }
    const schemaFile = str(args, 'schema');
    const schema = schemaFile === undefined ? undefined : readTemplate(path.resolve(ctx.cwd, schemaFile));
    const delimiter = str(args, 'delimiter');
    const ep = str(args, 'ep');
    if (ep !== undefined && !isProviderRequest(ep)) throw usageError(`--ep must be one of auto, ${providerNames.join(', ')} (got "${ep}")`);
    const threadsText = str(args, 'threads');
    const threads = threadsText === undefined ? undefined : Number(threadsText);
    if (threadsText !== undefined && (!/^\d+$/.test(threadsText) || !(threads! >= 1 && threads! <= 256))) throw usageError(`--threads must be an integer from 1 to 256 (got "${threadsText}")`);
    const file = path.resolve(ctx.cwd, args.positionals[0]);
    const out = path.resolve(ctx.cwd, str(args, 'out') ?? name);
    const force = flag(args, 'force');
    if (fs.existsSync(out) && !force) throw new OutpostError('conflict', `${out} already exists (choose another --out, or pass --force to replace it)`, { file: out });
    const description = str(args, 'description');

    const recipe: TrainRecipe = {
      target,
      features: list(str(args, 'features')) ?? [],
      ...(task ? { task: task as Task } : {}),
      algo: algo as Algo | 'auto',
      split,
      seed,
      ...(params ? { params } : {}),
      ...(schema ? { schema } : {}),
    };
    const started = performance.now();
    let line = false;
    const status = (text: string) => {
      if (!ctx.interactive) return;
      process.stderr.write(`\r${text}\x1b[K`);
      line = true;
    };
    const endLine = () => { if (line) process.stderr.write('\r\x1b[K'); line = false; };
    const onEvent = (e: TrainFileEvent) => {
      ctx.out.event({ ...e });
      if (ctx.json) return;
      if (e.event === 'read') status(`reading ${path.basename(file)}: ${e.rows.toLocaleString('en-US')} rows (${Math.round(e.fraction * 100)} %)`);
      else if (e.event === 'step') {
        const losses = [e.trainLoss !== undefined ? `train loss ${e.trainLoss.toFixed(4)}` : '', e.validLoss !== undefined ? `validation loss ${e.validLoss.toFixed(4)}` : ''].filter(Boolean).join(', ');
        status(`${e.algo}: ${e.unit} ${e.step}/${e.of}  ${losses}  ${formatDuration((performance.now() - started) / 1000)}`);
      } else if (e.event === 'stage') { endLine(); ctx.out.text(e.message); } else if (e.event === 'candidate') { endLine(); ctx.out.text(`${e.algo}: ${metricText(e.metrics)} (fit ${e.fitSeconds.toFixed(1)} s)`); }
    };
    const result = await trainFile({
      file,
      ...(format ? { format: format as InputFormat } : {}),
      ...(delimiter !== undefined ? { delimiter: delimiter === '\\t' ? '\t' : delimiter } : {}),
      recipe,
      ...(ep !== undefined ? { ep: ep as ProviderRequest } : {}),
      ...(threads !== undefined ? { threads } : {}),
      ...(list(str(args, 'categorical')) ? { categorical: list(str(args, 'categorical'))! } : {}),
      info: { name, version, ...(description !== undefined ? { description } : {}), createdAt: new Date().toISOString() },
    }, { onEvent, signal: ctx.signal }).finally(endLine);
    if (ctx.signal.aborted) throw new OutpostError('cancelled', 'training cancelled: nothing written');
    writePackage(out, result.modelBytes, result.card, { replace: force });
    const modelSha256 = createHash('sha256').update(result.modelBytes).digest('hex');
    for (const w of result.warnings) ctx.out.warn(`warning: ${w}`);
    ctx.out.json({
      ok: true, package: out, name, version, algo: result.algo, task: result.task, metrics: result.metrics,
      candidates: result.candidates, trainRows: result.trainRows, validRows: result.validRows, rowsRead: result.rowsRead,
      dataSha256: result.sha256, modelSha256, warnings: result.warnings, seconds: (performance.now() - started) / 1000,
    });
    if (result.candidates.length > 1) ctx.out.text(`best on validation: ${result.algo}`);
    ctx.out.text(`Wrote ${out} (${name}@${version}, ${result.algo}, ${result.task}): validation ${metricText(result.metrics)}`);
    ctx.out.text(`Install it with: outpost models add ${path.relative(ctx.cwd, out) || '.'} --allow-unsigned`);
    return 0;
  },
};
