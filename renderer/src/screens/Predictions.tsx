import { useState } from 'react';
import { PredictionTable } from '../components/PredictionTable.tsx';
import { useCall } from '../state.tsx';

/** datetime-local value → epoch ms (local time), or undefined when empty */
const toMs = (v: string): number | undefined => (v ? new Date(v).getTime() : undefined);

export function Predictions({ jobId }: { jobId?: string }) {
  const jobs = useCall('jobs.list', { limit: 200 });
  const models = useCall('models.list', {});
  const [job, setJob] = useState(jobId ?? '');
  const [model, setModel] = useState('');
  const [version, setVersion] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const versions = models.data?.find((m) => m.name === model)?.versions ?? [];
  const query = {
    ...(job ? { jobId: job } : {}), ...(model ? { model } : {}), ...(model && version ? { version: Number(version) } : {}),
    ...(toMs(since) !== undefined ? { since: toMs(since) } : {}), ...(toMs(until) !== undefined ? { until: toMs(until) } : {}),
  };
  return (
    <div className="screen">
      <h1>Predictions</h1>
      <form className="pred-filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter predictions" data-testid="pred-filters">
        <label>Job
          <select value={job} onChange={(e) => setJob(e.target.value)}>
            <option value="">All jobs</option>
            {(jobs.data ?? []).map((j) => <option key={j.id} value={j.id}>{j.id} — {j.inputName}</option>)}
          </select>
        </label>
        <label>Model
          <select value={model} onChange={(e) => { setModel(e.target.value); setVersion(''); }}>
            <option value="">All models</option>
            {(models.data ?? []).map((m) => <option key={m.name} value={m.name}>{m.name}</option>)}
          </select>
        </label>
        <label>Version
          <select value={version} onChange={(e) => setVersion(e.target.value)} disabled={!model}>
            <option value="">All versions</option>
            {versions.map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </label>
        <label>From <input type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} /></label>
        <label>To <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} /></label>
      </form>
      <PredictionTable query={query} label="Prediction log" />
    </div>
  );
}
