// One device: what it last reported, its recent jobs, its events and its sync history (each sync
// request or imported bundle the hub's ledger recorded, with what it carried).
import type { DeviceDetail } from '../../../../src/hub/common/fleet-views.ts';
import { ErrorBox, Section, Stat, StatusBadge } from '../../components/common.tsx';
import { bytes, int, when } from '../../format.ts';
import { href } from '../../state.tsx';
import { useGet } from '../api.ts';
import { HealthBadge } from './Fleet.tsx';

export function Device({ name }: { name: string }) {
  const { data, error } = useGet<DeviceDetail>(`/api/v1/devices/${encodeURIComponent(name)}`);
  const d = data?.device;
  return (
    <div className="screen">
      <p><a href={href('fleet')}>← Fleet</a></p>
      <h1>Device {name}</h1>
      <ErrorBox error={error} title="Cannot show this device" />
      {d && data && (
        <>
          <div className="stats">
            <Stat label="Health" value={<HealthBadge health={d.health} />} />
            <Stat label="Group" value={d.group || '—'} testId="device-group" />
            <Stat label="Last seen" value={when(d.lastSeenAt)} testId="device-last-seen" />
            <Stat label="Active" value={d.active.map((m) => `${m.name}@${m.version}`).join(', ') || 'none'} testId="device-active" hint={`${d.state?.models?.length ?? 0} installed`} />
            <Stat label="Rows scored" value={int(d.rowsScored)} testId="device-rows" hint="by jobs the hub has summaries of" />
            <Stat label="Items received" value={int(d.items)} testId="device-items" hint={`highest sequence number ${d.maxSeq}`} />
            <Stat label="Backlog" value={d.backlog === null ? '?' : int(d.backlog)} hint="items waiting on the device at its last heartbeat" />
            <Stat label="Open alerts" value={int(d.openAlerts)} testId="device-alerts" />
          </div>
          <p className="muted small">Enrolled {when(d.enrolledAt)} · Outpost {d.outpostVersion ?? '?'} · provider {d.provider ?? '?'}{d.revokedAt ? ` · revoked ${when(d.revokedAt)}` : ''}</p>
          <Section title="Recent jobs" id="device-jobs-head">
            {data.jobs.length === 0 ? <p className="muted">No job summaries synced.</p> : (
              <div className="table-wrap">
                <table className="table" data-testid="device-jobs">
                  <thead><tr><th scope="col">Job</th><th scope="col">Model</th><th scope="col">Status</th><th scope="col">Rows read</th><th scope="col">Scored</th><th scope="col">Rejected</th><th scope="col">Input</th><th scope="col">Finished</th></tr></thead>
                  <tbody>
                    {data.jobs.map((j) => (
                      <tr key={j.id}>
                        <td className="mono">{j.id}</td><td>{j.model}@{j.version}</td><td><StatusBadge status={j.status} live /></td>
                        <td className="num">{int(j.rowsRead)}</td><td className="num" data-testid="job-scored">{int(j.rowsScored)}</td><td className="num">{int(j.rowsRejected)}</td>
                        <td className="mono small">{j.input ?? '—'}</td><td>{when(j.finishedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Section>
          <Section title="Events" id="device-events-head">
            {data.events.length === 0 ? <p className="muted">No events.</p> : (
              <div className="table-wrap">
                <table className="table" data-testid="device-events">
                  <thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Model</th><th scope="col">What</th></tr></thead>
                  <tbody>{data.events.map((e) => <tr key={e.seq}><td>{when(e.at)}</td><td>{e.kind}</td><td>{e.model ?? '—'}</td><td>{e.summary}</td></tr>)}</tbody>
                </table>
              </div>
            )}
          </Section>
          <Section title="Sync history" id="device-syncs-head">
            {data.syncs.length === 0 ? <p className="muted">Never synced.</p> : (
              <div className="table-wrap">
                <table className="table" data-testid="device-syncs">
                  <thead><tr><th scope="col">Received</th><th scope="col">How</th><th scope="col">Items</th><th scope="col">Sequence</th><th scope="col">Size</th><th scope="col">Kinds</th></tr></thead>
                  <tbody>
                    {data.syncs.map((s) => (
                      <tr key={`${s.at}-${s.via}`}>
                        <td>{when(s.at)}</td><td>{s.via}</td><td className="num" data-testid="sync-items">{int(s.items)}</td><td className="num">{s.firstSeq}–{s.lastSeq}</td>
                        <td className="num">{bytes(s.bytes)}</td><td className="small">{Object.entries(s.kinds).map(([k, n]) => `${k} ${n}`).join(', ')}</td>
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
