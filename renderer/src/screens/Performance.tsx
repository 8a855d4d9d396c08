// Performance of a model version from joined ground-truth labels (`outpost labels add`): per scoring
// job, hour or day window, each metric with its 95 % interval and the number of labels, the card's
// bound (windows below it marked) and the performance alerts.
import { useState } from 'react';
import type { PerformanceView } from '../../../src/api/common/contract.ts';
import { ErrorBox, Section, Stat } from '../components/common.tsx';
import { defaultModelRef } from '../default-model.ts';
import { int } from '../format.ts';
import { go, useCall } from '../state.tsx';

type Metric = PerformanceView['overall']['metrics'][string];
const v4 = (m: Metric | undefined): string => (!m || m.value === null ? '—' : m.value.toFixed(4));

function Cell({ m }: { m: Metric | undefined }) {
  return (
    <td className="num" data-value={m?.value ?? ''} title={m?.note ?? m?.method}>
      {v4(m)}{m?.ci && <div className="muted small">[{m.ci.low.toFixed(3)}, {m.ci.high.toFixed(3)}]</div>}
    </td>
  );
}

export function Performance({ model }: { model?: string }) {
  const models = useCall('models.list', {});
  const recent = useCall('jobs.list', { limit: 20 });
  const [scope, setScope] = useState<'job' | 'hour' | 'day'>('job');
  const choices = (models.data ?? []).flatMap((m) => [...m.versions].reverse().map((v) => `${m.name}@${v}`));
  const ref = model ?? (models.data && (recent.data || recent.error) ? defaultModelRef(models.data, recent.data ?? [], 'drift') : undefined);
  const { data, error } = useCall('performance.report', ref ? { model: ref, scope } : null);
  const shown = data && ref === `${data.model}@${data.version}` && data.scope === scope ? data : undefined;
  const names = shown ? (shown.task === 'regression' ? ['rmse', 'mae'] : ['accuracy', 'f1', 'auc', 'logLoss']) : [];
  const check = shown?.windows.find((w) => w.check)?.check;
  const open = shown?.alerts.filter((a) => a.clearedAt === null) ?? [];
  return (
    <div className="screen">
      <h1>Performance</h1>
      <p className="muted">From ground-truth labels joined to logged predictions (<code>outpost labels add</code>). 95 % intervals.</p>
      <ErrorBox error={models.error} />
      {/* the version picker once the version shown is known (before, it showed the first while showing none) */}
      {choices.length > 0 && ref !== undefined && (
        <div className="toolbar">
          <label>Model version{' '}
            <select data-testid="perf-model" value={ref} onChange={(e) => go('performance', e.target.value)}>
              {choices.map((c) => <option key={c} value={c}>{c}</option>)}
            </select>
          </label>
          <label>By{' '}
            <select data-testid="perf-scope" value={scope} onChange={(e) => setScope(e.target.value as 'job' | 'hour' | 'day')}>
              <option value="job">scoring job</option><option value="day">day scored</option><option value="hour">hour scored</option>
            </select>
          </label>
        </div>
      )}
      <ErrorBox error={error} title="No performance report" />
      {shown && (
        <>
          <div className="stats">
            <Stat label="Labelled predictions" value={int(shown.labelled)} hint={shown.overall.late ? `${int(shown.overall.late)} labels arrived late` : undefined} testId="perf-labelled" />
            {names.slice(0, 3).map((k) => <Stat key={k} label={k} value={v4(shown.overall.metrics[k])} hint={shown.overall.metrics[k]?.ci ? `[${shown.overall.metrics[k].ci!.low.toFixed(3)}, ${shown.overall.metrics[k].ci!.high.toFixed(3)}] ${shown.overall.metrics[k].method}` : shown.overall.metrics[k]?.note} testId={`perf-overall-${k}`} />)}
            <Stat label="Bound" value={check ? `${check.metric} ${check.direction === 'min' ? '≥' : '≤'} ${check.bound}` : 'none'} hint={check ? `card monitoring.performance, from ${check.minSamples} labels` : 'the card sets no monitoring.performance bound'} />
            <Stat label="Alerts" value={open.length} hint="open, for this model version" />
          </div>
          <Section title={`By ${scope === 'job' ? 'scoring job' : scope}`} id="perf-windows">
            <div className="table-wrap">
              <table className="table" data-testid="perf-windows">
                <thead><tr><th scope="col">{scope === 'job' ? 'Job' : 'Window (UTC)'}</th><th scope="col">Labels</th>{names.map((k) => <th key={k} scope="col">{k}</th>)}<th scope="col">Bound</th></tr></thead>
                <tbody>
                  {[...shown.windows, shown.overall].map((w) => (
                    <tr key={w.key} data-testid={`perf-row-${w.key}`} className={w.check?.breached ? 'selected' : undefined}>
                      <td className="mono">{w.key === 'all' ? <strong>all</strong> : scope === 'job' ? <a href={`#/jobs/${encodeURIComponent(w.key)}`}>{w.key}</a> : w.key.slice(0, scope === 'day' ? 10 : 16).replace('T', ' ')}</td>
                      <td className="num">{int(w.n)}</td>
                      {names.map((k) => <Cell key={k} m={w.metrics[k]} />)}
                      <td>{w.check ? (w.check.breached === null ? <span className="badge badge-skipped" title={w.check.reason}>too few</span> : w.check.breached ? <span className="badge badge-drifted">below</span> : <span className="badge badge-completed">ok</span>) : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p className="muted small">Intervals: {names.map((k) => `${k} — ${shown.overall.metrics[k]?.method ?? ''}`).join('; ')}.</p>
          </Section>
          <Section title="Performance alerts" id="perf-alerts">
            {shown.alerts.length === 0 ? <p className="muted" data-testid="perf-alerts-none">No performance alerts.</p> : (
              <div className="table-wrap">
                <table className="table" data-testid="perf-alerts">
                  <thead><tr><th scope="col">Scope</th><th scope="col">Metric</th><th scope="col">Value</th><th scope="col">Bound</th><th scope="col">Labels</th><th scope="col">State</th></tr></thead>
                  <tbody>
                    {shown.alerts.map((a) => (
                      <tr key={a.id}>
                        <td><span className="muted">{a.scope}</span> <span className="mono">{a.scopeKey}</span></td><td>{a.metric}</td>
                        <td className="num">{a.value.toFixed(4)}{a.ci && <div className="muted small">[{a.ci.low.toFixed(3)}, {a.ci.high.toFixed(3)}]</div>}</td>
                        <td className="num">{a.direction === 'min' ? '≥' : '≤'} {a.threshold}</td><td className="num">{int(a.n)}</td>
                        <td>{a.clearedAt === null ? <span className="badge badge-drifted">open</span> : <span className="badge">cleared</span>}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Section>
        </>
      )}
    </div>
  );
}
