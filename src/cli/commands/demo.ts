import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutpostError } from '../../common/errors.ts';
import { scoreFile } from '../../scoring/node/score-file.ts';
import { runEmbeddedDemoHub } from '../../registry/node/embedded-hub.ts';
import { openStore } from '../../store/node/store.ts';
import type { CommandSpec } from '../command.ts';
import { progressReporter } from '../progress.ts';
import { reportJob } from './score.ts';

const DEMO_DIR = fileURLToPath(new URL('../../../models/demo/', import.meta.url));
export const DEMO_PACKAGE = path.join(DEMO_DIR, 'weather');
export const DEMO_SAMPLE = path.join(DEMO_DIR, 'weather-2015.csv');

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'Install the bundled demo model through a throw-away signed hub and score a real sample',
  usage: 'outpost demo [--home DIR] [--degradation [--rows-per-month N]]',
  help: [
    '--degradation        instead: the model-degradation experiment on real flights (train on January 2001,',
    '                     score February–June, performance per month from joined labels, alerts, a retrained',
    '                     challenger vs the champion); use a fresh --home',
    '--rows-per-month N   flights per month in the degradation experiment (default 20000)',
  ],
  options: { degradation: { type: 'boolean' }, 'rows-per-month': { type: 'string' } },
  async run(ctx, args) {
    if (args.values.degradation === true) return (await import('./demo-degradation.ts')).degradationCommandRun(ctx, typeof args.values['rows-per-month'] === 'string' ? args.values['rows-per-month'] : undefined);
    if (args.values['rows-per-month'] !== undefined) throw new OutpostError('usage', '--rows-per-month goes with --degradation');
    const store = openStore(ctx.home);
    const bar = progressReporter(ctx);
    try {
      // The same path as production: publish signed to a hub (a throw-away one on loopback), then pull
      // through TUF verification into the store. Never an unsigned install.
      const hub = await runEmbeddedDemoHub({ packageDir: DEMO_PACKAGE, home: ctx.home, store, signal: ctx.signal, log: (line) => ctx.out.text(`  ${line}`) });
      const { model } = hub;
      ctx.out.text(`Demo model ${model.name}@${model.version}: ${model.card.task}, signed by ${hub.signedBy}`);
      const outDir = path.join(ctx.home, 'demo');
      fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
      const result = await scoreFile(store, {
        input: DEMO_SAMPLE,
        model: `${model.name}@${model.version}`,
        out: path.join(outDir, 'weather-2015.scored.csv'),
        idColumn: 'date',
      }, { signal: ctx.signal, onProgress: (p) => bar.update(p) });
      bar.done();
      ctx.out.text(`Input: ${DEMO_SAMPLE} (real Seattle weather, 2015, held out from training)`);
      reportJob(ctx, result);
      ctx.out.text(`Next: npx outpost drift ${model.name} --job ${result.job.id}   (how 2015 compares with the 2012–2014 baseline; --html drift.html for a report to open in a browser)`);
      return 0;
    } finally {
      bar.done();
      store.close();
    }
  },
};
