// Fleet drift: the workstation app's Drift report (the same component) over the fleet's merged
// statistics — optionally one group — and what drives it: each group's verdict, and each device's
// drift on one feature (the worst unless another is picked in the report), plus the fleet's alerts.
import { useState } from 'react';
import type { FleetDriftView } from '../../../../src/hub/common/fleet-views.ts';
import { ErrorBox, Section } from '../../components/common.tsx';
import { int, when } from '../../format.ts';
import { DriftReportView } from '../../screens/Drift.tsx';
import { go, href } from '../../state.tsx';
import { useGet, withQuery } from '../api.ts';

const num = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(Number(v.toPrecision(4))));
const verdict = (d: boolean | null) => (d === null ? <span className="badge badge-skipped">no verdict</span> : d ? <span className="badge badge-drifted">drifted</span> : <span className="badge badge-completed">no drift</span>);

export function FleetDrift({ model }: { model?: string }) {
  const [width, setWidth] = useState<'day' | 'hour'>('day');
  const [group, setGroup] = useState<string | undefined>();
  const [feature, setFeature] = useState<string | undefined>();
  const { data, error, loading } = useGet<{ choices: { model: string; version: number }[]; drift: FleetDriftView | null }>(withQuery('/api/v1/fleet/drift', { model, width, group, feature }));
  const d = data?.drift;
  const ref = d ? `${d.view.model}@${d.view.version}` : model;
  const groups = d?.groups ?? [];
  const open = d?.alerts.filter((a) => a.clearedAt === null) ?? [];
  return (
    <div className="screen">
      <h1>Fleet drift</h1>
      {data && data.choices.length === 0 && <p className="muted" data-testid="fleet-drift-none">No device has synced drift statistics yet.</p>}
      {data && data.choices.length > 0 && (
        <div className="toolbar">
          <label>Model version{' '}
            <select data-testid="fleet-drift-model" value={ref} onChange={(e) => { setFeature(undefined); go('drift', e.target.value); }}>
              {data.choices.map((c) => <option key={`${c.model}@${c.version}`} value={`${c.model}@${c.version}`}>{c.model}@{c.version}</option>)}
            </select>
          </label>
          <label>Group{' '}
            <select data-testid="fleet-drift-group" value={group ?? '*'} onChange={(e) => setGroup(e.target.value === '*' ? undefined : e.target.value)}>
              <option value="*">whole fleet</option>
              {(group !== undefined && !groups.some((g) => g.group === group) ? [...groups, { group }] : groups).map((g) => <option key={g.group} value={g.group}>{g.group || '(no group)'}</option>)}
            </select>
          </label>
          <label>Windows{' '}
            <select data-testid="fleet-drift-width" value={width} onChange={(e) => setWidth(e.target.value as 'hour' | 'day')}>
              <option value="day">days (last 30)</option><option value="hour">hours (last 48)</option>
            </select>
          </label>
          {loading && <span className="muted">loading…</span>}
        </div>
      )}
      <ErrorBox error={error} title="No fleet drift report" />
      {d && (
        <>
          <p className="muted small" data-testid="fleet-drift-scope">{d.view.description}{d.excluded.length > 0 && ` · not merged (statistics on another card of this version): ${d.excluded.map((x) => x.device).join(', ')}`}</p>
          <DriftReportView
            key={`${ref}|${group ?? '*'}`}
            view={d.view}
            openAlerts={open.length}
            onFeature={setFeature}
            {...(d.feature ? { selected: d.feature } : {})}
            alerts={d.alerts.length === 0 ? <p className="muted" data-testid="drift-alerts-none">No drift alerts on the fleet for this version.</p> : (
              <div className="table-wrap">
                <table className="table" data-testid="fleet-drift-alerts">
                  <thead><tr><th scope="col">Device</th><th scope="col">Group</th><th scope="col">Feature</th><th scope="col">Scope</th><th scope="col">Method</th><th scope="col">Score</th><th scope="col">Threshold</th><th scope="col">Opened</th><th scope="col">State</th></tr></thead>
                  <tbody>{d.alerts.map((a) => (
                    <tr key={`${a.device}-${a.feature}-${a.scope}-${a.scopeKey}`}>
                      <td><a href={href('device', a.device)}>{a.device}</a></td><td>{a.group || '—'}</td><td>{a.feature}</td><td><span className="muted">{a.scope}</span> <span className="mono">{a.scopeKey}</span></td>
                      <td>{a.method}</td><td className="num">{num(a.score)}</td><td className="num">{num(a.threshold)}</td><td>{when(a.openedAt)}</td>
                      <td>{a.clearedAt === null ? <span className="badge badge-drifted">open</span> : <span className="badge">cleared</span>}</td>
                    </tr>
                  ))}</tbody>
                </table>
              </div>
            )}
          />
          <Section title="By group" id="fleet-drift-groups-head">
            <div className="table-wrap">
              <table className="table" data-testid="fleet-drift-groups">
                <thead><tr><th scope="col">Group</th><th scope="col">Devices</th><th scope="col">Rows</th><th scope="col">Input drift</th><th scope="col">Features drifted</th><th scope="col">{d.feature ?? 'feature'}: score</th><th scope="col">Verdict</th></tr></thead>
                <tbody>{d.groups.map((g) => (
                  <tr key={g.group} data-testid={`drift-group-${g.group}`}>
                    <td><button type="button" className="linkish" onClick={() => setGroup(g.group)}>{g.group || '(no group)'}</button></td>
                    <td className="num">{int(g.devices)}</td><td className="num" data-testid="group-rows">{int(g.rows)}</td><td>{verdict(g.drifted)}</td>
                    <td className="num">{g.driftedFeatures} of {g.evaluatedFeatures}</td><td className="num" data-testid="group-score">{num(g.feature?.score)}</td><td>{g.feature ? verdict(g.feature.drifted) : '—'}</td>
                  </tr>
                ))}</tbody>
              </table>
            </div>
          </Section>
          <Section title={`By device: ${d.feature ?? ''} (highest score first)`} id="fleet-drift-devices-head">
            <div className="table-wrap">
              <table className="table" data-testid="fleet-drift-devices">
                <thead><tr><th scope="col">Device</th><th scope="col">Group</th><th scope="col">Rows</th><th scope="col">Share of rows</th><th scope="col">Statistic</th><th scope="col">Score</th><th scope="col">Verdict</th></tr></thead>
                <tbody>{d.byDevice.map((x) => (
                  <tr key={x.device} data-testid={`drift-device-${x.device}`}>
                    <td><a href={href('device', x.device)}>{x.device}</a></td><td>{x.group || '—'}</td><td className="num" data-testid="device-rows">{int(x.rows)}</td>
                    <td className="num">{d.view.rows ? `${((x.rows / d.view.rows) * 100).toFixed(1)} %` : '—'}</td>
                    <td className="num">{num(x.statistic)}</td><td className="num" data-testid="device-score">{num(x.score)}</td><td>{verdict(x.drifted)}{x.reason && <div className="muted small">{x.reason}</div>}</td>
                  </tr>
                ))}</tbody>
              </table>
            </div>
          </Section>
        </>
      )}
    </div>
  );
}
