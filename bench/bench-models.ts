// The throughput case's MLP (20 floats → 32 tanh → 2 classes, seed 1) installed for the A/B tools
// (compare-trees, compare-drift-checkpoint): with a drift baseline from the throughput case's
// reference file, or (`baseline: false`) the same network without one.
import fs from 'node:fs';
import path from 'node:path';
import { computePackageBaseline, writeCardBaseline } from '../src/monitor/node/baseline-file.ts';
import { installPackage } from '../src/store/node/models.ts';
import type { Store } from '../src/store/node/store.ts';
import { buildSyntheticMlp } from '../src/train/common/index.ts';
import { floatCsv } from './lib.ts';

/** Install the MLP as `name` (its package folder under `home`). */
export async function installBenchMlp(store: Store, home: string, name: string, opts: { baseline: boolean }): Promise<void> {
  const { bytes, card } = buildSyntheticMlp({ features: 20, hidden: 32, classes: 2, seed: 1 });
  const dir = path.join(home, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'model.onnx'), bytes);
  fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify({ ...card, name }));
  if (opts.baseline) {
    const { baseline, cardFile } = await computePackageBaseline({ packageDir: dir, reference: floatCsv(50_000, 20, 11) });
    writeCardBaseline(cardFile, baseline);
  }
  installPackage(store, dir, { source: 'local', allowUnsigned: true });
}
