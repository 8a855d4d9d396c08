import { duration, int, rate, when } from '../format.ts';
import { href, useCall, useEvents } from '../state.tsx';
import { ErrorBox, Fingerprint, StatusBadge } from '../components/common.tsx';
import { JobView } from '../components/JobView.tsx';

export function Jobs({ jobId }: { jobId?: string }) {
  if (jobId) return <div className="screen"><p><a href={href('jobs')}>← All jobs</a></p><JobView jobId={jobId} /></div>;
  return <JobList />;
}

function JobList() {
  const { data, error, reload } = useCall('jobs.list', { limit: 200 });
  useEvents((e) => { if (e.type !== 'job-progress') reload(); });
  return (
    <div className="screen">
      <h1>Jobs</h1>
      <ErrorBox error={error} />
      {!data ? <p className="muted">Loading…</p> : data.length === 0 ? <p className="muted">No scoring jobs yet. <a href={href('score')}>Score a file</a>.</p> : (
        <div className="table-wrap">
          <table className="table" data-testid="jobs-table">
            <thead><tr>
              <th scope="col">Started</th><th scope="col">File</th><th scope="col">Model</th><th scope="col">Status</th><th scope="col">Rows</th>
              <th scope="col">Rejected</th><th scope="col">Duration</th><th scope="col">Rows/s</th><th scope="col"><abbr title="SHA-256 of the input's size, first MiB and last MiB (what a resume checks)">Input fingerprint</abbr></th>
            </tr></thead>
            <tbody>
              {data.map((j) => (
                <tr key={j.id} data-job={j.id}>
                  <td><a href={href('jobs', j.id)}>{when(j.createdAt)}</a></td>
                  <td title={j.inputPath}>{j.inputName}</td>
                  <td>{j.modelName}@{j.modelVersion}</td>
                  <td><StatusBadge status={j.status} live={j.live} resumable={j.resumable} /></td>
                  <td className="num">{int(j.rowsRead)}</td>
                  <td className="num">{int(j.rowsRejected)}</td>
                  <td className="num">{duration(j.busySeconds)}</td>
                  <td className="num">{rate(j.rowsPerSecond)}</td>
                  <td><Fingerprint value={j.inputFingerprint} short /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
