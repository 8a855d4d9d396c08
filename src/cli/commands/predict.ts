import { usageError } from '../../common/errors.ts';
import { RecordScorer, type Prediction } from '../../scoring/node/predict.ts';
import { getModelForScoring } from '../../store/node/checked-card.ts';
import { getSettings, openStore } from '../../store/node/store.ts';
import { str, type CommandContext, type CommandSpec } from '../command.ts';

const EPS = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'];

function print(ctx: CommandContext, p: Prediction): void {
  ctx.out.json(p);
  if (!p.ok) {
    ctx.out.text(`line ${p.line}: rejected: ${p.errors.map((e) => (e.field ? `${e.field}: ${e.reason}` : e.reason)).join('; ')}`);
  } else if (p.value !== undefined) {
    ctx.out.text(`value=${p.value}`);
  } else {
    ctx.out.text([`label=${p.label}`, ...Object.entries(p.probabilities ?? {}).map(([c, v]) => `p_${c}=${v}`)].join(' '));
  }
}

export const predictCommand: CommandSpec = {
  name: 'predict',
  summary: 'Score single records (a JSON object, or JSON Lines on stdin) with an installed model, offline; logged like a scoring job',
  usage: 'outpost predict --model <name>[@<version>] --input \'{"field": value, …}\'  |  --input - (JSON Lines on stdin)',
  help: [
    '--model REF          installed model, <name> (active version) or <name>@<version>',
    '--input JSON|-       one record as a JSON object, or - to read JSON Lines from stdin (one result line per record)',
    '--ep EP              execution provider: auto, cpu, cuda, webgpu, dml, coreml (default: settings, auto)',
  ],
  options: { model: { type: 'string' }, input: { type: 'string' }, ep: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(ctx, args) {
    const model = str(args, 'model');
    const input = str(args, 'input');
    const ep = str(args, 'ep');
    if (!model) throw usageError('--model is required (see `outpost models list`)');
    if (input === undefined) throw usageError('--input is required: a JSON object, or - for JSON Lines on stdin');
    if (ep !== undefined && !EPS.includes(ep)) throw usageError(`--ep must be one of ${EPS.join(', ')} (got "${ep}")`);
    const store = openStore(ctx.home);
    try {
      const warn = (line: string) => ctx.out.warn(`outpost predict: warning: ${line}`);
      const scorer = await RecordScorer.open(store, await getModelForScoring(store, model), ep ?? getSettings(store).provider, { onWarning: warn });
      // logged like a scoring job, in today's record session of the CLI (see src/scoring/node/predict.ts)
      const predict = async (text: string, line: number): Promise<Prediction> => ({ line, ...(await scorer.score([{ text }], 'cli'))[0] });
      let failed = 0;
      try {
        if (input !== '-') {
          const p = await predict(input, 1);
          print(ctx, p);
          failed += p.ok ? 0 : 1;
        } else {
          let line = 0;
          for await (const text of stdinLines()) {
            line++;
            if (text !== undefined && text.trim() === '') continue; // blank lines are not records (as in JSONL files)
            const p: Prediction = text === undefined ? { line, ok: false, errors: [{ field: '', reason: 'invalid UTF-8 (a record is UTF-8 text)', value: '' }] } : await predict(text, line);
            print(ctx, p);
            failed += p.ok ? 0 : 1;
          }
        }
      } finally {
        await scorer.close();
      }
      if (failed) ctx.out.warn(`outpost predict: ${failed} record${failed === 1 ? '' : 's'} failed validation`);
      return failed ? 1 : 0;
    } finally {
      store.close();
    }
  },
};

/**
 * Standard input's lines as a JSONL file reads them: a UTF-8 byte order mark at the start is
 * dropped, CRLF ends a line like LF, and a line that is not valid UTF-8 is undefined (reported as
 * such) rather than read with U+FFFD in place of its bad bytes.
 */
async function* stdinLines(): AsyncGenerator<string | undefined> {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pending: Buffer = Buffer.alloc(0);
  let first = true;
  const decode = (bytes: Buffer): string | undefined => {
    let b = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
    if (first && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
    first = false;
    try {
      return utf8.decode(b);
    } catch {
      return undefined;
    }
  };
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    for (let nl = pending.indexOf(0x0a); nl >= 0; nl = pending.indexOf(0x0a, at)) {
      yield decode(pending.subarray(at, nl));
      at = nl + 1;
    }
    pending = pending.subarray(at);
  }
  if (pending.length) yield decode(pending);
}
