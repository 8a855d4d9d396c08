// Events across the fleet, newest first: drift and performance alerts, security events (refused
// pulls, modified model files, revoked devices), model changes, rollout outcomes and dropped items,
// filtered by the hub (the same query as `outpost hub events`).
import { useState } from 'react';
import type { FleetFacets } from '../../../../src/hub/common/fleet-health.ts';
import type { DeviceView, FleetEvent } from '../../../../src/hub/common/fleet-views.ts';
import { ErrorBox } from '../../components/common.tsx';
import { int, when } from '../../format.ts';
import { href } from '../../state.tsx';
import { useGet, withQuery } from '../api.ts';

const KINDS = [['alert', 'alerts'], ['security', 'security'], ['model', 'model changes'], ['rollout', 'rollouts'], ['sync-dropped', 'dropped items']] as const;
const LIMIT = '500';

const kindClass = (k: string) => (k.startsWith('security') ? 'badge badge-failed' : k.startsWith('alert') ? 'badge badge-drifted' : k.includes('failed') ? 'badge badge-failed' : 'badge');

export function Events({ device: initialDevice }: { device?: string }) {
  const [kind, setKind] = useState<string | undefined>();
  const [group, setGroup] = useState<string | undefined>();
  const [device, setDevice] = useState<string | undefined>(initialDevice);
  const [since, setSince] = useState<string | undefined>();
  const fleet = useGet<{ devices: DeviceView[]; facets: FleetFacets }>('/api/v1/devices');
  const { data, error, loading } = useGet<{ events: FleetEvent[] }>(withQuery('/api/v1/events', { kind, group, device, since, limit: LIMIT }));
  return (
    <div className="screen">
      <h1>Events</h1>
      <ErrorBox error={error ?? fleet.error} title="Cannot list events" />
      <div className="toolbar" role="group" aria-label="Filters">
        <label>Kind{' '}
          <select data-testid="events-kind" value={kind ?? '*'} onChange={(e) => setKind(e.target.value === '*' ? undefined : e.target.value)}>
            <option value="*">all</option>
            {KINDS.map(([k, l]) => <option key={k} value={k}>{l}</option>)}
          </select>
        </label>
        <label>Group{' '}
          <select data-testid="events-group" value={group ?? '*'} onChange={(e) => setGroup(e.target.value === '*' ? undefined : e.target.value)}>
            <option value="*">all groups</option>
            {fleet.data?.facets.groups.map((g) => <option key={g.group} value={g.group}>{g.group || '(no group)'}</option>)}
          </select>
        </label>
        <label>Device{' '}
          <select data-testid="events-device" value={device ?? '*'} onChange={(e) => setDevice(e.target.value === '*' ? undefined : e.target.value)}>
            <option value="*">all devices</option>
            {fleet.data?.devices.map((d) => <option key={d.id} value={d.name}>{d.name}</option>)}
          </select>
        </label>
        <label>Since{' '}
          <input type="date" data-testid="events-since" value={since ?? ''} onChange={(e) => setSince(e.target.value || undefined)} />
        </label>
        <span className="muted" data-testid="events-shown" aria-live="polite">{loading ? 'loading…' : `${int(data?.events.length ?? 0)} shown${data?.events.length === Number(LIMIT) ? ` (the newest ${LIMIT})` : ''}`}</span>
      </div>
      {data && data.events.length === 0 && <p className="muted" data-testid="events-empty">No events match.</p>}
      {data && data.events.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="events-table">
            <thead><tr><th scope="col">When</th><th scope="col">Device</th><th scope="col">Group</th><th scope="col">Kind</th><th scope="col">Model</th><th scope="col">What</th></tr></thead>
            <tbody>
              {data.events.map((e) => (
                <tr key={`${e.device}-${e.seq}-${e.kind}`} data-testid="event-row" data-kind={e.kind} data-device={e.device}>
                  <td>{when(e.at)}</td>
                  <td><a href={href('device', e.device)}>{e.device}</a></td>
                  <td>{e.group || <span className="muted">—</span>}</td>
                  <td><span className={kindClass(e.kind)}>{e.kind}</span></td>
                  <td>{e.model ?? '—'}</td>
                  <td>{e.summary}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
