import { Fragment, useState } from 'react';
import type { ApiError } from '../client/error.ts';
import { ErrorBox, Section } from '../components/common.tsx';
import { RollbackControl } from '../components/Rollback.tsx';
import { bytes, when } from '../format.ts';
import { asApiError, go, href, useCall, useClient } from '../state.tsx';

export function Models({ name }: { name?: string }) {
  const { data, error, reload } = useCall('models.list', {});
  return (
    <div className="screen">
      <h1>Models</h1>
      <ErrorBox error={error} />
      <div className="split">
        <nav className="model-list" aria-label="Installed models">
          {!data ? <p className="muted">Loading…</p> : data.length === 0 ? <p className="muted">No models installed.</p> : (
            <ul>
              {data.map((m) => (
                <li key={m.name}>
                  <a href={href('models', m.name)} aria-current={m.name === name ? 'page' : undefined} className={m.name === name ? 'current' : ''}>
                    <strong>{m.name}</strong> <span className="muted">v{m.activeVersion ?? '—'} · {m.task}</span>
                  </a>
                </li>
              ))}
            </ul>
          )}
          <AddPackage onAdded={(n) => { reload(); go('models', n); }} />
        </nav>
        <div className="model-detail">{name ? <ModelDetail name={name} onChange={reload} /> : <p className="muted">Choose a model to see its card.</p>}</div>
      </div>
    </div>
  );
}

function AddPackage({ onAdded }: { onAdded: (name: string) => void }) {
  const client = useClient();
  const [dir, setDir] = useState('');
  const [accept, setAccept] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <form className="card add-package" onSubmit={(e) => {
      e.preventDefault();
      setBusy(true);
      setError(undefined);
      client.call('models.add', { path: dir.trim(), allowUnsigned: true }).then((m) => { setDir(''); setAccept(false); onAdded(m.name); }, (x: unknown) => setError(asApiError(x))).finally(() => setBusy(false));
    }}>
      <h2>Add a local package</h2>
      <label>Package folder on the appliance <input type="text" value={dir} onChange={(e) => setDir(e.target.value)} placeholder="/path/to/package" spellCheck={false} required /></label>
      <label className="check"><input type="checkbox" checked={accept} onChange={(e) => setAccept(e.target.checked)} /> I trust this package although it is not signed</label>
      <ErrorBox error={error} title="Could not add the package" />
      <button type="submit" className="btn btn-primary" disabled={!dir.trim() || !accept || busy}>{busy ? 'Adding…' : 'Add package'}</button>
    </form>
  );
}

function ModelDetail({ name, onChange }: { name: string; onChange: () => void }) {
  const { data, error, reload } = useCall('models.show', { name });
  const [actionError, setActionError] = useState<ApiError | undefined>();
  if (!data) return <ErrorBox error={error} />;
  const active = data.versions.find((v) => v.active) ?? data.versions[0];
  const card = active.card;
  return (
    <div data-testid="model-detail">
      <h2>{data.name} <span className="badge">v{active.version}{active.active ? ' active' : ''}</span></h2>
      {card.description && <p>{card.description}</p>}
      <ErrorBox error={actionError} />
      {active.problems.length > 0 && <div className="alert alert-error" role="alert"><strong>Integrity problem</strong>{active.problems.map((p) => <p key={p}>{p}</p>)}</div>}
      <Section title="Inputs" id="card-inputs">
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Nullable</th><th scope="col">Allowed</th><th scope="col">Unit</th><th scope="col">Description</th></tr></thead>
            <tbody>
              {card.inputs.map((f) => (
                <tr key={f.name}>
                  <td className="mono">{f.name}</td><td>{f.type}</td><td>{f.nullable ? 'yes' : 'no'}</td>
                  <td>{f.vocabulary ? f.vocabulary.join(', ') : f.range ? `${f.range.min ?? '−∞'} … ${f.range.max ?? '∞'}` : '—'}</td>
                  <td>{f.unit ?? ''}</td><td>{f.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      <Section title="Outputs and metrics" id="card-outputs">
        <dl className="kv">
          <dt>Task</dt><dd>{card.task}</dd>
          {card.outputs.classes && <><dt>Classes</dt><dd>{card.outputs.classes.join(', ')}</dd></>}
          {Object.entries(card.metrics ?? {}).map(([k, v]) => <Fragment key={k}><dt>{k}</dt><dd className="num">{v.toFixed(4)}</dd></Fragment>)}
        </dl>
      </Section>
      {card.lineage && (
        <Section title="Lineage" id="card-lineage">
          <dl className="kv">
            {Object.entries(card.lineage).map(([k, v]) => <Fragment key={k}><dt>{k}</dt><dd className="mono">{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd></Fragment>)}
          </dl>
        </Section>
      )}
      <Section title="Installed versions" id="card-versions">
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th scope="col">Version</th><th scope="col">Status</th><th scope="col">Source</th><th scope="col">Signed by</th><th scope="col">Installed</th><th scope="col">Size</th><th scope="col">SHA-256</th></tr></thead>
            <tbody>
              {data.versions.map((v) => (
                <tr key={v.version}>
                  <td className="num">{v.version}</td><td>{v.active ? 'active' : ''}{v.problems.length ? ' — modified on disk' : ''}</td>
                  <td>{v.source}</td><td>{v.signedBy ?? 'unsigned'}</td><td>{when(v.installedAt)}</td><td className="num">{bytes(v.sizeBytes)}</td>
                  <td className="mono" title={v.modelSha256}>{v.modelSha256.slice(0, 12)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <RollbackControl model={data} onDone={() => { setActionError(undefined); reload(); onChange(); }} onError={setActionError} />
      </Section>
    </div>
  );
}
