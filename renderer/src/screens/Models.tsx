import { Fragment, useState } from 'react';
import type { ApiError } from '../client/error.ts';
import { ErrorBox, Section } from '../components/common.tsx';
import { PullFromHub } from '../components/PullFromHub.tsx';
import { RollbackControl } from '../components/Rollback.tsx';
import { bytes, when } from '../format.ts';
import { asApiError, go, href, useCall, useClient } from '../state.tsx';

export function Models({ name }: { name?: string }) {
  const { data, error, reload } = useCall('models.list', {});
  // a pull or an added package may install a new version of the model on show: re-read its detail too
  const [revision, setRevision] = useState(0);
  const installed = (n: string) => { reload(); setRevision((r) => r + 1); go('models', n); };
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
          <PullFromHub onPulled={installed} />
          <AddPackage onAdded={installed} />
        </nav>
        <div className="model-detail">{name ? <ModelDetail key={`${name}#${revision}`} name={name} onChange={reload} /> : <p className="muted">Choose a model to see its card.</p>}</div>
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
      <div className="card-head">
        <h2>{data.name} <span className="badge">v{active.version}{active.active ? ' active' : ''}</span></h2>
        <a className="btn" href={href('models', `${data.name}@${active.version}`, 'explore')} data-testid="explore-link" title="Try records and see how the outputs respond (runs in this window, nothing is logged)">Explore</a>
      </div>
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
      <Proposals name={data.name} onActivated={() => { setActionError(undefined); reload(); onChange(); }} />
    </div>
  );
}

const score = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : x.toFixed(4));

/** Retrained challengers of this model (outpost retrain): champion vs challenger on the held-out rows, activate. */
function Proposals({ name, onActivated }: { name: string; onActivated: () => void }) {
  const client = useClient();
  const { data, error, reload } = useCall('proposals.list', { model: name });
  const [busy, setBusy] = useState<string | undefined>();
  const [actionError, setActionError] = useState<ApiError | undefined>();
  const activate = (id: string, force: boolean) => {
    setBusy(id);
    client.call('proposals.activate', { id, force }).then(() => { setActionError(undefined); reload(); onActivated(); }, (e: unknown) => setActionError(asApiError(e))).finally(() => setBusy(undefined));
  };
  const [retraining, setRetraining] = useState(false);
  const retrain = () => {
    setRetraining(true);
    setActionError(undefined);
    // runs in the core's job worker: the app stays responsive while it trains
    client.call('proposals.retrain', { model: name }).then(() => reload(), (e: unknown) => setActionError(asApiError(e))).finally(() => setRetraining(false));
  };
  return (
    <Section title="Proposals" id="model-proposals" actions={
      <button type="button" className="btn" onClick={retrain} disabled={retraining} data-testid="retrain" title="Train a challenger with this model's recipe on its labelled logged inputs and compare it with the active version on the newest held-out rows">
        {retraining ? 'Retraining…' : 'Retrain now'}
      </button>}>
      <ErrorBox error={error ?? actionError} />
      {data && data.length === 0 && <p className="muted" data-testid="proposals-none">No proposals. Retrain now (or <code>outpost retrain {name}</code>) trains a challenger with this model&apos;s recipe on recent labelled data.</p>}
      {data && data.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="proposals">
            <thead><tr><th scope="col">Proposal</th><th scope="col">Champion</th><th scope="col">Metric (held-out rows)</th><th scope="col">Champion</th><th scope="col">Challenger</th><th scope="col">Decision</th><th scope="col">State</th><th scope="col" /></tr></thead>
            <tbody>
              {data.map((p) => (
                <tr key={p.id} data-testid={`proposal-${p.id}`}>
                  <td className="mono" title={`${p.trigger}${p.triggerDetail ? `: ${p.triggerDetail}` : ''}`}>{p.id}<div className="muted small">{p.algo}, {p.trigger}, trained on {p.trainRows.toLocaleString('en-US')}</div></td>
                  <td className="num">v{p.championVersion}</td>
                  <td>{p.metric} <span className="muted small">({p.holdoutRows.toLocaleString('en-US')} rows)</span></td>
                  <td className="num">{score(p.championScore)}{p.champion[p.metric]?.ci && <div className="muted small">[{p.champion[p.metric].ci!.low.toFixed(3)}, {p.champion[p.metric].ci!.high.toFixed(3)}]</div>}</td>
                  <td className="num">{score(p.challengerScore)}{p.challenger[p.metric]?.ci && <div className="muted small">[{p.challenger[p.metric].ci!.low.toFixed(3)}, {p.challenger[p.metric].ci!.high.toFixed(3)}]</div>}</td>
                  <td>{p.better === 'challenger' ? <span className="badge badge-completed">challenger better</span> : <span className="badge">champion better</span>}{p.warnings.map((w) => <div key={w} className="muted small">{w}</div>)}</td>
                  <td>{p.status}{p.activatedVersion !== null ? ` as v${p.activatedVersion}` : ''}</td>
                  <td>{p.status === 'proposed' && (
                    <button type="button" className="btn" data-testid={`activate-${p.id}`} disabled={busy !== undefined}
                      onClick={() => { if (p.better === 'challenger' || window.confirm(`The champion did as well or better (${p.decision}). Activate the challenger anyway?`)) activate(p.id, p.better !== 'challenger'); }}>
                      {busy === p.id ? 'Activating…' : 'Activate locally'}
                    </button>
                  )}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted small">Activating installs the challenger as a new local, unsigned version and makes it active (recorded); rollback returns to the champion.</p>
    </Section>
  );
}
