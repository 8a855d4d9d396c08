// Drift of a model version against its card's baseline: the per-feature report (method, statistic,
// threshold, verdict or why none, sample sizes, PSI), and for one feature the binned distributions
// both sides, its score over the last hour/day windows and the alerts. Plain SVG charts.
import { useState, type ReactNode } from 'react';
import type { DriftAlertShape, DriftView, FeatureDriftShape } from '../../../src/api/common/contract.ts';
import { ErrorBox, Section, Stat } from '../components/common.tsx';
import { int, pct } from '../format.ts';
import { defaultModelRef } from '../default-model.ts';
import { go, useCall } from '../state.tsx';

/** "Infinity" / "-Infinity": an infinite statistic (null: not computed) */
const num = (v: number | 'Infinity' | '-Infinity' | null | undefined): string => (v === null || v === undefined ? '—' : v === 'Infinity' ? '∞' : v === '-Infinity' ? '-∞' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(Number(v.toPrecision(4))));

function Verdict({ f }: { f: FeatureDriftShape }) {
  if (f.drifted === null) return <span className="badge badge-skipped" title={f.reason}>skipped</span>;
  return f.drifted ? <span className="badge badge-drifted">drifted</span> : <span className="badge badge-completed">no drift</span>;
}

/** Reference vs current proportions per bin, side by side. */
function BinsChart({ bins }: { bins: DriftView['bins'][number] }) {
  const n = bins.labels.length;
  const max = Math.max(0.01, ...bins.reference, ...bins.current);
  const w = 400 / Math.max(1, n);
  const h = (v: number) => (v / max) * 116;
  return (
    <figure className="chart" data-testid="drift-bins">
      <figcaption>{bins.feature}: baseline vs current, share of values per bin</figcaption>
      <svg role="img" aria-label={`${bins.feature}: ${bins.labels.map((l, i) => `${l}: baseline ${pct(bins.reference[i])}, current ${pct(bins.current[i])}`).join('; ')}`} viewBox="0 0 400 120" preserveAspectRatio="none" className="hist">
        {bins.labels.map((l, i) => (
          <g key={i}>
            <rect className="bar-ref" x={i * w + 1} width={Math.max(1, w / 2 - 1)} y={120 - h(bins.reference[i])} height={h(bins.reference[i])}><title>{`${l}: baseline ${pct(bins.reference[i])}`}</title></rect>
            <rect className="bar-cur" x={i * w + w / 2} width={Math.max(1, w / 2 - 1)} y={120 - h(bins.current[i])} height={h(bins.current[i])}><title>{`${l}: current ${pct(bins.current[i])}`}</title></rect>
          </g>
        ))}
      </svg>
      <div className="hist-axis muted"><span>{bins.labels[0]}</span><span>{bins.labels[n - 1]}</span></div>
      <ul className="chart-legend"><li><span className="swatch swatch-ref" /> baseline</li><li><span className="swatch swatch-cur" /> current</li></ul>
    </figure>
  );
}

/** The feature's score per window with the threshold as a dashed line (empty windows leave gaps). */
function Timeline({ view, f }: { view: DriftView; f: FeatureDriftShape }) {
  const ws = view.timeline.windows;
  const scores = ws.map((w) => w.scores[f.feature] ?? null);
  const known = scores.filter((s): s is number => s !== null);
  const max = Math.max(f.threshold * 1.2, ...known, 1e-9);
  const x = (i: number) => (ws.length <= 1 ? 200 : 4 + (i / (ws.length - 1)) * 392);
  const y = (v: number) => 96 - (v / max) * 92;
  const segs: string[] = [];
  let cur = '';
  scores.forEach((s, i) => {
    if (s === null) { if (cur) segs.push(cur); cur = ''; return; }
    cur += `${cur ? 'L' : 'M'}${x(i).toFixed(1)},${y(s).toFixed(1)}`;
  });
  if (cur) segs.push(cur);
  return (
    <figure className="chart" data-testid="drift-timeline">
      <figcaption>{f.feature}: {f.scoreKind} per {view.timeline.width} (threshold {num(f.threshold)})</figcaption>
      <svg role="img" aria-label={`${f.scoreKind} of ${f.feature} over the last ${ws.length} ${view.timeline.width} windows: ${known.length ? known.map(num).join(', ') : 'no data'}`} viewBox="0 0 400 100" preserveAspectRatio="none" className="spark">
        <line className="threshold" x1={0} x2={400} y1={y(f.threshold)} y2={y(f.threshold)} />
        {segs.map((d, i) => <path key={i} className="line" d={d} />)}
        {scores.map((s, i) => s !== null && <circle key={i} className={ws[i].drifted[f.feature] ? 'pt pt-drift' : 'pt'} cx={x(i)} cy={y(s)} r={2.5}><title>{`${ws[i].start}: ${num(s)} (${int(ws[i].rows)} rows)`}</title></circle>)}
      </svg>
      <div className="hist-axis muted"><span>{ws[0]?.start.slice(0, 16).replace('T', ' ')}</span><span>{ws.at(-1)?.start.slice(0, 16).replace('T', ' ')}</span></div>
      {known.length === 0 && <p className="muted">No scored rows in these windows.</p>}
    </figure>
  );
}

function Alerts({ alerts }: { alerts: DriftAlertShape[] }) {
  if (alerts.length === 0) return <p className="muted" data-testid="drift-alerts-none">No drift alerts.</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="drift-alerts">
        <thead><tr><th scope="col">Feature</th><th scope="col">Scope</th><th scope="col">Method</th><th scope="col">Score</th><th scope="col">Threshold</th><th scope="col">Last seen</th><th scope="col">State</th></tr></thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.id}>
              <td>{a.feature}</td><td><span className="muted">{a.scope}</span> <span className="mono">{a.scopeKey}</span></td><td>{a.method}</td>
              <td className="num">{num(a.score)}</td><td className="num">{num(a.threshold)}</td>
              <td>{new Date(a.lastAt).toISOString().slice(0, 16).replace('T', ' ')}</td>
              <td>{a.clearedAt === null ? <span className="badge badge-drifted">open</span> : <span className="badge">cleared</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A drift report as the Drift screen shows it: verdicts, the per-feature table, one feature's bins
 * and timeline, and the alerts. The workstation's Drift screen and the hub console's Fleet drift
 * both render it (the console passes its own alerts table, which names the devices).
 */
export function DriftReportView({ view, alerts, openAlerts, selected, onFeature }: { view: DriftView; alerts?: ReactNode; openAlerts?: number; selected?: string; onFeature?: (feature: string) => void }) {
  const [picked, setPicked] = useState<string | undefined>();
  const pick = (f: string) => { setPicked(f); onFeature?.(f); };
  const feature = view.features.find((f) => f.feature === (picked ?? selected)) ?? view.features.find((f) => f.drifted) ?? view.features[0];
  const bins = view.bins.find((b) => b.feature === feature?.feature);
  return (
    <>
      <div className="stats">
        <Stat label="Input drift" value={view.dataset.drifted === null ? 'no verdict' : view.dataset.drifted ? 'drifted' : 'no drift'} hint={view.dataset.reason ?? `${view.dataset.driftedFeatures} of ${view.dataset.evaluatedFeatures} input features drifted (threshold ${pct(view.dataset.threshold)})`} testId="drift-dataset" />
        <Stat label="Prediction drift" value={view.prediction.drifted === null ? 'no verdict' : view.prediction.drifted ? 'drifted' : 'no drift'} hint={view.prediction.reason ?? `${view.prediction.feature ?? ''}; outputs with drift: ${view.prediction.driftedOutputs} of ${view.prediction.evaluatedOutputs}`} testId="drift-prediction" />
        <Stat label="Rows compared" value={int(view.rows)} hint={view.description} testId="drift-rows" />
        <Stat label="Baseline rows" value={int(view.referenceRows)} />
        <Stat label="Alerts" value={openAlerts ?? view.alerts.filter((a) => a.clearedAt === null).length} hint="open, for this model version" />
      </div>
      <Section title="Features" id="drift-features">
        <div className="table-wrap">
          <table className="table" data-testid="drift-features">
            <thead><tr><th scope="col">Feature</th><th scope="col">Method</th><th scope="col">Statistic</th><th scope="col">Score</th><th scope="col">Threshold</th><th scope="col">Verdict</th><th scope="col">n ref</th><th scope="col">n cur</th><th scope="col">PSI</th></tr></thead>
            <tbody>
              {view.features.map((f) => (
                <tr key={f.feature} data-testid={`drift-row-${f.feature}`} aria-selected={f.feature === feature?.feature} className={f.feature === feature?.feature ? 'selected' : undefined}>
                  <td><button type="button" className="linkish" onClick={() => pick(f.feature)}>{f.feature}</button></td>
                  <td>{f.method}</td>
                  <td className="num" data-testid="drift-statistic" data-value={f.statistic ?? ''}>{num(f.statistic)}</td>
                  <td className="num" data-testid="drift-score" data-value={f.score ?? ''} title={f.scoreKind}>{num(f.score)}</td>
                  <td className="num">{num(f.threshold)}</td>
                  <td data-testid="drift-verdict"><Verdict f={f} />{f.reason && <div className="muted small">{f.reason}</div>}</td>
                  <td className="num" data-testid="drift-nref">{int(f.nReference)}</td>
                  <td className="num" data-testid="drift-ncur">{int(f.nCurrent)}</td>
                  <td className="num" data-testid="drift-psi" data-value={f.psi?.value ?? ''}>{f.psi ? `${num(f.psi.value)} ` : '—'}{f.psi && <span className="muted" title={f.psi.level === 'insufficient' ? `PSI gets a level from ${f.psi.minCurrent ?? '?'} current values on` : undefined}>{f.psi.level === 'insufficient' ? 'insufficient data' : f.psi.level}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      {feature && (
        <Section title={`Feature: ${feature.feature}`} id="drift-feature">
          <div className="charts">
            {bins && <BinsChart bins={bins} />}
            <Timeline view={view} f={feature} />
          </div>
        </Section>
      )}
      <Section title="Alerts" id="drift-alerts-head">
        {alerts ?? <Alerts alerts={view.alerts} />}
      </Section>
    </>
  );
}

export function Drift({ model }: { model?: string }) {
  const models = useCall('models.list', {});
  const [width, setWidth] = useState<'hour' | 'day'>('day');
  const choices = (models.data ?? []).flatMap((m) => [...m.versions].reverse().map((v) => `${m.name}@${v}`));
  // Without a version in the address: the version the latest job scored, else the first model's active one.
  const recent = useCall('jobs.list', { limit: 20 });
  const ref = model ?? (models.data && (recent.data || recent.error) ? defaultModelRef(models.data, recent.data ?? [], 'drift') : undefined);
  const { data, error } = useCall('drift.report', ref ? { model: ref, width, windows: width === 'hour' ? 48 : 30 } : null);
  const shown = data && ref === `${data.model}@${data.version}` ? data : undefined;
  return (
    <div className="screen">
      <h1>Drift</h1>
      <ErrorBox error={models.error} />
      {models.data && models.data.length === 0 && <p className="muted">No models installed yet.</p>}
      {/* the version picker once the version shown is known (before, it showed the first while showing none) */}
      {choices.length > 0 && ref !== undefined && (
        <div className="toolbar">
          <label>Model version{' '}
            <select data-testid="drift-model" value={ref} onChange={(e) => go('drift', e.target.value)}>
              {choices.map((c) => <option key={c} value={c}>{c}</option>)}
            </select>
          </label>
          <label>Windows{' '}
            <select data-testid="drift-width" value={width} onChange={(e) => setWidth(e.target.value as 'hour' | 'day')}>
              <option value="day">days (last 30)</option><option value="hour">hours (last 48)</option>
            </select>
          </label>
        </div>
      )}
      <ErrorBox error={error} title="No drift report" />
      {shown && <DriftReportView key={`${shown.model}@${shown.version}`} view={shown} />}
    </div>
  );
}
