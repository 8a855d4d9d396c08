// Scoring real Parquet (vega-datasets flights-3m: 3M flights, ZSTD) against a plain full read of
// the same file with the same library (hyparquet, every column, every row group).
import fs from 'node:fs';
import path from 'node:path';
import { parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { openSource } from '../../src/io/node/open.ts';
import { scoreFile } from '../../src/scoring/node/score-file.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore } from '../../src/store/node/store.ts';
import { buildCard, exportOnnx, trainModel } from '../../src/train/common/index.ts';
import { perSecond, REPO, tempHome, time } from '../lib.ts';

const FILE = path.join(REPO, 'node_modules/vega-datasets/data/flights-3m.parquet');

/** A small real model on flight data: P(delay > 15 min) from distance and origin airport. */
async function trainFlightModel(): Promise<{ bytes: Uint8Array; card: ReturnType<typeof buildCard> }> {
  const src = await openSource(FILE);
  const distance: number[] = [];
  const origin: (string | null)[] = [];
  const late: string[] = [];
  const vocab = new Set<string>();
  let seen = 0;
  for await (const b of src.batches([{ name: 'distance', kind: 'number' }, { name: 'origin', kind: 'string' }, { name: 'delay', kind: 'number' }], { batchRows: 65536 })) {
    const [d, o, del] = b.columns as unknown as [{ values: Float64Array }, { values: (string | null)[] }, { values: Float64Array }];
    for (let i = 0; i < b.length; i++, seen++) {
      vocab.add(o.values[i] ?? '');
      if (seen % 100 === 0) { // a 1 % sample trains the model; the vocabulary covers every row
        distance.push(d.values[i]);
        origin.push(o.values[i]);
        late.push(del.values[i] > 15 ? 'late' : 'on-time');
      }
    }
  }
  await src.close();
  const model = trainModel({
    task: 'binary',
    features: [{ name: 'distance', type: 'int', range: { min: 0, max: 10000 } }, { name: 'origin', type: 'category', vocabulary: [...vocab].sort() }],
    data: { rows: distance.length, columns: { distance, origin, late } },
    target: 'late',
    classes: ['on-time', 'late'],
    options: { hidden: 0, activation: 'tanh', epochs: 2, batchSize: 256, learningRate: 0.01, l2: 0, seed: 1 },
  });
  return { bytes: exportOnnx(model), card: buildCard(model, { name: 'flight-delay', version: 1 }) };
}

export async function run(opts: { runs: number }) {
  const meta = await parquetMetadataAsync(toArrayBuffer(fs.readFileSync(FILE)));
  const rows = Number(meta.num_rows);
  const plain = await time(opts.runs, async () => {
    const file = toArrayBuffer(await fs.promises.readFile(FILE));
    let n = 0;
    for (let g = 0, start = 0; g < meta.row_groups.length; g++) {
      const end = start + Number(meta.row_groups[g].num_rows);
      await parquetRead({ file, metadata: meta, rowStart: start, rowEnd: end, compressors, onChunk: (c) => { if (c.columnName === 'delay') n += c.columnData.length; } });
      start = end;
    }
    if (n !== rows) throw new Error(`plain read saw ${n} rows`);
  });
  const home = tempHome();
  const store = openStore(home);
  try {
    const { bytes, card } = await trainFlightModel();
    const pkg = path.join(home, 'pkg');
    fs.mkdirSync(pkg);
    fs.writeFileSync(path.join(pkg, 'model.onnx'), bytes);
    fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify(card));
    installPackage(store, pkg, { source: 'local', allowUnsigned: true });
    const scored = await time(opts.runs, async () => {
      const out = path.join(home, 'flights.scored.parquet');
      const r = await scoreFile(store, { input: FILE, model: 'flight-delay', out });
      if (r.job.rowsScored !== rows) throw new Error(`scored ${r.job.rowsScored} of ${rows}`);
      fs.rmSync(out);
    });
    const rps = { plainFullRead: perSecond(rows, plain), scoreEndToEnd: perSecond(rows, scored) };
    return { file: 'vega-datasets flights-3m.parquet (ZSTD)', rows, rowGroups: meta.row_groups.length, model: 'logistic regression: distance + one-hot origin', rowsPerSecond: rps, ratio: { scoreOverPlainRead: rps.scoreEndToEnd / rps.plainFullRead }, runsMs: { plain: plain.runsMs, scored: scored.runsMs } };
  } finally {
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
