// `outpost models init <model.onnx> --sample data.csv --name N --out DIR`: a package folder from a
// model exported by scikit-learn (skl2onnx) or PyTorch (torch.onnx.export) and a sample of its data.
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import type { InputFormat } from '../../io/common/table.ts';
import { initPackage } from '../../package/node/init.ts';
import { flag, str, type CommandSpec } from '../command.ts';

const FORMATS = ['csv', 'jsonl', 'parquet'] as const;
const names = (s: string | undefined): string[] | undefined => (s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean));

export const modelsInitCommand: CommandSpec = {
  name: 'models init',
  summary: 'Make a model package from an exported ONNX model (scikit-learn, PyTorch) and a data sample',
  usage: 'outpost models init <model.onnx> --sample <data-file> --name <name> --out <dir> [options]',
  help: [
    '--sample FILE        data the model was trained on (or like it): CSV, JSONL or Parquet, with a header',
    '--name N             model name (lower-case letters, digits, ".", "_", "-")',
    '--out DIR            the package folder to write (model.onnx + card.json)',
    '--version V          integer version (default 1)',
    '--target COL         the sample\'s label / value column: left out of the features; class names for a',
    '                     classifier whose graph records none (PyTorch)',
    '--features a,b,c     sample columns feeding the graph\'s [N, F] input, in training order (default: the',
    '                     sample\'s columns in file order, numeric ones when that count fits)',
    '--ignore a,b         sample columns that are not features (ids, dates)',
    '--classes a,b,c      class names in output-column order, for a classifier whose graph records none',
    '--input-format F     read the sample as csv, jsonl or parquet whatever its extension',
    '--delimiter D        CSV delimiter (default ","; "\\t" for tab)',
    '--force              overwrite model.onnx / card.json already in --out',
    'The card is guessed from the graph\'s inputs and outputs and the sample: types, nullable, ranges with',
    'a margin, vocabularies, class names from the graph\'s labels (ZipMap, classifier nodes). A drift',
    'baseline from the sample is written into it. Read what it prints under "Check", then:',
    '  outpost models add <dir> --allow-unsigned     (or outpost publish <dir> …)',
  ],
  options: {
    sample: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' }, version: { type: 'string' }, target: { type: 'string' },
    features: { type: 'string' }, ignore: { type: 'string' }, classes: { type: 'string' }, 'input-format': { type: 'string' }, delimiter: { type: 'string' }, force: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const sample = str(args, 'sample');
    const name = str(args, 'name');
    const out = str(args, 'out');
    if (!sample) throw usageError('--sample is required: a data file with the model\'s features (and ideally its target)');
    if (!name) throw usageError('--name is required: the model name for the card');
    if (!out) throw usageError('--out is required: the package folder to write');
    const versionText = str(args, 'version');
    const version = versionText === undefined ? 1 : Number(versionText);
    if (!Number.isSafeInteger(version) || version < 1) throw usageError(`--version must be a positive integer (got "${versionText}")`);
    const format = str(args, 'input-format');
    if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) throw usageError(`--input-format must be one of ${FORMATS.join(', ')} (got "${format}")`);
    const delimiter = str(args, 'delimiter');
    if (delimiter !== undefined && delimiter !== '\\t' && delimiter.length !== 1) throw usageError('--delimiter must be a single character (or \\t)');
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw usageError(`--name "${name}": lower-case letters, digits, ".", "_" or "-", starting with a letter or digit, at most 64`);

    const r = await initPackage({
      model: path.resolve(ctx.cwd, args.positionals[0]), sample: path.resolve(ctx.cwd, sample), out: path.resolve(ctx.cwd, out), name, version,
      ...(str(args, 'target') !== undefined ? { target: str(args, 'target') } : {}),
      ...(names(str(args, 'features')) ? { features: names(str(args, 'features')) } : {}),
      ...(names(str(args, 'ignore')) ? { ignore: names(str(args, 'ignore')) } : {}),
      ...(names(str(args, 'classes')) ? { classes: names(str(args, 'classes')) } : {}),
      ...(format ? { format: format as InputFormat } : {}),
      ...(delimiter !== undefined ? { delimiter: delimiter === '\\t' ? '\t' : delimiter } : {}),
      force: flag(args, 'force'), signal: ctx.signal,
    });
    ctx.out.json({ ok: true, dir: r.dir, model: `${r.card.name}@${r.card.version}`, task: r.card.task, inputs: r.card.inputs.map((f) => f.name), tensors: r.card.tensors ?? [], outputs: r.card.outputs, sampleRows: r.sampleRows, baselineRows: r.baselineRows, guessed: r.guessed, check: r.check });
    ctx.out.text(`Wrote ${r.card.name}@${r.card.version} (${r.card.task}, ${r.card.inputs.length} inputs) to ${r.dir}`);
    ctx.out.text('Guessed:');
    for (const g of r.guessed) ctx.out.text(`  ${g}`);
    ctx.out.text(`  drift baseline: ${r.baselineRows.toLocaleString('en-US')} sample rows${r.baselineRejected ? ` (${r.baselineRejected} invalid left out)` : ''}`);
    ctx.out.text('Check (edit card.json where it is wrong):');
    for (const c of r.check) ctx.out.text(`  - ${c}`);
    const rel = path.relative(ctx.cwd, r.dir);
    ctx.out.text(`Then: outpost models add ${rel && !rel.startsWith('..') ? rel : r.dir} --allow-unsigned`);
    return 0;
  },
};
