// Rollouts (read-only): the staged rollouts i9-rollout's admin API keeps (`/api/v1/rollouts`, the same
// functions as `outpost hub rollout list|status`), with their progress per device. Creating, halting
// and rolling back stay on the CLI for now. The shapes are the answers of those endpoints.
import { useState } from 'react';
import { ErrorBox, Section } from '../../components/common.tsx';
import { when } from '../../format.ts';
import { href } from '../../state.tsx';
import { useGet } from '../api.ts';

interface Counts { groupDevices: number; devices: number; running: number; failed: number; available: number; pending: number; unaffected: number }
interface Rollout { id: string; model: string; alias: string; group: string; percent: number; state: string; targetVersion: number | null; createdAt: string; counts: Counts }
interface DeviceRow { device: string; group: string; state: string; stage: string | null; reason: string | null; activeVersion: number | null; reportedAt: string | null }

function Status({ id }: { id: string }) {
  const { data, error } = useGet<{ rollout: Rollout; devices: DeviceRow[] }>(`/api/v1/rollouts/${encodeURIComponent(id)}`);
  return (
    <>
      <ErrorBox error={error} title="Cannot read the rollout" />
      {data && (
        <table className="table" data-testid="rollout-devices">
          <thead><tr><th scope="col">Device</th><th scope="col">Group</th><th scope="col">State</th><th scope="col">Active version</th><th scope="col">Refused at</th><th scope="col">Reported</th></tr></thead>
          <tbody>{data.devices.map((d) => (
            <tr key={d.device} data-testid="rollout-device" data-state={d.state}>
              <td><a href={href('device', d.device)}>{d.device}</a></td><td>{d.group || '—'}</td><td><span className={`badge ${d.state === 'failed' ? 'badge-failed' : d.state === 'running' ? 'badge-completed' : ''}`}>{d.state}</span></td>
              <td>{d.activeVersion ?? '—'}</td><td>{d.stage ? `${d.stage}: ${d.reason ?? ''}` : '—'}</td><td>{when(d.reportedAt)}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </>
  );
}

export function Rollouts() {
  const { data, error } = useGet<{ rollouts: Rollout[] }>('/api/v1/rollouts');
  const [open, setOpen] = useState<string | undefined>();
  return (
    <div className="screen">
      <h1>Rollouts</h1>
      <p className="muted">Start, halt or roll back with <code>outpost hub rollout</code>; devices follow on their next sync.</p>
      <ErrorBox error={error} title="Cannot list rollouts" />
      {data && data.rollouts.length === 0 && <p className="muted" data-testid="rollouts-none">No rollouts yet.</p>}
      {data && data.rollouts.length > 0 && (
        <Section title="All rollouts" id="rollouts-head">
          <div className="table-wrap">
            <table className="table" data-testid="rollouts">
              <thead><tr><th scope="col">Rollout</th><th scope="col">Model</th><th scope="col">Group</th><th scope="col">State</th><th scope="col">Running</th><th scope="col">Failed</th><th scope="col">Available</th><th scope="col">Pending</th><th scope="col">Created</th></tr></thead>
              <tbody>{data.rollouts.map((r) => (
                <tr key={r.id} data-testid={`rollout-${r.id}`}>
                  <td><button type="button" className="linkish mono" onClick={() => setOpen(open === r.id ? undefined : r.id)}>{r.id}</button></td>
                  <td>{r.model}:{r.alias} → {r.targetVersion ?? '?'}</td><td>{r.group}{r.percent < 100 ? ` (${r.percent} %)` : ''}</td><td>{r.state}</td>
                  <td className="num" data-testid="running">{r.counts.running}</td><td className="num" data-testid="failed">{r.counts.failed}</td>
                  <td className="num">{r.counts.available}</td><td className="num" data-testid="pending">{r.counts.pending}</td><td>{when(r.createdAt)}</td>
                </tr>
              ))}</tbody>
            </table>
          </div>
          {open && <Status key={open} id={open} />}
        </Section>
      )}
    </div>
  );
}
