// One scoring job: live progress while it runs; afterwards its counts, rejects with reasons, the
// output distribution, a preview of its predictions, and where the output is.
import { useState } from 'react';
import type { JobDetail, Progress } from '../../../src/api/common/contract.ts';
import { ApiError } from '../client/error.ts';
import { bytes, duration, int, pct, rate, when } from '../format.ts';
import { asApiError, go, useCall, useClient, useEvents } from '../state.tsx';
import { ErrorBox, Fingerprint, Section, Stat, StatusBadge } from './common.tsx';
import { DistributionView } from './Distribution.tsx';
import { PredictionTable } from './PredictionTable.tsx';

export function ProgressPanel({ progress, onCancel, cancelling }: { progress: Progress | null; onCancel: () => void; cancelling: boolean }) {
  const f = progress?.fraction ?? 0;
  return (
    <div className="progress-panel" data-testid="progress">
      <div className="progress-line">
        <progress max={1} value={f} aria-label="Scoring progress" />
        <span className="num progress-pct">{pct(f)}</span>
      </div>
      <dl className="progress-facts">
        <div><dt>Rows read</dt><dd className="num" data-testid="progress-rows">{int(progress?.rowsRead ?? 0)}</dd></div>
        <div><dt>Rows/s</dt><dd className="num">{progress ? rate(progress.rowsPerSecond) : '—'}</dd></div>
        <div><dt>Time left</dt><dd className="num">{duration(progress?.etaSeconds)}</dd></div>
        <div><dt>Rejected</dt><dd className="num">{int(progress?.rowsRejected ?? 0)}</dd></div>
      </dl>
      <button type="button" className="btn btn-danger" onClick={onCancel} disabled={cancelling}>{cancelling ? 'Cancelling…' : 'Cancel'}</button>
    </div>
  );
}

function Rejects({ job }: { job: JobDetail }) {
  const [offset, setOffset] = useState(0);
  const limit = 50;
  const { data, error } = useCall('jobs.rejects', { jobId: job.id, offset, limit });
  if (!job.rowsRejected) return <p className="muted" data-testid="no-rejects">No rows were rejected.</p>;
  return (
    <div>
      <ErrorBox error={error} title="Could not read the rejects" />
      <h3>Reasons</h3>
      <ul className="reasons" data-testid="reject-reasons">
        {(data?.reasons ?? job.rejectReasons).map((r) => <li key={r.reason}><span className="num">{int(r.count)}</span> × {r.reason}</li>)}
      </ul>
      <h3>Rejected rows</h3>
      <div className="table-wrap">
        <table className="table" data-testid="rejects-table">
          <thead><tr><th scope="col">Row</th><th scope="col">Column</th><th scope="col">Reason</th><th scope="col">Value</th></tr></thead>
          <tbody>
            {(data?.rows ?? []).map((r, i) => <tr key={`${r.row}-${r.column}-${i}`}><td className="num">{r.row}</td><td className="mono">{r.column}</td><td>{r.reason}</td><td className="mono">{r.value}</td></tr>)}
          </tbody>
        </table>
      </div>
      {data && data.total > limit && (
        <div className="pager">
          <button type="button" className="btn" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - limit))}>Previous</button>
          <span className="muted">{int(offset + 1)}–{int(Math.min(data.total, offset + limit))} of {int(data.total)}</span>
          <button type="button" className="btn" disabled={offset + limit >= data.total} onClick={() => setOffset(offset + limit)}>Next</button>
        </div>
      )}
    </div>
  );
}

export function JobView({ jobId }: { jobId: string }) {
  const client = useClient();
  const { data: job, error, reload } = useCall('jobs.get', { jobId });
  const [progress, setProgress] = useState<Progress | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [actionError, setActionError] = useState<ApiError | undefined>();
  const [finishError, setFinishError] = useState<ApiError | undefined>();

  useEvents((e) => {
    if (e.type === 'job-progress' && e.progress.jobId === jobId) setProgress(e.progress);
    if (e.type === 'job-started' && e.job.id === jobId) reload();
    if (e.type === 'job-finished' && e.job.id === jobId) {
      setCancelling(false);
      setFinishError(e.error && e.error.code !== 'cancelled' ? new ApiError(e.error) : undefined);
      reload();
    }
  });

  const act = (f: () => Promise<unknown>) => { setActionError(undefined); f().catch((e: unknown) => { setActionError(asApiError(e)); setCancelling(false); }); };

  if (!job) return <><ErrorBox error={error} title="Could not load the job" />{!error && <p className="muted">Loading job…</p>}</>;
  const running = job.live;
  const p = progress ?? job.progress;
  // While the job runs, its stored counters move only at checkpoints: the cards follow the live progress.
  const counts = running && p && p.rowsRead >= job.rowsRead ? p : job;
  return (
    <div className="job" data-testid="job-view" data-status={running ? 'running' : job.status}>
      <div className="job-head">
        <h2>Job <span className="mono">{job.id}</span> <StatusBadge status={job.status} live={job.live} resumable={job.resumable} /></h2>
        <p className="muted">{job.inputName} · {job.modelName}@{job.modelVersion} · started {when(job.createdAt)}</p>
      </div>
      <ErrorBox error={actionError} />
      <ErrorBox error={finishError} title="The job stopped with an error" />
      {job.status === 'failed' && job.error && !finishError && <div className="alert alert-error" role="alert"><strong>The job failed</strong><p>{job.error}</p></div>}
      {running && <ProgressPanel progress={p} cancelling={cancelling} onCancel={() => { setCancelling(true); act(() => client.call('jobs.cancel', { jobId })); }} />}
      {job.resumable && (
        <div className="alert alert-warning" role="status">
          <p>This job stopped after {int(job.rowsRead)} rows. Resuming continues from its last checkpoint.</p>
          <button type="button" className="btn btn-primary" onClick={() => act(() => client.call('jobs.resume', { jobId }).then(reload))}>Resume</button>
        </div>
      )}
      <div className="stats">
        <Stat label="Rows read" value={int(counts.rowsRead)} testId="stat-read" />
        <Stat label="Scored" value={int(counts.rowsScored)} testId="stat-scored" />
        <Stat label="Rejected" value={int(counts.rowsRejected)} testId="stat-rejected" />
        <Stat label="Throughput" value={`${rate(counts.rowsPerSecond)} rows/s`} hint={running ? 'while running' : duration(job.busySeconds)} />
        <Stat label="Provider" value={job.provider ?? '—'} hint={job.providerSummary ?? undefined} />
      </div>
      {!running && job.status === 'completed' && (
        <>
          <Section title="Output" id={`out-${job.id}`}>
            <dl className="kv">
              <dt>Output file</dt><dd className="mono" data-testid="output-path">{job.outputPath}</dd>
              <dt>Format</dt><dd>{job.outputFormat}</dd>
              {job.rejectsExist && <><dt>Rejects file</dt><dd className="mono">{job.rejectsPath}</dd></>}
              <dt>Input</dt><dd className="mono">{job.inputPath} ({bytes(job.inputSize)})</dd>
              <dt>Input fingerprint</dt><dd><Fingerprint value={job.inputFingerprint} /></dd>
            </dl>
            <div className="actions">
              <button type="button" className="btn btn-primary" disabled={!job.outputExists} onClick={() => act(() => client.openOutput(jobId, 'output'))}>{client.host === 'electron' ? 'Show output in folder' : 'Download output'}</button>
              {job.rejectsExist && <button type="button" className="btn" onClick={() => act(() => client.openOutput(jobId, 'rejects'))}>{client.host === 'electron' ? 'Show rejects in folder' : 'Download rejects'}</button>}
              <button type="button" className="btn" onClick={() => go('predictions', jobId)}>Open in Predictions</button>
            </div>
          </Section>
          <Section title="Rejected rows" id={`rej-${job.id}`}><Rejects job={job} /></Section>
          <Section title="Output distribution" id={`dist-${job.id}`}><Distribution jobId={jobId} /></Section>
          <Section title="Predictions" id={`pred-${job.id}`}><PredictionTable query={{ jobId }} label={`Predictions of job ${jobId}`} /></Section>
        </>
      )}
    </div>
  );
}

function Distribution({ jobId }: { jobId: string }) {
  const { data, error } = useCall('jobs.distribution', { jobId });
  return <><ErrorBox error={error} />{data ? <DistributionView d={data} /> : <p className="muted chart-placeholder">Loading…</p>}</>;
}
