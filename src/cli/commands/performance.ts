// `outpost performance <model>[@<version>]`: metrics from joined ground truth per window, with
// sample sizes and 95 % intervals (methods in src/monitor/common/performance.ts), the card's bound
// and the performance alerts. A report: exit 0 whether or not the bound is broken; 1 without labels.
import { usageError } from '../../common/errors.ts';
import type { MetricValue } from '../../monitor/common/performance.ts';
import { performanceForModel, type PerformanceScope, type PerformanceWindow } from '../../monitor/node/performance.ts';
import { openStore } from '../../store/node/store.ts';
import { str, type CommandSpec } from '../command.ts';
import { alertText } from './labels.ts';

const SCOPES: readonly PerformanceScope[] = ['day', 'hour', 'job'];

const fmt = (m: MetricValue | undefined): string => {
  if (!m || m.value === null) return '—';
  return m.ci ? `${m.value.toFixed(4)} [${m.ci.low.toFixed(3)}, ${m.ci.high.toFixed(3)}]` : m.value.toFixed(4);
};

export const performanceCommand: CommandSpec = {
  name: 'performance',
  summary: 'Model performance from joined ground-truth labels, per day, hour or scoring job, with 95% intervals',
  usage: 'outpost performance <model>[@<version>] [--window day|hour|job]',
  help: [
    '--window day|hour|job   group labelled predictions by the UTC day or hour they were scored in, or by scoring job (default day)',
    'Classifiers: accuracy (Wilson interval), F1 (positive class / macro; bootstrap interval), AUC (binary: DeLong interval;',
    'multiclass: one-vs-rest macro), log-loss (normal interval). Regression: RMSE, MAE (normal intervals).',
    'Exit status 0 whether or not the card\'s bound is broken; 1 when the version has no labels.',
  ],
  options: { window: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const scope = (str(args, 'window') ?? 'day') as PerformanceScope;
    if (!SCOPES.includes(scope)) throw usageError(`--window must be day, hour or job (got "${scope}")`);
    const store = openStore(ctx.home);
    try {
      const r = performanceForModel(store, args.positionals[0], scope);
      ctx.out.json({ ok: true, ...r });
      const names = r.task === 'regression' ? ['rmse', 'mae'] : ['accuracy', 'f1', 'auc', 'logLoss'];
      const metrics = r.overall.metrics as Record<string, MetricValue>;
      ctx.out.text(`Performance of ${r.model}@${r.version} from ${r.labelled.toLocaleString('en-US')} labelled predictions, by ${scope} (95% intervals)`);
      ctx.out.text(`  methods: ${names.map((k) => `${k}: ${metrics[k].method}`).join('; ')}`);
      const head = [scope === 'job' ? 'job'.padEnd(22) : 'window'.padEnd(22), 'n'.padStart(8), ...names.map((k) => k.padEnd(28)), 'bound'].join('  ');
      ctx.out.text('');
      ctx.out.text(head);
      const line = (w: PerformanceWindow, key: string) => {
        const m = w.metrics as Record<string, MetricValue>;
        const check = w.check ? (w.check.breached === null ? `(${w.check.reason})` : w.check.breached ? `BELOW ${w.check.direction} ${w.check.bound}` : 'ok') : '';
        ctx.out.text([key.padEnd(22), w.n.toLocaleString('en-US').padStart(8), ...names.map((k) => fmt(m[k]).padEnd(28)), check].join('  ').trimEnd());
      };
      for (const w of r.windows) line(w, scope === 'job' ? w.key : w.key.slice(0, scope === 'day' ? 10 : 16));
      line(r.overall, 'all');
      const notes = new Set<string>();
      for (const w of [...r.windows, r.overall]) for (const k of names) { const n = (w.metrics as Record<string, MetricValue>)[k]?.note; if (n) notes.add(`${k}: ${n}`); }
      if (notes.size) { ctx.out.text(''); for (const n of notes) ctx.out.text(`  note — ${n}`); }
      const late = r.overall.late;
      if (late) ctx.out.text(`  ${late.toLocaleString('en-US')} of the labels arrived late (counted in their prediction's window)`);
      if (r.alerts.length) {
        ctx.out.text('');
        ctx.out.text(`Performance alerts (${r.alerts.length}):`);
        for (const a of r.alerts.slice(0, 20)) ctx.out.text(`  ${alertText(a)}`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
