import { bytes, int, rate, when } from '../format.ts';
import { go, href, useCall, useClient, useEvents } from '../state.tsx';
import { ErrorBox, Section, Stat, StatusBadge } from '../components/common.tsx';
import { SyncStatusCard, UpdatesCard } from '../components/SyncPanel.tsx';
import { useEffect, useState } from 'react';
import { asApiError } from '../state.tsx';
import type { ApiError } from '../client/error.ts';

export function Home() {
  const client = useClient();
  const { data, error, reload } = useCall('status', {});
  const [actionError, setActionError] = useState<ApiError | undefined>();
  useEvents((e) => { if (e.type !== 'job-progress') reload(); });
  // The provider check runs in the background on a fresh server: ask again until it has an answer.
  const checking = data?.provider.state === 'checking';
  useEffect(() => {
    if (!checking) return;
    const t = setTimeout(reload, 1000);
    return () => clearTimeout(t);
  }, [checking, data, reload]);
  if (!data) return <><ErrorBox error={error} title="Could not reach the Outpost core" />{!error && <p className="muted">Loading…</p>}</>;
  const resume = (jobId: string) => client.call('jobs.resume', { jobId }).then(() => go('jobs', jobId), (e: unknown) => setActionError(asApiError(e)));
  return (
    <div className="screen">
      <h1>Home</h1>
      <ErrorBox error={error ?? actionError} />
      <Section title="Needs attention" id="attention">
        {data.attention.length === 0 ? <p className="muted" data-testid="attention-none">Nothing needs attention.</p> : (
          <ul className="attention" data-testid="attention">
            {data.attention.map((a, i) => (
              <li key={i} className={`attention-${a.level}`}>
                <span className={`dot dot-${a.level}`} aria-label={a.level} />
                <span>{a.message}</span>
                {a.jobId && <a className="btn btn-small" href={href('jobs', a.jobId)}>Open</a>}
                {a.model && a.version !== undefined && <a className="btn btn-small" href={href('drift', `${a.model}@${a.version}`)}>Open drift</a>}
                {a.jobId && /interrupted|cancelled/.test(a.message) && <button type="button" className="btn btn-small" onClick={() => void resume(a.jobId!)}>Resume</button>}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <div className="stats">
        <Stat label="Models installed" value={data.models.length} />
        <Stat label="Store size" value={bytes(data.storeBytes)} hint={data.home} testId="store-size" />
        <Stat label="Predictions logged" value={int(data.log.rows)} hint={`${bytes(data.log.bytes)} of ${bytes(data.retentionMaxBytes)} allowed`} />
        <Stat label="Execution provider" value={data.provider.chosen ?? (data.provider.state === 'checking' ? 'checking…' : 'unknown')} hint={data.provider.summary} testId="provider" />
      </div>
      <UpdatesCard />
      <SyncStatusCard />
      <Section title="Models" id="home-models" actions={<a className="btn" href={href('models')}>Manage models</a>}>
        {data.models.length === 0 ? <p className="muted">No models installed yet. <a href={href('models')}>Add a local package</a> or pull one from your hub.</p> : (
          <div className="table-wrap">
            <table className="table" data-testid="home-models">
              <thead><tr><th scope="col">Model</th><th scope="col">Active version</th><th scope="col">Task</th><th scope="col">Runs on</th></tr></thead>
              <tbody>
                {data.models.map((m) => (
                  <tr key={m.name}>
                    <td><a href={href('models', m.name)}>{m.name}</a></td>
                    <td className="num">{m.activeVersion ?? '—'}</td>
                    <td>{m.task}</td>
                    <td><span className="mono">{m.provider ?? data.provider.chosen ?? '—'}</span> <span className="muted">{m.providerSummary ? `— ${m.providerSummary}` : m.provider ? '' : '(not run yet; will use the preference above)'}</span></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="Recent jobs" id="home-jobs" actions={<a className="btn btn-primary" href={href('score')}>Score a file</a>}>
        {data.recentJobs.length === 0 ? <p className="muted">No jobs yet.</p> : (
          <div className="table-wrap">
            <table className="table">
              <thead><tr><th scope="col">Started</th><th scope="col">File</th><th scope="col">Model</th><th scope="col">Status</th><th scope="col">Rows</th><th scope="col">Rows/s</th></tr></thead>
              <tbody>
                {data.recentJobs.map((j) => (
                  <tr key={j.id}>
                    <td><a href={href('jobs', j.id)}>{when(j.createdAt)}</a></td>
                    <td>{j.inputName}</td><td>{j.modelName}@{j.modelVersion}</td>
                    <td><StatusBadge status={j.status} live={j.live} /></td>
                    <td className="num">{int(j.rowsRead)}</td><td className="num">{rate(j.rowsPerSecond)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </div>
  );
}
