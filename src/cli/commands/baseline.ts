// `outpost baseline <reference-file> --package <dir>`: compute the drift baseline (inputs and the
// model's outputs) from reference data and write it into the package's card, before it is signed.
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import { referenceStats, type BaselineFeature } from '../../drift/common/index.ts';
import type { InputFormat } from '../../io/common/table.ts';
import { num } from '../../monitor/common/render.ts';
import { computePackageBaseline, writeCardBaseline } from '../../monitor/node/baseline-file.ts';
import { str, type CommandSpec } from '../command.ts';

const FORMATS = ['csv', 'jsonl', 'parquet'] as const;

interface FeatureSummary {
  name: string;
  kind: 'numeric' | 'categorical';
  rows: number;
  n: number;
  missing: number;
  numeric?: { min: number | null; mean: number | null; std: number | null; max: number | null; edges: number; exact: boolean };
  categories?: Record<string, number>;
}

function summarise(f: BaselineFeature): FeatureSummary {
  const s = referenceStats(f);
  const base = { name: f.name, kind: f.kind, rows: s.rows, n: s.n, missing: s.rows - s.n };
  if (s.kind === 'categorical') return { ...base, categories: Object.fromEntries([...s.vocabulary.values.map((v, i) => [v, s.counts[i]]), ...(s.other ? [['(other)', s.other]] : [])]) };
  const some = s.n > 0;
  return { ...base, numeric: { min: some ? s.min : null, mean: some ? s.mean : null, std: some ? s.std : null, max: some ? s.max : null, edges: f.kind === 'numeric' ? f.binning.edges.length : 0, exact: f.kind === 'numeric' && f.binning.exact } };
}

export const baselineCommand: CommandSpec = {
  name: 'baseline',
  summary: 'Compute a package\'s drift baseline from reference data and write it into its card',
  usage: 'outpost baseline <reference-data-file> --package <package-dir> [options]',
  help: [
    '--package DIR        the model package folder (model.onnx + card.json) whose card gets the baseline',
    '--input-format F     read the reference file as csv, jsonl or parquet whatever its extension',
    '--delimiter D        CSV field delimiter (default ","; "\\t" for tab)',
    '--max-reject-rate R  refuse the file when more than this fraction of rows is invalid (default 0.2)',
    'Rows are validated against the card as scoring does; invalid rows are left out and listed.',
    'The baseline covers every input and the model\'s outputs (run with ONNX Runtime on the reference rows).',
  ],
  options: { package: { type: 'string' }, 'input-format': { type: 'string' }, delimiter: { type: 'string' }, 'max-reject-rate': { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const pkg = str(args, 'package');
    if (!pkg) throw usageError('--package is required: the model package folder whose card gets the baseline');
    const format = str(args, 'input-format');
    if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) throw usageError(`--input-format must be one of ${FORMATS.join(', ')} (got "${format}")`);
    const delimiter = str(args, 'delimiter');
    if (delimiter !== undefined && delimiter !== '\\t' && delimiter.length !== 1) throw usageError('--delimiter must be a single character (or \\t)');
    const rateText = str(args, 'max-reject-rate');
    const maxRejectRate = rateText === undefined ? undefined : Number(rateText);
    if (maxRejectRate !== undefined && (rateText!.trim() === '' || !(maxRejectRate >= 0 && maxRejectRate <= 1))) throw usageError(`--max-reject-rate must be a fraction from 0 to 1 (got "${rateText}")`);

    const r = await computePackageBaseline({
      packageDir: path.resolve(ctx.cwd, pkg),
      reference: path.resolve(ctx.cwd, args.positionals[0]),
      ...(format ? { format: format as InputFormat } : {}),
      ...(delimiter !== undefined ? { delimiter: delimiter === '\\t' ? '\t' : delimiter } : {}),
      ...(maxRejectRate !== undefined ? { maxRejectRate } : {}),
      signal: ctx.signal,
    });
    const card = writeCardBaseline(r.cardFile, r.baseline);
    const features = r.baseline.features.map(summarise);
    ctx.out.json({ ok: true, card: r.cardFile, model: `${card.name}@${card.version}`, rowsRead: r.rowsRead, rowsUsed: r.rowsUsed, rowsRejected: r.rowsRejected, rejects: r.rejects, features });

    ctx.out.text(`Baseline for ${card.name}@${card.version}: ${r.rowsUsed.toLocaleString('en-US')} reference rows used, ${r.rowsRejected.toLocaleString('en-US')} invalid row${r.rowsRejected === 1 ? '' : 's'} left out`);
    for (const j of r.rejects) ctx.out.text(`  row ${j.row}${j.column ? `, ${j.column}` : ''}: ${j.reason}`);
    const width = Math.max(...features.map((f) => f.name.length));
    for (const f of features) {
      const head = `  ${f.name.padEnd(width)}  ${f.kind.padEnd(11)}  n ${String(f.n).padStart(7)}  missing ${String(f.missing).padStart(5)}`;
      if (f.numeric) {
        const x = f.numeric;
        ctx.out.text(`${head}  min ${num(x.min)}  mean ${num(x.mean)}  std ${num(x.std)}  max ${num(x.max)}  (${x.edges} bin edges${x.exact ? ', one per distinct value' : ''})`);
      } else ctx.out.text(`${head}  ${Object.entries(f.categories ?? {}).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
    }
    ctx.out.text(`Wrote the baseline into ${r.cardFile}`);
    return 0;
  },
};
