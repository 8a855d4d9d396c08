import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scoreFile } from '../../scoring/node/score-file.ts';
import { installPackage } from '../../store/node/models.ts';
import { openStore } from '../../store/node/store.ts';
import type { CommandSpec } from '../command.ts';
import { progressReporter } from '../progress.ts';
import { reportJob } from './score.ts';

const DEMO_DIR = fileURLToPath(new URL('../../../models/demo/', import.meta.url));
export const DEMO_PACKAGE = path.join(DEMO_DIR, 'weather');
export const DEMO_SAMPLE = path.join(DEMO_DIR, 'weather-2015.csv');

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'Install the bundled demo model and score a real held-out sample with it',
  usage: 'outpost demo [--home DIR]',
  async run(ctx) {
    const store = openStore(ctx.home);
    const bar = progressReporter(ctx);
    try {
      const model = installPackage(store, DEMO_PACKAGE, { source: 'local', allowUnsigned: true, origin: 'bundled demo package' });
      ctx.out.text(`Demo model ${model.name}@${model.version}: ${model.card.description ?? model.card.task} (bundled, unsigned local package)`);
      const outDir = path.join(ctx.home, 'demo');
      fs.mkdirSync(outDir, { recursive: true });
      const result = await scoreFile(store, {
        input: DEMO_SAMPLE,
        model: `${model.name}@${model.version}`,
        out: path.join(outDir, 'weather-2015.scored.csv'),
        idColumn: 'date',
      }, { signal: ctx.signal, onProgress: (p) => bar.update(p) });
      bar.done();
      ctx.out.text(`Input: ${DEMO_SAMPLE} (real Seattle weather, 2015, held out from training)`);
      reportJob(ctx, result);
      return 0;
    } finally {
      bar.done();
      store.close();
    }
  },
};
