// Issue 2's throughput targets on a 1M-row × 20-float CSV and a small MLP:
//   end-to-end rows/s (≥ 1M/s), end-to-end ÷ reader-only (≥ 0.8), reader ÷ minimal float parser
//   (≥ 0.8), logging on ÷ logging off (≥ 0.9). Each figure is the median of several runs.
import fs from 'node:fs';
import path from 'node:path';
import { scanFloats } from '../../src/io/common/floatscan.ts';
import { openSource } from '../../src/io/node/open.ts';
import { scoreFile } from '../../src/scoring/node/score-file.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore } from '../../src/store/node/store.ts';
import { buildSyntheticMlp } from '../../src/train/common/index.ts';
import { floatCsv, perSecond, tempHome, time } from '../lib.ts';

export async function run(opts: { rows: number; runs: number }) {
  const FEATURES = 20;
  const file = floatCsv(opts.rows, FEATURES);
  const bytes = fs.statSync(file).size;
  const home = tempHome();
  const store = openStore(home);
  try {
    const { bytes: model, card } = buildSyntheticMlp({ features: FEATURES, hidden: 16, classes: 2, seed: 1 });
    const pkg = path.join(home, 'pkg');
    fs.mkdirSync(pkg);
    fs.writeFileSync(path.join(pkg, 'model.onnx'), model);
    fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify({ ...card, name: 'bench-mlp' }));
    installPackage(store, pkg, { source: 'local', allowUnsigned: true });

    // Baseline: the least work that turns the same bytes into doubles, reading the file the way the
    // reader does (4 MiB chunks into a reused buffer; a line cut by a chunk end carries over).
    const minimal = await time(opts.runs, async () => {
      const fh = await fs.promises.open(file);
      const buf = Buffer.allocUnsafe(4 << 20);
      let carry = 0;
      let first = true;
      let fields = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, carry, buf.length - carry, null);
        const end = carry + bytesRead;
        if (end === 0) break;
        const lastNl = bytesRead === 0 ? end - 1 : buf.lastIndexOf(10, end - 1);
        fields += scanFloats(buf.subarray(0, lastNl + 1), 0x2c, first).fields;
        first = false;
        carry = end - (lastNl + 1);
        buf.copy(buf, 0, lastNl + 1, end);
        if (bytesRead === 0) break;
      }
      await fh.close();
      if (fields !== opts.rows * FEATURES) throw new Error(`minimal parser saw ${fields} fields`);
    });
    const reader = await time(opts.runs, async () => {
      const src = await openSource(file);
      let n = 0;
      for await (const b of src.batches(card.inputs.map((f) => ({ name: f.name, kind: 'number' as const })), { batchRows: 8192 })) n += b.length;
      await src.close();
      if (n !== opts.rows) throw new Error(`reader saw ${n} rows`);
    });
    const score = (log: boolean) => time(opts.runs, async () => {
      const out = path.join(home, `out-${log}.csv`);
      const r = await scoreFile(store, { input: file, model: 'bench-mlp', out, logPredictions: log });
      if (r.job.rowsScored !== opts.rows) throw new Error(`scored ${r.job.rowsScored}`);
      fs.rmSync(out);
    });
    const logOff = await score(false);
    const logOn = await score(true);

    const rps = {
      minimalParser: perSecond(opts.rows, minimal),
      reader: perSecond(opts.rows, reader),
      endToEndLogOff: perSecond(opts.rows, logOff),
      endToEndLogOn: perSecond(opts.rows, logOn),
    };
    return {
      input: { rows: opts.rows, features: FEATURES, bytes, model: 'MLP 20-16-2 (tanh), float32' },
      rowsPerSecond: rps,
      mbPerSecond: { minimalParser: bytes / 1e6 / (minimal.medianMs / 1000), reader: bytes / 1e6 / (reader.medianMs / 1000) },
      ratios: {
        endToEndOverReader: rps.endToEndLogOn / rps.reader,
        readerOverMinimalParser: rps.reader / rps.minimalParser,
        loggingOnOverOff: rps.endToEndLogOn / rps.endToEndLogOff,
      },
      targets: {
        endToEndRowsPerSecond: { target: 1_000_000, met: rps.endToEndLogOn >= 1_000_000 },
        endToEndOverReader: { target: 0.8, met: rps.endToEndLogOn / rps.reader >= 0.8 },
        readerOverMinimalParser: { target: 0.8, met: rps.reader / rps.minimalParser >= 0.8 },
        loggingOnOverOff: { target: 0.9, met: rps.endToEndLogOn / rps.endToEndLogOff >= 0.9 },
      },
      runsMs: { minimal: minimal.runsMs, reader: reader.runsMs, logOff: logOff.runsMs, logOn: logOn.runsMs },
    };
  } finally {
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
