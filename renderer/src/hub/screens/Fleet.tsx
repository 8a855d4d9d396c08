// Fleet: every enrolled device with its group, last sync, active model versions, provider, backlog
// (items waiting on the device at its last heartbeat), open alerts and health; filters by group,
// model (or version) and health are applied by the hub (the same filter as `outpost hub devices list`).
import { useState } from 'react';
import type { FleetFacets, Health } from '../../../../src/hub/common/fleet-health.ts';
import type { DeviceView } from '../../../../src/hub/common/fleet-views.ts';
import { ErrorBox, Stat } from '../../components/common.tsx';
import { int, when } from '../../format.ts';
import { href } from '../../state.tsx';
import { useGet, withQuery } from '../api.ts';

const HEALTH_LABEL: Record<Health, string> = { ok: 'ok', alerts: 'open alerts', stale: 'stale (no sync for 24 h)', 'never-synced': 'never synced', revoked: 'revoked' };
const HEALTH_BADGE: Record<Health, string> = { ok: 'badge-completed', alerts: 'badge-drifted', stale: 'badge-skipped', 'never-synced': 'badge-skipped', revoked: 'badge-failed' };

export function HealthBadge({ health }: { health: Health }) {
  return <span className={`badge ${HEALTH_BADGE[health]}`} data-testid="health">{HEALTH_LABEL[health]}</span>;
}

export function Fleet() {
  const [group, setGroup] = useState<string | undefined>();
  const [model, setModel] = useState<string | undefined>();
  const [health, setHealth] = useState<Health | undefined>();
  const { data, error, loading } = useGet<{ devices: DeviceView[]; facets: FleetFacets }>(withQuery('/api/v1/devices', { group, model, health }));
  const f = data?.facets;
  return (
    <div className="screen">
      <h1>Fleet</h1>
      <ErrorBox error={error} title="Cannot list the fleet" />
      {f && (
        <div className="stats">
          <Stat label="Devices" value={int(f.total)} testId="fleet-total" />
          <Stat label="Healthy" value={int(f.health.ok)} testId="fleet-ok" />
          <Stat label="With open alerts" value={int(f.health.alerts)} testId="fleet-alerts" />
          <Stat label="Stale or never synced" value={int(f.health.stale + f.health['never-synced'])} testId="fleet-stale" hint="no sync for 24 hours" />
          <Stat label="Revoked" value={int(f.health.revoked)} testId="fleet-revoked" />
        </div>
      )}
      {f && (
        <div className="toolbar" role="group" aria-label="Filters">
          <label>Group{' '}
            <select data-testid="filter-group" value={group ?? '*'} onChange={(e) => setGroup(e.target.value === '*' ? undefined : e.target.value)}>
              <option value="*">all groups</option>
              {f.groups.map((g) => <option key={g.group} value={g.group}>{g.group || '(no group)'} — {g.devices}</option>)}
            </select>
          </label>
          <label>Model{' '}
            <select data-testid="filter-model" value={model ?? '*'} onChange={(e) => setModel(e.target.value === '*' ? undefined : e.target.value)}>
              <option value="*">any model</option>
              {f.models.map((m) => <option key={m.model} value={m.model}>{m.model} — {m.devices}</option>)}
            </select>
          </label>
          <label>Health{' '}
            <select data-testid="filter-health" value={health ?? '*'} onChange={(e) => setHealth(e.target.value === '*' ? undefined : e.target.value as Health)}>
              <option value="*">any</option>
              {(Object.keys(HEALTH_LABEL) as Health[]).map((h) => <option key={h} value={h}>{HEALTH_LABEL[h]} — {f.health[h]}</option>)}
            </select>
          </label>
          <span className="muted" data-testid="fleet-shown" aria-live="polite">{loading ? 'loading…' : `${int(data?.devices.length ?? 0)} shown`}</span>
        </div>
      )}
      {data && data.devices.length === 0 && <p className="muted" data-testid="fleet-empty">{f?.total ? 'No device matches these filters.' : 'No devices enrolled yet: add one with `outpost hub devices add`.'}</p>}
      {data && data.devices.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="fleet-table">
            <thead><tr><th scope="col">Device</th><th scope="col">Group</th><th scope="col">Last seen</th><th scope="col">Active versions</th><th scope="col">Provider</th><th scope="col">Backlog</th><th scope="col">Open alerts</th><th scope="col">Health</th><th scope="col">Outpost</th></tr></thead>
            <tbody>
              {data.devices.map((d) => (
                <tr key={d.id} data-testid={`device-row-${d.name}`}>
                  <td><a href={href('device', d.name)}>{d.name}</a></td>
                  <td data-testid="group">{d.group || <span className="muted">—</span>}</td>
                  <td data-testid="last-seen" data-value={d.lastSeenAt ?? ''}>{when(d.lastSeenAt)}</td>
                  <td data-testid="active">{d.active.length ? d.active.map((m) => `${m.name}@${m.version}`).join(', ') : <span className="muted">none</span>}</td>
                  <td data-testid="provider">{d.provider ?? <span className="muted">?</span>}</td>
                  <td className="num" data-testid="backlog">{d.backlog === null ? '?' : int(d.backlog)}</td>
                  <td className="num" data-testid="open-alerts">{int(d.openAlerts)}</td>
                  <td><HealthBadge health={d.health} /></td>
                  <td className="muted">{d.outpostVersion ?? '?'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
