// Score a file: pick or drop it, choose the model, see the schema check, start, watch, get results.
import { useState, type DragEvent } from 'react';
import type { UploadResult } from '../../../src/api/common/contract.ts';
import type { ApiError } from '../client/error.ts';
import { ErrorBox, Section } from '../components/common.tsx';
import { JobView } from '../components/JobView.tsx';
import { defaultModelRef } from '../default-model.ts';
import { bytes, pct } from '../format.ts';
import { asApiError, go, useCall, useClient } from '../state.tsx';

export function Score({ jobId }: { jobId?: string }) {
  const client = useClient();
  const models = useCall('models.list', {});
  const [file, setFile] = useState<UploadResult | null>(null);
  const [uploading, setUploading] = useState<number | null>(null);
  const [pathText, setPathText] = useState('');
  const [model, setModel] = useState('');
  const [idColumn, setIdColumn] = useState('');
  const [format, setFormat] = useState('');
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [dragging, setDragging] = useState(false);

  // Default to the active version of the model used last (else the first by name): see default-model.ts.
  // The picker is offered once that default is known, and the default is set in the same render:
  // shown earlier, it displayed the first model while choosing none, and the default then replaced
  // what the user saw (or picked).
  const recent = useCall('jobs.list', { limit: 20 });
  const knowsDefault = models.data !== undefined && (recent.data !== undefined || recent.error !== undefined);
  if (!model && knowsDefault && models.data?.length) {
    const ref = defaultModelRef(models.data, recent.data ?? [], 'score');
    if (ref) setModel(ref);
  }

  const inspect = useCall('files.inspect', file && model ? { path: file.path, model } : null);
  const check = inspect.data && file && inspect.data.path === file.path ? inspect.data : undefined;

  const take = (f: File | undefined) => {
    if (!f) return;
    setError(undefined);
    setFile(null);
    setIdColumn('');
    setUploading(0);
    client.provideFile(f, (x) => setUploading(x)).then((r) => { setFile(r); setUploading(null); }, (e: unknown) => { setError(asApiError(e)); setUploading(null); });
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    take(e.dataTransfer.files[0]);
  };
  const start = () => {
    if (!file) return;
    setStarting(true);
    setError(undefined);
    client.call('jobs.start', { input: file.path, model, ...(idColumn ? { idColumn } : {}), ...(format ? { format: format as 'csv' } : {}) })
      .then((j) => go('score', j.id), (e: unknown) => setError(asApiError(e)))
      .finally(() => setStarting(false));
  };

  if (jobId) {
    return (
      <div className="screen">
        <h1>Score a file</h1>
        <JobView jobId={jobId} />
        <p><button type="button" className="btn" onClick={() => go('score')}>Score another file</button></p>
      </div>
    );
  }

  const noModels = models.data && models.data.length === 0;
  return (
    <div className="screen">
      <h1>Score a file</h1>
      <ErrorBox error={error ?? models.error} />
      <Section title="1. File" id="step-file">
        <div className={`drop ${dragging ? 'drop-active' : ''}`} onDragOver={(e) => { e.preventDefault(); setDragging(true); }} onDragLeave={() => setDragging(false)} onDrop={onDrop} data-testid="dropzone">
          <p>Drop a CSV, JSONL or Parquet file here, or</p>
          <label className="btn btn-primary file-pick">
            Choose a file…
            <input type="file" accept=".csv,.tsv,.txt,.jsonl,.ndjson,.parquet" onChange={(e) => take(e.target.files?.[0])} data-testid="file-input" />
          </label>
          <p className="muted small">{client.host === 'browser' ? 'The file is copied into the appliance\'s data folder (uploads).' : 'The file is read where it is; the output is written next to it.'}</p>
        </div>
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); if (pathText.trim()) { setFile({ path: pathText.trim(), name: pathText.trim().split(/[\\/]/).pop() ?? '', size: 0 }); setIdColumn(''); } }}>
          <label>Or a path on the appliance <input type="text" value={pathText} onChange={(e) => setPathText(e.target.value)} placeholder="/data/today.csv" spellCheck={false} data-testid="path-input" /></label>
          <button type="submit" className="btn">Use this path</button>
        </form>
        <div className="reserve" aria-live="polite">
          {uploading !== null && <p><progress max={1} value={uploading} aria-label="Upload progress" /> Uploading… {pct(uploading)}</p>}
          {file && <p data-testid="chosen-file">Selected: <span className="mono">{file.name}</span>{file.size ? ` (${bytes(file.size)})` : ''}</p>}
        </div>
      </Section>

      <Section title="2. Model" id="step-model">
        {noModels ? <p className="muted">No models installed: add one under Models first.</p> : !knowsDefault ? <p className="muted" aria-busy="true">Loading the models…</p> : (
          <label>Model
            <select value={model} onChange={(e) => setModel(e.target.value)} data-testid="model-select">
              {(models.data ?? []).flatMap((m) => m.versions.slice().reverse().map((v) => (
                <option key={`${m.name}@${v}`} value={`${m.name}@${v}`}>{m.name}@{v}{v === m.activeVersion ? ' (active)' : ''}</option>
              )))}
            </select>
          </label>
        )}
      </Section>

      <Section title="3. Check and start" id="step-check">
        <ErrorBox error={inspect.error} title="Cannot read this file" />
        {!file || !model ? <p className="muted">Choose a file and a model to check the file against the model's inputs.</p> : !check ? <p className="muted">{inspect.loading ? 'Checking the file…' : ''}</p> : (
          <>
            {check.ok
              ? <div className="alert alert-ok" role="status" data-testid="schema-ok">All {check.fields.length} inputs of {check.model} are present ({check.format}, {bytes(check.sizeBytes)}).</div>
              : <div className="alert alert-error" role="alert" data-testid="schema-missing"><strong>Missing column{check.missing.length > 1 ? 's' : ''}: {check.missing.join(', ')}</strong><p>The file has: {check.columns.join(', ')}</p></div>}
            <div className="table-wrap">
              <table className="table" data-testid="schema-table">
                <thead><tr><th scope="col">Input</th><th scope="col">Type</th><th scope="col">Allowed</th><th scope="col">In file</th></tr></thead>
                <tbody>
                  {check.fields.map((f) => (
                    <tr key={f.name}>
                      <td className="mono">{f.name}</td><td>{f.type}{f.nullable ? ' (nullable)' : ''}</td><td>{f.detail}</td>
                      <td>{f.present ? <span className="ok">✓ present</span> : <span className="bad">✗ missing</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="options">
              <label>Row id column
                <select value={idColumn} onChange={(e) => setIdColumn(e.target.value)}>
                  <option value="">Row number</option>
                  {check.columns.map((c) => <option key={c} value={c}>{c}</option>)}
                </select>
              </label>
              <label>Output format
                <select value={format} onChange={(e) => setFormat(e.target.value)}>
                  <option value="">Same as the input ({check.format})</option>
                  <option value="csv">CSV</option><option value="jsonl">JSONL</option><option value="parquet">Parquet</option>
                </select>
              </label>
            </div>
          </>
        )}
        <div className="actions">
          <button type="button" className="btn btn-primary" disabled={!check?.ok || starting} onClick={start} data-testid="start">{starting ? 'Starting…' : 'Start scoring'}</button>
        </div>
      </Section>
    </div>
  );
}
